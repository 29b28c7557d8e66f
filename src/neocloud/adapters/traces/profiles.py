"""Pollux's application profiles, and the run time of a job at a fixed configuration.

Source: ``pollux-osdi21-workloads/application_profiles/<app>/`` (petuum/adaptdl branch
``osdi21-artifact`` @c793c708: simulator/traces/, Apache-2.0): ``placements.csv``
(``placement, local_bsz, step_time, sync_time``: measured seconds per step, a placement
written as GPUs per node, ``22`` = 2 nodes of 2), ``scalability.csv`` (``num_nodes,
num_replicas, local_bsz, step_time, sync_time``) and ``validation-<batch size>.csv``
(``progress, iteration, metric, grad_sqr, grad_var`` at the end of each epoch).

How Pollux's simulator runs a job that a non-adaptive scheduler (its Tiresias baseline)
starts with the workload's ``num_replicas`` and ``batch_size`` (simulator/simulator.py
``Job.update_local_bsz`` and ``Job.step``, simulator/applications.py), which
:func:`run_time_s` computes in closed form:

1. Placement: the job's replicas packed on nodes of ``gpus_per_node`` GPUs (4 on
   Pollux's 16 x 4-GPU testbed), ``(4, 4, 2)`` for 10, as its Tiresias policy places
   a job on an idle cluster (the node with most free GPUs first).
2. Batch: ``local = ceil(B / r)``; ``accum = ceil(local / max_local) - 1`` (at least 1
   for a single replica whose ``B`` exceeds the initial batch size); ``atomic =
   min(ceil(local / (accum + 1)), floor(max_batch / (r (accum + 1))))``; the batch
   actually run is ``B' = r x atomic x (accum + 1)``.
3. Step time: ``step, sync`` at ``atomic`` from the placement's row of
   ``placements.csv`` (linear in ``local_bsz``), or, for a placement never measured,
   linear interpolation over ``(nodes, replicas, local_bsz)`` of both files (Pollux's
   ``LinearNDInterpolator``); ``T = step + accum x (step - sync)``.
4. Statistical efficiency in epoch ``e``: ``gain_e = (var_e + sqr_e) / (var_e / s +
   sqr_e)`` with ``s = B' / init_batch``, ``sqr, var`` interpolated linearly in batch
   size between the two validated batch sizes around ``B'``.
5. Work: the job is done after ``max_epochs`` epochs; epoch ``e`` needs ``P(e+1) -
   P(e)`` progress, ``P(e)`` the least progress any validated batch size shows after
   ``e`` epochs. Its goodput is ``gain_e / T`` progress per second, so

   ``run_time_s = sum over e < max_epochs of (P(e+1) - P(e)) x T / gain_e``.

Pollux advances in 60-s ticks and rounds each epoch's last piece to a whole second
(within half a second per epoch of this sum), and charges a 30-s re-scale delay at
every (re)start, :data:`RESTART_DELAY_S`, which is a scheduler's cost and not part of
the run time. The per-application constants are Pollux's ``APPLICATIONS`` table
(:data:`APPLICATIONS`); ``init_batch`` and ``max_batch`` are the smallest and largest
validated batch sizes, ``min_local`` / ``max_local`` the extremes of ``placements.csv``
unless the table says otherwise.
"""

from __future__ import annotations

import csv
import math
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from functools import cache
from pathlib import Path

import numpy as np
from numpy.typing import NDArray

from neocloud.adapters.importers._csv import read_problem

#: Seconds Pollux's simulator charges a job at each (re)allocation (``Job.reallocate``: ``rescale_time = 30``).
RESTART_DELAY_S = 30.0
#: GPUs per node of Pollux's testbed and simulator (16 nodes x 4 GPUs; ``Cluster(num_gpus=4)``).
GPUS_PER_NODE = 4
#: Pollux's ``get_throughput`` caps the node count of an unmeasured placement at 16 (its testbed's nodes).
MAX_PROFILED_NODES = 16


@dataclass(frozen=True, slots=True)
class AppConstants:
    """What Pollux's ``APPLICATIONS`` table sets per application (simulator/applications.py)."""

    max_epochs: int
    max_local_bsz: int | None = None


#: simulator/applications.py ``APPLICATIONS`` at osdi21-artifact @c793c708.
APPLICATIONS: Mapping[str, AppConstants] = {
    "bert": AppConstants(max_epochs=2),
    "cifar10": AppConstants(max_epochs=100),
    "ncf": AppConstants(max_epochs=10),
    "imagenet": AppConstants(max_epochs=90),
    "deepspeech2": AppConstants(max_epochs=80),
    "yolov3": AppConstants(max_epochs=50, max_local_bsz=8),
}

Array = NDArray[np.float64]


class ProfileError(ValueError):
    """An application has no usable profile, or a configuration lies outside it; the message says which."""


@dataclass(frozen=True)
class Validation:
    """One validated batch size: per epoch, the progress reached and the gradient statistics."""

    progress: Array
    grad_sqr: Array
    grad_var: Array


