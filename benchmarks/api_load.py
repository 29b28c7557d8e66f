"""How many requests a second does ``neocloud serve`` answer at colossus-1 scale, and how fast?

A ``neocloud serve`` process (127.0.0.1, a free port) on the colossus-1 preset (230k GPUs,
32,506 nodes) with ~1,000 small leases (8 to 512 GPUs, block-local, seeded dates within a
year, as in ledger_scale.py) and an operator key, prepared in-process first. Then, at 32
concurrent clients (threads, each with its own keep-alive httpx client), per endpoint,
until ``--requests`` answered or ``--seconds`` passed, whichever first:

1. ``GET /v1/leases?limit=100``: a page of 100 leases.
2. ``GET /v1/availability``: free capacity per model over one year.
3. ``POST /v1/leases/quote``: place a small lease (books nothing).

Throughput (answers/s) and p50/p99 latency, on SQLite (WAL) and on a durable throwaway
PostgreSQL. The load generator shares the machine with the server: on 2 cores it takes a
share of the CPU, so the target is relative (issue 9): each endpoint is also served, in
the same run and under the same load, by a **bare FastAPI app** under uvicorn (one
process, one worker, like ``neocloud serve``) that answers the *same bytes* neocloud
answered, precomputed, with no auth, no middleware and no database. Target: at least 0.7
of the bare endpoint's throughput, with a p99 within 1.5x of its p99.

``--memory`` serves a MemoryStore in-process (uvicorn in a thread) instead: a baseline
without a database, and a fallback when the SQL store cannot hold API keys.

    .venv/bin/python benchmarks/api_load.py [--leases 1000] [--skip-postgres] [--memory]
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import random
import socket
import statistics
import subprocess
import sys
import tempfile
import threading
import time
from collections.abc import Callable, Iterator
from concurrent.futures import ThreadPoolExecutor
from contextlib import contextmanager
from datetime import UTC, datetime, timedelta
from decimal import Decimal
from pathlib import Path
from typing import Any

import httpx

from neocloud import bootstrap
from neocloud.domain.access import Role
from neocloud.domain.clock import SystemClock, to_s
from neocloud.domain.leases import LeaseRequest
from neocloud.domain.money import Money
from neocloud.domain.presets import preset
from neocloud.domain.shape import Locality, Shape
from neocloud.domain.spec import build_fleet
from neocloud.leasing.engine import Unplaceable
from neocloud.services.container import Services

DAY = 86_400
SIZES = [8, 16, 32, 64, 128, 256, 512]
TENANTS = 20
CLIENTS = 32
READY_WAIT_S = 120.0


def day_start() -> datetime:
    """Tomorrow, midnight UTC: leases must start in the future of the server's clock."""
    now = SystemClock().now()
    return datetime(now.year, now.month, now.day, tzinfo=UTC) + timedelta(days=1)


def small_requests(n: int, seed: int, t0: int) -> list[LeaseRequest]:
    """ledger_scale.py's small leases, from ``t0`` on."""
    rng = random.Random(seed)
    out = []
    for k in range(n):
        start = t0 + rng.randrange(0, 300) * DAY
        shape = Shape(("H100", "H200"), gpus=rng.choice(SIZES), locality=Locality.BLOCK)
        end = start + rng.randrange(7, 90) * DAY
        out.append(LeaseRequest(f"t{k % TENANTS}", shape, start, end, Money(Decimal("2.35"))))
    return out


def prepare(services: Services, n: int, t0: int) -> tuple[str, int]:
    """The colossus-1 fleet, tenants, ``n`` small leases and an operator key; (token, booked)."""
    leasing = services.leasing
    leasing.init(build_fleet(preset("colossus-1")), actor="bench")
    for k in range(TENANTS):
        leasing.add_tenant(f"t{k}", actor="bench")
    booked = 0
    for req in small_requests(n, seed=1, t0=t0):
        try:
            leasing.create(req, actor="bench")
            booked += 1
        except Unplaceable:
            pass
    _, token = services.keys.create(role=Role.OPERATOR, tenant=None, actor="bench", known_tenants=set(), label="bench")
    return token, booked


