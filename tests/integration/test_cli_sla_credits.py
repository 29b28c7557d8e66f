"""``lease create|quote --credit-tier BELOW:CREDIT --credit-cap PCT``: the lease states
its own SLA credit tiers and cap, ``lease show`` reads them in one line, and bad text
or bad tiers exit 2 naming the flag or the field, writing nothing."""

from __future__ import annotations

import pytest

from tests.integration.test_cli_ledger import GOOD, Ledger, text, window

TIERS = ("--credit-tier", "99.5:10", "--credit-tier", "95:25", "--credit-tier", "90:100")


def test_a_lease_created_with_credit_tiers_states_them_and_show_reads_them(ledger: Ledger) -> None:
    lease = ledger.create(*GOOD[2:], "--sla", "99.5", *TIERS, "--credit-cap", "50", *window())
    assert lease["sla_credits"] == {
        "tiers": [
            {"below_pct": "99.5", "credit_pct": "10"},
            {"below_pct": "95", "credit_pct": "25"},
            {"below_pct": "90", "credit_pct": "100"},
        ],
        "cap_pct": "50",
    }
    shown = text(ledger.ok("lease", "show", lease["id"]).stdout)
    assert "SLA 99.5%: credit 10% below 99.5, 25% below 95, 100% below 90; cap 50%" in shown


def test_a_lease_created_without_credit_tiers_shows_the_defaults_it_was_signed_with(ledger: Ledger) -> None:
    lease = ledger.create(*GOOD[2:], *window())
    shown = text(ledger.ok("lease", "show", lease["id"]).stdout)
    assert "SLA 99%: credit 10% below 99, 25% below 95, 100% below 90; cap 100%" in shown


@pytest.mark.parametrize("command", ["create", "quote"])
@pytest.mark.parametrize(
    ("flags", "message"),
    [
        (["--credit-tier", "99"], "--credit-tier '99': expected BELOW:CREDIT in percent, like 99:10"),
        (["--credit-tier", "ninety:10"], "--credit-tier 'ninety:10': 'ninety' is not a number of percent"),
        (["--credit-tier", "99:x"], "--credit-tier '99:x': 'x' is not a number of percent"),
        (["--credit-tier", "99:NaN"], "--credit-tier '99:NaN': 'NaN' is not a number of percent"),
        (["--credit-cap", "all"], "--credit-cap 'all': 'all' is not a number of percent"),
        (["--credit-tier", "99.5:10"], "sla_credits.tiers[0].below_pct: 99.5 is above the availability target 99"),
        (["--credit-tier", "95:30", "--credit-tier", "90:20"], "sla_credits.tiers[1].credit_pct: 20 is less than"),
        (["--credit-cap", "150"], "sla_credits.cap_pct: 150 is not above 0 and at most 100 percent"),
    ],
)
def test_bad_credit_tiers_exit_2_naming_the_flag_and_write_nothing(
    ledger: Ledger, command: str, flags: list[str], message: str
) -> None:
    before = ledger.state()
    result = ledger("lease", command, "--tenant", "acme", *GOOD[2:], *window(), *flags)
    assert result.exit_code == 2, result.output
    assert message in text(result.stderr), result.stderr
    assert result.stdout == ""
    assert ledger.state() == before
