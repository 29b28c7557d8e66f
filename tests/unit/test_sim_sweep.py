"""The sweep's pure parts: the grid, the load scaling, the lease fraction's outages, one point."""

from __future__ import annotations

import math
import re

import pytest

from neocloud.domain.spec import build_fleet
from neocloud.domain.workload import TraceJob
from neocloud.placement.snapshot import build_snapshot
from neocloud.scheduling.jobs import JobSpec
from neocloud.sim.clusters import uniform_fleet
from neocloud.sim.sweep import (
    COLUMNS,
    Grid,
    arrival_disorder,
    compressed,
    lease_outages,
    leased_nodes,
    mean_over_seeds,
    run_point,
)
from tests.builders import a_block, a_fleet, a_group, a_site


def a_grid(**kw) -> Grid:
    base = {
        "policies": ("fifo", "las"),
        "seeds": (0, 1, 2),
        "loads": (0.5, 1.0),
        "lease_fractions": (0.0, 0.25),
        "trace": "tiresias:/t.csv",
        "cluster": "gpus:16x8",
    }
    return Grid(**{**base, **kw})


def gpus_snapshot(text_gpus: int, per_node: int = 8):
    return build_snapshot(build_fleet(uniform_fleet(text_gpus, per_node)))


def test_the_grid_lists_every_combination_once_in_order_with_the_seed_fastest():
    points = a_grid().points()
    assert len(points) == 2 * 2 * 2 * 3 == len(a_grid())
    assert [p.index for p in points] == list(range(24))
    settings = [(p.policy, p.lease_fraction, p.load, p.seed) for p in points]
    assert len(set(settings)) == 24
    assert settings[:4] == [("fifo", 0.0, 0.5, 0), ("fifo", 0.0, 0.5, 1), ("fifo", 0.0, 0.5, 2), ("fifo", 0.0, 1.0, 0)]
    assert settings[-1] == ("las", 0.25, 1.0, 2)
    assert {p.trace for p in points} == {"tiresias:/t.csv"}


@pytest.mark.parametrize(
    ("change", "message"),
    [
        ({"policies": ("fifo", "lottery")}, "policies: 'lottery' is not one of"),
        ({"policies": ()}, "policies: the grid needs at least one"),
        ({"seeds": (1, 1)}, "seeds: (1, 1) names one twice"),
        ({"loads": (0.0,)}, "every load factor is a finite number above 0"),
        ({"loads": (math.inf,)}, "every load factor is a finite number above 0"),
        ({"lease_fractions": (1.0,)}, "every fraction is from 0 to below 1"),
        ({"lease_fractions": (-0.1,)}, "every fraction is from 0 to below 1"),
        ({"placement": "random"}, "placement: 'random' is not one of"),
    ],
)
def test_a_grid_with_a_bad_axis_is_refused_naming_it(change, message):
    with pytest.raises(ValueError, match=re.escape(message)):
        a_grid(**change)


def a_spec(k: int, submit_s: float, deadline_s: float | None = None) -> JobSpec:
    return JobSpec(id=f"j{k}", submit_s=submit_s, gpus=2, duration_s=100.0, estimate_s=120.0, deadline_s=deadline_s)


def test_a_load_factor_compresses_arrivals_and_keeps_durations_so_the_offered_load_scales_by_it():
    specs = [a_spec(0, 0.0), a_spec(1, 300.0, deadline_s=500.0), a_spec(2, 900.0)]
    fast = list(compressed(specs, 3.0))
    assert [s.submit_s for s in fast] == [0.0, 100.0, 300.0]
    assert [(s.duration_s, s.estimate_s, s.gpus) for s in fast] == [(100.0, 120.0, 2)] * 3
    assert fast[1].deadline_s == 300.0  # still 200 s after its submission
    work = sum(s.gpus * s.duration_s for s in specs)
    span = specs[-1].submit_s - specs[0].submit_s
    assert work / (fast[-1].submit_s - fast[0].submit_s) == pytest.approx(3.0 * work / span)
    slow = list(compressed(specs, 0.5))
    assert [s.submit_s for s in slow] == [0.0, 600.0, 1800.0]


