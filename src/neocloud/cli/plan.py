"""``neocloud plan``: cost, deals and serving capacity."""

from __future__ import annotations

import typer

from neocloud.cli import plan_tco

app = typer.Typer(help="Plan: cost, deals and serving capacity.", no_args_is_help=True)
app.command("tco")(plan_tco.tco)
