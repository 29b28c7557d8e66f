"""``neocloud custody SERIAL``: the custody trail of a GPU or node (operator)."""

from __future__ import annotations

import json
from typing import Annotated, Any

import typer
from rich import box
from rich.table import Table

from neocloud import bootstrap
from neocloud.billing.custody import BilledShare, Holding, NodeBill, Swap, Trail
from neocloud.cli.common import bad_input, db_url, human_width, stdout_console
from neocloud.cli.views import iso, short_time
from neocloud.services.custody import CustodyService

out = stdout_console()

DbOpt = Annotated[
    str | None, typer.Option("--db", help="Database URL (default: $NEOCLOUD_DB or sqlite:///neocloud.db).")
]
JsonOpt = Annotated[bool, typer.Option("--json", help="Print JSON (documented in docs/cli.md).")]


def custody(
    serial: Annotated[str, typer.Argument(help="A GPU serial, a node serial or a node id.")],
    db: DbOpt = None,
    as_json: JsonOpt = False,
) -> None:
    """Where a GPU or node sits, its health history, who held it when, and what each
    tenant was billed and credited for it (for an RMA claim or a billing dispute)."""
    with bad_input():
        billing = bootstrap.billing_service(db_url(db))
        trail = CustodyService(billing.leasing, billing).trail(serial)
    if as_json:
        print(json.dumps(trail_json(trail), indent=2))
        return
    width = human_width(out)
    _node(trail)
    _health(trail, width)
    _holdings(trail, width)
    _billing(trail, width)


def trail_json(trail: Trail) -> dict[str, Any]:
    """The trail as ``--json`` prints it (docs/cli.md)."""
    found, node = trail.located, trail.located.node
    return {
        "serial": trail.serial,
        "matched": found.matched.value,
        "node": {
            "id": node.id,
            "serial": node.serial,
            "gpu_model": node.gpu_model,
            "gpu_count": node.gpu_count,
            "site": node.site,
            "pod": node.pod,
            "block": node.block,
            "rack": node.rack,
            "nvlink_domain": node.nvlink_domain,
            "health": node.health.value,
            "gpu_index": found.gpu_index,
            "gpu_serial": found.gpu_serial,
            "gpu_serials": list(node.gpu_serials),
        },
        "health": [
            {"at": iso(s.at_s), "from": s.from_state.value, "to": s.to_state.value, "reason": s.reason}
            for s in trail.health
        ],
        "holdings": [_holding_json(h) for h in trail.holdings],
        "billing": [billed_json(b) for b in trail.billing],
        "bills": [bill_json(b) for b in trail.bills],
        "billing_note": trail.billing_note,
    }


def billed_json(b: BilledShare) -> dict[str, Any]:
    """One attributed line: amounts as decimal strings in ``currency``."""
    return {
        "document": b.document,
        "credit_note": b.credit_note,
        "state": b.state,
        "tenant": b.tenant,
        "lease": b.lease_id,
        "period": b.period,
        "kind": b.kind.value,
        "description": b.description,
        "currency": b.amount.currency,
        "line_amount": str(b.line_amount.amount),
        "node_gpu_s": b.node_gpu_s,
        "basis_gpu_s": b.basis_gpu_s,
        "amount": str(b.amount.amount),
    }


def bill_json(b: NodeBill) -> dict[str, Any]:
    """Billed and credited for the node per lease and period (decimal strings)."""
    return {
        "lease": b.lease_id,
        "tenant": b.tenant,
        "period": b.period,
        "currency": b.billed.currency,
        "billed": str(b.billed.amount),
        "credited": str(b.credited.amount),
        "net": str(b.net.amount),
    }


def _holding_json(h: Holding) -> dict[str, Any]:
    return {
        "kind": h.kind.value,
        "holder": h.holder,
        "lease": h.lease_id,
        "tenant": h.tenant,
        "start": iso(h.start_s),
        "end": iso(h.end_s),
        "swapped_in": _swap_json(h.swapped_in),
        "swapped_out": _swap_json(h.swapped_out),
    }


def _swap_json(s: Swap | None) -> dict[str, Any] | None:
    return None if s is None else {"at": iso(s.at_s), "node": s.other_node, "reason": s.reason}


