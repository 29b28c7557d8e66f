"""``neocloud plan keep-vs-lease``: what to keep and what to lease (docs/keep-vs-lease.md).

For each fraction of the candidate capacity leased: the internal workload replayed on
what stays (the simulator), and what is leased priced and costed as a deal (the cost
model, the deal analysis): internal JCT, wait, delay and utilization against lease
revenue, margin, NPV, concentration and revenue at risk, with a recommendation.
"""

from __future__ import annotations

import json
import math
from dataclasses import dataclass
from decimal import Decimal
from pathlib import Path
from typing import Annotated, Any

import typer
from rich import box
from rich.table import Table

from neocloud import bootstrap
from neocloud.cli.common import bad_input, err, human_width, parse_time, stdout_console
from neocloud.cli.plan_deal import SEEDS as DEAL_SEEDS
from neocloud.cli.plan_deal import _amount, _fail, _fractions, _rate, _working
from neocloud.cli.plan_keep_selling import (
    demand_lines,
    demand_terms,
    option_json,
    price_book,
    selling_json,
    tier_of,
    way_of_selling,
)
from neocloud.cli.sim_inputs import arrival_ordered, count_bar, replay_jobs, trace_source, window, writable, write_all
from neocloud.cli.study_save import saver
from neocloud.domain.clock import to_s
from neocloud.domain.fleet import Fleet
from neocloud.domain.money import Money
from neocloud.domain.studies import StudyKind
from neocloud.economics.months import HOURS_PER_MONTH
from neocloud.services.study_documents import sold_text

out = stdout_console()
#: The GPUs of each trace's own cluster, for scaling its jobs to a fleet: Philly's
#: inventory has 2,490 GPUs on 552 machines (../shared/traces/README.md).
TRACE_CLUSTER_GPUS = {"philly": 2490, "tiresias": 2490}


@dataclass(frozen=True, slots=True)
class KeepSeed:
    """The worked example: every option it sets (explicit options win)."""

    fleet: str
    internal: str
    candidates: str
    fractions: str
    tenant: str
    monthly_fee: str
    start: str
    end: str
    ramp: str
    notice_days: int
    initial_months: int
    note: str


#: The seed case (docs/keep-vs-lease.md): an operator with two campuses, Colossus 1 and
#: Colossus 2, its internal training on both; Colossus 1 leased whole at the seed deal's
#: terms (plan deal --seed colossus-1: $1.25B a month through May 2029 [R50]), against
#: keeping it and against leasing half of it (whole pods).
_DEAL = DEAL_SEEDS["colossus-1"]  # one statement of the seed deal's terms
SEEDS = {
    "colossus": KeepSeed(
        fleet="preset:colossus-1+colossus-2",
        internal="philly:../shared/traces/microsoft-philly-2017/derived_rfold_philly_trace.csv.gz",
        candidates="pods:colossus-1",
        fractions="0,0.5,1",
        tenant=_DEAL.tenant,
        monthly_fee=_DEAL.monthly_fee,
        start=_DEAL.start,
        end=_DEAL.end,
        ramp=_DEAL.ramp,
        notice_days=_DEAL.notice_days,
        initial_months=_DEAL.initial_months,
        note="the seed deal's terms [R50] for the whole of Colossus 1, pro rata for a part",
    )
}


