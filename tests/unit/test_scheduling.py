"""Scheduling policies and the event loop on a small pool: who starts when, and what a run keeps true."""

from __future__ import annotations

import math
from unittest import mock

import numpy as np
import pytest
from hypothesis import example, given, settings
from hypothesis import strategies as st

from neocloud.domain.presets import preset
from neocloud.domain.spec import build_fleet
from neocloud.domain.workload import TraceJob
from neocloud.placement.jobs import JobPlacement
from neocloud.placement.pool import Allocation, GpuPool
from neocloud.placement.snapshot import FleetSnapshot, build_snapshot
from neocloud.scheduling.cluster import Cluster
from neocloud.scheduling.cycle import run_cycle, schedule
from neocloud.scheduling.jobs import JobSpec, Start
from neocloud.scheduling.policies import POLICIES
from neocloud.scheduling.policies.fairshare import FairShare, Quota
from neocloud.scheduling.policies.las import Las
from neocloud.scheduling.policies.priority import Priority
from neocloud.sim.driver import Outage, OutOfOrder, simulate
from neocloud.sim.failures import FailureModel
from neocloud.sim.metrics import summarize
from neocloud.sim.report import jct_quantiles, per_tenant, series
from neocloud.sim.workload import Skipped, Window, job_specs
from tests.builders import a_block, a_fleet, a_group, a_site


@pytest.fixture(scope="module")
def snap() -> FleetSnapshot:
    """Four 8-GPU nodes: 32 GPUs."""
    return build_snapshot(build_fleet(a_fleet(a_site(blocks=(a_block(node_groups=(a_group(count=4),)),)))))


@pytest.fixture(scope="module")
def snap_mixed() -> FleetSnapshot:
    """8-GPU H100 nodes and 4-GPU GB200 nodes."""
    spec = preset("generic", {"power_mw": "2", "mix": "H100:0.5,GB200:0.5", "block_gpus": "512"})
    return build_snapshot(build_fleet(spec))


def job(submit: float, gpus: int, duration: float, *, estimate: float | None = None, name: str = "") -> JobSpec:
    return JobSpec(name or f"j{submit:g}-{gpus}", submit, gpus, duration, duration if estimate is None else estimate)


def run(snap: FleetSnapshot, jobs: list[JobSpec], policy: str, placement: str = "count", **kw):
    cluster = Cluster(GpuPool(snap), **kw)
    return simulate(cluster, jobs, POLICIES[policy](), JobPlacement(placement))


def starts(result) -> list[float]:
    return result.cluster.first_start_s[: result.cluster.size].tolist()


def test_strict_fifo_lets_nothing_overtake_a_job_that_does_not_fit(snap):
    jobs = [job(0, 24, 100), job(1, 16, 100), job(2, 4, 10)]
    assert starts(run(snap, jobs, "fifo")) == [0, 100, 100]


def test_fifo_restarts_a_job_an_outage_preempted_before_jobs_submitted_after_it(snap):
    # job 0 holds node 0 when it goes down at 5 s; it rejoins the queue behind job 2,
    # but FIFO is submission order: when the node returns at 100 s job 0 runs first
    jobs = [job(0, 8, 1000), job(1, 24, 1000), job(2, 8, 10)]
    cluster = Cluster(GpuPool(snap), restart_s=0)
    result = simulate(cluster, jobs, POLICIES["fifo"](), JobPlacement.COUNT, outages=[Outage(5, 100, 0)])
    assert result.cluster.run_start_s[0] == 100
    assert starts(result)[2] == 1000 + 1  # after job 1 ends: nothing overtook job 0


def test_backfill_starts_a_short_job_that_ends_before_the_head_could_start(snap):
    jobs = [job(0, 24, 100), job(1, 16, 100), job(2, 4, 10), job(3, 8, 500)]
    # the 16-GPU head can start at 100 (its shadow time), leaving 16 GPUs spare then
    s = starts(run(snap, jobs, "backfill"))
    assert s[:2] == [0, 100]
    assert s[2] == 2  # backfilled: it ends at 12, before the shadow time
    assert s[3] == 12  # once 8 GPUs are free: it runs past 100 but within the 16 spare


def test_backfill_never_delays_the_head_by_its_estimates(snap):
    jobs = [job(0, 24, 100), job(1, 32, 100), job(2, 8, 500)]
    s = starts(run(snap, jobs, "backfill"))
    assert s[1] == 100  # the head starts at its shadow time
    assert s[2] == 200  # the long job waited: it would have held 8 of the head's 32


