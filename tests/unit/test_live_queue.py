"""The live queue: the simulator's scheduler on a journal; same decisions as a simulator run of the same trace."""

from __future__ import annotations

import math
from unittest import mock

import numpy as np
import pytest

from neocloud.domain.queue import Entry, Kind
from neocloud.domain.spec import build_fleet
from neocloud.placement.jobs import JobPlacement
from neocloud.placement.pool import GpuPool
from neocloud.placement.snapshot import FleetSnapshot, build_snapshot
from neocloud.scheduling.cluster import Cluster
from neocloud.scheduling.cycle import run_cycle
from neocloud.scheduling.jobs import Decision, JobSpec, Start
from neocloud.scheduling.live import LiveQueue, QueueError
from neocloud.scheduling.policies import POLICIES
from neocloud.scheduling.policies.las import Las
from neocloud.sim.driver import simulate
from tests.builders import a_block, a_fleet, a_group, a_site
from tests.queue_trace import TRACE


@pytest.fixture(scope="module")
def snap() -> FleetSnapshot:
    """Four 8-GPU nodes: 32 GPUs."""
    return build_snapshot(build_fleet(a_fleet(a_site(blocks=(a_block(node_groups=(a_group(count=4),)),)))))


def policy(name: str):
    return Las((1600.0,)) if name == "las" else POLICIES[name]()


def simulated(snap: FleetSnapshot, name: str, placement: JobPlacement) -> list[tuple[float, Decision]]:
    seen: list[tuple[float, Decision]] = []

    def recording(cluster, now_s, pol, plc):
        out = run_cycle(cluster, now_s, pol, plc)
        seen.extend((now_s, d) for d in out)
        return out

    cluster = Cluster(GpuPool(snap), tenants=(), restart_s=60)
    specs = [JobSpec(f"w{k}", t, g, d, d, cluster.tenant(team), prio) for k, (t, team, g, d, prio) in enumerate(TRACE)]
    with mock.patch("neocloud.sim.driver.run_cycle", recording):
        simulate(cluster, specs, policy(name), placement)
    return seen


def drive(queue: LiveQueue) -> list[tuple[float, Decision]]:
    """The trace through a live queue as its users would: at each instant, the running
    workloads whose run time is up report done, the new ones submit, then one cycle."""
    decided: list[tuple[float, Decision]] = []
    arrivals = list(enumerate(TRACE))
    cluster = queue.cluster
    now = 0.0
    for _ in range(10_000):  # bounded: the trace has a few dozen instants
        ends = [cluster.ends_s(j) for j in cluster.running]
        due = queue.due_s(now)
        times = [t for t in (*ends, arrivals[0][1][0] if arrivals else math.inf, due or math.inf) if t < math.inf]
        if not times:
            return decided
        now = min(times)
        for job in sorted(j for j in cluster.running if cluster.ends_s(j) == now):
            queue.apply([queue.finish(now, job)])
        while arrivals and arrivals[0][1][0] == now:
            k, (_, team, gpus, run_s, prio) = arrivals.pop(0)
            queue.apply([queue.submit(now, name=f"w{k}", team=team, gpus=gpus, estimate_s=run_s, priority=prio)])
        decisions, entries = queue.cycle(now)
        queue.apply(entries)
        decided.extend((now, d) for d in decisions)
    raise AssertionError("the trace did not end within 10,000 instants")


@pytest.mark.parametrize("name", sorted(POLICIES))
@pytest.mark.parametrize("placement", [JobPlacement.COUNT, JobPlacement.BEST_FIT])
def test_a_trace_through_the_live_queue_gets_the_simulators_decisions_in_its_order(snap, name, placement):
    queue = LiveQueue(snap, policy(name), placement, restart_s=60)
    live = drive(queue)
    assert live == simulated(snap, name, placement)
    assert any(isinstance(d, Start) and d.resume for _, d in live) == (name in ("las", "priority"))


def test_a_queue_replayed_from_its_journal_holds_the_same_state_bit_for_bit(snap):
    queue = LiveQueue(snap, policy("las"), JobPlacement.COUNT, restart_s=60)
    journal: list[Entry] = []
    original = queue.apply

    def keeping(entries):
        entries = list(entries)
        journal.extend(entries)
        original(entries)

    queue.apply = keeping  # type: ignore[method-assign]
    drive(queue)
    again = LiveQueue(snap, policy("las"), JobPlacement.COUNT, restart_s=60)
    again.apply(journal)
    for name in ("remaining_s", "attained_gpu_s", "first_start_s", "finish_s", "preemptions", "runs"):
        np.testing.assert_array_equal(getattr(again.cluster, name), getattr(queue.cluster, name))
    assert again.cluster.rejected == queue.cluster.rejected
    assert (again.seq, again.at_s) == (queue.seq, queue.at_s)


