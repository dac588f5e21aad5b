"""Geometry of the trends' server-rendered SVG charts: one bar per day.

Every number an SVG attribute gets is formatted here with a dot (never by the template's
localisation, which writes "12,5" in German and breaks the drawing).
"""

CHART_WIDTH, CHART_HEIGHT = 730, 160


def svg_number(value: float) -> str:
    return f"{value:.1f}"


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
    return charts
