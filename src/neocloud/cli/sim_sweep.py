"""``neocloud sim sweep``: a grid of replays (policies x lease fractions x load factors
x seeds) on local processes or a Ray cluster, as one table and a report.

Scripts depend on the option names and the table's columns
(``neocloud.sim.sweep.COLUMNS``; docs/simulator.md "Sweeps").
"""

from __future__ import annotations

import json
import math
import sys
import time
from collections.abc import Callable
from pathlib import Path
from typing import Annotated, Any

import typer
from rich import box
from rich.markup import escape
from rich.table import Table

from neocloud import bootstrap
from neocloud.cli.common import bad_input, human_width, stdout_console
from neocloud.cli.sim_inputs import (
    check_run_options,
    cluster_fleet,
    count_bar,
    fail,
    replay_jobs,
    trace_source,
    window,
    writable,
)
from neocloud.cli.sim_pack import _seeds
from neocloud.cli.sim_run import (
    ClusterOpt,
    EstimateOpt,
    FailuresOpt,
    PlacementOpt,
    RepairOpt,
    ReportOpt,
    RestartOpt,
    TraceOpt,
    WindowOpt,
    _t,
)
from neocloud.cli.study_save import saver
from neocloud.domain.studies import StudyKind
from neocloud.services.study_documents import sweep_document
from neocloud.sim.sweep import COLUMNS, MAX_POINTS, Row

out = stdout_console()

PoliciesOpt = Annotated[
    str,
    typer.Option("--policies", metavar="P1,P2", help="Any of fifo, backfill, sjf, las, fairshare, priority."),
]
SeedsOpt = Annotated[
    str, typer.Option("--seeds", metavar="SEEDS", help="N, FIRST-LAST or a comma list (seed failures, estimates).")
]
LoadsOpt = Annotated[
    str, typer.Option("--loads", metavar="L1,L2", help="Load factors: arrivals come L times as fast (1: the trace).")
]
FractionsOpt = Annotated[
    str,
    typer.Option(
        "--lease-fractions", metavar="F1,F2", help="Shares of the nodes leased away for the whole run, 0 to below 1."
    ),
]
WorkersOpt = Annotated[
    int | None,
    typer.Option("--workers", min=1, help="Local processes (default: the CPU count); with --ray, tasks in flight."),
]
RayOpt = Annotated[
    str | None,
    typer.Option(
        "--ray",
        metavar="ADDRESS",
        help="Run the points as Ray tasks: local (a Ray instance here), auto, ray://HOST:PORT or HOST:PORT.",
    ),
]
OutOpt = Annotated[
    Path, typer.Option("--out", metavar="OUT.csv", help="The table: CSV, or Parquet when it ends in .parquet.")
]
JsonFlag = Annotated[bool, typer.Option("--json", help="Print the rows as JSON instead of the summary.")]
SaveOpt = Annotated[
    str | None, typer.Option("--save", metavar="NAME", help="Also store the sweep in the database as NAME.")
]


