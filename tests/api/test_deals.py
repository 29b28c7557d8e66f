"""``POST /v1/economics/deals`` and ``GET /v1/economics/book`` on the demo: the operator's
only, bad fields named, nothing written, and the book's figures consistent with the
ledger's leases."""

from __future__ import annotations

from decimal import Decimal
from pathlib import Path
from typing import Any

import pytest
from fastapi.testclient import TestClient

from neocloud import bootstrap
from neocloud.api.app import create_app
from neocloud.domain.clock import ManualClock
from neocloud.domain.leases import LIVE_STATES, LeaseState
from neocloud.services.demo import build_demo
from tests.api.conftest import START, World

DEAL = {
    "tenant": "newco",
    "site": "demo-west",
    "gpus": {"H100": 64},
    "start": "2027-02-01",
    "end": "2028-02-01",
    "monthly_fee": "150000",
    "ramp": ["0.5"],
    "notice_days": 90,
    "initial_months": 3,
}


def post(world: World, body: dict[str, Any], role: str = "operator") -> Any:
    return world.client.post("/v1/economics/deals", json=body, headers=world.auth(role))


def test_the_operator_gets_the_analysis_with_the_book_and_nothing_is_written(world: World) -> None:
    before = world.services.leasing.read_token()
    r = post(world, DEAL)
    assert r.status_code == 200, r.text
    data = r.json()
    assert data["gpus_by_model"] == {"H100": 64}
    assert data["total_revenue"] == "1725000.00"  # 11.5 fees of 150,000
    assert data["earliest_exit"] == "2027-07-30T00:00:00Z"  # 2027-05-01 + 90 days
    assert data["book"]["top_tenant"] == "frontier-lab"  # the whole-site GB200 lease is bigger
    assert {t["tenant"] for t in data["book"]["tenants"]} >= {"newco", "frontier-lab", "acme-ai"}
    assert world.services.leasing.read_token() == before
    assert "newco" not in world.services.leasing.tenants()


@pytest.mark.parametrize("path", ["/v1/economics/book"])
def test_tenants_get_403_and_no_key_401(world: World, path: str) -> None:
    assert world.client.get(path, headers=world.auth("acme-ai")).status_code == 403
    assert post(world, DEAL, role="acme-ai").status_code == 403
    assert world.client.get(path).status_code == 401


@pytest.mark.parametrize(
    ("change", "field", "words"),
    [
        ({"ramp": ["1.5"]}, "ramp.0", "less than or equal to 1"),
        ({"end": "2027-01-01"}, "start", "must be before end"),
        ({"gpus": {"H100": 100_000}}, "gpus", "100,000 H100 asked; demo-west has"),
        ({"site": "nowhere"}, "site", "no site 'nowhere'"),
        ({"price_per_gpu_hour": "2.35"}, "monthly_fee, price_per_gpu_hour", "give exactly one"),
        ({"initial_months": 500}, "initial_months", "less than or equal to 240"),
        ({"wacc": "1.5"}, "wacc", "less than 1"),
        ({"prepayment_amount": "99999999"}, "prepayment", "more than the contract's fees"),
    ],
)
def test_a_bad_deal_is_a_422_naming_the_field(world: World, change: dict[str, Any], field: str, words: str) -> None:
    r = post(world, {**DEAL, **change})
    assert r.status_code == 422, r.text
    assert r.headers["content-type"] == "application/problem+json"
    assert words in r.text
    assert any(e["field"] == field for e in r.json()["errors"]), r.json()["errors"]


def test_the_book_is_the_ledgers_live_leases_and_its_rows_sum_to_its_totals(world: World) -> None:
    r = world.client.get("/v1/economics/book", headers=world.auth("operator"))
    assert r.status_code == 200, r.text
    b = r.json()
    leases = [le for le in world.services.leasing.leases() if le.state in LIVE_STATES]
    assert {t["tenant"] for t in b["tenants"]} == {le.tenant for le in leases}
    assert sum(Decimal(t["backlog"]) for t in b["tenants"]) == Decimal(b["backlog"])
    assert sum(Decimal(t["revenue_at_risk"]) for t in b["tenants"]) == Decimal(b["revenue_at_risk"])
    # Independent: a reserved lease's backlog is its price x contracted GPU-hours from now
    # on (a wholesale one pays its card's monthly fee and ramp: tests/unit/test_deal_service.py).
    now = int(world.clock.now().timestamp())
    acme = next(le for le in leases if le.tenant == "acme-ai")
    hours = sum(Decimal(s.gpus * (s.end_s - max(s.start_s, now))) / 3600 for s in acme.contract if s.end_s > now)
    row = next(t for t in b["tenants"] if t["tenant"] == "acme-ai")
    assert Decimal(row["backlog"]) == pytest.approx(acme.price_per_gpu_hour.amount * hours, abs=Decimal(1))
    assert b["top_tenant"] == "frontier-lab"
    assert b["hhi_scale"] == 10_000
    # The held lease commits nothing: its backlog is all at risk and not take-or-pay.
    held = next(t for t in b["tenants"] if t["tenant"] == "initech")
    assert any(le.state is LeaseState.HELD for le in leases if le.tenant == "initech")
    assert held["take_or_pay_backlog"] == "0.00"
    assert held["revenue_at_risk"] == held["backlog"]
    sites = {c["site"] for c in b["commitments"]}
    assert sites == {"demo-east", "demo-west"}


def test_a_book_period_that_ends_before_it_starts_is_a_422(world: World) -> None:
    r = world.client.get("/v1/economics/book?start=2027-06-01&end=2027-01-01", headers=world.auth("operator"))
    assert r.status_code == 422
    assert "period: its start must be before its end" in r.text


def test_a_deal_on_capacity_already_committed_warns_who_holds_it(world: World) -> None:
    body = {**DEAL, "site": "demo-east", "gpus": None}  # the whole site, leased whole to frontier-lab
    data = post(world, body).json()
    (warning,) = data["warnings"]
    assert "are committed to frontier-lab during the term" in warning
    assert post(world, DEAL).json()["warnings"] == []  # 64 of demo-west's free H100s


def test_a_bad_override_file_fails_the_deal_request_not_the_server(tmp_path: Path, monkeypatch: Any) -> None:
    path = tmp_path / "ops.toml"
    path.write_text('[global.pue]\nvalue = 7\nsource = "x"\ndate = "y"\n')
    monkeypatch.setenv(bootstrap.ASSUMPTIONS_ENV, str(path))
    services = bootstrap.in_memory(ManualClock(START))
    keys = build_demo(services)
    with TestClient(create_app(services)) as client:
        r = client.post("/v1/economics/deals", json=DEAL, headers={"Authorization": f"Bearer {keys.operator}"})
        assert r.status_code == 422
        assert f"{path}: global.pue.value: 7 is out of range" in r.json()["detail"]
