"""Trace readers on the real workloads in ../shared/traces (skipped when absent).

Expected counts are the traces README's (sections 1, 2, 6, 9-12); first-row values are
the files' own first data rows.
"""

from __future__ import annotations

import json
from collections import Counter
from itertools import pairwise
from pathlib import Path

import pytest

from neocloud.adapters.importers.alibaba import read_openb_nodes
from neocloud.adapters.traces import FORMATS, read_jobs
from neocloud.domain.workload import AdaptiveDetail, DeadlineDetail, ModelDetail, PodDetail, ShapeDetail, TraceJob

pytestmark = pytest.mark.traces

PHILLY = "microsoft-philly-2017/derived_rfold_philly_trace.csv.gz"
PHILLY_VC = "microsoft-philly-2017/derived_pollux_philly_jobs_with_vc.csv.gz"
CRUX = "alibaba-lingjun-crux-2023/derived_rfold_crux_jobs.csv"
OPENB = "alibaba-gpu-v2023-openb/csv/openb_pod_list_default.csv"
TIRESIAS = "tiresias-nsdi19/60_job.csv"
CHRONUS = "chronus-socc21-philly-slo/trace_job_Philly_{}.csv.gz"
POLLUX = "pollux-osdi21-workloads"
SIA = "sia-sosp23-workloads"


def jobs(traces: Path, fmt: str, name: str) -> list[TraceJob]:
    return list(read_jobs(fmt, traces / name))


def sizes(js: list[TraceJob]) -> Counter[int]:
    return Counter(j.gpus for j in js)


def arrives_in_order(js: list[TraceJob]) -> bool:
    return all(a.arrival_s <= b.arrival_s for a, b in pairwise(js))


def shipped(traces: Path) -> list[tuple[str, Path]]:
    """Every shipped file of every format."""
    out = [("philly", traces / PHILLY), ("philly-vc", traces / PHILLY_VC), ("crux", traces / CRUX)]
    out += [("openb", traces / OPENB), ("tiresias", traces / TIRESIAS)]
    out += [("chronus", traces / CHRONUS.format(m)) for m in ("MIX1", "MIX2", "SLO")]
    out += [("pollux", p) for p in sorted((traces / POLLUX).glob("workloads*/workload-*.csv"))]
    out += [("sia", p) for p in sorted((traces / SIA).rglob("workload-*.csv"))]
    return out


def test_philly_has_111549_jobs_with_the_readmes_size_histogram(traces):
    js = jobs(traces, "philly", PHILLY)
    assert len(js) == 111_549
    hist = sizes(js)
    assert (hist[1], hist[8], hist[4], hist[2], hist[16], max(hist)) == (96_662, 5_716, 5_487, 2_522, 852, 128)
    assert js[0] == TraceJob("0", 0.0, 1, 3_613_033.0, detail=ShapeDetail("CLOS", (1,)))
    span_days = (js[-1].arrival_s - js[0].arrival_s) / 86_400
    assert round(span_days, 1) == 129.4
    assert round(sum(j.duration_s or 0 for j in js) / len(js)) == 35_595


def test_philly_vc_has_82247_jobs_of_15_vcs_starting_at_zero(traces):
    js = jobs(traces, "philly-vc", PHILLY_VC)
    assert len(js) == 82_247
    assert len({j.tenant for j in js}) == 15
    assert min(j.arrival_s for j in js) == 0.0
    assert (js[0].duration_s, js[0].gpus, js[0].tenant) == (66.0, 1, "11cb48")
    assert round(sum(j.duration_s or 0 for j in js) / len(js)) == 13_136


def test_crux_has_2498_jobs_from_1_to_744_gpus(traces):
    js = jobs(traces, "crux", CRUX)
    assert len(js) == 2_498
    hist = sizes(js)
    assert (hist[8], hist[32], hist[256], min(hist), max(hist)) == (825, 404, 139, 1, 744)
    assert js[0] == TraceJob("0", 0.0, 48, 720.0, detail=ShapeDetail("CLOS", (48,)))


def test_openb_default_has_8152_pods_6989_of_them_on_one_gpu(traces):
    js = jobs(traces, "openb", OPENB)
    assert len(js) == 8_152
    hist = sizes(js)
    assert (hist[1], hist[0], hist[8]) == (6_989, 1_088, 44)
    assert sum(j.duration_s is None for j in js) == 897  # the pods never scheduled
    first = js[1]
    assert (first.id, first.arrival_s, first.gpus, first.gpu_milli) == ("openb-pod-0001", 427_061.0, 1, 460)
    assert first.detail == PodDetail(6000, 12288, (), "LS", "Running", 427_061.0, 12_902_960.0)


