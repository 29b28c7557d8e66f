"""``neocloud sim leases``: a stream of lease requests through the leasing engine.

The stream is a CSV (``csv:PATH``, docs/lease-demand.md) or the seeded demand model
(``model:KEY=VAL,...``); ``--pin SHAPE:DAYS`` books one contract at t = 0 and reports
every figure with and without it. Scripts depend on the option names and the JSON
fields (docs/lease-demand.md#outputs).
"""

from __future__ import annotations

import time
from collections.abc import Iterable
from decimal import Decimal
from pathlib import Path
from typing import Annotated, Any

import typer
from rich.table import Table

from neocloud import bootstrap
from neocloud.cli.common import bad_input, err, human_width, iso_z, stdout_console
from neocloud.cli.sim_inputs import emit
from neocloud.cli.sim_inputs import fail as _fail
from neocloud.cli.sim_inputs import progress as _progress
from neocloud.cli.sim_inputs import writable as _writable

out = stdout_console()
#: The replay's span for a generated stream when --days is not given [D]: one year.
DEFAULT_DAYS = 365
#: The longest span: the ledger's ten-year booking horizon (3,652 days).
MAX_DAYS = 3_652
#: Refused requests listed in the JSON (all are counted by reason) [D].
REFUSED_LISTED = 100
#: Refusal reasons shown (human) and listed (JSON).
REASONS_SHOWN, REASONS_LISTED = 3, 20

FleetOpt = Annotated[Path, typer.Option("--fleet", metavar="FLEET.yaml", help="The fleet file.")]
DemandOpt = Annotated[
    str,
    typer.Option(
        "--demand",
        metavar="csv:PATH | model:KEY=VAL,...",
        help="Requests from a CSV (arrival_s, tenant, shape, term_days, tier), or the demand"
        " model with rate=PER_DAY or load=SHARE, and tenants=N.",
    ),
]
PinOpt = Annotated[
    str | None,
    typer.Option(
        "--pin",
        metavar="SHAPE:DAYS",
        help="Book this contract at t=0 first (site:1095, block:4:365, 512@block:365) and report"
        " the figures with and without it. Whole units are wholesale, GPU counts reserved.",
    ),
]
DaysOpt = Annotated[
    float | None,
    typer.Option("--days", help="Days replayed (default: 365 for the model, the last arrival for a CSV)."),
]
SeedOpt = Annotated[int, typer.Option("--seed", min=0, help="Seeds the demand model.")]
PricesOpt = Annotated[
    Path | None, typer.Option("--prices", metavar="CARDS.yaml", help="A rate-card file (default: the seeded book).")
]
JsonOpt = Annotated[
    Path | None, typer.Option("--json", metavar="OUT.json", help="Write the results as JSON (- for stdout).")
]
ReportOpt = Annotated[
    Path | None, typer.Option("--report", metavar="OUT.html", help="Write a self-contained HTML report.")
]


def leases(
    fleet: FleetOpt,
    demand: DemandOpt,
    pin: PinOpt = None,
    days: DaysOpt = None,
    seed: SeedOpt = 0,
    prices: PricesOpt = None,
    json_out: JsonOpt = None,
    report: ReportOpt = None,
) -> None:
    """Replay lease requests through the leasing engine and placement on a fleet.

    Prints acceptance by shape and tier, revenue booked and refused (priced from the
    price book), utilization and fragmentation of the free capacity; with --pin, the
    same figures with and without the pinned contract.
    """
    from neocloud.sim import lease_demand as ld

    kind, settings, path = _demand(demand)
    pinned = _pin(pin)
    if days is not None and not 0 < days <= MAX_DAYS:
        _fail(f"--days {days:g}: expected a number of days above 0 and at most {MAX_DAYS:,}")
    for option, target in (("--json", json_out), ("--report", report)):
        if target is not None and str(target) != "-":
            _writable(option, target)
    with bad_input():
        loaded = bootstrap.fleet_files().load_fleet(fleet)
        book = _book(prices)
        snap_gpus, requests, about = _requests(kind, settings, path, loaded, days, seed)
        horizon_s = None if days is None and kind == "csv" else round((days or DEFAULT_DAYS) * 86_400)
        started = time.perf_counter()
        if pinned is not None:
            requests = list(requests)
        total = _total(requests, kind, path)
        runs = {}
        with _progress(total * (2 if pinned else 1)) as tick:
            runs["without_pin"] = ld.replay(loaded, requests, book, horizon_s=horizon_s, progress=tick)
            if pinned is not None:
                offset = len(runs["without_pin"].outcomes)
                step = None if tick is None else (lambda n: tick(offset + n))
                runs["with_pin"] = ld.replay(loaded, requests, book, horizon_s=horizon_s, pin=pinned, progress=step)
        wall = time.perf_counter() - started
    document = {
        "fleet": str(fleet),
        "fleet_gpus": snap_gpus,
        "demand": demand,
        **about,
        "days": runs["without_pin"].horizon_s / 86_400,
        "seed": seed,
        "origin": iso_z(ld.ORIGIN_S),
        "prices": str(prices) if prices else "seeded v1",
        "currency": book.cards.currency,
        "pin": None
        if pinned is None
        else {"shape": pinned.shape_text, "term_days": pinned.term_s / 86_400, "tier": pinned.tier.value},
        "runs": {name: _run_json(run) for name, run in runs.items()},
        "wall_s": round(wall, 3),
    }
    emit(document, json_out, report, report_html=lambda: _report_html(document), summary=_print)


