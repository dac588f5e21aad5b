"""Geometry of the server-rendered SVG charts: the fairness shares, the trends' bars per day.

Every number an SVG attribute gets is formatted here with a dot, as a string: the template's
localisation would write "12,5" in German or Russian, and `width="40,5"` is no SVG length (the bars
would not draw).
"""

# Fairness: one row per rep, names left of the bars, in SVG units.
SHARE_ROW_HEIGHT, SHARE_LABEL_WIDTH, SHARE_BAR_MAX, SHARE_VALUE_SPACE = 28, 180, 360, 60
# Trends: one bar per day.
CHART_WIDTH, CHART_HEIGHT = 730, 160


def svg_number(value: float) -> str:
    """A number for an SVG attribute: one decimal, never localised."""
    return f"{value:.1f}"


def share_chart(rows) -> dict:
    """Bars of each row's share (0..1) against a tick at its expected share, both on one 0-100 % scale."""
    top = max([row.share for row in rows] + [row.expected_share for row in rows] + [0.0]) or 1.0
    bars = []
    for index, row in enumerate(rows):
        width = row.share * SHARE_BAR_MAX / top
        expected_x = SHARE_LABEL_WIDTH + row.expected_share * SHARE_BAR_MAX / top
        bars.append({
            "row": row, "y": svg_number(index * SHARE_ROW_HEIGHT), "width": svg_number(width),
            "value_x": svg_number(SHARE_LABEL_WIDTH + width + 6), "expected_x": svg_number(expected_x),
        })
    return {
        "bars": bars, "height": svg_number(max(len(rows), 1) * SHARE_ROW_HEIGHT),
        "width": svg_number(SHARE_LABEL_WIDTH + SHARE_BAR_MAX + SHARE_VALUE_SPACE),
        "label_width": svg_number(SHARE_LABEL_WIDTH), "label_x": svg_number(SHARE_LABEL_WIDTH - 8),
        "bar_max": svg_number(SHARE_BAR_MAX),
    }


def bar_chart(values: list) -> dict:
    """Bars of the values (None draws no bar), scaled to the largest; with the largest value for the axis."""
    top = max((value for value in values if value is not None), default=0) or 1
    step = CHART_WIDTH / max(len(values), 1)
    bars = []
    for index, value in enumerate(values):
        height = (value or 0) * CHART_HEIGHT / top
        bars.append({"x": svg_number(index * step), "y": svg_number(CHART_HEIGHT - height),
                     "width": svg_number(max(step - 1, 0.5) if step > 2 else step),
                     "height": svg_number(height)})
    return {"bars": bars, "width": CHART_WIDTH, "height": CHART_HEIGHT, "top": top}


def trend_charts(days: list) -> dict:
    """The trends page's three charts: leads per day, median minutes to first touch per day, SLA breaches per day."""
    minutes = [None if day.median_to_first_touch is None else day.median_to_first_touch.total_seconds() / 60
               for day in days]
    charts = {"leads": bar_chart([day.leads for day in days]), "speed": bar_chart(minutes),
              "breaches": bar_chart([day.sla_breached for day in days])}
    for chart, values in zip(charts.values(), ([day.leads for day in days], minutes, [day.sla_breached for day in days])):
        for bar, day, value in zip(chart["bars"], days, values):
            bar["day"], bar["value"] = day.day.isoformat(), "" if value is None else svg_number(value).removesuffix(".0")
        chart["axis"] = _axis(values, days)
    return charts


def _axis(values, days) -> dict:
    """What the labels around a trend chart say: the largest value at the top (None when there is none but
    zeros: the bars' scale then means nothing), and the first, middle and last days under the bars."""
    largest = max((value for value in values if value is not None), default=0)
    ticks = [days[0].day, days[len(days) // 2].day, days[-1].day] if len(days) >= 3 else [day.day for day in days]
    return {"top": largest or None, "days": ticks}
