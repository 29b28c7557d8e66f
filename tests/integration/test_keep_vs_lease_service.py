"""``services.keep_vs_lease.study`` itself, with its default replays in this process:
each fraction's figures are the simulator's, progress counts the fractions, and a
fraction that no replay can take is refused before any replay runs."""

from __future__ import annotations

import pytest

from neocloud import bootstrap
from neocloud.domain.errors import RequestError
from neocloud.domain.money import Money
from neocloud.domain.presets import preset
from neocloud.domain.spec import build_fleet
from neocloud.domain.workload import TraceJob
from neocloud.placement.jobs import JobPlacement
from neocloud.placement.snapshot import build_snapshot
from neocloud.scheduling.policies import POLICIES
from neocloud.services.keep_vs_lease import LeaseTerms, study
from neocloud.sim.keep_vs_lease import CandidateLevel, candidate_units, replay_kept

TERMS = LeaseTerms("newco", 1_798_761_600, 1_893_456_000, price_per_gpu_hour=Money.parse("2.35 USD"))
TRACE = [TraceJob(str(k), k * 600.0, 64, 3600.0 * (1 + k % 3)) for k in range(40)]


def test_the_studys_own_replays_are_the_simulators_and_progress_counts_the_fractions():
    fleet = build_fleet(preset("demo"))
    snap = build_snapshot(fleet)
    units = candidate_units(snap, CandidateLevel.PODS, ("demo-west",))
    seen: list[int] = []
    result = study(
        fleet,
        snap,
        lambda: iter(TRACE),
        units=units,
        fractions=[1, 0, 0.5],
        terms=TERMS,
        costs=bootstrap.deal_costs(),
        policy="fifo",
        scale=4.0,
        progress=seen.append,
    )
    assert seen == [1, 2, 3]
    assert [o.fraction for o in result.options] == [0, 0.5, 1]  # ascending, whatever the order asked
    for option in result.options:
        alone = replay_kept(
            snap, TRACE, units, option.fraction, policy=POLICIES["fifo"](), placement=JobPlacement.COUNT, scale=4.0
        )
        assert option.kept == alone
    assert result.options[0].kept.summary.delay_mean_s < result.options[-1].kept.summary.delay_mean_s


def test_a_fraction_that_leases_every_node_is_refused_before_any_replay():
    fleet = build_fleet(preset("demo"))
    snap = build_snapshot(fleet)
    seen: list[int] = []
    with pytest.raises(RequestError, match="fraction: 1 leases every node of the fleet"):
        study(
            fleet,
            snap,
            lambda: iter(TRACE),
            units=candidate_units(snap, CandidateLevel.SITES),
            fractions=[0, 1],
            terms=TERMS,
            costs=bootstrap.deal_costs(),
            scale=4.0,
            progress=seen.append,
        )
    assert seen == []  # fraction 0's replay never ran