def test_a_load_factor_of_zero_or_less_is_refused():
    with pytest.raises(ValueError, match="load factor"):
        list(compressed([a_spec(0, 0.0)], 0.0))


def test_a_lease_fraction_takes_the_last_whole_nodes_of_a_one_block_fleet():
    snap = gpus_snapshot(128)  # 16 nodes of 8 GPUs, one block
    assert list(leased_nodes(snap, 0.25)) == [12, 13, 14, 15]
    assert list(leased_nodes(snap, 0.0)) == []
    assert len(leased_nodes(snap, 0.2)) == 3  # 3.2 nodes: nearest is 3
    assert len(leased_nodes(snap, 0.5 / 16)) == 0  # half a node: a tie goes to fewer


def test_a_lease_fraction_never_takes_every_node():
    snap = gpus_snapshot(16)  # 2 nodes
    assert list(leased_nodes(snap, 0.99)) == [1]  # the last node, not both


def test_a_lease_fraction_takes_the_last_whole_blocks_where_the_fleet_has_blocks():
    blocks = (
        a_block("b1", node_groups=(a_group(count=4),)),
        a_block("b2", node_groups=(a_group(count=2),)),
        a_block("b3", node_groups=(a_group(count=2),)),
    )
    snap = build_snapshot(build_fleet(a_fleet(a_site("s1", blocks=blocks))))
    assert len(snap.node_ids) == 8
    last = [n for n in range(8) if snap.block_names[snap.node_block[n]] == "b3"]
    assert list(leased_nodes(snap, 0.25)) == last  # 2 of 8 nodes: block b3 exactly
    # 0.45 x 8 = 3.6 nodes: b3 (2) or b3 + b2 (4): 4 is nearer, both blocks whole
    taken = list(leased_nodes(snap, 0.45))
    assert {snap.block_names[snap.node_block[n]] for n in taken} == {"b2", "b3"}
    assert len(taken) == 4
    # 0.9 x 8 = 7.2: all three blocks would be 8, but never every unit: b2 + b3
    assert len(leased_nodes(snap, 0.9)) == 4


def test_a_lease_is_an_outage_of_each_node_from_zero_for_ever():
    outages = lease_outages([6, 7])
    assert [(o.start_s, o.end_s, o.node, o.cause) for o in outages] == [
        (0.0, math.inf, 6, "lease"),
        (0.0, math.inf, 7, "lease"),
    ]


def toy_trace() -> list[TraceJob]:
    """Four jobs on 16 GPUs: the 16-GPU job at 10 s waits for the 8-GPU one started at 0."""
    rows = [("0", 0.0, 8, 100.0), ("1", 10.0, 16, 50.0), ("2", 20.0, 4, 10.0), ("3", 30.0, 2, 5.0)]
    return [TraceJob(id=i, arrival_s=t, gpus=g, duration_s=d) for i, t, g, d in rows]


def test_a_point_yields_the_summary_of_the_same_replay_as_sim_run():
    point = a_grid(policies=("fifo",), seeds=(0,), loads=(1.0,), lease_fractions=(0.0,)).points()[0]
    row = run_point(point, toy_trace(), gpus_snapshot(16))
    assert (row.jobs, row.finished, row.rejected, row.leased_nodes) == (4, 4, 0, 0)
    assert row.makespan_s == 160  # as sim run's own test of the same four jobs
    assert row.jct_mean_s == pytest.approx(((100 - 0) + (150 - 10) + (160 - 20) + (155 - 30)) / 4)
    assert tuple(row.as_dict()) == COLUMNS
    assert row.wall_s == 0.0


def test_a_point_at_twice_the_load_submits_twice_as_fast_and_the_jobs_queue():
    """Four 8-GPU jobs of 100 s, 100 s apart, on one 8-GPU node: exactly the node's
    capacity at load 1; at 2 each waits 50 s more than the one before; at 0.5 the node
    idles half the time."""
    jobs = [TraceJob(id=str(k), arrival_s=100.0 * k, gpus=8, duration_s=100.0) for k in range(4)]
    grid = a_grid(policies=("fifo",), seeds=(0,), loads=(1.0, 2.0, 0.5), lease_fractions=(0.0,))
    base, fast, slow = (run_point(p, jobs, gpus_snapshot(8)) for p in grid.points())
    assert (base.queue_mean_s, base.makespan_s, base.utilization_mean) == (0.0, 400.0, 1.0)
    assert (fast.queue_mean_s, fast.makespan_s) == ((0 + 50 + 100 + 150) / 4, 400.0)
    assert (slow.queue_mean_s, slow.makespan_s) == (0.0, 700.0)
    assert slow.utilization_mean == pytest.approx(400 / 700)


