"""The composition root: the one place that wires adapters to services."""

from __future__ import annotations

from pathlib import Path

from neocloud.adapters.fleetfile import io as fleetfile
from neocloud.adapters.importers import IMPORTERS
from neocloud.domain.fleet import Fleet
from neocloud.domain.spec import FleetSpec
from neocloud.services.fleet import FleetFiles, Importer


class YamlFleetFiles:
    """Fleet files as YAML specs with CSV node tables."""

    def load_fleet(self, path: Path) -> Fleet:
        return fleetfile.load_fleet(path)

    def save_spec(self, spec: FleetSpec, path: Path) -> list[Path]:
        return fleetfile.save_spec(spec, path)


def fleet_files() -> FleetFiles:
    return YamlFleetFiles()


def importers() -> dict[str, Importer]:
    return dict(IMPORTERS)
