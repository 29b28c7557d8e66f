"""The shape of a capacity request: how much, of what, and how close together."""

from __future__ import annotations

from dataclasses import dataclass
from enum import StrEnum


class Level(StrEnum):
    """A level of the topology, outermost first: the one encoding of the idea.

    Localities, whole units, spare policies, availability and placement all name a
    level with this type; ``depth`` orders them (site 0 ... node 4).
    """

    SITE = "site"
    POD = "pod"
    BLOCK = "block"
    NVLINK_DOMAIN = "nvlink_domain"
    NODE = "node"

    @property
    def depth(self) -> int:
        return _DEPTH[self]

    @property
    def label(self) -> str:
        """For people: ``nvlink domain``."""
        return self.value.replace("_", " ")

    @staticmethod
    def at_depth(depth: int) -> Level:
        return _BY_DEPTH[depth]


_BY_DEPTH = tuple(Level)
_DEPTH = {level: k for k, level in enumerate(_BY_DEPTH)}
#: The levels that group nodes (every level but the node itself), outermost first.
GROUP_LEVELS: tuple[Level, ...] = (Level.SITE, Level.POD, Level.BLOCK, Level.NVLINK_DOMAIN)


class Locality(StrEnum):
    """Where all of a lease's nodes must be: one unit of this level (or anywhere)."""

    NVLINK_DOMAIN = "nvlink_domain"
    BLOCK = "block"
    POD = "pod"
    SITE = "site"
    ANYWHERE = "anywhere"

    @property
    def level(self) -> Level | None:
        """The level whose one unit holds every node; ``None`` for anywhere."""
        return None if self is Locality.ANYWHERE else Level(self.value)


class Unit(StrEnum):
    """Whole units a lease may ask for instead of a GPU count."""

    NODE = "node"
    NVLINK_DOMAIN = "nvlink_domain"
    BLOCK = "block"
    POD = "pod"
    SITE = "site"

    @property
    def level(self) -> Level:
        return Level(self.value)


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
