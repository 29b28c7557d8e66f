"""The ledger commands end to end against SQLite: init, tenant, lease, availability,
node, events and keys; bad input exits 2 writing nothing, refusals exit 3."""

from __future__ import annotations

import json
import re
import time
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest
from click.testing import Result
from typer.testing import CliRunner

from neocloud.cli.main import app
from neocloud.domain.access import parse_token

_ANSI = re.compile(r"\x1b\[[0-9;]*m")
HEALTHY_ONLY = ("--set", "failed_fraction=0", "--set", "degraded_fraction=0", "--set", "maintenance_fraction=0")


def now() -> datetime:
    # The CLI reads the system clock, so the tests' dates must be in the future of it.
    return datetime.fromtimestamp(time.time(), UTC)  # noqa: TID251


def day(days: int) -> str:
    return (now() + timedelta(days=days)).date().isoformat()


def run(*args: str | Path) -> Result:
    return CliRunner().invoke(app, list(map(str, args)), env={"FORCE_COLOR": None, "COLUMNS": "100"})


def text(stream: str) -> str:
    return " ".join(_ANSI.sub("", stream).split())


class Ledger:
    """A fresh SQLite database with the healthy demo fleet and tenant ``acme``."""

    def __init__(self, db: str) -> None:
        self.db = db

    def __call__(self, *args: str | Path) -> Result:
        return run(*args, "--db", self.db)

    def ok(self, *args: str | Path) -> Result:
        result = self(*args)
        assert result.exit_code == 0, result.output
        return result

    def json(self, *args: str | Path) -> Any:
        return json.loads(self.ok(*args, "--json").stdout)

    def create(self, *args: str) -> dict[str, Any]:
        data: dict[str, Any] = self.json("lease", "create", "--tenant", "acme", *args)
        return data

    def state(self) -> tuple[str, str]:
        """Everything a bad command could have written: the leases and the event log."""
        return (
            self.ok("lease", "list", "--json").stdout,
            self.ok("events", "--json", "--limit", "10000").stdout,
        )


@pytest.fixture(scope="module")
def fleet_file(tmp_path_factory: pytest.TempPathFactory) -> Path:
    path = tmp_path_factory.mktemp("fleet") / "f.yaml"
    result = run("fleet", "generate", "demo", "-o", path, *HEALTHY_ONLY)
    assert result.exit_code == 0, result.output
    return path


@pytest.fixture
def ledger(tmp_path: Path, fleet_file: Path) -> Ledger:
    led = Ledger(f"sqlite:///{tmp_path / 'ledger.db'}")
    result = led.ok("init", "--fleet", fleet_file)
    assert "272 nodes, 1,600 GPUs" in text(result.stdout)
    assert "tenant acme added" in led.ok("tenant", "add", "acme").stdout
    return led


def window(start: int = 10, end: int = 40) -> list[str]:
    return ["--start", day(start), "--end", day(end)]


# -- init and tenants ------------------------------------------------------------------


def test_tenants_are_listed_sorted_and_a_duplicate_is_bad_input(ledger: Ledger) -> None:
    ledger.ok("tenant", "add", "zeta")
    ledger.ok("tenant", "add", "beta")
    assert ledger.json("tenant", "list") == ["acme", "beta", "zeta"]
    result = ledger("tenant", "add", "beta")
    assert result.exit_code == 2
    assert "name: tenant 'beta' already exists" in text(result.stderr)


def test_init_twice_is_bad_input(ledger: Ledger, fleet_file: Path) -> None:
    result = ledger("init", "--fleet", fleet_file)
    assert result.exit_code == 2
    assert "already holds fleet 'demo'" in text(result.stderr)


# -- quote -----------------------------------------------------------------------------


