"""Helpers for admin tests: users in the permission groups, and POST data for inline formsets."""

from django.contrib.auth.models import Group

from tests.factories import UserFactory

SALES_MANAGERS = "Sales managers"
REPS = "Reps"


def staff_user_in(group_name: str, **fields):
    """A staff user whose only permissions come from the named group (created by the migration)."""
    user = UserFactory(is_staff=True, **fields)
    user.groups.add(Group.objects.get(name=group_name))
    return user


def formset_data(prefix: str, rows=(), initial: int = 0) -> dict:
    """Management form plus one entry per field of each row, as the admin posts an inline."""
    data = {
        f"{prefix}-TOTAL_FORMS": str(len(rows)),
        f"{prefix}-INITIAL_FORMS": str(initial),
        f"{prefix}-MIN_NUM_FORMS": "0",
        f"{prefix}-MAX_NUM_FORMS": "1000",
    }
    for index, row in enumerate(rows):
        data.update({f"{prefix}-{index}-{name}": value for name, value in row.items()})
    return data


def form_errors(response) -> str:
    """Every error the admin shows on the form and its inlines, as one plain text, for readable assertions."""
    # AdminErrorList holds each form's error lists but the inlines' own (non-form) messages as plain strings.
    messages = []
    for entry in response.context["errors"]:
        messages.extend([entry] if isinstance(entry, str) else entry)
    return " ".join(messages)
