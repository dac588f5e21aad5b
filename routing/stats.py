"""Small statistics the dashboard and the experiments share."""

import math


def percentile(sorted_values: list, fraction: float):
    """Nearest-rank percentile of already sorted values; None for none."""
    if not sorted_values:
        return None
    rank = max(1, math.ceil(fraction * len(sorted_values)))
    return sorted_values[rank - 1]
