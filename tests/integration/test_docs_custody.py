"""docs/billing.md "The custody trail" runs: its example is what ``neocloud custody``
prints for the story it tells (built on a SQLite file with a manual clock, January's
invoice run done)."""

from __future__ import annotations

import itertools
import re
from datetime import UTC, datetime
from decimal import Decimal
from pathlib import Path

from typer.testing import CliRunner

from neocloud import bootstrap
from neocloud.cli.main import app
from neocloud.domain.clock import ManualClock, to_s
from neocloud.domain.health import Health
from neocloud.domain.leases import LeaseRequest
from neocloud.domain.money import Money
from neocloud.domain.presets import preset
from neocloud.domain.shape import Locality, Shape
from neocloud.domain.spec import build_fleet
from neocloud.services.container import Services

DOCS = Path(__file__).resolve().parents[2] / "docs"
DAY = 86_400
HEALTHY = {"failed_fraction": "0", "degraded_fraction": "0", "maintenance_fraction": "0"}


def example() -> tuple[str, str]:
    """The command and the output docs/billing.md shows."""
    text = (DOCS / "billing.md").read_text()
    section = text[text.index("## The custody trail") :]
    block = re.search(r"```\n\$ (neocloud custody \S+)\n(.*?)```", section, re.S)
    assert block
    return block.group(1), block.group(2)


def the_story(url: str) -> Services:
    """acme's 64 H100 GPUs from 5 January for 30 days; one node fails on the 9th at
    03:00, is swapped out, in for an RMA and back; globex takes the free H100s from the
    14th for 10 days; January is billed on 2 February."""
    clock = ManualClock(datetime(2027, 1, 4, tzinfo=UTC))
    svc = bootstrap.services(url, clock)
    ids = (f"L-00000000000{k}" for k in itertools.count(1))
    svc.leasing.new_id = lambda: next(ids)
    svc.leasing.init(build_fleet(preset("demo", HEALTHY)), actor="ops")
    for tenant in ("acme", "globex"):
        svc.leasing.add_tenant(tenant, actor="ops")
    t0 = to_s(clock.now())

    def h100(gpus: int, tenant: str, start_days: int, days: int) -> LeaseRequest:
        shape = Shape(("H100",), gpus=gpus, locality=Locality.ANYWHERE)
        start = t0 + start_days * DAY
        return LeaseRequest(tenant, shape, start, start + days * DAY, Money(Decimal("2.35")))

    acme, _ = svc.leasing.create(h100(64, "acme", 1, 30), actor="ops")
    failed = sorted(b.node for b in svc.leasing.lease_bookings(acme.id))[2]
    for advance, state, reason in (
        ({"days": 5, "hours": 3}, Health.FAILED, "XID 79: GPU 3 fell off the bus"),
        ({"hours": 2}, Health.MAINTENANCE, "RMA opened for GPU 3"),
        ({"days": 1}, Health.HEALTHY, "GPU replaced, burn-in passed"),
    ):
        clock.advance(**advance)
        svc.leasing.set_health(failed, state, at_s=None, actor="ops", reason=reason)
    svc.leasing.create(h100(448, "globex", 10, 10), actor="ops")
    clock.set(datetime(2027, 2, 2, tzinfo=UTC))
    svc.billing.run("2027-01", actor="ops")
    return svc


def test_the_documented_custody_trail_is_what_the_command_prints(tmp_path: Path) -> None:
    url = f"sqlite:///{tmp_path / 'story.db'}"
    the_story(url)
    command, shown = example()
    args = [*command.split()[1:], "--db", url]
    result = CliRunner().invoke(app, args, env={"FORCE_COLOR": None, "COLUMNS": "80"})
    assert result.exit_code == 0, result.output
    assert result.stdout == shown