def test_quote_that_fits_prices_it_and_books_nothing(ledger: Ledger) -> None:
    before = ledger.state()
    data = ledger.json("lease", "quote", "--tenant", "acme", "--gpus", "64", "--model", "H100", *window(10, 40))
    assert data["feasible"] is True
    assert (data["model"], data["gpus"], data["nodes"], data["spares"]) == ("H100", 64, 8, 0)
    assert data["gpu_hours"] == str(64 * 30 * 24)
    assert data["total"] == "165473.28"  # 46,080 GPU-hours at 3.5910 USD: seeded reserved, 30 days 0.10 off 3.99
    assert (data["tier"], data["price_version"], data["price_per_gpu_hour"]) == ("reserved", 1, "3.5910")
    assert data["currency"] == "USD"
    assert data["contract"] == [{"start": f"{day(10)}T00:00:00Z", "end": f"{day(40)}T00:00:00Z", "gpus": 64}]
    assert sum(data["nodes_by_block"].values()) == 8
    assert ledger.state() == before


def test_quote_that_does_not_fit_exits_3_with_alternatives(ledger: Ledger) -> None:
    args = ("--tenant", "acme", "--gpus", "512", "--model", "H100", "--locality", "block", *window())
    result = ledger("lease", "quote", *args, "--json")
    assert result.exit_code == 3
    data = json.loads(result.stdout)
    assert data["feasible"] is False
    assert "do not fit in one block" in data["reason"]
    kinds = {a["kind"]: a for a in data["alternatives"]}
    assert kinds["fewer_gpus"]["gpus"] == 256
    assert kinds["looser_locality"]["locality"] == "pod"
    human = ledger("lease", "quote", *args)
    assert human.exit_code == 3
    assert "does not fit" in text(human.stdout)
    assert "alternative (looser_locality)" in text(human.stdout)


# -- create, list, show ----------------------------------------------------------------


def test_create_confirms_and_lists_and_shows_the_lease(ledger: Ledger) -> None:
    lease = ledger.create("--gpus", "64", "--model", "H100", *window())
    assert lease["state"] == "confirmed"
    assert lease["hold_expires"] is None
    assert lease["quote"]["total"] == "165473.28"  # priced from the seeded book (reserved, 30 days)
    assert lease["id"].startswith("L-")
    listed = ledger.json("lease", "list")
    assert [x["id"] for x in listed] == [lease["id"]]
    assert listed[0].keys() == lease.keys() - {"quote"}
    view = ledger.json("lease", "show", lease["id"])
    assert len(view["bookings"]) == 8
    assert {b["kind"] for b in view["bookings"]} == {"lease"}
    assert sum(b["nodes"] for b in view["blocks"]) == 8
    assert sum(b["gpus"] for b in view["blocks"]) == 64
    assert view["blocks_at"] == lease["start"]  # not started: what it starts with
    assert [(h["from"], h["to"]) for h in view["history"]] == [("quoted", "confirmed")]
    assert view["capacity"][0]["contracted_gpus"] == 64
    assert all(p.keys() == {"from", "contracted_gpus", "delivered_gpus"} for p in view["capacity"])
    human = text(ledger.ok("lease", "show", lease["id"]).stdout)
    assert f"{lease['id']} confirmed" in human
    assert "bookings: lease 8" in human


def test_a_hold_lasts_as_long_as_asked(ledger: Ledger) -> None:
    held = ledger.create("--gpus", "8", "--model", "H100", *window(), "--hold", "--hold-minutes", "90")
    created = datetime.fromisoformat(held["created"].replace("Z", "+00:00"))
    expires = datetime.fromisoformat(held["hold_expires"].replace("Z", "+00:00"))
    assert (expires - created).total_seconds() == 90 * 60
    assert (
        ledger(
            "lease",
            "create",
            "--tenant",
            "acme",
            "--gpus",
            "8",
            "--model",
            "H100",
            *window(),
            "--hold",
            "--hold-minutes",
            "0",
        ).exit_code
        == 2
    )


