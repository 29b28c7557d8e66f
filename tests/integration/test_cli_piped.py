"""The CLI as a person pipes it: ``neocloud lease list | less`` prints every value whole.

Each test runs the real command in a child process. Its standard input and error are a
pseudo-terminal of 80 columns, as in a shell where only standard output is piped:
Rich then measures that terminal, which is how piped tables used to be cut to 80
columns (``confirm…``, ``H100+H…``).
"""

from __future__ import annotations

import fcntl
import os
import pty
import re
import struct
import subprocess
import sys
import termios
from decimal import Decimal

import pytest

from neocloud import bootstrap
from neocloud.domain.clock import SystemClock, to_s
from neocloud.domain.leases import LeaseRequest
from neocloud.domain.money import Money
from neocloud.domain.presets import preset
from neocloud.domain.shape import Shape, Unit
from neocloud.domain.spec import build_fleet

DAY = 86_400
TENANT = "frontier-research-laboratories"
RUN_TIMEOUT_S = 120
ANSI = re.compile(r"\x1b\[[0-9;?]*[A-Za-z]")


@pytest.fixture(scope="module")
def db(tmp_path_factory: pytest.TempPathFactory) -> str:
    """A database with one confirmed whole-site lease of demo-west (model ``H100+H200``)."""
    url = f"sqlite:///{tmp_path_factory.mktemp('piped') / 'piped.db'}"
    leasing = bootstrap.leasing_service(url)
    leasing.init(build_fleet(preset("demo")), actor="test")
    leasing.add_tenant(TENANT, actor="test")
    start = to_s(SystemClock().now()) + DAY
    request = LeaseRequest(
        TENANT, Shape(("*",), unit=Unit.SITE, site="demo-west"), start, start + 30 * DAY, Money(Decimal("2.35"))
    )
    leasing.create(request, actor="test")
    return url


def test_a_piped_lease_list_prints_the_state_model_and_tenant_whole(db: str) -> None:
    text = _piped(["lease", "list", "--db", db])
    assert "H100+H200" in text
    assert " confirmed " in text
    assert TENANT in text
    assert "…" not in text


def test_a_piped_lease_list_keeps_each_lease_on_one_line(db: str) -> None:
    (row,) = [line for line in _piped(["lease", "list", "--db", db]).splitlines() if "L-" in line]
    assert TENANT in row
    assert "H100+H200" in row


def test_a_piped_events_table_prints_long_subjects_whole(db: str) -> None:
    text = _piped(["events", "--db", db, "--kind", "lease.created"])
    assert "…" not in text
    assert "lease.created" in text


def test_on_a_terminal_the_table_still_fits_its_width(db: str) -> None:
    lines = _on_terminal(["lease", "list", "--db", db], columns=60).splitlines()
    assert any("L-" in line for line in lines)
    assert max(len(line) for line in lines) <= 60


def _env() -> dict[str, str]:
    keep = {k: v for k, v in os.environ.items() if k not in {"COLUMNS", "LINES", "FORCE_COLOR", "TTY_COMPATIBLE"}}
    return {**keep, "TERM": "xterm", "NO_COLOR": "1"}


def _pty(columns: int) -> tuple[int, int]:
    master, slave = pty.openpty()
    fcntl.ioctl(slave, termios.TIOCSWINSZ, struct.pack("HHHH", 24, columns, 0, 0))
    return master, slave


def _piped(args: list[str]) -> str:
    """Standard output of ``neocloud ARGS`` into a pipe; stdin and stderr on an 80-column terminal."""
    master, slave = _pty(80)
    try:
        done = subprocess.run(
            [sys.executable, "-m", "neocloud.cli.main", *args],
            stdin=slave,
            stdout=subprocess.PIPE,
            stderr=slave,
            env=_env(),
            timeout=RUN_TIMEOUT_S,
            check=False,
        )
    finally:
        os.close(slave)
        os.close(master)
    assert done.returncode == 0
    return done.stdout.decode()


def _on_terminal(args: list[str], columns: int) -> str:
    """What ``neocloud ARGS`` writes to a terminal ``columns`` wide, escape codes removed."""
    master, slave = _pty(columns)
    proc = subprocess.Popen(
        [sys.executable, "-m", "neocloud.cli.main", *args], stdin=slave, stdout=slave, stderr=slave, env=_env()
    )
    os.close(slave)
    chunks = []
    try:
        while True:
            try:
                chunk = os.read(master, 65536)
            except OSError:  # the child closed the terminal
                break
            if not chunk:
                break
            chunks.append(chunk)
    finally:
        os.close(master)
        assert proc.wait(timeout=RUN_TIMEOUT_S) == 0
    return ANSI.sub("", b"".join(chunks).decode().replace("\r\n", "\n"))


def test_on_an_80_column_terminal_dates_and_changes_are_never_cut(db: str) -> None:
    """Dates wrap at their time and long cells fold: no value loses characters."""
    leases = _on_terminal(["lease", "list", "--db", db], columns=80)
    assert "…" not in leases
    assert max(len(line) for line in leases.splitlines()) <= 80
    assert len(re.findall(r"\d{4}-\d\d-\d\d", leases)) == 2  # the start and the end, whole
    events = _on_terminal(["events", "--db", db, "--kind", "lease.created"], columns=80)
    assert "…" not in events
    assert "state: confirmed" in " ".join(events.split())  # what changed, folded but all there
