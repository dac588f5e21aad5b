"""Geometry of the server-rendered SVG charts.

Coordinates leave here as strings with a dot for decimals: a template localises numbers, and
`width="40,5"` in German or Russian is no SVG length (the bars would not draw).
"""

# One row per rep, names left of the bars, in SVG units.
SHARE_ROW_HEIGHT, SHARE_LABEL_WIDTH, SHARE_BAR_MAX, SHARE_VALUE_SPACE = 28, 180, 360, 60


def svg_number(value: float) -> str:
    """A coordinate for an SVG attribute: one decimal at most, never localised."""
    return f"{value:.1f}".rstrip("0").rstrip(".")


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
