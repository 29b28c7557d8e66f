"""Regressions for what the schemathesis fuzzing (test_fuzz.py) found."""

from __future__ import annotations

import pytest

from tests.api.conftest import World
from tests.api.test_behaviour import PROBLEM, book

OPERATIONS = ("get", "post", "put", "patch", "delete")


def test_every_v1_operation_documents_its_problem_details(world: World) -> None:
    """Each refers to the one ProblemOut in components: inlined in ~300 responses it was
    85% of the document, and Swagger UI drew that too slowly on a loaded CI machine."""
    spec = world.app.openapi()
    problem = spec["components"]["schemas"]["ProblemOut"]
    assert {"title", "status", "detail"} <= set(problem["properties"])
    for path, operations in spec["paths"].items():
        if not path.startswith("/v1/"):
            continue
        for method, op in operations.items():
            if method not in OPERATIONS:
                continue
            for status in ("400", "401", "403", "404", "409", "422"):
                content = op["responses"][status]["content"]
                assert list(content) == [PROBLEM], (method, path, status)
                assert content[PROBLEM]["schema"] == {"$ref": "#/components/schemas/ProblemOut"}


def test_a_body_that_is_not_utf8_is_a_documented_400_problem(world: World) -> None:
    r = world.client.post(
        "/v1/tenants",
        content=b"\x12\xff\xfe\xce\xbc",
        headers={**world.auth("operator"), "Content-Type": "application/json"},
    )
    assert r.status_code == 400
    assert r.headers["content-type"] == PROBLEM


@pytest.mark.parametrize(
    ("method", "path", "allow"),
    [
        ("TRACE", "/healthz", "GET, HEAD"),
        ("OPTIONS", "/v1/leases", "GET, HEAD, POST"),  # two routes: Starlette named only the first
        ("PUT", "/v1/tenants", "GET, HEAD, POST"),
        ("OPTIONS", "/v1/leases/quote", "POST"),  # not /v1/leases/{lease_id}
        ("DELETE", "/v1/leases/L-1", "GET, HEAD"),
    ],
)
def test_a_405_lists_every_method_of_the_resource_in_allow(world: World, method: str, path: str, allow: str) -> None:
    r = world.client.request(method, path, headers=world.auth("operator"))
    assert r.status_code == 405
    assert r.headers["content-type"] == PROBLEM
    assert r.headers["allow"] == allow


@pytest.mark.parametrize("instant", ["0001-01-01T00:00:00+00:01", "9999-12-31T23:59:59-01:00"])
def test_an_instant_utc_cannot_hold_is_a_422_not_a_500(world: World, instant: str) -> None:
    lease = book(world, "operator", tenant="acme-ai")["id"]
    r = world.client.post(f"/v1/leases/{lease}/extend", json={"end": instant}, headers=world.auth("operator"))
    assert r.status_code == 422, r.text
    assert r.headers["content-type"] == PROBLEM
    assert r.json()["errors"][0]["field"] == "end"
    quote = {"tenant": "acme-ai", "gpus": 8, "start": instant, "end": "2027-02-01"}
    r = world.client.post("/v1/leases/quote", json=quote, headers=world.auth("operator"))
    assert r.status_code == 422, r.text


def test_two_concurrent_retries_with_one_idempotency_key_book_once() -> None:
    """Review finding: each request built its own Idempotency, so its per-key lock was never shared."""
    import threading
    import time

    from fastapi.testclient import TestClient

    from neocloud.api.app import create_app
    from neocloud.domain.clock import ManualClock
    from neocloud.services.demo import build_demo
    from tests.api.conftest import START, memory_services
    from tests.api.test_roles import lease_body

    services = memory_services(ManualClock(START))
    keys = build_demo(services)
    original = services.leasing.create

    def slow(*args: object, **kwargs: object) -> object:
        result = original(*args, **kwargs)  # type: ignore[arg-type]
        time.sleep(0.3)  # keep the first request in flight while the retry arrives
        return result

    services.leasing.create = slow  # type: ignore[method-assign]
    headers = {"Authorization": f"Bearer {keys.tenants['initech']}", "Idempotency-Key": "retry-1"}
    before = len(services.leasing.leases(tenant="initech"))
    answers: list[object] = []
    with TestClient(create_app(services)) as client:
        threads = [
            threading.Thread(
                target=lambda: answers.append(client.post("/v1/leases", json=lease_body(), headers=headers))
            )
            for _ in range(2)
        ]
        for t in threads:
            t.start()
        for t in threads:
            t.join(timeout=30)
    assert len(services.leasing.leases(tenant="initech")) - before == 1
    assert sorted(a.headers.get("idempotent-replayed") or "" for a in answers) == ["", "true"]  # type: ignore[attr-defined]
