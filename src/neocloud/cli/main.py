"""The ``neocloud`` command."""

from __future__ import annotations

import typer

from neocloud import __version__
from neocloud.cli import amendments, billing, custody, fleet, ledger, plan, price, queue, serve, sim

app = typer.Typer(
    name="neocloud",
    help="neocloud: the control plane for running GPU data centers as a cloud.",
    no_args_is_help=True,
    pretty_exceptions_enable=False,
)
app.add_typer(fleet.app, name="fleet")
app.command("init")(ledger.init)
app.add_typer(ledger.tenant_app, name="tenant")
app.add_typer(ledger.lease_app, name="lease")
ledger.lease_app.command("maintenance")(amendments.lease_maintenance)
app.command("availability")(ledger.availability)
app.add_typer(ledger.node_app, name="node")
app.command("events")(ledger.events)
app.command("serve")(serve.serve)
app.add_typer(serve.keys_app, name="keys")
app.add_typer(price.app, name="price")
app.add_typer(plan.app, name="plan")
app.add_typer(billing.billing_app, name="billing")
app.add_typer(billing.invoice_app, name="invoice")
app.command("custody")(custody.custody)
app.add_typer(sim.app, name="sim")
app.add_typer(queue.app, name="queue")


def _version(value: bool) -> None:
    if value:
        typer.echo(f"neocloud {__version__}")
        raise typer.Exit()


@app.callback()
def main(
    version: bool = typer.Option(False, "--version", callback=_version, is_eager=True, help="Print the version."),
) -> None:
    """neocloud: the control plane for running GPU data centers as a cloud."""


if __name__ == "__main__":
    app()
