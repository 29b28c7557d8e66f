"""Importers for real public GPU-cluster inventories (see ../shared/traces).

Each importer reads one schema (not one file) and returns a fleet spec.
"""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

from neocloud.domain.spec import FleetSpec

IMPORTERS: dict[str, Callable[[Path], FleetSpec]] = {}
