"""``neocloud plan serving``: leased (or counted) GPUs -> tokens/s -> usage limits."""

from __future__ import annotations

import json
import sys
import textwrap
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Annotated, Any

import typer
from rich import box
from rich.table import Table

from neocloud import bootstrap
from neocloud.cli.common import bad_input, db_url, err, stdout_console
from neocloud.economics.serving.fleet_plan import BUDGET_MULTIPLIER, HEADROOM
from neocloud.economics.serving.limits import parse_plan, parse_tier
from neocloud.economics.serving.plan import Target
from neocloud.economics.serving.report import plan_dict
from neocloud.services.serving import (
    DEFAULT_ISL,
    DEFAULT_OSL,
    DEFAULT_PLANS,
    DEFAULT_TIERS,
    DEFAULT_TPOT_MS,
    DEFAULT_TTFT_MS,
    CapacityAsk,
    ServingAsk,
)

out = stdout_console()
WIDTH = 80


def serving(
    model: Annotated[str, typer.Option("--model", help="Hugging Face name in the model configs, or a config.json.")],
    lease: Annotated[str | None, typer.Option("--lease", help="Plan the GPUs this lease holds now.")] = None,
    site: Annotated[str | None, typer.Option("--site", help="Plan the fleet's GPUs at this site.")] = None,
    gpus: Annotated[str | None, typer.Option("--gpus", help="GPU counts: H100=150000,H200=50000,GB200=30000.")] = None,
    preset: Annotated[str | None, typer.Option("--preset", help="A preset's whole fleet (colossus-1).")] = None,
    isl: Annotated[int, typer.Option("--isl", help="Input tokens per request [R73].")] = DEFAULT_ISL,
    osl: Annotated[int, typer.Option("--osl", help="Output tokens per request.")] = DEFAULT_OSL,
    tpot_ms: Annotated[float, typer.Option("--tpot-ms", help="p50 TPOT limit, ms [R74].")] = DEFAULT_TPOT_MS,
    ttft_ms: Annotated[float, typer.Option("--ttft-ms", help="p50 TTFT limit, ms [R71].")] = DEFAULT_TTFT_MS,
    precision: Annotated[str, typer.Option("--precision", help="bf16, fp8 or fp4.")] = "fp8",
    engine: Annotated[str, typer.Option("--engine", help="trtllm, sglang or vllm.")] = "trtllm",
    headroom: Annotated[float, typer.Option("--headroom", help="Utilization u [R93][R74].")] = HEADROOM,
    one_nvlink_domain: Annotated[
        bool, typer.Option("--one-nvlink-domain", help="Each replica within one NVLink domain (node or NVL72 rack).")
    ] = False,
    tier: Annotated[list[str] | None, typer.Option("--tier", help="NAME:ORGS:SHARE[:OVERSUB], repeatable.")] = None,
    plan: Annotated[
        list[str] | None, typer.Option("--plan", help="NAME:USERS:SHARE, repeatable (no --tier/--plan: defaults).")
    ] = None,
    multiplier: Annotated[
        float, typer.Option("--multiplier", help="GPUs to multiply budgets by this [R48].")
    ] = BUDGET_MULTIPLIER,
    data: Annotated[
        Path | None, typer.Option("--data", help="serving-silicon folder (default ../shared/reference/...).")
    ] = None,
    db: Annotated[str | None, typer.Option("--db", help="Database URL, for --lease and --site.")] = None,
    as_json: Annotated[bool, typer.Option("--json", help="Print JSON (docs/cli.md).")] = False,
) -> None:
    """The best parallel configuration per GPU model, tokens/s per GPU, fleet OTPM/ITPM,
    per-tier rate limits, five-hour budgets, and the GPUs a larger budget needs."""
    with bad_input():
        ask = ServingAsk(
            capacity=CapacityAsk(lease=lease, site=site, gpus=gpus, preset=preset),
            target=Target(
                model,
                isl,
                osl,
                tpot_ms,
                ttft_ms,
                precision=precision,
                engine=engine,
                one_nvlink_domain=one_nvlink_domain,
            ),
            headroom=headroom,
            tiers=tuple(parse_tier(t) for t in tier or ()) if tier or plan else DEFAULT_TIERS,
            plans=tuple(parse_plan(p) for p in plan or ()) if tier or plan else DEFAULT_PLANS,
            multiplier=multiplier,
        )
        needs_db = lease is not None or site is not None
        svc = bootstrap.serving_service(db_url(db) if needs_db else None, data)
        with _progress() as progress:
            result = plan_dict(svc.plan(ask, progress=progress))
    if as_json:
        sys.stdout.write(json.dumps(result, indent=2) + "\n")
    else:
        _print(result)


@contextmanager
def _progress() -> Iterator[Callable[[str], None] | None]:
    """A spinner naming the GPU model being searched, on a terminal only."""
    if not err.is_terminal:
        yield None
        return
    with err.status("planning") as status:
        yield lambda model: status.update(f"searching configurations on {model}")


