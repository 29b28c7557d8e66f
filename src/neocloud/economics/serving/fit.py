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

from collections.abc import Callable, Sequence
from dataclasses import dataclass, fields

import numpy as np
from numpy.typing import NDArray
from scipy.optimize import least_squares  # type: ignore[import-untyped]

from neocloud.economics.serving.latency import INITIAL, Coefficients, combine

LOSS = "soft_l1"
LOSS_SCALE = 0.1  # soft_l1: errors past ~10% in log count linearly, not squared
# Read by TTFT only; fitted in the second stage.
TTFT_ONLY = ("prefill_eff", "disagg_burst", "ttft_s", "burst", "prompt_token_s", "prefill_layer_s")
# Not fitted, kept at the start value: no row of the reference set has pipeline
# parallelism, so the data cannot tell a pipeline hop's cost (INITIAL: NVIDIA's p2p_latency).
NOT_FITTED = ("pp_hop_s",)
LOW, HIGH = 1e-8, 50.0  # every coefficient lies in [1e-8, 50] ...
# ... and a fraction at most 1
EFFICIENCIES = ("mem_eff", "gemm_eff", "moe_eff", "prefill_eff", "attn_eff", "net_eff")


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
    """Coefficients minimising the robust log error on these rows, in two stages: every
    coefficient TPOT depends on, fitted to TPOT; then, those held, the ones only TTFT
    reads (:data:`TTFT_ONLY`) fitted to TTFT. TTFT's errors are larger and noisier; one
    joint fit would bend the decode coefficients to absorb them. Rows whose measurement
    is missing or not positive count only for what they have."""
    first = _stage(table, tpot_ms, start, free=lambda n: n not in TTFT_ONLY and n not in NOT_FITTED, which=1)
    second = _stage(table, ttft_ms, first[0], free=lambda name: name in TTFT_ONLY, which=0)
    return FitResult(second[0], first[1] + second[1], first[2] + second[2])


def _stage(
    table: NDArray[np.float64],
    measured_ms: NDArray[np.float64],
    start: Coefficients,
    *,
    free: Callable[[str], bool],
    which: int,
) -> tuple[Coefficients, float, int]:
    ok = np.isfinite(measured_ms) & (measured_ms > 0)
    log_measured = np.log(np.where(ok, measured_ms, 1.0))
    names = _names(start)
    mask = np.array([free(n) for n in names])
    low, high = _bounds(start)
    base = np.clip(np.log(start.vector()), low + 1e-9, high - 1e-9)

    def residuals(x: NDArray[np.float64]) -> NDArray[np.float64]:
        full = base.copy()
        full[mask] = x
        predicted = combine(table, Coefficients.from_vector(np.exp(full)))[which]
        return np.where(ok, np.log(predicted) - log_measured, 0.0)

    result = least_squares(
        residuals, base[mask], loss=LOSS, f_scale=LOSS_SCALE, bounds=(low[mask], high[mask]), x_scale=1.0
    )
    full = base.copy()
    full[mask] = result.x
    return Coefficients.from_vector(np.exp(full)), float(result.cost), int(result.nfev)


def _names(start: Coefficients) -> list[str]:
    names: list[str] = []
    for f in fields(start):
        value = getattr(start, f.name)
        names.extend([f.name] * (len(value) if isinstance(value, tuple) else 1))
    return names


def _bounds(start: Coefficients) -> tuple[NDArray[np.float64], NDArray[np.float64]]:
    """Log-space bounds: efficiencies in [1e-8, 1], everything else in [1e-8, 50]."""
    names = _names(start)
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
