"""One serving deployment (a row of the silicon CSV schema) as values.

:func:`parse_row` turns a row's text fields into a :class:`Deployment`, or raises
:class:`RowError` naming the column and the problem (bad input: the caller stops and
writes nothing). A well-formed row this model cannot cost is not an error: the predictor
answers it with an ``unsupported_reason``.

Conventions of the schema (../shared/reference/serving-silicon/README.md):
- ``agg``: one set of GPUs does prefill and decode; ``batch_size`` requests in flight.
- ``disagg``: prefill and decode workers. Most rows leave the worker counts and batch
  sizes empty and state the measured concurrency only inside ``silicon_data_source``
  (``silicon_concurrency=N``) or the ``id`` (``_cN_``); then one worker of each kind is
  assumed (stated in docs/economics.md) and the decode batch is the concurrency.
- ``batch_size`` (and ``decode_batch_size``) count requests per attention-DP rank: the
  measured concurrency is ``batch_size * attention_dp_size`` (so it reads in every row
  with attention DP and a ``silicon_concurrency``); a worker's batch here is that total.
- A worker's GPUs are ``pp * max(tp * attention_dp, moe_tp * moe_ep)``; empty
  ``attention_dp_size`` means 1, empty MoE sizes mean ``moe_tp = tp * attention_dp``, ``ep = 1``.
"""

from __future__ import annotations

import math
import re
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, replace
from typing import Any

from neocloud.economics.serving.precision import PRECISION_DEFAULT_MODE, QuantMode, quant_mode

MODES = ("agg", "disagg")
# Every row needs these; ``batch_size`` only agg rows (a disagg row may state its
# concurrency elsewhere), so it is checked per row, not per header.
REQUIRED_COLUMNS = ("model_path", "system", "mode", "isl", "osl")


def missing_columns(header: Sequence[str]) -> list[str]:
    """The required columns ``header`` lacks, in schema order (empty when complete)."""
    present = {h.strip() for h in header}
    return [c for c in REQUIRED_COLUMNS if c not in present]


_CONCURRENCY_SOURCE = re.compile(r"silicon_concurrency=(\d+)")
_CONCURRENCY_ID = re.compile(r"_c(\d+)_")


#: Bounds of a row's numbers (``_bound``): 10M tokens of context, a million requests in
#: flight, 4,096-way parallelism.
MAX_SEQUENCE_TOKENS = 10_000_000
MAX_BATCH = 1_000_000
MAX_PARALLEL = 4_096


class RowError(ValueError):
    """A field that cannot be read: names the column and the problem."""

    def __init__(self, column: str, problem: str) -> None:
        self.column = column
        self.problem = problem
        super().__init__(f"column {column}: {problem}")


@dataclass(frozen=True, slots=True)
class Worker:
    """One replica's parallel layout and the requests in flight on it."""

    batch: int
    tp: int = 1
    pp: int = 1
    attention_dp: int = 1
    moe_tp: int = 1
    moe_ep: int = 1
    count: int = 1  # replicas of this worker

    @property
    def gpus(self) -> int:
        return self.pp * max(self.tp * self.attention_dp, self.moe_tp * self.moe_ep)


@dataclass(frozen=True, slots=True)
class Deployment:
    model_path: str
    system: str
    backend: str
    mode: str
    isl: int
    osl: int
    dense_quant: QuantMode
    moe_quant: QuantMode
    decode: Worker  # agg: the one worker
    prefill: Worker | None  # disagg only
    concurrency: int  # requests in flight over the whole deployment
    worker_counts_known: bool = True


def parse_row(row: Mapping[str, str]) -> Deployment:
    """The deployment a row describes; :class:`RowError` for a field that is malformed."""
    mode = _text(row, "mode").lower()
    if mode not in MODES:
        raise RowError("mode", f"expected one of {', '.join(MODES)}, got {mode!r}")
    dense, moe = _quant(row)
    isl = _int(row, "isl")
    osl = _int(row, "osl")
    common: dict[str, Any] = {
        "model_path": _text(row, "model_path"),
        "system": _text(row, "system"),
        "backend": _text(row, "backend", required=False).lower(),
        "mode": mode,
        "isl": isl,
        "osl": osl,
        "dense_quant": dense,
        "moe_quant": moe,
    }
    if not common["model_path"]:
        raise RowError("model_path", "empty")
    if not common["system"]:
        raise RowError("system", "empty")
    if mode == "agg":
        worker = _worker(row, "", _int(row, "batch_size"))  # batch_size counts per attention-DP rank
        return Deployment(**common, decode=worker, prefill=None, concurrency=worker.batch)
    return _disagg(row, common)


def within_domain(dep: Deployment, domain_gpus: int) -> Deployment:
    """The deployment with every worker written in the data's squared spelling read as
    the run it is (:func:`unsquare`) on a system whose NVLink domain is ``domain_gpus``."""
    prefill = unsquare(dep.prefill, domain_gpus) if dep.prefill is not None else None
    return replace(dep, decode=unsquare(dep.decode, domain_gpus), prefill=prefill)