def sweep(
    trace: TraceOpt,
    cluster: ClusterOpt,
    out_path: OutOpt,
    policies: PoliciesOpt = "fifo",
    seeds: SeedsOpt = "0",
    loads: LoadsOpt = "1",
    lease_fractions: FractionsOpt = "0",
    placement: PlacementOpt = "count",
    window_text: WindowOpt = None,
    restart_s: RestartOpt = 600.0,
    estimate_error: EstimateOpt = 0.0,
    failures: FailuresOpt = False,
    repair_hours: RepairOpt = 24.0,
    workers: WorkersOpt = None,
    ray: RayOpt = None,
    report: ReportOpt = None,
    as_json: JsonFlag = False,
    save: SaveOpt = None,
) -> None:
    """Replay a trace over policies x lease fractions x load factors x seeds.

    Each point is a `sim run` (the same scheduler, placement and driver),
    on local processes, or as Ray tasks with --ray. Writes a row per point
    to --out and, with --report, a page of mean JCT against the load
    factor; prints the means over the seeds (docs/simulator.md "Sweeps").
    """
    save_sweep = saver(save, StudyKind.SWEEP, locals())  # first: the options as given
    from neocloud.sim.sweep import Grid

    policy_list = _policies(policies)
    seed_list = tuple(_seeds(seeds))
    load_list = _numbers("--loads", loads, "a load factor above 0", lambda x: 0 < x < math.inf)
    fraction_list = _numbers("--lease-fractions", lease_fractions, "a fraction from 0 to below 1", lambda x: 0 <= x < 1)
    _options(placement, restart_s, estimate_error, repair_hours, out_path, report)
    points = len(policy_list) * len(seed_list) * len(load_list) * len(fraction_list)
    if points > MAX_POINTS:
        fail(f"--policies x --seeds x --loads x --lease-fractions: {points:,} points, more than {MAX_POINTS:,}")
    if ray is not None:
        from neocloud.cli.sweep_executors import ray_ready

        ray_ready(ray)
    span = window(window_text)
    fmt, path = trace_source(trace)
    trace_abs, cluster_abs = f"{fmt}:{path.resolve()}", _absolute_cluster(cluster)
    with bad_input():
        fleet = cluster_fleet(cluster)
    jobs = replay_jobs("--trace", trace, fmt, path)
    if span is not None and span.first >= len(jobs):
        fail(f"--window {window_text}: the trace has no job in it ({len(jobs):,} jobs)")
    grid = Grid(
        policies=policy_list,
        seeds=seed_list,
        loads=load_list,
        lease_fractions=fraction_list,
        trace=trace_abs,
        cluster=cluster_abs,
        placement=placement,
        window=span,
        restart_s=restart_s,
        estimate_error=estimate_error,
        failures=failures,
        repair_s=repair_hours * 3600,
    )
    rows, wall, executor = _execute(grid, fleet, jobs, workers, ray)
    about = {
        "trace": trace,
        "cluster": cluster,
        "placement": placement,
        "window": window_text,
        "executor": executor,
        "wall_s": round(wall, 3),
    }
    save_sweep(sweep_document(rows, about), len(rows))
    _write(out_path, report, rows, about)
    if as_json:
        document = {**about, "out": str(out_path), "points": len(rows), "rows": [r.as_dict() for r in rows]}
        sys.stdout.write(json.dumps(document, indent=2) + "\n")
    else:
        _print(rows, about, out_path, seeded=failures or estimate_error > 0)


def _policies(text: str) -> tuple[str, ...]:
    from neocloud.scheduling.policies import POLICIES

    names = tuple(part.strip() for part in text.split(","))
    for name in names:
        if name not in POLICIES:
            fail(f"--policies {text!r}: {name!r} is not one of {', '.join(POLICIES)}")
    if len(set(names)) != len(names):
        fail(f"--policies {text!r}: a policy is named twice")
    return names


def _numbers(option: str, text: str, what: str, ok: Callable[[float], bool]) -> tuple[float, ...]:
    """A comma list of numbers, each ``ok``; exit 2 naming ``option`` and the bad one."""
    values: list[float] = []
    for part in text.split(","):
        try:
            value = float(part.strip())
        except ValueError:
            value = math.nan
        if not ok(value):
            fail(f"{option} {text!r}: {part.strip()!r} is not {what}")
        if value in values:
            fail(f"{option} {text!r}: {value:g} is named twice")
        values.append(value)
    return tuple(values)


def _options(
    placement: str, restart_s: float, estimate_error: float, repair_hours: float, out_path: Path, report: Path | None
) -> None:
    """The single-valued options and the outputs; exit 2 naming the first bad one."""
    check_run_options(
        placement=placement, restart_s=restart_s, repair_hours=repair_hours, estimate_error=estimate_error
    )
    writable("--out", out_path)
    if out_path.suffix.lower() == ".parquet" and not bootstrap.parquet_ready():
        fail(escape(f"--out {out_path}: Parquet needs pyarrow (pip install 'neocloud[parquet]'); or name a .csv"))
    if report is not None:
        writable("--report", report)
        if report.resolve() == out_path.resolve():
            fail(f"--report {report}: is the --out table too")