def test_capacity_that_leaves_preempts_the_jobs_on_the_node_first(snap):
    queue = LiveQueue(snap, POLICIES["fifo"](), JobPlacement.FIRST_FIT, restart_s=60)
    queue.apply([queue.submit(0, name="a", team="t", gpus=8, estimate_s=100)])
    queue.apply(queue.cycle(0)[1])
    node = snap.node_ids[0]
    entries = queue.set_capacity(5, node, 0, "lease L1 took the node")
    assert [(e.kind, e.job) for e in entries] == [(Kind.PREEMPT, 0), (Kind.CAPACITY, -1)]
    queue.apply(entries)
    assert queue.state(0) == "queued"
    decisions, _ = queue.cycle(5)
    assert len(decisions) == 1
    assert isinstance(decisions[0], Start)
    assert decisions[0].resume
    assert snap.node_ids[decisions[0].alloc.nodes[0]] != node


def test_a_question_changes_nothing_until_its_entries_are_applied(snap):
    queue = LiveQueue(snap, POLICIES["fifo"](), JobPlacement.COUNT, restart_s=60)
    queue.submit(0, name="a", team="t", gpus=8, estimate_s=100)
    assert queue.cluster.size == 0
    queue.apply([queue.submit(0, name="a", team="t", gpus=8, estimate_s=100)])
    queue.cycle(1)
    assert queue.state(0) == "queued"
    assert queue.seq == 1


@pytest.mark.parametrize(
    ("kwargs", "message"),
    [
        ({"name": " ", "gpus": 1, "estimate_s": 1}, "name: must not be empty"),
        ({"name": "a\x00b", "gpus": 1, "estimate_s": 1}, "name: 'a\\x00b' holds a control character"),
        ({"name": "a", "team": "", "gpus": 1, "estimate_s": 1}, "team: must not be empty"),
        ({"name": "a", "gpus": 0, "estimate_s": 1}, "gpus: 0 is not a whole number from 1 to 10,000,000"),
        ({"name": "a", "gpus": True, "estimate_s": 1}, "gpus: True is not a whole number"),
        ({"name": "a", "gpus": 2**63, "estimate_s": 1}, "gpus: 9223372036854775808 is not a whole number"),
        ({"name": "a", "gpus": 1, "estimate_s": math.nan}, "estimate_s: nan is not a number of seconds above 0"),
        ({"name": "a", "gpus": 1, "estimate_s": 0}, "estimate_s: 0 is not a number of seconds above 0"),
        ({"name": "a", "gpus": 1, "estimate_s": 1e12}, "at most 10 years"),
        ({"name": "a", "gpus": 1, "estimate_s": 1, "priority": -(2**63)}, "priority: -9223372036854775808 is not"),
    ],
)
def test_a_bad_workload_is_refused_naming_the_field(snap, kwargs, message):
    queue = LiveQueue(snap, POLICIES["fifo"](), JobPlacement.COUNT, restart_s=60)
    with pytest.raises(QueueError) as refused:
        queue.submit(0, **{"team": "t", **kwargs})
    assert message in str(refused.value)


def test_the_queue_refuses_time_going_back_an_entry_out_of_turn_and_finishing_what_does_not_run(snap):
    queue = LiveQueue(snap, POLICIES["fifo"](), JobPlacement.COUNT, restart_s=60)
    entry = queue.submit(10, name="a", team="t", gpus=8, estimate_s=100)
    queue.apply([entry])
    with pytest.raises(QueueError, match="time: 5 s is before the queue's last entry at 10"):
        queue.cycle(5)
    with pytest.raises(QueueError, match="journal: entry 1 is not the next one"):
        queue.apply([entry])
    with pytest.raises(QueueError, match="workload a: is queued, not running"):
        queue.finish(10, 0)
    with pytest.raises(QueueError, match="gpus: 9 is not 0 to the 8 GPUs"):
        queue.set_capacity(10, snap.node_ids[0], 9, "x")


def test_a_cancelled_workload_never_runs_and_a_running_one_frees_its_gpus_for_the_next_cycle(snap):
    queue = LiveQueue(snap, POLICIES["fifo"](), JobPlacement.COUNT, restart_s=60)
    for k, gpus in enumerate((32, 16, 8)):
        queue.apply([queue.submit(0, name=f"w{k}", team="t", gpus=gpus, estimate_s=1000)])
    queue.apply([queue.cancel(0, 2, "not needed")])  # queued and never seen by a cycle
    queue.apply(queue.cycle(0)[1])
    assert [queue.state(k) for k in range(3)] == ["running", "queued", "cancelled"]
    queue.apply([queue.cancel(100, 0, "bad config")])  # running: stopped, its 32 GPUs back
    assert int(queue.cluster.pool.free.sum()) == 32
    decisions, entries = queue.cycle(100)
    queue.apply(entries)
    assert [(type(d), d.job) for d in decisions] == [(Start, 1)]
    assert queue.state(0) == "cancelled"
    assert queue.cluster.cancelled == {2: "not needed", 0: "bad config"}
    for job, state in ((0, "cancelled"), (2, "cancelled")):
        with pytest.raises(QueueError, match=f"is {state}; only a queued or running workload is cancelled"):
            queue.cancel(100, job, "again")
    with pytest.raises(QueueError, match="reason: 'a\\\\x00' holds a control character"):
        queue.cancel(100, 1, "a\x00")
