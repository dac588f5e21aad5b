"""Claiming from a pool under concurrency: two reps at once, one wins, the other is told, nothing is doubled."""

import threading

import pytest
from django.db import connection

from leads.models import Lead, LeadEvent
from routing.claims import LeadAlreadyClaimed, lead_claim
from routing.models import Assignment
from tests.factories import LeadFactory, PoolFactory, RepFactory


@pytest.mark.django_db(transaction=True)
def test_two_reps_claiming_the_same_lead_at_once_one_wins_and_the_other_is_told():
    pool = PoolFactory()
    reps = [RepFactory(), RepFactory()]
    pool.reps.add(*reps)
    lead = LeadFactory(pool=pool, routing_requested_at=None)
    start = threading.Barrier(len(reps))
    outcomes = {}

    def claim(rep):
        try:
            start.wait()
            lead_claim(lead_id=lead.pk, rep=rep, actor=rep.user)
            outcomes[rep.pk] = "won"
        except LeadAlreadyClaimed:
            outcomes[rep.pk] = "lost"
        finally:
            connection.close()

    threads = [threading.Thread(target=claim, args=(rep,)) for rep in reps]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=30)

    assert sorted(outcomes.values()) == ["lost", "won"]
    winner = next(rep for rep in reps if outcomes[rep.pk] == "won")
    assert Lead.objects.get(pk=lead.pk).owner == winner
    assert list(Assignment.objects.filter(lead=lead).values_list("rep_id", "kind")) == [(winner.pk, "claim")]
    assert LeadEvent.objects.filter(lead=lead).count() == 1