def test_backfill_counts_only_the_gpus_spare_at_the_shadow_time_not_at_later_ends(snap):
    # the 24-GPU head fits when the 16-GPU job ends at 100 (0 spare then); the 8-GPU
    # job ending at 200 does not count, so a long 8-GPU job may not backfill now
    jobs = [job(0, 16, 100), job(0, 8, 200), job(1, 24, 100), job(2, 8, 500)]
    assert starts(run(snap, jobs, "backfill")) == [0, 0, 100, 200]


def test_backfill_on_a_wrong_estimate_can_delay_the_head(snap):
    # the 8-GPU job claims 50 s but runs 500: it is backfilled and holds the head back
    jobs = [job(0, 24, 100), job(1, 32, 100), job(2, 8, 500, estimate=50)]
    s = starts(run(snap, jobs, "backfill"))
    assert s[2] == 2
    assert s[1] == 502


def test_sjf_starts_the_shortest_waiting_job_first(snap):
    jobs = [job(0, 32, 100), job(1, 32, 300), job(2, 32, 50)]
    assert starts(run(snap, jobs, "sjf")) == [0, 150, 100]


def test_las_preempts_a_job_that_has_received_more_service_for_a_new_one(snap):
    jobs = [job(0, 32, 10_000), job(200, 8, 100)]
    result = run(snap, jobs, "las", restart_s=60)
    cluster = result.cluster
    assert starts(result) == [0, 200]
    assert int(cluster.preemptions[0]) == 1
    # the big job ran 200 s, waited 100 s, then its remaining 9,800 s plus the 60 s restart
    assert cluster.finish_s[0] == pytest.approx(200 + 100 + 9_800 + 60)


def test_a_preempted_jobs_next_start_is_a_resume(snap):
    seen: list[Start] = []

    def recording(cluster, now_s, policy, placement):
        out = run_cycle(cluster, now_s, policy, placement)
        seen.extend(d for d in out if isinstance(d, Start))
        return out

    with mock.patch("neocloud.sim.driver.run_cycle", recording):
        run(snap, [job(0, 32, 10_000), job(200, 8, 100)], "las", restart_s=60)
    assert [(d.job, d.resume) for d in seen] == [(0, False), (1, False), (0, True)]


def test_las_demotes_at_its_queue_limit_and_runs_the_newer_job_first(snap):
    # job 1 arrives at 50 and waits behind job 0 (both in queue 0, FIFO); at 3,250 / 32 s
    # job 0 crosses the queue limit, a review runs a cycle, and job 1 outranks it
    las = Las((3250.0,))
    cluster = Cluster(GpuPool(snap), restart_s=0)
    jobs = [job(0, 32, 1000), job(50, 32, 20)]
    result = simulate(cluster, jobs, las, JobPlacement.COUNT)
    assert starts(result)[1] == pytest.approx(3250 / 32)  # job 0 demoted at its limit, then preempted
    assert result.cluster.finish_s[1] == pytest.approx(3250 / 32 + 20)


def test_a_preemption_that_would_free_gpus_no_start_can_use_does_not_happen():
    two = build_snapshot(build_fleet(a_fleet(a_site(blocks=(a_block(node_groups=(a_group(count=2),)),)))))
    cluster = Cluster(GpuPool(two), restart_s=0)
    for node in (0, 1, 0, 1):  # four 4-GPU jobs, interleaved over the two 8-GPU nodes
        job_ = cluster.submit(job(0, 4, 1e6))
        cluster.apply(Start(job_, Allocation((node,), (4,))), 0)
        cluster.attained_gpu_s[job_] = 1e9  # long past every LAS queue limit
    cluster.submit(job(1, 8, 100))
    # by count the new job outranks jobs 2 and 3, but their GPUs sit on two nodes: an
    # 8-GPU job fits neither under first fit, so preempting them would idle 8 GPUs
    assert schedule(cluster, 1, Las(), JobPlacement.FIRST_FIT) == []
    decisions = schedule(cluster, 1, Las(), JobPlacement.COUNT)
    assert sorted(type(d).__name__ for d in decisions) == ["Preempt", "Preempt", "Start"]
    assert isinstance(decisions[-1], Start)  # starts come after the preemptions that free them


