"""Store factories shared by the persistence tests: every store runs the same test bodies."""

from __future__ import annotations

from collections.abc import Callable

from neocloud.adapters.memory import MemoryStore
from neocloud.services.ports import LedgerStore

StoreFactory = Callable[[], LedgerStore]


def memory_store() -> LedgerStore:
    return MemoryStore()
