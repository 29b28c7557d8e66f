"""Fleet use cases: generate, import, validate and summarize fleet files.

Services talk to files through the :class:`FleetFiles` port; ``bootstrap`` wires
the YAML/CSV adapter in. Every use case either completes or raises a domain error
before writing anything.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Protocol

from neocloud.domain.fleet import Fleet, SiteSummary, summarize
from neocloud.domain.presets import preset
from neocloud.domain.spec import FleetSpec, build_fleet, spec_from_fleet


class FleetFiles(Protocol):
    """Where fleet specs are read from and written to."""

    def load_fleet(self, path: Path) -> Fleet: ...

    def save_spec(self, spec: FleetSpec, path: Path) -> list[Path]: ...


Importer = Callable[[Path], FleetSpec]


class UnknownFormat(ValueError):
    """An import format that no importer handles."""


@dataclass(frozen=True, slots=True)
class FleetReport:
    """A fleet's summary: per site and in total."""

    name: str | None
    sites: list[SiteSummary]
    total: SiteSummary
    pues: dict[str, float]


@dataclass(frozen=True, slots=True)
class Written:
    """What a generate or import wrote, and the fleet it describes."""

    paths: list[Path]
    report: FleetReport


def report(fleet: Fleet) -> FleetReport:
    """The summary of an expanded fleet."""
    sites, total = summarize(fleet)
    return FleetReport(fleet.name, sites, total, {s.name: s.pue for s in fleet.sites})


def show_fleet(files: FleetFiles, path: Path) -> FleetReport:
    """Load and validate ``path``; its summary (raises ``SpecError`` if invalid)."""
    return report(files.load_fleet(path))


def generate_fleet(
    files: FleetFiles,
    preset_name: str,
    settings: Mapping[str, str],
    out: Path,
    node_table: str | None = None,
) -> Written:
    """Generate a preset, validate it, then write it (YAML, plus a node table if asked)."""
    spec = preset(preset_name, dict(settings))
    return _write_valid(files, spec, out, node_table)


def import_fleet(
    files: FleetFiles,
    importers: Mapping[str, Importer],
    fmt: str,
    src: Path,
    out: Path,
    *,
    node_table: str | None = None,
) -> Written:
    """Read a real inventory with the importer for ``fmt`` and write it as a fleet file."""
    importer = importers.get(fmt)
    if importer is None:
        raise UnknownFormat(f"unknown import format {fmt!r}; available: {', '.join(sorted(importers))}")
    return _write_valid(files, importer(src), out, node_table)


def _write_valid(files: FleetFiles, spec: FleetSpec, out: Path, node_table: str | None) -> Written:
    fleet = build_fleet(spec, file=str(out))
    if node_table is not None:
        spec = spec_from_fleet(fleet, table_path=node_table, name=spec.name)
    paths = files.save_spec(spec, out)
    return Written(paths, report(fleet))
