"""Billing over HTTP on the demo: a run by the operator, invoices a tenant reads (its
own), CSV that adds up, state changes as 200 or 409, a run before the month ends 409
with when it ends, and the OpenAPI document describing every route and problem."""

from __future__ import annotations

import csv
import io
from decimal import Decimal

from tests.api.conftest import World

TENANT = "acme-ai"


def run_january(world: World) -> dict:
    world.clock.advance((28 * 24 + 1) * 3600)  # 2027-02-01 01:00 UTC
    r = world.client.post("/v1/billing/runs", json={"period": "2027-01"}, headers=world.auth("operator"))
    assert r.status_code == 201, r.text
    return r.json()


def test_the_operator_runs_january_and_each_tenant_reads_its_own_invoice(world: World) -> None:
    done = run_january(world)
    tenants = [i["tenant"] for i in done["invoices"]]
    assert TENANT in tenants
    assert len(tenants) == len(set(tenants)) >= 2
    mine = world.client.get("/v1/invoices", headers=world.auth(TENANT)).json()
    assert [i["tenant"] for i in mine["items"]] == [TENANT]
    invoice = mine["items"][0]
    assert invoice["id"] == f"INV-{TENANT}-2027-01"
    assert Decimal(invoice["total"]) == sum(Decimal(x["amount"]) for x in invoice["lines"]) > 0
    again = world.client.post("/v1/billing/runs", json={"period": "2027-01"}, headers=world.auth("operator"))
    assert (again.status_code, again.json()["invoices"], again.json()["credit_notes"]) == (201, [], [])
    other = next(i["id"] for i in done["invoices"] if i["tenant"] != TENANT)
    assert world.client.get(f"/v1/invoices/{other}", headers=world.auth(TENANT)).status_code == 404


def test_the_csv_of_an_invoice_adds_up_to_its_total(world: World) -> None:
    run_january(world)
    path = f"/v1/invoices/INV-{TENANT}-2027-01"
    as_json = world.client.get(path, headers=world.auth(TENANT)).json()
    for url in (f"{path}.csv", f"{path}?format=csv"):
        r = world.client.get(url, headers=world.auth(TENANT))
        assert r.headers["content-type"].startswith("text/csv")
        rows = list(csv.DictReader(io.StringIO(r.text)))
        assert rows[-1]["kind"] == "total"
        assert sum(Decimal(x["amount"]) for x in rows[:-1]) == Decimal(rows[-1]["amount"]) == Decimal(as_json["total"])
    bad = world.client.get(f"{path}?format=xml", headers=world.auth(TENANT))
    assert bad.status_code == 422


def test_state_changes_follow_the_table_and_the_rest_are_409(world: World) -> None:
    run_january(world)
    path = f"/v1/invoices/INV-{TENANT}-2027-01"
    ops = world.auth("operator")
    issue = world.client.post(f"{path}/issue", json={"reason": "again"}, headers=ops)
    assert issue.status_code == 409
    assert issue.json()["detail"].endswith("cannot go from issued to issued; allowed from issued: paid, void")
    paid = world.client.post(f"{path}/pay", json={"reason": "wire 2027-02-03"}, headers=ops)
    assert paid.status_code == 200
    assert paid.json()["state"] == "paid"
    assert world.client.post(f"{path}/void", json={"reason": "too late"}, headers=ops).status_code == 409
    assert world.client.post(f"{path}/pay", json={"reason": ""}, headers=ops).status_code == 422
    assert world.client.post("/v1/invoices/INV-nope/pay", json={"reason": "x"}, headers=ops).status_code == 404


def test_voiding_an_issued_invoice_answers_with_its_credit_note(world: World) -> None:
    run_january(world)
    path = f"/v1/invoices/INV-{TENANT}-2027-01"
    r = world.client.post(f"{path}/void", json={"reason": "re-issued by contract"}, headers=world.auth("operator"))
    assert r.status_code == 200
    body = r.json()
    assert body["invoice"]["state"] == "void"
    assert body["credit_note"]["invoice_id"] == body["invoice"]["id"]
    assert body["credit_note"]["total"] == body["invoice"]["total"]
    notes = world.client.get("/v1/credit-notes", headers=world.auth(TENANT)).json()["items"]
    assert [n["id"] for n in notes] == [body["credit_note"]["id"]]


def test_a_run_before_the_month_ends_is_409_saying_when_it_ends_and_a_preview_is_200(world: World) -> None:
    ops = world.auth("operator")
    early = world.client.post("/v1/billing/runs", json={"period": "2027-01"}, headers=ops)
    assert early.status_code == 409
    assert early.json()["detail"].startswith("2027-01 ends 2027-02-01 00:00 UTC")
    preview = world.client.post("/v1/billing/runs", json={"period": "2027-01", "dry_run": True}, headers=ops)
    assert preview.status_code == 200
    assert {i["state"] for i in preview.json()["invoices"]} == {"draft"}
    assert world.client.get("/v1/invoices", headers=ops).json()["items"] == []
    for body, field in (({"period": "2027-1"}, "period"), ({"period": "2027-01", "tz": "Nowhere"}, "tz")):
        bad = world.client.post("/v1/billing/runs", json=body, headers=ops)
        assert bad.status_code == 422
        assert [e["field"] for e in bad.json()["errors"]] == [field]


def test_openapi_documents_the_billing_routes_and_their_problems(world: World) -> None:
    spec = world.client.get("/openapi.json").json()
    paths = spec["paths"]
    for path, method in (
        ("/v1/billing/runs", "post"),
        ("/v1/invoices", "get"),
        ("/v1/invoices/{invoice_id}", "get"),
        ("/v1/invoices/{invoice_id}.csv", "get"),
        ("/v1/invoices/{invoice_id}/pay", "post"),
        ("/v1/invoices/{invoice_id}/void", "post"),
        ("/v1/credit-notes", "get"),
    ):
        responses = paths[path][method]["responses"]
        assert {"401", "404", "409", "422"} <= set(responses), path
    assert "text/csv" in paths["/v1/invoices/{invoice_id}.csv"]["get"]["responses"]["200"]["content"]


def test_a_deposit_of_a_billion_billion_dollars_is_422_naming_the_amount_not_a_500(world: World) -> None:
    ops = world.auth("operator")
    for amount in ("1e999999", "1" + "0" * 30):
        r = world.client.post("/v1/billing/deposits", json={"tenant": TENANT, "amount": amount}, headers=ops)
        assert r.status_code == 422, r.text
        assert r.json()["errors"][0]["field"] == "amount"
