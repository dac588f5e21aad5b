"""Renders a decision's trace as the explanation a manager reads, in the reader's language.

The engine stores codes and parameters (`RoutingDecision.trace`, shape `TRACE_VERSION`): each
rule's conditions (field, operator, value, the lead's value), the target, each candidate's
exclusion code or strategy state, the result, the outcome. Nothing here is stored: the lead's
page, the admin, the simulation and "Why you" render it when shown. Decisions written before
hold English fragments in their trace and their explanation as text; that text is shown.

After ROUTING_DECISION_TRACE_RETENTION_DAYS a trace is compacted (`trace_compact`): it keeps
the rule that placed the lead, its conditions, target, result and chosen rep, and the outcome;
the rules that did not match and the other candidates are counted, no longer listed.
"""

from django.utils.formats import number_format
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy, ngettext

from reps.availability import unavailable_text
from routing.conditions import ConditionError, compile_condition, condition_text
from routing.timeline import timeline_text

TRACE_VERSION = 2
# Set (to the day it happened) in a trace compacted after the retention period.
COMPACTED_KEY = "compacted"
# The per-candidate detail: most of a trace's bytes, and what a compacted trace leaves out.
CANDIDATE_DETAIL_KEYS = ("candidates", "more_excluded", "more_eligible")

STRATEGY_WORDS = {
    "round_robin": gettext_lazy("round robin: least recently assigned"),
    "weighted": gettext_lazy("weighted round robin"),
    "least_loaded": gettext_lazy("least loaded: fewest open leads"),
    "performance": gettext_lazy("performance: shares by conversion in the lead's segment"),
}
GROUP_WORDS = {"control": gettext_lazy("control group"), "test": gettext_lazy("test group")}
# How a rule's candidate set was found (`routing.candidates`), by code.
TARGET_TEXTS = {
    "rep": gettext_lazy("rep %(rep)s"),
    "team": gettext_lazy("team %(team)s"),
    "team_and_sub_teams": gettext_lazy("team %(team)s and sub-teams"),
    "territory": gettext_lazy("reps covering territory %(territory)s"),
    "no_territory": gettext_lazy("no territory matches the lead, or nobody covers it"),
    "skills": gettext_lazy("reps with the required skills"),
    "no_account": gettext_lazy("no matched account"),
    "account_owner": gettext_lazy("owner of account %(account)s"),
    "parent_account_owner": gettext_lazy("owner of parent account %(account)s"),
    "account_without_owner": gettext_lazy("account %(account)s has no owner"),
}
# Why a candidate was left out, with parameters (`reps.availability`, `routing.capacity`, skills).
CAPACITY_TEXTS = {
    "open_cap": gettext_lazy("at open-lead cap %(count)s/%(cap)s"),
    "daily_cap": gettext_lazy("at daily cap %(count)s/%(cap)s"),
    "hourly_cap": gettext_lazy("at hourly cap %(count)s/%(cap)s (leads in the last 60 minutes)"),
    "missing_skill": gettext_lazy("missing skill %(skill)s ≥ %(min)s (has %(level)s)"),
}
# The same reasons in a word, for the reps counted rather than listed.
EXCLUSION_WORDS = {
    "inactive": gettext_lazy("inactive"),
    "away": gettext_lazy("away"),
    "on_leave": gettext_lazy("on leave"),
    "holiday": gettext_lazy("holiday"),
    "out_of_hours": gettext_lazy("out of hours"),
    "missing_skill": gettext_lazy("missing skill"),
    "open_cap": gettext_lazy("at open-lead cap"),
    "daily_cap": gettext_lazy("at daily cap"),
    "hourly_cap": gettext_lazy("at hourly cap"),
}
RESULT_TEXTS = {
    "nurture": gettext_lazy("nurture"),
    "pooled": gettext_lazy("waiting in pool %(pool)s"),
    "assigned": gettext_lazy("assigned to %(rep)s"),
    "nobody_eligible_pooled": gettext_lazy("nobody eligible: waiting in pool %(pool)s"),
    "nobody_eligible_next": gettext_lazy("nobody eligible: trying the next rule"),
}


def decision_explanation(trace: dict, *, stored: str = "") -> str:
    """The explanation of a decision in the active language; `stored` for a decision written before traces were data."""
    if not isinstance(trace, dict) or trace.get("v") != TRACE_VERSION:
        return stored
    return explain(trace)


