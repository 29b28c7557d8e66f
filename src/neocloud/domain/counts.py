"""Whole numbers typed by people: ``1024``, ``150_000``; and ``MODEL=COUNT`` lists.

``str.isdigit`` is not the test: it accepts superscripts and other Unicode digits that
``int`` refuses (``"²".isdigit()`` is true), which turned a typed count into a 500.
Only ASCII digits, with single underscores between them, are a count here.
"""

from __future__ import annotations

import re
from collections.abc import Mapping

_WHOLE = re.compile(r"[0-9]+(?:_[0-9]+)*")


def whole_number(raw: str) -> int | None:
    """The whole number ``raw`` spells (ASCII digits, ``_`` between groups), or ``None``."""
    text = raw.strip()
    return int(text.replace("_", "")) if _WHOLE.fullmatch(text) else None


def model_counts(text: str, field: str, *, max_count: int) -> tuple[dict[str, int], list[str]]:
    """``H100=1024,GB200=72`` -> counts by model as written, and every problem, each
    naming ``field``: an item without ``=``, an empty model, a count that is not a whole
    number 1..``max_count``, a model given twice."""
    counts: dict[str, int] = {}
    problems: list[str] = []
    items = [i.strip() for i in text.split(",") if i.strip()]
    if not items:
        return {}, [f"{field}: expected MODEL=COUNT[,MODEL=COUNT...], got {text[:40]!r}"]
    for item in items:
        name, sep, raw = (p.strip() for p in item.partition("="))
        count = whole_number(raw)
        if not sep or not name:
            problems.append(f"{field}: {item[:40]!r}: expected MODEL=COUNT")
        elif count is None or not 0 < count <= max_count:
            problems.append(f"{field}: {item[:40]!r}: the count must be a whole number 1..{max_count:,}")
        elif (first := next((m for m in counts if m.casefold() == name.casefold()), None)) is not None:
            problems.append(f"{field}: {first} is given twice")
        else:
            counts[name] = count
    return counts, problems


def split_in_proportion(n: int, weights: Mapping[str, int]) -> dict[str, int]:
    """``n`` whole things (GPUs of a contract segment) split over ``weights`` (GPUs held
    per model) in proportion, floored, the remainder to the largest weight (ties: the
    last name), so the parts always sum to ``n``. The one split the price book and the
    deal book share."""
    whole = sum(weights.values())
    out = {key: n * w // whole for key, w in weights.items()}
    biggest = max(weights, key=lambda key: (weights[key], key))
    out[biggest] += n - sum(out.values())
    return out
