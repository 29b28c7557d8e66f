"""Idempotent POSTs: the first result of a request sent with an ``Idempotency-Key``.

Results are kept per scope (the API key's id), with a hash of what was asked, so a
retry gets the first answer and books nothing twice, while the same key reused for
a different request is refused naming the header. Only successful results are kept:
a refused request may be retried with the same key once the refusal is resolved.
"""

from __future__ import annotations

import hashlib
import threading
from collections.abc import Callable

from neocloud.domain.changes import IdempotentResult
from neocloud.domain.clock import Clock, to_s
from neocloud.leasing.engine import RequestError
from neocloud.services.ports import IdempotencyStore

HEADER = "Idempotency-Key"
MAX_KEY_CHARS = 255
LOCK_STRIPES = 64


def request_hash(method: str, path: str, body: str) -> str:
    """The fingerprint of a request: method, path and canonical body."""
    return hashlib.sha256(f"{method} {path}\n{body}".encode()).hexdigest()


class Idempotency:
    def __init__(self, store: IdempotencyStore, clock: Clock) -> None:
        self.store = store
        self.clock = clock
        self._stripes = [threading.Lock() for _ in range(LOCK_STRIPES)]

    def run(
        self, scope: str, key: str, fingerprint: str, act: Callable[[], tuple[int, str]]
    ) -> tuple[IdempotentResult, bool]:
        """The stored result for ``(scope, key)`` and ``True`` (a replay), or ``act()``'s
        ``(status, body)`` stored when it succeeded and ``False``. Raises
        :class:`RequestError` naming the header when the key was used for another request."""
        if not key.strip() or len(key) > MAX_KEY_CHARS:
            raise RequestError([f"{HEADER}: must be 1 to {MAX_KEY_CHARS} characters"])
        with self._key_lock(scope, key):  # a concurrent retry waits for the first, then replays it
            found = self.store.get_result(scope, key)
            if found is not None:
                return self._checked(found, fingerprint), True
            return self._first(scope, key, fingerprint, act)

    def _first(
        self, scope: str, key: str, fingerprint: str, act: Callable[[], tuple[int, str]]
    ) -> tuple[IdempotentResult, bool]:
        status, body = act()
        result = IdempotentResult(fingerprint, status, body, to_s(self.clock.now()))
        if status >= 300:
            return result, False
        return self._checked(self.store.put_result(scope, key, result), fingerprint), False

    def _key_lock(self, scope: str, key: str) -> threading.Lock:
        """One of a fixed set of locks (bounded memory); equal keys always share one."""
        digest = hashlib.blake2b(f"{scope}\n{key}".encode(), digest_size=4).digest()
        return self._stripes[int.from_bytes(digest, "big") % LOCK_STRIPES]

    def _checked(self, found: IdempotentResult, fingerprint: str) -> IdempotentResult:
        if found.request_hash != fingerprint:
            raise RequestError([f"{HEADER}: this key was already used for a different request"])
        return found
