"""``neocloud custody SERIAL`` against SQLite: the sections, the JSON, 80 columns, and
an unknown serial exiting 2."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from decimal import Decimal
from pathlib import Path

import pytest

from neocloud import bootstrap
from neocloud.domain.billing import period_of
from neocloud.domain.clock import to_s
from neocloud.domain.money import round_money
from tests.integration.test_cli_ledger import HEALTHY_ONLY, Ledger, run, text, window
from tests.integration.test_cli_piped import _on_terminal, _piped
from tests.invoice_builders import a_line, an_invoice


@pytest.fixture(scope="module")
def fleet_file(tmp_path_factory: pytest.TempPathFactory) -> Path:
    path = tmp_path_factory.mktemp("fleet") / "f.yaml"
    result = run("fleet", "generate", "demo", "-o", path, *HEALTHY_ONLY)
    assert result.exit_code == 0, result.output
    return path


@dataclass
class Swapped:
    ledger: Ledger
    lease: str
    failed: str
    replacement: str


@pytest.fixture
def swapped(tmp_path: Path, fleet_file: Path) -> Swapped:
    """acme's lease from day 10; one of its nodes failed now, before the lease began, so
    the failed node's booking is released and a replacement holds it from the start."""
    led = Ledger(f"sqlite:///{tmp_path / 'ledger.db'}")
    led.ok("init", "--fleet", fleet_file)
    led.ok("tenant", "add", "acme")
    lease = led.json("lease", "create", "--tenant", "acme", "--gpus", "64", "--model", "H100", *window())["id"]
    failed = led.json("lease", "show", lease)["bookings"][0]["node"]
    led.ok("node", "fail", failed, "--reason", "PSU failure on tray 2")
    [swap] = led.json("events", "--lease", lease, "--kind", "lease.swapped")
    return Swapped(led, lease, failed, swap["after"]["node"])


def test_a_gpu_serial_prints_its_node_health_holdings_and_billing_sections(swapped: Swapped) -> None:
    gpu = swapped.ledger.json("custody", swapped.replacement)["node"]["gpu_serials"][5]
    out = text(swapped.ledger.ok("custody", gpu).stdout)
    assert out.startswith(f"{gpu}: GPU 5 of node {swapped.replacement} (serial SN-")
    for section in ("node site", "health (0 records) healthy throughout", "holdings (1)", "billing"):
        assert section in out
    assert f"{swapped.lease} acme in from {swapped.failed} (node failed)" in out


def test_the_json_names_what_matched_and_every_record(swapped: Swapped) -> None:
    failed = swapped.ledger.json("custody", swapped.failed)
    assert failed["matched"] == "node_id"
    assert failed["node"]["id"] == swapped.failed
    assert failed["node"]["gpu_index"] is None
    assert len(failed["node"]["gpu_serials"]) == 8
    assert [(h["from"], h["to"], h["reason"]) for h in failed["health"]] == [
        ("healthy", "failed", "PSU failure on tray 2")
    ]
    assert failed["holdings"] == []  # released before the lease began: it never held the node
    took_over = swapped.ledger.json("custody", swapped.replacement)
    [held] = took_over["holdings"]
    assert (held["kind"], held["lease"], held["tenant"]) == ("lease", swapped.lease, "acme")
    assert held["swapped_in"]["node"] == swapped.failed
    assert held["swapped_out"] is None


def test_an_unknown_serial_exits_2_naming_the_field(swapped: Swapped) -> None:
    result = swapped.ledger("custody", "GPU-0000")
    assert result.exit_code == 2
    assert "serial: no GPU serial, node serial or node id 'GPU-0000' in the fleet" in text(result.stderr)
    assert result.stdout == ""


def test_a_stored_invoice_of_the_lease_is_shown_as_the_nodes_share(swapped: Swapped) -> None:
    begins = datetime.fromisoformat(swapped.ledger.json("lease", "show", swapped.lease)["start"].replace("Z", "+00:00"))
    month = period_of(to_s(begins))
    line = a_line(swapped.lease, "6400.00", period=month.label)
    with bootstrap.billing_service(swapped.ledger.db).store.writing() as w:
        w.add_invoice(an_invoice("INV-acme-x", "acme", month, lines=(line,)))
    [share] = swapped.ledger.json("custody", swapped.replacement)["billing"]
    assert (share["document"], share["tenant"], share["lease"], share["kind"]) == (
        "INV-acme-x",
        "acme",
        swapped.lease,
        "charge",
    )
    exact = Decimal(6400) * share["node_gpu_s"] / share["basis_gpu_s"]
    assert share["amount"] == str(round_money(exact, "USD"))
    out = text(swapped.ledger.ok("custody", swapped.replacement).stdout)
    assert "billing (1 line)" in out
    [bill] = swapped.ledger.json("custody", swapped.replacement)["bills"]
    assert (bill["billed"], bill["credited"], bill["net"]) == (share["amount"], "0.00", share["amount"])
    assert f"{swapped.lease} acme {share['amount']} USD 0.00 USD {share['amount']} USD" in out


def test_the_trail_fits_80_columns_piped_and_on_a_terminal(swapped: Swapped) -> None:
    args = ["custody", swapped.replacement, "--db", swapped.ledger.db]
    for lines in (_piped(args).splitlines(), _on_terminal(args, columns=80).splitlines()):
        assert len(lines) > 8
        assert max(len(line) for line in lines) <= 80
