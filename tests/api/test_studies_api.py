"""Stored studies over the API (operator only): the list, a whole study, a keep-vs-lease
study started on the served fleet that runs to done in the background, and what a
tenant, an unknown id and a bad payload get."""

from __future__ import annotations

import threading
import time
from typing import Any

import pytest

from neocloud.domain.studies import StudyKind
from tests.api.conftest import World

#: a tiny study on the demo fleet: two fractions of demo-west's blocks, the demo's own work
TINY: dict[str, Any] = {
    "name": "tiny",
    "fractions": [0, 0.5],
    "candidates": {"level": "blocks", "sites": ["demo-west"]},
    "internal": "demo",
    "lease": {"tenant": "acme-ai", "start": "2027-01-05", "end": "2028-01-05", "price_per_gpu_hour": "2.35"},
}


def _recorded(world: World, name: str = "kept") -> str:
    study = world.services.studies.record(
        StudyKind.SWEEP, name, actor="cli:test", inputs={"policies": "fifo"}, result={"rows": [], "about": {}}, total=3
    )
    return study.id


def _until_finished(world: World, study_id: str) -> dict[str, Any]:
    """Poll the study until it is no longer running: at most 600 polls of 50 ms."""
    seen = []
    for _ in range(600):
        body = world.client.get(f"/v1/studies/{study_id}", headers=world.auth("operator")).json()
        seen.append((body["status"], body["done"]))
        if body["status"] != "running":
            body["seen"] = seen
            return body
        time.sleep(0.05)
    raise AssertionError(f"study {study_id} still running after 30 s: {seen[-3:]}")


def test_the_list_and_a_study_show_what_was_stored(world: World):
    study_id = _recorded(world)
    listed = world.client.get("/v1/studies", headers=world.auth("operator"))
    assert listed.status_code == 200
    (row,) = listed.json()
    assert {k: row[k] for k in ("id", "kind", "name", "status", "done", "total", "progress")} == {
        "id": study_id,
        "kind": "sweep",
        "name": "kept",
        "status": "done",
        "done": 3,
        "total": 3,
        "progress": 1.0,
    }
    assert "result" not in row
    whole = world.client.get(f"/v1/studies/{study_id}", headers=world.auth("operator")).json()
    assert whole["inputs"] == {"policies": "fifo"}
    assert whole["result"] == {"rows": [], "about": {}}
    assert whole["created"].endswith("Z")
    assert whole["finished"] == whole["created"]


def test_a_keep_vs_lease_study_started_by_post_runs_to_done_in_the_background(world: World):
    r = world.client.post("/v1/studies/keep-vs-lease", json=TINY, headers=world.auth("operator"))
    assert r.status_code == 202, r.text
    started = r.json()
    assert (started["status"], started["done"], started["total"], started["result"]) == ("running", 0, 2, None)
    assert started["inputs"]["internal"] == "demo"
    done = _until_finished(world, started["id"])
    assert done["status"] == "done", done["error"]
    assert done["done"] == 2
    assert [o["fraction"] for o in done["result"]["options"]] == [0, 0.5]
    assert done["result"]["options"][1]["leased_units"]  # whole blocks of demo-west
    assert done["result"]["recommendation"]
    assert all(d <= 2 for _, d in done["seen"])


def test_a_name_in_use_is_a_409_and_starts_nothing(world: World):
    _recorded(world, "tiny")
    r = world.client.post("/v1/studies/keep-vs-lease", json=TINY, headers=world.auth("operator"))
    assert r.status_code == 409, r.text
    assert "'tiny'" in r.json()["detail"]
    assert len(world.services.studies.studies()) == 1


def _with(path: str, value: Any) -> dict[str, Any]:
    body = {**TINY, "lease": dict(TINY["lease"]), "candidates": dict(TINY["candidates"])}
    head, _, tail = path.partition(".")
    if tail:
        body[head][tail] = value
    else:
        body[head] = value
    return body


