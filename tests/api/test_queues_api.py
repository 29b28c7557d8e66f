"""Internal pools' live job queues over the API: a trace through the live driver (SQLite, a manual
clock, the API) gets the simulator's decisions in the simulator's order; operator only."""

from __future__ import annotations

import re
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any
from unittest import mock

import pytest
from fastapi.testclient import TestClient

from neocloud import bootstrap
from neocloud.api.app import create_app
from neocloud.domain.access import Role
from neocloud.domain.clock import ManualClock, to_s
from neocloud.domain.shape import Shape
from neocloud.domain.spec import build_fleet
from neocloud.placement.jobs import JobPlacement
from neocloud.placement.pool import GpuPool
from neocloud.placement.snapshot import build_snapshot
from neocloud.scheduling.cluster import Cluster
from neocloud.scheduling.cycle import run_cycle
from neocloud.scheduling.jobs import JobSpec, Preempt, Reject, Start
from neocloud.scheduling.policies import POLICIES
from neocloud.sim.driver import simulate
from tests.queue_trace import FLEET, TRACE

START = datetime(2027, 1, 4, tzinfo=UTC)


@dataclass
class Live:
    client: TestClient
    clock: ManualClock
    headers: dict[str, str]
    tenant_headers: dict[str, str]

    def post(self, path: str, body: dict[str, Any] | None = None, status: int = 200) -> Any:
        r = self.client.post(path, json=body, headers=self.headers)
        assert r.status_code == status, r.text
        return r.json()

    def get(self, path: str) -> Any:
        r = self.client.get(path, headers=self.headers)
        assert r.status_code == 200, r.text
        return r.json()


@pytest.fixture
def live(tmp_path: Path) -> Iterator[Live]:
    clock = ManualClock(START)
    services = bootstrap.services(f"sqlite:///{tmp_path / 'ledger.db'}", clock)
    services.leasing.init(build_fleet(FLEET), actor="test")
    now = to_s(START)
    services.leasing.assign_pool("train", Shape(("H100",), gpus=32), now, now + 365 * 86_400, actor="test")
    services.leasing.add_tenant("acme", actor="test")
    _, operator = services.keys.create(role=Role.OPERATOR, tenant=None, actor="test", known_tenants=set())
    _, tenant = services.keys.create(role=Role.TENANT, tenant="acme", actor="test", known_tenants={"acme"})
    with TestClient(create_app(services, tick_s=None)) as client:  # the test drives every cycle
        yield Live(client, clock, {"Authorization": f"Bearer {operator}"}, {"Authorization": f"Bearer {tenant}"})


def at(iso: str) -> float:
    return (datetime.fromisoformat(iso) - START).total_seconds()


def decisions_of(entries: list[dict[str, Any]]) -> list[tuple[Any, ...]]:
    return [
        (e["kind"], e["workload"], tuple((n["node"], n["gpus"]) for n in e["nodes"]), e["resume"])
        for e in entries
        if e["kind"] in ("start", "preempt", "reject")
    ]


def through_the_api(live: Live, policy: str) -> list[tuple[float, tuple[Any, ...]]]:
    live.post("/v1/queues", {"name": "train", "policy": policy, "placement": "firstfit", "restart_s": 60}, 201)
    arrivals = list(enumerate(TRACE))
    out: list[tuple[float, tuple[Any, ...]]] = []
    for _ in range(1000):  # bounded: the trace has a few dozen instants
        queue = live.get("/v1/queues/train")
        running = [w for w in queue["workloads"] if w["state"] == "running"]
        times = [at(w["expected_end"]) for w in running] + ([arrivals[0][1][0]] if arrivals else [])
        if not times:
            return out
        now = min(times)
        live.clock.set(START + timedelta(seconds=now))
        for w in sorted((w for w in running if at(w["expected_end"]) == now), key=lambda w: w["number"]):
            live.post(f"/v1/queues/train/workloads/{w['number']}/finish")
        while arrivals and arrivals[0][1][0] == now:
            k, (_, team, gpus, run_s, prio) = arrivals.pop(0)
            body = {"name": f"w{k}", "team": team, "gpus": gpus, "estimate_s": run_s, "priority": prio}
            live.post("/v1/queues/train/workloads", body, 201)
        out += [(now, d) for d in decisions_of(live.post("/v1/queues/train/cycle")["entries"])]
    raise AssertionError("the trace did not end within 1,000 instants")


