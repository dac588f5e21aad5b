"""The permission groups created by routing/migrations/0002_groups.py."""

import importlib
from types import SimpleNamespace

import pytest
from django.apps import apps
from django.contrib.auth.models import Group, Permission
from django.db import connection

from tests.admin_support import REPS, SALES_MANAGERS, staff_user_in

pytestmark = pytest.mark.django_db

groups_migration = importlib.import_module("routing.migrations.0002_groups")


def codenames(group_name):
    return {
        f"{app}.{codename}"
        for app, codename in Group.objects.get(name=group_name).permissions.values_list(
            "content_type__app_label", "codename"
        )
    }


VIEW_ALL_TEAMS = "reps.view_all_teams"


def test_sales_managers_may_add_change_delete_and_view_every_model_of_our_apps():
    every_permission = {
        f"{app}.{codename}"
        for app, codename in Permission.objects.filter(
            content_type__app_label__in=["reps", "leads", "routing"]
        ).values_list("content_type__app_label", "codename")
    } - {VIEW_ALL_TEAMS}
    assert {"routing.change_routingrule", "reps.delete_territory", "leads.add_account", "routing.view_assignment"} <= (
        every_permission
    )
    assert every_permission <= codenames(SALES_MANAGERS)


def test_the_sales_managers_group_does_not_see_every_team():
    # Given to people one by one: a member of the group sees the teams they manage.
    assert VIEW_ALL_TEAMS not in codenames(SALES_MANAGERS)
    assert not staff_user_in(SALES_MANAGERS).has_perm(VIEW_ALL_TEAMS)


def test_sales_managers_may_view_users_but_not_change_them():
    # change_user would let a manager tick "superuser status" on their own account.
    auth_permissions = {name for name in codenames(SALES_MANAGERS) if name.startswith("auth.")}
    assert auth_permissions == {"auth.view_user"}


def test_reps_may_only_view_leads_accounts_and_reps():
    assert codenames(REPS) == {"leads.view_lead", "leads.view_account", "reps.view_rep"}


def test_group_membership_gives_the_permissions():
    manager, rep = staff_user_in(SALES_MANAGERS), staff_user_in(REPS)
    assert manager.has_perm("routing.change_routingrule") and manager.has_perm("auth.view_user")
    assert rep.has_perm("leads.view_lead")
    assert not rep.has_perm("leads.change_lead") and not rep.has_perm("routing.view_routingrule")


def test_reversing_the_migration_removes_both_groups_and_reapplying_restores_them():
    schema_editor = SimpleNamespace(connection=connection)

    groups_migration.remove_groups(apps, schema_editor)
    assert not Group.objects.filter(name__in=[SALES_MANAGERS, REPS]).exists()

    groups_migration.create_groups(apps, schema_editor)
    groups_migration.create_groups(apps, schema_editor)
    assert Group.objects.filter(name=SALES_MANAGERS).count() == 1
    assert VIEW_ALL_TEAMS not in codenames(SALES_MANAGERS)  # even now that the permission exists
    assert codenames(REPS) == {"leads.view_lead", "leads.view_account", "reps.view_rep"}