def keep_vs_lease(
    seed: Annotated[str | None, typer.Option("--seed", help=f"A worked example: {', '.join(SEEDS)}.")] = None,
    fleet: Annotated[
        str | None, typer.Option("--fleet", help="A fleet file, or preset:NAME[+NAME] (preset:colossus-1+colossus-2).")
    ] = None,
    internal: Annotated[
        str | None, typer.Option("--internal", metavar="FORMAT:PATH", help="The internal workload: a job trace.")
    ] = None,
    candidates: Annotated[
        str | None,
        typer.Option("--candidates", metavar="LEVEL[:SITE,...]", help="What may be leased: sites, pods or blocks."),
    ] = None,
    fractions: Annotated[str | None, typer.Option("--fractions", help="Shares of the candidates to lease.")] = None,
    tenant: Annotated[str | None, typer.Option("--tenant", help="Who leases.")] = None,
    price: Annotated[str | None, typer.Option("--price-per-gpu-hour", help="The lease's price.")] = None,
    monthly_fee: Annotated[
        str | None, typer.Option("--monthly-fee", help="Instead: the fee for all candidates, pro rata for a part.")
    ] = None,
    start: Annotated[str | None, typer.Option("--start", help="The lease's start (YYYY-MM-DD or ISO, UTC).")] = None,
    end: Annotated[str | None, typer.Option("--end", help="Its end, exclusive.")] = None,
    ramp: Annotated[str | None, typer.Option("--ramp", help="Fee fractions of the first months: 0.5,0.5.")] = None,
    notice_days: Annotated[int | None, typer.Option("--notice-days", help="Notice to end early.")] = None,
    initial_months: Annotated[int | None, typer.Option("--initial-months", help="Months before notice.")] = None,
    wacc: Annotated[str | None, typer.Option("--wacc", help="Annual WACC, 0.10 or 10% (default: cost model).")] = None,
    policy: Annotated[str, typer.Option("--policy", help="The internal queue's policy.")] = "las",
    placement: Annotated[str, typer.Option("--placement", help="count, firstfit, bestfit, consolidated.")] = "count",
    scale: Annotated[
        float | None, typer.Option("--internal-scale", help="GPUs per job x this (default: fleet / trace cluster).")
    ] = None,
    load: Annotated[float, typer.Option("--internal-load", help="Arrivals compressed by this factor.")] = 1.0,
    window_text: Annotated[
        str | None, typer.Option("--window", metavar="FIRST:LAST", help="Only these jobs of the trace.")
    ] = None,
    max_delay_hours: Annotated[
        float,
        typer.Option("--max-delay-hours", help="The recommendation's bound on the internal mean delay (JCT - run)."),
    ] = 4.0,
    workers: Annotated[
        int | None,
        typer.Option("--workers", min=1, help="Local processes (default: the CPU count); with --ray, tasks in flight."),
    ] = None,
    ray: Annotated[
        str | None,
        typer.Option("--ray", metavar="ADDRESS", help="Replay the fractions as Ray tasks: local, auto or an address."),
    ] = None,
    as_json: Annotated[bool, typer.Option("--json", help="Print the study as JSON.")] = False,
    report: Annotated[Path | None, typer.Option("--report", metavar="OUT.html", help="Write an HTML page.")] = None,
    tier: Annotated[
        str | None, typer.Option("--tier", help="Instead: the price book's card per GPU model (wholesale, reserved).")
    ] = None,
    demand: Annotated[
        str | None,
        typer.Option(
            "--demand",
            metavar="csv:PATH | model:KEY=VAL,...",
            help="Instead: offer what is leased to these lease requests (as sim leases).",
        ),
    ] = None,
    demand_days: Annotated[
        float | None, typer.Option("--demand-days", help="Days of requests (default: 365, a CSV's last arrival).")
    ] = None,
    demand_seed: Annotated[int, typer.Option("--demand-seed", min=0, help="Seeds the demand model.")] = 0,
    prices: Annotated[
        Path | None, typer.Option("--prices", metavar="CARDS.yaml", help="A rate-card file (default: the seeded book).")
    ] = None,
    save: Annotated[
        str | None, typer.Option("--save", metavar="NAME", help="Also store the study in the database as NAME.")
    ] = None,
) -> None:
    """Keep or lease: for each fraction of the candidates leased, the internal work on
    what stays against the lease's revenue, margin, NPV and risk, and a recommendation."""
    save_study = saver(save, StudyKind.KEEP_VS_LEASE, locals())  # first: the options as given
    from neocloud.placement.jobs import JobPlacement
    from neocloud.placement.snapshot import build_snapshot
    from neocloud.services.keep_vs_lease import LeaseTerms, study
    from neocloud.sim.keep_vs_lease import CandidateLevel, candidate_units

    s = SEEDS.get(seed) if seed else None
    if seed and s is None:
        _fail(f"--seed {seed!r}: unknown; available: {', '.join(SEEDS)}")
    pick = _picker(s)
    _check(placement, load, max_delay_hours, report, ray)
    fmt, path = trace_source(pick("--internal", internal, "internal"))
    level_text, _, sites_text = pick("--candidates", candidates, "candidates").partition(":")
    try:
        level = CandidateLevel(level_text)
    except ValueError:
        _fail(f"--candidates {level_text!r}: one of {', '.join(c.value for c in CandidateLevel)}")
    shares = _shares(pick("--fractions", fractions, "fractions"))
    span = window(window_text)
    fleet_text = _absolute_fleet(pick("--fleet", fleet, "fleet"))
    with bad_input(), _working("building the fleet"):
        the_fleet = _fleet(fleet_text)
        snap = build_snapshot(the_fleet)
    try:
        units = candidate_units(snap, level, tuple(x for x in sites_text.split(",") if x))
    except ValueError as exc:
        _fail(f"--candidates {exc}")
    job_scale = _job_scale(scale, fmt, snap.total_gpus)
    fee_text = monthly_fee or (s.monthly_fee if s and price is None and tier is None and demand is None else None)
    given = {"--tenant": tenant, "--start": start, "--end": end, "--ramp": ramp, "--notice-days": notice_days}
    way = way_of_selling(
        price=price, fee=fee_text, tier=tier, demand=demand, given=given | {"--initial-months": initial_months}
    )
    rate = None if wacc is None else _rate("--wacc", wacc)
    chosen_tier = None if tier is None else tier_of(tier)
    book, book_name = price_book(prices) if way in ("tier", "demand") else (None, "")
    about: dict[str, Any] = {}
    if way == "demand":
        with bad_input(), _working("reading the lease requests"):
            terms, about = demand_terms(
                demand or "", the_fleet, snap, units, book=book, days=demand_days, seed=demand_seed, wacc=rate
            )
    else:
        terms = LeaseTerms(
            tenant=pick("--tenant", tenant, "tenant"),
            start_s=to_s(parse_time("--start", pick("--start", start, "start"))),
            end_s=to_s(parse_time("--end", pick("--end", end, "end"))),
            price_per_gpu_hour=_amount("--price-per-gpu-hour", price),
            monthly_fee=_amount("--monthly-fee", fee_text),
            ramp=_fractions("--ramp", ramp if ramp is not None else (s.ramp if s and way != "tier" else "")),
            notice_days=notice_days if notice_days is not None else (s.notice_days if s else None),
            initial_months=initial_months if initial_months is not None else (s.initial_months if s else 0),
            wacc=rate,
            tier=chosen_tier,
            book=book,
        )
    shown = terms.price_per_gpu_hour or _per_hour(terms.monthly_fee, sum(u.gpus for u in units))
    trace_text = f"{fmt}:{path.resolve()}"
    jobs = replay_jobs("--internal", f"{fmt}:{path}", fmt, path)  # workers read it again
    with bad_input(), count_bar("replaying", "fractions", len(shares)) as tick:
        result = study(
            the_fleet,
            snap,
            lambda: jobs,
            units=units,
            fractions=shares,
            terms=terms,
            costs=bootstrap.deal_costs(),
            policy=policy,
            placement=JobPlacement(placement),
            scale=job_scale,
            load=load,
            window=span,
            max_delay_s=max_delay_hours * 3600,
            progress=tick,
            replays=_replays(fleet_text, trace_text, snap, jobs, workers, ray),
        )
    doc = study_json(result, scale=job_scale, load=load, price=shown, way=way)
    models = {snap.models[int(snap.node_model[n])] for u in units for n in u.nodes}
    doc |= selling_json(terms, way=way, prices=book_name, demand=demand, about=about, models=models)
    doc = save_study(doc, len(shares))
    _emit(doc, report, as_json, s.note if s and way in ("price", "monthly_fee") else "")  # the seed's price


