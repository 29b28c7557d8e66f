"""``neocloud sim``: the trace-driven simulator's commands (``sim trace``, ``sim run``, ``sim pack``, ``sim sweep``)."""

from __future__ import annotations

import json
import sys
from pathlib import Path
from typing import Annotated, Any

import typer
from rich import box
from rich.markup import escape
from rich.table import Table

from neocloud import bootstrap
from neocloud.cli.common import EXIT_BAD_INPUT, bad_input, err, human_width, stdout_console
from neocloud.domain.workload import TraceJob
from neocloud.sim.trace_summary import TraceSummary, summarize

app = typer.Typer(help="The trace-driven simulator: read workload traces and replay them.", no_args_is_help=True)
out = stdout_console()
#: GPU sizes a human summary lists one by one; larger ones share a line.
SIZES_SHOWN = 8
DEFAULT_ROWS = 5


@app.command()
def trace(
    source: Annotated[str, typer.Argument(metavar="FORMAT:PATH", help="A trace format and file, philly:trace.csv.gz.")],
    as_json: Annotated[bool, typer.Option("--json", help="Print the summary as JSON.")] = False,
    limit: Annotated[int, typer.Option("--limit", min=0, help="How many of the first jobs to list.")] = DEFAULT_ROWS,
) -> None:
    """Summarize a workload trace: jobs, GPUs per job, span, GPU-hours, tenants, the first jobs.

    FORMAT is one of philly, philly-vc, tiresias, pollux, sia, chronus, crux, openb
    (docs/simulator.md#trace-readers). A bad format or file exits 2 with the reader's
    message.
    """
    fmt, path = source_of(source)
    with bad_input():
        summary = summarize(bootstrap.trace_jobs(fmt, path), first=limit)
    if as_json:
        sys.stdout.write(json.dumps(summary_json(fmt, path, summary), indent=2) + "\n")
    else:
        print_summary(fmt, path, summary)


def source_of(source: str, option: str = "") -> tuple[str, Path]:
    """``(format, path)`` of a ``FORMAT:PATH`` trace argument; exit 2 naming ``option``."""
    fmt, sep, path = source.partition(":")
    formats = bootstrap.trace_formats()
    named = f"{option} " if option else ""
    if not sep or not path:
        err.print(
            f"[red]error[/]: {named}{source!r}: expected FORMAT:PATH, FORMAT one of {', '.join(formats)}",
            highlight=False,
            soft_wrap=True,
        )
        raise typer.Exit(EXIT_BAD_INPUT)
    if fmt not in formats:
        err.print(
            f"[red]error[/]: {named}unknown trace format {fmt!r}; one of {', '.join(formats)}",
            highlight=False,
            soft_wrap=True,
        )
        raise typer.Exit(EXIT_BAD_INPUT)
    return fmt, Path(path)


def summary_json(fmt: str, path: Path, s: TraceSummary) -> dict[str, Any]:
    """The ``--json`` document (docs/cli.md#sim-trace)."""
    return {
        "format": fmt,
        "path": str(path),
        "jobs": s.jobs,
        "jobs_by_gpus": {str(k): v for k, v in s.jobs_by_gpus.items()},
        "shared_gpu_jobs": s.shared_gpu_jobs,
        "first_arrival_s": s.first_arrival_s,
        "last_arrival_s": s.last_arrival_s,
        "span_s": s.span_s,
        "in_arrival_order": s.in_arrival_order,
        "gpu_hours": s.gpu_hours,
        "jobs_without_duration": s.jobs_without_duration,
        "duration_mean_s": s.duration_mean_s,
        "duration_median_s": s.duration_median_s,
        "duration_max_s": s.duration_max_s,
        "tenants": s.tenants,
        "top_tenants": s.top_tenants,
        "jobs_with_deadline": s.jobs_with_deadline,
        "first": [job_json(j) for j in s.first],
    }


def job_json(job: TraceJob) -> dict[str, Any]:
    """The common fields of one job."""
    return {
        "id": job.id,
        "arrival_s": job.arrival_s,
        "gpus": job.gpus,
        "gpu_milli": job.gpu_milli,
        "duration_s": job.duration_s,
        "tenant": job.tenant,
        "deadline_s": job.deadline_s,
    }


