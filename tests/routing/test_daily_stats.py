"""The per-day figures behind the dashboard and the trends: fresh after any write, by period, per team, in every language."""

import datetime as dt
import re

import pytest
import time_machine
from django.urls import reverse
from django.utils import timezone

from leads.models import Lead
from routing.daily_stats import percentile_from_histogram
from tests.factories import TeamFactory, sales_manager
from tests.routing.test_views import rep_named, routed_lead_for

pytestmark = pytest.mark.django_db

NOW = dt.datetime(2026, 6, 15, 12, 0, tzinfo=dt.timezone.utc)


@pytest.fixture
def frozen():
    with time_machine.travel(NOW, tick=False):
        yield


@pytest.fixture
def boss(client):
    user = sales_manager(sees_every_team=True)
    client.force_login(user)
    return user


def board(client, **params):
    return client.get(reverse("routing:dashboard"), params).context["board"]


def test_a_first_touch_after_the_dashboard_was_read_shows_on_the_next_read(client, boss, frozen):
    lead = routed_lead_for(rep_named("Anna"))
    assert (board(client, period="today").received, board(client, period="today").touched) == (1, 0)

    Lead.objects.filter(pk=lead.pk).update(first_touch_at=lead.created_at + dt.timedelta(minutes=4))

    figures = board(client, period="today")
    assert (figures.received, figures.routed, figures.touched) == (1, 1, 1)
    assert figures.median_to_first_touch == dt.timedelta(minutes=5)  # the histogram's bucket: within 5 min


def test_the_12_month_period_holds_last_winters_leads_and_30_days_do_not(client, boss, frozen):
    lead = routed_lead_for(rep_named("Anna"))
    Lead.objects.filter(pk=lead.pk).update(created_at=NOW - dt.timedelta(days=200))

    assert board(client, period="30d").received == 0
    assert board(client, period="12m").received == 1
    assert board(client, period="12m").reps[0].owned == 1


def test_a_lead_moved_to_another_team_counts_for_both_teams_once(client, boss, frozen):
    from routing.reassignment import lead_reassign

    anna, ben = rep_named("Anna"), rep_named("Ben")
    north, south = TeamFactory(name="North"), TeamFactory(name="South")
    anna.teams.add(north)
    ben.teams.add(south)
    lead = routed_lead_for(anna)
    lead_reassign(lead_id=lead.pk, to_rep=ben, actor=boss, reason="Speaks Italian")

    assert board(client, period="today").received == 1
    assert board(client, period="today", team=north.pk).received == 1
    assert board(client, period="today", team=south.pk).received == 1
    assert board(client, period="today", team=south.pk).reassignments == 1
    assert board(client, period="today", team=north.pk).reassignments == 0


def test_the_percentiles_are_the_buckets_upper_edges_by_nearest_rank():
    counts = {"touched_within_2m": 1, "touched_within_10m": 1, "touched_within_30m": 1}

    assert percentile_from_histogram(counts, 0.5) == dt.timedelta(minutes=10)
    assert percentile_from_histogram(counts, 0.9) == dt.timedelta(minutes=30)
    assert percentile_from_histogram({}, 0.5) is None
    assert percentile_from_histogram({"touched_later": 2}, 0.5) == dt.timedelta(weeks=1)


# --- The trends page ------------------------------------------------------------------------

def leads_touched_three_hours_after_they_came(*, days_ago):
    """One lead of Anna's per entry, that many days before NOW, first touched three hours later."""
    anna = rep_named("Anna")
    for days in days_ago:
        lead = routed_lead_for(anna)
        came = NOW - dt.timedelta(days=days)
        Lead.objects.filter(pk=lead.pk).update(created_at=came, first_touch_at=came + dt.timedelta(hours=3))