def _emit(doc: dict[str, Any], report: Path | None, as_json: bool, note: str) -> None:
    if report is not None:
        from neocloud.cli.plan_keep_report import report_html

        with bad_input():
            write_all([(report, report_html(doc))])
    if as_json:
        print(json.dumps(doc, indent=2))
    else:
        _print(doc, note)


@dataclass(frozen=True, slots=True)
class FractionTask:
    """One fraction's replay for a worker: the fleet and the trace as the command
    names them (paths absolute), and the replay."""

    fleet: str
    trace: str
    replay: Any  # sim.keep_vs_lease.Replay


_inputs: dict[tuple[str, str], tuple[Any, tuple[Any, ...]]] = {}


def fraction_kept(task: FractionTask) -> Any:
    """Replay ``task`` here (what a worker process or Ray task runs): the fleet's
    snapshot and the trace are read once per process and kept for its next tasks."""
    from neocloud.placement.snapshot import build_snapshot
    from neocloud.sim.keep_vs_lease import run_replay

    key = (task.fleet, task.trace)
    if key not in _inputs:
        fmt, path = trace_source(task.trace)
        _inputs[key] = (build_snapshot(_fleet(task.fleet)), tuple(arrival_ordered(fmt, path)))
    snap, jobs = _inputs[key]
    return run_replay(task.replay, snap, jobs)