def simulated(policy: str) -> list[tuple[float, tuple[Any, ...]]]:
    snap = build_snapshot(build_fleet(FLEET))
    seen: list[tuple[float, tuple[Any, ...]]] = []

    def recording(cluster, now_s, pol, plc):
        decided = run_cycle(cluster, now_s, pol, plc)
        for d in decided:
            if isinstance(d, Start):
                nodes = tuple((snap.node_ids[n], k) for n, k in zip(d.alloc.nodes, d.alloc.gpus, strict=True))
                seen.append((now_s, ("start", d.job, nodes, d.resume)))
            elif isinstance(d, Preempt | Reject):
                seen.append((now_s, ("preempt" if isinstance(d, Preempt) else "reject", d.job, (), False)))
        return decided

    cluster = Cluster(GpuPool(snap), tenants=(), restart_s=60)
    specs = [JobSpec(f"w{k}", t, g, d, d, cluster.tenant(team), p) for k, (t, team, g, d, p) in enumerate(TRACE)]
    with mock.patch("neocloud.sim.driver.run_cycle", recording):
        simulate(cluster, specs, POLICIES[policy](), JobPlacement.FIRST_FIT)
    return seen


@pytest.mark.parametrize("policy", ["fifo", "backfill", "fairshare", "priority"])
def test_a_trace_through_the_live_queue_api_gets_the_simulators_decisions_in_its_order(live: Live, policy: str):
    got = through_the_api(live, policy)
    assert got == simulated(policy)
    assert any(kind == "reject" for _, (kind, *_rest) in got)
    if policy == "priority":
        assert any(kind == "preempt" for _, (kind, *_rest) in got)


def test_the_queue_shows_its_workloads_capacity_and_journal(live: Live):
    live.post("/v1/queues", {"name": "train", "policy": "fifo"}, 201)
    live.post("/v1/queues/train/workloads", {"name": "a", "team": "t", "gpus": 8, "estimate_s": 3600}, 201)
    live.post("/v1/queues/train/workloads", {"name": "b", "team": "t", "gpus": 32, "estimate_s": 60}, 201)
    live.post("/v1/queues/train/cycle")
    q = live.get("/v1/queues/train")
    assert (q["offered_gpus"], q["used_gpus"], q["queued"], q["running"]) == (32, 8, 1, 1)
    a = live.get("/v1/queues/train/workloads/0")
    assert a["state"] == "running"
    assert a["expected_end"] == "2027-01-04T01:00:00Z"
    assert [e["kind"] for e in q["recent"]][:2] == ["submit", "submit"]
    assert [p["name"] for p in live.get("/v1/queues")] == ["train"]


@pytest.mark.parametrize(
    ("path", "body", "status", "detail"),
    [
        ("/v1/queues", {"name": "train", "policy": "lottery"}, 422, "policy: 'lottery' is not one of"),
        ("/v1/queues", {"name": "x y"}, 422, "name: 'x y' is not 1-63 letters"),
        ("/v1/queues/nope/workloads", {"name": "a", "team": "t", "gpus": 1, "estimate_s": 1}, 404, "no queue"),
        ("/v1/queues/train/workloads", {"name": "a", "team": "t", "gpus": 0, "estimate_s": 1}, 422, "gpus"),
        ("/v1/queues/train/workloads", {"name": "a", "team": "t", "gpus": 1, "estimate_s": "x"}, 422, "estimate_s"),
        ("/v1/queues/train/workloads/7/finish", None, 404, "no workload number 7"),
        ("/v1/queues/train/workloads/7/cancel", None, 404, "no workload number 7"),
        ("/v1/queues/train/workloads/0/cancel", {"reason": "x" * 201}, 422, "reason"),
        ("/v1/queues/train/workloads", {"name": "a", "team": "t", "gpus": 1, "estimate_s": 1e12}, 422, "estimate_s"),
        ("/v1/queues/train/workloads", {"name": "a", "team": "t", "gpus": 2**63, "estimate_s": 1}, 422, "gpus"),
        ("/v1/queues/train/workloads", {"name": "a\u0000", "team": "t", "gpus": 1, "estimate_s": 1}, 422, "name"),
        ("/v1/queues/train/workloads", {"name": "a", "team": " ", "gpus": 1, "estimate_s": 1}, 422, "team"),
        ("/v1/queues", {"name": "p2", "restart_s": 1e300}, 422, "restart_s"),
        ("/v1/queues/train/cycle", None, 200, ""),
    ],
)
def test_bad_requests_are_refused_naming_the_field_and_write_nothing(live: Live, path, body, status, detail):
    live.post("/v1/queues", {"name": "train"}, 201)
    r = live.client.post(path, json=body, headers=live.headers)
    assert r.status_code == status, r.text
    assert detail in r.text
    if status != 200:
        assert live.get("/v1/queues/train")["recent"] == []