# -- options ----------------------------------------------------------------------
def _demand(text: str) -> tuple[str, dict[str, str], Path | None]:
    """``(kind, settings, path)`` of ``--demand``; exit 2 naming the option."""
    from neocloud.sim.demand_model import model_from_settings

    kind, sep, rest = text.partition(":")
    if kind == "csv" and sep and rest:
        return "csv", {}, Path(rest)
    if kind != "model" or not sep:
        _fail(f"--demand {text!r}: expected csv:PATH or model:KEY=VAL,... (keys rate or load, and tenants)")
    settings: dict[str, str] = {}
    for item in filter(None, (part.strip() for part in rest.split(","))):
        key, eq, value = item.partition("=")
        if not eq or not key.strip():
            _fail(f"--demand {text!r}: {item!r} is not KEY=VAL")
        if key.strip() in settings:
            _fail(f"--demand {text!r}: {key.strip()} is given twice")
        settings[key.strip()] = value.strip()
    try:
        model_from_settings(settings)
    except ValueError as exc:
        _fail(f"--demand {text!r}: {exc}")
    return "model", settings, None


def _pin(text: str | None) -> Any:
    """The :class:`Pin` of ``--pin SHAPE:DAYS``; exit 2 naming the option."""
    from neocloud.domain.demand import parse_shape
    from neocloud.domain.leases import Tier
    from neocloud.sim.lease_demand import Pin

    if text is None:
        return None
    shape_text, sep, days_text = text.rpartition(":")
    try:
        term_days = float(days_text)
    except ValueError:
        term_days = -1.0
    if not sep or not 0 < term_days <= MAX_DAYS:
        _fail(f"--pin {text!r}: expected SHAPE:DAYS with DAYS above 0 and at most {MAX_DAYS:,} (site:1095)")
    try:
        shape = parse_shape(shape_text)
    except ValueError as exc:
        _fail(f"--pin {text!r}: {exc}")
        raise
    tier = Tier.RESERVED if shape.unit is None else Tier.WHOLESALE
    return Pin(shape_text.strip(), shape, round(term_days * 86_400), tier)


def _book(prices: Path | None) -> Any:
    from neocloud.economics.pricebook import PriceBook
    from neocloud.sim.lease_demand import seeded_book

    if prices is None:
        return seeded_book()
    cards, note = bootstrap.rate_card_file(prices)
    return PriceBook(1, 0, cards, str(prices), note, 0)


def _requests(
    kind: str, settings: dict[str, str], path: Path | None, fleet: Any, days: float | None, seed: int
) -> tuple[int, Iterable[Any], dict[str, Any]]:
    """The fleet's GPUs, the stream, and what the document says about it."""
    from neocloud.placement.snapshot import build_snapshot
    from neocloud.sim import demand_model as dm
    from neocloud.sim.lease_demand import request_gpus

    snap = build_snapshot(fleet)
    if kind == "csv" and path is not None:
        return snap.total_gpus, bootstrap.lease_requests(path), {"kind": "csv"}
    model = dm.model_from_settings(settings)
    span = days or DEFAULT_DAYS
    rate = model.rate_per_day
    if rate is None:
        rate = dm.rate_for_load(model, model.load, snap.total_gpus, span, lambda s: request_gpus(snap, s)[1])
    about = {
        "kind": "model",
        "rate_per_day": rate,
        "load": None if model.rate_per_day is not None else model.load,
        "tenants": model.tenants,
        "classes": [
            {
                "shape": c.shape_text,
                "tier": c.tier.value,
                "share": c.share,
                "term": c.term.kind.value,
                "term_low_days": c.term.low_days,
                "term_high_days": c.term.high_days,
            }
            for c in model.classes
        ],
    }
    return snap.total_gpus, dm.generate(model, rate, span, seed), about