def test_create_with_hold_then_confirm_and_cancel(ledger: Ledger) -> None:
    held = ledger.create("--gpus", "64", "--model", "H200", *window(), "--hold")
    assert held["state"] == "held"
    assert held["hold_expires"] is not None
    assert ledger.json("lease", "list", "--state", "held")[0]["id"] == held["id"]
    assert "confirmed" in ledger.ok("lease", "confirm", held["id"]).stdout
    refused = ledger("lease", "confirm", held["id"])
    assert refused.exit_code == 3
    assert "cannot go from confirmed to confirmed" in text(refused.stderr)
    assert "cancelled" in ledger.ok("lease", "cancel", held["id"]).stdout
    refused = ledger("lease", "cancel", held["id"])
    assert refused.exit_code == 3
    assert "cancelled to cancelled" in text(refused.stderr)
    assert ledger.json("lease", "show", held["id"])["state"] == "cancelled"


def test_whole_site_step_and_spares(ledger: Ledger) -> None:
    site = ledger.create("--whole-site", "demo-east", *window())
    assert (site["unit"], site["units"], site["site"], site["gpus"]) == ("site", 1, "demo-east", 576)
    stepped = ledger.create("--gpus", "32", "--model", "H200", *window(), "--step", f"{day(20)}=64")
    assert [c["gpus"] for c in stepped["contract"]] == [32, 64]
    assert stepped["contract"][1]["start"] == f"{day(20)}T00:00:00Z"
    spared = ledger.create("--gpus", "32", "--model", "H200", *window(), "--spares", "block:1")
    assert spared["quote"]["spares"] == 1
    kinds = [b["kind"] for b in ledger.json("lease", "show", spared["id"])["bookings"]]
    assert kinds.count("lease") == 4
    assert len(kinds) == 5
    assert {x["id"] for x in ledger.json("lease", "list", "--tenant", "acme")} == {
        site["id"],
        stepped["id"],
        spared["id"],
    }
    assert ledger.json("lease", "list", "--tenant", "nobody") == []


# -- extend, shrink, terminate ----------------------------------------------------------


def test_extend_and_shrink_and_their_refusals(ledger: Ledger) -> None:
    lease = ledger.create("--gpus", "64", "--model", "H100", *window(10, 40))
    out = text(ledger.ok("lease", "extend", lease["id"], "--end", day(60)).stdout)
    assert f"64 GPUs {day(10)} to {day(60)}" in out
    refused = ledger("lease", "extend", lease["id"], "--end", day(20))
    assert refused.exit_code == 3
    # times in refusals read as dates, not epoch seconds
    assert f"the lease already ends at {day(60)}T00:00:00Z" in text(refused.stderr)
    out = text(ledger.ok("lease", "shrink", lease["id"], "--gpus", "32", "--from", day(20)).stdout)
    assert f"64 GPUs {day(10)} to {day(20)}, 32 GPUs {day(20)} to {day(60)}" in out
    refused = ledger("lease", "shrink", lease["id"], "--gpus", "33", "--from", day(30))
    assert refused.exit_code == 3
    assert "whole 8-GPU nodes" in text(refused.stderr)
    # without --from a lease that has not started yet shrinks from its start
    other = ledger.create("--gpus", "32", "--model", "H200", *window(10, 40))
    out = text(ledger.ok("lease", "shrink", other["id"], "--gpus", "16").stdout)
    assert f"lease {other['id']} confirmed: 16 GPUs {day(10)} to {day(40)}" in out
    refused = ledger("lease", "terminate", lease["id"])
    assert refused.exit_code == 3
    assert "only an active lease can be terminated" in text(refused.stderr)