def test_a_larger_job_is_still_tried_where_node_sizes_differ(snap_mixed):
    pool = GpuPool(snap_mixed)
    cluster = Cluster(pool)
    h100 = [n for n in range(len(snap_mixed.node_ids)) if snap_mixed.node_gpus[n] == 8]
    for n in h100:  # every 8-GPU node half taken: an 8-GPU job fits no node
        cluster.submit(job(0, 4, 1e6))
        cluster.apply(Start(cluster.size - 1, Allocation((n,), (4,))), 0)
    cluster.submit(job(1, 8, 10))
    cluster.submit(job(1, 12, 10))  # three whole free 4-GPU nodes hold it
    decisions = schedule(cluster, 1, POLICIES["sjf"](), JobPlacement.FIRST_FIT)
    assert [d.job for d in decisions if isinstance(d, Start)] == [cluster.size - 1]


def test_every_queue_limit_of_a_run_is_reviewed():
    one = build_snapshot(
        build_fleet(a_fleet(a_site(blocks=(a_block(node_groups=(a_group(count=1, gpu_model="H100"),)),))))
    )
    # one 8-GPU node; A (8 GPUs, 50,000 s) runs; B (8 GPUs) arrives at 4,000 s, outranks A
    # (queue 2 by then) and crosses 3,250 and 7,200 GPU-s itself: at 7,200 / 8 s past its
    # start B drops into A's queue and, running first within it, keeps the GPUs, with
    # each limit reviewed where it falls
    las = Las((3250.0, 7200.0))
    cluster = Cluster(GpuPool(one), restart_s=0)
    result = simulate(cluster, [job(0, 8, 50_000), job(4000, 8, 50_000)], las, JobPlacement.COUNT)
    reviews = [t for t in result.trajectory.t_s if t in (4000 + 3250 / 8, 4000 + 7200 / 8)]
    assert reviews == [4000 + 3250 / 8, 4000 + 7200 / 8]


def test_a_review_at_an_awkward_time_still_sees_the_job_in_its_next_queue(snap):
    las = Las((3250.0,))
    cluster = Cluster(GpuPool(snap), restart_s=0)
    jobs = [job(1_234_567, 3, 100_000), job(1_234_568, 32, 100)]
    result = simulate(cluster, jobs, las, JobPlacement.COUNT)
    # job 0 crosses 3,250 GPU-s at 1,234,567 + 1,083.33 s; only then does job 1 outrank it
    assert starts(result)[1] == pytest.approx(1_234_567 + 3250 / 3)


@settings(max_examples=200, deadline=None)
@given(
    st.floats(0, 1e12, allow_nan=False),
    st.floats(0, 1e8, allow_nan=False),
    st.floats(0, 1e8, allow_nan=False),
    st.integers(1, 4096),
    st.booleans(),
)
def test_one_jobs_attained_service_is_what_the_vectorised_ranking_computes_bit_for_bit(
    snap, attained, start, ran, gpus, running
):
    # a review timed at a queue limit must see the job where the ranking puts it
    cluster = Cluster(GpuPool(snap))
    k = cluster.submit(job(0, 1, 1))
    cluster.attained_gpu_s[k], cluster.run_start_s[k], cluster.gpus[k] = attained, start, gpus
    cluster.is_running[k] = running
    now = start + ran
    assert cluster.attained(k, now) == float(cluster.attained_of(np.asarray([k]), now)[0])


def test_las_by_default_has_tiresias_three_queues_so_service_past_7200_gpu_s_never_demotes_again(snap):
    # Tiresias' simulator: num_queue 3, limits 3,250 and 7,200 (its 18,000 is never
    # reached). Job 0 is demoted at 3,250 GPU-s, job 1 runs until it crosses 7,200, then
    # job 0 runs past 7,200 too: both in the last queue, the running one is never
    # displaced, so job 0 ends first (a fourth queue at 18,000 would hand job 1 back
    # the GPUs at 18,000 GPU-s).
    cluster = Cluster(GpuPool(snap), restart_s=0)
    result = simulate(cluster, [job(0, 32, 10_000), job(1, 32, 1_000)], Las(), JobPlacement.COUNT)
    assert int(result.cluster.preemptions[0]) == 1
    assert int(result.cluster.preemptions[1]) == 1
    assert result.cluster.finish_s[0] == pytest.approx(10_000 + 7200 / 32)  # it waited while job 1 ran
    assert result.cluster.finish_s[1] == pytest.approx(10_000 + 1_000)


