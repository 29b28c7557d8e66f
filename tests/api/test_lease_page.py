"""The dashboard's lease page: its nodes summarised per block, its bookings a page at a time."""

from __future__ import annotations

import html
import re
from typing import Any

from neocloud.web.routes import BOOKINGS_PER_PAGE, COOKIE
from tests.api.conftest import World

ROW = re.compile(r"<tr>(.*?)</tr>", re.S)
CELL = re.compile(r"<td[^>]*>(.*?)</td>", re.S)
TAG = re.compile(r"<[^>]+>")
NEXT = re.compile(r'<a href="([^"]+)" rel="next">')


def _whole_site(world: World) -> Any:
    return next(le for le in world.services.leasing.leases(tenant="frontier-lab") if le.degraded)


def _signed_in(world: World, role: str) -> World:
    token = world.keys.operator if role == "operator" else world.keys.tenants[role]
    world.client.cookies.set(COOKIE, token)
    return world


def _table(page: str, table_id: str) -> list[list[str]]:
    """The cells of each body row of the table ``table_id``, as text."""
    found = re.search(rf'<table[^>]*id="{table_id}".*?<tbody>(.*?)</tbody>', page, re.S)
    assert found, table_id
    rows = [[html.unescape(TAG.sub("", c)).strip() for c in CELL.findall(r)] for r in ROW.findall(found.group(1))]
    return [r for r in rows if r]


def test_the_lease_page_shows_a_page_of_bookings_and_its_links_reach_every_one(world: World) -> None:
    lease = _whole_site(world)
    client = _signed_in(world, "operator").client
    seen: list[tuple[str, ...]] = []
    url: str | None = f"/leases/{lease.id}"
    pages = 0
    while url is not None and pages < 100:
        r = client.get(url)
        assert r.status_code == 200, url
        rows = _table(r.text, "lease-nodes")
        assert 0 < len(rows) <= BOOKINGS_PER_PAGE
        seen += [tuple(row) for row in rows]
        link = NEXT.search(r.text)
        url = html.unescape(link.group(1)) if link else None
        pages += 1
    bookings = world.services.leasing.show(lease.id).bookings
    assert pages == -(-len(bookings) // BOOKINGS_PER_PAGE) > 1
    assert len(seen) == len(set(seen)) == len(bookings)
    assert {row[0].split()[0] for row in seen} == {b.node for b in bookings}


def test_the_lease_page_summarises_its_blocks_with_the_unhealthy_first(world: World) -> None:
    lease = _whole_site(world)
    page = _signed_in(world, "frontier-lab").client.get(f"/leases/{lease.id}").text
    blocks = _table(page, "lease-blocks")
    view = world.services.leasing.show(lease.id)
    assert blocks[0][0].endswith(next(s.block for s in view.blocks if s.unhealthy))
    assert {row[0] for row in blocks} == {f"{s.site} / {s.block}" for s in view.blocks}
    assert sum(int(row[3].replace(",", "")) for row in blocks) == lease.gpus
    fleet = {n.id: n for n in world.services.leasing.fleet().nodes}
    troubled = {(fleet[b.node].site, fleet[b.node].block): 0 for b in view.bookings}
    for b in view.bookings:
        troubled[fleet[b.node].site, fleet[b.node].block] += fleet[b.node].health.value != "healthy"
    assert [int(row[5]) for row in blocks] == [troubled[tuple(row[0].split(" / "))] for row in blocks]
    assert int(blocks[0][5]) >= 1  # the failed, unreplaced node's block comes first


def test_a_cursor_that_is_not_one_shows_the_first_page(world: World) -> None:
    lease = _whole_site(world)
    client = _signed_in(world, "operator").client
    first = _table(client.get(f"/leases/{lease.id}").text, "lease-nodes")
    r = client.get(f"/leases/{lease.id}?cursor=%25%25")
    assert r.status_code == 200
    assert _table(r.text, "lease-nodes") == first


def test_another_tenants_lease_page_is_404_on_every_page(world: World) -> None:
    lease = _whole_site(world)
    operator = _signed_in(world, "operator").client
    link = NEXT.search(operator.get(f"/leases/{lease.id}").text)
    assert link
    tenant = _signed_in(world, "acme-ai").client
    for url in (f"/leases/{lease.id}", html.unescape(link.group(1))):
        r = tenant.get(url)
        assert r.status_code == 404, url
        assert lease.degraded_nodes[0] not in r.text
