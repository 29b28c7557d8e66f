"""The shape of a capacity request: how much, of what, and how close together."""

from __future__ import annotations

from dataclasses import dataclass
from enum import StrEnum


class Locality(StrEnum):
    """Where all of a lease's nodes must be: one unit of this level."""

    NVLINK_DOMAIN = "nvlink_domain"
    BLOCK = "block"
    POD = "pod"
    SITE = "site"
    ANYWHERE = "anywhere"


class Unit(StrEnum):
    """Whole units a lease may ask for instead of a GPU count."""

    NODE = "node"
    NVLINK_DOMAIN = "nvlink_domain"
    BLOCK = "block"
    POD = "pod"
    SITE = "site"


LOOSER: dict[Locality, Locality | None] = {
    Locality.NVLINK_DOMAIN: Locality.BLOCK,
    Locality.BLOCK: Locality.POD,
    Locality.POD: Locality.SITE,
    Locality.SITE: Locality.ANYWHERE,
    Locality.ANYWHERE: None,
}


@dataclass(frozen=True, slots=True)
class Shape:
    """What to carve: a GPU count, or ``units`` whole units, of one of ``models``.

    ``site`` restricts the search to one site (and names it for ``unit=site``).
    Models are tried in order; the first that fits wins.
    """

    models: tuple[str, ...]
    gpus: int | None = None
    unit: Unit | None = None
    units: int = 1
    locality: Locality = Locality.ANYWHERE
    site: str | None = None
