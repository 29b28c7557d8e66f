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
from neocloud.cli.plan_deal import _amount, _fail, _fractions, _rate, _working
from neocloud.cli.sim_inputs import trace_source, window, writable, write_all
from neocloud.cli.study_save import saver
from neocloud.domain.clock import to_s
from neocloud.domain.fleet import Fleet
from neocloud.domain.money import Money
from neocloud.domain.studies import StudyKind

out = stdout_console()
HOURS_PER_MONTH = Decimal("730.5")  # economics.md [D] §1.8: the average month, 8,766 h / 12
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
SEEDS = {
    "colossus": KeepSeed(
        fleet="preset:colossus-1+colossus-2",
        internal="philly:../shared/traces/microsoft-philly-2017/derived_rfold_philly_trace.csv.gz",
        candidates="pods:colossus-1",
        fractions="0,0.5,1",
        tenant="anthropic",
        monthly_fee="1.25B",
        start="2026-05-06",
        end="2029-06-01",
        ramp="0.5,0.5",
        notice_days=90,
        initial_months=3,
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
    as_json: Annotated[bool, typer.Option("--json", help="Print the study as JSON.")] = False,
    report: Annotated[Path | None, typer.Option("--report", metavar="OUT.html", help="Write an HTML page.")] = None,
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
    _check(placement, load, max_delay_hours, report)
    fmt, path = trace_source(pick("--internal", internal, "internal"))
    level_text, _, sites_text = pick("--candidates", candidates, "candidates").partition(":")
    try:
        level = CandidateLevel(level_text)
    except ValueError:
        _fail(f"--candidates {level_text!r}: one of {', '.join(c.value for c in CandidateLevel)}")
    shares = _shares(pick("--fractions", fractions, "fractions"))
    span = window(window_text)
    with bad_input(), _working("building the fleet"):
        the_fleet = _fleet(pick("--fleet", fleet, "fleet"))
        snap = build_snapshot(the_fleet)
    try:
        units = candidate_units(snap, level, tuple(x for x in sites_text.split(",") if x))
    except ValueError as exc:
        _fail(f"--candidates {exc}")
    cluster_gpus = TRACE_CLUSTER_GPUS.get(fmt)
    if scale is None and cluster_gpus is None:
        _fail(f"--internal-scale: required for a {fmt} trace (its own cluster's size is not known)")
    job_scale = scale if scale is not None else snap.total_gpus / (cluster_gpus or 1)
    if not 0 < job_scale < math.inf:
        _fail(f"--internal-scale {job_scale}: expected a number above 0")
    fee_text = monthly_fee or (s.monthly_fee if s and price is None else None)
    if (price is None) == (fee_text is None):
        _fail("--price-per-gpu-hour or --monthly-fee: give exactly one")
    per_hour = _amount("--price-per-gpu-hour", price)
    fee = _amount("--monthly-fee", fee_text)
    shown = per_hour or _per_hour(fee, sum(u.gpus for u in units))
    terms = LeaseTerms(
        tenant=pick("--tenant", tenant, "tenant"),
        start_s=to_s(parse_time("--start", pick("--start", start, "start"))),
        end_s=to_s(parse_time("--end", pick("--end", end, "end"))),
        price_per_gpu_hour=per_hour,
        monthly_fee=fee,
        ramp=_fractions("--ramp", ramp if ramp is not None else (s.ramp if s else "")),
        notice_days=notice_days if notice_days is not None else (s.notice_days if s else None),
        initial_months=initial_months if initial_months is not None else (s.initial_months if s else 0),
        wacc=None if wacc is None else _rate("--wacc", wacc),
    )
    with bad_input(), _working(f"replaying the internal work for {len(shares)} fractions"):
        result = study(
            the_fleet,
            snap,
            lambda: bootstrap.trace_jobs(fmt, path),
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
        )
    doc = save_study(study_json(result, scale=job_scale, load=load, price=shown), len(shares))
    if report is not None:
        from neocloud.cli.plan_keep_report import report_html

        with bad_input():
            write_all([(report, report_html(doc))])
    if as_json:
        print(json.dumps(doc, indent=2))
    else:
        _print(doc, s.note if s else "")


def _check(placement: str, load: float, max_delay_hours: float, report: Path | None) -> None:
    from neocloud.placement.jobs import JobPlacement

    if placement not in {p.value for p in JobPlacement}:
        _fail(f"--placement {placement!r}: one of {', '.join(p.value for p in JobPlacement)}")
    if not 0 < load < math.inf:
        _fail(f"--internal-load {load}: expected a number above 0")
    if not 0 < max_delay_hours < math.inf:
        _fail(f"--max-delay-hours {max_delay_hours}: expected a number of hours above 0")
    if report is not None:
        writable("--report", report)


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


def _per_hour(fee: Money | None, candidate_gpus: int) -> Money:
    """A monthly fee for all the candidates as a price per GPU-hour (the average month)."""
    assert fee is not None
    return Money((fee.amount / (candidate_gpus * HOURS_PER_MONTH)).quantize(Decimal("0.0001")), fee.currency)


def study_json(result: Any, *, scale: float, load: float, price: Money) -> dict[str, Any]:
    """The study as ``--json`` prints it (services/study_documents.py, which the server's
    stored studies use too)."""
    from neocloud.services.study_documents import keep_vs_lease_document

    return keep_vs_lease_document(result, scale=scale, load=load, price=price)


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
        f"[bold]keep or lease[/]: {doc['price_per_gpu_hour']} {cur} per GPU-hour; internal jobs x"
        f"{doc['internal_scale']:,.1f} GPUs, load x{doc['internal_load']:g}",
        highlight=False,
    )
    if note:
        out.print(f"seed: {note}", highlight=False, width=human_width(out))
    table = Table(box=box.SIMPLE_HEAD, width=min(human_width(out), 100), pad_edge=False)
    heads = ("leased", "kept", "JCT h", "wait h", "delay h", "revenue", "NPV", "margin", "at risk")
    for h in heads:
        table.add_column(h, justify="left" if h == "leased" else "right", overflow="fold")
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
    out.print(f"[bold]recommendation[/]: {doc['recommendation']}", highlight=False, width=human_width(out))
    err.print("money in " + cur + "; --json for every figure", highlight=False)