@pytest.mark.parametrize("policy", sorted(POLICIES))
def test_a_job_larger_than_the_fleet_is_rejected_with_the_reason_under_every_policy(snap, policy):
    # under LAS the fleet is oversubscribed by count when the 40-GPU jobs arrive: they
    # are never walked by placement, so only the admission phase can reject them
    jobs = [job(0, 8, 1000), job(60, 40, 390), job(230, 40, 334), job(291, 1, 131)]
    result = run(snap, jobs, policy)
    reason = "asks for 40 GPUs; the fleet has 32 GPUs"
    assert result.cluster.rejected == {1: reason, 2: reason}
    assert starts(result)[3] == 291


def test_a_cycle_changes_nothing_until_its_decisions_are_applied(snap):
    cluster = Cluster(GpuPool(snap))
    for spec in (job(0, 8, 100), job(0, 16, 100), job(0, 32, 100)):
        cluster.submit(spec)
    cluster.apply(Start(0, _alloc(cluster, 0)), 0)
    before = (cluster.pool.free.copy(), dict(cluster.waiting), dict(cluster.running))
    for name in POLICIES:
        decisions = schedule(cluster, 10, POLICIES[name](), JobPlacement.FIRST_FIT)
        assert decisions
        assert np.array_equal(cluster.pool.free, before[0]), name
        assert (cluster.waiting, cluster.running) == before[1:], name
        assert cluster.pool.problems() == [], name


def _alloc(cluster: Cluster, job_: int):
    from neocloud.placement.jobs import place_job

    alloc = place_job(cluster.pool, cluster.jobs[job_].gpus, JobPlacement.FIRST_FIT)
    assert alloc is not None
    return alloc


def test_capacity_that_leaves_preempts_the_jobs_on_its_node_first(snap):
    cluster = Cluster(GpuPool(snap), restart_s=5)
    jobs = [job(0, 8, 100, name="a"), job(0, 8, 100, name="b")]
    result = simulate(cluster, jobs, POLICIES["fifo"](), JobPlacement.FIRST_FIT, outages=[Outage(10, 1000, 0, "lease")])
    assert int(result.cluster.preemptions.sum()) == 1
    assert result.interruptions == 1
    assert result.cluster.pool.capacity[0] == 0  # the run ended inside the outage
    # "a" (node 0) resumes at once on another node with 90 s left, plus the 5 s restart
    assert result.cluster.finish_s[:2].tolist() == [105, 100]


def tenant_job(submit: float, tenant: int, gpus: int, duration: float, priority: int = 0) -> JobSpec:
    return JobSpec(f"t{tenant}-{submit:g}", submit, gpus, duration, duration, tenant=tenant, priority=priority)


def fair(snap: FleetSnapshot, jobs: list[JobSpec], quotas: dict[str, Quota] | None = None):
    cluster = Cluster(GpuPool(snap), tenants=("a", "b"), restart_s=0)
    return simulate(cluster, jobs, FairShare(quotas), JobPlacement.COUNT)


def test_fair_share_lends_an_idle_tenants_quota_and_takes_it_back_as_jobs_end(snap):
    jobs = [tenant_job(0, 0, 8, 100) for _ in range(4)] + [tenant_job(1, 1, 8, 10), tenant_job(1, 1, 8, 10)]
    s = starts(fair(snap, jobs))
    assert s[:4] == [0, 0, 0, 0]  # "a" borrowed all of "b"'s 16 idle GPUs
    assert s[4:] == [100, 100]  # not preemptive: "b" waits for them to come back


def test_a_borrowing_limit_keeps_a_tenant_to_its_quota_plus_the_limit(snap):
    jobs = [tenant_job(0, 0, 8, 100) for _ in range(4)] + [tenant_job(1, 1, 8, 10), tenant_job(1, 1, 8, 10)]
    s = starts(fair(snap, jobs, {"a": Quota(16, borrowing_limit=8), "b": Quota(16)}))
    assert s[:4] == [0, 0, 0, 100]
    assert s[4:] == [1, 11]  # one of "b"'s 16 GPUs is lent; its second job waits for it


def test_a_lending_limit_keeps_part_of_a_tenants_quota_for_it(snap):
    jobs = [tenant_job(0, 0, 8, 100) for _ in range(4)] + [tenant_job(1, 1, 8, 10)]
    s = starts(fair(snap, jobs, {"a": Quota(16), "b": Quota(16, lending_limit=8)}))
    assert s == [0, 0, 0, 100, 1]


