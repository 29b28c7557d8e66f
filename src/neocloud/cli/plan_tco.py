"""``neocloud plan tco``: what a fleet costs its owner, per site and GPU model."""

from __future__ import annotations

import contextlib
import json
import sys
from collections.abc import Iterator
from pathlib import Path
from typing import Annotated

import typer
from rich import box
from rich.table import Table

from neocloud import bootstrap
from neocloud.cli import tco_chart
from neocloud.cli.common import EXIT_BAD_INPUT, bad_input, db_url, err, parse_settings, stdout_console
from neocloud.domain.fleet import Fleet
from neocloud.domain.presets import PRESET_HELP, preset
from neocloud.domain.spec import build_fleet
from neocloud.economics.cost import FleetTco

out = stdout_console()

#: Short names of the lines for tables that must fit 80 columns (JSON keeps the keys).
SHORT = {
    "hardware_servers": "servers",
    "hardware_fabric": "fabric",
    "facility": "facility",
    "financing": "financing",
    "power": "power",
    "failures": "failures, RMA",
    "other_opex": "other opex",
}
MODELS_PER_TABLE = 5


def tco(
    preset_name: Annotated[
        str | None, typer.Option("--preset", help=f"Price a preset fleet: {', '.join(PRESET_HELP)}.")
    ] = None,
    set_: Annotated[list[str] | None, typer.Option("--set", help="Preset parameter key=value (repeatable).")] = None,
    fleet_file: Annotated[Path | None, typer.Option("--fleet", help="Price this fleet file.")] = None,
    db: Annotated[
        str | None, typer.Option("--db", help="Without --preset/--fleet: the initialised ledger's fleet.")
    ] = None,
    assumptions: Annotated[
        Path | None,
        typer.Option("--assumptions", help="Override file (TOML, any subset of keys; default $NEOCLOUD_ASSUMPTIONS)."),
    ] = None,
    site: Annotated[str | None, typer.Option("--site", help="Only this site.")] = None,
    model: Annotated[str | None, typer.Option("--model", help="Only this GPU model.")] = None,
    as_json: Annotated[bool, typer.Option("--json", help="Print JSON (the API's /v1/economics/tco body).")] = False,
    html: Annotated[Path | None, typer.Option("--html", help="Also write the breakdown chart as HTML.")] = None,
) -> None:
    """The owner's TCO per GPU-hour and per MW-year of IT load, with its breakdown."""
    if preset_name is not None and fleet_file is not None:
        err.print("[red]error[/]: give --preset or --fleet, not both", highlight=False)
        raise typer.Exit(EXIT_BAD_INPUT)
    with bad_input():
        settings = parse_settings(set_ or [])
        with _progress("loading the fleet"):
            fleet = _fleet(preset_name, settings, fleet_file, db)
        service = bootstrap.cost_service(lambda: fleet, assumptions)
        with _progress("pricing"):
            result = service.fleet_tco(site=site, model=model)
        from neocloud.api.schemas_economics import FleetTcoOut  # the API's shape; loaded only for --json

        body = FleetTcoOut.of(result, service.assumptions())
        if html is not None:
            html.write_text(tco_chart.page(result, body.assumptions_version), encoding="utf-8")
    if as_json:
        sys.stdout.write(json.dumps(body.model_dump(mode="json"), indent=2) + "\n")
        return
    print_tco(result, body.assumptions_version)
    if html is not None:
        out.print(f"wrote {html}", highlight=False)


def print_tco(result: FleetTco, version: str) -> None:
    """The rows table and the breakdown tables, each within 80 columns."""
    out.print(_rows_table(result, version))
    out.print(_sites_table(result))
    models = list(dict.fromkeys(r.model for r in result.rows))
    for i in range(0, max(len(models), 1), MODELS_PER_TABLE):
        out.print(_breakdown_table(result, models[i : i + MODELS_PER_TABLE], first=i == 0))
    for u in result.unpriced:
        out.print(f"not priced: {u.gpus:,} {u.model} at {u.site}: {u.reason}", highlight=False, soft_wrap=True)