@dataclass(frozen=True, eq=False)
class Profile:
    """An application's measured profile (see the module doc)."""

    name: str
    max_epochs: int
    init_batch: int
    max_batch: int
    min_local: int
    max_local: int
    validation: Mapping[int, Validation]
    placements: Mapping[int, tuple[Array, Array, Array]]  # placement id -> local_bsz, step, sync (by local_bsz)
    points: Array  # (nodes, replicas, local_bsz) of every measurement, for unmeasured placements
    values: Array  # (step, sync) at each point
    progress: Array  # P(e + 1) for each epoch e: the least progress any validated batch size shows

    def run_time_s(self, num_replicas: int, batch_size: int, gpus_per_node: int = GPUS_PER_NODE) -> float:
        """Seconds the job runs to completion at this configuration (module doc, steps 1-5); cached."""
        return _run_time(self, num_replicas, batch_size, gpus_per_node)

    def compute_run_time_s(self, num_replicas: int, batch_size: int, gpus_per_node: int) -> float:
        """:meth:`run_time_s` without the cache."""
        placement = _packed(num_replicas, gpus_per_node)
        atomic, accum = self._atomic(num_replicas, batch_size)
        ran = num_replicas * atomic * (accum + 1)
        step, sync = self._step_time(placement, atomic)
        step_s = step + accum * (step - sync)
        scale = ran / self.init_batch
        total = 0.0
        for epoch in range(self.max_epochs):
            sqr, var = self._grad_stats(ran, epoch)
            gain = (var + sqr) / (var / scale + sqr)
            total += (self._progress(epoch + 1) - self._progress(epoch)) * step_s / gain
        return total

    def _atomic(self, replicas: int, batch: int) -> tuple[int, int]:
        local = math.ceil(batch / replicas - 1e-8)
        accum = math.ceil(local / self.max_local - 1e-8) - 1
        if replicas == 1 and batch > self.init_batch:
            accum = max(1, accum)
        atomic = math.ceil(local / (accum + 1) - 1e-8)
        return min(atomic, int(self.max_batch / (replicas * (accum + 1)))), accum

    def _step_time(self, placement: tuple[int, ...], local_bsz: int) -> tuple[float, float]:
        rotated = min(placement[i:] + placement[:i] for i in range(len(placement)))
        measured = self.placements.get(int("".join(map(str, rotated))))
        if measured is not None:
            bsz, step, sync = measured
            if not bsz[0] <= local_bsz <= bsz[-1]:
                raise ProfileError(
                    f"{self.name}: local batch {local_bsz} is outside the measured {bsz[0]:g}..{bsz[-1]:g}"
                    f" of placement {''.join(map(str, rotated))}"
                )
            return float(np.interp(local_bsz, bsz, step)), float(np.interp(local_bsz, bsz, sync))
        query = [min(len(placement), MAX_PROFILED_NODES), sum(placement), local_bsz]
        step, sync = _interpolator(self)(query)[0]
        if not (math.isfinite(step) and math.isfinite(sync)):
            raise ProfileError(f"{self.name}: placement {placement} at local batch {local_bsz} is outside the profile")
        return float(step), float(sync)

    def _bracket(self, batch: int) -> tuple[int, int]:
        sizes = sorted(self.validation)
        lower = max((b for b in sizes if b <= batch), default=None)
        upper = min((b for b in sizes if b >= batch), default=None)
        if lower is None or upper is None:
            raise ProfileError(f"{self.name}: batch size {batch} is outside the validated {sizes[0]}..{sizes[-1]}")
        return lower, upper

    def _grad_stats(self, batch: int, epoch: int) -> tuple[float, float]:
        lower, upper = self._bracket(batch)
        lo, up = self.validation[lower], self.validation[upper]
        if lower == upper:
            return float(lo.grad_sqr[epoch]), float(lo.grad_var[epoch])
        w = (batch - lower) / (upper - lower)
        sqr = (1 - w) * lo.grad_sqr[epoch] + w * up.grad_sqr[epoch]
        var = (1 - w) * lo.grad_var[epoch] + w * up.grad_var[epoch]
        return float(sqr), float(var)

    def _progress(self, epoch: int) -> float:
        return 0.0 if epoch == 0 else float(self.progress[epoch - 1])


def load_profile(profiles: Path, application: str) -> Profile:
    """The profile of ``application`` under the ``profiles`` folder (cached per folder and name).

    Raises :class:`ProfileError` naming the application when it is not in
    :data:`APPLICATIONS` or its files are missing or unreadable.
    """
    return _load(profiles.resolve(), application)