def test_a_leased_half_offers_nothing_so_the_job_of_the_whole_fleet_never_runs():
    grid = a_grid(policies=("fifo",), seeds=(0,), loads=(1.0,), lease_fractions=(0.5,))
    row = run_point(grid.points()[0], toy_trace(), gpus_snapshot(16))
    assert (row.leased_nodes, row.leased_gpus) == (1, 8)
    # FIFO: the 16-GPU job can never start on the 8 GPUs left, and nothing overtakes it
    assert (row.jobs, row.finished, row.rejected) == (4, 1, 0)
    assert row.utilization_mean <= 0.5
    assert row.allocation_ratio_mean > row.utilization_mean


def long_jobs(n: int = 40) -> list[TraceJob]:
    """``n`` 8-GPU jobs of 2,000,000 s an hour apart: about 3.5 node failures per run at
    1 per 50,700 GPU-hours, so the failure seed shows."""
    return [TraceJob(id=str(k), arrival_s=3600.0 * k, gpus=8, duration_s=2e6) for k in range(n)]


def test_the_same_point_gives_the_same_row_and_another_seed_another_failure_history():
    grid = a_grid(policies=("fifo",), seeds=(0, 1), loads=(1.0,), lease_fractions=(0.0,), failures=True)
    first, second = grid.points()
    row = run_point(first, long_jobs(), gpus_snapshot(128))
    assert run_point(first, long_jobs(), gpus_snapshot(128)) == row
    other = run_point(second, long_jobs(), gpus_snapshot(128))
    assert row.interruptions + other.interruptions > 0
    assert (other.interruptions, other.jct_mean_s) != (row.interruptions, row.jct_mean_s)


def test_a_trace_out_of_arrival_order_is_named_before_anything_runs():
    jobs = toy_trace()
    assert arrival_disorder(jobs) is None
    late = [jobs[0], jobs[2], jobs[1]]
    assert arrival_disorder(late) == (
        "job 1 comes after job 2 but arrives 10 s before it: the jobs are not in arrival order"
    )


def test_the_means_over_the_seeds_group_each_setting_in_the_order_it_first_appears():
    grid = a_grid(policies=("fifo", "las"), seeds=(0, 1), loads=(1.0,), lease_fractions=(0.0,), failures=True)
    rows = [run_point(p, long_jobs(), gpus_snapshot(128)) for p in grid.points()]
    fifo, las = mean_over_seeds(rows)
    assert (fifo.policy, fifo.seeds, las.policy, las.seeds) == ("fifo", 2, "las", 2)
    assert fifo.jct_mean_s == pytest.approx((rows[0].jct_mean_s + rows[1].jct_mean_s) / 2)
    assert las.preemptions == (rows[2].preemptions + rows[3].preemptions) / 2


def test_leasing_half_the_nodes_replays_as_the_half_that_stays():
    """Without failures, half of 16 nodes leased gives the JCTs of 8 nodes alone; the
    fleet's utilization halves, the allocation ratio of what was offered does not."""
    one = a_grid(policies=("las",), seeds=(0,), loads=(1.0,), lease_fractions=(0.5,)).points()[0]
    whole = a_grid(policies=("las",), seeds=(0,), loads=(1.0,), lease_fractions=(0.0,)).points()[0]
    leased = run_point(one, long_jobs(), gpus_snapshot(128))
    alone = run_point(whole, long_jobs(), gpus_snapshot(64))
    for key in ("jobs", "finished", "jct_mean_s", "jct_p99_s", "queue_mean_s", "makespan_s", "preemptions"):
        assert getattr(leased, key) == getattr(alone, key), key
    assert leased.utilization_mean == pytest.approx(alone.utilization_mean / 2)
    assert leased.allocation_ratio_mean == pytest.approx(alone.allocation_ratio_mean)
