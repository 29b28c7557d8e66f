"""A seeded demand model for lease requests: Poisson arrivals per (shape, tier) class.

Each class of :data:`DEFAULT_CLASSES` arrives as a Poisson process at ``share`` of the
model's total rate per day; each request draws its term from the class's distribution
and its tenant uniformly from ``tenants`` names. The same model, days and seed give
the same stream (one NumPy ``Generator(seed)``). The rate is given per day, or derived
from an offered ``load``: the share of the fleet's GPUs the stream would hold in the
steady state (Little's law: GPUs held = sum over classes of arrivals per day x GPUs
per request x mean term in days), see :func:`rate_for_load`.

Every default carries its source (tags in ../shared/reference/economics.md) or [D]
with the reason; docs/lease-demand.md lists them.
"""

from __future__ import annotations

import math
from collections.abc import Callable, Mapping
from dataclasses import dataclass, replace
from enum import StrEnum

import numpy as np

from neocloud.domain.demand import DemandRequest, parse_shape
from neocloud.domain.leases import Tier
from neocloud.domain.shape import Shape

DAY_S = 86_400
HOUR_S = 3_600
#: Points of a term distribution used for expectations (mid-point quantiles).
QUANTILES = 10_000


class TermKind(StrEnum):
    EXPONENTIAL = "exponential"  # mean ``low_days``; short, memoryless rentals
    LOG_UNIFORM = "log_uniform"  # log(term) uniform in [low_days, high_days]: every scale as likely
    UNIFORM = "uniform"  # uniform in [low_days, high_days]


@dataclass(frozen=True, slots=True)
class TermDist:
    """A term distribution in days; a drawn term is rounded up to whole hours (at least 1 h)."""

    kind: TermKind
    low_days: float
    high_days: float = 0.0

    @property
    def mean_days(self) -> float:
        """The mean term (before rounding to hours)."""
        if self.kind is TermKind.EXPONENTIAL:
            return self.low_days
        if self.kind is TermKind.UNIFORM:
            return (self.low_days + self.high_days) / 2
        return (self.high_days - self.low_days) / math.log(self.high_days / self.low_days)

    def quantiles_days(self, n: int = QUANTILES) -> np.ndarray:
        """The term at ``n`` evenly spaced probabilities (mid-points): the distribution
        as an exact, deterministic sample for expectations."""
        q = (np.arange(n) + 0.5) / n
        if self.kind is TermKind.EXPONENTIAL:
            return -self.low_days * np.log1p(-q)
        if self.kind is TermKind.UNIFORM:
            return self.low_days + (self.high_days - self.low_days) * q
        return np.exp(math.log(self.low_days) + q * math.log(self.high_days / self.low_days))

    def mean_within_days(self, span_days: float) -> float:
        """The mean days a lease of this term holds within a span of ``span_days``
        when it arrives uniformly in the span and is cut at its end:
        E[T - T^2 / 2D] for T <= D, D / 2 beyond."""
        t = self.quantiles_days()
        d = span_days
        return float(np.where(t <= d, t - t * t / (2 * d), d / 2).mean())

    def draw_s(self, rng: np.random.Generator, n: int) -> np.ndarray:
        """``n`` terms in whole hours, as seconds."""
        if self.kind is TermKind.EXPONENTIAL:
            days = rng.exponential(self.low_days, n)
        elif self.kind is TermKind.UNIFORM:
            days = rng.uniform(self.low_days, self.high_days, n)
        else:
            days = np.exp(rng.uniform(math.log(self.low_days), math.log(self.high_days), n))
        hours = np.maximum(np.ceil(days * 24), 1).astype(np.int64)
        return hours * HOUR_S


@dataclass(frozen=True, slots=True)
class DemandClass:
    """Requests of one shape and tier: ``share`` of all arrivals, terms from ``term``."""

    shape_text: str
    tier: Tier
    share: float
    term: TermDist

    @property
    def shape(self) -> Shape:
        return parse_shape(self.shape_text)


#: Short rentals: on-demand a week on average, spot two days [D] (no source gives rental
#: lengths; on-demand is billed by the hour with no commitment, economics.md §1.8).
ON_DEMAND_TERM = TermDist(TermKind.EXPONENTIAL, 7.0)
SPOT_TERM = TermDist(TermKind.EXPONENTIAL, 2.0)
#: Reserved terms from 1 to 60 months: the span of reserved contracts Silicon Data's price
#: records cover [R36] (2026-03); log-uniform [D] so a month and five years are as likely
#: per decade (mean 437 days).
RESERVED_TERM = TermDist(TermKind.LOG_UNIFORM, 30.0, 1826.0)
#: Wholesale take-or-pay: 3 to 5 years, the Colossus 1 lease (June 2026 to May 2029,
#: [R50]) to CoreWeave's weighted average term of ~5 years [R63] (Q4 2025); uniform [D].
WHOLESALE_TERM = TermDist(TermKind.UNIFORM, 3 * 365.25, 5 * 365.25)

