"""How big is the whole-site colossus-1 lease over the API, and how long does its dashboard page take?

The colossus-1 preset (230,024 GPUs, 32,506 nodes) on a throwaway SQLite database, one
tenant, and one confirmed whole-site lease of every model in it (32,506 bookings), as
``neocloud lease create --whole-site colossus-1`` books it. The app runs in-process
(FastAPI's TestClient: no network, no second process), so the times are the app's own
work for one request: routing, the service, serialising or rendering. Median of
``--repeat`` requests, after one warm-up request each:

1. ``GET /v1/leases/{id}``: the lease body (bytes and time);
2. ``GET /v1/leases/{id}/bookings?limit=1000``: the first page of its bookings, and a
   walk of every page (when the route exists: the code before it answers 404);
3. ``GET /leases/{id}``: the dashboard's lease page, signed in as the operator.

    .venv/bin/python benchmarks/lease_detail.py [--repeat 5] [--out benchmarks/results/lease_detail.json]
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import statistics
import tempfile
import time
from collections.abc import Callable
from datetime import UTC, datetime
from decimal import Decimal
from pathlib import Path
from typing import Any

from fastapi.testclient import TestClient

from neocloud import bootstrap
from neocloud.api.app import create_app
from neocloud.domain.access import Role
from neocloud.domain.clock import ManualClock, SystemClock, to_s
from neocloud.domain.leases import LeaseRequest
from neocloud.domain.money import Money
from neocloud.domain.presets import preset
from neocloud.domain.shape import Shape, Unit
from neocloud.domain.spec import build_fleet

DAY = 86_400
NOW = datetime(2027, 1, 4, tzinfo=UTC)
PAGE = 1000


def prepare(url: str) -> tuple[Any, str, str]:
    """The services on ``url`` with colossus-1, its whole-site lease (started a day ago) and an operator token."""
    clock = ManualClock(NOW)
    services = bootstrap.services(url, clock)
    services.leasing.init(build_fleet(preset("colossus-1")), actor="bench")
    services.leasing.add_tenant("frontier-lab", actor="bench")
    start = to_s(NOW) + 60
    request = LeaseRequest(
        "frontier-lab",
        Shape(("*",), unit=Unit.SITE, site="colossus-1"),  # every model, as --whole-site books it
        start,
        start + 365 * DAY,
        Money(Decimal("4.10")),
    )
    lease, _ = services.leasing.create(request, actor="bench")
    clock.advance(days=1)
    _, token = services.keys.create(role=Role.OPERATOR, tenant=None, actor="bench", known_tenants=set(), label="bench")
    return services, lease.id, token


def timed(call: Callable[[], Any], repeat: int) -> tuple[float, Any]:
    """The median seconds of ``repeat`` calls (after one warm-up) and the last result."""
    result = call()
    runs = []
    for _ in range(repeat):
        began = time.perf_counter()
        result = call()
        runs.append(time.perf_counter() - began)
    return statistics.median(runs), result


def measure(client: TestClient, lease_id: str, token: str, repeat: int) -> dict[str, dict[str, Any]]:
    auth = {"Authorization": f"Bearer {token}"}
    rows: dict[str, dict[str, Any]] = {}

    def get(path: str, **kw: Any) -> Any:
        r = client.get(path, **kw)
        assert r.status_code in (200, 404), (path, r.status_code, r.text[:200])
        return r

    seconds, r = timed(lambda: get(f"/v1/leases/{lease_id}", headers=auth), repeat)
    rows["GET /v1/leases/{id}"] = {"seconds": seconds, "bytes": len(r.content), "status": r.status_code}
    seconds, r = timed(lambda: get(f"/v1/leases/{lease_id}/bookings?limit={PAGE}", headers=auth), repeat)
    rows[f"GET /v1/leases/{{id}}/bookings?limit={PAGE}"] = {
        "seconds": seconds,
        "bytes": len(r.content),
        "status": r.status_code,
    }
    if r.status_code == 200:
        seconds, (pages, count, size) = timed(lambda: walk(client, lease_id, auth), max(1, repeat // 2))
        rows["walk every bookings page"] = {"seconds": seconds, "bytes": size, "pages": pages, "items": count}
    client.cookies.set("neocloud_key", token)
    seconds, r = timed(lambda: get(f"/leases/{lease_id}"), repeat)
    rows["GET /leases/{id} (dashboard)"] = {"seconds": seconds, "bytes": len(r.content), "status": r.status_code}
    return rows


def walk(client: TestClient, lease_id: str, auth: dict[str, str]) -> tuple[int, int, int]:
    """Every page of the lease's bookings: (pages, items, bytes)."""
    pages = items = size = 0
    cursor: str | None = None
    while pages < 1000:
        query = f"limit={PAGE}" + (f"&cursor={cursor}" if cursor else "")
        r = client.get(f"/v1/leases/{lease_id}/bookings?{query}", headers=auth)
        body = r.json()
        pages, items, size = pages + 1, items + len(body["items"]), size + len(r.content)
        cursor = body["next_cursor"]
        if cursor is None:
            break
    return pages, items, size


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--repeat", type=int, default=5)
    parser.add_argument("--out", type=Path, default=Path("benchmarks/results/lease_detail.json"))
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as tmp:
        began = time.perf_counter()
        services, lease_id, token = prepare(f"sqlite:///{Path(tmp) / 'bench.db'}")
        prepared_s = time.perf_counter() - began
        bookings = len(services.leasing.show(lease_id).bookings)
        with TestClient(create_app(services)) as client:
            rows = measure(client, lease_id, token, args.repeat)
    report = {
        "benchmark": "lease_detail",
        "machine": f"{platform.machine()}, {len(os.sched_getaffinity(0))} cores, Python {platform.python_version()}",
        "date": SystemClock().now().date().isoformat(),
        "fleet": "colossus-1 preset, one whole-site lease",
        "bookings": bookings,
        "prepare_s": round(prepared_s, 1),
        "requests": rows,
    }
    _print(report)
    args.out.parent.mkdir(parents=True, exist_ok=True)
    args.out.write_text(json.dumps(report, indent=2) + "\n")
    print(f"\nwrote {args.out}")


def _print(report: dict[str, Any]) -> None:
    print(f"lease_detail: {report['fleet']}, {report['bookings']:,} bookings\nmachine: {report['machine']}")
    print(f"{'request':<44}{'status':>7}{'median ms':>11}{'bytes':>12}")
    for name, row in report["requests"].items():
        status = row.get("status", 200)
        print(f"{name:<44}{status:>7}{row['seconds'] * 1000:>11.1f}{row['bytes']:>12,}")


if __name__ == "__main__":
    main()