def test_fair_share_serves_the_tenant_holding_less_first(snap):
    jobs = [tenant_job(0, 0, 16, 1000), tenant_job(0, 0, 16, 100), tenant_job(1, 0, 16, 10), tenant_job(2, 1, 16, 10)]
    s = starts(fair(snap, jobs))
    assert s[3] == 100  # at 100 "b" (holding 0) goes before "a"'s earlier job ("a" holds 16)
    assert s[2] == 110


def many_tenants(snap: FleetSnapshot, jobs: list[JobSpec], quotas: dict[str, Quota] | None = None):
    cluster = Cluster(GpuPool(snap), tenants=(), restart_s=0)
    for spec in jobs:
        cluster.tenant(f"t{spec.tenant}")
    return simulate(cluster, jobs, FairShare(quotas), JobPlacement.COUNT)


def test_more_tenants_than_gpus_still_run_by_borrowing_the_even_split(snap):
    jobs = [tenant_job(0, t, 1, 100) for t in range(40)]
    result = many_tenants(snap, jobs)
    assert np.isnan(result.cluster.finish_s[:40]).sum() == 0
    assert starts(result).count(0) == 32


def test_tenants_interleave_within_one_cycle_by_their_share(snap):
    jobs = [tenant_job(0, 0, 1, 100) for _ in range(32)] + [tenant_job(0, 1, 1, 100) for _ in range(32)]
    result = fair(snap, jobs)
    s = starts(result)
    assert s[:32].count(0) == 16  # "a" submitted first, yet each tenant gets 16 GPUs at once
    assert s[32:].count(0) == 16


def test_a_tenants_gpus_it_does_not_lend_stay_free_for_it(snap):
    quotas = {"t0": Quota(8), "t1": Quota(8), "t2": Quota(16, lending_limit=0)}
    jobs = [tenant_job(0, 1, 12, 1000), tenant_job(1, 0, 8, 10), tenant_job(2, 2, 16, 10)]
    s = starts(many_tenants(snap, jobs, quotas))
    assert s[0] == 0  # t1 borrows 4 of t0's unused GPUs
    assert s[2] == 2  # t2's 16 were never lent: its job starts at once
    assert s[1] == 1000  # t0's 8 fit its quota but 4 of them are lent: it waits for them back


def test_a_job_beyond_its_quota_and_borrowing_limit_is_rejected_with_the_reason(snap):
    quotas = {"t0": Quota(8, borrowing_limit=4), "t1": Quota(24)}
    result = many_tenants(snap, [tenant_job(0, 0, 16, 10), tenant_job(1, 1, 8, 10)], quotas)
    assert result.cluster.rejected == {0: "asks for 16 GPUs; tenant 't0' may use at most 12"}
    assert starts(result)[1] == 1


def test_bad_quotas_are_refused_naming_the_tenant_and_field():
    with pytest.raises(ValueError, match="quota a: nominal -1 is negative; quota b: weight 0 is not positive"):
        FairShare({"a": Quota(-1), "b": Quota(1, weight=0)})


def test_a_higher_priority_job_preempts_and_equal_priorities_never_do(snap):
    cluster = Cluster(GpuPool(snap), restart_s=30)
    jobs = [tenant_job(0, 0, 32, 1000), tenant_job(10, 0, 8, 100), tenant_job(20, 0, 8, 50, priority=5)]
    result = simulate(cluster, jobs, Priority(), JobPlacement.COUNT)
    c = result.cluster
    # job 2 outranks job 0, which is preempted; job 1 takes the GPUs job 2 leaves, and
    # keeps them when job 2 ends: running first within a priority, so job 0 waits for it
    assert starts(result) == [0, 20, 20]
    assert c.preemptions.tolist()[:3] == [1, 0, 0]
    assert c.finish_s[0] == pytest.approx(120 + 980 + 30)  # resumed at 120 with 980 s left, plus 30
    # job 0 started at once (no wait) but was held back 130 s: the delay (JCT less run
    # time) counts the preemption and the restart, the wait to a first start does not
    summary = summarize(result)
    assert summary.queue_mean_s == pytest.approx(10 / 3)  # job 1 waited 10 s
    assert summary.delay_mean_s == pytest.approx((130 + 10 + 0) / 3)
    assert summary.delay_p99_s == pytest.approx(10 + 0.98 * 120)


