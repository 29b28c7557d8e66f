"""The small services behind the API: paging and unit summaries (idempotent results:
tests/integration/test_idempotency.py)."""

from __future__ import annotations

import pytest

from neocloud.domain.clock import ManualClock
from neocloud.domain.health import Health
from neocloud.leasing.engine import RequestError
from neocloud.services.catalog import NodeFilter, decode_cursor, encode_cursor, page
from neocloud.services.demo import build_demo
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
