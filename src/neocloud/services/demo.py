"""The demo database behind ``neocloud serve --demo``: a small fleet with real activity.

Two sites from the ``demo`` preset. ``demo-east`` (GB200 NVL72 racks) is leased whole
to one tenant for a year: the wholesale case, with SLA credit tiers of its own
(:data:`WHOLESALE_CREDITS`). On ``demo-west`` (H100/H200 nodes):
an internal training pool, block leases of several tenants (one held, one with
steps, one with spare nodes), a node failure healed from a spare, a failure in the
whole-site lease that leaves it degraded, and a maintenance window.
The internal pool has a live job queue (priority preemption) fed by
:data:`INTERNAL_WORK`. ``serve --demo`` writes it as a month of history
(:func:`build_demo_with_a_closed_month`): built two days into last month, the
internal work run through the queue as the clock moves to now (each workload reports
done when its estimate runs out, a cycle at every arrival and completion), last
month invoiced, and one small keep-vs-lease study and one small sweep recorded
(services/demo_studies.py).
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from datetime import datetime
from decimal import Decimal

from neocloud.domain.access import Role
from neocloud.domain.billing import period_of
from neocloud.domain.clock import ManualClock, from_s, to_s
from neocloud.domain.credits import CreditTier
from neocloud.domain.health import Health
from neocloud.domain.leases import LeaseRequest, SparePolicy, Step, Tier
from neocloud.domain.ledger import HolderKind
from neocloud.domain.money import Money
from neocloud.domain.presets import preset
from neocloud.domain.shape import Level, Locality, Shape, Unit
from neocloud.domain.spec import build_fleet
from neocloud.domain.workload import TraceJob
from neocloud.services.container import Services

DAY = 86_400
ACTOR = "demo"
TENANTS = ("frontier-lab", "acme-ai", "globex-research", "initech")


#: The whole-site lease's SLA credits, as its contract states them (not the defaults):
#: 5% below 99.5, 15% below 98, 30% below 95, 100% below 90, capped at 50% of the
#: month's fee. A demo contract, not a sourced default: a larger tenant negotiates
#: finer tiers; the 50% cap is the low end of the 50-100% range [R98] (2026-07-03).
WHOLESALE_CREDITS = (
    CreditTier(Decimal("99.5"), Decimal("0.05")),
    CreditTier(Decimal("98"), Decimal("0.15")),
    CreditTier(Decimal("95"), Decimal("0.30")),
    CreditTier(Decimal("90"), Decimal("1.00")),
)
WHOLESALE_CAP = Decimal("0.50")


#: The internal pool's workloads: (hours after the demo starts, name, team, GPUs, run
#: hours, priority). A demo stream, not a trace: a long pretraining run, sweeps and
#: evaluations that preempt it by priority, and work still queued at the end.
INTERNAL_WORK = (
    (0, "pretrain-70b-r3", "foundation", 96, 40 * 24, 1),
    (0, "tokenizer-ablation", "research", 16, 30, 0),
    (1, "eval-nightly-01", "evals", 16, 5, 3),
    (20, "rl-sweep-a", "post-training", 32, 72, 2),
    (60, "long-context-probe", "research", 32, 48, 0),
    (100, "eval-nightly-05", "evals", 16, 5, 3),
    (200, "distill-8b", "post-training", 64, 120, 2),
    (340, "safety-evals", "evals", 32, 10, 3),
    (420, "rl-sweep-b", "post-training", 32, 96, 2),
    (560, "data-mix-ablation", "research", 48, 60, 0),
    (640, "eval-nightly-27", "evals", 16, 5, 3),
    (700, "pretrain-7b-scaling", "foundation", 64, 200, 1),
)
INTERNAL_POOL = "internal-training"


def internal_jobs() -> tuple[TraceJob, ...]:
    """:data:`INTERNAL_WORK` as a trace (arrivals from 0, the team as the tenant): the
    demo's studies replay it, and ``POST /v1/studies/keep-vs-lease`` with ``internal: demo``."""
    return tuple(
        TraceJob(name, hours_in * 3600.0, gpus, hours * 3600.0, tenant=team)
        for hours_in, name, team, gpus, hours, _priority in sorted(INTERNAL_WORK)
    )


@dataclass(frozen=True, slots=True)
class DemoKeys:
    operator: str
    tenants: dict[str, str]


