"""``neocloud queue``: internal pools' live job queues (docs/queue.md).

An internal pool gets capacity from the ledger (``queue assign``: nodes booked to the
pool over a window), a queue with a policy (``queue create``), workloads
(``queue submit``), cycles that admit them with the simulator's scheduler
(``queue cycle``), and reports of the ones that finished (``queue finish``) or were
withdrawn (``queue cancel``).
neocloud decides who runs where and when; it launches nothing.
"""

from __future__ import annotations

import json
from collections.abc import Callable
from dataclasses import asdict
from datetime import UTC, datetime
from typing import Annotated, Any

import typer
from rich import box
from rich.table import Table

from neocloud import bootstrap
from neocloud.cli.common import actor_name, bad_input, db_url, human_width, parse_time, stdout_console
from neocloud.cli.ledger import ActorOpt, DbOpt, JsonOpt
from neocloud.domain.clock import to_s
from neocloud.domain.queue import Entry, TeamQuota
from neocloud.domain.shape import Locality, Shape
from neocloud.services.queue import QueueService, QueueView, WorkloadView

out = stdout_console()
app = typer.Typer(help="Internal pools' job queues: the simulator's scheduler, live.", no_args_is_help=True)


def _service(db: str | None) -> QueueService:
    return bootstrap.queue_service(db_url(db))


def _when(t_s: float | None) -> str:
    return "-" if t_s is None else datetime.fromtimestamp(t_s, UTC).strftime("%Y-%m-%d %H:%M:%S")


def _emit(data: Any, as_json: bool, human: Callable[[], None]) -> None:
    if as_json:
        print(json.dumps(data, indent=2, default=str))
    else:
        human()


@app.command("create")
def create(
    pool: str,
    policy: Annotated[str, typer.Option(help="fifo, backfill, sjf, las, fairshare or priority.")] = "fifo",
    placement: Annotated[str, typer.Option(help="count, firstfit, bestfit or consolidated.")] = "firstfit",
    restart_s: Annotated[float, typer.Option("--restart-s", help="Run time a preemption costs (s).")] = 600.0,
    quota: Annotated[
        list[str] | None,
        typer.Option("--quota", metavar="TEAM=GPUS[,borrow=N][,lend=N][,weight=W]", help="fairshare: per team."),
    ] = None,
    db: DbOpt = None,
    actor: ActorOpt = None,
    as_json: JsonOpt = False,
) -> None:
    """A queue for internal pool POOL (its capacity: what the ledger books to the pool)."""
    from neocloud.cli.sim_inputs import quotas as parse_quotas

    quotas = tuple(
        TeamQuota(team, q.nominal, q.borrowing_limit, q.lending_limit, q.weight)
        for team, q in parse_quotas(quota or [], policy).items()
    )
    with bad_input():
        made = _service(db).create_pool(
            pool, policy=policy, placement=placement, restart_s=restart_s, quotas=quotas, actor=actor_name(actor)
        )
    _emit(asdict(made), as_json, lambda: out.print(f"queue {made.name}: {made.policy}, {made.placement} placement"))


@app.command("assign")
def assign(
    pool: str,
    gpus: Annotated[int, typer.Option(min=1, help="GPUs to book to the pool.")],
    end: Annotated[str, typer.Option(help="YYYY-MM-DD or ISO date-time (UTC).")],
    start: Annotated[str | None, typer.Option(help="YYYY-MM-DD or ISO date-time (UTC); default: now.")] = None,
    model: Annotated[list[str] | None, typer.Option(help="GPU model (repeat for any of several).")] = None,
    locality: Annotated[Locality, typer.Option(help="How close the nodes must be.")] = Locality.ANYWHERE,
    db: DbOpt = None,
    actor: ActorOpt = None,
) -> None:
    """Book capacity to internal pool POOL over [START, END): the queue's capacity."""
    begin = None if start is None else to_s(parse_time("--start", start))
    finish_ = to_s(parse_time("--end", end))
    with bad_input():
        svc = _service(db)
        shape = Shape(tuple(model or ()) or _all_models(svc), gpus=gpus, locality=locality)
        change = svc.leasing.assign_pool(pool, shape, begin, finish_, actor=actor_name(actor))
    booked = change.book
    first = min(d.start_s for d in booked) if booked else begin
    out.print(f"pool {pool}: {len(booked)} nodes booked, {_when(first)} to {_when(finish_)} UTC", highlight=False)


def _all_models(svc: QueueService) -> tuple[str, ...]:
    return tuple(sorted({n.gpu_model for n in svc.leasing.fleet().nodes}))


@app.command("submit")
def submit(
    pool: str,
    name: Annotated[str, typer.Option(help="The workload's name, unique in the pool.")],
    team: Annotated[str, typer.Option(help="The internal team it belongs to.")],
    gpus: Annotated[int, typer.Option(help="GPUs it needs.")],
    hours: Annotated[float, typer.Option(help="Estimated run time in hours.")],
    priority: Annotated[int, typer.Option(help="priority policy: higher first.")] = 0,
    db: DbOpt = None,
    as_json: JsonOpt = False,
) -> None:
    """Queue a workload; the next cycle decides whether it starts."""
    with bad_input():
        view = _service(db).submit(pool, name=name, team=team, gpus=gpus, estimate_s=hours * 3600, priority=priority)
    _emit(asdict(view), as_json, lambda: out.print(f"workload {view.number} ({view.name}) queued in {pool}"))


