"""The API on a MemoryStore filled with the demo, and a client per role."""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass
from datetime import UTC, datetime

import pytest
from fastapi import FastAPI
from fastapi.testclient import TestClient

from neocloud import bootstrap
from neocloud.api.app import create_app
from neocloud.domain.clock import ManualClock
from neocloud.services.container import Services
from neocloud.services.demo import DemoKeys, build_demo

START = datetime(2027, 1, 4, tzinfo=UTC)


@dataclass
class World:
    app: FastAPI
    client: TestClient
    services: Services
    clock: ManualClock
    keys: DemoKeys

    def auth(self, role: str) -> dict[str, str]:
        """Headers for ``operator``, a tenant's name, or ``none`` (no key)."""
        if role == "none":
            return {}
        token = self.keys.operator if role == "operator" else self.keys.tenants[role]
        return {"Authorization": f"Bearer {token}"}


def memory_services(clock: ManualClock) -> Services:
    return bootstrap.in_memory(clock)


@pytest.fixture
def world() -> Iterator[World]:
    clock = ManualClock(START)
    services = memory_services(clock)
    keys = build_demo(services)
    app = create_app(services)
    with TestClient(app, raise_server_exceptions=True) as client:
        yield World(app, client, services, clock, keys)
