"""``Idempotency-Key`` on POSTs that book or change a lease: replay the first result.

A route splits its work in two: ``act(claim)`` calls one service method, passing the
claim on (``None`` without the header), and ``view(result)`` is the response model.
With the header, the service claims the key in its own write transaction and keeps
the rendered body with the change it commits (``services/idempotency.py``).
"""

from __future__ import annotations

from collections.abc import Callable
from typing import TypeVar

from fastapi import Request, Response
from pydantic import BaseModel

from neocloud.domain.access import Principal
from neocloud.services.idempotency import HEADER, Claim, request_hash, run_once

JSON = "application/json"
T = TypeVar("T")


def respond(
    request: Request,
    *,
    who: Principal,
    payload: BaseModel | None,
    status: int,
    act: Callable[[Claim[T] | None], T],
    view: Callable[[T], BaseModel],
) -> Response:
    """``view(act(...))`` as a JSON response; with an ``Idempotency-Key``, done once per
    key and principal, and a replay is marked ``Idempotent-Replayed: true``."""

    def render(result: T) -> str:
        return view(result).model_dump_json(by_alias=True)

    key = request.headers.get(HEADER)
    if key is None:
        return Response(render(act(None)), status, media_type=JSON)
    body_text = payload.model_dump_json() if payload is not None else ""
    fingerprint = request_hash(request.method, request.url.path, body_text)
    kept, replayed = run_once(Claim(who.key_id, key, fingerprint, status, render), act)
    headers = {"Idempotent-Replayed": "true"} if replayed else None
    return Response(kept.body, kept.status, media_type=JSON, headers=headers)
