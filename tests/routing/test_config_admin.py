"""Export and import of the routing configuration on the Routing rules changelist: upload, preview, confirm."""

import json

import pytest
import time_machine
from django.contrib.admin.models import LogEntry
from django.contrib.auth.models import Permission
from django.core.files.uploadedfile import SimpleUploadedFile
from django.urls import reverse

from routing.config_file import routing_config_export, routing_config_json
from routing.models import RoutingRule
from tests.admin_support import REPS, SALES_MANAGERS, staff_user_in

# Every test starts from two rules: DACH (Anna), then Nurture.
pytestmark = [pytest.mark.django_db, pytest.mark.usefixtures("dach_and_nurture_rules")]

CHANGELIST_URL = reverse("admin:routing_routingrule_changelist")
EXPORT_URL = reverse("admin:routing_routingrule_config_export")
IMPORT_URL = reverse("admin:routing_routingrule_config_import")


@pytest.fixture
def manager():
    return staff_user_in(SALES_MANAGERS, username="maria")


@pytest.fixture
def manager_client(client, manager):
    client.force_login(manager)
    return client


def upload(client, config, *, name="routing.json", **fields):
    content = config if isinstance(config, bytes) else json.dumps(config).encode()
    return client.post(IMPORT_URL, {"file": SimpleUploadedFile(name, content, "application/json"), "upload": "1",
                                    **fields})


def with_nurture_switched_off():
    config = routing_config_export()
    config["rules"][1]["is_active"] = False
    return config


def test_changelist_offers_export_and_import_to_a_manager(manager_client):
    page = manager_client.get(CHANGELIST_URL).content.decode()
    assert f'href="{EXPORT_URL}">Export configuration</a>' in page
    assert f'href="{IMPORT_URL}">Import configuration</a>' in page


@time_machine.travel("2026-03-02 10:00:00+00:00", tick=False)
def test_export_downloads_the_configuration_named_with_the_date(manager_client):
    response = manager_client.get(EXPORT_URL)
    assert response.status_code == 200
    assert response["Content-Type"] == "application/json"
    assert response["Content-Disposition"] == 'attachment; filename="routing-configuration-2026-03-02.json"'
    assert response.content.decode() == routing_config_json(routing_config_export())


def test_upload_shows_a_preview_and_changes_nothing(manager_client):
    response = upload(manager_client, with_nurture_switched_off())

    page = response.content.decode()
    assert response.status_code == 200
    assert "Preview: what importing routing.json changes" in page
    assert "updated rule 'Nurture'" in page
    assert "is_active: true → false" in page
    assert 'value="Apply these changes"' in page
    assert RoutingRule.objects.get(name="Nurture").is_active is True


def test_confirming_the_preview_applies_it_and_records_who_did(manager_client, manager):
    upload(manager_client, with_nurture_switched_off())

    response = manager_client.post(IMPORT_URL, {"confirm": "1"})

    assert "routing.json was imported" in response.content.decode()
    nurture = RoutingRule.objects.get(name="Nurture")
    assert nurture.is_active is False
    history = manager_client.get(reverse("admin:routing_routingrule_history", args=[nurture.pk])).content.decode()
    assert "Changed by a configuration import: is_active: true → false." in history
    assert LogEntry.objects.get(object_id=str(nurture.pk)).user == manager


def test_confirming_twice_applies_once_and_then_asks_for_the_file_again(manager_client):
    upload(manager_client, with_nurture_switched_off())
    manager_client.post(IMPORT_URL, {"confirm": "1"})

    response = manager_client.post(IMPORT_URL, {"confirm": "1"}, follow=True)

    assert "The uploaded file is no longer here (the session ended): upload it again." in response.content.decode()


def test_delete_missing_is_previewed_and_applied(manager_client):
    config = routing_config_export()
    config["rules"] = config["rules"][:1]

    preview = upload(manager_client, config, delete_missing="on").content.decode()
    assert "deleted rule 'Nurture'" in preview
    assert RoutingRule.objects.filter(name="Nurture").exists()

    manager_client.post(IMPORT_URL, {"confirm": "1"})
    assert list(RoutingRule.objects.values_list("name", flat=True)) == ["DACH"]


def test_the_exported_file_uploaded_again_says_no_changes_and_offers_nothing_to_apply(manager_client):
    page = upload(manager_client, manager_client.get(EXPORT_URL).content).content.decode()
    assert "No changes: the configuration already matches routing.json." in page
    assert "Apply these changes" not in page


def test_a_file_with_problems_shows_them_on_the_page_and_changes_nothing(manager_client):
    config = routing_config_export()
    config["rules"][0]["conditions"][0]["field"] = "contry"
    config["rules"][1]["target_rep"] = "jdoe"

    response = upload(manager_client, config)

    page = response.content.decode()
    assert response.status_code == 200
    assert "routing.json cannot be imported: 2 problems. Nothing was changed." in page
    assert "rule &#x27;DACH&#x27;, condition 1, field: Unknown field &#x27;contry&#x27;." in page
    assert "rule &#x27;Nurture&#x27;, target_rep: no rep has the username &#x27;jdoe&#x27;." in page
    assert "Apply these changes" not in page
    assert manager_client.post(IMPORT_URL, {"confirm": "1"}, follow=True).redirect_chain  # nothing was kept


@pytest.mark.parametrize(
    ("content", "message"),
    [
        (b"<html>", "The file is not valid JSON: Expecting value (line 1, column 1)."),
        (b"\xff\xfe{}", "The file is not UTF-8 text: save it as UTF-8 JSON."),
        (b'{"version": 3}', "The file is version 3; this leadrouting reads version 1 files."),
    ],
)
def test_a_file_that_is_no_configuration_is_refused_with_a_message(manager_client, content, message):
    response = upload(manager_client, content)
    assert response.status_code == 200
    assert message in response.content.decode()


def test_upload_without_a_file_asks_for_one(manager_client):
    response = manager_client.post(IMPORT_URL, {"upload": "1"})
    assert response.status_code == 200
    assert "This field is required." in response.content.decode()


def test_a_rep_can_neither_export_nor_import(client):
    client.force_login(staff_user_in(REPS))
    assert client.get(EXPORT_URL).status_code == 403
    assert client.get(IMPORT_URL).status_code == 403
    assert upload(client, with_nurture_switched_off()).status_code == 403
    assert RoutingRule.objects.get(name="Nurture").is_active is True


def test_a_user_who_may_only_view_rules_can_export_but_not_import(client):
    viewer = staff_user_in(REPS)
    viewer.user_permissions.add(*Permission.objects.filter(
        codename__in=["view_routingrule", "view_pool", "view_territory"]))
    client.force_login(viewer)

    page = client.get(CHANGELIST_URL).content.decode()

    assert "Export configuration" in page and "Import configuration" not in page
    assert client.get(EXPORT_URL).status_code == 200
    assert client.get(IMPORT_URL).status_code == 403


def test_delete_missing_is_offered_only_to_who_may_delete(client):
    editor = staff_user_in(REPS)
    editor.user_permissions.add(*Permission.objects.filter(codename__in=[
        "view_routingrule", "add_routingrule", "change_routingrule", "add_pool", "change_pool", "add_territory",
        "change_territory"]))
    client.force_login(editor)
    assert "delete what the file leaves out" not in client.get(IMPORT_URL).content.decode()

    config = routing_config_export()
    config["rules"] = config["rules"][:1]
    upload(client, config, delete_missing="on")
    client.post(IMPORT_URL, {"confirm": "1"})

    assert RoutingRule.objects.filter(name="Nurture").exists()
