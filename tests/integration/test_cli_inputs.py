"""The CLI applies the same input rules as the API: tenant names, key labels, health
times, the lease horizon, operator prices, bounded counts and contradicting options.
Each refusal exits 2 naming the option or field and writes nothing."""

from __future__ import annotations

import os
from datetime import timedelta
from pathlib import Path

import pytest
from typer.testing import CliRunner

from neocloud.cli.main import app
from tests.integration.test_cli_ledger import GOOD, Ledger, day, now, run, text, window


def refused(ledger: Ledger, *args: str, message: str) -> None:
    before = ledger.state(), ledger.ok("tenant", "list", "--json").stdout, ledger.ok("keys", "list", "--json").stdout
    result = ledger(*args)
    assert result.exit_code == 2, result.output
    assert message in text(result.stderr), result.stderr
    assert result.stdout == ""
    after = ledger.state(), ledger.ok("tenant", "list", "--json").stdout, ledger.ok("keys", "list", "--json").stdout
    assert after == before


@pytest.mark.parametrize(
    ("name", "message"),
    [
        ("ACME", "name: tenant 'ACME' already exists as 'acme' (names are unique regardless of case)"),
        (" beta", "starts or ends with whitespace"),
        ("beta\x00", "contains U+0000"),
        ("be\u202eta", "contains U+202E (RIGHT-TO-LEFT OVERRIDE)"),
        ("beta\ngamma", "contains U+000A"),
        ("b" * 100_000, "name: 100,000 characters; at most 63"),
    ],
)
def test_tenant_add_refuses_a_name_breaking_the_rule(ledger: Ledger, name: str, message: str) -> None:
    refused(ledger, "tenant", "add", name, message=message)


def test_keys_create_refuses_a_200_kb_label(ledger: Ledger) -> None:
    refused(ledger, "keys", "create", "--operator", "--label", "x" * 200_000, message="label: 200,000 characters")


def test_node_fail_refuses_a_time_in_the_future_or_long_ago(ledger: Ledger) -> None:
    node = "dw-b0001-n001"
    refused(ledger, "node", "fail", node, "--at", "1970-01-01", message="at: 1970-01-01T00:00:00Z is more than 3 days")
    refused(ledger, "node", "fail", node, "--at", day(30), message=f"at: {day(30)}T00:00:00Z is in the future")
    # dated back, but not before the fleet was loaded (the ledger fixture just did): this second
    just_now = now().isoformat(timespec="seconds")
    assert f"node {node} failed" in ledger.ok("node", "fail", node, "--at", just_now).stdout


def test_lease_dates_past_the_horizon_are_refused(ledger: Ledger) -> None:
    for command in ("quote", "create"):
        args = ["lease", command, *GOOD, "--start", day(10), "--end", "9999-12-31"]
        refused(ledger, *args, message="end: 9999-12-31T00:00:00Z is more than 10 years ahead")
    lease = ledger.create("--gpus", "8", "--model", "H100", *window())
    refused(ledger, "lease", "extend", lease["id"], "--end", "9999-12-31", message="more than 10 years ahead")


@pytest.mark.parametrize(
    ("options", "message"),
    [
        (["--price", "1e999"], "price: 1E+999 USD is out of range"),
        (["--price", "0"], "price: 0 USD is out of range"),
        (["--price", "1e308 USD"], "price: 1E+308 USD is out of range"),
        (["--price", "2.12345"], "price: 2.12345 has more than 4 decimal places"),
        (["--sla", "99.9999"], "sla: 99.9999 has more than 3 decimal places"),
        (["--gpus", "99999999999999999999"], "'--gpus': Input should be less than or equal to 10000000"),
        (["--gpus", "0"], "'--gpus': Input should be greater than or equal to 1"),
        (["--step", f"{day(20)}={'9' * 5000}"], "--step"),
        (["--step", f"{day(20)}=99999999999"], "steps[0].gpus: must be positive and at most 10,000,000"),
        (["--spares", "block:100000"], "spares.count: must be positive and at most 1,000"),
        (["--whole-site", "demo-west"], "gpus, whole_site: give only one of gpus, unit (with units) or whole_site"),
        (["--unit", "block"], "gpus, unit: give only one of"),
        (["--units", "2"], "units: only with unit"),
    ],
)
def test_lease_options_are_bounded_and_consistent(ledger: Ledger, options: list[str], message: str) -> None:
    for command in ("quote", "create"):
        refused(ledger, "lease", command, *GOOD, "--start", day(10), "--end", day(40), *options, message=message)


