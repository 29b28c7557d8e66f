"""``neocloud plan predict ROWS.csv -o OUT.csv``: TTFT and TPOT for every deployment row."""

from __future__ import annotations

import json
import sys
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Annotated

import typer
from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn

from neocloud import bootstrap
from neocloud.cli.common import bad_input, err, stdout_console
from neocloud.cli.serving_plot import scatter_html
from neocloud.services.serving_latency import predict_table

PROGRESS_MIN_ROWS = 2000  # smaller files finish before a bar would draw


def predict(
    rows_csv: Annotated[
        Path, typer.Argument(metavar="ROWS_CSV", help="CSV of deployments (the silicon_dev.csv schema).")
    ],
    out: Annotated[Path, typer.Option("-o", "--out", help="Where to write the rows with predictions.")],
    as_json: Annotated[bool, typer.Option("--json", help="Print the summary as JSON.")] = False,
    plot: Annotated[
        Path | None, typer.Option("--plot", help="Write predicted vs measured (log-log, self-contained HTML).")
    ] = None,
    configs: Annotated[
        Path | None,
        typer.Option("--configs", help="Directory of *_config.json (default: ../shared/.../model_configs)."),
    ] = None,
    systems: Annotated[
        Path | None, typer.Option("--systems", help="Directory of system *.yaml (default: ../shared/.../systems).")
    ] = None,
) -> None:
    """Predict TTFT and TPOT (ms) for every row; rows the model cannot cost get an
    ``unsupported_reason``. A malformed field exits 2 naming the row and column."""
    started = time.perf_counter()
    with bad_input():
        inputs = bootstrap.serving_inputs(configs, systems)
        header, rows = bootstrap.read_table(rows_csv)
        with _progress(len(rows)) as advance:
            table = predict_table(str(rows_csv), header, rows, inputs, progress=advance)
        bootstrap.write_table(out, table.header, table.rows)
        if plot is not None:
            bootstrap.write_text(plot, scatter_html(table.rows, title=rows_csv.name))
    summary = {**table.summary, "out": str(out), "seconds": round(time.perf_counter() - started, 3)}
    if as_json:
        sys.stdout.write(json.dumps(summary, indent=2) + "\n")
        return
    _print_summary(summary)


def _print_summary(summary: dict[str, object]) -> None:
    console = stdout_console()
    console.print(
        f"{summary['predicted']} of {summary['rows']} rows predicted -> {summary['out']} ({summary['seconds']} s)",
        highlight=False,
        soft_wrap=True,
    )
    for key in ("ttft", "tpot"):
        if f"{key}_median_abs_error" in summary:
            error = float(summary[f"{key}_median_abs_error"])  # type: ignore[arg-type]
            console.print(f"  {key.upper()} median absolute error vs measured: {error:.1%}", highlight=False)
    reasons = summary["unsupported_reasons"]
    assert isinstance(reasons, dict)
    for reason, count in sorted(reasons.items(), key=lambda kv: -kv[1]):
        console.print(f"  unsupported x{count}: {reason}", highlight=False, soft_wrap=True)


@contextmanager
def _progress(total: int) -> Iterator[Callable[[int], None] | None]:
    """A Rich bar on stderr for large files on a terminal; nothing when piped or small."""
    if total < PROGRESS_MIN_ROWS or not err.is_terminal:
        yield None
        return
    columns = (TextColumn("predicting"), BarColumn(), MofNCompleteColumn())
    with Progress(*columns, console=err, transient=True) as bar:
        task = bar.add_task("rows", total=total)
        yield lambda done: bar.update(task, completed=done)
