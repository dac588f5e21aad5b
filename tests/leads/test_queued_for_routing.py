"""Leads entered by hand in the admin or imported from CSV (admin upload, import_leads) are queued for routing:
`routing_requested_at` is set, one drain job is enqueued on commit, and a real RQ worker routes them."""

import io

import django_rq
import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.core.management import call_command
from django.urls import reverse

from leads.models import Lead
from routing.jobs import QUEUE_NAME
from tests.admin_support import form_errors, formset_data
from tests.factories import UserFactory
from tests.routing.support import work_the_routing_queue

# The wake-up is sent on commit, and the worker reads what the request committed.
pytestmark = pytest.mark.django_db(transaction=True)
CSV = b"email;first_name;company;country\nanna@acme.de;Anna;Acme GmbH;DE\ndora@umbrella.it;Dora;Umbrella;IT\n"
CSV_EMAILS = ["anna@acme.de", "dora@umbrella.it"]


@pytest.fixture
def admin_client(client):
    client.force_login(UserFactory(is_staff=True, is_superuser=True))  # a transactional test flushes the groups
    return client


def assert_queued_then_routed_to(anna, emails):
    leads = Lead.objects.filter(email__in=emails)
    assert leads.count() == len(emails) and not leads.filter(routing_requested_at__isnull=True).exists()
    assert django_rq.get_queue(QUEUE_NAME).count == 1  # one drain job wakes for them all
    work_the_routing_queue()
    assert set(leads.values_list("owner", "routing_requested_at")) == {(anna.pk, None)}


def test_lead_added_in_the_admin_is_queued_and_routed_by_a_worker(admin_client, anna_takes_every_lead):
    inlines = {**formset_data("decisions"), **formset_data("assignments"), **formset_data("events")}
    response = admin_client.post(reverse("admin:leads_lead_add"), {
        "first_name": "Jana", "last_name": "Novak", "email": "jana@novak.example", "company": "Novak s.r.o.",
        "country": "CZ", "source": "Phone call", "attributes": "{}", **inlines,
    })
    assert response.status_code == 302, form_errors(response)

    assert_queued_then_routed_to(anna_takes_every_lead, ["jana@novak.example"])


def test_leads_imported_in_the_admin_are_queued_and_routed_by_a_worker(admin_client, anna_takes_every_lead):
    url = reverse("admin:leads_lead_import_csv")
    admin_client.post(url, {"upload": "1", "source": "Fair", "file": SimpleUploadedFile("leads.csv", CSV)})
    mapping = {"column_0": "email", "column_1": "first_name", "column_2": "company", "column_3": "country"}
    assert "2 leads created" in admin_client.post(url, {**mapping, "import": "1"}).content.decode()

    assert_queued_then_routed_to(anna_takes_every_lead, CSV_EMAILS)


def test_leads_imported_by_the_command_are_queued_and_routed_by_a_worker(tmp_path, anna_takes_every_lead):
    path = tmp_path / "leads.csv"
    path.write_bytes(CSV)
    call_command("import_leads", str(path), "--map", "company=company", stdout=io.StringIO())

    assert_queued_then_routed_to(anna_takes_every_lead, CSV_EMAILS)
