"""``neocloud lease maintenance`` and the amendments of ``neocloud lease show`` end to
end against SQLite; late health reports with ``node fail --at``."""

from __future__ import annotations

from datetime import timedelta

import pytest

from tests.integration.test_cli_ledger import Ledger, day, now, text, window
from tests.integration.test_cli_piped import _piped


def test_a_window_announced_with_notice_is_shown_as_an_amendment(ledger: Ledger) -> None:
    lease = ledger.create("--gpus", "64", "--model", "H100", *window(1, 40))
    args = ("--from", day(10), "--to", f"{day(10)}T04:00:00Z", "--reason", "PDU swap")
    data = ledger.json("lease", "maintenance", lease["id"], *args)
    (a,) = data["amendments"]
    assert (a["kind"], a["reason"], a["window"]) == (
        "maintenance",
        "PDU swap",
        {"start": f"{day(10)}T00:00:00Z", "end": f"{day(10)}T04:00:00Z"},
    )
    ledger.ok("lease", "extend", lease["id"], "--end", day(60))
    shown = ledger.json("lease", "show", lease["id"])
    assert [x["kind"] for x in shown["amendments"]] == ["maintenance", "extend"]
    assert shown["maintenance_notice_s"] == 7 * 86_400
    human = text(ledger.ok("lease", "show", lease["id"]).stdout)
    assert "amendments" in human
    table = human[human.index("amendments") :].split()  # cells fold within 80 columns
    assert {"maintenance", "until", "PDU", "swap", "extend", "end", day(10), day(40), day(60)} <= set(table)
    assert table.index("maintenance") < table.index("extend")  # oldest first


def test_the_amendments_table_fits_80_columns_piped(ledger: Ledger) -> None:
    lease = ledger.create("--gpus", "64", "--model", "H100", *window(1, 40))
    reason = "replace the rear-door heat exchanger of the rack and re-seat every NVLink cable"
    ledger.ok("lease", "maintenance", lease["id"], "--from", day(10), "--to", day(11), "--reason", reason)
    ledger.ok("lease", "shrink", lease["id"], "--gpus", "32", "--from", day(20))
    shown = _piped(["lease", "show", lease["id"], "--db", ledger.db])
    lines = shown[shown.index("amendments") :].splitlines()
    assert any("shrink" in line for line in lines)
    assert max(len(line) for line in lines) <= 80
    assert "re-seat every NVLink cable" in " ".join(" ".join(lines).split())


def test_a_lease_created_with_a_shorter_notice_takes_a_window_that_soon(ledger: Ledger) -> None:
    lease = ledger.create("--gpus", "8", "--model", "H100", *window(1, 40), "--maintenance-notice-days", "1")
    assert lease["maintenance_notice_s"] == 86_400
    ledger.ok("lease", "maintenance", lease["id"], "--from", day(3), "--to", day(4), "--reason", "firmware")
    bad = ledger(
        "lease", "create", "--tenant", "acme", "--gpus", "8", *window(1, 40), "--maintenance-notice-days", "400"
    )
    assert bad.exit_code == 2
    assert "--maintenance-notice-days" in text(bad.stderr)


def test_a_window_with_too_little_notice_exits_3_with_the_reason_and_writes_nothing(ledger: Ledger) -> None:
    lease = ledger.create("--gpus", "8", "--model", "H100", *window(1, 40))
    before = ledger.state()
    refused = ledger("lease", "maintenance", lease["id"], "--from", day(3), "--to", day(4), "--reason", "firmware")
    assert refused.exit_code == 3, refused.output
    assert "but its contract requires 7 days of notice" in text(refused.stderr)
    assert ledger.state() == before


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (("--from", "2027-13-01", "--to", "2027-02-01", "--reason", "x"), "--from"),
        (("--from", "2030-02-02", "--to", "2030-02-01", "--reason", "x"), "--to: the window must end after --from"),
        (("--from", "2030-02-01", "--to", "2030-02-02", "--reason", ""), "reason: say why"),
    ],
)
def test_bad_window_options_exit_2_naming_the_option_and_write_nothing(
    ledger: Ledger, args: tuple[str, ...], message: str
) -> None:
    lease = ledger.create("--gpus", "8", "--model", "H100", *window(1, 40))
    before = ledger.state()
    result = ledger("lease", "maintenance", lease["id"], *args)
    assert result.exit_code == 2, result.output
    assert message in text(result.stderr)
    assert ledger.state() == before


def test_a_failure_dated_before_the_fleet_was_loaded_exits_2_and_writes_nothing(ledger: Ledger) -> None:
    node = ledger.json("lease", "create", "--tenant", "acme", "--gpus", "8", "--model", "H100", *window(1, 2))
    before = ledger.state()
    an_hour_ago = (now() - timedelta(hours=1)).isoformat()
    result = ledger("node", "fail", "de-b0001-n001", "--at", an_hour_ago)
    assert result.exit_code == 2, result.output
    assert "is before the fleet was loaded" in text(result.stderr)
    assert ledger.state() == before
    assert node["state"] == "confirmed"