@app.command("finish")
def finish(pool: str, number: int, db: DbOpt = None, as_json: JsonOpt = False) -> None:
    """Workload NUMBER finished: its GPUs are free for the next cycle."""
    with bad_input():
        view = _service(db).finish(pool, number)
    _emit(asdict(view), as_json, lambda: out.print(f"workload {view.number} ({view.name}) finished"))


@app.command("cancel")
def cancel(
    pool: str,
    number: int,
    reason: Annotated[str, typer.Option(help="Why, for the journal.")] = "",
    db: DbOpt = None,
    actor: ActorOpt = None,
    as_json: JsonOpt = False,
) -> None:
    """Withdraw queued or running workload NUMBER: it never runs again; its GPUs are
    free for the next cycle."""
    with bad_input():
        view = _service(db).cancel(pool, number, actor=actor_name(actor), reason=reason)
    _emit(asdict(view), as_json, lambda: out.print(f"workload {view.number} ({view.name}) cancelled"))


@app.command("cycle")
def cycle(pool: str, db: DbOpt = None, as_json: JsonOpt = False) -> None:
    """Run one scheduling cycle now and print what it decided."""
    with bad_input():
        svc = _service(db)
        entries = svc.cycle(pool)
        view = svc.queue(pool)
    origin = view.pool.origin_s

    def human() -> None:
        _print_entries(entries, origin)
        out.print(f"{view.used_gpus:,} of {view.offered_gpus:,} GPUs in use after the cycle", highlight=False)

    _emit([_entry_json(e, origin) for e in entries], as_json, human)


@app.command("list")
def list_pools(db: DbOpt = None, as_json: JsonOpt = False) -> None:
    """Every pool's queue."""
    with bad_input():
        pools = _service(db).pools()
    lines = [f"{p.name}: {p.policy}, {p.placement} placement" for p in pools]
    _emit([asdict(p) for p in pools], as_json, lambda: out.print("\n".join(lines) or "no queues", highlight=False))


@app.command("show")
def show(pool: str, db: DbOpt = None, as_json: JsonOpt = False) -> None:
    """The pool's workloads, capacity and latest decisions."""
    with bad_input():
        view = _service(db).queue(pool)
    _emit(_queue_json(view), as_json, lambda: _print_queue(view))


def _entry_json(e: Entry, origin: int) -> dict[str, Any]:
    return {**asdict(e), "at": datetime.fromtimestamp(origin + e.at_s, UTC).isoformat()}


def _queue_json(view: QueueView) -> dict[str, Any]:
    return {
        "pool": asdict(view.pool),
        "now_s": view.now_s,
        "offered_gpus": view.offered_gpus,
        "used_gpus": view.used_gpus,
        "workloads": [asdict(w) for w in view.workloads],
        "recent": [_entry_json(e, view.pool.origin_s) for e in view.recent],
        "next_cycle_due_s": view.next_cycle_due_s,
    }


def _print_entries(entries: list[Entry], origin: int) -> None:
    shown = [e for e in entries if e.kind.value in ("start", "preempt", "reject", "capacity")]
    if not shown:
        out.print("nothing to decide", highlight=False)
    for e in shown:
        what = f"workload {e.job}" if e.job >= 0 else f"node {e.nodes[0]}"
        if e.kind.value == "capacity":
            detail = f"{e.gpus} GPUs ({e.reason})"
        elif e.kind.value == "start":
            detail = ", ".join(f"{n}:{k}" for n, k in zip(e.nodes, e.counts, strict=True))
            detail += " (resumed)" if e.resume else ""
        else:
            detail = e.reason
        out.print(f"{_when(origin + e.at_s)}  {e.kind.value:<8} {what}: {detail}", highlight=False, soft_wrap=True)


def _print_queue(view: QueueView) -> None:
    pool = view.pool
    queued = sum(w.state == "queued" for w in view.workloads)
    running = sum(w.state == "running" for w in view.workloads)
    out.print(f"[bold]{pool.name}[/]: {pool.policy}, {pool.placement} placement", highlight=False)
    out.print(
        f"{view.used_gpus:,} of {view.offered_gpus:,} GPUs in use; {running} running, {queued} queued", highlight=False
    )
    table = Table(box=box.SIMPLE_HEAD, width=min(human_width(out), 100), pad_edge=False)
    for column, justify in (("#", "right"), ("name", "left"), ("team", "left"), ("GPUs", "right"), ("state", "left")):
        table.add_column(column, justify=justify, overflow="fold")  # type: ignore[arg-type]
    table.add_column("ends (UTC)", no_wrap=True)  # month-day hour:minute: room for the names
    active = [w for w in view.workloads if w.state in ("running", "queued")]
    for w in active:
        ends = (
            "-" if w.expected_end_s is None else datetime.fromtimestamp(w.expected_end_s, UTC).strftime("%m-%d %H:%M")
        )
        table.add_row(str(w.number), w.name, w.team, f"{w.gpus:,}", _state(w), ends)
    if active:
        out.print(table)
    done = len(view.workloads) - len(active)
    if done:
        out.print(f"{done} finished, rejected or cancelled (--json lists them)", highlight=False)


def _state(w: WorkloadView) -> str:
    return f"{w.state} ({w.preemptions} preempted)" if w.preemptions else w.state
