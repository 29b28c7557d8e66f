"""``neocloud fleet``: generate, show, validate and import fleet files."""

from __future__ import annotations

import json
import sys
from pathlib import Path
from typing import Annotated, Any

import typer
from rich.table import Table

from neocloud import bootstrap
from neocloud.cli.common import bad_input, parse_settings, stdout_console
from neocloud.domain.fleet import SiteSummary
from neocloud.domain.presets import PRESET_HELP
from neocloud.services.fleet import FleetReport, Written, generate_fleet, import_fleet, show_fleet

app = typer.Typer(help="Fleet files: generate presets, import inventories, validate and show.", no_args_is_help=True)
out = stdout_console()

JSON_FIELDS = (
    "name",
    "region",
    "pue",
    "power_mw_budget",
    "power_mw_used",
    "facility_power_mw_used",
    "power_unknown_nodes",
    "gpus",
    "gpus_by_model",
    "nodes",
    "pods",
    "fabric_blocks",
    "nvlink_domains",
    "racks",
    "nodes_by_health",
)


@app.command()
def generate(
    preset: Annotated[str, typer.Argument(help=f"One of: {', '.join(PRESET_HELP)}.")],
    output: Annotated[Path, typer.Option("-o", "--output", help="Fleet YAML file to write.")],
    set_: Annotated[list[str] | None, typer.Option("--set", help="Preset parameter as key=value (repeatable).")] = None,
    node_table: Annotated[
        str | None, typer.Option(help="Also write every node to this CSV (relative to the YAML).")
    ] = None,
) -> None:
    """Generate a realistic fleet from a preset and write it as a fleet file."""
    with bad_input():
        written = generate_fleet(bootstrap.fleet_files(), preset, parse_settings(set_ or []), output, node_table)
    _report_written(written)


@app.command()
def show(
    file: Annotated[Path, typer.Argument(help="Fleet YAML file.")],
    as_json: Annotated[bool, typer.Option("--json", help="Print the documented JSON summary.")] = False,
) -> None:
    """Per site: power used / budget, GPUs by model, nodes, pods, blocks, NVLink domains, health."""
    with bad_input():
        rep = show_fleet(bootstrap.fleet_files(), file)
    if as_json:
        sys.stdout.write(json.dumps(report_json(rep), indent=2) + "\n")
    else:
        print_report(rep)


@app.command()
def validate(file: Annotated[Path, typer.Argument(help="Fleet YAML file.")]) -> None:
    """Check a fleet file and its node tables; print every problem, exit 2 if any."""
    with bad_input():
        rep = show_fleet(bootstrap.fleet_files(), file)
    t = rep.total
    out.print(
        f"[green]valid[/]: {file}: {len(rep.sites)} sites, {t.nodes:,} nodes, {t.gpus:,} GPUs, "
        f"{t.fabric_blocks:,} fabric blocks, {t.nvlink_domains:,} NVLink domains",
        soft_wrap=True,
    )


@app.command("import")
def import_(
    fmt: Annotated[str, typer.Argument(metavar="FORMAT", help="Inventory format (see --help).")],
    src: Annotated[Path, typer.Argument(help="The inventory file to read.")],
    output: Annotated[Path, typer.Option("-o", "--output", help="Fleet YAML file to write.")],
    node_table: Annotated[
        str | None, typer.Option(help="CSV for the nodes, relative to the YAML (default: FILE.nodes.csv).")
    ] = None,
) -> None:
    """Import a real inventory (Philly, Alibaba openb/PAI/spot, Crux, Zhejiang Lab) as a fleet file."""
    table = node_table or f"{output.stem}.nodes.csv"
    with bad_input():
        written = import_fleet(bootstrap.fleet_files(), bootstrap.importers(), fmt, src, output, node_table=table)
    _report_written(written)


def _report_written(written: Written) -> None:
    for path in written.paths:
        out.print(f"wrote {path}", highlight=False)
    t = written.report.total
    budget = "?" if t.power_mw_budget is None else f"{t.power_mw_budget:,.1f}"
    out.print(
        f"{written.report.name or 'fleet'}: {len(written.report.sites)} site(s), {t.gpus:,} GPUs in {t.nodes:,} nodes, "
        f"{t.fabric_blocks:,} fabric blocks; {t.power_mw_used:,.1f} / {budget} MW IT",
        highlight=False,
        soft_wrap=True,
    )


def report_json(rep: FleetReport) -> dict[str, Any]:
    """The stable JSON summary (documented in docs/cli.md)."""
    data: dict[str, Any] = {"fleet": rep.name, "sites": [_site_json(s, rep.pues.get(s.name)) for s in rep.sites]}
    total = _site_json(rep.total, None)
    for key in ("name", "region", "pue"):
        total.pop(key)
    data.update(total)
    return data


def _site_json(s: SiteSummary, pue: float | None) -> dict[str, Any]:
    values = {
        "name": s.name,
        "region": s.region,
        "pue": pue,
        "power_mw_budget": s.power_mw_budget,
        "power_mw_used": round(s.power_mw_used, 6),
        "facility_power_mw_used": round(s.facility_power_mw_used, 6),
        "power_unknown_nodes": s.power_unknown_nodes,
        "gpus": s.gpus,
        "gpus_by_model": s.gpus_by_model,
        "nodes": s.nodes,
        "pods": s.pods,
        "fabric_blocks": s.fabric_blocks,
        "nvlink_domains": s.nvlink_domains,
        "racks": s.racks,
        "nodes_by_health": s.nodes_by_health,
    }
    return {k: values[k] for k in JSON_FIELDS}


def print_report(rep: FleetReport) -> None:
    """A readable block per site (fits 80 columns), then the fleet total."""
    out.print(f"[bold]fleet {rep.name or ''}[/]".rstrip(), highlight=False)
    rows = rep.sites if len(rep.sites) == 1 else [*rep.sites, rep.total]
    for s in rows:
        grid = Table.grid(padding=(0, 2))
        grid.add_column(style="dim", no_wrap=True)
        grid.add_column()
        pue = rep.pues.get(s.name)
        facility = f", {s.facility_power_mw_used:,.1f} MW facility" + (f" at PUE {pue:g}" if pue else "")
        grid.add_row("power", _power(s) + facility)
        models = " · ".join(f"{m} {c:,}" for m, c in s.gpus_by_model.items())
        grid.add_row("GPUs", f"[bold]{s.gpus:,}[/]" + (f": {models}" if models else ""))
        grid.add_row(
            "topology",
            f"{s.pods:,} pods · {s.fabric_blocks:,} fabric blocks · {s.nvlink_domains:,} NVLink domains · "
            f"{s.racks:,} racks · {s.nodes:,} nodes",
        )
        health = " · ".join(f"{h} {c:,}" for h, c in s.nodes_by_health.items() if c) or "no nodes"
        grid.add_row("health", health)
        title = "[bold]total[/]" if s is rep.total else f"[bold cyan]{s.name}[/]  [dim]{s.region}[/]"
        out.print()
        out.print(title, highlight=False)
        out.print(grid, highlight=False)


def _power(s: SiteSummary) -> str:
    budget = "?" if s.power_mw_budget is None else f"{s.power_mw_budget:,.1f}"
    text = f"{s.power_mw_used:,.1f} / {budget} MW IT"
    if s.power_mw_budget:
        text += f" ({100 * s.power_mw_used / s.power_mw_budget:.0f}%)"
    if s.power_unknown_nodes:
        text += f" [yellow](+{s.power_unknown_nodes:,} nodes of unknown power)[/]"
    return text