@cache
def _load(profiles: Path, application: str) -> Profile:
    constants = APPLICATIONS.get(application)
    folder = profiles / application
    if constants is None:
        known = ", ".join(sorted(APPLICATIONS))
        raise ProfileError(f"no profile for application {application!r}: Pollux profiles {known}")
    if not folder.is_dir():
        raise ProfileError(f"no profile for application {application!r}: {folder} is not a folder")
    batches = {p: p.stem.rsplit("-", 1)[1] for p in sorted(folder.glob("validation-*.csv"))}
    validation = {int(b): _validation(p) for p, b in batches.items() if b.isdigit()}
    placements = _table(folder / "placements.csv", ("placement", "local_bsz", "step_time", "sync_time"))
    scalability = _table(
        folder / "scalability.csv", ("num_nodes", "num_replicas", "local_bsz", "step_time", "sync_time")
    )
    if not validation or len(min(validation.values(), key=lambda v: len(v.progress)).progress) < constants.max_epochs:
        raise ProfileError(f"{application}: the validation files cover fewer than {constants.max_epochs} epochs")
    local = placements["local_bsz"]
    return Profile(
        name=application,
        max_epochs=constants.max_epochs,
        init_batch=min(validation),
        max_batch=max(validation),
        min_local=int(local.min()),
        max_local=constants.max_local_bsz or int(local.max()),
        validation=validation,
        placements=_by_placement(placements),
        points=np.concatenate([_mean_points(placements), _points(scalability)]),
        values=np.concatenate([_mean_values(placements), _values(scalability)]),
        progress=np.min([v.progress[: constants.max_epochs] for v in validation.values()], axis=0),
    )


@cache
def _run_time(profile: Profile, replicas: int, batch: int, per_node: int) -> float:
    return profile.compute_run_time_s(replicas, batch, per_node)


@cache
def _interpolator(profile: Profile) -> Callable[[Sequence[float]], Array]:
    # Imported here: scipy.interpolate costs most of a second, and every CLI command and
    # server worker imports bootstrap, which imports the trace readers.
    from scipy.interpolate import LinearNDInterpolator  # type: ignore[import-untyped]

    interpolate: Callable[[Sequence[float]], Array] = LinearNDInterpolator(profile.points, profile.values)
    return interpolate


def _packed(replicas: int, per_node: int) -> tuple[int, ...]:
    full, rest = divmod(replicas, per_node)
    return (per_node,) * full + ((rest,) if rest else ())


def _table(path: Path, columns: tuple[str, ...]) -> dict[str, Array]:
    """A small profile CSV as one array per column (``columns`` required)."""
    try:
        with path.open(newline="") as fh:
            rows = list(csv.DictReader(fh))
    except OSError as exc:
        raise ProfileError(f"{path}: {read_problem(exc)}") from None
    if not rows:
        raise ProfileError(f"{path}: no rows")
    missing = [c for c in columns if c not in rows[0]]
    if missing:
        raise ProfileError(f"{path}: missing column {', '.join(map(repr, missing))}")
    try:
        return {c: np.array([float(r[c]) for r in rows]) for c in columns}
    except (TypeError, ValueError) as exc:
        raise ProfileError(f"{path}: not a table of numbers ({exc})") from None


def _validation(path: Path) -> Validation:
    t = _table(path, ("progress", "grad_sqr", "grad_var"))
    return Validation(t["progress"], t["grad_sqr"], t["grad_var"])


def _layout(placement: float) -> tuple[int, int]:
    digits = str(int(placement))
    return len(digits), sum(int(d) for d in digits)


def _by_placement(t: dict[str, Array]) -> dict[int, tuple[Array, Array, Array]]:
    out: dict[int, tuple[Array, Array, Array]] = {}
    for pid in np.unique(t["placement"]):
        rows = t["placement"] == pid
        order = np.argsort(t["local_bsz"][rows])
        out[int(pid)] = (t["local_bsz"][rows][order], t["step_time"][rows][order], t["sync_time"][rows][order])
    return out


def _mean_points(t: dict[str, Array]) -> Array:
    return np.array(list(_means(t)), dtype=np.float64).reshape(-1, 3)


def _mean_values(t: dict[str, Array]) -> Array:
    return np.array(list(_means(t).values()), dtype=np.float64).reshape(-1, 2)


def _means(t: dict[str, Array]) -> dict[tuple[int, int, float], tuple[float, float]]:
    """``placements.csv`` averaged per (nodes, replicas, local_bsz), as Pollux's ``groupby(...).mean()``."""
    groups: dict[tuple[int, int, float], list[tuple[float, float]]] = {}
    for p, b, s, y in zip(t["placement"], t["local_bsz"], t["step_time"], t["sync_time"], strict=True):
        groups.setdefault((*_layout(p), float(b)), []).append((float(s), float(y)))
    return {k: (sum(v[0] for v in vs) / len(vs), sum(v[1] for v in vs) / len(vs)) for k, vs in sorted(groups.items())}


def _points(t: dict[str, Array]) -> Array:
    return np.stack([t["num_nodes"], t["num_replicas"], t["local_bsz"]], axis=1)


def _values(t: dict[str, Array]) -> Array:
    return np.stack([t["step_time"], t["sync_time"]], axis=1)
