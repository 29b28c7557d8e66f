"""Who may act: API keys, roles and the principal a request runs as.

A key is shown once, at creation, as ``nc_<key id>_<secret>``; only the SHA-256 of
the secret is stored (the secret is 32 random bytes, so a slow hash adds nothing).
Two roles: the operator may do everything; a tenant sees and changes only its own
leases, events and usage, plus fleet-wide availability.
"""

from __future__ import annotations

import hashlib
import hmac
from dataclasses import dataclass
from enum import StrEnum

from neocloud.domain.errors import DomainError

TOKEN_PREFIX = "nc"  # noqa: S105 - a public prefix, not a secret


class Role(StrEnum):
    OPERATOR = "operator"
    TENANT = "tenant"


@dataclass(frozen=True, slots=True)
class ApiKey:
    """A stored key: its id, the hash of its secret, who it speaks for."""

    id: str
    secret_sha256: str
    role: Role
    tenant: str | None
    created_s: int
    created_by: str
    label: str = ""
    revoked_s: int | None = None

    @property
    def active(self) -> bool:
        return self.revoked_s is None


@dataclass(frozen=True, slots=True)
class Principal:
    """The identity a request acts as; ``actor`` is what the event log records."""

    key_id: str
    role: Role
    tenant: str | None

    @property
    def actor(self) -> str:
        who = "operator" if self.role is Role.OPERATOR else f"tenant:{self.tenant}"
        return f"{who} (key {self.key_id})"

    @property
    def is_operator(self) -> bool:
        return self.role is Role.OPERATOR


class AccessDenied(DomainError):
    """No valid key, or a key that may not do this."""


class OperatorOnly(DomainError):
    """A valid tenant key asked a service for what only the operator sees (the custody
    trail: other tenants' holdings, health and bills). The API answers 403."""


def hash_secret(secret: str) -> str:
    return hashlib.sha256(secret.encode()).hexdigest()


def format_token(key_id: str, secret: str) -> str:
    return f"{TOKEN_PREFIX}_{key_id}_{secret}"


def parse_token(token: str) -> tuple[str, str] | None:
    """``(key id, secret)`` of a well-formed token, else ``None``."""
    parts = token.strip().split("_", 2)
    if len(parts) != 3 or parts[0] != TOKEN_PREFIX or not parts[1] or not parts[2]:
        return None
    return parts[1], parts[2]


def matches(key: ApiKey, secret: str) -> bool:
    """Constant-time check of a presented secret against the stored hash."""
    return key.active and hmac.compare_digest(key.secret_sha256, hash_secret(secret))
