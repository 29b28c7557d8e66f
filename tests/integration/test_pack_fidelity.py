"""Fidelity of ``sim pack`` against the FGD paper's published raw results (skipped without ../shared).

Check (issue 12 section 7): on openb ``default`` (8,152 pods on the 1,213 GPU nodes,
6,212 GPUs), inflated to 130%, each of the six policies' GPU allocation at 130%,
the mean over our seeds 42-46, within **1.5 points** of the published mean over its
seeds 42-51; and our best policy at or above FGD's published mean (95.39%).

Source: ``alibaba-gpu-v2023-openb/fgd_expected_results/analysis_allo_discrete.csv``, the
artifact's ``experiments/analysis/expected_results`` (hkust-adsl/kubernetes-scheduler-
simulator @8f3d6417; ../shared/reference/published-results.md section 1), read here,
not copied. Our seeds drive NumPy's generator, not Go's ``math/rand``: a seed here is
not the artifact's run with that seed, so the check is on means. The published
per-seed spread (standard deviation over its 10 seeds) is 0.08 (FGD) to 0.63
(GpuClustering) points, ours 0.11 to 0.52. CI runs 5 of our seeds to halve the cost
(half of the 48 CPU seconds all 10 take): the standard error of a 5-seed mean is at most
0.28 points, of the published 10-seed mean 0.20, so 1.5 points is over 4 standard
errors of their difference for every policy, and well below the gaps the paper draws
conclusions from (FGD 2.3 points above BestFit). ``benchmarks/sim_pack.py`` reports
all 10 seeds (docs/benchmarks.md).
"""

from __future__ import annotations

import csv
import statistics
from pathlib import Path

import pytest

from neocloud import bootstrap
from neocloud.sim.pack import DEFAULT_SEEDS, experiment

pytestmark = pytest.mark.traces

OPENB = "alibaba-gpu-v2023-openb"
PUBLISHED = f"{OPENB}/fgd_expected_results/analysis_allo_discrete.csv"
ARTIFACT_NAMES = {
    "random": "01-Random",
    "dotprod": "02-DotProd",
    "gpuclustering": "03-GpuClustering",
    "gpupacking": "04-GpuPacking",
    "bestfit": "05-BestFit",
    "fgd": "06-FGD",
}
TOLERANCE_POINTS = 1.5  # issue 12 section 7
CI_SEEDS = tuple(range(42, 47))  # 5 of the 10: see the module doc


def published_at_130(traces: Path) -> dict[str, float]:
    """The published mean allocation at 130% per policy on ``default``, seeds 42-51."""
    by_policy: dict[str, list[float]] = {}
    with (traces / PUBLISHED).open(newline="") as f:
        for row in csv.DictReader(f):
            if row["workload"] == "openb_pod_list_default" and int(row["seed"]) in DEFAULT_SEEDS:
                by_policy.setdefault(row["sc_policy"], []).append(float(row["130"]))
    assert all(len(v) == len(DEFAULT_SEEDS) for v in by_policy.values()), by_policy
    return {ours: statistics.mean(by_policy[theirs]) for ours, theirs in ARTIFACT_NAMES.items()}


def ours_at_130(traces: Path, policy: str) -> float:
    nodes = bootstrap.pack_nodes(traces / OPENB / "csv" / "openb_node_list_gpu_node.csv")
    pods = list(bootstrap.trace_jobs("openb", traces / OPENB / "csv" / "openb_pod_list_default.csv"))
    result = experiment(nodes, pods, policy, seeds=CI_SEEDS, inflate=1.3)
    value = result.allocation_pct()["130"]
    assert value is not None
    return value


@pytest.mark.parametrize("policy", list(ARTIFACT_NAMES))
def test_each_policy_allocates_within_1_5_points_of_the_published_ratio_at_130_percent(traces, policy):
    published = published_at_130(traces)[policy]
    ours = ours_at_130(traces, policy)
    assert abs(ours - published) <= TOLERANCE_POINTS, (policy, ours, published)
    if policy == "fgd":
        # our best policy is at least our FGD: FGD at or above its published mean settles it
        assert ours >= published, (ours, published)
