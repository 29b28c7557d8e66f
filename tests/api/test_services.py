"""The small services behind the API: paging, unit summaries, idempotent results."""

from __future__ import annotations

import pytest

from neocloud.adapters.memory import MemoryStore
from neocloud.domain.clock import ManualClock
from neocloud.domain.health import Health
from neocloud.leasing.engine import RequestError
from neocloud.services.catalog import NodeFilter, decode_cursor, encode_cursor, page
from neocloud.services.demo import build_demo
from neocloud.services.idempotency import Idempotency, request_hash
from tests.api.conftest import START, memory_services


def test_pages_cover_every_item_once_in_key_order() -> None:
    items = [f"n{i:03d}" for i in range(23)][::-1]
    seen, cursor = [], None
    while True:
        got = page(items, lambda x: x, 5, cursor)
        seen += got.items
        cursor = got.next_cursor
        if cursor is None:
            break
    assert seen == sorted(items)


def test_an_exact_last_page_has_no_next_cursor() -> None:
    assert page(["a", "b"], lambda x: x, 2, None).next_cursor is None
    assert page([], lambda x: x, 2, None).items == []


@pytest.mark.parametrize("limit", [0, 1001])
def test_a_limit_out_of_range_names_the_field(limit: int) -> None:
    with pytest.raises(RequestError, match="limit"):
        page(["a"], lambda x: x, limit, None)


def test_cursors_round_trip_and_garbage_names_the_field() -> None:
    assert decode_cursor(encode_cursor("demo-west/p1/b2")) == "demo-west/p1/b2"
    with pytest.raises(RequestError, match="cursor"):
        decode_cursor("%%")


def test_pods_and_blocks_add_up_to_the_fleet() -> None:
    services = memory_services(ManualClock(START))
    build_demo(services)
    fleet = services.leasing.fleet()
    everything = NodeFilter()
    blocks = services.catalog.blocks(everything, 1000, None).items
    pods = services.catalog.pods(everything, 1000, None).items
    gpus = sum(n.gpu_count for n in fleet.nodes)
    assert sum(b.gpus for b in blocks) == sum(p.gpus for p in pods) == gpus
    assert sum(b.nodes_by_health["failed"] for b in blocks) == sum(n.health is Health.FAILED for n in fleet.nodes)
    sites = services.catalog.sites(NodeFilter(site="demo-east"), 10, None).items
    assert [s.name for s in sites] == ["demo-east"]


def test_an_idempotent_action_runs_once_and_refuses_another_request() -> None:
    runs: list[int] = []

    def act() -> tuple[int, str]:
        runs.append(1)
        return 201, '{"id": 1}'

    idem = Idempotency(MemoryStore(), ManualClock(START))
    fp = request_hash("POST", "/v1/leases", "{}")
    first, replayed_first = idem.run("key-a", "k", fp, act)
    again, replayed_again = idem.run("key-a", "k", fp, act)
    assert (replayed_first, replayed_again, len(runs)) == (False, True, 1)
    assert again == first
    with pytest.raises(RequestError, match="Idempotency-Key"):
        idem.run("key-a", "k", request_hash("POST", "/v1/leases", '{"gpus": 8}'), act)
    idem.run("key-b", "k", fp, act)
    assert len(runs) == 2


def test_a_failed_result_is_not_kept() -> None:
    idem = Idempotency(MemoryStore(), ManualClock(START))
    result, _ = idem.run("s", "k", "h", lambda: (409, "{}"))
    assert result.status == 409
    assert idem.store.get_result("s", "k") is None