def test_a_job_waiting_for_capacity_starts_when_the_outage_ends(snap):
    outages = [Outage(0, 500, n, "maintenance") for n in range(4)]
    result = simulate(
        Cluster(GpuPool(snap)), [job(10, 8, 100)], POLICIES["fifo"](), JobPlacement.COUNT, outages=outages
    )
    assert starts(result) == [500]
    assert result.trajectory.offered[0] == 0


def test_utilization_counts_the_fleet_and_the_allocation_ratio_what_was_offered(snap):
    # half the fleet leased away for the whole run; one 16-GPU job runs throughout
    outages = [Outage(0, math.inf, n, "lease") for n in (2, 3)]
    cluster = Cluster(GpuPool(snap))
    result = simulate(cluster, [job(0, 16, 100)], POLICIES["fifo"](), JobPlacement.COUNT, outages=outages)
    summary = summarize(result)
    assert summary.utilization_mean == pytest.approx(0.5)
    assert summary.allocation_ratio_mean == pytest.approx(1.0)


def test_a_run_ends_when_what_waits_can_never_run(snap):
    outages = [Outage(0, math.inf, n, "lease") for n in range(4)]
    failures = FailureModel(rate_per_gpu_hour=1.0, repair_s=60, seed=1)
    result = simulate(
        Cluster(GpuPool(snap)),
        [job(10, 8, 100)],
        POLICIES["fifo"](),
        JobPlacement.COUNT,
        outages=outages,
        failures=failures,
    )
    assert len(result.cluster.waiting) == 1
    assert result.cluster.size == 1


def test_random_failures_are_seeded_and_come_at_the_stated_rate(snap):
    # 2,000 one-GPU jobs of an hour each over ~10 days on 32 GPUs; 1 failure per 100 GPU-hours
    jobs = [job(k * 400.0, 1, 3600, name=f"j{k}") for k in range(2000)]
    model = FailureModel(rate_per_gpu_hour=0.01, repair_s=1800, seed=7)

    def go(m: FailureModel):
        return simulate(
            Cluster(GpuPool(snap), restart_s=60), jobs, POLICIES["fifo"](), JobPlacement.FIRST_FIT, failures=m
        )

    a, b = go(model), go(model)
    assert a.cluster.finish_s[:2000].tolist() == b.cluster.finish_s[:2000].tolist()
    assert a.interruptions == b.interruptions > 0
    c = go(FailureModel(rate_per_gpu_hour=0.01, repair_s=1800, seed=8))
    assert c.cluster.finish_s[:2000].tolist() != a.cluster.finish_s[:2000].tolist()
    # node failures over the run: 32 GPUs x hours x rate (up-time only), within 3 sigma
    hours = a.end_s / 3600
    expected = 32 * hours * 0.01
    downs = sum(1 for k in range(1, len(a.trajectory.offered)) if a.trajectory.offered[k] < a.trajectory.offered[k - 1])
    assert abs(downs - expected) <= 3 * math.sqrt(expected) + 2, (downs, expected)


def test_bad_failure_parameters_are_refused():
    with pytest.raises(ValueError, match="failure rate: 0 per GPU-hour is not positive"):
        FailureModel(rate_per_gpu_hour=0)
    with pytest.raises(ValueError, match="outage of node 3: ends at 5, not after its start 5"):
        Outage(5, 5, 3)


def test_a_trace_out_of_submission_order_is_an_error_naming_the_job(snap):
    with pytest.raises(OutOfOrder, match="job late comes after job j10-8 but is submitted 5 s before it"):
        run(snap, [job(10, 8, 1), job(5, 8, 1, name="late")], "fifo")


workloads = st.lists(
    st.tuples(st.integers(0, 500), st.sampled_from([1, 1, 2, 4, 8, 16, 24, 40]), st.integers(1, 400)),
    min_size=1,
    max_size=40,
)