def _free_port() -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def _wait_ready(base: str, alive: Callable[[], bool]) -> None:
    deadline = time.perf_counter() + READY_WAIT_S
    while time.perf_counter() < deadline:
        if not alive():
            raise SystemExit("the server exited before it was ready")
        try:
            if httpx.get(f"{base}/healthz", timeout=1.0).status_code == 200:
                return
        except httpx.TransportError:
            pass
        time.sleep(0.1)
    raise SystemExit(f"the server at {base} was not ready in {READY_WAIT_S:.0f} s")


WORKERS = 1


@contextmanager
def serve_subprocess(url: str) -> Iterator[tuple[str, int]]:
    """``neocloud serve --db url`` on a free port; (base URL, pid)."""
    port = _free_port()
    exe = Path(sys.executable).with_name("neocloud")
    cmd = [str(exe), "serve", "--host", "127.0.0.1", "--port", str(port), "--db", url, "--workers", str(WORKERS)]
    with _serving(cmd, port) as served:
        yield served


@contextmanager
def _serving(cmd: list[str], port: int) -> Iterator[tuple[str, int]]:
    """A server process started by ``cmd`` on ``port``, ready; (base URL, pid). Stopped after."""
    proc = subprocess.Popen(cmd, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
    base = f"http://127.0.0.1:{port}"
    try:
        _wait_ready(base, lambda: proc.poll() is None)
        yield base, proc.pid
    finally:
        proc.terminate()
        try:
            proc.wait(timeout=15)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait()


@contextmanager
def serve_in_thread(services: Services) -> Iterator[tuple[str, int]]:
    """The app on ``services`` served by uvicorn in a thread of this process; (base URL, pid)."""
    import uvicorn

    from neocloud.api.app import create_app

    port = _free_port()
    server = uvicorn.Server(uvicorn.Config(create_app(services), host="127.0.0.1", port=port, log_level="warning"))
    thread = threading.Thread(target=server.run, daemon=True)
    thread.start()
    base = f"http://127.0.0.1:{port}"
    try:
        _wait_ready(base, thread.is_alive)
        yield base, os.getpid()
    finally:
        server.should_exit = True
        thread.join(timeout=15)


def endpoints(t0: int) -> list[tuple[str, str, str, dict[str, Any] | None]]:
    """(name, method, path, JSON body) of each measured request."""
    start = datetime.fromtimestamp(t0, UTC)
    year = f"start={start.date().isoformat()}&end={(start + timedelta(days=365)).date().isoformat()}"
    quote = {
        "tenant": "t0",
        "gpus": 64,
        "models": ["H100", "H200"],
        "locality": "block",
        "start": (start + timedelta(days=30)).date().isoformat(),
        "end": (start + timedelta(days=60)).date().isoformat(),
    }
    return [
        ("GET /v1/leases (100)", "GET", "/v1/leases?limit=100", None),
        ("GET /v1/availability (1 y)", "GET", f"/v1/availability?{year}", None),
        ("POST /v1/leases/quote", "POST", "/v1/leases/quote", quote),
    ]


def load(
    base: str, token: str, method: str, path: str, body: dict[str, Any] | None, max_requests: int, max_s: float
) -> dict[str, Any]:
    """``max_requests`` requests (or ``max_s`` seconds) from ``CLIENTS`` concurrent clients."""
    headers = {"Authorization": f"Bearer {token}"}
    lock = threading.Lock()
    issued = 0
    latencies: list[float] = []
    errors: dict[str, int] = {}

    def worker() -> None:
        nonlocal issued
        with httpx.Client(base_url=base, headers=headers, timeout=60.0) as client:
            client.request(method, path, json=body)  # connect; not measured
            while True:
                with lock:
                    if issued >= max_requests or time.perf_counter() > deadline:
                        return
                    issued += 1
                t = time.perf_counter()
                try:
                    r = client.request(method, path, json=body)
                    status = str(r.status_code)
                except httpx.HTTPError as e:
                    status = type(e).__name__
                took = time.perf_counter() - t
                with lock:
                    if status == "200":
                        latencies.append(took)
                    else:
                        errors[status] = errors.get(status, 0) + 1

    deadline = time.perf_counter() + max_s + 60.0  # the connect requests are not counted
    with ThreadPoolExecutor(CLIENTS) as pool:
        t0 = time.perf_counter()
        deadline = t0 + max_s
        for f in [pool.submit(worker) for _ in range(CLIENTS)]:
            f.result()
        wall = time.perf_counter() - t0
    latencies.sort()
    return {
        "requests": len(latencies) + sum(errors.values()),
        "ok": len(latencies),
        "errors": errors,
        "wall_s": wall,
        "per_s": len(latencies) / wall if wall else 0.0,
        "p50_ms": _pct(latencies, 50) * 1000,
        "p99_ms": _pct(latencies, 99) * 1000,
        "mean_ms": statistics.fmean(latencies) * 1000 if latencies else 0.0,
    }


def _pct(sorted_values: list[float], p: float) -> float:
    if not sorted_values:
        return 0.0
    k = min(len(sorted_values) - 1, round(p / 100 * (len(sorted_values) - 1)))
    return sorted_values[k]


def run_store(name: str, url: str, args: argparse.Namespace) -> dict[str, Any]:
    t0 = to_s(day_start())
    services = bootstrap.services(url)
    t = time.perf_counter()
    token, booked = prepare(services, args.leases, t0)
    prepare_s = time.perf_counter() - t
    with serve_subprocess(url) as (base, pid):
        bodies = _answers(base, token, t0)
        with tempfile.TemporaryDirectory() as tmp, serve_bare(bodies, Path(tmp)) as (bare, bare_pid):
            rounds = []
            for k in range(args.rounds):  # ours, then the bare baseline, endpoint by endpoint, interleaved
                print(f"  round {k + 1} of {args.rounds}", flush=True)
                rounds.append(_measure_pair(base, bare, token, t0, args, (pid, bare_pid)))
    results, baseline = _median_rounds(rounds)
    for ours, theirs in zip(results, baseline, strict=True):
        ours["baseline_per_s"], ours["baseline_p99_ms"] = theirs["per_s"], theirs["p99_ms"]
        ours["bytes"] = len(bodies[ours["endpoint"]])
        ours["throughput_ratio"] = ours["per_s"] / theirs["per_s"] if theirs["per_s"] else 0.0
        ours["p99_ratio"] = ours["p99_ms"] / theirs["p99_ms"] if theirs["p99_ms"] else 0.0
    return {"store": name, "leases": booked, "prepare_s": prepare_s, "endpoints": results}


def _answers(base: str, token: str, t0: int) -> dict[str, bytes]:
    """What neocloud answers to each measured request: the bytes the baseline serves."""
    out = {}
    with httpx.Client(base_url=base, headers={"Authorization": f"Bearer {token}"}, timeout=60.0) as client:
        for name, method, path, body in endpoints(t0):
            r = client.request(method, path, json=body)
            if r.status_code != 200:
                raise SystemExit(f"{name}: {r.status_code} {r.text[:200]}")
            out[name] = r.content
    return out


@contextmanager
def serve_bare(bodies: dict[str, bytes], folder: Path) -> Iterator[tuple[str, int]]:
    """A bare FastAPI app in its own uvicorn process answering ``bodies`` at the same
    paths and methods; (base URL, pid)."""
    spec = []
    for k, (name, method, path, _) in enumerate(endpoints(0)):
        (folder / f"{k}.json").write_bytes(bodies[name])
        spec.append({"method": method, "path": path.split("?")[0], "file": str(folder / f"{k}.json")})
    (folder / "spec.json").write_text(json.dumps(spec))
    port = _free_port()
    cmd = [sys.executable, __file__, "--bare-server", str(folder / "spec.json"), "--bare-port", str(port)]
    with _serving(cmd, port) as served:
        yield served


def bare_server(spec_file: Path, port: int) -> None:
    """The baseline: FastAPI routes returning precomputed bytes, nothing else."""
    import uvicorn
    from fastapi import FastAPI, Response

    app = FastAPI()
    for entry in json.loads(spec_file.read_text()):
        content = Path(entry["file"]).read_bytes()

        def answer(content: bytes = content) -> Response:
            return Response(content, media_type="application/json")

        app.add_api_route(entry["path"], answer, methods=[entry["method"]])
    app.add_api_route("/healthz", lambda: Response(b'{"ok":true}', media_type="application/json"))
    uvicorn.run(app, host="127.0.0.1", port=port, log_level="warning")


def run_memory(args: argparse.Namespace) -> dict[str, Any]:
    services = bootstrap.in_memory(SystemClock())
    t0 = to_s(day_start())
    t = time.perf_counter()
    token, booked = prepare(services, args.leases, t0)
    prepare_s = time.perf_counter() - t
    with serve_in_thread(services) as (base, pid):
        results = _measure(base, token, t0, args, pid)
    return {"store": "memory (in-process)", "leases": booked, "prepare_s": prepare_s, "endpoints": results}


def _measure_pair(
    base: str, bare: str, token: str, t0: int, args: argparse.Namespace, pids: tuple[int, int]
) -> list[tuple[dict[str, Any], dict[str, Any]]]:
    """Each endpoint under load on neocloud, then at once on the bare baseline."""
    out = []
    for name, method, path, body in endpoints(t0):
        with _profiling(args.profile, pids[0], name):
            ours = load(base, token, method, path, body, args.requests, args.seconds)
        theirs = load(bare, token, method, path, body, args.requests, args.seconds)
        out.append(({"endpoint": name, **ours}, {"endpoint": name, **theirs}))
    return out


def _median_rounds(
    rounds: list[list[tuple[dict[str, Any], dict[str, Any]]]],
) -> tuple[list[dict[str, Any]], list[dict[str, Any]]]:
    """Per endpoint, the round with the median throughput ratio (its figures kept whole)."""
    ours_rows, bare_rows = [], []
    for k in range(len(rounds[0])):
        pairs = sorted((r[k] for r in rounds), key=lambda p: p[0]["per_s"] / max(p[1]["per_s"], 1e-9))
        ours, theirs = pairs[len(pairs) // 2]
        ours["rounds"] = [
            {"per_s": o["per_s"], "p99_ms": o["p99_ms"], "bare_per_s": t["per_s"], "bare_p99_ms": t["p99_ms"]}
            for o, t in (r[k] for r in rounds)
        ]
        ours_rows.append(ours)
        bare_rows.append(theirs)
    return ours_rows, bare_rows


def _measure(base: str, token: str, t0: int, args: argparse.Namespace, pid: int) -> list[dict[str, Any]]:
    out = []
    for name, method, path, body in endpoints(t0):
        print(f"  {name} ...", flush=True)
        with _profiling(args.profile, pid, name):
            row = load(base, token, method, path, body, args.requests, args.seconds)
        out.append({"endpoint": name, **row})
    return out


@contextmanager
def _profiling(folder: Path | None, pid: int, name: str) -> Iterator[None]:
    """``py-spy record`` of the server while the load runs (``--profile DIR``), if py-spy is here."""
    exe = Path(sys.executable).with_name("py-spy")
    if folder is None or not exe.exists():
        yield
        return
    folder.mkdir(parents=True, exist_ok=True)
    slug = "".join(c if c.isalnum() else "_" for c in name).strip("_")
    cmd = [str(exe), "record", "-p", str(pid), "-o", str(folder / f"{slug}.txt"), "-f", "raw", "-r", "200"]
    spy = subprocess.Popen(cmd, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    try:
        yield
    finally:
        spy.send_signal(2)
        spy.wait(timeout=30)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--leases", type=int, default=1000)
    parser.add_argument("--requests", type=int, default=2000, help="Per endpoint, at most.")
    parser.add_argument("--seconds", type=float, default=30.0, help="Per endpoint, at most.")
    parser.add_argument("--skip-sqlite", action="store_true")
    parser.add_argument("--skip-postgres", action="store_true")
    parser.add_argument("--memory", action="store_true", help="Also a MemoryStore served in-process.")
    parser.add_argument("--workers", type=int, default=1, help="neocloud serve --workers N.")
    parser.add_argument(
        "--rounds", type=int, default=3, help="Interleaved rounds (ours, then bare); the median is kept."
    )
    parser.add_argument("--profile", type=Path, default=None, help="py-spy raw stacks of the server here.")
    parser.add_argument("--out", type=Path, default=Path("benchmarks/results/api_load.json"))
    parser.add_argument("--bare-server", type=Path, help=argparse.SUPPRESS)  # the baseline's own process
    parser.add_argument("--bare-port", type=int, help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.bare_server is not None:
        bare_server(args.bare_server, args.bare_port)
        return
    global WORKERS  # noqa: PLW0603 - the subprocess command reads it
    WORKERS = args.workers
    rows = []
    if args.memory:
        print("memory (in-process):", flush=True)
        rows.append(run_memory(args))
    if not args.skip_sqlite:
        with tempfile.TemporaryDirectory() as tmp:
            print("sqlite:", flush=True)
            rows.append(run_store("sqlite", f"sqlite:///{Path(tmp) / 'api.db'}", args))
    if not args.skip_postgres:
        print("postgres:", flush=True)
        rows.append(_postgres(args))
    report = {
        "benchmark": "api_load",
        "machine": f"{platform.machine()}, {len(os.sched_getaffinity(0))} cores, Python {platform.python_version()}",
        "fleet": "colossus-1 (230,024 GPUs, 32,506 nodes)",
        "clients": CLIENTS,
        "max_requests": args.requests,
        "max_seconds": args.seconds,
        "rows": rows,
    }
    print(f"\napi_load on {report['fleet']}; {CLIENTS} clients; {report['machine']}")
    print(
        f"{'store':<21}{'endpoint':<28}{'ok':>6}{'err':>5}{'req/s':>9}{'p50 ms':>9}{'p99 ms':>9}"
        f"{'bare req/s':>11}{'bare p99':>9}{'x tput':>8}{'x p99':>7}"
    )
    for r in rows:
        for e in r["endpoints"]:
            bare = (
                f"{e['baseline_per_s']:>11.1f}{e['baseline_p99_ms']:>9.1f}{e['throughput_ratio']:>8.2f}"
                f"{e['p99_ratio']:>7.2f}"
                if "baseline_per_s" in e
                else ""
            )
            print(
                f"{r['store']:<21}{e['endpoint']:<28}{e['ok']:>6}{sum(e['errors'].values()):>5}"
                f"{e['per_s']:>9.1f}{e['p50_ms']:>9.1f}{e['p99_ms']:>9.1f}{bare}"
            )
    args.out.parent.mkdir(parents=True, exist_ok=True)
    args.out.write_text(json.dumps(report, indent=2) + "\n")


def _postgres(args: argparse.Namespace) -> dict[str, Any]:
    """A throwaway durable PostgreSQL server on 127.0.0.1 (fsync and synchronous_commit on)."""
    from neocloud.devtools.pgserver import find_bin_dir, start_server, stop_server

    bin_dir = find_bin_dir()
    if bin_dir is None:
        raise SystemExit("PostgreSQL server binaries not found (apt-get install postgresql), or use --skip-postgres")
    server = start_server(bin_dir, durable=True)
    try:
        return run_store("postgres", server.create_database(), args)
    finally:
        stop_server(server)


if __name__ == "__main__":
    main()
