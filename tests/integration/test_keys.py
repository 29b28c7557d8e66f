"""API keys on every store: a key and its audit event are written in one transaction."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest

from neocloud.domain.access import Role
from neocloud.domain.changes import EventQuery, StoreError
from neocloud.domain.clock import ManualClock
from neocloud.domain.spec import build_fleet
from neocloud.services.access import KeyService
from neocloud.services.leasing import LeasingService
from neocloud.services.ports import LedgerStore
from tests.builders import a_fleet
from tests.integration.stores import STORE_KINDS, Faulty, store_factory

START = datetime(2027, 3, 1, tzinfo=UTC)


@pytest.fixture(params=STORE_KINDS)
def store(request: pytest.FixtureRequest) -> LedgerStore:
    s = store_factory(request.param, request)()
    LeasingService(s, ManualClock(START)).init(build_fleet(a_fleet()), actor="test")
    return s


def key_events(store: LedgerStore) -> list[tuple[str, str]]:
    return [(e.event.kind, e.event.subject) for e in store.events(EventQuery(kind="key."))]


def test_a_key_whose_audit_event_cannot_be_written_is_not_created(store: LedgerStore) -> None:
    faulty = KeyService(Faulty(store, fails="write"), ManualClock(START))  # type: ignore[arg-type]
    with pytest.raises(StoreError, match="disk is full"):
        faulty.create(role=Role.OPERATOR, tenant=None, actor="ops", known_tenants=set())
    assert store.list_keys() == []  # type: ignore[attr-defined]
    assert key_events(store) == []


def test_a_revocation_whose_audit_event_cannot_be_written_leaves_the_key_valid(store: LedgerStore) -> None:
    keys = KeyService(store, ManualClock(START))  # type: ignore[arg-type]
    key, token = keys.create(role=Role.OPERATOR, tenant=None, actor="ops", known_tenants=set())
    faulty = KeyService(Faulty(store, fails="write"), ManualClock(START))  # type: ignore[arg-type]
    with pytest.raises(StoreError, match="disk is full"):
        faulty.revoke(key.id, actor="ops")
    assert keys.authenticate(token).key_id == key.id
    assert key_events(store) == [("key.created", key.id)]


def test_a_created_and_revoked_key_has_one_event_each(store: LedgerStore) -> None:
    keys = KeyService(store, ManualClock(START))  # type: ignore[arg-type]
    key, _ = keys.create(role=Role.OPERATOR, tenant=None, actor="ops", known_tenants=set())
    keys.revoke(key.id, actor="ops")
    assert key_events(store) == [("key.created", key.id), ("key.revoked", key.id)]