def trace_compact(trace, *, on: str):
    """What a decision keeps forever: the matching rules (conditions, target, result, the chosen rep) and the outcome.

    The rules that did not match and every candidate but the chosen one are counted instead of
    listed. A trace written before traces were data is only marked: its explanation is stored as text.
    """
    if not isinstance(trace, dict):
        return {COMPACTED_KEY: on, "legacy": trace}
    if trace.get("v") != TRACE_VERSION or COMPACTED_KEY in trace:
        return {**trace, COMPACTED_KEY: trace.get(COMPACTED_KEY, on)}
    rules = trace.get("rules", [])
    return {
        **{key: value for key, value in trace.items() if key != "rules"},
        "rules": [_rule_compact(rule) for rule in rules if rule.get("matched")],
        "rules_not_kept": sum(1 for rule in rules if not rule.get("matched")),
        COMPACTED_KEY: on,
    }


def _rule_compact(rule: dict) -> dict:
    candidates = rule.get("candidates") or []
    chosen = [c for c in candidates if c.get("rep_id") == rule.get("chosen_rep_id")]
    others = (len(candidates) - len(chosen) + sum((rule.get("more_excluded") or {}).values())
              + (rule.get("more_eligible") or 0))
    kept = {key: value for key, value in rule.items() if key not in CANDIDATE_DETAIL_KEYS}
    if "candidates" in rule:
        kept["candidates"], kept["candidates_not_kept"] = chosen, others
    return kept


def exclusion_text(code: str, params: dict | None) -> str:
    if code in CAPACITY_TEXTS:
        return CAPACITY_TEXTS[code] % (params or {})
    return unavailable_text(code, params or {})


def _shown(value) -> str:
    return _("empty") if value in (None, "", [], {}) else str(value)


def _refusal_text(condition) -> str:
    """Why a saved condition never matches, in the active language: compiling it again says it."""
    if isinstance(condition["refused"], str):  # an old trace: the reason as it was written
        return condition["refused"]
    try:
        compile_condition(condition["field"], condition["op"], condition["value"])
    except ConditionError as error:
        return error.message
    return _("it could not be compiled when the lead was routed")  # fixed since, e.g. a territory created


def _condition_text(condition) -> str:
    if "text" in condition:  # an old trace: the condition as it was written in English
        described = condition["text"]
    else:
        described = condition_text(condition["field"], condition["op"], condition["value"])
    names = {"condition": described, "value": _shown(condition["actual"])}
    if condition.get("refused"):
        names["reason"] = _refusal_text(condition)
        return _("%(condition)s (lead: %(value)s; never matches: %(reason)s)") % names
    return _("%(condition)s (lead: %(value)s)") % names


def rule_line(rule) -> str:
    """One rule of a decision's trace: matched or not, and on which of the lead's values."""
    names = {"position": rule["position"], "name": rule["name"]}
    if not rule["conditions"]:
        return _("Rule %(position)s '%(name)s' matched: it has no conditions (catches every lead).") % names
    if rule["matched"]:
        met = "; ".join(_condition_text(c) for c in rule["conditions"] if c["matched"])
        return _("Rule %(position)s '%(name)s' matched: %(conditions)s.") % {**names, "conditions": met}
    failed = "; ".join(_condition_text(c) for c in rule["conditions"] if not c["matched"])
    return _("Rule %(position)s '%(name)s' did not match: %(conditions)s.") % {**names, "conditions": failed}


def _experiment_line(experiment) -> str:
    return _("Experiment '%(name)s' (%(group)s, %(share)s%%): placed by rule '%(rule)s'.") % {
        "name": experiment["name"], "group": GROUP_WORDS.get(experiment["group"], experiment["group"]),
        "share": experiment["share"], "rule": experiment["placed_by"],
    }


def _last_lead(state) -> str:
    if state.get("last"):
        return _("last lead %(at)s UTC") % {"at": state["last"]}
    return _("no lead from this rule yet")


def state_text(state: dict) -> str:
    """What the strategy read for an eligible rep (`routing.strategies`)."""
    if "rate" in state:
        names = {"rate": f"{state['rate']:.0%}", "converted": state["converted"], "known": state["known"],
                 "share": f"{state['share']:.0%}",
                 "credit": number_format(round(state["credit"], 2), decimal_pos=2)}
        if state.get("new"):
            return _("conversion %(rate)s in segment (%(converted)s/%(known)s known outcomes, smoothed), new rep, "
                     "share %(share)s, credit %(credit)s") % names
        return _("conversion %(rate)s in segment (%(converted)s/%(known)s known outcomes, smoothed), "
                 "share %(share)s, credit %(credit)s") % names
    if "weight" in state:
        return _("weight %(weight)s, pass %(pass)s") % {"weight": state["weight"],
                                                         "pass": number_format(round(state["pass"], 3), decimal_pos=3)}
    if "open" in state:
        return ngettext("%(count)d open lead, %(last)s", "%(count)d open leads, %(last)s", state["open"]) % {
            "count": state["open"], "last": _last_lead(state)}
    return _last_lead(state)