@settings(max_examples=40, deadline=None)
@given(workloads, st.sampled_from(sorted(POLICIES)), st.sampled_from(list(JobPlacement)), st.integers(0, 30))
def test_every_job_finishes_once_with_its_work_delivered_and_no_gpu_used_twice(snap, raw, policy, placement, restart):
    jobs = [job(t, g, d, name=f"j{k}") for k, (t, g, d) in enumerate(sorted(raw))]
    result = run(snap, jobs, policy, placement.value, restart_s=float(restart))
    cluster = result.cluster
    assert cluster.pool.problems() == []
    assert cluster.pool.total_used == 0
    assert max(result.trajectory.used) <= snap.total_gpus
    n = cluster.size
    rejected = set(cluster.rejected)
    assert rejected == {k for k, spec in enumerate(jobs) if spec.gpus > snap.total_gpus}
    for k, spec in enumerate(jobs):
        if k in rejected:
            assert math.isnan(cluster.finish_s[k])
            continue
        owed = spec.duration_s + restart * int(cluster.preemptions[k])
        assert cluster.attained_gpu_s[k] == pytest.approx(owed * spec.gpus)
        assert cluster.finish_s[k] - spec.submit_s >= spec.duration_s - 1e-9
    assert n == len(jobs)
    summary = summarize(result)
    assert summary.finished + summary.rejected == len(jobs)
    assert 0 <= summary.utilization_mean <= 1


def _schedule_then_apply(cluster, now_s, policy, placement):
    """The two-step path: decide with the pool reverted, then apply every decision."""
    decisions = schedule(cluster, now_s, policy, placement)
    cluster.apply_cycle(decisions, now_s)
    return decisions


@settings(max_examples=60, deadline=None)
@given(workloads, st.sampled_from(sorted(POLICIES)), st.sampled_from(list(JobPlacement)), st.integers(0, 3))
@example([(0, 32, 1000), (10, 8, 100), (20, 16, 50), (30, 24, 400)], "las", JobPlacement.BEST_FIT, 0)
def test_a_cycle_that_keeps_its_tentative_pool_state_runs_as_schedule_then_apply(snap, raw, policy, placement, outages):
    jobs = [job(t, g, d, name=f"j{k}") for k, (t, g, d) in enumerate(sorted(raw))]
    down = [Outage(50.0 * k, 50.0 * k + 120, k % len(snap.node_ids)) for k in range(outages)]
    decided: dict[str, list] = {}

    def go(cycle) -> Cluster:
        seen: list = []

        def recording(cluster, now_s, pol, plc):
            out = cycle(cluster, now_s, pol, plc)
            seen.append((now_s, out))
            assert cluster.pool.problems() == []
            held = np.zeros(len(snap.node_ids), np.int64)
            for alloc in cluster.running.values():
                np.add.at(held, list(alloc.nodes), list(alloc.gpus))
            assert held.tolist() == cluster.pool.used.tolist()
            return out

        cluster = Cluster(GpuPool(snap))
        with mock.patch("neocloud.sim.driver.run_cycle", recording):
            simulate(cluster, jobs, POLICIES[policy](), placement, outages=down)
        decided[cycle.__name__] = seen
        return cluster

    kept, two_step = go(run_cycle), go(_schedule_then_apply)
    assert decided["run_cycle"] == decided["_schedule_then_apply"]
    for name in ("first_start_s", "finish_s", "preemptions", "attained_gpu_s"):
        np.testing.assert_array_equal(getattr(kept, name)[: kept.size], getattr(two_step, name)[: two_step.size])


def test_the_report_series_integrate_to_the_runs_utilization(snap):
    jobs = [job(k * 37.0, [1, 2, 8, 16][k % 4], 100 + 13 * k, name=f"j{k}") for k in range(300)]
    result = run(snap, jobs, "backfill", "bestfit")
    s = series(result, bins=50)
    assert len(s.t_s) == 50
    width = (result.trajectory.t_s[-1] - result.trajectory.t_s[0]) / 50
    used, offered = float((s.used * width).sum()), float((s.offered * width).sum())
    assert used / offered == pytest.approx(summarize(result).allocation_ratio_mean, rel=1e-9)
    assert s.waiting.max() == max(result.trajectory.waiting)


def test_per_tenant_figures_add_up_to_the_run(snap):
    jobs = [tenant_job(k * 10.0, k % 2, 8, 300) for k in range(20)]
    result = fair(snap, jobs)
    figures = per_tenant(result)
    assert [f.tenant for f in figures] == ["a", "b"]
    assert sum(f.jobs for f in figures) == 20
    assert sum(f.gpu_hours for f in figures) == pytest.approx(20 * 8 * 300 / 3600)
    _, jct = jct_quantiles(result)
    assert jct[0] >= 300
    assert list(jct) == sorted(jct)


