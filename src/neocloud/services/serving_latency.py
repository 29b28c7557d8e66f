"""Use case: predict TTFT and TPOT for a table of deployments (``neocloud plan predict``).

The rows come in as text (an adapter read the CSV), the inputs (architectures, systems,
coefficients) as values; the answer is the output table (every input column plus
``predicted_ttft_ms``, ``predicted_tpot_ms``, ``unsupported_reason``) and a summary. A
malformed field is a :class:`SpecError` naming the file, the row and the column.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from statistics import median

from neocloud.domain.errors import FieldError, SpecError
from neocloud.economics.serving.catalog import ServingInputs
from neocloud.economics.serving.deployment import missing_columns
from neocloud.economics.serving.predictor import RowPrediction, RowProblem, predict_rows

OUTPUT_COLUMNS = ("predicted_ttft_ms", "predicted_tpot_ms", "unsupported_reason")
MEASURED = {"ttft": "silicon_ttft_ms", "tpot": "silicon_tpot_ms"}


@dataclass(frozen=True, slots=True)
class PredictedTable:
    header: list[str]
    rows: list[dict[str, str]]
    predictions: list[RowPrediction]
    summary: dict[str, object] = field(default_factory=dict)


def predict_table(
    source: str,
    header: Sequence[str],
    rows: Sequence[Mapping[str, str]],
    inputs: ServingInputs,
    progress: Callable[[int], None] | None = None,
) -> PredictedTable:
    """Predict every row of ``source`` (its name is only for messages). A header without
    the schema's required columns is refused before any row, with or without rows."""
    missing = missing_columns(header)
    if missing:
        problem = f"missing required column{'s' if len(missing) > 1 else ''} {', '.join(missing)}"
        raise SpecError([FieldError(source, "header", f"{problem} (the silicon_dev.csv schema)")])
    try:
        found = predict_rows(rows, inputs, progress=progress)
    except RowProblem as exc:
        raise SpecError([FieldError(source, f"row {exc.row}, column {exc.column}", exc.problem)]) from None
    out_header = [h for h in header if h not in OUTPUT_COLUMNS] + list(OUTPUT_COLUMNS)
    out_rows = [{**row, **_cells(p)} for row, p in zip(rows, found, strict=True)]
    return PredictedTable(out_header, out_rows, found, summarize(rows, found, inputs.coefficients_version))


def summarize(
    rows: Sequence[Mapping[str, str]], found: Sequence[RowPrediction], version: str = ""
) -> dict[str, object]:
    """Counts, reasons and, where measured columns exist, the median absolute error."""
    reasons: dict[str, int] = {}
    for p in found:
        if p.unsupported_reason:
            reasons[p.unsupported_reason] = reasons.get(p.unsupported_reason, 0) + 1
    predicted = sum(1 for p in found if p.tpot_ms is not None)
    summary: dict[str, object] = {
        "coefficients": version,
        "rows": len(found),
        "predicted": predicted,
        "unsupported": len(found) - predicted,
        "unsupported_reasons": reasons,
    }
    for key, column in MEASURED.items():
        errors = _errors(rows, found, key, column)
        if errors:
            summary[f"{key}_median_abs_error"] = round(median(errors), 4)
            summary[f"{key}_rows_measured"] = len(errors)
    return summary


def _errors(rows: Sequence[Mapping[str, str]], found: Sequence[RowPrediction], key: str, column: str) -> list[float]:
    out = []
    for row, p in zip(rows, found, strict=True):
        predicted = p.ttft_ms if key == "ttft" else p.tpot_ms
        measured = _float(row.get(column))
        if predicted is not None and measured is not None and measured > 0:
            out.append(abs(predicted / measured - 1.0))
    return out


def _float(text: str | None) -> float | None:
    try:
        return float(text) if text not in (None, "") else None
    except ValueError:
        return None


def _cells(p: RowPrediction) -> dict[str, str]:
    return {
        "predicted_ttft_ms": "" if p.ttft_ms is None else f"{p.ttft_ms:.3f}",
        "predicted_tpot_ms": "" if p.tpot_ms is None else f"{p.tpot_ms:.3f}",
        "unsupported_reason": p.unsupported_reason,
    }
