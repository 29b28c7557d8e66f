"""``neocloud plan deal`` and ``plan book`` end to end: options, bad input (exit 2, a
message naming the option or field), the HTML page, and the book of a SQLite ledger."""

from __future__ import annotations

import json
from decimal import Decimal
from pathlib import Path

import pytest

from tests.integration.test_cli_ledger import HEALTHY_ONLY, Ledger, day, run, text, window

DEAL = ("plan", "deal", "--preset", "demo", "--site", "demo-west", "--tenant", "newco")


@pytest.fixture(scope="module")
def fleet_file(tmp_path_factory: pytest.TempPathFactory) -> Path:
    path = tmp_path_factory.mktemp("fleet") / "f.yaml"
    result = run("fleet", "generate", "demo", "-o", path, *HEALTHY_ONLY)
    assert result.exit_code == 0, result.output
    return path


@pytest.fixture
def ledger(tmp_path: Path, fleet_file: Path) -> Ledger:
    led = Ledger(f"sqlite:///{tmp_path / 'ledger.db'}")
    led.ok("init", "--fleet", fleet_file)
    led.ok("tenant", "add", "acme")
    return led


def test_a_deal_on_a_preset_site_with_a_prepayment_and_an_hourly_price() -> None:
    result = run(
        *DEAL,
        *("--gpus", "H100=64", "--price-per-gpu-hour", "2.35", "--start", "2027-01-01", "--end", "2028-01-01"),
        *("--prepay", "20%", "--wacc", "8%", "--json"),
    )
    assert result.exit_code == 0, result.output
    data = json.loads(result.stdout)
    revenue = Decimal("2.35") * 64 * 365 * 24
    assert Decimal(data["total_revenue"]) == revenue
    assert Decimal(data["prepayment"]) == (revenue / 5).quantize(Decimal("0.01"))
    assert data["wacc"] == 0.08
    assert data["book"] is None


def test_the_human_summary_fits_80_columns_and_names_the_figures() -> None:
    result = run(*DEAL, "--monthly-fee", "150K", "--start", "2027-01-01", "--end", "2028-01-01", "--notice-days", "30")
    assert result.exit_code == 0, result.output
    assert max(len(line) for line in result.stdout.splitlines()) <= 80
    flat = text(result.stdout)
    for words in ("annual revenue (run rate) 1.80M", "NPV at WACC", "revenue at risk (exit)", "implied price"):
        assert words in flat


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (("--gpus", "H100"), "--gpus: 'H100': expected MODEL=COUNT"),
        (("--monthly-fee", "lots"), "--monthly-fee 'lots': expected an amount"),
        (("--ramp", "0.5,x"), "--ramp '0.5,x': expected fractions"),
        (("--ramp", "2"), "ramp[0]: 2 is not a fraction of the fee from 0 to 1"),
        (("--gpus", "B200=8"), "gpus: 8 B200 asked; demo-west has 0"),
        (("--wacc", "1.5"), "wacc: 1.5 is not an annual rate"),
        (("--book", "mine"), "--book 'mine': one of none, ledger, demo"),
        (("--seed", "colossus-9"), "--seed 'colossus-9': unknown; available: colossus-1"),
    ],
)
def test_bad_options_exit_2_naming_the_option(args: tuple[str, ...], message: str) -> None:
    result = run(*DEAL, "--monthly-fee", "100K", "--start", "2027-01-01", "--end", "2028-01-01", *args)
    assert result.exit_code == 2, result.output
    assert message in text(result.stderr)


def test_without_a_seed_the_start_is_required() -> None:
    result = run(*DEAL, "--monthly-fee", "100K", "--end", "2028-01-01")
    assert result.exit_code == 2
    assert "--start: required (or give --seed)" in text(result.stderr)


def test_html_writes_a_standalone_page_with_the_cash_flow_chart(tmp_path: Path) -> None:
    page = tmp_path / "deal.html"
    result = run(*DEAL, "--monthly-fee", "100K", "--start", "2027-01-01", "--end", "2028-01-01", "--html", page)
    assert result.exit_code == 0, result.output
    html = page.read_text()
    assert 'data-chart="cash-chart-data"' in html
    assert "new window.Chart" in html  # the chart code is inlined: no server needed
    assert "/static/" not in html


def test_a_bad_deal_writes_no_html(tmp_path: Path) -> None:
    page = tmp_path / "deal.html"
    result = run(*DEAL, "--monthly-fee", "100K", "--start", "2028-01-01", "--end", "2027-01-01", "--html", page)
    assert result.exit_code == 2
    assert not page.exists()


def test_the_book_of_a_ledger_is_its_leases_price_times_gpu_hours(ledger: Ledger) -> None:
    lease = ledger.create("--gpus", "16", "--model", "H100", *window(10, 40), "--price", "3.00")
    assert lease["state"] == "confirmed"
    b = ledger.json("plan", "book")
    (row,) = b["tenants"]
    assert row["tenant"] == "acme"
    assert Decimal(row["backlog"]) == Decimal("3.00") * 16 * 30 * 24
    assert b["top1_backlog_share"] == 1.0
    assert b["hhi"] == pytest.approx(10_000)
    assert b["take_or_pay_share"] == 1.0
    (commitment,) = b["commitments"]
    assert (commitment["tenant"], commitment["gpus"], commitment["model"]) == ("acme", 16, "H100")
    human = text(ledger.ok("plan", "book").stdout)
    assert "HHI 10,000 of 10,000" in human


def test_a_deal_in_the_ledgers_book_shares_it_with_the_leases(ledger: Ledger) -> None:
    ledger.create("--gpus", "16", "--model", "H100", *window(10, 40), "--price", "3.00")
    args = ("--site", "demo-west", "--tenant", "newco", "--gpus", "H100=16", "--monthly-fee", "34560")
    data = ledger.json("plan", "deal", *args, "--start", day(10), "--end", day(40))
    book = data["book"]
    assert {t["tenant"] for t in book["tenants"]} == {"acme", "newco"}
    assert sum(t["backlog_share"] for t in book["tenants"]) == pytest.approx(1.0)


def test_a_bad_cost_override_exits_2_naming_the_file_and_key(tmp_path: Path) -> None:
    path = tmp_path / "ops.toml"
    path.write_text('[global.pue]\nvalue = 7\nsource = "x"\ndate = "y"\n')
    result = run(*DEAL, "--monthly-fee", "100K", "--start", "2027-01-01", "--end", "2028-01-01", "--assumptions", path)
    assert result.exit_code == 2
    assert "global.pue.value: 7 is out of range" in text(result.stderr)


def test_a_gb200_deal_is_not_set_against_h100_market_prices() -> None:
    args = ("plan", "deal", "--preset", "demo", "--site", "demo-east", "--tenant", "newco", "--gpus", "GB200=72")
    result = run(*args, "--monthly-fee", "150K", "--start", "2027-01-01", "--end", "2028-01-01", "--json")
    assert result.exit_code == 0, result.output
    assert json.loads(result.stdout)["market"] == []  # no GB200 market price is known [R5][R30]
    h100 = run(*DEAL, "--gpus", "H100=64", "--monthly-fee", "150K", "--start", "2027-01-01", "--end", "2028-01-01")
    assert "vs H100 on demand" in text(h100.stdout)