def trace_job(k: int, arrival: float, gpus: int = 1, duration: float | None = 60.0, **kw) -> TraceJob:
    return TraceJob(f"t{k}", arrival, gpus, duration, **kw)


def test_a_window_replays_those_jobs_rebased_to_start_at_zero(snap):
    trace = [trace_job(k, 1000.0 + 10 * k, deadline_s=2000.0 + 10 * k) for k in range(10)]
    cluster = Cluster(GpuPool(snap))
    specs = list(job_specs(trace, cluster.tenant, window=Window(3, 5)))
    assert [s.id for s in specs] == ["t3", "t4", "t5"]
    assert [s.submit_s for s in specs] == [0, 10, 20]
    assert specs[0].deadline_s == 1000


def test_jobs_the_scheduler_cannot_run_are_skipped_and_counted(snap):
    trace = [trace_job(0, 0, gpus=0), trace_job(1, 1, duration=None), trace_job(2, 2, gpu_milli=500), trace_job(3, 3)]
    skipped = Skipped()
    cluster = Cluster(GpuPool(snap))
    specs = list(job_specs(trace, cluster.tenant, skipped=skipped))
    assert [s.id for s in specs] == ["t2", "t3"]
    assert (skipped.no_gpus, skipped.no_duration, skipped.shared_gpu_rounded_up) == (1, 1, 1)


def test_tenants_are_registered_as_they_appear_and_estimates_are_seeded(snap):
    trace = [trace_job(k, k, tenant=["vc1", "vc2", None][k % 3]) for k in range(9)]
    cluster = Cluster(GpuPool(snap), tenants=())
    a = list(job_specs(trace, cluster.tenant, estimate_error=0.5, seed=3))
    assert cluster.tenants == ["vc1", "vc2", ""]
    assert [s.tenant for s in a[:3]] == [0, 1, 2]
    b = list(job_specs(trace, Cluster(GpuPool(snap), tenants=()).tenant, estimate_error=0.5, seed=3))
    assert [s.estimate_s for s in a] == [s.estimate_s for s in b]
    assert all(30 <= s.estimate_s <= 90 for s in a)
    assert len({s.estimate_s for s in a}) > 1
    with pytest.raises(ValueError, match=r"estimate error: 1\.0 is not from 0 to below 1"):
        list(job_specs(trace, cluster.tenant, estimate_error=1.0))


def test_a_run_with_failures_that_never_leave_the_fleet_whole_ends_after_an_idle_year(snap):
    # a job needs all 32 GPUs; nodes fail often and take a day to repair: never all up
    failures = FailureModel(rate_per_gpu_hour=0.05, repair_s=86_400, seed=2)
    cluster = Cluster(GpuPool(snap), restart_s=0)
    result = simulate(cluster, [job(10_000, 32, 3600)], POLICIES["fifo"](), JobPlacement.COUNT, failures=failures)
    assert math.isnan(result.cluster.finish_s[0])  # it never ran
    assert len(result.cluster.waiting) == 1
    assert 365 * 86_400 <= result.end_s <= 10_000 + 366 * 86_400


def test_the_waiting_series_counts_a_queue_that_no_step_in_its_bin_changed(snap):
    jobs = [job(0, 32, 10_000)] + [job(1, 8, 10, name=f"w{k}") for k in range(5)]
    s = series(run(snap, jobs, "fifo"), bins=7)
    assert s.waiting[:6].min() == 5  # the five wait for the whole 10,000 s


def test_a_rejected_job_with_a_deadline_counts_as_a_miss(snap):
    jobs = [JobSpec("big", 0, 64, 10, 10, deadline_s=100), JobSpec("ok", 0, 8, 10, 10, deadline_s=100)]
    summary = summarize(run(snap, jobs, "fifo"))
    assert (summary.deadlines, summary.deadline_misses) == (2, 1)


@pytest.mark.parametrize(
    "bad",
    [{"gpus": 0}, {"duration_s": math.nan}, {"estimate_s": -1.0}, {"submit_s": math.inf}],
)
def test_a_job_spec_the_scheduler_cannot_run_is_refused(bad):
    fields = {"id": "j", "submit_s": 0.0, "gpus": 1, "duration_s": 10.0, "estimate_s": 10.0} | bad
    with pytest.raises(ValueError, match="job j: needs GPUs > 0"):
        JobSpec(**fields)
