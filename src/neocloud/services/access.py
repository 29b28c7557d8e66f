"""API keys: create (shown once), authenticate, list, revoke.

Creating or revoking a key and writing its audit event are one transaction: a key
never exists without the event that says who made it.
"""

from __future__ import annotations

import secrets
import time

from neocloud.domain.access import (
    AccessDenied,
    ApiKey,
    Principal,
    Role,
    format_token,
    hash_secret,
    matches,
    parse_token,
)
from neocloud.domain.changes import Change, Event
from neocloud.domain.clock import Clock, to_s
from neocloud.domain.names import key_label_problems
from neocloud.leasing.engine import NotFound, RequestError
from neocloud.services.ports import KeyStore


class KeyService:
    def __init__(self, store: KeyStore, clock: Clock, cache_s: float = 0.0) -> None:
        self.store = store
        self.clock = clock
        self.cache_s = cache_s  # how long a looked-up key is trusted before reading it again
        self._cache: dict[str, tuple[ApiKey | None, float]] = {}

    def create(
        self, *, role: Role, tenant: str | None, actor: str, known_tenants: set[str], label: str = ""
    ) -> tuple[ApiKey, str]:
        """A new key and its token (shown once; only its hash is kept)."""
        problems = key_label_problems(label)
        if problems:
            raise RequestError(problems)
        if role is Role.TENANT:
            if not tenant:
                raise RequestError(["tenant: a tenant key needs the tenant's name"])
            if tenant not in known_tenants:
                raise RequestError([f"tenant: unknown tenant {tenant!r}"])
        elif tenant is not None:
            raise RequestError(["tenant: an operator key belongs to no tenant"])
        key_id = secrets.token_hex(6)
        secret = secrets.token_urlsafe(32)
        now_s = to_s(self.clock.now())
        key = ApiKey(key_id, hash_secret(secret), role, tenant, now_s, actor, label)
        with self.store.writing() as writer:
            writer.add_key(key)
            writer.write(_event("key.created", key, now_s, actor))
        return key, format_token(key_id, secret)

    def authenticate(self, token: str | None) -> Principal:
        """The principal of a valid, unrevoked token; :class:`AccessDenied` otherwise."""
        parsed = parse_token(token or "")
        if parsed is None:
            raise AccessDenied("missing or malformed API key: send 'Authorization: Bearer nc_<id>_<secret>'")
        return self._principal(self._lookup(parsed[0]), parsed[1])

    def authenticate_cached(self, token: str | None) -> Principal | None:
        """:meth:`authenticate` answered from the key cache alone, or ``None`` when that
        would need the store (so a caller on an event loop never waits on a database)."""
        parsed = parse_token(token or "")
        if parsed is None:
            return None
        hit = self._cache.get(parsed[0])
        if hit is None or time.monotonic() - hit[1] >= self.cache_s:
            return None
        return self._principal(hit[0], parsed[1])

    def _principal(self, key: ApiKey | None, secret: str) -> Principal:
        if key is None or not matches(key, secret):
            raise AccessDenied("invalid or revoked API key")
        return Principal(key.id, key.role, key.tenant)

    def list(self) -> list[ApiKey]:
        return self.store.list_keys()

    def revoke(self, key_id: str, actor: str = "unknown") -> ApiKey:
        now_s = to_s(self.clock.now())
        with self.store.writing() as writer:
            key = writer.revoke_key(key_id, now_s)
            if key is None:
                raise NotFound(f"no key {key_id!r}")
            writer.write(_event("key.revoked", key, now_s, actor))
        self._cache.pop(key_id, None)
        return key

    def _lookup(self, key_id: str) -> ApiKey | None:
        """The stored key, from a short cache: a revocation elsewhere takes effect within ``cache_s``."""
        now = time.monotonic()
        hit = self._cache.get(key_id)
        if hit is not None and now - hit[1] < self.cache_s:
            return hit[0]
        key = self.store.get_key(key_id)
        if self.cache_s > 0:
            if len(self._cache) > 10_000:
                self._cache.clear()
            self._cache[key_id] = (key, now)
        return key


def _event(kind: str, key: ApiKey, at_s: int, actor: str) -> Change:
    """The audit event of a key created or revoked (never its hash)."""
    view = {"key": key.id, "role": key.role.value, "tenant": key.tenant, "label": key.label}
    return Change(events=(Event(kind, key.id, at_s, actor, tenant=key.tenant, after=view),))