def _candidate_lines(rule) -> list:
    lines = []
    for candidate in rule.get("candidates", []):
        names = {"name": candidate["name"]}
        if candidate.get("excluded"):
            reason = exclusion_text(candidate["excluded"], candidate.get("why"))
            lines.append(_("%(name)s: %(reason)s.") % {**names, "reason": reason})
        elif candidate["rep_id"] == rule.get("chosen_rep_id"):
            lines.append(_("%(name)s: chosen (%(state)s).") % {**names, "state": state_text(candidate.get("state", {}))})
        else:
            lines.append(_("%(name)s: eligible (%(state)s).") % {**names, "state": state_text(candidate.get("state", {}))})
    return lines


def _result_text(rule) -> str:
    chosen = next((c["name"] for c in rule.get("candidates", []) if c["rep_id"] == rule.get("chosen_rep_id")), "")
    return RESULT_TEXTS[rule["result"]] % {"pool": rule.get("pool", ""), "rep": chosen}


def _rule_lines(rule) -> list:
    """The rule's line, then its details indented under it."""
    details = []
    if rule.get("experiment"):
        details.append(_experiment_line(rule["experiment"]))
    if "target" in rule:
        target = rule["target"] or {}
        target_text = TARGET_TEXTS[target["code"]] % target if target.get("code") in TARGET_TEXTS else ""
        strategy = STRATEGY_WORDS.get(rule.get("strategy"), rule.get("strategy"))
        details.append(_("Candidates: %(target)s (%(strategy)s).") % {"target": target_text, "strategy": strategy})
        if not rule.get("candidates") and not rule.get("candidates_not_kept"):
            details.append(_("Nobody in this target."))
    details.extend(_candidate_lines(rule))
    if rule.get("candidates_not_kept"):
        details.append(ngettext(
            "… and %(count)d other candidate, not listed any more: the details of old decisions are compacted.",
            "… and %(count)d other candidates, not listed any more: the details of old decisions are compacted.",
            rule["candidates_not_kept"]) % {"count": rule["candidates_not_kept"]})
    for code, count in (rule.get("more_excluded") or {}).items():
        details.append(ngettext("… and %(count)d more excluded: %(reason)s.", "… and %(count)d more excluded: %(reason)s.",
                                count) % {"count": count, "reason": EXCLUSION_WORDS.get(code, code)})
    if rule.get("more_eligible"):
        details.append(ngettext("… and %(count)d more eligible rep ranked lower.",
                                "… and %(count)d more eligible reps ranked lower.",
                                rule["more_eligible"]) % {"count": rule["more_eligible"]})
    if rule.get("result"):
        details.append(f"→ {_result_text(rule)}.")
    return [rule_line(rule)] + [f"  {line}" for line in details]


def explain(trace: dict) -> str:
    """The explanation of a trace of shape TRACE_VERSION, one line per step, in the active language."""
    lines = []
    if trace.get("territory"):
        lines.append(_("Territory: %(territory)s.") % {"territory": trace["territory"]})
    if trace.get("account"):
        lines.append(_("Matched account: %(account)s.") % {"account": trace["account"]})
    if trace.get("skipped_by_index"):
        lines.append(ngettext(
            "%(skipped)d of %(total)d rule skipped: their country, territory or other exact-value conditions "
            "cannot match this lead.",
            "%(skipped)d of %(total)d rules skipped: their country, territory or other exact-value conditions "
            "cannot match this lead.",
            trace["rules_total"],
        ) % {"skipped": trace["skipped_by_index"], "total": trace["rules_total"]})
    if trace.get("rules_not_kept"):
        lines.append(ngettext(
            "%(count)d rule checked did not match (not listed any more: the details of old decisions are compacted).",
            "%(count)d rules checked did not match (not listed any more: the details of old decisions are compacted).",
            trace["rules_not_kept"]) % {"count": trace["rules_not_kept"]})
    for rule in trace.get("rules", []):
        lines.extend(_rule_lines(rule))
    error = trace.get("error")
    if error:
        text = error.get("error", "") if error.get("code") == "exception" else _(
            "No active rule matched or could place this lead.")
        lines.append(_("Error: %(error)s") % {"error": text})
    if trace.get("outcome"):
        lines.append(timeline_text(trace["outcome"]))
    return "\n".join(lines)
