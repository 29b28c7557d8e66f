"""How economics counts time: the contract month, and the average year and month.

A **contract month** is an anniversary month: month k of a term that starts at ``t``
runs from ``t`` plus k - 1 calendar months to ``t`` plus k (the day clamped to the
month's length, so a term starting on 31 January has its second month from 28 or 29
February). Ramp discounts, a deal's monthly fees and a quote's charge lines all count
in contract months; a monthly fee for part of one is prorated by the seconds of it.

The **average** year and month (8,766 h and 730.5 h: 365.25 days, as economics.md's
derived prices count, e.g. [D] 1.8: $1.25e9 / (325,000 x 730.5 h) = $5.27) only
convert: a monthly fee to a rate per GPU-hour, a rate per hour to a year's cost. They
never cut a term into months. Billing periods are calendar months in a time zone
(domain/billing.py), a third notion, for invoices only.
"""

from __future__ import annotations

import bisect
from datetime import UTC, datetime
from decimal import Decimal

#: Hours in a year of 365.25 days [D].
HOURS_PER_YEAR = Decimal(8766)
#: Hours in the average month of that year: 730.5.
HOURS_PER_MONTH = HOURS_PER_YEAR / 12
#: A contract spans at most 20 years: longer than any disclosed GPU contract (CoreWeave's
#: weighted term is ~5 years [R63], 2025-Q4), a bound against typos such as 2209 for 2029.
MAX_TERM_MONTHS = 240


def add_months(t_s: int, months: int) -> int:
    """``t_s`` plus whole calendar months (UTC), the day clamped to the month's length."""
    dt = datetime.fromtimestamp(t_s, UTC)
    index = dt.year * 12 + dt.month - 1 + months
    year, month = divmod(index, 12)
    day = min(dt.day, _days_in(year, month + 1))
    return int(dt.replace(year=year, month=month + 1, day=day).timestamp())


def month_starts(start_s: int, end_s: int) -> list[int]:
    """The start of each contract month of ``[start_s, end_s)`` (at most
    :data:`MAX_TERM_MONTHS` + 2 of them: a bound, validation refuses longer terms)."""
    out, k = [], 0
    while (at := add_months(start_s, k)) < end_s:
        out.append(at)
        k += 1
        if k > MAX_TERM_MONTHS + 1:
            break
    return out


def contract_months(start_s: int, end_s: int) -> list[tuple[int, int]]:
    """Each contract month of ``[start_s, end_s)`` whole, as ``(start, end)``: month k
    ends where month k + 1 starts, ``start_s`` plus k calendar months (not its own start
    plus one month: from a clamped 28 February that would end on 28 March, not 31)."""
    starts = month_starts(start_s, end_s)
    return [(t, add_months(start_s, k)) for k, t in enumerate(starts, start=1)]


def contract_month(starts: list[int], t_s: int) -> int:
    """The contract month (from 1) holding ``t_s``, given the term's :func:`month_starts`."""
    return bisect.bisect_right(starts, t_s)


def _days_in(year: int, month: int) -> int:
    nxt = datetime(year + month // 12, month % 12 + 1, 1, tzinfo=UTC)
    return (nxt - datetime(year, month, 1, tzinfo=UTC)).days
