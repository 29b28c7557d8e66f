"""The one rule for "lease a fraction" that sweeps and keep-vs-lease studies share:
whole units, the last first, as many as bring what is taken nearest the target (the
fewer on a tie). A sweep measures its units (fabric blocks, else nodes) in nodes and
never takes them all; a study measures its candidates (sites, pods or blocks) in GPUs
and may take every candidate."""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np


def units_to_take(sizes: Sequence[int] | np.ndarray, target: float, *, at_most: int | None = None) -> int:
    """How many of the units (``sizes``: each unit's size, the last unit first) to take,
    up to ``at_most`` (default: all of them), so their total is nearest ``target``; the
    fewest of the nearest on a tie."""
    limit = len(sizes) if at_most is None else min(at_most, len(sizes))
    taken = np.concatenate(([0], np.cumsum(np.asarray(sizes, np.int64)[:limit])))  # totals of 0 .. limit units
    return int(np.argmin(np.abs(taken - target)))  # argmin: the first (fewest) of the nearest