def _replays(fleet: str, trace: str, snap: Any, jobs: tuple[Any, ...], workers: int | None, ray: str | None) -> Any:
    """The study's replays mapped over local processes or Ray tasks (``--workers``,
    ``--ray``); in this process, on the snapshot and jobs already read, when that is
    one (and not kept after: this process may run another command)."""
    from neocloud.cli import sweep_executors as ex

    def run(plan: Any, done: Any) -> list[Any]:
        tasks = [FractionTask(fleet, trace, r) for r in plan]

        def here() -> None:
            _inputs[(fleet, trace)] = (snap, jobs)

        try:
            kept, _ = ex.execute(tasks, fraction_kept, workers=workers, ray=ray, done=done, here=here)
        finally:
            _inputs.pop((fleet, trace), None)
        return kept

    return run


def _absolute_fleet(text: str) -> str:
    """``--fleet`` with a file's path made absolute, for workers started elsewhere."""
    kind, sep, _ = text.partition(":")
    return text if sep and kind == "preset" else str(Path(text).resolve())


def _job_scale(scale: float | None, fmt: str, fleet_gpus: int) -> float:
    """``--internal-scale``, or the fleet's GPUs over the trace's own cluster's."""
    cluster_gpus = TRACE_CLUSTER_GPUS.get(fmt)
    if scale is None and cluster_gpus is None:
        _fail(f"--internal-scale: required for a {fmt} trace (its own cluster's size is not known)")
    job_scale = scale if scale is not None else fleet_gpus / (cluster_gpus or 1)
    if not 0 < job_scale < math.inf:
        _fail(f"--internal-scale {job_scale}: expected a number above 0")
    return job_scale


def _check(placement: str, load: float, max_delay_hours: float, report: Path | None, ray: str | None) -> None:
    from neocloud.placement.jobs import JobPlacement

    if placement not in {p.value for p in JobPlacement}:
        _fail(f"--placement {placement!r}: one of {', '.join(p.value for p in JobPlacement)}")
    if not 0 < load < math.inf:
        _fail(f"--internal-load {load}: expected a number above 0")
    if not 0 < max_delay_hours < math.inf:
        _fail(f"--max-delay-hours {max_delay_hours}: expected a number of hours above 0")
    if report is not None:
        writable("--report", report)
    if ray is not None:
        from neocloud.cli.sweep_executors import ray_ready

        ray_ready(ray)


def _picker(s: KeepSeed | None) -> Any:
    def pick(option: str, given: str | None, field: str) -> str:
        value = given if given is not None else (getattr(s, field) if s else None)
        if value is None:
            _fail(f"{option}: required (or give --seed)")
        return str(value)

    return pick


