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


@pytest.mark.django_db(transaction=True)
def test_two_reps_taking_the_longest_waiting_at_once_share_the_pool_without_a_lead_twice():
    from routing.claims import leads_claim_next

    pool = PoolFactory()
    reps = [RepFactory(), RepFactory()]
    pool.reps.add(*reps)
    leads = LeadFactory.create_batch(30, pool=pool, routing_requested_at=None)
    start = threading.Barrier(len(reps))
    taken = {}

    def take(rep):
        try:
            start.wait()
            claimed, _ = leads_claim_next(rep=rep, count=20, actor=rep.user)
            taken[rep.pk] = [lead.pk for lead in claimed]
        finally:
            connection.close()

    threads = [threading.Thread(target=take, args=(rep,)) for rep in reps]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=60)

    first, second = (set(taken[rep.pk]) for rep in reps)
    assert not first & second
    assert len(first | second) == 30 and max(len(first), len(second)) <= 20
    assert Assignment.objects.filter(is_current=True).count() == 30
    assert set(Lead.objects.filter(pk__in=[lead.pk for lead in leads]).values_list("owner", flat=True)) == {
        rep.pk for rep in reps}


@pytest.mark.django_db
def test_a_lead_of_another_pool_is_refused_exactly_like_a_missing_one():
    rep, other = RepFactory(), RepFactory()
    pool = PoolFactory()
    pool.reps.add(other)
    lead = LeadFactory(pool=pool)

    for lead_id in (lead.pk, lead.pk + 1000):
        with pytest.raises(LeadAlreadyClaimed):
            lead_claim(lead_id=lead_id, rep=rep, actor=rep.user)
    lead.refresh_from_db()
    assert (lead.owner, lead.pool) == (None, pool)
    assert not Assignment.objects.filter(lead=lead).exists()
