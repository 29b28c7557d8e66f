"""``neocloud sim run``: replay a trace through the scheduler on a cluster.

Scripts depend on the option names and the JSON fields (issue 12 section 6): the JSON
has at least ``jobs``, ``jct_mean_s``, ``jct_p50_s``, ``jct_p99_s``, ``queue_mean_s``,
``makespan_s``, ``utilization_mean``, ``preemptions`` and ``wall_s``.
"""

from __future__ import annotations

import time
from dataclasses import asdict
from pathlib import Path
from typing import Annotated, Any

import typer

from neocloud import bootstrap
from neocloud.cli.common import bad_input, err, human_width, stdout_console
from neocloud.cli.sim_inputs import arrival_ordered as _arrival_ordered
from neocloud.cli.sim_inputs import check_run_options, emit
from neocloud.cli.sim_inputs import cluster_fleet as _cluster
from neocloud.cli.sim_inputs import fail as _fail
from neocloud.cli.sim_inputs import progress as _progress
from neocloud.cli.sim_inputs import quotas as _quotas
from neocloud.cli.sim_inputs import trace_source as _trace_source
from neocloud.cli.sim_inputs import window as _window
from neocloud.cli.sim_inputs import writable as _writable

out = stdout_console()


TraceOpt = Annotated[str, typer.Option("--trace", metavar="FORMAT:PATH", help="The workload: philly:trace.csv.gz.")]
ClusterOpt = Annotated[
    str,
    typer.Option(
        "--cluster",
        metavar="CLUSTER",
        help="A fleet file, an inventory as FORMAT:PATH (philly:cluster_machine_list.csv), or gpus:N[xG].",
    ),
]
PolicyOpt = Annotated[str, typer.Option("--policy", help="fifo, backfill, sjf, las, fairshare or priority.")]
PlacementOpt = Annotated[str, typer.Option("--placement", help="count, firstfit, bestfit or consolidated.")]
WindowOpt = Annotated[
    str | None,
    typer.Option("--window", metavar="FIRST:LAST", help="Only jobs FIRST to LAST (0-based, in arrival order)."),
]
SeedOpt = Annotated[int, typer.Option("--seed", min=0, help="Seeds estimate errors and failures.")]
EstimateOpt = Annotated[
    float, typer.Option("--estimate-error", help="Backfill's estimates off by up to this share (0: oracle).")
]
RestartOpt = Annotated[float, typer.Option("--restart-s", help="Run time a preempted job loses (economics.md 5.3).")]
FailuresOpt = Annotated[
    bool, typer.Option("--failures", help="Inject node failures at 1 per 50,700 GPU-hours (economics.md 5.1).")
]
RepairOpt = Annotated[float, typer.Option("--repair-hours", help="Hours a failed node is down.")]
JsonOpt = Annotated[
    Path | None, typer.Option("--json", metavar="OUT.json", help="Write the results as JSON (- for stdout).")
]
QuotaOpt = Annotated[
    list[str] | None,
    typer.Option(
        "--quota",
        metavar="TENANT=GPUS[,borrow=N][,lend=N][,weight=W]",
        help="A tenant's quota for --policy fairshare, as Kueue names it: nominal GPUs, then the"
        " borrowing and lending limits (unlimited when not given) and the weight (1). Repeat per"
        " tenant; a tenant without one gets a nominal quota of 0. Without any: an even split.",
    ),
]
ReportOpt = Annotated[
    Path | None, typer.Option("--report", metavar="OUT.html", help="Write a self-contained HTML report.")
]