def test_the_trends_show_one_bar_per_day_with_the_figures_as_a_table(client, boss, frozen):
    leads_touched_three_hours_after_they_came(days_ago=(0, 0, 2))

    response = client.get(reverse("routing:trends"), {"period": "7d"})

    days = response.context["days"]
    assert [day.leads for day in days] == [0, 0, 0, 0, 1, 0, 2]
    assert days[-1].median_to_first_touch == dt.timedelta(hours=4)
    html = response.content.decode()
    assert html.count('class="bar-fill"') == 3 * 7
    assert "Leads per day" in html and "SLA breaches by day" in html and "<table>" in html


def test_the_trend_charts_are_drawn_with_dots_in_german(client, boss, frozen):
    anna = rep_named("Anna")
    for _ in range(3):
        routed_lead_for(anna)

    html = client.get(reverse("routing:trends"), {"period": "30d"}, HTTP_ACCEPT_LANGUAGE="de").content.decode()

    svg = "".join(re.findall(r"<svg.*?</svg>", html, re.S))
    assert "Leads pro Tag" in html
    assert re.findall(r'(?:x|y|width|height)="[^"]*,[^"]*"', svg) == []
    assert re.search(r'width="\d+\.\d"', svg)


def test_each_trend_chart_says_its_scale_and_its_days_in_the_reader_s_language(client, boss, frozen):
    leads_touched_three_hours_after_they_came(days_ago=(0, 0, 2))

    html = client.get(reverse("routing:trends"), {"period": "7d"}, HTTP_ACCEPT_LANGUAGE="ru").content.decode()

    axes = [re.sub(r"<[^>]+>", " ", axis).split() for axis in re.findall(r'class="trend-y-axis"[^>]*>(.*?)</div>', html)]
    assert axes == [["2", "0"], ["240", "мин", "0"], ["2", "0"]]  # leads, median minutes to first touch, breaches
    days = re.findall(r'class="trend-x-axis"[^>]*>(.*?)</div>', html)
    assert len(days) == 3
    assert re.findall(r">([^<]+)</time>", days[0]) == ["09.06.2026", "12.06.2026", "15.06.2026"]


def test_the_trends_are_for_sales_managers_only(client):
    rep = rep_named("Anna")
    client.force_login(rep.user)

    assert client.get(reverse("routing:trends")).status_code == 403


def test_a_team_manager_sees_only_their_teams_trend(client, frozen):
    anna, ben = rep_named("Anna"), rep_named("Ben")
    north = TeamFactory(name="North")
    anna.teams.add(north)
    routed_lead_for(anna)
    routed_lead_for(ben)
    client.force_login(sales_manager(manages=[north]))

    days = client.get(reverse("routing:trends"), {"period": "today"}).context["days"]

    assert [day.leads for day in days] == [1]
    assert timezone.localdate() == days[0].day


def test_the_databases_day_and_the_python_day_agree(frozen):
    """PostgreSQL computes a day in one statement; other databases (the SQLite demo) in Python: the same rows."""
    from routing import daily_stats
    from routing.models import Assignment, DailyLeadStats

    anna, ben = rep_named("Anna"), rep_named("Ben")
    leads = [routed_lead_for(anna) for _ in range(4)] + [routed_lead_for(ben)]
    for minutes, lead in zip((0.5, 3, 45, 60 * 24 * 9), leads):
        Lead.objects.filter(pk=lead.pk).update(first_touch_at=lead.created_at + dt.timedelta(minutes=minutes),
                                               sla_due_at=lead.created_at + dt.timedelta(minutes=30))
    Lead.objects.filter(pk=leads[0].pk).update(status=Lead.Status.CONVERTED)
    Assignment.objects.filter(lead=leads[4]).update(kind=Assignment.Kind.REASSIGN, cause={"code": "sla_breach"})
    day = timezone.localdate()
    start, end = daily_stats.day_start(day), daily_stats.day_start(day + dt.timedelta(days=1))
    fields = [f.name for f in DailyLeadStats._meta.fields if f.name != "id"]

    def rows(stats):
        return sorted(tuple(getattr(row, name if name not in ("owner", "rule") else f"{name}_id") for name in fields)
                      for row in stats)

    in_python = rows(daily_stats._lead_rows(day, start, end))
    daily_stats._insert_lead_rows(day, start, end)
    assert rows(DailyLeadStats.objects.filter(day=day)) == in_python
    # Late by 15 min and by 9 days, and moved after a breach.
    assert sum(row[fields.index("sla_breached")] for row in in_python) == 3