def _absolute_cluster(text: str) -> str:
    """``--cluster`` with its path made absolute, for workers started elsewhere."""
    if text.startswith("gpus:"):
        return text
    fmt, sep, rest = text.partition(":")
    if sep and fmt in bootstrap.importers():
        return f"{fmt}:{Path(rest).resolve()}"
    return str(Path(text).resolve())


def _execute(grid: Any, fleet: Any, jobs: Any, workers: int | None, ray: str | None) -> tuple[list[Row], float, str]:
    """Run every point; the rows in grid order, the wall time and where they ran."""
    from neocloud.cli import sweep_executors as ex
    from neocloud.placement.snapshot import build_snapshot

    points = grid.points()
    started = time.perf_counter()
    with count_bar("sweeping", "points", len(points)) as tick:
        rows, executor = ex.execute(
            points,
            ex.point_row,
            workers=workers,
            ray=ray,
            done=tick,
            here=lambda: ex.keep_inputs(grid.trace, grid.cluster, jobs, build_snapshot(fleet)),
        )
    return rows, time.perf_counter() - started, executor


def _write(out_path: Path, report: Path | None, rows: list[Row], about: dict[str, Any]) -> None:
    """The table and the report, both or neither: the report is staged beside itself,
    the table written (itself staged and renamed), then the report renamed."""
    staged: Path | None = None
    with bad_input():
        try:
            if report is not None:
                from neocloud.cli.sim_sweep_report import report_html

                staged = report.with_name(f".{report.name}.partial")
                staged.write_text(report_html(rows, about))
            bootstrap.write_result_table(out_path, COLUMNS, [r.as_dict() for r in rows])
            if staged is not None and report is not None:
                staged.replace(report)
                staged = None
        finally:
            if staged is not None:
                staged.unlink(missing_ok=True)


def _print(rows: list[Row], about: dict[str, Any], out_path: Path, *, seeded: bool) -> None:
    from neocloud.sim.sweep import mean_over_seeds

    width = human_width(out)
    out.print(f"[bold]{len(rows):,} points[/] on {about['executor']}", width=width, highlight=False)
    grid = Table.grid(padding=(0, 2))
    grid.add_column(style="dim", no_wrap=True)
    grid.add_column(overflow="fold")
    grid.add_row("trace", about["trace"])
    grid.add_row("cluster", f"{about['cluster']}: {rows[0].gpus:,} GPUs on {rows[0].nodes:,} nodes")
    grid.add_row("table", f"{out_path} ({len(COLUMNS)} columns)")
    grid.add_row("wall", f"{about['wall_s']:.2f} s, {sum(r.wall_s for r in rows):.2f} s of replays")
    out.print(grid, width=width, highlight=False)
    table = Table(title="mean over the seeds", title_justify="left", box=box.SIMPLE_HEAD, pad_edge=False)
    for name in ("policy", "lease", "load", "seeds", "finished", "JCT mean", "wait mean", "delay mean", "util."):
        table.add_column(name, justify="left" if name == "policy" else "right", no_wrap=True)
    for s in mean_over_seeds(rows):
        table.add_row(
            s.policy,
            f"{s.lease_fraction:g}",
            f"{s.load:g}",
            str(s.seeds),
            f"{s.finished:,.0f}/{s.jobs:,.0f}",
            _t(s.jct_mean_s),
            _t(s.queue_mean_s),
            _t(s.delay_mean_s),
            f"{s.utilization_mean:.1%}",
        )
    out.print(table, width=width, highlight=False)
    if len({r.seed for r in rows}) > 1 and not seeded:
        out.print(
            "note: without --failures or --estimate-error the seeds replay the same run",
            width=width,
            highlight=False,
        )
