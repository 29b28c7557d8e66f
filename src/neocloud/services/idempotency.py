"""Idempotent POSTs: a request sent with an ``Idempotency-Key`` is done at most once.

The key is claimed in the database, in the write transaction that does the request,
under the store's write lock (a :class:`Claim` handed to the leasing service):

- a result is already kept for the key, for the same request: it is replayed and
  nothing is written;
- one is kept for a different request: refused, naming the header;
- none is kept: the request is decided, and its change and its result row commit
  together, or neither does.

So a key maps to at most one booking whatever crashes, full disks or concurrent
retries across processes happen, with no in-process lock. Results are kept per
scope (the API key's id). Only successful results are kept: a refused request may be
retried with the same key once the refusal is resolved.
"""

from __future__ import annotations

import hashlib
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Generic, TypeVar

from neocloud.domain.changes import IdempotentResult
from neocloud.leasing.engine import RequestError
from neocloud.services.ports import ResultKeeper

HEADER = "Idempotency-Key"
MAX_KEY_CHARS = 255

T = TypeVar("T")


def request_hash(method: str, path: str, body: str) -> str:
    """The fingerprint of a request: method, path and canonical body."""
    return hashlib.sha256(f"{method} {path}\n{body}".encode()).hexdigest()


@dataclass(slots=True)
class Claim(Generic[T]):
    """One request's claim on its ``Idempotency-Key``, settled by the write transaction
    that does the request (see :meth:`check` and :meth:`keep`).

    ``scope`` is the API key's id, ``fingerprint`` the request's :func:`request_hash`,
    ``status`` the status of a success and ``render`` its body, made from the service's
    result inside the transaction so that the body kept is the body answered."""

    scope: str
    key: str
    fingerprint: str
    status: int
    render: Callable[[T], str]
    kept: IdempotentResult | None = field(default=None, init=False)

    def __post_init__(self) -> None:
        if not self.key.strip() or len(self.key) > MAX_KEY_CHARS:
            raise RequestError([f"{HEADER}: must be 1 to {MAX_KEY_CHARS} characters"])

    def check(self, writer: ResultKeeper) -> None:
        """Under the write lock, before deciding: raises :class:`Replayed` with the kept
        result if the key is taken by this request, :class:`RequestError` naming the
        header if by another; returns if the key is free."""
        found = writer.result(self.scope, self.key)
        if found is None:
            return
        if found.request_hash != self.fingerprint:
            raise RequestError([f"{HEADER}: this key was already used for a different request"])
        raise Replayed(found)

    def keep(self, writer: ResultKeeper, result: T, now_s: int) -> None:
        """In the same transaction, after the change is written: keep the result."""
        kept = IdempotentResult(self.fingerprint, self.status, self.render(result), now_s)
        writer.keep_result(self.scope, self.key, kept)
        self.kept = kept


class Replayed(Exception):
    """The claimed key already holds this request's result: nothing was written. Not an
    error: the way out of a write transaction that must write nothing, caught by
    :func:`run_once`."""

    def __init__(self, result: IdempotentResult) -> None:
        super().__init__(f"replay of a kept result ({result.status})")
        self.result = result


def run_once(claim: Claim[T], act: Callable[[Claim[T]], object]) -> tuple[IdempotentResult, bool]:
    """``act(claim)`` (a service call that settles the claim in its write transaction):
    the result kept for the key and ``False``, or the result kept before and ``True``
    (a replay: ``act`` wrote nothing). A refusal raised by ``act`` goes through, kept
    nowhere."""
    try:
        act(claim)
    except Replayed as replay:
        return replay.result, True
    if claim.kept is None:
        raise RuntimeError(f"the action for {HEADER} {claim.key!r} did not settle its claim")
    return claim.kept, False