def test_the_distribution_chart_is_drawn_with_dots_in_german(client, boss, frozen):
    anna, ben = rep_named("Anna"), rep_named("Ben")
    for rep in (anna, anna, anna, ben):
        routed_lead_for(rep)

    html = client.get(reverse("routing:dashboard"), {"period": "today"}, HTTP_ACCEPT_LANGUAGE="de").content.decode()

    svg = re.search(r'<svg class="bar-chart".*?</svg>', html, re.S).group(0)
    assert re.findall(r'(?:x|width)="[^"]*,[^"]*"', svg) == []
    assert 'width="133.3"' in svg  # Ben's bar: a third of Anna's 400


# --- A team manager's figures against a direct count of their leads -----------------------------------

def test_a_team_managers_figures_equal_a_direct_count_of_their_teams_leads(client, frozen):
    """Every figure of the dashboard for a manager of one team (and its sub-team) counted from the leads themselves."""
    from routing.models import Assignment
    from routing.reassignment import lead_reassign

    north, south = TeamFactory(name="North"), TeamFactory(name="South")
    north_east = TeamFactory(name="North East", parent=north)
    reps = {name: rep_named(name) for name in ("Anna", "Bea", "Ben", "Carl")}
    # Enough reps that ids share digits (1 and 11, 2 and 12...): a set must match a rep, not a digit of one.
    filler = [rep_named(f"Filler{n}") for n in range(10)]
    reps["Anna"].teams.add(north)
    reps["Bea"].teams.add(north_east)
    reps["Ben"].teams.add(south)
    filler[-1].teams.add(south)
    manager = sales_manager(manages=[north])
    leads = [routed_lead_for(reps[name]) for name in ("Anna", "Anna", "Anna", "Bea", "Bea", "Ben", "Ben", "Carl")]
    leads += [routed_lead_for(filler[-1]), routed_lead_for(filler[0]), routed_lead_for(reps["Anna"])]
    lead_reassign(lead_id=leads[3].pk, to_rep=reps["Ben"], actor=manager, reason="Out of the team")
    lead_reassign(lead_id=leads[5].pk, to_rep=reps["Anna"], actor=manager, reason="Into the team")
    lead_reassign(lead_id=leads[1].pk, to_rep=reps["Bea"], actor=manager, reason="Within the team")
    Assignment.objects.filter(lead=leads[1], is_current=True).update(kind=Assignment.Kind.REASSIGN,
                                                                      cause={"code": "sla_breach"})
    for minutes, lead in zip((1, 20, 200, 3000, 45), leads[:5]):
        Lead.objects.filter(pk=lead.pk).update(first_touch_at=lead.created_at + dt.timedelta(minutes=minutes),
                                               sla_due_at=lead.created_at + dt.timedelta(minutes=30))
    Lead.objects.filter(pk__in=[leads[0].pk, leads[5].pk]).update(status=Lead.Status.CONVERTED)
    Lead.objects.filter(pk=leads[2].pk).update(created_at=NOW - dt.timedelta(days=10))
    # A lead of a month already over, moved within the team then: read off the monthly sums for 12 months.
    lead_reassign(lead_id=leads[10].pk, to_rep=reps["Bea"], actor=manager, reason="Within the team, in March")
    Lead.objects.filter(pk=leads[10].pk).update(created_at=NOW - dt.timedelta(days=100))
    Assignment.objects.filter(lead=leads[10]).update(created_at=NOW - dt.timedelta(days=100))
    client.force_login(manager)
    team_reps = [reps["Anna"].pk, reps["Bea"].pk]

    for period, moves_made in (("7d", 2), ("30d", 2), ("12m", 3)):
        figures = board(client, period=period)
        theirs = Lead.objects.filter(created_at__gte=figures.since, assignments__rep_id__in=team_reps).distinct()
        assert figures.received == figures.routed == theirs.count() > 0
        assert figures.touched == theirs.filter(first_touch_at__isnull=False).count()
        assert figures.contacted_late == sum(lead.first_touch_at > lead.sla_due_at
                                             for lead in theirs.filter(first_touch_at__isnull=False))
        moves = Assignment.objects.filter(created_at__gte=figures.since, rep_id__in=team_reps)
        assert figures.reassignments == moves.exclude(kind=Assignment.Kind.INITIAL).count() == moves_made
        assert figures.sla_reassigned == moves.filter(cause__code="sla_breach").count() == 1
        assert {row.name: (row.assigned, row.owned, row.converted) for row in figures.reps} == {
            rep.name: (moves.filter(rep=rep).count(), theirs.filter(owner=rep).count(),
                       theirs.filter(owner=rep, status=Lead.Status.CONVERTED).count())
            for rep in (reps["Anna"], reps["Bea"])}
        current = Assignment.objects.filter(lead__in=theirs, is_current=True)
        assert sorted((row["name"], row["owned"]) for row in figures.rules) == sorted(
            (rule.name if rule else None, current.filter(rule=rule).count())
            for rule in {assignment.rule for assignment in current.select_related("rule")})