def _node(trail: Trail) -> None:
    found, node = trail.located, trail.located.node
    what = f"GPU {found.gpu_index} of node {node.id}" if found.gpu_index is not None else f"node {node.id}"
    out.print(f"{trail.serial}: {what} (serial {node.serial})", highlight=False, markup=False, soft_wrap=True)
    out.print("\nnode", style="bold", highlight=False)
    place = f"site {node.site}, pod {node.pod}, block {node.block}, rack {node.rack or '-'}"
    out.print(f"  {place}", highlight=False, markup=False)
    out.print(f"  NVLink domain {node.nvlink_domain}", highlight=False, markup=False)
    gpus = f"{node.gpu_count} x {node.gpu_model}, {node.health.value} now"
    tracked = f"{len(node.gpu_serials)} GPU serials" if node.gpu_serials else "GPU serials not tracked"
    out.print(f"  {gpus}; {tracked}", highlight=False, markup=False)


def _health(trail: Trail, width: int) -> None:
    out.print(f"\nhealth ({len(trail.health)} record{'s' if len(trail.health) != 1 else ''})", style="bold")
    if not trail.health:
        out.print("  healthy throughout: no record", highlight=False)
        return
    table = Table(box=box.SIMPLE_HEAD, pad_edge=False)
    for name in ("at", "from", "to"):
        table.add_column(name, no_wrap=True)
    table.add_column("reason", overflow="fold")
    for s in trail.health:
        table.add_row(short_time(s.at_s), s.from_state.value, s.to_state.value, s.reason)
    out.print(table, width=width)


def _holdings(trail: Trail, width: int) -> None:
    out.print(f"\nholdings ({len(trail.holdings)})", style="bold")
    if not trail.holdings:
        out.print("  never held", highlight=False)
        return
    table = Table(box=box.SIMPLE_HEAD, pad_edge=False)
    for name in ("from", "until"):
        table.add_column(name, no_wrap=True)
    for name in ("holder", "tenant", "swap"):
        table.add_column(name, overflow="fold")
    for h in trail.holdings:
        holder = h.holder if h.kind.value == "lease" else f"{h.kind.value} {h.holder}"
        table.add_row(short_time(h.start_s), short_time(h.end_s), holder, h.tenant or "-", _swaps(h))
    out.print(table, width=width)


def _swaps(h: Holding) -> str:
    parts = []
    if h.swapped_in is not None:
        parts.append(f"in from {h.swapped_in.other_node} ({h.swapped_in.reason})")
    if h.swapped_out is not None:
        parts.append(f"out to {h.swapped_out.other_node} ({h.swapped_out.reason})")
    return "; ".join(parts) or "-"


def _billing(trail: Trail, width: int) -> None:
    out.print(f"\nbilling ({len(trail.billing)} line{'s' if len(trail.billing) != 1 else ''})", style="bold")
    if not trail.billing:
        out.print(f"  {trail.billing_note or 'nothing billed'}", highlight=False, markup=False, soft_wrap=True)
        return
    table = Table(box=box.SIMPLE_HEAD, pad_edge=False)
    for name in ("period", "document"):
        table.add_column(name, no_wrap=True)
    for name in ("lease / tenant", "kind"):
        table.add_column(name, overflow="fold")
    for name in ("node share", "amount"):
        table.add_column(name, justify="right", no_wrap=True)
    for b in trail.billing:
        share = f"{100 * b.node_gpu_s / b.basis_gpu_s:.2f}%"
        kind = "credit note" if b.credit_note else b.kind.value
        table.add_row(b.period, b.document, f"{b.lease_id} {b.tenant}", kind, share, str(b.amount.amount))
    out.print(table, width=width)
    out.print("per lease and period", highlight=False)
    sums = Table(box=box.SIMPLE_HEAD, pad_edge=False)
    sums.add_column("period", no_wrap=True)
    sums.add_column("lease / tenant", overflow="fold")
    for name in ("billed", "credited", "net"):
        sums.add_column(name, justify="right", no_wrap=True)
    for s in trail.bills:
        amounts = (f"{m.amount} {m.currency}" for m in (s.billed, s.credited, s.net))
        sums.add_row(s.period, f"{s.lease_id} {s.tenant}", *amounts)
    out.print(sums, width=width)
