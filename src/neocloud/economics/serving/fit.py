"""Fit the latency model's coefficients, and cross-validate them by groups.

:func:`fit` is least squares on log error (``log(predicted / measured)`` for TPOT and
TTFT of every row, a robust ``soft_l1`` loss so a few odd measurements do not pull the
fit), over the logarithms of the coefficients (so every coefficient stays positive).
It takes terms (:func:`neocloud.economics.serving.latency.terms`) and measurements:
prediction later reads only the coefficients it returns, never rows.

:func:`cross_validate` refits with each group held out and predicts that group: the
error on rows of model families and GPU systems the fit did not see.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, fields

import numpy as np
from numpy.typing import NDArray
from scipy.optimize import least_squares  # type: ignore[import-untyped]

from neocloud.economics.serving.latency import INITIAL, Coefficients, combine

LOSS_SCALE = 0.1  # soft_l1: errors past ~10% in log count linearly, not squared
TTFT_WEIGHT = 1.0
LOW, HIGH = 1e-8, 50.0  # every coefficient lies in [1e-8, 50] ...
EFFICIENCIES = ("mem_eff", "gemm_eff", "prefill_eff", "attn_eff", "net_eff")  # ... and a fraction at most 1


@dataclass(frozen=True, slots=True)
class FitResult:
    coefficients: Coefficients
    cost: float
    iterations: int


def fit(
    table: NDArray[np.float64],
    ttft_ms: NDArray[np.float64],
    tpot_ms: NDArray[np.float64],
    start: Coefficients = INITIAL,
) -> FitResult:
    """Coefficients minimising the robust log error of TTFT and TPOT on these rows.
    Rows whose measurement is missing or not positive count only for what they have."""
    ok_ttft = np.isfinite(ttft_ms) & (ttft_ms > 0)
    ok_tpot = np.isfinite(tpot_ms) & (tpot_ms > 0)
    log_ttft = np.log(np.where(ok_ttft, ttft_ms, 1.0))
    log_tpot = np.log(np.where(ok_tpot, tpot_ms, 1.0))

    def residuals(x: NDArray[np.float64]) -> NDArray[np.float64]:
        pred_ttft, pred_tpot = combine(table, Coefficients.from_vector(np.exp(x)))
        r_ttft = np.where(ok_ttft, np.log(pred_ttft) - log_ttft, 0.0) * TTFT_WEIGHT
        r_tpot = np.where(ok_tpot, np.log(pred_tpot) - log_tpot, 0.0)
        return np.concatenate([r_ttft, r_tpot])

    low, high = _bounds(start)
    x0 = np.clip(np.log(start.vector()), low + 1e-9, high - 1e-9)
    result = least_squares(residuals, x0, loss="soft_l1", f_scale=LOSS_SCALE, bounds=(low, high), x_scale=1.0)
    return FitResult(Coefficients.from_vector(np.exp(result.x)), float(result.cost), int(result.nfev))


def _bounds(start: Coefficients) -> tuple[NDArray[np.float64], NDArray[np.float64]]:
    """Log-space bounds: efficiencies in [1e-8, 1], everything else in [1e-8, 50]."""
    names = []
    for f in fields(start):
        value = getattr(start, f.name)
        names.extend([f.name] * (len(value) if isinstance(value, tuple) else 1))
    high = np.array([np.log(1.0) if n in EFFICIENCIES else np.log(HIGH) for n in names])
    return np.full(len(names), np.log(LOW)), high


def cross_validate(
    table: NDArray[np.float64],
    ttft_ms: NDArray[np.float64],
    tpot_ms: NDArray[np.float64],
    groups: Sequence[str],
    start: Coefficients = INITIAL,
) -> tuple[NDArray[np.float64], NDArray[np.float64]]:
    """Held-out predictions (TTFT, TPOT in ms) for every row: each group's rows predicted
    by a fit on all the other groups."""
    labels = np.asarray(groups)
    out_ttft = np.full(len(labels), np.nan)
    out_tpot = np.full(len(labels), np.nan)
    for group in sorted(set(labels.tolist())):
        held = labels == group
        fitted = fit(table[~held], ttft_ms[~held], tpot_ms[~held], start).coefficients
        pred_ttft, pred_tpot = combine(table[held], fitted)
        out_ttft[held] = pred_ttft
        out_tpot[held] = pred_tpot
    return out_ttft, out_tpot


def abs_pct_error(predicted: NDArray[np.float64], measured: NDArray[np.float64]) -> NDArray[np.float64]:
    """|predicted / measured - 1| per row (NaN where either is missing)."""
    with np.errstate(invalid="ignore", divide="ignore"):
        return np.abs(predicted / measured - 1.0)