def print_summary(fmt: str, path: Path, s: TraceSummary) -> None:
    """The human summary, in 80 columns."""
    width = human_width(out)
    grid = Table.grid(padding=(0, 2))
    grid.add_column(style="dim", no_wrap=True)
    grid.add_column(overflow="fold")  # a long path folds within 80 columns
    grid.add_row("format", f"[bold]{fmt}[/]")
    grid.add_row("file", escape(str(path)))
    order = "in arrival order" if s.in_arrival_order else "not in arrival order: sort before replaying"
    grid.add_row("jobs", f"[bold]{s.jobs:,}[/] ({order})")
    if s.first_arrival_s is not None and s.last_arrival_s is not None:
        span = _duration(s.last_arrival_s - s.first_arrival_s)
        grid.add_row("span", f"{span} (arrivals {s.first_arrival_s:,.0f} s to {s.last_arrival_s:,.0f} s)")
    known = s.jobs - s.jobs_without_duration
    grid.add_row("GPU-hours", f"{s.gpu_hours:,.0f} over the {known:,} jobs with a duration")
    if s.duration_mean_s is not None and s.duration_median_s is not None and s.duration_max_s is not None:
        grid.add_row(
            "duration",
            f"mean {_duration(s.duration_mean_s)}, median {_duration(s.duration_median_s)}, "
            f"max {_duration(s.duration_max_s)}",
        )
    if s.jobs_without_duration:
        grid.add_row("no duration", f"{s.jobs_without_duration:,} jobs")
    grid.add_row("GPUs per job", _sizes(s))
    if s.shared_gpu_jobs:
        grid.add_row("shared GPUs", f"{s.shared_gpu_jobs:,} jobs ask for part of a GPU")
    grid.add_row("tenants", _tenants(s))
    if s.jobs_with_deadline:
        grid.add_row("deadlines", f"{s.jobs_with_deadline:,} jobs")
    out.print(grid, width=width, highlight=False)
    if s.first:
        out.print(_first(s.first), width=width, highlight=False)


def _sizes(s: TraceSummary) -> str:
    by_jobs = sorted(s.jobs_by_gpus.items(), key=lambda kv: (-kv[1], kv[0]))
    shown = by_jobs[:SIZES_SHOWN]
    text = " · ".join(f"{g}: {n:,}" for g, n in shown)
    rest = by_jobs[SIZES_SHOWN:]
    if rest:
        text += f" · {len(rest)} other sizes: {sum(n for _, n in rest):,} (up to {max(g for g, _ in rest)})"
    return text


def _tenants(s: TraceSummary) -> str:
    if not s.tenants:
        return "none in the trace"
    top = " · ".join(f"{t} {n:,}" for t, n in s.top_tenants.items())
    return f"{s.tenants:,}; most jobs: {top}"


def _first(jobs: tuple[TraceJob, ...]) -> Table:
    table = Table(title="first jobs", box=box.SIMPLE_HEAD, pad_edge=False, title_justify="left")
    for name in ("id", "arrival s", "GPUs", "duration s", "tenant", "deadline s"):
        table.add_column(name, justify="left" if name in ("id", "tenant") else "right", overflow="fold")
    for j in jobs:
        gpus = f"{j.gpus}" if j.gpu_milli == 1000 or not j.gpus else f"{j.gpus} x {j.gpu_milli / 1000:g}"
        table.add_row(
            j.id,
            f"{j.arrival_s:,.0f}",
            gpus,
            "-" if j.duration_s is None else f"{j.duration_s:,.0f}",
            j.tenant or "-",
            "-" if j.deadline_s is None else f"{j.deadline_s:,.0f}",
        )
    return table


def _duration(seconds: float) -> str:
    if seconds >= 86_400:
        return f"{seconds / 86_400:,.1f} days"
    if seconds >= 3_600:
        return f"{seconds / 3_600:,.1f} h"
    return f"{seconds:,.0f} s"


def _register_run() -> None:
    from neocloud.cli.sim_run import run

    app.command("run")(run)


_register_run()


def _register_pack() -> None:
    from neocloud.cli.sim_pack import pack

    app.command("pack")(pack)


_register_pack()


def _register_sweep() -> None:
    from neocloud.cli.sim_sweep import sweep

    app.command("sweep")(sweep)


_register_sweep()


def _register_leases() -> None:
    from neocloud.cli.sim_leases import leases

    app.command("leases")(leases)


_register_leases()
