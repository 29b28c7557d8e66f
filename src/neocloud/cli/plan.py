"""``neocloud plan``: cost, deals and serving capacity."""

from __future__ import annotations

import typer

from neocloud.cli import plan_predict, plan_serving

app = typer.Typer(help="Plan: cost, deals and serving capacity.", no_args_is_help=True)
app.command("predict")(plan_predict.predict)
app.command("serving")(plan_serving.serving)
