"""Keep or lease, the pure parts: which units a fraction leases, the workload at the fleet's
scale, the internal replay on what stays, and the recommendation's rule."""

from __future__ import annotations

from dataclasses import replace
from decimal import Decimal

import pytest

from neocloud.domain.presets import PresetError, preset, presets
from neocloud.domain.spec import build_fleet
from neocloud.domain.workload import TraceJob
from neocloud.placement.jobs import JobPlacement
from neocloud.placement.snapshot import FleetSnapshot, build_snapshot
from neocloud.scheduling.jobs import JobSpec
from neocloud.scheduling.policies import POLICIES
from neocloud.services.keep_vs_lease import Option, recommend
from neocloud.sim.keep_vs_lease import CandidateLevel, Kept, candidate_units, leased_nodes, replay_kept, scaled_jobs
from neocloud.sim.metrics import Summary

HEALTHY = {"failed_fraction": "0", "degraded_fraction": "0", "maintenance_fraction": "0"}


@pytest.fixture(scope="module")
def demo() -> FleetSnapshot:
    return build_snapshot(build_fleet(preset("demo", HEALTHY)))


def test_candidates_are_the_units_of_a_level_within_the_named_sites(demo):
    pods = candidate_units(demo, CandidateLevel.PODS, ("demo-west",))
    assert [u.name for u in pods] == ["dw-pod01", "dw-pod02"]
    assert sum(u.gpus for u in pods) == 1024
    assert {demo.site_names[int(demo.node_site[n])] for u in pods for n in u.nodes} == {"demo-west"}
    sites = candidate_units(demo, CandidateLevel.SITES)
    assert [u.name for u in sites] == list(demo.site_names)
    with pytest.raises(ValueError, match="candidates: unknown site 'atlantis'"):
        candidate_units(demo, CandidateLevel.BLOCKS, ("atlantis",))


def test_a_fraction_leases_the_last_whole_units_nearest_its_share_and_never_the_whole_fleet(demo):
    pods = candidate_units(demo, CandidateLevel.PODS, ("demo-west",))
    none, names0 = leased_nodes(demo, pods, 0)
    half, names_half = leased_nodes(demo, pods, 0.5)
    whole, names1 = leased_nodes(demo, pods, 1)
    assert (len(none), names0) == (0, ())
    assert names_half == ("dw-pod02",)  # the last candidate first
    assert names1 == ("dw-pod01", "dw-pod02")
    assert set(half.tolist()) < set(whole.tolist())
    assert int(demo.node_gpus[whole].sum()) == 1024
    sites = candidate_units(demo, CandidateLevel.SITES)
    with pytest.raises(ValueError, match="leases every node of the fleet"):
        leased_nodes(demo, sites, 1)
    with pytest.raises(ValueError, match=r"fraction: 1\.5 is not from 0 to 1"):
        leased_nodes(demo, pods, 1.5)


def test_a_job_at_the_fleets_scale_asks_the_same_share_and_arrives_sooner_under_load():
    specs = [JobSpec("a", 100.0, 8, 60.0, 60.0), JobSpec("b", 200.0, 1, 30.0, 30.0, deadline_s=500.0)]
    scaled = list(scaled_jobs(specs, scale=10.4, load=2.0))
    assert [(j.gpus, j.submit_s, j.duration_s) for j in scaled] == [(83, 50.0, 60.0), (10, 100.0, 30.0)]
    assert scaled[1].deadline_s == 400.0  # the deadline keeps its distance from the submission
    assert next(scaled_jobs([JobSpec("c", 0.0, 1, 1.0, 1.0)], scale=0.1)).gpus == 1  # never below one GPU
    with pytest.raises(ValueError, match="both must be above 0"):
        list(scaled_jobs(specs, scale=0))


def test_leasing_capacity_away_makes_the_internal_work_wait(demo):
    pods = candidate_units(demo, CandidateLevel.PODS, ("demo-west",))
    trace = [TraceJob(str(k), k * 600.0, 64, 3600.0) for k in range(40)]  # 64 GPUs an hour, every 10 min

    def run(fraction: float) -> Kept:
        return replay_kept(
            demo, trace, pods, fraction, policy=POLICIES["fifo"](), placement=JobPlacement.COUNT, scale=4.0
        )

    keep, lease = run(0), run(1)
    assert keep.kept_gpus == 1600
    assert lease.kept_gpus == 576
    assert lease.leased_gpus == {"H100": 512, "H200": 512}
    assert keep.summary.queue_mean_s == keep.summary.delay_mean_s == 0  # 256 GPUs x 6 at once fit 1,600
    assert lease.summary.queue_mean_s > 0  # 1,536 GPUs asked at once do not fit 576
    assert lease.summary.delay_mean_s == pytest.approx(lease.summary.jct_mean_s - 3600)  # FIFO: no preemption
    assert lease.summary.finished == keep.summary.finished == 40


