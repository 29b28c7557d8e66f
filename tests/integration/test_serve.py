"""The README's run command: ``neocloud serve --demo`` starts, prints a key that works."""

from __future__ import annotations

import json
import os
import re
import socket
import subprocess
import sys
import time
from pathlib import Path

import httpx

STARTUP_S = 60.0


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def test_serve_demo_prints_a_working_operator_key_and_serves_the_dashboard(tmp_path: Path) -> None:
    port = _free_port()
    db = f"sqlite:///{tmp_path / 'demo.db'}"
    proc = subprocess.Popen(
        [sys.executable, "-m", "neocloud.cli.main", "serve", "--demo", "--db", db, "--port", str(port)],
        cwd=tmp_path,
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
    )
    try:
        base = f"http://127.0.0.1:{port}"
        lines: list[str] = []
        deadline = time.monotonic() + STARTUP_S
        assert proc.stdout is not None
        while time.monotonic() < deadline:
            line = proc.stdout.readline()
            lines.append(line)
            if "Ctrl-C" in line or not line:
                break
        output = "".join(lines)
        match = re.search(r"operator API key \(shown once\): (nc_\S+)", output)
        assert match, output
        key = match.group(1)
        env_line = re.search(r"export NEOCLOUD_DB=(\S+)", output)
        assert env_line, output  # how the CLI reaches the demo's database
        listed = subprocess.run(
            [sys.executable, "-m", "neocloud.cli.main", "lease", "list", "--json"],
            cwd=tmp_path,
            env={**os.environ, "NEOCLOUD_DB": env_line.group(1)},
            capture_output=True,
            text=True,
            timeout=60,
            check=False,
        )
        assert listed.returncode == 0, listed.stderr
        assert len(json.loads(listed.stdout)) == 4
        while time.monotonic() < deadline:
            try:
                if httpx.get(f"{base}/healthz", timeout=2).status_code == 200:
                    break
            except httpx.TransportError:
                time.sleep(0.2)
        leases = httpx.get(f"{base}/v1/leases", headers={"Authorization": f"Bearer {key}"}, timeout=10)
        assert leases.status_code == 200
        assert len(leases.json()["items"]) == 4
        # the demo is a month of history with last month invoiced: the whole-site lease
        # was short of its failed nodes, so its invoice carries a credit with the evidence
        invoices = httpx.get(f"{base}/v1/invoices", headers={"Authorization": f"Bearer {key}"}, timeout=10)
        assert invoices.status_code == 200
        issued = invoices.json()["items"]
        assert len(issued) == 3
        assert {i["state"] for i in issued} == {"issued"}
        credits = [line for i in issued for line in i["lines"] if line["kind"] == "sla_credit"]
        assert len(credits) == 1
        assert credits[0]["evidence"]
        # and the dashboard has a simulation and a plan to show: one small study of each kind
        studies = httpx.get(f"{base}/v1/studies", headers={"Authorization": f"Bearer {key}"}, timeout=10).json()
        assert {(s["name"], s["kind"], s["status"]) for s in studies} == {
            ("demo-keep-vs-lease", "keep-vs-lease", "done"),
            ("demo-sweep", "sweep", "done"),
        }
        assert httpx.get(f"{base}/v1/leases", timeout=10).status_code == 401
        assert httpx.get(f"{base}/login", timeout=10).status_code == 200
    finally:
        proc.terminate()
        proc.wait(timeout=20)


def test_the_worker_factory_serves_the_database_named_by_neocloud_db(tmp_path: Path, monkeypatch) -> None:
    import pytest
    from fastapi.testclient import TestClient

    from neocloud import bootstrap
    from neocloud.bootstrap import worker_app as app
    from neocloud.services.demo import build_demo

    monkeypatch.delenv("NEOCLOUD_DB", raising=False)
    with pytest.raises(RuntimeError, match="NEOCLOUD_DB is not set"):
        app()
    url = f"sqlite:///{tmp_path / 'w.db'}"
    keys = build_demo(bootstrap.services(url))
    monkeypatch.setenv("NEOCLOUD_DB", url)
    client = TestClient(app())
    response = client.get("/v1/leases", headers={"Authorization": f"Bearer {keys.operator}"})
    assert response.status_code == 200
    assert len(response.json()["items"]) == 4


def test_a_weak_metrics_token_is_refused_before_anything_starts(tmp_path: Path) -> None:
    db = tmp_path / "never.db"
    done = subprocess.run(
        [sys.executable, "-m", "neocloud.cli.main", "serve", "--db", f"sqlite:///{db}", "--metrics-token", "abc"],
        cwd=tmp_path,
        capture_output=True,
        text=True,
        timeout=STARTUP_S,
        check=False,
    )
    assert done.returncode == 2
    assert "--metrics-token (or $NEOCLOUD_METRICS_TOKEN): must be 16 to 256 visible ASCII" in done.stderr
    assert not db.exists()


def test_the_worker_factory_takes_the_scrape_token_from_the_environment(tmp_path: Path, monkeypatch) -> None:
    from fastapi.testclient import TestClient

    from neocloud import bootstrap
    from neocloud.bootstrap import worker_app
    from neocloud.services.demo import build_demo

    url = f"sqlite:///{tmp_path / 'w.db'}"
    build_demo(bootstrap.services(url))
    monkeypatch.setenv("NEOCLOUD_DB", url)
    monkeypatch.setenv("NEOCLOUD_METRICS_TOKEN", "prometheus-scrape-token-1")
    client = TestClient(worker_app())
    assert client.get("/metrics", headers={"Authorization": "Bearer prometheus-scrape-token-1"}).status_code == 200
    assert client.get("/metrics").status_code == 401
