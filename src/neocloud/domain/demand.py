"""Lease demand: a request in a stream of them, and the shape text people write.

A :class:`DemandRequest` is what a tenant asks for at an instant of a replay: a shape,
a term and a tier, arriving ``arrival_s`` seconds after the replay's origin. The lease
demand replay (``neocloud.sim.lease_demand``) turns each into a
:class:`~neocloud.domain.leases.LeaseRequest` starting at its arrival.

Shape text (one grammar for the CSV's ``shape`` column, the demand model's classes
and ``--pin``), ``[..]`` optional:

- ``GPUS[xMODEL][@LOCALITY]``: a GPU count (whole nodes): ``8``, ``64xH100``,
  ``512@block``, ``72xGB200@nvlink_domain``.
- ``UNIT[:N][xMODEL]``: ``N`` (default 1) whole units of a level: ``node:4``,
  ``nvlink_domain:2xGB200``, ``block``, ``pod``, ``site`` (a whole site, any one).

Without a model any GPU model will do (tried in the fleet's order).
"""

from __future__ import annotations

from dataclasses import dataclass

from neocloud.domain.leases import MAX_GPUS, MAX_UNITS, Tier
from neocloud.domain.shape import Locality, Shape, Unit

#: Any GPU model: the replay spells it out as the fleet's models.
ANY_MODEL = "*"


@dataclass(frozen=True, slots=True)
class DemandRequest:
    """One lease request of a stream: ``arrival_s`` from the replay's origin (s),
    ``term_s`` the lease's length (s, > 0). ``shape_text`` is the shape as written,
    the key acceptance is reported by."""

    id: str
    arrival_s: int
    tenant: str
    shape: Shape
    shape_text: str
    term_s: int
    tier: Tier


def parse_shape(text: str) -> Shape:
    """The :class:`Shape` of a shape text (grammar above); ``ValueError`` saying
    what is wrong and what was expected."""
    body = text.strip()
    if not body:
        raise ValueError("empty shape; expected GPUS[xMODEL][@LOCALITY] or UNIT[:N][xMODEL]")
    body, at, locality_text = body.partition("@")
    body, x, model = body.partition("x")
    models = (model.strip(),) if x else (ANY_MODEL,)
    if x and not model.strip():
        raise ValueError(f"{text!r}: no model after 'x'")
    count = body.strip()
    if count.isdigit():
        return _gpus(text, int(count), models, locality_text if at else None)
    if at:
        raise ValueError(f"{text!r}: a locality (@...) goes with a GPU count; whole units are their own locality")
    unit_text, colon, number = count.partition(":")
    try:
        unit = Unit(unit_text.strip())
    except ValueError:
        known = ", ".join(u.value for u in Unit)
        raise ValueError(f"{text!r}: {unit_text.strip()!r} is neither a GPU count nor a unit ({known})") from None
    units = (int(number) if number.strip().isdigit() else 0) if colon else 1
    if not 0 < units <= MAX_UNITS:
        raise ValueError(f"{text!r}: the number of units must be a whole number from 1 to {MAX_UNITS:,}")
    return Shape(models, unit=unit, units=units)


def shape_problem(shape: Shape, tier: Tier) -> str | None:
    """Why a shape cannot be sold in ``tier`` (the leasing service's rule), or ``None``."""
    if tier is Tier.WHOLESALE and shape.unit is None:
        return "wholesale sells whole units (UNIT[:N]); a GPU count is reserved, on_demand or spot"
    return None


def _gpus(text: str, gpus: int, models: tuple[str, ...], locality_text: str | None) -> Shape:
    if not 0 < gpus <= MAX_GPUS:
        raise ValueError(f"{text!r}: the GPU count must be from 1 to {MAX_GPUS:,}")
    if locality_text is None:
        return Shape(models, gpus=gpus)
    try:
        locality = Locality(locality_text.strip())
    except ValueError:
        known = ", ".join(loc.value for loc in Locality)
        raise ValueError(f"{text!r}: unknown locality {locality_text.strip()!r}; one of {known}") from None
    return Shape(models, gpus=gpus, locality=locality)
