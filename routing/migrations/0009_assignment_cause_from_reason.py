"""Gives the assignments written before causes were data a cause, from their kind and reason.

Only where the old text says it unambiguously: the SLA sweep's reasons start with "SLA breach"
(and end with "escalated to a manager" for an escalation), a rep leaving wrote "rep deactivated"
or "rep away", a manager's own words were the reason of their moves. The old text is kept as
the cause's "text" (or "note"), so such a row reads exactly as it was written.
"""

from django.db import migrations

CAUSES = [
    # (kind, condition on the reason, code, params)
    ("claim", None, "claim", "text"),
    (None, ("like", "SLA breach%escalated to a manager"), "escalation", "text"),
    (None, ("like", "SLA breach%"), "sla_breach", "text"),
    (None, ("exact", "rep deactivated"), "rep_deactivated", None),
    (None, ("exact", "rep away"), "rep_away", None),
    ("manual", None, "manual", "note"),
    ("reassign", None, "manual", "note"),
]


def _cause(code, key, reason):
    return {"code": code, "params": {key: reason} if key else {}}


def forwards(apps, schema_editor):
    Assignment = apps.get_model("routing", "Assignment")
    # Initial routing: the rule, by id and name (its reason is rendered from the rule anyway).
    # One statement per rule: most assignments are of this kind.
    initial = Assignment.objects.filter(cause={}, kind="initial")
    for rule_id, name in initial.values_list("rule_id", "rule__name").distinct().order_by():
        initial.filter(rule_id=rule_id).update(cause={"code": "rule", "params": {"rule_id": rule_id, "rule": name}})
    for kind, condition, code, key in CAUSES:
        rows = Assignment.objects.filter(cause={})
        if kind:
            rows = rows.filter(kind=kind)
        if condition and condition[0] == "exact":
            rows = rows.filter(reason=condition[1])
        elif condition:
            first, _sep, last = condition[1].partition("%")
            rows = rows.filter(reason__startswith=first, reason__endswith=last) if last else rows.filter(
                reason__startswith=first)
        for pk, reason in rows.values_list("pk", "reason").iterator(chunk_size=2000):
            Assignment.objects.filter(pk=pk).update(cause=_cause(code, key, reason))


class Migration(migrations.Migration):

    dependencies = [
        ("routing", "0008_assignment_cause"),
    ]

    operations = [
        migrations.RunPython(forwards, migrations.RunPython.noop, elidable=True),
    ]