def build_demo(services: Services) -> DemoKeys:
    """Fill an empty store with the demo; the operator's and each tenant's API key."""
    leasing = services.leasing
    leasing.init(build_fleet(preset("demo")), actor=ACTOR)
    for name in TENANTS:
        leasing.add_tenant(name, actor=ACTOR)
    start = to_s(services.clock.now())

    def now() -> int:
        """The leases are live the moment the demo opens (a start in the future left it
        empty for a minute): each immediate one starts a second after the clock's second
        when it is booked, so the clock ticking on before the service checks the request
        (under load, between two bookings) never puts its start in the past."""
        return to_s(services.clock.now()) + 1

    usd = Money(Decimal("2.35"))
    wholesale = LeaseRequest(
        "frontier-lab",
        Shape(("GB200",), unit=Unit.SITE, site="demo-east"),
        (t := now()),
        t + 365 * DAY,
        None,  # from the seeded price book: wholesale GB200 with its ramp
        sla_availability_pct=Decimal("99.5"),
        tier=Tier.WHOLESALE,
        sla_credit_tiers=WHOLESALE_CREDITS,
        sla_credit_cap=WHOLESALE_CAP,
    )
    whole, _ = leasing.create(wholesale, actor=ACTOR)
    pool = Shape(("H100",), gpus=128, locality=Locality.BLOCK)
    leasing.assign_pool(INTERNAL_POOL, pool, (t := now()), t + 90 * DAY, actor=ACTOR)
    services.queues.create_pool(INTERNAL_POOL, policy="priority", placement="bestfit", actor=ACTOR)
    acme, _ = leasing.create(
        LeaseRequest(
            "acme-ai",
            Shape(("H100",), gpus=128, locality=Locality.BLOCK),
            (t := now()),
            t + 180 * DAY,
            None,  # reserved for 180 days, from the price book
            spares=SparePolicy(Level.BLOCK, 1),
        ),
        actor=ACTOR,
    )
    leasing.create(
        LeaseRequest(
            "globex-research",
            Shape(("H200",), gpus=128, locality=Locality.BLOCK),
            start + 14 * DAY,
            start + 120 * DAY,
            Money(Decimal("2.60")),
            steps=(Step(start + 45 * DAY, 192),),
        ),
        actor=ACTOR,
    )
    leasing.create(
        LeaseRequest(
            "initech",
            Shape(("H200",), gpus=64, locality=Locality.BLOCK),
            start + 7 * DAY,
            start + 60 * DAY,
            usd,  # override
        ),
        actor=ACTOR,
        hold=True,
    )
    _failures(services, acme.id, whole.id, start)
    keys = {
        name: services.keys.create(
            role=Role.TENANT, tenant=name, actor=ACTOR, known_tenants=set(TENANTS), label="demo"
        )[1]
        for name in TENANTS
    }
    _, operator = services.keys.create(role=Role.OPERATOR, tenant=None, actor=ACTOR, known_tenants=set(), label="demo")
    return DemoKeys(operator, keys)


def _failures(services: Services, acme_id: str, wholesale_id: str, start: int) -> None:
    """A failure healed from the lease's spare, one that degrades the whole-site lease,
    and a maintenance window on a free node."""
    leasing = services.leasing
    acme_nodes = sorted(b.node for b in leasing.show(acme_id).bookings if b.kind is HolderKind.LEASE)
    # Failures are recorded as they happen (now), as the leases start.
    leasing.set_health(acme_nodes[0], Health.FAILED, at_s=None, actor=ACTOR, reason="GPU fell off the bus (Xid 79)")
    unhealthy = {n.id for n in leasing.fleet().nodes if n.health is not Health.HEALTHY}
    east = sorted(b.node for b in leasing.show(wholesale_id).bookings if b.node not in unhealthy)
    leasing.set_health(east[0], Health.FAILED, at_s=None, actor=ACTOR, reason="NVLink errors")
    node = leasing.free_node("H200", start + 3 * DAY, start + 4 * DAY)
    if node is not None:
        leasing.maintenance(node, start + 3 * DAY, start + 4 * DAY, actor=ACTOR)


def build_demo_with_a_closed_month(services: Services, clock: ManualClock, now: datetime) -> DemoKeys:
    """The demo as an operator finds it after a month of operations (``serve --demo``):
    built two days into last month on ``clock`` (the services' clock), then moved to
    ``now``, and last month invoiced. The whole-site lease was short of its failed
    nodes all month, so its invoice carries an SLA credit with the evidence; the other
    leases' invoices are whole. The ledger is history, not a fiction: every record is
    what the services wrote at the instant the clock showed."""
    last_month = period_of(to_s(now) - 86_400 * (now.day + 1), "UTC")  # the month before now's
    clock.set(from_s(last_month.start_s + 2 * DAY))
    keys = build_demo(services)
    run_internal_work(services, clock, to_s(now))
    clock.set(now)
    services.leasing.tick(actor=ACTOR)
    services.billing.run(last_month.label, actor=ACTOR)
    from neocloud.services.demo_studies import record_demo_studies  # it imports this module

    record_demo_studies(services)
    return keys


def run_internal_work(services: Services, clock: ManualClock, until_s: int) -> None:
    """:data:`INTERNAL_WORK` through the internal pool's queue from now to ``until_s``:
    at each arrival and each estimate running out (the workload reports done), the
    clock moves there and one cycle runs, as a live queue's ticker would."""
    queues = services.queues
    start = to_s(clock.now())
    arrivals = sorted(INTERNAL_WORK)
    for _ in range(10 * len(arrivals) + 10):  # bounded: an arrival or a completion per step
        view = queues.queue(INTERNAL_POOL)
        ends = [w.expected_end_s for w in view.workloads if w.expected_end_s is not None]
        times = ends + ([start + arrivals[0][0] * 3600] if arrivals else [])
        t = min(times, default=None)
        if t is None or t > until_s:
            return
        clock.set(from_s(math.ceil(t)))
        now = to_s(clock.now())
        for w in view.workloads:
            if w.expected_end_s is not None and w.expected_end_s <= now:
                queues.finish(INTERNAL_POOL, w.number)
        while arrivals and start + arrivals[0][0] * 3600 <= now:
            _, name, team, gpus, hours, priority = arrivals.pop(0)
            queues.submit(INTERNAL_POOL, name=name, team=team, gpus=gpus, estimate_s=hours * 3600, priority=priority)
        queues.cycle(INTERNAL_POOL)
