"""manage.py export_routing and import_routing: the configuration file from a shell, for git and deployments."""

import io
import json

import pytest
from django.core.management import CommandError, call_command

from routing.config_file import routing_config_export, routing_config_json
from routing.models import RoutingRule

# Every test starts from two rules: DACH (Anna), then Nurture.
pytestmark = [pytest.mark.django_db, pytest.mark.usefixtures("dach_and_nurture_rules")]


def run(*args) -> tuple:
    """(exit code, stdout, stderr) as manage.py gives them: a CommandError is printed last and exits with its code."""
    out, err = io.StringIO(), io.StringIO()
    try:
        call_command(*args, stdout=out, stderr=err)
    except CommandError as error:
        return error.returncode, out.getvalue(), f"{err.getvalue()}CommandError: {error}\n"
    return 0, out.getvalue(), err.getvalue()


def write(tmp_path, data) -> str:
    path = tmp_path / "routing.json"
    path.write_text(data if isinstance(data, str) else json.dumps(data), encoding="utf-8")
    return str(path)


def test_export_writes_the_configuration_to_standard_output():
    out = io.StringIO()
    call_command("export_routing", stdout=out)
    assert out.getvalue() == routing_config_json(routing_config_export())
    assert json.loads(out.getvalue())["rules"][0]["name"] == "DACH"


def test_export_writes_to_the_file_named_by_o(tmp_path):
    path = tmp_path / "routing.json"
    call_command("export_routing", "-o", str(path), stderr=io.StringIO())
    assert path.read_text(encoding="utf-8") == routing_config_json(routing_config_export())


def test_import_prints_what_changed(tmp_path):
    config = routing_config_export()
    config["rules"][1]["is_active"] = False

    code, out, err = run("import_routing", write(tmp_path, config))

    assert (code, err) == (0, "")
    assert "Rules: 0 created, 1 updated, 1 unchanged, 0 deleted." in out
    assert "  updated rule 'Nurture':\n    is_active: true → false" in out
    assert RoutingRule.objects.get(name="Nurture").is_active is False


def test_import_of_the_exported_file_says_no_changes(tmp_path):
    path = tmp_path / "routing.json"
    call_command("export_routing", "-o", str(path), stderr=io.StringIO())
    assert run("import_routing", str(path)) == (0, "No changes: the configuration already matches the file.\n", "")


def test_dry_run_shows_the_changes_and_saves_nothing(tmp_path):
    config = routing_config_export()
    config["rules"] = config["rules"][:1]

    code, out, _ = run("import_routing", write(tmp_path, config), "--dry-run", "--delete-missing")

    assert code == 0
    assert out.startswith("Dry run: nothing was saved.\n")
    assert "  deleted rule 'Nurture'" in out
    assert RoutingRule.objects.filter(name="Nurture").exists()


def test_delete_missing_deletes_the_rules_the_file_leaves_out(tmp_path):
    config = routing_config_export()
    config["rules"] = config["rules"][:1]

    code, out, _ = run("import_routing", write(tmp_path, config), "--delete-missing")

    assert code == 0 and "  deleted rule 'Nurture'" in out
    assert list(RoutingRule.objects.values_list("name", flat=True)) == ["DACH"]


def test_problems_go_to_standard_error_with_a_failing_exit_code_and_nothing_changes(tmp_path):
    config = routing_config_export()
    config["rules"][0]["conditions"].append({"field": "contry", "operator": "equals", "value": "DE"})
    config["rules"][1]["target_rep"] = "jdoe"
    before = routing_config_json(routing_config_export())

    code, out, err = run("import_routing", write(tmp_path, config))

    assert (code, out) == (1, "")
    assert "rule 'DACH', condition 2, field: Unknown field 'contry'." in err
    assert "rule 'Nurture', target_rep: no rep has the username 'jdoe'.\n" in err
    assert err.endswith("CommandError: Nothing was imported: 2 problem(s) in " + str(tmp_path / "routing.json") + ".\n")
    assert routing_config_json(routing_config_export()) == before


def test_a_file_that_is_not_json_fails_without_a_traceback(tmp_path):
    code, _, err = run("import_routing", write(tmp_path, "{'version': 1}"))
    assert code == 1
    assert err.startswith("The file is not valid JSON: Expecting property name enclosed in double quotes")
    assert "Traceback" not in err


def test_a_missing_file_is_named(tmp_path):
    code, _, err = run("import_routing", str(tmp_path / "nowhere.json"))
    assert code == 1
    assert f"Cannot read {tmp_path / 'nowhere.json'}: No such file or directory" in err