#: The default mix [D]: shapes that fit every preset (one 8-GPU node, a 64-GPU slice
#: of one block, 256 GPUs anywhere, a whole block); shares of arrivals chosen so that
#: committed tiers (reserved, wholesale) hold most GPU-days, as 96% of CoreWeave's
#: revenue is committed [R65] (S-1, 2025), while most requests are small rentals.
DEFAULT_CLASSES = (
    DemandClass("8", Tier.ON_DEMAND, 0.35, ON_DEMAND_TERM),
    DemandClass("8", Tier.SPOT, 0.15, SPOT_TERM),
    DemandClass("64@block", Tier.RESERVED, 0.30, RESERVED_TERM),
    DemandClass("256", Tier.RESERVED, 0.15, RESERVED_TERM),
    DemandClass("block", Tier.WHOLESALE, 0.05, WHOLESALE_TERM),
)
#: Offered load when neither rate nor load is given: ``cluster_utilization_target`` 0.80
#: [R93] (2025): demand that would keep the fleet as busy as operators aim for.
DEFAULT_LOAD = 0.8
#: Tenants requests are drawn from, uniformly [D]: a book of a few dozen customers.
DEFAULT_TENANTS = 20
#: The most tenants a model may name: a bound against typos [D].
MAX_TENANTS = 100_000
#: The highest rate a model may ask: a million requests a day [D] (a typo bound).
MAX_RATE = 1_000_000.0


@dataclass(frozen=True, slots=True)
class DemandModel:
    """Arrivals per day over all classes (``rate_per_day``; ``None``: derived from
    ``load``), the classes, and how many tenants ask."""

    rate_per_day: float | None = None
    load: float = DEFAULT_LOAD
    tenants: int = DEFAULT_TENANTS
    classes: tuple[DemandClass, ...] = DEFAULT_CLASSES


def model_from_settings(settings: Mapping[str, str]) -> DemandModel:
    """A model from ``KEY=VAL`` settings: ``rate`` (requests per day) or ``load`` (a
    share of the fleet's GPUs, above 0), and ``tenants``. ``ValueError`` names the key."""
    known = ("rate", "load", "tenants")
    for key in settings:
        if key not in known:
            raise ValueError(f"unknown key {key!r}; one of {', '.join(known)}")
    if "rate" in settings and "load" in settings:
        raise ValueError("rate, load: give one of them (load derives the rate from the fleet)")
    model = DemandModel()
    if "rate" in settings:
        model = replace(model, rate_per_day=_number("rate", settings["rate"], MAX_RATE))
    if "load" in settings:
        model = replace(model, load=_number("load", settings["load"], 100.0))
    if "tenants" in settings:
        text = settings["tenants"].strip()
        if not text.isdigit() or not 0 < int(text) <= MAX_TENANTS:
            raise ValueError(f"tenants: {text!r} is not a whole number from 1 to {MAX_TENANTS:,}")
        model = replace(model, tenants=int(text))
    return model


def rate_for_load(
    model: DemandModel, load: float, fleet_gpus: int, days: float, gpus_of: Callable[[Shape], float]
) -> float:
    """Arrivals per day that ask for ``load`` x the fleet's GPU-days within a span of
    ``days`` (each lease cut at the span's end); ``gpus_of`` gives a request's GPUs
    (whole units: their mean size in the fleet)."""
    per_arrival = sum(c.share * gpus_of(c.shape) * c.term.mean_within_days(days) for c in model.classes)
    return load * fleet_gpus * days / (days * per_arrival) if per_arrival else 0.0


def generate(model: DemandModel, rate_per_day: float, days: float, seed: int) -> list[DemandRequest]:
    """The stream of ``days`` days at ``rate_per_day`` arrivals a day, in arrival order
    (ties: class order, then draw order). Ids ``d000000`` onwards in that order."""
    rng = np.random.default_rng(seed)
    span_s = int(days * DAY_S)
    drawn: list[tuple[int, int, int, str, int]] = []
    for k, cls in enumerate(model.classes):
        n = int(rng.poisson(rate_per_day * cls.share * days))
        arrivals = np.sort(rng.integers(0, max(span_s, 1), n))
        terms = cls.term.draw_s(rng, n)
        tenants = rng.integers(0, model.tenants, n)
        width = len(str(model.tenants))
        drawn += [
            (int(a), k, j, f"t{int(t) + 1:0{width}d}", int(s))
            for j, (a, t, s) in enumerate(zip(arrivals, tenants, terms, strict=True))
        ]
    drawn.sort()
    shapes = [c.shape for c in model.classes]
    return [
        DemandRequest(f"d{i:06d}", a, tenant, shapes[k], model.classes[k].shape_text, term, model.classes[k].tier)
        for i, (a, k, _, tenant, term) in enumerate(drawn)
    ]


def _number(key: str, text: str, high: float) -> float:
    try:
        value = float(text)
    except ValueError:
        value = math.nan
    if not 0 < value <= high:
        raise ValueError(f"{key}: {text.strip()!r} is not a number above 0 and at most {high:,g}")
    return value
