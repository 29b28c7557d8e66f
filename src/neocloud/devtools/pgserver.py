"""A throwaway PostgreSQL server from Debian's packages, for tests and benchmarks.

``initdb`` into a temporary folder owned by the ``postgres`` user (the server
refuses to run as root, so as root the tools run through ``runuser -u postgres
--``), listening only on 127.0.0.1 on a free port with its unix socket in that
folder. Without ``durable`` fsync and synchronous commit are off (test data is
thrown away); benchmarks keep them on. Development tooling: nothing in the
product imports this module.
"""

from __future__ import annotations

import glob
import os
import shutil
import socket
import subprocess
import tempfile
import time
import uuid
from dataclasses import dataclass, field
from pathlib import Path

READY_WAIT_S = 30.0


def find_bin_dir() -> Path | None:
    """The newest ``/usr/lib/postgresql/<major>/bin`` that has the server tools."""
    found = [Path(p).parent for p in glob.glob("/usr/lib/postgresql/*/bin/initdb")]
    found = [d for d in found if (d / "pg_ctl").exists() and (d / "pg_isready").exists()]
    return max(found, key=lambda d: int(d.parent.name) if d.parent.name.isdigit() else 0, default=None)


@dataclass
class PgServer:
    bin_dir: Path
    root: Path
    port: int
    databases: list[str] = field(default_factory=list)

    @property
    def data(self) -> Path:
        return self.root / "data"

    def url(self, database: str = "postgres") -> str:
        return f"postgresql+psycopg://postgres@127.0.0.1:{self.port}/{database}"

    def create_database(self) -> str:
        """A new empty database; its URL."""
        import psycopg

        name = f"nc_{uuid.uuid4().hex[:16]}"
        with psycopg.connect(f"host=127.0.0.1 port={self.port} user=postgres dbname=postgres", autocommit=True) as c:
            c.execute(f'CREATE DATABASE "{name}"')
        self.databases.append(name)
        return self.url(name)


def _run_as_postgres(cmd: list[str], **kw: object) -> subprocess.CompletedProcess[str]:
    prefix = ["runuser", "-u", "postgres", "--"] if os.geteuid() == 0 else []
    result: subprocess.CompletedProcess[str] = subprocess.run(  # noqa: S603 - fixed tool paths, no shell
        [*prefix, *cmd],
        check=True,
        capture_output=True,
        text=True,
        **kw,  # type: ignore[call-overload]
    )
    return result


def _free_port() -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def start_server(bin_dir: Path, *, durable: bool = False) -> PgServer:
    """Start a server; ``durable`` keeps fsync and synchronous commits on (for benchmarks)."""
    root = Path(tempfile.mkdtemp(prefix="neocloud-pg-"))
    if os.geteuid() == 0:
        shutil.chown(root, "postgres", "postgres")
    server = PgServer(bin_dir, root, _free_port())
    _run_as_postgres(
        [str(bin_dir / "initdb"), "-D", str(server.data), "-U", "postgres", "-A", "trust", "-E", "UTF8"]
        + ([] if durable else ["--no-sync"])
    )
    options = f"-h 127.0.0.1 -p {server.port} -k {root} -c max_connections=200"
    if not durable:
        options += " -c fsync=off -c synchronous_commit=off -c full_page_writes=off"
    _run_as_postgres(
        [str(bin_dir / "pg_ctl"), "-D", str(server.data), "-l", str(root / "log"), "-o", options, "-W", "start"]
    )
    deadline = time.monotonic() + READY_WAIT_S
    while True:
        ready = subprocess.run(  # noqa: S603 - a fixed tool path, no shell
            [str(bin_dir / "pg_isready"), "-q", "-h", "127.0.0.1", "-p", str(server.port)], check=False
        )
        if ready.returncode == 0:
            return server
        if time.monotonic() > deadline:
            log = (root / "log").read_text(errors="replace") if (root / "log").exists() else "(no log)"
            stop_server(server)
            raise RuntimeError(f"PostgreSQL did not accept connections within {READY_WAIT_S:.0f} s; log:\n{log}")
        time.sleep(0.1)


def stop_server(server: PgServer) -> None:
    try:
        _run_as_postgres([str(server.bin_dir / "pg_ctl"), "-D", str(server.data), "-m", "immediate", "-w", "stop"])
    except subprocess.CalledProcessError:
        pass
    finally:
        shutil.rmtree(server.root, ignore_errors=True)