def test_openb_nodes_keep_cpu_and_memory_for_packing(traces):
    nodes = read_openb_nodes(traces / "alibaba-gpu-v2023-openb/csv/openb_node_list_all_node.csv")
    assert len(nodes) == 1_523
    assert sum(n.gpus for n in nodes) == 6_212
    assert sum(n.gpu_model is None for n in nodes) == 310
    assert (nodes[0].cpu_milli, nodes[0].memory_mib, nodes[0].gpus) == (32_000, 262_144, 0)


def test_tiresias_toy_trace_has_60_jobs(traces):
    js = jobs(traces, "tiresias", TIRESIAS)
    assert len(js) == 60
    assert js[0] == TraceJob("0", 0.0, 1, 164.0, detail=ModelDetail("vgg19", 606, 30.0))


def test_chronus_mix1_has_30940_jobs_21724_of_them_strict(traces):
    js = jobs(traces, "chronus", CHRONUS.format("MIX1"))
    assert len(js) == 30_940
    assert sum(j.deadline_s is not None for j in js) == 21_724
    assert js[0].tenant == "vc_6214e9"
    assert (js[0].arrival_s, js[0].duration_s, js[0].deadline_s) == (8555 * 60.0, 747 * 60.0, (8555 + 1105) * 60.0)
    assert isinstance(js[0].detail, DeadlineDetail)
    assert round(max(j.arrival_s for j in js) / 86_400) == 14  # submit times in minutes: about 14 days


def test_chronus_mix2_mixes_strict_soft_and_best_effort_jobs(traces):
    js = jobs(traces, "chronus", CHRONUS.format("MIX2"))
    kinds = Counter(j.detail.job_type for j in js if isinstance(j.detail, DeadlineDetail))
    assert kinds == {"soft": 18_525, "strict": 9_276, "best": 3_139}
    assert sum(j.deadline_s is None for j in js) == 3_139


def test_pollux_workloads_have_160_jobs_with_replicas_as_gpus(traces):
    for n in (1, 2, 3, 4):
        js = jobs(traces, "pollux", f"{POLLUX}/workloads/workload-{n}.csv")
        assert len(js) == 160
        assert all(isinstance(j.detail, AdaptiveDetail) and j.gpus == j.detail.num_replicas for j in js)
    first = jobs(traces, "pollux", f"{POLLUX}/workloads/workload-1.csv")[0]
    assert (first.id, first.arrival_s, first.gpus) == ("cifar10-0", 107.0, 6)
    assert first.detail == AdaptiveDetail("cifar10", 6, 2048)


def test_pollux_durations_leave_its_30_s_restart_delay_under_the_published_tiresias_jcts(traces):
    """The published Tiresias JCT of a job is its run time, Pollux's 30-s re-scale delay
    and any queueing: for jobs that never waited, JCT - duration is 30 s plus the 60-s
    tick's rounding. So the least slack per workload must be close to 30 s (durations
    neither too long nor too short), and at most 1 of 640 jobs (one placed on an
    unpacked layout) may have less than 25 s."""
    summary = json.loads((traces / POLLUX / "published_results_jobload/tiresias-1.0/summary.json").read_text())
    below = 0
    for n in (1, 2, 3, 4):
        published = summary["jcts"][f"workload-{n}"]
        ours = {j.id: j.duration_s for j in jobs(traces, "pollux", f"{POLLUX}/workloads/workload-{n}.csv")}
        slack = sorted(published[name] - (ours[name] or 0.0) for name in published)
        assert 25 <= next(s for s in slack if s >= 25) <= 35, f"workload-{n}"
        below += sum(s < 25 for s in slack)
    assert below <= 1


def test_sia_workloads_read_with_the_pollux_profiles(traces):
    for path in sorted((traces / SIA / "philly").glob("workload-*.csv")):
        js = list(read_jobs("sia", path))
        assert len(js) == 160
        assert all(j.duration_s is not None and j.duration_s > 0 for j in js)
    first = next(read_jobs("sia", traces / SIA / "scale-saturn/rate_10/workload-1.csv"))
    assert (first.id, first.arrival_s, first.gpus) == ("cifar10-0", 401.0, 10)
    assert first.detail == AdaptiveDetail("cifar10", 10, 4096)
    rate = sorted((traces / SIA / "scale-saturn/rate_10").glob("workload-*.csv"))
    assert [len(list(read_jobs("sia", p))) for p in rate] == [80] * 10


def test_each_format_says_truly_whether_its_shipped_files_are_in_arrival_order(traces):
    for fmt, path in shipped(traces):
        assert arrives_in_order(list(read_jobs(fmt, path))) == FORMATS[fmt].in_arrival_order, path
