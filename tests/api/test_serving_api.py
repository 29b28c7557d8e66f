"""``POST /v1/serving/plan``: who may plan from which capacity, and bad input.

On the two-tenant world (``isolation_world``), with the fake model port (one dense
model ``dense-70`` on H100 and H200 systems)."""

from __future__ import annotations

from collections import Counter
from typing import Any

import pytest

from neocloud.domain.clock import to_s
from neocloud.domain.ledger import HolderKind
from neocloud.web.routes import COOKIE
from tests.api.isolation_world import A, B, TwoTenants, build, client


@pytest.fixture(scope="module")
def world() -> TwoTenants:
    return build()


def post(world: TwoTenants, who: str, body: dict[str, Any]) -> Any:
    with client(world) as http:
        return http.post("/v1/serving/plan", json=body, headers={"Authorization": f"Bearer {world.token[who]}"})


def held_now(world: TwoTenants, lease_id: str) -> Counter[str]:
    """GPUs by model of a lease's own nodes now (its term's nearest instant), from the ledger."""
    lease = next(le for le in world.services.leasing.leases() if le.id == lease_id)
    now = max(lease.start_s, min(to_s(world.clock.now()), lease.end_s - 1))
    nodes = {n.id: n for n in world.services.leasing.fleet().nodes}
    held: Counter[str] = Counter()
    for b in world.services.leasing.lease_bookings(lease_id):
        if b.kind is HolderKind.LEASE and b.start_s <= now < b.end_s:
            held[nodes[b.node].gpu_model] += nodes[b.node].gpu_count
    return held


def test_a_tenant_plans_from_its_own_lease_with_the_gpus_it_holds_and_not_its_spares(world: TwoTenants) -> None:
    lease = next(le for le in world.leases_of(A) if le.request.spares is not None and le.state.value == "active")
    spares = [b for b in world.services.leasing.lease_bookings(lease.id) if b.kind is HolderKind.SPARE]
    assert spares  # the lease holds a spare node now, which serves nothing until a swap
    r = post(world, A, {"lease": lease.id, "model": "dense-70", "tiers": [], "plans": []})
    assert r.status_code == 200, r.text
    plan = r.json()
    assert plan["capacity"]["gpus"] == dict(held_now(world, lease.id)) == {"H100": lease.gpus}
    assert plan["capacity"]["source"] == f"lease {lease.id}"
    served = [m for m in plan["models"] if m["served"]]
    assert served
    assert all(m["tpot_ms"] <= plan["target"]["tpot_ms"] for m in served)


def test_another_tenants_lease_is_not_found_in_the_words_for_one_never_issued(world: TwoTenants) -> None:
    theirs = world.leases_of(B)[0].id
    foreign = post(world, A, {"lease": theirs, "model": "dense-70"})
    never = post(world, A, {"lease": "L-ffffffffffff", "model": "dense-70"})
    assert foreign.status_code == never.status_code == 404
    assert foreign.json()["detail"].replace(theirs, "X") == never.json()["detail"].replace("L-ffffffffffff", "X")


def test_the_operator_plans_from_any_tenants_lease_and_from_a_site(world: TwoTenants) -> None:
    theirs = world.leases_of(B)[0].id
    assert post(world, "operator", {"lease": theirs, "model": "dense-70"}).status_code == 200
    site = post(world, "operator", {"site": "s2", "model": "dense-70"})
    assert site.status_code == 200, site.text
    assert site.json()["capacity"]["gpus"] == {"H200": 64}


def test_counts_plan_for_any_key_and_default_tiers_and_plans_are_filled_in(world: TwoTenants) -> None:
    r = post(world, A, {"gpus": "H100=800,H200=160", "model": "dense-70"})
    assert r.status_code == 200, r.text
    plan = r.json()
    assert [t["name"] for t in plan["tiers"]] == ["start", "scale"]
    assert [p["name"] for p in plan["plans"]] == ["pro", "max"]
    assert plan["tiers"][1]["published"]["source"].startswith("[R76]")


@pytest.mark.parametrize(
    ("body", "field"),
    [
        ({"gpus": "A100=8", "model": "dense-70"}, "gpus"),
        ({"gpus": "H100=8", "site": "s1", "model": "dense-70"}, "capacity"),
        ({"model": "dense-70"}, "capacity"),
        ({"gpus": "H100=8", "model": "dense-70", "isl": 0}, "isl"),
        ({"gpus": "H100=8", "model": "dense-70", "precision": "int3"}, "precision"),
        ({"gpus": "H100=8", "model": "no-such-model"}, "model"),
        ({"gpus": "H100=8", "model": "dense-70", "headroom": 1.5}, "headroom"),
        (
            {"gpus": "H100=8", "model": "dense-70", "plans": [{"name": "max", "users": 10, "share": 1.5}]},
            "plans.0.share",
        ),
        (
            {
                "gpus": "H100=8",
                "model": "dense-70",
                "tiers": [{"name": "t", "orgs": 1, "share": 0.7}],
                "plans": [{"name": "p", "users": 1, "share": 0.7}],
            },
            "share",
        ),
    ],
)
def test_a_bad_field_is_a_422_naming_it(world: TwoTenants, body: dict[str, Any], field: str) -> None:
    r = post(world, "operator", body)
    assert r.status_code == 422, r.text
    assert field in {e["field"] for e in r.json()["errors"]}


def test_planning_writes_nothing(world: TwoTenants) -> None:
    before = world.services.leasing.read_token()
    post(world, "operator", {"site": "s1", "model": "dense-70"})
    assert world.services.leasing.read_token() == before


def test_the_page_says_so_when_no_measurements_are_at_hand(world: TwoTenants) -> None:
    lease = world.leases_of(A)[1].id
    with client(world) as http:
        http.cookies.set(COOKIE, world.token[A])
        page = http.get(f"/serving?lease={lease}&model=dense-70")
    assert page.status_code == 200
    assert 'id="no-measurements"' in page.text
    assert 'id="serving-models-table"' in page.text


def page_for(world: TwoTenants, who: str, query: str = "") -> Any:
    with client(world) as http:
        http.cookies.set(COOKIE, world.token[who])
        return http.get(f"/serving{query}")


def test_a_tenant_opening_the_page_sees_the_plan_of_its_first_lease_and_why() -> None:
    world = build()
    first = next(le for le in world.services.leasing.leases() if le.tenant == A)
    page = page_for(world, A, "?model=dense-70")
    assert page.status_code == 200
    assert f"Showing lease {first.id}, the first of your leases" in page.text
    assert 'id="serving-models-table"' in page.text
    assert f'value="{first.id}" selected' in page.text


def test_the_operator_opening_the_page_sees_the_plan_of_the_first_site() -> None:
    world = build()
    first = world.services.leasing.fleet().sites[0].name
    page = page_for(world, "operator", "?model=dense-70")
    assert page.status_code == 200
    assert f"Showing site {first}, the first site" in page.text
    assert 'id="serving-models-table"' in page.text


def test_the_page_names_each_rows_mode_and_explains_a_limit_that_rounds_to_zero(world: TwoTenants) -> None:
    page = page_for(world, "operator", "?gpus=H100=8&model=dense-70")
    assert page.status_code == 200
    assert "Best aggregated configuration" not in page.text
    assert "<th>Mode</th>" in page.text
    assert ("<td>aggregated</td>" in page.text) or ("<td>prefill/decode split</td>" in page.text)
    assert "RPM rounds to 0: this share gives each of 200,000 organisations" in page.text
    assert "messages per 5 h rounds to 0: this share gives each of 5,000,000 users" in page.text
