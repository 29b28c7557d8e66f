"""The dashboard's queue pages through the app (no browser): the operator sees the internal pool's
queue as the demo ran it; a tenant gets the operator-only page and never an internal workload."""

from __future__ import annotations

import html
import re
from datetime import timedelta

from neocloud.domain.clock import to_s
from neocloud.services.demo import INTERNAL_POOL, INTERNAL_WORK, run_internal_work
from neocloud.web.routes import COOKIE
from tests.api.conftest import World

TAG = re.compile(r"<[^>]+>")
ROW = re.compile(r"<tr[^>]*>(.*?)</tr>", re.S)
CELL = re.compile(r"<td[^>]*>(.*?)</td>", re.S)


def _table(page: str, table_id: str) -> list[list[str]]:
    found = re.search(rf'<table[^>]*id="{table_id}".*?<tbody>(.*?)</tbody>', page, re.S)
    assert found, table_id
    rows = [[html.unescape(TAG.sub("", c)).strip() for c in CELL.findall(r)] for r in ROW.findall(found.group(1))]
    return [r for r in rows if r]


def _as(world: World, role: str) -> World:
    world.client.cookies.set(COOKIE, world.keys.operator if role == "operator" else world.keys.tenants[role])
    return world


def _ran_a_week(world: World) -> None:
    until = world.clock.now() + timedelta(days=7)
    run_internal_work(world.services, world.clock, to_s(until))
    world.clock.set(until)


def test_the_operator_sees_the_internal_queue_as_it_ran(world: World):
    _ran_a_week(world)
    page = _as(world, "operator").client.get("/queues").text
    (row,) = _table(page, "queues")
    view = world.services.queues.queue(INTERNAL_POOL)
    assert row[:5] == [INTERNAL_POOL, "priority", "bestfit", f"{view.used_gpus:,}", f"{view.offered_gpus:,}"]
    page = world.client.get(f"/queues/{INTERNAL_POOL}").text
    active = _table(page, "active")
    running = [w for w in view.workloads if w.state == "running"]
    assert [r[1] for r in active if r[5].startswith("running")] == [w.name for w in running]
    assert {w.name for w in view.workloads} <= {name for _, name, *_ in INTERNAL_WORK}
    journal = _table(page, "journal")
    shown = [e for e in view.recent if e.kind.value != "cycle"]  # the markers are left out
    assert [r[0] for r in journal] == [str(e.seq) for e in reversed(shown)]  # newest first
    assert any(w.preemptions for w in view.workloads)  # a higher priority took GPUs back


def test_a_tenant_gets_the_operator_only_page_and_no_internal_workload(world: World):
    _ran_a_week(world)
    for path in ("/queues", f"/queues/{INTERNAL_POOL}", "/queues/nope"):
        r = _as(world, "acme-ai").client.get(path)
        assert r.status_code == 403, path
        assert "pretrain" not in r.text
        assert "Queues</a>" not in r.text  # no link to them in the tenant's navigation


def test_an_unknown_queue_is_the_404_page(world: World):
    r = _as(world, "operator").client.get("/queues/nope")
    assert r.status_code == 404
    assert "There is no queue nope" in r.text
