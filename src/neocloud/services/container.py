"""Everything an entry point (API, dashboard) needs, built once by bootstrap."""

from __future__ import annotations

from dataclasses import dataclass

from neocloud.domain.clock import Clock
from neocloud.services.access import KeyService
from neocloud.services.leasing import LeasingService
from neocloud.services.ports import IdempotencyStore


@dataclass(frozen=True, slots=True)
class Services:
    leasing: LeasingService
    keys: KeyService
    idempotency: IdempotencyStore
    clock: Clock
    database: str