def test_a_second_queue_for_a_pool_is_a_409_and_a_duplicate_workload_name_a_422(live: Live):
    live.post("/v1/queues", {"name": "train"}, 201)
    r = live.client.post("/v1/queues", json={"name": "train"}, headers=live.headers)
    assert r.status_code == 409
    assert "pool 'train' has a queue already" in r.text
    live.post("/v1/queues/train/workloads", {"name": "a", "team": "t", "gpus": 1, "estimate_s": 1}, 201)
    r = live.client.post(
        "/v1/queues/train/workloads", json={"name": "a", "team": "t", "gpus": 1, "estimate_s": 1}, headers=live.headers
    )
    assert r.status_code == 422
    assert "name: 'a' names workload 0 of this pool already" in r.text


def test_a_tenant_key_sees_no_internal_queue(live: Live):
    live.post("/v1/queues", {"name": "train"}, 201)
    paths = [("get", "/v1/queues"), ("get", "/v1/queues/train"), ("post", "/v1/queues/train/cycle")]
    paths.append(("post", "/v1/queues/train/workloads/0/cancel"))
    for method, path in paths:
        r = getattr(live.client, method)(path, headers=live.tenant_headers)
        assert r.status_code == 403, (path, r.text)
        assert "train" not in r.json()["detail"]  # only the path it asked for names the pool


def test_a_workload_cancelled_through_the_api_never_runs_and_says_who_cancelled_it(live: Live):
    live.post("/v1/queues", {"name": "train", "policy": "fifo"}, 201)
    live.post("/v1/queues/train/workloads", {"name": "a", "team": "t", "gpus": 32, "estimate_s": 3600}, 201)
    live.post("/v1/queues/train/workloads", {"name": "b", "team": "t", "gpus": 8, "estimate_s": 60}, 201)
    live.post("/v1/queues/train/cycle")
    a = live.post("/v1/queues/train/workloads/0/cancel", {"reason": "wrong dataset"})
    assert a["state"] == "cancelled"
    assert re.fullmatch(r"cancelled by operator \(key [0-9a-f]+\): wrong dataset", a["reason"]), a["reason"]
    r = live.client.post("/v1/queues/train/workloads/0/cancel", headers=live.headers)
    assert r.status_code == 422
    assert "workload a: is cancelled; only a queued or running workload is cancelled" in r.text
    entries = live.post("/v1/queues/train/cycle")["entries"]
    assert [(e["kind"], e["workload"]) for e in entries if e["kind"] == "start"] == [("start", 1)]  # a's GPUs freed
    assert live.get("/v1/queues/train")["running"] == 1


def test_a_retried_post_with_its_idempotency_key_answers_the_first_result_and_writes_nothing(live: Live):
    def post(path: str, body: Any, key: str) -> Any:
        return live.client.post(path, json=body, headers={**live.headers, "Idempotency-Key": key})

    pool = {"name": "train", "policy": "fifo"}
    first, again = post("/v1/queues", pool, "p1"), post("/v1/queues", pool, "p1")
    assert (first.status_code, again.status_code) == (201, 201)  # not a 409: the same request again
    assert again.json() == first.json()
    assert again.headers["Idempotent-Replayed"] == "true"
    work = {"name": "a", "team": "t", "gpus": 8, "estimate_s": 3600}
    first, again = post("/v1/queues/train/workloads", work, "w1"), post("/v1/queues/train/workloads", work, "w1")
    assert (first.status_code, again.status_code) == (201, 201)  # not a 422 for the name
    assert again.json() == first.json()
    other = post("/v1/queues/train/workloads", {**work, "name": "b"}, "w1")
    assert other.status_code == 422
    assert "Idempotency-Key: this key was already used for a different request" in other.text
    live.post("/v1/queues/train/cycle")
    done, again = (post("/v1/queues/train/workloads/0/finish", None, "f1") for _ in range(2))
    assert (done.status_code, again.status_code) == (200, 200)  # not a 422: it finished once
    assert again.json() == done.json()
    assert done.json()["state"] == "finished"
    kinds = [e["kind"] for e in live.get("/v1/queues/train")["recent"]]
    assert (kinds.count("submit"), kinds.count("finish")) == (1, 1)
