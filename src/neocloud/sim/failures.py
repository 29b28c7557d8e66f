"""Random node failures at a per-GPU interrupt rate, seeded.

Each node fails after an exponential time with rate ``gpus x rate_per_gpu_hour`` (a
Poisson process per GPU: a node of 8 GPUs fails 8 times as often as one GPU), is down
for ``repair_s``, then the clock of its next failure starts again. The jobs on a node
that fails are preempted and pay the restart cost.

Defaults:

- 1 unexpected interruption per 50,700 GPU-hours: Meta's Llama 3 405B run (419 in 54
  days on 16,384 H100s [R90]), economics.md 5.1 and section 6
  ``unexpected_interrupts_per_gpu_hour`` (2024-07).
- 24 h down per failure: our own placeholder [D]. economics.md gives no repair time
  (5.1 notes only 3 of 419 interruptions needed significant manual work, and 41.5% of
  Crusoe's faults were host replacements [R94]); set it per run.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import numpy.typing as npt

INTERRUPTS_PER_GPU_HOUR = 1 / 50_700
REPAIR_S = 24 * 3600.0


@dataclass(frozen=True, slots=True)
class FailureModel:
    rate_per_gpu_hour: float = INTERRUPTS_PER_GPU_HOUR
    repair_s: float = REPAIR_S
    seed: int = 0

    def __post_init__(self) -> None:
        if not self.rate_per_gpu_hour > 0:
            raise ValueError(f"failure rate: {self.rate_per_gpu_hour} per GPU-hour is not positive")
        if not self.repair_s > 0:
            raise ValueError(f"repair time: {self.repair_s} s is not positive")

    def rng(self) -> np.random.Generator:
        return np.random.default_rng(self.seed)

    def first_failures(self, rng: np.random.Generator, node_gpus: npt.NDArray[np.int32]) -> npt.NDArray[np.float64]:
        """Seconds from the start to each node's first failure."""
        rate_per_s = np.maximum(node_gpus, 1) * self.rate_per_gpu_hour / 3600.0
        return rng.exponential(1.0 / rate_per_s)

    def next_failure_s(self, rng: np.random.Generator, gpus: int) -> float:
        """Seconds from a repair to the node's next failure."""
        return float(rng.exponential(3600.0 / (max(gpus, 1) * self.rate_per_gpu_hour)))
