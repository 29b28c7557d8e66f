"""``neocloud plan``: cost, deals and serving capacity."""

from __future__ import annotations

import typer

from neocloud.cli import plan_deal, plan_keep, plan_predict, plan_serving, plan_tco

app = typer.Typer(help="Plan: cost, deals and serving capacity.", no_args_is_help=True)
app.command("tco")(plan_tco.tco)
app.command("deal")(plan_deal.deal)
app.command("book")(plan_deal.book)
app.command("keep-vs-lease")(plan_keep.keep_vs_lease)
app.command("predict")(plan_predict.predict)
app.command("serving")(plan_serving.serving)
