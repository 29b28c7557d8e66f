"""Lease request streams: a CSV of requests for the lease demand replay (``sim leases``).

Columns (found by header name; extra columns ignored; gzip when the name ends in ``.gz``):

| column | meaning |
|---|---|
| ``arrival_s`` | seconds from the replay's origin, a whole number >= 0, never before the row above |
| ``tenant`` | who asks, non-empty |
| ``shape`` | ``GPUS[xMODEL][@LOCALITY]`` or ``UNIT[:N][xMODEL]`` (:mod:`neocloud.domain.demand`) |
| ``term_days`` | the lease's length in days, above 0 and at most 3,652 (fractions allowed: whole seconds kept) |
| ``tier`` | ``wholesale`` (whole units only), ``reserved``, ``on_demand`` or ``spot`` |
| ``id`` (optional) | the request's id, unique in the file; default ``r`` + the row number |

The file streams (one row read, one request yielded) and the first bad row raises
:class:`~neocloud.domain.errors.TraceError` naming the file, the row (the physical
line, the header being row 1) and the column. docs/lease-demand.md has an example.
"""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

from neocloud.adapters.traces._table import Row, read_table
from neocloud.domain.demand import DemandRequest, parse_shape, shape_problem
from neocloud.domain.leases import MAX_HORIZON_S, Tier

ARRIVAL, TENANT, SHAPE, TERM, TIER, ID = "arrival_s", "tenant", "shape", "term_days", "tier", "id"
COLUMNS = (ARRIVAL, TENANT, SHAPE, TERM, TIER)
DAY_S = 86_400
#: The longest term: the ledger's booking horizon, ten years (3,652 days).
MAX_TERM_DAYS = MAX_HORIZON_S // DAY_S


def read_lease_requests(path: Path) -> Iterator[DemandRequest]:
    """The requests of the CSV at ``path``, in file order (which must be arrival order)."""
    previous = 0
    seen: set[str] = set()
    for row in read_table(path, COLUMNS, optional=(ID,)):
        request = _request(row)
        if request.arrival_s < previous:
            row.fail(ARRIVAL, f"{request.arrival_s} is before the row above's {previous}; sort the file by arrival")
        if request.id in seen:
            row.fail(ID, f"{request.id!r} is the id of an earlier row; ids are unique")
        seen.add(request.id)
        previous = request.arrival_s
        yield request


def _request(row: Row) -> DemandRequest:
    arrival_s = row.count(ARRIVAL)
    tenant = row.text(TENANT)
    shape_text = row.text(SHAPE)
    try:
        shape = parse_shape(shape_text)
    except ValueError as exc:
        row.fail(SHAPE, str(exc))
    tier = _tier(row)
    problem = shape_problem(shape, tier)
    if problem is not None:
        row.fail(TIER, f"{tier.value} for shape {shape_text!r}: {problem}")
    days = row.seconds(TERM)
    term_s = round(days * DAY_S)
    if not 0 < term_s <= MAX_TERM_DAYS * DAY_S:
        row.fail(TERM, f"{row.raw(TERM)!r} days: a term must be above 0 and at most {MAX_TERM_DAYS:,} days")
    request_id = row.optional_text(ID) or f"r{row.line}"
    return DemandRequest(request_id, arrival_s, tenant, shape, shape_text, term_s, tier)


def _tier(row: Row) -> Tier:
    text = row.text(TIER)
    try:
        return Tier(text)
    except ValueError:
        row.fail(TIER, f"{text!r} is not a tier; one of {', '.join(t.value for t in Tier)}")
