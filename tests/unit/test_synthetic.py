"""The synthetic workload: resampled (GPUs, duration) pairs at a rate that offers a target load."""

from __future__ import annotations

import numpy as np
import pytest

from neocloud.sim.synthetic import arrival_rate_per_s, resampled_jobs

GPUS = [1, 1, 1, 2, 4, 8]
DURATIONS = [60.0, 600.0, 3_600.0, 1_800.0, 7_200.0, 36_000.0]


def test_the_arrival_rate_offers_the_target_share_of_the_fleet():
    # mean GPU-seconds per job: (60 + 600 + 3600 + 3600 + 28800 + 288000) / 6 = 54,110
    assert arrival_rate_per_s(GPUS, DURATIONS, 1_000, 0.5) == pytest.approx(0.5 * 1_000 / 54_110)


def test_the_jobs_offer_the_target_load_over_their_arrival_span():
    jobs = list(resampled_jobs(GPUS, DURATIONS, jobs=50_000, fleet_gpus=1_000, target_utilization=0.5, seed=3))
    asked = sum(j.gpus * j.duration_s for j in jobs)
    span = jobs[-1].submit_s - jobs[0].submit_s
    assert asked / (1_000 * span) == pytest.approx(0.5, rel=0.03)  # 50,000 draws: a few % of noise


def test_each_job_keeps_a_real_pair_of_size_and_duration_and_they_arrive_in_order_from_zero():
    jobs = list(resampled_jobs(GPUS, DURATIONS, jobs=2_000, fleet_gpus=64, target_utilization=0.9, seed=1))
    pairs = set(zip(GPUS, DURATIONS, strict=True))
    assert {(j.gpus, j.duration_s) for j in jobs} <= pairs
    submits = np.array([j.submit_s for j in jobs])
    assert submits[0] == 0.0
    assert (np.diff(submits) >= 0).all()
    assert [j.id for j in jobs[:2]] == ["syn-0", "syn-1"]


def test_the_same_seed_gives_the_same_jobs_across_chunks_and_another_seed_others():
    def draw(seed: int) -> list[tuple[float, int, float]]:
        jobs = resampled_jobs(GPUS, DURATIONS, jobs=70_000, fleet_gpus=512, target_utilization=0.6, seed=seed)
        return [(j.submit_s, j.gpus, j.duration_s) for j in jobs]

    first = draw(7)
    assert len(first) == 70_000  # more than one chunk
    assert first == draw(7)
    assert first != draw(8)


@pytest.mark.parametrize(
    ("gpus", "durations", "fleet", "target", "message"),
    [
        ([1, 2], [60.0], 8, 0.5, "gpus and duration_s: one value each"),
        ([0, 2], [60.0, 60.0], 8, 0.5, "gpus: every sampled job needs at least one GPU"),
        ([1], [float("nan")], 8, 0.5, "duration_s: every sampled duration is a finite"),
        ([1], [60.0], 0, 0.5, "fleet_gpus: 0 is not a positive count"),
        ([1], [60.0], 8, 1.5, "target utilization: 1.5 is not above 0 and at most 1"),
        ([1], [0.0], 8, 0.5, "every duration is 0"),
    ],
)
def test_bad_samples_and_targets_are_refused_naming_the_problem(gpus, durations, fleet, target, message):
    with pytest.raises(ValueError, match=message):
        next(resampled_jobs(gpus, durations, jobs=1, fleet_gpus=fleet, target_utilization=target))
