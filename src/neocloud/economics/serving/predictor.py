"""Predict TTFT and TPOT for rows of the silicon CSV schema: the one entry point the CLI,
the benchmarks and the serving plan (issue 10 section 4b) call.

A malformed field raises :class:`RowProblem` (row number from 1, the column, the
problem): input errors stop the run. A row the model cannot cost (unknown model or
system, a refused config, FP4 on Hopper) gets a :class:`RowPrediction` with an
``unsupported_reason`` and no latencies.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass

import numpy as np
from numpy.typing import NDArray

from neocloud.economics.serving.architecture import Architecture
from neocloud.economics.serving.catalog import ServingInputs, resolve_model
from neocloud.economics.serving.deployment import Deployment, RowError, parse_row, within_domain
from neocloud.economics.serving.latency import TERM_NAMES, Coefficients, Prediction, Unsupported, combine, terms
from neocloud.economics.serving.system import GpuSystem


class RowProblem(ValueError):
    """A malformed field of row ``row`` (1 = first data row) in ``column``."""

    def __init__(self, row: int, column: str, problem: str) -> None:
        self.row = row
        self.column = column
        self.problem = problem
        super().__init__(f"row {row}, column {column}: {problem}")


@dataclass(frozen=True, slots=True)
class RowPrediction:
    ttft_ms: float | None
    tpot_ms: float | None
    unsupported_reason: str = ""


@dataclass(frozen=True, slots=True)
class Costed:
    """Rows parsed and turned into terms: what :func:`combine` needs, for the fit too."""

    deployments: list[Deployment | None]
    reasons: list[str]  # "" where costed
    table: NDArray[np.float64]  # one row of terms per costed deployment
    index: NDArray[np.int64]  # input row of each table row


def cost_rows(
    rows: Sequence[Mapping[str, str]], inputs: ServingInputs, progress: Callable[[int], None] | None = None
) -> Costed:
    """Parse and cost every row; :class:`RowProblem` at the first malformed field."""
    deployments: list[Deployment | None] = []
    reasons: list[str] = []
    found: list[dict[str, float]] = []
    index: list[int] = []
    keys = list(inputs.models)
    for i, row in enumerate(rows):
        try:
            dep = parse_row(row)
        except RowError as exc:
            raise RowProblem(i + 1, exc.column, exc.problem) from None
        try:
            arch, system = _resolve(dep, inputs, keys)
            dep = within_domain(dep, system.nvlink_domain_gpus)
            found.append(terms(arch, system, dep))
            index.append(i)
            reasons.append("")
        except Unsupported as exc:
            reasons.append(str(exc))
        deployments.append(dep)
        if progress is not None and (i + 1) % 500 == 0:
            progress(i + 1)
    table = np.array([[t[n] for n in TERM_NAMES] for t in found], dtype=np.float64).reshape(len(found), len(TERM_NAMES))
    return Costed(deployments, reasons, table, np.asarray(index, dtype=np.int64))


def predict_rows(
    rows: Sequence[Mapping[str, str]],
    inputs: ServingInputs,
    coefficients: Coefficients | None = None,
    progress: Callable[[int], None] | None = None,
) -> list[RowPrediction]:
    """One :class:`RowPrediction` per row, in order."""
    costed = cost_rows(rows, inputs, progress)
    return predictions(costed, coefficients or inputs.coefficients)


def predictions(costed: Costed, coefficients: Coefficients) -> list[RowPrediction]:
    out = [RowPrediction(None, None, reason) for reason in costed.reasons]
    if len(costed.index):
        ttft, tpot = combine(costed.table, coefficients)
        for j, i in enumerate(costed.index):
            out[int(i)] = RowPrediction(float(ttft[j]), float(tpot[j]))
    return out


def predict_deployment(dep: Deployment, inputs: ServingInputs) -> Prediction:
    """One deployment's TTFT and TPOT (:class:`Unsupported` with the reason)."""
    arch, system = _resolve(dep, inputs, list(inputs.models))
    dep = within_domain(dep, system.nvlink_domain_gpus)
    ttft, tpot = combine(np.array([[terms(arch, system, dep)[n] for n in TERM_NAMES]]), inputs.coefficients)
    return Prediction(float(ttft[0]), float(tpot[0]))


def _resolve(dep: Deployment, inputs: ServingInputs, keys: list[str]) -> tuple[Architecture, GpuSystem]:
    key = resolve_model(dep.model_path, keys)
    if key is None:
        raise Unsupported(f"no config.json for model {dep.model_path!r} in the configs directory")
    arch = inputs.models[key]
    if isinstance(arch, str):
        raise Unsupported(arch)
    system = inputs.systems.get(dep.system)
    if system is None:
        raise Unsupported(f"no system file for {dep.system!r} in the systems directory")
    if isinstance(system, str):
        raise Unsupported(system)
    return arch, system