def run(
    trace: TraceOpt,
    cluster: ClusterOpt,
    policy: PolicyOpt = "fifo",
    placement: PlacementOpt = "count",
    window: WindowOpt = None,
    seed: SeedOpt = 0,
    estimate_error: EstimateOpt = 0.0,
    restart_s: RestartOpt = 600.0,
    failures: FailuresOpt = False,
    repair_hours: RepairOpt = 24.0,
    json_out: JsonOpt = None,
    report: ReportOpt = None,
    quota: QuotaOpt = None,
) -> None:
    """Replay a trace through the same scheduler and placement code the live system runs.

    Prints the JCT, queueing, makespan, utilization and per-tenant figures; --json
    writes them for scripts and --report an HTML page with utilization and queue
    length over time, the JCT CDF and the per-tenant table.
    """
    from neocloud.placement.jobs import JobPlacement
    from neocloud.placement.pool import GpuPool
    from neocloud.placement.snapshot import build_snapshot
    from neocloud.scheduling.cluster import Cluster
    from neocloud.scheduling.policies import POLICIES
    from neocloud.scheduling.policies.fairshare import FairShare
    from neocloud.sim.driver import OutOfOrder, simulate
    from neocloud.sim.failures import FailureModel
    from neocloud.sim.metrics import summarize
    from neocloud.sim.workload import Skipped, job_specs

    _check(
        policy=policy,
        placement=placement,
        restart_s=restart_s,
        repair_hours=repair_hours,
        estimate_error=estimate_error,
        json_out=json_out,
        report=report,
    )
    quotas = _quotas(quota or [], policy)
    span = _window(window)
    fmt, path = _trace_source(trace)
    with bad_input():
        fleet = _cluster(cluster)
        total = _count(fmt, path, span) if err.is_terminal else 0
        sim_cluster = Cluster(GpuPool(build_snapshot(fleet)), tenants=(), restart_s=restart_s)
        skipped = Skipped()
        specs = job_specs(
            _arrival_ordered(fmt, path),
            sim_cluster.tenant,
            window=span,
            estimate_error=estimate_error,
            seed=seed,
            skipped=skipped,
        )
        model = FailureModel(repair_s=repair_hours * 3600, seed=seed) if failures else None
        started = time.perf_counter()
        with _progress(total) as tick:
            try:
                chosen = FairShare(quotas) if quotas else POLICIES[policy]()
                result = simulate(sim_cluster, specs, chosen, JobPlacement(placement), failures=model, progress=tick)
            except OutOfOrder as exc:
                _fail(f"--trace {trace}: {exc}")
                raise
        wall = time.perf_counter() - started
    if span is not None and sim_cluster.size == 0 and skipped.total == 0:
        _fail(f"--window {window}: the trace has no job in it")
    summary = summarize(result)
    document = _document(
        result, summary, skipped, wall, trace=trace, cluster=cluster, policy=policy, placement=placement
    )
    document["window"] = window
    document["seed"] = seed
    document["quotas"] = {name: asdict(q) for name, q in quotas.items()}
    _emit(result, document, json_out, report)


def _emit(result: Any, document: dict[str, Any], json_out: Path | None, report: Path | None) -> None:
    def page() -> str:
        from neocloud.cli.sim_report import report_html

        return report_html(result, document)

    emit(document, json_out, report, report_html=page, summary=_print)


def _check(
    *,
    policy: str,
    placement: str,
    restart_s: float,
    repair_hours: float,
    estimate_error: float,
    json_out: Path | None,
    report: Path | None,
) -> None:
    """Exit 2 naming the first bad option, before anything is read or run."""
    from neocloud.scheduling.policies import POLICIES

    if policy not in POLICIES:
        _fail(f"--policy {policy!r}: one of {', '.join(POLICIES)}")
    check_run_options(
        placement=placement, restart_s=restart_s, repair_hours=repair_hours, estimate_error=estimate_error
    )
    for option, target in (("--json", json_out), ("--report", report)):
        if target is not None and str(target) != "-":
            _writable(option, target)


def _count(fmt: str, path: Path, span: Any) -> int:
    """Jobs the replay will submit at most (for the bar): the window, or the whole trace."""
    if span is not None:
        return int(span.last - span.first + 1)
    return sum(1 for _ in bootstrap.trace_jobs(fmt, path))