def _print(p: dict[str, Any]) -> None:
    t, cap = p["target"], p["capacity"]
    head = f"{t['model']} {t['precision']} ({t['engine']}) on {cap['source']}: {cap['total']:,} GPUs"
    limits = f"isl {t['isl']:,}, osl {t['osl']:,}; p50 TPOT <= {t['tpot_ms']:g} ms, TTFT <= {t['ttft_ms']:,g} ms"
    limits += "; one NVLink domain per replica" if t["one_nvlink_domain"] else ""
    limits += f"; latency model {p['latency_model']}" if p["latency_model"] else ""
    out.print(wrapped(head), highlight=False, markup=False)
    out.print(wrapped(limits), highlight=False)
    _models(p["models"])
    f = p["fleet"]
    text = (
        f"fleet at u={p['headroom']:.2f}: {short(f['otpm'])} output + {short(f['itpm'])} input tokens/min "
        f"on {f['served_gpus']:,} GPUs"
    )
    out.print(wrapped(text), highlight=False)
    _tiers(p["tiers"])
    _plans(p["plans"], p["scaling"])


def _models(lines: list[dict[str, Any]]) -> None:
    t = Table("GPU", "GPUs", "config", "TTFT ms", "TPOT ms", "out/GPU", "in/GPU", box=box.SIMPLE, title="tokens/s")
    refused = []
    for m in lines:
        if not m["served"]:
            t.add_row(m["gpu_model"], f"{m['gpus']:,}", "none", "-", "-", "-", "-")
            refused.append(f"{m['gpu_model']}: {m['reason']}")
            continue
        t.add_row(
            m["gpu_model"],
            f"{m['gpus']:,}",
            compact(m["configuration"]),
            f"{m['ttft_ms']:,.0f}",
            f"{m['tpot_ms']:.1f}",
            f"{m['out_tok_s_per_gpu']:,.0f}",
            f"{m['in_tok_s_per_gpu']:,.0f}",
        )
    out.print(t, width=WIDTH)
    for line in refused:
        out.print(wrapped(line), highlight=False, markup=False)


def _tiers(tiers: list[dict[str, Any]]) -> None:
    if not tiers:
        return
    t = Table("tier", "orgs", "share", "x", "RPM", "ITPM", "OTPM", "published OTPM", box=box.SIMPLE, title="per org")
    for x in tiers:
        pub = x["published"]
        at = f"{short(pub['otpm'])} ({x['orgs_at_published']:,} orgs)" if pub else "-"
        lim = x["per_org"]
        t.add_row(
            x["name"],
            f"{x['orgs']:,}",
            f"{x['share']:g}",
            f"{x['oversubscription']:g}",
            short(lim["rpm"]),
            short(lim["itpm"]),
            short(lim["otpm"]),
            at,
        )
    out.print(t, width=WIDTH)
    _notes(tiers)


def _plans(plans: list[dict[str, Any]], scaling: list[dict[str, Any]]) -> None:
    if not plans:
        return
    t = Table("plan", "users", "share", "out/5h", "in/5h", "msgs/5h", "binds", box=box.SIMPLE, title="per user")
    for x in plans:
        t.add_row(
            x["name"],
            f"{x['users']:,}",
            f"{x['share']:g}",
            short(x["out_tokens_5h"]),
            short(x["in_tokens_5h"]),
            f"{x['messages_5h']:,}",
            x["binding"],
        )
    out.print(t, width=WIDTH)
    _notes(plans)
    for s in scaling:
        alone = ", ".join(f"{n:,} {m}" for m, n in s["extra_gpus_alone"].items())
        text = f"x{s['factor']:g} {s['plan']} budgets at the same users: +{s['extra_gpus_same_mix']:,} GPUs of this mix"
        out.print(wrapped(text + (f" (or {alone} alone)" if alone else "")), highlight=False)


def _notes(rows: list[dict[str, Any]]) -> None:
    """Why a limit shows 0 (its share rounds down) and what would lift it."""
    for x in rows:
        if x.get("zero_note"):
            out.print(wrapped(f"{x['name']}: {x['zero_note']}"), highlight=False, markup=False)


def wrapped(text: str) -> str:
    """A line of prose in 80 columns, continued lines indented."""
    return textwrap.fill(text, WIDTH, subsequent_indent="  ", break_on_hyphens=False)


def compact(c: dict[str, Any]) -> str:
    """``TP8 EP8 b64``: the parallel sizes above 1 and the batch per DP rank; a split as
    ``2xTP8 > DP16 EP16 b64`` (prefill workers x layout, then decode)."""
    if c["mode"] == "disagg":
        p, d = c["prefill"], c["decode"]
        return f"{p['workers']}x{_sizes(p)} > {d['workers']}x{_sizes(d)} b{d['batch']}"
    return f"{_sizes(c)} b{c['batch']}"


def _sizes(c: dict[str, Any]) -> str:
    parts = [
        f"{k}{c[f]}" for k, f in (("TP", "tp"), ("DP", "attention_dp"), ("EP", "moe_ep"), ("PP", "pp")) if c[f] > 1
    ]
    if c["moe_tp"] > 1 and c["moe_tp"] != c["tp"]:
        parts.append(f"MTP{c['moe_tp']}")
    return " ".join(parts) or "1 GPU"


def short(n: float) -> str:
    """``1.23B``, ``45.6M``, ``800k``, ``950``: a count in four significant characters or so."""
    for size, suffix in ((1e12, "T"), (1e9, "B"), (1e6, "M"), (1e3, "k")):
        if abs(n) >= size:
            value = n / size
            return f"{value:.3g}{suffix}" if value < 1000 else f"{value:,.0f}{suffix}"
    return f"{n:,.0f}"