def _total(requests: Iterable[Any], kind: str, path: Path | None) -> int:
    """Requests a run replays at most (for the bar): the list's, or the CSV's rows on a terminal."""
    if isinstance(requests, list):
        return len(requests)
    if kind == "csv" and path is not None and err.is_terminal:
        return sum(1 for _ in bootstrap.lease_requests(path))
    return 0


# -- the document -------------------------------------------------------------------
def _run_json(run: Any) -> dict[str, Any]:
    from neocloud.sim.lease_demand import summarize

    s = summarize(run)
    refused = [o for o in run.outcomes[1 if run.pinned else 0 :] if not o.accepted]
    return {
        "requests": s.requests,
        "accepted": s.accepted,
        "refused": s.requests - s.accepted,
        "acceptance": s.acceptance,
        "revenue_booked": str(s.revenue_booked),
        "revenue_refused": str(s.revenue_refused),
        "revenue_with_pin": str(s.revenue_booked + (s.pin.revenue if s.pin is not None and s.pin.accepted else 0)),
        "utilization_mean": s.utilization_mean,
        "utilization_end": s.utilization_end,
        "stranded_mean": s.stranded_mean,
        "stranded_end": s.stranded_end,
        "by_shape": [_group(g, "shape") for g in s.by_shape],
        "by_tier": [_group(g, "tier") for g in s.by_tier],
        "refusal_reasons": [{"reason": r, "count": n} for r, n in s.reasons[:REASONS_LISTED]],
        "refused_requests": [_outcome(o) for o in refused[:REFUSED_LISTED]],
        "pin": None if s.pin is None else _outcome(s.pin),
        "daily": _daily(run),
    }


def _group(g: Any, key: str) -> dict[str, Any]:
    return {
        key: g.key,
        "requests": g.requests,
        "accepted": g.accepted,
        "acceptance": g.acceptance,
        "revenue_booked": str(g.revenue_booked),
        "revenue_refused": str(g.revenue_refused),
    }


def _outcome(o: Any) -> dict[str, Any]:
    r = o.request
    return {
        "id": r.id,
        "arrival_s": r.arrival_s,
        "tenant": r.tenant,
        "shape": r.shape_text,
        "tier": r.tier.value,
        "term_days": r.term_s / 86_400,
        "accepted": o.accepted,
        "lease_id": o.lease_id,
        "model": o.model,
        "gpus": o.gpus,
        "revenue": str(o.revenue),
        "reason": o.reason,
    }