def unsquare(w: Worker, domain_gpus: int) -> Worker:
    """Read a layout written as ``moe_tp = moe_ep = k`` with ``tp x attention_dp = k^2``
    that would span ``k^2`` GPUs past the NVLink domain as the ``k``-GPU run it is:
    attention TP ``k`` (or attention DP ``k``) and experts over EP ``k``. Some source
    files of the silicon data write TP8 + EP8 on one 8-GPU node as ``64/1/8/8``; the same
    measurements appear under both spellings (50 groups of identical TTFT and TPOT in
    silicon_dev.csv: ``64/1/8/8`` = ``8/1/1/8``, ``16/1/4/4`` = ``4/1/1/4``,
    ``1/64/8/8`` = ``1/8/1/8``), and tensor parallelism over 64 GPUs across InfiniBand
    is not a layout anyone serves. A layout inside the domain is left as written."""
    k = w.moe_ep
    squared = k > 1 and w.moe_tp == k and w.tp * w.attention_dp == k * k and min(w.tp, w.attention_dp) == 1
    if not squared or w.tp * w.attention_dp <= domain_gpus:
        return w
    if w.tp > 1:
        return replace(w, tp=k, moe_tp=1)
    return replace(w, attention_dp=k, moe_tp=1)


def _disagg(row: Mapping[str, str], common: dict[str, Any]) -> Deployment:
    decode_batch = _int(row, "decode_batch_size", required=False)
    known = decode_batch is not None and _int(row, "decode_num_workers", required=False) is not None
    concurrency = _concurrency(row)
    if decode_batch is None:
        if concurrency is None:
            raise RowError("decode_batch_size", "empty, and no silicon_concurrency in silicon_data_source or id")
        decode_batch = concurrency
    decode = _worker(
        row, "decode_", decode_batch, count=_int(row, "decode_num_workers", required=False) or 1, per_rank=known
    )
    prefill_batch = _int(row, "prefill_batch_size", required=False) or 1
    prefill_count = _int(row, "prefill_num_workers", required=False) or 1
    prefill = _worker(row, "prefill_", prefill_batch, count=prefill_count, per_rank=False)
    total = concurrency or decode.batch * decode.count
    return Deployment(**common, decode=decode, prefill=prefill, concurrency=total, worker_counts_known=known)


def _worker(row: Mapping[str, str], prefix: str, batch: int | None, count: int = 1, *, per_rank: bool = True) -> Worker:
    if batch is None or batch < 1:
        raise RowError(f"{prefix}batch_size", "must be a positive integer")
    tp = _int(row, f"{prefix}tp_size", required=False) or 1
    adp = _int(row, f"{prefix}attention_dp_size", required=False) or 1
    if per_rank:
        batch *= adp
    moe_tp = _int(row, f"{prefix}moe_tp_size", required=False)
    ep = _int(row, f"{prefix}moe_ep_size", required=False) or 1
    return Worker(
        batch=batch,
        tp=tp,
        pp=_int(row, f"{prefix}pp_size", required=False) or 1,
        attention_dp=adp,
        moe_tp=moe_tp or max(1, tp * adp // ep),
        moe_ep=ep,
        count=count,
    )


def _quant(row: Mapping[str, str]) -> tuple[QuantMode, QuantMode]:
    precision = _text(row, "precision", required=False).lower()
    if precision not in PRECISION_DEFAULT_MODE:
        raise RowError("precision", f"unknown precision {precision!r}")
    default = PRECISION_DEFAULT_MODE[precision]
    modes = []
    for column in ("gemm_quant_mode", "moe_quant_mode"):
        name = _text(row, column, required=False) or default
        mode = quant_mode(name)
        if mode is None:
            raise RowError(column, f"unknown quantisation mode {name!r}")
        modes.append(mode)
    return modes[0], modes[1]


def _concurrency(row: Mapping[str, str]) -> int | None:
    for column, pattern in (("silicon_data_source", _CONCURRENCY_SOURCE), ("id", _CONCURRENCY_ID)):
        found = pattern.search(row.get(column) or "")
        if found:
            return int(found.group(1))
    return None


def _text(row: Mapping[str, str], column: str, *, required: bool = True) -> str:
    value = row.get(column)
    if value is None:
        if required:
            raise RowError(column, "missing (the column is required)")
        return ""
    return value.strip()


def _int(row: Mapping[str, str], column: str, *, required: bool = True) -> int | None:
    """A whole number (``8`` or ``8.0``) within the column's bound; empty is ``None`` where
    the column is optional. ``0`` means "not set" only in the MoE columns (the dev data
    writes it so for dense models); anywhere else a given count is at least 1."""
    text = _text(row, column, required=required)
    if not text:
        if required:
            raise RowError(column, "empty (a positive integer is required)")
        return None
    try:
        value = float(text)
    except ValueError:
        raise RowError(column, f"not a number: {text!r}") from None
    if not math.isfinite(value) or value != int(value) or value < 0:
        raise RowError(column, f"expected a non-negative integer, got {text!r}")
    if value < 1 and (required or "moe_" not in column):
        raise RowError(column, f"must be at least 1, got {text!r}")
    bound = _bound(column)
    if value > bound:
        raise RowError(column, f"{text} is above the largest this model handles ({bound:,})")
    return int(value)


def _bound(column: str) -> int:
    """Bounds against typos, far above any deployment the data holds (isl/osl 8,192,
    batch 6,144, TP 72)."""
    if column in ("isl", "osl"):
        return MAX_SEQUENCE_TOKENS
    if column.endswith("batch_size"):
        return MAX_BATCH
    return MAX_PARALLEL