def _shares(text: str) -> list[float]:
    try:
        values = [float(x) for x in text.split(",") if x.strip()]
    except ValueError:
        values = []
    if not values or any(not 0 <= v <= 1 for v in values) or len(set(values)) != len(values):
        _fail(f"--fractions {text!r}: expected distinct shares from 0 to 1, like 0,0.25,0.5,0.75,1")
    return values


def _fleet(text: str) -> Fleet:
    from neocloud.domain.presets import presets
    from neocloud.domain.spec import build_fleet

    kind, sep, rest = text.partition(":")
    if sep and kind == "preset":
        return build_fleet(presets(rest.split("+")), file="--fleet")
    return bootstrap.fleet_files().load_fleet(Path(text))


def _per_hour(fee: Money | None, candidate_gpus: int) -> Money | None:
    """A monthly fee for all the candidates as a price per GPU-hour (the average month)."""
    if fee is None:
        return None
    return Money((fee.amount / (candidate_gpus * HOURS_PER_MONTH)).quantize(Decimal("0.0001")), fee.currency)


def study_json(result: Any, *, scale: float, load: float, price: Money | None, way: str = "price") -> dict[str, Any]:
    """The study as ``--json`` prints it (services/study_documents.py, which the server's
    stored studies use too), each fraction's lease with what its way of selling adds."""
    from neocloud.services.study_documents import keep_vs_lease_document

    return keep_vs_lease_document(result, scale=scale, load=load, price=price, extras=lambda o: option_json(o, way))


def _money(text: str) -> str:
    value = float(text)
    for div, suffix in ((1e9, "B"), (1e6, "M"), (1e3, "K")):
        if abs(value) >= div:
            return f"{value / div:,.2f}{suffix}"
    return f"{value:,.0f}"


def _hours(seconds: float) -> str:
    return "-" if math.isnan(seconds) else f"{seconds / 3600:,.2f}"


def _print(doc: dict[str, Any], note: str) -> None:
    cur = doc["currency"]
    out.print(
        f"[bold]keep or lease[/]: {sold_text(doc)}; internal jobs x"
        f"{doc['internal_scale']:,.1f} GPUs, load x{doc['internal_load']:g}",
        highlight=False,
        width=human_width(out),
    )
    if note:
        out.print(f"seed: {note}", highlight=False, width=human_width(out))
    table = Table(box=box.SIMPLE_HEAD, show_edge=False, pad_edge=False, padding=(0, 0, 0, 1))  # 9 columns in 80
    heads = ("leased", "kept", "JCT h", "wait h", "delay h", "revenue", "NPV", "margin", "at risk")
    for h in heads:
        table.add_column(h, justify="left" if h == "leased" else "right", no_wrap=True)
    for o in doc["options"]:
        i, lease = o["internal"], o["lease"]
        table.add_row(
            f"{o['fraction']:.0%}",
            f"{o['kept_gpus']:,}",
            _hours(i["jct_mean_s"]),
            _hours(i["queue_mean_s"]),
            _hours(i["delay_mean_s"]) + ("*" if i["unfinished"] else ""),
            _money(lease["total_revenue"]),
            _money(lease["npv"]),
            f"{lease['gross_margin']:.0%}" if o["fraction"] else "-",
            _money(lease["revenue_at_risk"]),
        )
    out.print(table)
    unfinished = [o for o in doc["options"] if o["internal"]["unfinished"]]
    for o in unfinished:
        out.print(
            f"* {o['fraction']:.0%} leased: {o['internal']['unfinished']:,} internal jobs never ran", highlight=False
        )
    for line in demand_lines(doc):
        out.print(line, highlight=False, width=human_width(out), markup=False)
    out.print(f"[bold]recommendation[/]: {doc['recommendation']}", highlight=False, width=human_width(out))
    err.print("money in " + cur + "; --json for every figure", highlight=False)