def _daily(run: Any) -> dict[str, list[Any]]:
    """The state at the start of each day of the span (the samples as a step function)."""
    import bisect

    times = [s.t_s for s in run.samples]
    days = range(int(run.horizon_s // 86_400) + 1)
    picked = [run.samples[max(bisect.bisect_right(times, d * 86_400) - 1, 0)] for d in days]
    return {
        "day": list(days),
        "leased_gpus": [s.leased_gpus for s in picked],
        "free_gpus": [s.free_gpus for s in picked],
        "stranded_fraction": [round(s.stranded_fraction, 6) for s in picked],
        "largest_block_free": [s.largest_block_free for s in picked],
        "free_whole_blocks": [s.free_whole_blocks for s in picked],
    }


# -- human output -----------------------------------------------------------------------
def _print(doc: dict[str, Any]) -> None:
    width = human_width(out)
    runs = doc["runs"]
    names = list(runs)
    first = runs[names[0]]
    where = f"{doc['fleet']}: {doc['fleet_gpus']:,} GPUs"
    out.print(f"[bold]lease demand[/] on {where}", highlight=False, soft_wrap=False, width=width)
    stream = f"{doc['demand']}: {first['requests']:,} requests over {doc['days']:g} days"
    if doc["kind"] == "model":
        stream += f" ({doc['rate_per_day']:,.3g} a day)"
    out.print(stream, highlight=False, width=width)
    if doc["pin"] is not None:
        p = runs["with_pin"]["pin"]
        head = f"pin {p['shape']} for {p['term_days']:g} d ({p['tier']}): "
        if p["accepted"]:
            head += f"booked {p['gpus']:,} {p['model']} GPUs, {_money(p['revenue'], doc['currency'])}"
        else:
            head += f"refused: {p['reason']}"
        out.print(head, highlight=False, width=width)
    table = Table(pad_edge=False, box=None, padding=(0, 2), width=width, show_header=doc["pin"] is not None)
    table.add_column("", style="dim", overflow="fold")
    for name in names:
        table.add_column(name.replace("_", " ") if doc["pin"] else "", justify="right", no_wrap=True)
    cur = doc["currency"]

    def row(label: str, fn: Any) -> None:
        table.add_row(label, *(fn(runs[n]) for n in names))

    row("accepted", lambda r: f"{r['accepted']:,} of {r['requests']:,} ({r['acceptance']:.1%})")
    row("revenue booked", lambda r: _money(r["revenue_booked"], cur))
    if doc["pin"] is not None:
        row("revenue incl. the pin", lambda r: _money(r["revenue_with_pin"], cur))
    row("revenue refused", lambda r: _money(r["revenue_refused"], cur))
    row("utilization mean", lambda r: f"{r['utilization_mean']:.1%}")
    row("utilization at end", lambda r: f"{r['utilization_end']:.1%}")
    row("stranded free (mean)", lambda r: f"{r['stranded_mean']:.1%}")
    for key, label in (("by_shape", "shape"), ("by_tier", "tier")):
        keys = list(dict.fromkeys(g[label] for n in names for g in runs[n][key]))
        for k in keys:
            row(f"{label} {k}", lambda r, k=k, key=key, label=label: _accepted(r[key], label, k))
    out.print(table, highlight=False, width=width)
    for name in names:
        reasons = runs[name]["refusal_reasons"][:REASONS_SHOWN]
        if reasons:
            title = f"most refused ({name.replace('_', ' ')}):" if doc["pin"] else "most refused:"
            out.print(title, style="dim", highlight=False, width=width)
            for r in reasons:
                first, sep, _ = r["reason"].partition("; ")
                text = f"  {r['count']:,} x {first}" + ("; ..." if sep else "")
                out.print(text, highlight=False, width=width, markup=False)
    out.print(f"wall {doc['wall_s']:.2f} s", style="dim", highlight=False, width=width)


def _accepted(groups: list[dict[str, Any]], label: str, key: str) -> str:
    g = next((g for g in groups if g[label] == key), None)
    return "-" if g is None else f"{g['accepted']:,}/{g['requests']:,} ({g['acceptance']:.0%})"


def _money(amount: str, currency: str) -> str:
    return f"{currency} {Decimal(amount):,.0f}"


def _report_html(doc: dict[str, Any]) -> str:
    """The figures of every run on one self-contained page (inline SVG, no script)."""
    from html import escape

    import numpy as np

    from neocloud.cli.sim_report import _figure

    runs = doc["runs"]
    colors = {"without_pin": "#1f6feb", "with_pin": "#d1242f"}
    lines_used = [
        (name.replace("_", " "), np.array(r["daily"]["day"]), np.array(r["daily"]["leased_gpus"]), colors[name])
        for name, r in runs.items()
    ]
    lines_stranded = [
        (
            name.replace("_", " "),
            np.array(r["daily"]["day"]),
            100 * np.array(r["daily"]["stranded_fraction"]),
            colors[name],
        )
        for name, r in runs.items()
    ]
    rows = []
    for label, key in (
        ("requests", "requests"),
        ("accepted", "accepted"),
        ("acceptance", "acceptance"),
        ("revenue booked", "revenue_booked"),
        ("revenue refused", "revenue_refused"),
        ("utilization mean", "utilization_mean"),
        ("stranded free GPUs, mean", "stranded_mean"),
    ):
        cells = "".join(f"<td>{escape(_cell(r[key]))}</td>" for r in runs.values())
        rows.append(f"<tr><td>{escape(label)}</td>{cells}</tr>")
    head = "".join(f"<th>{escape(n.replace('_', ' '))}</th>" for n in runs)
    title = f"{doc['demand']} on {doc['fleet']}"
    return "".join(
        [
            "<!doctype html><html lang='en'><head><meta charset='utf-8'>",
            f"<title>Lease demand: {escape(title)}</title>",
            "<style>body{font-family:sans-serif;margin:1rem;max-width:60rem}table{border-collapse:collapse}"
            "td,th{padding:.2rem .6rem;border-bottom:1px solid #ddd;text-align:right}"
            "td:first-child,th:first-child{text-align:left}text{font-size:11px}figure{margin:1rem 0}</style>",
            f"</head><body><h1>Lease demand</h1><p>{escape(title)}: {doc['fleet_gpus']:,} GPUs</p>",
            f"<table aria-label='summary'><tr><th></th>{head}</tr>{''.join(rows)}</table>",
            _figure("GPUs leased (start of each day)", lines_used, "days", "GPUs"),
            _figure("Free GPUs stranded in partly taken blocks", lines_stranded, "days", "% of free GPUs"),
            "</body></html>\n",
        ]
    )


def _cell(value: Any) -> str:
    if isinstance(value, float):
        return f"{value:.1%}"
    if isinstance(value, str):
        return f"{Decimal(value):,.2f}"
    return f"{value:,}"