def _option(fraction: float, delay_s: float, npv: int, unfinished: int = 0, wait_s: float = 0.0) -> Option:
    summary = Summary(
        jobs=10,
        finished=10 - unfinished,
        rejected=0,
        jct_mean_s=1.0,
        jct_p50_s=1.0,
        jct_p99_s=1.0,
        queue_mean_s=wait_s,
        queue_p99_s=wait_s,
        delay_mean_s=delay_s,
        delay_p99_s=delay_s,
        makespan_s=1.0,
        utilization_mean=0.5,
        allocation_ratio_mean=0.5,
        fragmentation_mean=0.0,
        preemptions=0,
        interruptions=0,
        deadlines=0,
        deadline_misses=0,
        cycles=1,
    )
    kept = Kept(fraction, (), {}, 100, summary)
    z = Decimal(0)
    return Option(kept, (), unfinished, z, z, z, Decimal(npv), z, 1.0, 10_000.0)


def test_the_recommendation_is_the_best_npv_within_the_delay_bound_with_every_job_run():
    options = [_option(0, 60, 0), _option(0.5, 3600, 5), _option(1, 20_000, 9)]
    assert recommend(options, 4 * 3600)[0] == 0.5  # leasing all is worth more but delays the work past 4 h
    assert recommend(options, 6 * 3600)[0] == 1
    # the bound is on the delay (JCT less run time), not on the wait to a first start, which
    # 2D-LAS keeps near 0 while it holds the work back in preemption
    preempted = [_option(0, 60, 0), _option(0.5, 5 * 3600, 5, wait_s=0.0)]
    assert recommend(preempted, 4 * 3600)[0] == 0
    waited = [_option(0, 60, 0), _option(0.5, 3600, 5, wait_s=5 * 3600)]
    assert recommend(waited, 4 * 3600)[0] == 0.5
    stuck = [_option(0, 60, 0), replace(_option(0.5, 60, 5), unfinished=1)]
    fraction, why = recommend(stuck, 4 * 3600)
    assert fraction == 0
    assert "keep everything" in why
    losing = [_option(0, 60, 0), _option(0.5, 60, -3)]
    assert recommend(losing, 4 * 3600) == (
        0.0,
        "keep everything: no fraction leased within the delay bound has a positive NPV",
    )


def test_two_presets_make_one_fleet_of_both_campuses_and_a_site_twice_is_refused():
    both = build_fleet(presets(["demo", "colossus-1"]))
    assert [s.name for s in both.sites] == ["demo-east", "demo-west", "colossus-1"]
    with pytest.raises(PresetError, match="two sites named 'demo-east'"):
        presets(["demo", "demo"])


def test_one_rule_takes_the_last_whole_units_nearest_the_target_the_fewer_on_a_tie():
    from neocloud.sim.lease_fraction import units_to_take

    assert units_to_take([4, 4, 4], 5) == 1  # 4 is nearer 5 than 8
    assert units_to_take([4, 4, 4], 6) == 1  # 4 and 8 are as near: the fewer
    assert units_to_take([4, 4, 4], 12) == 3  # every unit
    assert units_to_take([4, 4, 4], 12, at_most=2) == 2  # a sweep never takes them all
    assert units_to_take([4, 4, 4], 0) == 0


def test_a_fleet_and_its_jobs_scaled_alike_replay_alike_under_2d_las():
    """Four times the nodes and four times each job's GPUs, 2D-LAS's limits scaled with
    them: the same completion times (unscaled limits demote every job four times as
    soon, and the preemptions differ)."""
    from neocloud.sim.keep_vs_lease import Replay, run_replay
    from tests.builders import a_block, a_fleet, a_group, a_site

    def fleet(nodes: int) -> FleetSnapshot:
        return build_snapshot(build_fleet(a_fleet(a_site(blocks=(a_block(node_groups=(a_group(count=nodes),)),)))))

    trace = [TraceJob(str(k), k * 300.0, 8 * (1 + k % 3), 1800.0 + 600 * (k % 5)) for k in range(24)]
    small, big = fleet(4), fleet(16)

    def replay(snap: FleetSnapshot, scale: float) -> Kept:
        units = candidate_units(snap, CandidateLevel.SITES)
        return run_replay(Replay(0.0, tuple(units), "las", JobPlacement.COUNT, scale), snap, trace)

    one, four = replay(small, 1.0), replay(big, 4.0)
    assert one.summary.preemptions > 0  # the limits matter here
    assert four.summary.jct_mean_s == pytest.approx(one.summary.jct_mean_s)
    assert four.summary.preemptions == one.summary.preemptions
