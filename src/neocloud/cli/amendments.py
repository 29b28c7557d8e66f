"""``neocloud lease maintenance``, and the amendments table of ``neocloud lease show``."""

from __future__ import annotations

import json
import sys
from typing import Annotated

import typer
from rich import box
from rich.console import Console
from rich.table import Table

from neocloud import bootstrap
from neocloud.cli.common import actor_name, bad_input, db_url, human_width, parse_time, stdout_console
from neocloud.cli.views import lease_json, short_time
from neocloud.domain.clock import to_s
from neocloud.domain.errors import RequestError
from neocloud.domain.leases import Amendment, AmendmentKind, Lease

out = stdout_console()

DbOpt = Annotated[
    str | None, typer.Option("--db", help="Database URL (default: $NEOCLOUD_DB or sqlite:///neocloud.db).")
]
ActorOpt = Annotated[str | None, typer.Option("--actor", help="Who is acting, for the event log.")]
JsonOpt = Annotated[bool, typer.Option("--json", help="Print JSON (documented in docs/cli.md).")]


def lease_maintenance(
    lease_id: str,
    from_: Annotated[str, typer.Option("--from", help="Window start, YYYY-MM-DD or ISO date-time (UTC).")],
    to: Annotated[str, typer.Option("--to", help="Window end (exclusive).")],
    reason: Annotated[str, typer.Option("--reason", help="Why, as the tenant reads it.")],
    db: DbOpt = None,
    actor: ActorOpt = None,
    as_json: JsonOpt = False,
) -> None:
    """Announce a maintenance window on a whole lease, at least its notice ahead
    (7 days unless its contract says otherwise); its SLA leaves the window out."""
    start_s, end_s = to_s(parse_time("--from", from_)), to_s(parse_time("--to", to))
    with bad_input():
        if end_s <= start_s:
            raise RequestError(["--to: the window must end after --from"])
        lease = bootstrap.leasing_service(db_url(db)).announce_maintenance(
            lease_id, start_s, end_s, actor=actor_name(actor), reason=reason
        )
    if as_json:
        sys.stdout.write(json.dumps(lease_json(lease), indent=2) + "\n")
        return
    out.print(
        f"lease {lease.id}: maintenance {short_time(start_s)} to {short_time(end_s)} announced ({reason})",
        highlight=False,
        soft_wrap=True,
    )


def print_amendments(console: Console, lease: Lease) -> None:
    """The amendments table, at most 80 columns wide (long reasons fold)."""
    console.print(amendments_table(lease), width=human_width(console))


def amendments_table(lease: Lease) -> Table:
    """The lease's amendments, oldest first: when recorded, kind, from when, what changed, why."""
    t = Table("recorded", "kind", "from", "change", "why", title="amendments", box=box.SIMPLE_HEAD, pad_edge=False)
    for col in t.columns[:3]:
        col.no_wrap = True
    for col in t.columns[3:]:
        col.overflow = "fold"
    for a in lease.amendments:
        t.add_row(
            short_time(a.at_s), a.kind.value, short_time(a.effective_s), change_text(a), f"{a.reason} ({a.actor})"
        )
    return t


def change_text(a: Amendment) -> str:
    """What one amendment changed, in a few words: ``end 2027-02-01 -> 2027-02-15``,
    ``16 -> 8 GPUs``, ``b1-n01 -> b1-n05``, ``until 2027-01-20 04:00``."""
    if a.kind is AmendmentKind.EXTEND:
        moved = f"; {_moves(a)}" if a.nodes else ""
        return f"end {short_time(a.before[-1].end_s)} -> {short_time(a.after[-1].end_s)}{moved}"
    if a.kind is AmendmentKind.SHRINK:
        held = next((s.gpus for s in a.before if s.start_s <= a.effective_s < s.end_s), 0)
        return f"{held:,} -> {a.after[-1].gpus:,} GPUs"
    if a.kind is AmendmentKind.TERMINATE:
        return f"ends {short_time(a.effective_s)} (was {short_time(a.before[-1].end_s)})" if a.before else "ended"
    if a.kind is AmendmentKind.MAINTENANCE and a.window is not None:
        return f"until {short_time(a.window[1])}"
    return _moves(a)


def _moves(a: Amendment) -> str:
    return ", ".join(f"{out_} -> {into or 'released'}" for out_, into in a.nodes)