def test_a_change_to_a_lead_of_a_month_already_summed_shows_on_the_next_12_month_read(client, boss, frozen):
    from routing.daily_stats import day_start
    from routing.models import MonthlyLeadStats

    lead = routed_lead_for(rep_named("Anna"))
    march = day_start(dt.date(2026, 3, 7))
    Lead.objects.filter(pk=lead.pk).update(created_at=march)
    assert (board(client, period="12m").received, board(client, period="12m").touched) == (1, 0)
    assert MonthlyLeadStats.objects.filter(month=dt.date(2026, 3, 1), leads=1).exists()  # read as a month

    Lead.objects.filter(pk=lead.pk).update(first_touch_at=march + dt.timedelta(minutes=3))
    assert (board(client, period="12m").received, board(client, period="12m").touched) == (1, 1)

    Lead.objects.filter(pk=lead.pk).update(created_at=day_start(dt.date(2025, 11, 30)))  # November: another month
    assert board(client, period="12m").received == 1
    assert MonthlyLeadStats.objects.filter(month=dt.date(2026, 3, 1), leads=1).exists() is False


def test_the_12_months_start_on_the_same_day_a_year_ago_whatever_the_months(client, boss, frozen):
    from routing.daily_stats import day_start
    from routing.models import Assignment

    first_day = dt.date(2025, 6, 16)  # 365 days up to 2026-06-15, today included
    anna, ben = rep_named("Anna"), rep_named("Ben")
    for created in (first_day, dt.date(2025, 6, 30), dt.date(2025, 7, 1), dt.date(2026, 5, 31), dt.date(2026, 6, 1)):
        lead = routed_lead_for(anna)
        Lead.objects.filter(pk=lead.pk).update(created_at=day_start(created) + dt.timedelta(hours=12))
    # The day before the period, in the month it starts in: Ben, his rule and his assignment are not in it.
    too_early = routed_lead_for(ben)
    Lead.objects.filter(pk=too_early.pk).update(created_at=day_start(first_day) - dt.timedelta(hours=12))
    Assignment.objects.filter(lead=too_early).update(created_at=day_start(first_day) - dt.timedelta(hours=12))

    for period, since, received in (("12m", first_day, 5), ("30d", dt.date(2026, 5, 17), 2),
                                    ("7d", dt.date(2026, 6, 9), 0)):
        figures = board(client, period=period)

        assert figures.since == day_start(since)
        assert (figures.received, figures.routed) == (received, received)
        assert [(row["name"], row["owned"]) for row in figures.rules] == ([("To Anna", received)] if received else [])
        assert {row.name: (row.assigned, row.owned) for row in figures.reps} == {
            "Anna": (5, received), "Ben": (0, 0)}  # Anna's leads were all assigned today
