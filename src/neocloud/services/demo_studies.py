"""The demo's studies (``serve --demo``): one keep-vs-lease study and one sweep on the demo
fleet, computed at startup from the demo's own internal work (services/demo.py
:data:`~neocloud.services.demo.INTERNAL_WORK`, not a trace from ../shared, which a fresh
machine may not have), so that the dashboard's studies pages have something to show.

Both are small on purpose (docs/benchmarks.md "The demo's studies" measures them):
three fractions of demo-west's blocks, and four policies x two lease fractions x three
load factors of one seed.
"""

from __future__ import annotations

import time
from dataclasses import replace
from decimal import Decimal
from typing import Any

from neocloud.domain.clock import to_s
from neocloud.domain.money import Money
from neocloud.domain.studies import StudyKind
from neocloud.services.container import Services
from neocloud.services.demo import ACTOR, internal_jobs
from neocloud.services.keep_vs_lease import LeaseTerms
from neocloud.services.studies import DEMO_WORK, KeepVsLeaseAsk
from neocloud.services.study_documents import sweep_document

YEAR_S = 365 * 86_400
#: The demo's internal jobs ask this many times their GPUs [D: the demo stream asks at
#: most 96 of the fleet's 1,600 GPUs; at 4x the largest asks 384, and leasing half or
#: all of demo-west shows a delay to trade against the lease's NPV].
DEMO_SCALE = 4.0
#: The demo lease's price: $2.35 per GPU-hour, the H100 one-year contract price in
#: March 2026 [R5] (economics/pricebook_defaults.py), the demo's block-lease price too.
DEMO_PRICE = Money(Decimal("2.35"))
SWEEP_POLICIES = ("fifo", "backfill", "las", "priority")
SWEEP_FRACTIONS = (0.0, 0.5)
SWEEP_LOADS = (1.0, 2.0, 4.0)


def record_demo_studies(services: Services) -> None:
    """Compute and store the demo's keep-vs-lease study and sweep (names ``demo-keep-vs-lease``
    and ``demo-sweep``) at the services' clock."""
    _keep_vs_lease(services)
    _sweep(services)


def _keep_vs_lease(services: Services) -> None:
    now = to_s(services.clock.now())
    ask = KeepVsLeaseAsk(
        name="demo-keep-vs-lease",
        fractions=(0.0, 0.5, 1.0),
        level="blocks",
        sites=("demo-west",),
        internal=DEMO_WORK,
        terms=LeaseTerms(tenant="frontier-lab", start_s=now, end_s=now + YEAR_S, price_per_gpu_hour=DEMO_PRICE),
        scale=DEMO_SCALE,
        policy="las",
    )
    run = services.studies.prepare_keep_vs_lease(ask)
    inputs: dict[str, Any] = {
        "fractions": list(ask.fractions),
        "candidates": f"{ask.level}:{','.join(ask.sites)}",
        "internal": "the demo's internal work (services/demo.py INTERNAL_WORK)",
        "internal_scale": DEMO_SCALE,
        "policy": ask.policy,
        "tenant": ask.terms.tenant,
        "price_per_gpu_hour": str(DEMO_PRICE.amount),
        "term_days": 365,
    }
    document = run(lambda _fraction: None)
    services.studies.record(
        StudyKind.KEEP_VS_LEASE, ask.name, actor=ACTOR, inputs=inputs, result=document, total=len(ask.fractions)
    )


def _sweep(services: Services) -> None:
    from neocloud.placement.snapshot import build_snapshot
    from neocloud.sim.sweep import Grid, run_point

    jobs = tuple(replace(j, gpus=max(1, round(j.gpus * DEMO_SCALE))) for j in internal_jobs())
    snap = build_snapshot(services.leasing.fleet())
    grid = Grid(
        policies=SWEEP_POLICIES,
        seeds=(0,),
        loads=SWEEP_LOADS,
        lease_fractions=SWEEP_FRACTIONS,
        trace="the demo's internal work",
        cluster="the demo fleet",
    )
    started = time.perf_counter()
    rows = [run_point(p, jobs, snap) for p in grid.points()]
    wall_s = time.perf_counter() - started
    about = {
        "trace": f"the demo's internal work, GPUs x{DEMO_SCALE:g}",
        "cluster": "the demo fleet",
        "placement": grid.placement,
        "window": None,
        "executor": "the server, at startup",
        "wall_s": round(wall_s, 3),
    }
    inputs = {
        "policies": list(SWEEP_POLICIES),
        "seeds": [0],
        "loads": list(SWEEP_LOADS),
        "lease_fractions": list(SWEEP_FRACTIONS),
        "placement": grid.placement,
    }
    services.studies.record(
        StudyKind.SWEEP, "demo-sweep", actor=ACTOR, inputs=inputs, result=sweep_document(rows, about), total=len(rows)
    )
