"""Turns a decision's trace into the explanation a manager reads on the lead's page."""

STRATEGY_WORDS = {
    "round_robin": "round robin: least recently assigned",
    "weighted": "weighted round robin",
    "least_loaded": "least loaded: fewest open leads",
    "performance": "performance: shares by conversion in the lead's segment",
}


def _condition_text(condition) -> str:
    actual = condition["actual"]
    shown = "empty" if actual in (None, "", [], {}) else actual
    if condition.get("refused"):
        return f"{condition['text']} (lead: {shown}; never matches: {condition['refused']})"
    return f"{condition['text']} (lead: {shown})"


def rule_line(rule) -> str:
    """One rule of a decision's trace: matched or not, and on which of the lead's values."""
    head = f"Rule {rule['position']} '{rule['name']}'"
    if not rule["conditions"]:
        return f"{head} matched: it has no conditions (catches every lead)."
    if rule["matched"]:
        met = [_condition_text(c) for c in rule["conditions"] if c["matched"]]
        return f"{head} matched: " + "; ".join(met) + "."
    failed = [_condition_text(c) for c in rule["conditions"] if not c["matched"]]
    return f"{head} did not match: " + "; ".join(failed) + "."


def _experiment_line(experiment) -> str:
    return (f"  Experiment '{experiment['name']}' ({experiment['group']} group, {experiment['share']}%): "
            f"placed by rule '{experiment['placed_by']}'.")


def _candidate_lines(rule) -> list:
    lines = []
    for candidate in rule.get("candidates", []):
        if candidate["reason"]:
            lines.append(f"  {candidate['name']}: {candidate['reason']}.")
        elif candidate["rep_id"] == rule.get("chosen_rep_id"):
            lines.append(f"  {candidate['name']}: chosen ({candidate['state']}).")
        else:
            lines.append(f"  {candidate['name']}: eligible ({candidate['state']}).")
    return lines


def explain(trace: dict, *, outcome_text: str) -> str:
    lines = []
    if trace.get("territory"):
        lines.append(f"Territory: {trace['territory']}.")
    if trace.get("account"):
        lines.append(f"Matched account: {trace['account']}.")
    if trace.get("skipped_by_index"):
        lines.append(
            f"{trace['skipped_by_index']} of {trace['rules_total']} rules skipped: their country, territory or "
            "other exact-value conditions cannot match this lead."
        )
    for rule in trace.get("rules", []):
        lines.append(rule_line(rule))
        if rule.get("experiment"):
            lines.append(_experiment_line(rule["experiment"]))
        if "target" in rule:
            strategy = STRATEGY_WORDS.get(rule.get("strategy"), rule.get("strategy"))
            lines.append(f"  Candidates: {rule['target']} ({strategy}).")
            if not rule.get("candidates"):
                lines.append("  Nobody in this target.")
        lines.extend(_candidate_lines(rule))
        for code, count in (rule.get("more_excluded") or {}).items():
            lines.append(f"  … and {count} more excluded: {code.replace('_', ' ')}.")
        if rule.get("more_eligible"):
            lines.append(f"  … and {rule['more_eligible']} more eligible reps ranked lower.")
        if rule.get("result"):
            lines.append(f"  → {rule['result']}.")
    if trace.get("error"):
        lines.append(f"Error: {trace['error']}")
    lines.append(outcome_text)
    return "\n".join(lines)
