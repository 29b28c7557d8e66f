"""Importers for real public GPU-cluster inventories (see ../shared/traces).

Each importer reads one schema (not one file) and returns a fleet spec; the format
names are those of ``neocloud fleet import``. docs/importers.md describes each
source, how its topology is mapped and what is assumed.
"""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

from neocloud.adapters.importers.alibaba import import_openb, import_pai, import_spot
from neocloud.adapters.importers.crux import import_crux
from neocloud.adapters.importers.philly import import_philly
from neocloud.adapters.importers.zhejiang import import_zhejiang
from neocloud.domain.spec import FleetSpec

IMPORTERS: dict[str, Callable[[Path], FleetSpec]] = {
    "philly": import_philly,
    "openb": import_openb,
    "pai": import_pai,
    "alibaba-spot": import_spot,
    "crux": import_crux,
    "zhejiang": import_zhejiang,
}