def test_whole_units_are_bounded(ledger: Ledger) -> None:
    args = ["--tenant", "acme", "--unit", "block", "--start", day(10), "--end", day(40)]
    refused(ledger, "lease", "quote", *args, "--units", "0", message="'--units': Input should be greater")
    refused(ledger, "lease", "quote", *args, "--units", "10000000", message="'--units': Input should be less")


def test_shrink_takes_a_bounded_gpu_count(ledger: Ledger) -> None:
    lease = ledger.create("--gpus", "16", "--model", "H100", *window())
    refused(ledger, "lease", "shrink", lease["id"], "--gpus", "0", message="'--gpus': Input should be greater")
    refused(ledger, "lease", "shrink", lease["id"], "--gpus", "1" + "0" * 30, message="'--gpus': Input should be less")


def invoke(ledger: Ledger, env: dict[str, str], *args: str) -> tuple[int, str, str]:
    result = CliRunner().invoke(app, [*args, "--db", ledger.db], env={"COLUMNS": "100", **env})
    return result.exit_code, result.stdout, text(result.stderr)


def test_a_lease_without_price_gets_the_books_price_and_the_environments_sla(ledger: Ledger) -> None:
    env = {"NEOCLOUD_LIST_PRICE": "3.10 EUR", "NEOCLOUD_DEFAULT_SLA": "99.5"}
    code, out, err = invoke(ledger, env, "lease", "create", *GOOD, *window(), "--json")
    assert code == 0, err
    assert '"price_version": 1' in out  # the seeded book, not the list price
    assert '"price_override": false' in out
    assert '"currency": "USD"' in out
    assert '"sla_availability_pct": "99.5"' in out
    code, out, err = invoke(ledger, env, "lease", "create", *GOOD, *window(), "--price", "4", "--json")
    assert code == 0, err
    assert '"price_per_gpu_hour": "4"' in out
    assert '"currency": "EUR"' in out  # the list price's currency unless one is given


@pytest.mark.parametrize(
    ("env", "message"),
    [
        (
            {"NEOCLOUD_LIST_PRICE": "1e999"},
            "NEOCLOUD_LIST_PRICE/NEOCLOUD_DEFAULT_SLA: price: 1E+999 USD is out of range",
        ),
        ({"NEOCLOUD_HEALTH_BACKDATE_HOURS": "lots"}, "NEOCLOUD_HEALTH_BACKDATE_HOURS='lots'"),
    ],
)
def test_a_bad_operator_setting_is_bad_input_naming_the_variable(
    ledger: Ledger, env: dict[str, str], message: str
) -> None:
    before = ledger.state()
    code, _, err = invoke(ledger, env, "lease", "create", *GOOD, *window())
    assert code == 2
    assert message in err
    assert ledger.state() == before


def test_the_health_backdating_window_is_configurable(ledger: Ledger) -> None:
    two_hours_ago = (now() - timedelta(hours=2)).isoformat(timespec="seconds")
    env = {"NEOCLOUD_HEALTH_BACKDATE_HOURS": "1"}
    code, _, err = invoke(ledger, env, "node", "fail", "dw-b0001-n001", "--at", two_hours_ago)
    assert code == 2
    assert "is more than 1 hour ago" in err


def test_serve_refuses_a_body_limit_out_of_range(tmp_path: Path) -> None:
    db = f"sqlite:///{tmp_path / 'none.db'}"
    for value in ("10", str(1 << 31)):
        result = run("serve", "--max-body-bytes", value, "--db", db)
        assert result.exit_code == 2
        assert "'--max-body-bytes'" in text(result.stderr)
    assert not os.path.exists(tmp_path / "none.db")


@pytest.mark.parametrize(
    ("settings", "message"),
    [
        (["--set", "h100_gpus=1000000000000000"], "these settings make 1.00e+15 GPUs; a generated fleet has at most"),
        (["--set", "h100_gpus=1920001"], "these settings make 2,000,001 GPUs"),
    ],
)
def test_fleet_generate_refuses_settings_that_make_an_impossible_fleet(
    tmp_path: Path, settings: list[str], message: str
) -> None:
    out = tmp_path / "huge.yaml"
    result = run("fleet", "generate", "colossus-1", "-o", out, *settings)
    assert result.exit_code == 2, result.output
    assert message in text(result.stderr)
    assert not out.exists()


def test_fleet_generate_refuses_empty_blocks_or_pods(tmp_path: Path) -> None:
    result = run("fleet", "generate", "generic", "-o", tmp_path / "g.yaml", "--set", "blocks_per_pod=0")
    assert result.exit_code == 2
    assert "--set blocks_per_pod=0: must be at least 1" in text(result.stderr)
