"""What a 16 MiB request body costs ``neocloud serve``, with the body limit and without it.

A ``neocloud serve --demo`` process (127.0.0.1, a free port) per limit: the default
(1 MiB) and 1 GiB (no limit in practice, as before the limit existed). Against each,
a raw socket POSTs a 16 MiB JSON body to ``/v1/leases/quote``, once with a
``Content-Length`` and once chunked (no length), sending 64 KiB at a time and stopping
as soon as the server answers. Meanwhile another client asks ``GET /healthz`` in a
loop. Reported per case: the answer's status, seconds until it arrived, bytes sent
by then, the server's RSS before and after and its peak (``VmHWM``, which includes
building the demo), and the slowest ``/healthz`` answer during the upload.

    .venv/bin/python benchmarks/body_limit.py
"""

from __future__ import annotations

import json
import os
import platform
import re
import select
import socket
import subprocess
import sys
import tempfile
import threading
import time
from pathlib import Path
from typing import Any

import httpx

BODY_BYTES = 16 * 1024 * 1024
CHUNK = 64 * 1024
STARTUP_S = 120.0
LIMITS = {"default (1 MiB)": None, "1 GiB (no limit)": 1 << 30}


def main() -> None:
    machine = f"{platform.node()} {platform.machine()}, {os.cpu_count()} CPUs"
    print(f"# body_limit: {machine}, python {platform.python_version()}")
    rows = []
    for name, limit in LIMITS.items():
        with served(limit) as (port, key, pid):
            for chunked in (False, True):
                rows.append({"limit": name, "chunked": chunked, **upload(port, key, pid, chunked)})
    for row in rows:
        print(json.dumps(row))


class served:
    """``neocloud serve --demo`` in a temporary directory; yields (port, operator key, pid)."""

    def __init__(self, limit: int | None) -> None:
        self.limit = limit
        self.tmp = tempfile.TemporaryDirectory()

    def __enter__(self) -> tuple[int, str, int]:
        port = _free_port()
        args = [sys.executable, "-m", "neocloud.cli.main", "serve", "--demo", "--port", str(port)]
        args += ["--db", f"sqlite:///{Path(self.tmp.name) / 'demo.db'}"]
        if self.limit is not None:
            args += ["--max-body-bytes", str(self.limit)]
        out, err = subprocess.PIPE, subprocess.STDOUT
        self.proc = subprocess.Popen(args, cwd=self.tmp.name, stdout=out, stderr=err, text=True)
        key = _read_key(self.proc)
        deadline = time.monotonic() + STARTUP_S
        while time.monotonic() < deadline:
            try:
                if httpx.get(f"http://127.0.0.1:{port}/healthz", timeout=2).status_code == 200:
                    return port, key, self.proc.pid
            except httpx.TransportError:
                time.sleep(0.2)
        raise RuntimeError("the server did not answer /healthz")

    def __exit__(self, *exc: object) -> None:
        self.proc.terminate()
        self.proc.wait(timeout=20)
        self.tmp.cleanup()


def upload(port: int, key: str, pid: int, chunked: bool) -> dict[str, Any]:
    rss0 = _rss_kb(pid, "VmRSS")
    stop = threading.Event()
    probes: list[float] = []
    prober = threading.Thread(target=_probe, args=(port, stop, probes))
    prober.start()
    began = time.perf_counter()
    status, sent = _post(port, key, chunked)
    took = time.perf_counter() - began
    stop.set()
    prober.join()
    return {
        "status": status,
        "answered_s": round(took, 3),
        "sent_mib": round(sent / 2**20, 2),
        "rss_before_mb": round(rss0 / 1024, 1),
        "rss_after_mb": round(_rss_kb(pid, "VmRSS") / 1024, 1),
        "rss_peak_mb": round(_rss_kb(pid, "VmHWM") / 1024, 1),
        "healthz_max_ms": round(max(probes, default=0.0) * 1000, 1),
        "healthz_answers": len(probes),
    }


def _post(port: int, key: str, chunked: bool) -> tuple[int, int]:
    """Send the 16 MiB body until the server answers; (status, body bytes sent by then)."""
    body = _body()
    framing = b"Transfer-Encoding: chunked\r\n" if chunked else f"Content-Length: {len(body)}\r\n".encode()
    head = (
        b"POST /v1/leases/quote HTTP/1.1\r\nHost: 127.0.0.1\r\nContent-Type: application/json\r\n"
        + f"Authorization: Bearer {key}\r\n".encode()
        + framing
        + b"\r\n"
    )
    sent = 0
    with socket.create_connection(("127.0.0.1", port), timeout=120) as sock:
        sock.sendall(head)
        for at in range(0, len(body), CHUNK):
            if select.select([sock], [], [], 0)[0]:
                break  # answered before the whole body was sent
            piece = body[at : at + CHUNK]
            try:
                sock.sendall(f"{len(piece):x}\r\n".encode() + piece + b"\r\n" if chunked else piece)
            except (BrokenPipeError, ConnectionResetError):
                break
            sent += len(piece)
        else:
            if chunked:
                sock.sendall(b"0\r\n\r\n")
        answer = sock.recv(4096)
    return int(answer.split(b" ", 2)[1]), sent


def _body() -> bytes:
    """A 16 MiB quote: a lease with a ramp of ~400,000 steps (JSON a parser must build)."""
    head = b'{"tenant": "acme-ai", "gpus": 8, "start": "2030-01-01", "end": "2031-01-01", "steps": ['
    step = b'{"at": "2030-06-01T00:00:00Z", "gpus": 16},'
    count = (BODY_BYTES - len(head) - 64) // len(step)
    body = head + step * count + b'{"at": "2030-06-01T00:00:00Z", "gpus": 16}]}'
    return body + b" " * (BODY_BYTES - len(body))


def _probe(port: int, stop: threading.Event, out: list[float]) -> None:
    with httpx.Client(base_url=f"http://127.0.0.1:{port}", timeout=60) as client:
        while not stop.is_set():
            began = time.perf_counter()
            client.get("/healthz")
            out.append(time.perf_counter() - began)
            time.sleep(0.01)


def _rss_kb(pid: int, field: str) -> int:
    status = Path(f"/proc/{pid}/status").read_text()
    match = re.search(rf"^{field}:\s+(\d+) kB", status, re.MULTILINE)
    return int(match.group(1)) if match else 0


def _read_key(proc: subprocess.Popen[str]) -> str:
    assert proc.stdout is not None
    deadline = time.monotonic() + STARTUP_S
    while time.monotonic() < deadline:
        line = proc.stdout.readline()
        found = re.search(r"operator API key \(shown once\): (nc_\S+)", line)
        if found:
            return found.group(1)
        if not line:
            break
    raise RuntimeError("serve --demo printed no operator key")


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


if __name__ == "__main__":
    main()