def _document(result: Any, summary: Any, skipped: Any, wall: float, **given: str) -> dict[str, Any]:
    from neocloud.sim.report import per_tenant

    doc: dict[str, Any] = {**given, **asdict(summary)}
    doc["gpus"] = result.cluster.pool.snap.total_gpus
    doc["nodes"] = len(result.cluster.pool.snap.node_ids)
    doc["skipped"] = {"no_gpus": skipped.no_gpus, "no_duration": skipped.no_duration}
    doc["shared_gpu_jobs_rounded_up"] = skipped.shared_gpu_rounded_up
    doc["rejections"] = sorted(set(result.cluster.rejected.values()))[:10]
    doc["per_tenant"] = [asdict(t) for t in per_tenant(result)]
    doc["wall_s"] = round(wall, 3)
    return doc


def _print(doc: dict[str, Any]) -> None:
    from rich.table import Table

    width = human_width(out)
    out.print(f"[bold]{doc['policy']}[/] with [bold]{doc['placement']}[/] placement", highlight=False)
    grid = Table.grid(padding=(0, 2))
    grid.add_column(style="dim", no_wrap=True)
    grid.add_column(overflow="fold")
    grid.add_row("trace", doc["trace"])
    grid.add_row("cluster", f"{doc['cluster']}: {doc['gpus']:,} GPUs on {doc['nodes']:,} nodes")
    skipped = doc["skipped"]["no_gpus"] + doc["skipped"]["no_duration"]
    jobs = f"{doc['jobs']:,} submitted, {doc['finished']:,} finished, {doc['rejected']:,} rejected"
    grid.add_row("jobs", jobs + (f", {skipped:,} skipped" if skipped else ""))
    grid.add_row("JCT", f"mean {_t(doc['jct_mean_s'])}, p50 {_t(doc['jct_p50_s'])}, p99 {_t(doc['jct_p99_s'])}")
    grid.add_row("wait to start", f"mean {_t(doc['queue_mean_s'])}, p99 {_t(doc['queue_p99_s'])}")
    grid.add_row("delay", f"mean {_t(doc['delay_mean_s'])}, p99 {_t(doc['delay_p99_s'])} (JCT less run time)")
    grid.add_row("makespan", _t(doc["makespan_s"]))
    grid.add_row(
        "utilization",
        f"{doc['utilization_mean']:.1%} of the fleet, {doc['allocation_ratio_mean']:.1%} of what was offered",
    )
    grid.add_row("fragmentation", f"{doc['fragmentation_mean']:.1%} of free GPUs stranded (mean)")
    events = f"{doc['preemptions']:,} preemptions"
    if doc["interruptions"]:
        events += f", {doc['interruptions']:,} by failures"
    grid.add_row("preemptions", events)
    if doc["deadlines"]:
        grid.add_row("deadlines", f"{doc['deadline_misses']:,} of {doc['deadlines']:,} missed")
    grid.add_row("wall", f"{doc['wall_s']:.2f} s for {doc['cycles']:,} cycles")
    out.print(grid, width=width, highlight=False)
    tenants = [t for t in doc["per_tenant"] if t["jobs"]]
    if len(tenants) > 1:
        table = Table(title="per tenant (most GPU-hours first)", title_justify="left", pad_edge=False)
        for name in ("tenant", "jobs", "GPU-h", "JCT mean", "queue mean"):
            table.add_column(name, justify="left" if name == "tenant" else "right", overflow="fold")
        for t in sorted(tenants, key=lambda t: -t["gpu_hours"])[:10]:
            table.add_row(
                t["tenant"][:16], f"{t['jobs']:,}", f"{t['gpu_hours']:,.0f}", _t(t["jct_mean_s"]), _t(t["queue_mean_s"])
            )
        out.print(table, width=width, highlight=False)


def _t(seconds: float) -> str:
    if seconds >= 86_400:
        return f"{seconds / 86_400:,.1f} d"
    if seconds >= 3_600:
        return f"{seconds / 3_600:,.1f} h"
    return f"{seconds:,.0f} s"
