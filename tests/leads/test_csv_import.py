import pytest
from django.core.management import call_command, CommandError
from django.core.files.uploadedfile import SimpleUploadedFile

from leads.csv_import import csv_read, leads_import, mapping_suggest, rows_map
from leads.models import Lead
from tests.admin_support import SALES_MANAGERS, staff_user_in

pytestmark = pytest.mark.django_db

CSV = (
    "E-Mail;Vorname;Firma;Land;Telefon\n"
    "anna@acme.de;Anna;Acme GmbH;Deutschland;030 1234567\n"
    "not-an-email;Bob;Globex;Germany;\n"
    "carl@initech.com;Carl;Initech;Narnia;\n"
    "dora@umbrella.it;Dora;Umbrella;Italia;+39 06 1234567\n"
).encode("utf-8-sig")


def test_columns_named_like_fields_are_mapped_and_semicolons_understood():
    headers, rows = csv_read(CSV)
    assert headers == ["E-Mail", "Vorname", "Firma", "Land", "Telefon"] and len(rows) == 4
    assert mapping_suggest(headers) == {0: "email"}


def test_valid_rows_are_created_and_invalid_rows_listed_with_reasons():
    headers, rows = csv_read(CSV)
    mapping = {0: "email", 1: "first_name", 2: "company", 3: "country", 4: "phone"}
    report = leads_import(mapped=rows_map(rows, mapping), source="Trade fair")
    assert [row.line for row in report.created] == [2, 5]
    assert {row.line: set(row.errors) for row in report.failed} == {3: {"email"}, 4: {"country"}}
    assert sorted(Lead.objects.values_list("email", "source", "country")) == [
        ("anna@acme.de", "Trade fair", "DE"), ("dora@umbrella.it", "Trade fair", "IT")]


def test_management_command_imports_with_a_column_map(tmp_path, capsys):
    path = tmp_path / "leads.csv"
    path.write_bytes(CSV)
    call_command("import_leads", str(path), "--source", "Fair", "--map", "Firma=company", "--map", "Land=country",
                 "--map", "Telefon=phone")
    out = capsys.readouterr().out
    assert "line 3: email: Enter a valid email address" in out and "line 4: country: Unknown country" in out
    assert "2 imported, 0 merged into open leads, 2 failed." in out
    assert Lead.objects.count() == 2


def test_management_command_dry_run_creates_nothing(tmp_path, capsys):
    path = tmp_path / "leads.csv"
    path.write_bytes(CSV)
    call_command("import_leads", str(path), "--dry-run")
    assert "3 would be imported, 0 merged into open leads, 1 failed." in capsys.readouterr().out and not Lead.objects.exists()
    with pytest.raises(CommandError, match="COLUMN=FIELD"):
        call_command("import_leads", str(path), "--map", "Nope=email")


def test_admin_upload_map_preview_and_import(client):
    client.force_login(staff_user_in(SALES_MANAGERS))
    url = "/admin/leads/lead/import-csv/"
    assert b"Import CSV" in client.get("/admin/leads/lead/").content
    upload = client.post(url, {"upload": "1", "source": "Fair", "file": SimpleUploadedFile("leads.csv", CSV)})
    assert upload.status_code == 302
    mapping = {"column_0": "email", "column_1": "first_name", "column_2": "company", "column_3": "country",
               "column_4": "phone"}
    preview = client.post(url, {**mapping, "preview": "1"})
    html = preview.content.decode()
    assert "2 rows of the file will be skipped" in html and "Unknown country" in html
    assert not Lead.objects.exists()
    done = client.post(url, {**mapping, "import": "1"})
    assert "2 leads created" in done.content.decode() and Lead.objects.count() == 2


def test_admin_upload_of_an_empty_file_says_what_is_expected(client):
    client.force_login(staff_user_in(SALES_MANAGERS))
    response = client.post("/admin/leads/lead/import-csv/",
                           {"upload": "1", "file": SimpleUploadedFile("leads.csv", b"\n\n")})
    assert "The file is empty" in response.content.decode()
