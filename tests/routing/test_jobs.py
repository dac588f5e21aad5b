"""Every job the app queues is an entry point in routing/jobs.py, so renaming the code behind it strands nothing."""

import django_rq
import pytest
from django.utils.module_loading import import_string

from routing import notifications
from routing.jobs import QUEUE_NAME, wake_routing_workers
from routing.notifications import NOTIFICATION_QUEUE
from routing.services import route_pending_leads
from tests.factories import LeadFactory, RepFactory, RoutingRuleFactory, TeamFactory

pytestmark = pytest.mark.django_db

JOB_PATHS = [value for name, value in vars(notifications).items() if name.endswith("_JOB")]


@pytest.mark.parametrize("path", JOB_PATHS)
def test_each_notification_job_path_is_a_function_of_routing_jobs(path):
    assert path.startswith("routing.jobs.") and callable(import_string(path))


def test_a_queued_assignment_email_names_its_entry_point_in_routing_jobs(settings, redis_connection,
                                                                         django_capture_on_commit_callbacks):
    settings.NOTIFICATIONS_ASYNC = True
    team = TeamFactory()
    RepFactory(teams=[team])
    RoutingRuleFactory(target_team=team)
    LeadFactory()

    with django_capture_on_commit_callbacks(execute=True):
        route_pending_leads(limit=10, worker="test")

    assert [job.func_name for job in django_rq.get_queue(NOTIFICATION_QUEUE).jobs] == [
        "routing.jobs.notify_owner_changes"]


def test_the_routing_wake_up_queues_a_function_of_routing_jobs(settings, redis_connection,
                                                               django_capture_on_commit_callbacks):
    settings.ROUTING_EMBEDDED = False
    with django_capture_on_commit_callbacks(execute=True):  # django-rq enqueues on commit
        wake_routing_workers()
    assert [job.func_name for job in django_rq.get_queue(QUEUE_NAME).jobs] == ["routing.jobs.drain_routing_queue"]
