"""``Idempotency-Key`` on POSTs that book or change a lease: replay the first result."""

from __future__ import annotations

from collections.abc import Callable

from fastapi import Request, Response
from pydantic import BaseModel

from neocloud.domain.access import Principal
from neocloud.services.container import Services
from neocloud.services.idempotency import HEADER, request_hash

JSON = "application/json"


def respond(
    request: Request,
    *,
    who: Principal,
    svc: Services,
    payload: BaseModel | None,
    status: int,
    act: Callable[[], BaseModel],
) -> Response:
    """``act()`` as a JSON response; with an ``Idempotency-Key``, once per key and principal."""

    def run() -> tuple[int, str]:
        return status, act().model_dump_json(by_alias=True)

    key = request.headers.get(HEADER)
    if key is None:
        code, body = run()
        return Response(body, code, media_type=JSON)
    body_text = payload.model_dump_json() if payload is not None else ""
    fingerprint = request_hash(request.method, request.url.path, body_text)
    result, replayed = svc.idempotent.run(who.key_id, key, fingerprint, run)
    headers = {"Idempotent-Replayed": "true"} if replayed else None
    return Response(result.body, result.status, media_type=JSON, headers=headers)