def test_terminate_an_active_lease(ledger: Ledger) -> None:
    start = now() + timedelta(seconds=2)
    lease = ledger.create("--gpus", "8", "--model", "H100", "--start", start.isoformat(), "--end", day(30))
    time.sleep(max(0.0, (start - now()).total_seconds()) + 1.1)
    out = text(ledger.ok("lease", "terminate", lease["id"]).stdout)
    assert f"lease {lease['id']} terminated" in out
    view = ledger.json("lease", "show", lease["id"])
    assert [h["to"] for h in view["history"]] == ["confirmed", "active", "terminated"]
    refused = ledger("lease", "terminate", lease["id"])
    assert refused.exit_code == 3
    assert "refused" in text(refused.stderr)


# -- availability, nodes, events --------------------------------------------------------


def test_availability_counts_what_leases_hold(ledger: Ledger) -> None:
    free = {r["model"]: r for r in ledger.json("availability", *window())}
    assert {m: r["free_gpus"] for m, r in free.items()} == {"GB200": 576, "H100": 512, "H200": 512}
    ledger.create("--gpus", "64", "--model", "H100", *window())
    rows = ledger.json("availability", *window(), "--model", "H100")
    assert [r["model"] for r in rows] == ["H100"]
    (h100,) = rows
    assert (h100["total_gpus"], h100["healthy_gpus"], h100["free_gpus"]) == (512, 512, 448)
    assert h100["largest_free"].keys() == {"nvlink_domain", "block", "pod", "site"}
    assert h100["series"][0] == {"from": f"{day(10)}T00:00:00Z", "free_gpus": 448}
    east = ledger.json("availability", *window(), "--site", "demo-east")
    assert {r["model"]: r["total_gpus"] for r in east} == {"GB200": 576, "H100": 0, "H200": 0}


def test_a_failed_leased_node_is_swapped_then_repaired_and_maintained(ledger: Ledger) -> None:
    lease = ledger.create("--gpus", "64", "--model", "H100", *window())
    node = ledger.json("lease", "show", lease["id"])["bookings"][0]["node"]
    out = text(ledger.ok("node", "fail", node, "--reason", "psu").stdout)
    assert f"node {node} failed" in out
    assert f"{lease['id']}: {node} -> " in out
    nodes = {b["node"] for b in ledger.json("lease", "show", lease["id"])["bookings"]}
    assert node not in nodes
    assert len(nodes) == 8
    refused = ledger("node", "degrade", node)
    assert refused.exit_code == 3
    assert "cannot go from failed to degraded" in text(refused.stderr)
    assert f"node {node} healthy" in ledger.ok("node", "repair", node).stdout
    assert f"node {node} degraded" in ledger.ok("node", "degrade", node).stdout
    ledger.ok("node", "repair", node)
    out = text(ledger.ok("node", "maintenance", node, *window(50, 51)).stdout)
    assert f"maintenance on {node} {day(50)}T00:00:00Z to {day(51)}T00:00:00Z" in out
    kinds = [e["kind"] for e in ledger.json("events", "--node", node)]
    assert "node.failed" in kinds
    assert all(e["node"] == node for e in ledger.json("events", "--node", node))


def test_events_filters(ledger: Ledger) -> None:
    ledger.ok("tenant", "add", "beta")
    a = ledger.create("--gpus", "8", "--model", "H100", *window())
    b = ledger.create("--gpus", "8", "--model", "H200", *window(), "--hold")
    ledger.ok("lease", "cancel", b["id"])
    every = ledger.json("events")
    assert [e["seq"] for e in every] == sorted(e["seq"] for e in every)
    assert every[0].keys() == {"seq", "kind", "subject", "at", "actor", "tenant", "lease", "node", "before", "after"}
    of_b = ledger.json("events", "--lease", b["id"])
    assert {e["lease"] for e in of_b} == {b["id"]}
    assert of_b[-1]["after"]["state"] == "cancelled"
    assert {e["subject"] for e in ledger.json("events", "--kind", "lease.")} >= {a["id"], b["id"]}
    assert all(e["kind"].startswith("tenant.") for e in ledger.json("events", "--kind", "tenant."))
    assert [e["subject"] for e in ledger.json("events", "--tenant", "beta")] == ["beta"]
    assert len(ledger.json("events", "--limit", "2")) == 2
    assert ledger.json("events", "--since", day(1)) == []
    human = text(ledger.ok("events", "--lease", a["id"]).stdout)
    assert "lease.created" in human