@pytest.mark.parametrize(
    ("body", "field"),
    [
        (_with("fractions", [0, 1.5]), "fractions"),
        (_with("fractions", [0.5, 0.5]), "fractions"),
        (_with("fractions", []), "fractions"),
        (_with("candidates.level", "racks"), "candidates.level"),
        (_with("candidates.sites", ["mars"]), "candidates"),
        (_with("internal", "nowhere"), "internal"),
        (_with("internal", "philly:/no/such/trace.csv"), "internal"),
        (_with("policy", "random"), "policy"),
        (_with("placement", "anywhere"), "placement"),
        (_with("name", "no spaces"), "name"),
        (_with("lease.end", "2026-01-01"), "lease.end"),
        (_with("lease.price_per_gpu_hour", None), "lease"),
        (_with("lease.price_per_gpu_hour", "-1"), "lease"),
        (_with("internal_scale", 0), "internal_scale"),
        ({**TINY, "surprise": 1}, "surprise"),
    ],
)
def test_a_bad_payload_is_a_422_naming_the_field_and_writes_nothing(world: World, body: dict[str, Any], field: str):
    r = world.client.post("/v1/studies/keep-vs-lease", json=body, headers=world.auth("operator"))
    assert r.status_code == 422, r.text
    assert field in r.text
    assert world.services.studies.studies() == []


def test_an_unknown_study_is_a_404(world: World):
    r = world.client.get("/v1/studies/S-nope", headers=world.auth("operator"))
    assert r.status_code == 404
    assert "S-nope" in r.json()["detail"]


def test_a_tenant_never_sees_a_study(world: World):
    study_id = _recorded(world)
    for method, path, body in (
        ("GET", "/v1/studies", None),
        ("GET", f"/v1/studies/{study_id}", None),
        ("GET", "/v1/studies/S-nope", None),
        ("POST", "/v1/studies/keep-vs-lease", {**TINY, "name": "theirs"}),
    ):
        for tenant in ("acme-ai", "frontier-lab"):
            r = world.client.request(method, path, json=body, headers=world.auth(tenant))
            assert r.status_code == 403, (method, path, r.text)
            assert "kept" not in r.text
            assert "policies" not in r.text
    assert [s.name for s in world.services.studies.studies()] == ["kept"]
    assert world.client.get("/v1/studies", headers=world.auth("none")).status_code == 401


def _held_study(world: World, monkeypatch: pytest.MonkeyPatch, release: threading.Event, fail: bool = False) -> str:
    """POST a study whose computation waits for ``release`` (at most 30 s), after one fraction."""
    real = world.services.studies.prepare_keep_vs_lease

    def held(ask: Any) -> Any:
        run = real(ask)

        def waiting(progress: Any) -> Any:
            progress(0.0)
            assert release.wait(30), "the test never released the study"
            if fail:
                raise RuntimeError("the simulator ran out of patience")
            return run(lambda _f: None)

        return waiting

    monkeypatch.setattr(world.services.studies, "prepare_keep_vs_lease", held)
    r = world.client.post("/v1/studies/keep-vs-lease", json=TINY, headers=world.auth("operator"))
    assert r.status_code == 202, r.text
    return str(r.json()["id"])


def _until(world: World, study_id: str, done: int) -> dict[str, Any]:
    for _ in range(600):  # at most 30 s
        body = world.client.get(f"/v1/studies/{study_id}", headers=world.auth("operator")).json()
        if body["done"] >= done:
            return body
        time.sleep(0.05)
    raise AssertionError(f"study {study_id} never reached {done} done")


def test_the_server_answers_while_a_study_runs_and_shows_its_progress(world: World, monkeypatch: pytest.MonkeyPatch):
    release = threading.Event()
    study_id = _held_study(world, monkeypatch, release)
    try:
        running = _until(world, study_id, 1)
        assert (running["status"], running["done"], running["total"], running["progress"]) == ("running", 1, 2, 0.5)
        listed = world.client.get("/v1/studies", headers=world.auth("operator")).json()
        assert [(s["id"], s["status"]) for s in listed] == [(study_id, "running")]
        assert world.client.get("/v1/leases", headers=world.auth("operator")).status_code == 200
    finally:
        release.set()
    assert _until_finished(world, study_id)["status"] == "done"


def test_a_study_that_fails_in_the_background_keeps_its_error(world: World, monkeypatch: pytest.MonkeyPatch):
    release = threading.Event()
    study_id = _held_study(world, monkeypatch, release, fail=True)
    release.set()
    failed = _until_finished(world, study_id)
    assert (failed["status"], failed["done"], failed["result"]) == ("failed", 1, None)
    assert failed["error"] == "RuntimeError: the simulator ran out of patience"