# -- helpers, in call order -------------------------------------------------------------------


@contextlib.contextmanager
def _progress(what: str) -> Iterator[None]:
    """A spinner on a terminal's stderr; nothing when it is piped."""
    if not err.is_terminal:
        yield
        return
    with err.status(what):
        yield


def _fleet(name: str | None, settings: dict[str, str], path: Path | None, db: str | None) -> Fleet:
    if name is not None:
        return build_fleet(preset(name, settings), file=f"preset {name}")
    if settings:
        err.print("[red]error[/]: --set needs --preset", highlight=False)
        raise typer.Exit(EXIT_BAD_INPUT)
    if path is not None:
        return bootstrap.fleet_files().load_fleet(path)
    return bootstrap.leasing_service(db_url(db)).fleet()


def _rows_table(result: FleetTco, version: str) -> Table:
    table = Table(
        title=f"Owner TCO, assumptions {version} ({result.currency})",
        box=box.SIMPLE_HEAD,
        pad_edge=False,
    )
    for name in ("site", "model", "GPUs", "capex/GPU", "/GPU-h", "M/MW-yr", "M/yr"):
        table.add_column(name, justify="left" if name in ("site", "model") else "right", overflow="fold")
    for r in result.rows:
        t = r.tco
        table.add_row(
            r.site,
            r.model,
            f"{r.gpus:,}",
            f"{t.capex_per_gpu.amount:,.0f}",
            f"{t.per_gpu_hour.amount:.2f}",
            f"{t.per_mw_year.amount / 1_000_000:.2f}",
            f"{r.annual_cost.amount / 1_000_000:,.1f}",
        )
    if len(result.rows) > 1:
        table.add_row(
            "fleet",
            "",
            f"{result.gpus:,}",
            "",
            f"{result.per_gpu_hour.amount:.2f}",
            "",
            f"{result.annual_cost.amount / 1_000_000:,.1f}",
            style="bold",
        )
    return table


def _sites_table(result: FleetTco) -> Table:
    table = Table(title=f"Per site ({result.currency})", box=box.SIMPLE_HEAD, pad_edge=False)
    for name in ("site", "GPUs", "IT MW", "budget MW", "M/yr", "M/MW-yr of budget"):
        table.add_column(name, justify="left" if name == "site" else "right", overflow="fold")
    for s in result.site_totals():
        per_mw = s.per_mw_year_of_budget
        table.add_row(
            s.site,
            f"{s.gpus:,}",
            f"{s.it_mw:,.1f}",
            f"{s.power_mw:,.1f}" if s.power_mw is not None else "?",
            f"{s.annual_cost.amount / 1_000_000:,.1f}",
            f"{per_mw.amount / 1_000_000:.2f}" if per_mw is not None else "",
        )
    return table


def _breakdown_table(result: FleetTco, models: list[str], *, first: bool) -> Table:
    title = f"Breakdown, {result.currency} per GPU-hour" if first else None
    table = Table(title=title, box=box.SIMPLE_HEAD, pad_edge=False)
    table.add_column("line")
    per_model = {m: result.only(model=m) for m in models}
    for m in models:
        table.add_column(m, justify="right")
    show_fleet = first and len(models) > 1
    if show_fleet:
        table.add_column("fleet", justify="right")
    for i, line in enumerate(result.lines):
        cells = [f"{per_model[m].lines[i].per_gpu_hour.amount:.4f}" for m in models]
        fleet_cell = [f"{line.per_gpu_hour.amount:.4f}"] if show_fleet else []
        table.add_row(SHORT[line.key], *cells, *fleet_cell)
    totals = [f"{per_model[m].per_gpu_hour.amount:.4f}" for m in models]
    table.add_row("total", *totals, *([f"{result.per_gpu_hour.amount:.4f}"] if show_fleet else []), style="bold")
    return table