# -- keys ------------------------------------------------------------------------------


def test_keys_token_is_shown_once_and_never_listed(ledger: Ledger) -> None:
    result = ledger.ok("keys", "create", "--operator", "--label", "ops")
    lines = result.stdout.strip().splitlines()
    token = lines[-1]
    assert "Token, shown once" in text(result.stdout)
    assert token.startswith("nc_")
    (key,) = ledger.json("keys", "list")
    assert key.keys() == {"id", "role", "tenant", "label", "created", "created_by", "revoked"}
    assert (key["role"], key["tenant"], key["label"], key["revoked"]) == ("operator", None, "ops", None)
    assert key["created"].endswith("Z")
    listing = ledger.ok("keys", "list", "--json").stdout + ledger.ok("keys", "list").stdout
    assert token not in listing
    parsed = parse_token(token)
    assert parsed is not None
    assert parsed[1] not in listing  # the secret, which may itself contain "_"
    assert "hash" not in listing
    assert f"key {key['id']} revoked" in ledger.ok("keys", "revoke", key["id"]).stdout
    assert ledger.json("keys", "list")[0]["revoked"] is not None
    tenant_key = ledger.ok("keys", "create", "--tenant", "acme")
    assert "(tenant acme)" in text(tenant_key.stdout)


@pytest.mark.parametrize(
    ("args", "message"),
    [
        ((), "give exactly one of --tenant NAME or --operator"),
        (("--operator", "--tenant", "acme"), "give exactly one of --tenant NAME or --operator"),
        (("--tenant", "nobody"), "unknown tenant 'nobody'"),
    ],
)
def test_keys_create_bad_input(ledger: Ledger, args: tuple[str, ...], message: str) -> None:
    result = ledger("keys", "create", *args)
    assert result.exit_code == 2
    assert message in text(result.stderr)
    assert ledger.json("keys", "list") == []


def test_keys_revoke_unknown(ledger: Ledger) -> None:
    result = ledger("keys", "revoke", "nope")
    assert result.exit_code == 2
    assert "no key 'nope'" in text(result.stderr)


# -- bad input writes nothing -------------------------------------------------------------


GOOD = ("--tenant", "acme", "--gpus", "8", "--model", "H100")


def _bad_create() -> list[tuple[list[str], str]]:
    start, end = day(10), day(40)
    base = [*GOOD, "--start", start, "--end", end]
    return [
        ([*GOOD, "--start", "2027-13-45", "--end", end], "--start '2027-13-45': not a date"),
        ([*GOOD, "--start", "next tuesday", "--end", end], "--start 'next tuesday': not a date"),
        ([*GOOD, "--start", end, "--end", start], "start: must be before end"),
        ([*GOOD, "--start", day(-3), "--end", end], "start: is in the past"),
        (["--tenant", "nobody", *GOOD[2:], "--start", start, "--end", end], "tenant: unknown tenant 'nobody'"),
        ([*GOOD[:4], "--model", "Z900", "--start", start, "--end", end], "model: no 'Z900' GPUs in the fleet"),
        ([*GOOD[:2], "--gpus", "8000", *GOOD[4:], "--start", start, "--end", end], "gpus: 8,000 requested"),
        ([*GOOD[:2], "--gpus", "0", *GOOD[4:], "--start", start, "--end", end], "'--gpus': Input should be greater"),
        ([*GOOD[:2], "--start", start, "--end", end], "give --gpus N"),
        ([*base, "--price", "abc"], "--price 'abc': 'abc' is not a number"),
        ([*base, "--price", "-1 USD"], "--price '-1 USD': must be a finite amount"),
        ([*base, "--sla", "x"], "--sla 'x': not a number"),
        ([*base, "--sla", "150"], "sla: availability must be above 0"),
        ([*base, "--step", "tomorrow"], "--step 'tomorrow': expected DATE=GPUS"),
        ([*base, "--step", f"{day(20)}=lots"], "expected DATE=GPUS"),
        ([*base, "--step", "2027-99-01=16"], "--step '2027-99-01': not a date"),
        ([*base, "--spares", "block"], "--spares 'block': expected UNIT:COUNT"),
        ([*base, "--spares", "rack:1"], "spares.per: must be nvlink_domain or block"),
        ([*base, "--site", "mars"], "site: unknown site 'mars'"),
    ]


@pytest.mark.parametrize("command", ["create", "quote"])
@pytest.mark.parametrize("case", range(len(_bad_create())))
def test_bad_lease_request_exits_2_naming_the_field_and_writes_nothing(ledger: Ledger, command: str, case: int) -> None:
    args, message = _bad_create()[case]
    ledger.create("--gpus", "8", "--model", "H200", *window())
    before = ledger.state()
    result = ledger("lease", command, *args)
    assert result.exit_code == 2, result.output
    assert message in text(result.stderr)
    assert result.stdout == ""
    assert ledger.state() == before


def test_unknown_lease_or_node_and_bad_dates_exit_2_and_write_nothing(ledger: Ledger) -> None:
    lease = ledger.create("--gpus", "8", "--model", "H100", *window())
    before = ledger.state()
    cases: list[tuple[list[str], str]] = [
        (["lease", "show", "L-nope"], "no lease 'L-nope'"),
        (["lease", "confirm", "L-nope"], "no lease 'L-nope'"),
        (["lease", "cancel", "L-nope"], "no lease 'L-nope'"),
        (["lease", "extend", "L-nope", "--end", day(50)], "no lease 'L-nope'"),
        (["lease", "shrink", "L-nope", "--gpus", "8"], "no lease 'L-nope'"),
        (["lease", "terminate", "L-nope"], "no lease 'L-nope'"),
        (["lease", "extend", lease["id"], "--end", "soon"], "--end 'soon': not a date"),
        (["lease", "shrink", lease["id"], "--gpus", "8", "--from", "x"], "--from 'x': not a date"),
        (["lease", "terminate", lease["id"], "--at", "x"], "--at 'x': not a date"),
        (["node", "fail", "nope"], "no node 'nope'"),
        (["node", "repair", "nope"], "no node 'nope'"),
        (["node", "degrade", "nope"], "no node 'nope'"),
        (["node", "fail", "dw-b0001-n001", "--at", "x"], "--at 'x': not a date"),
        (["node", "maintenance", "nope", *window()], "no node 'nope'"),
        (["node", "maintenance", "dw-b0001-n001", "--start", "x", "--end", day(3)], "--start 'x': not a date"),
        (["availability", "--start", day(40), "--end", day(10)], "start: must be before end"),
        (["availability", *window(), "--model", "Z900"], "model: unknown GPU model 'Z900'"),
        (["availability", *window(), "--site", "mars"], "site: unknown site 'mars'"),
        (["events", "--since", "yesterday"], "--since 'yesterday': not a date"),
        (["tenant", "add", ""], "name: must not be empty"),
        (["lease", "list", "--state", "sleeping"], "--state"),
    ]
    for args, message in cases:
        result = ledger(*args)
        assert result.exit_code == 2, (args, result.output)
        assert message in text(result.stderr), (args, result.stderr)
    assert ledger.state() == before


def test_a_missing_database_file_is_reported(tmp_path: Path) -> None:
    result = run("lease", "list", "--db", f"sqlite:///{tmp_path / 'none.db'}")
    assert result.exit_code == 2
    assert result.stderr
