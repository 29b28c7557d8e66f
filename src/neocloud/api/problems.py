"""Errors as RFC 9457 problem details (``application/problem+json``), in one place.

Domain errors map to statuses here and nowhere else: a body that is not JSON 400,
bad fields 422 (each named), no such thing (or another tenant's thing) 404, refused by
the rules or by capacity 409 (with alternatives when capacity refused), an illegal
health move or invoice state change 409, no or bad key 401, a body over the size limit 413, store trouble 503.
"""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

from fastapi import FastAPI, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse
from starlette.exceptions import HTTPException as StarletteHTTPException
from starlette.routing import compile_path

from neocloud.domain.access import AccessDenied, OperatorOnly
from neocloud.domain.billing import InvoiceRuleError
from neocloud.domain.changes import StoreError
from neocloud.domain.errors import DomainError, Instant
from neocloud.domain.health import IllegalTransition
from neocloud.domain.leases import HeldByOthers, LeaseRuleError
from neocloud.domain.ledger import BookingConflict, UnknownNode
from neocloud.domain.money import BadMoney
from neocloud.domain.queue import PoolExists
from neocloud.domain.studies import StudyExists, StudyFinished
from neocloud.leasing.engine import NotFound, RequestError, Unplaceable

PROBLEM = "application/problem+json"


class Forbidden(DomainError):
    """The key is valid but its role may not do this."""


def problem(
    status: int, title: str, detail: str, request: Request, headers: dict[str, str] | None = None, **extra: Any
) -> JSONResponse:
    body = {
        "type": "about:blank",
        "title": title,
        "status": status,
        "detail": detail,
        "instance": str(request.url.path),
    }
    body.update(extra)
    headers = dict(headers or {})
    if status == 401:
        headers["WWW-Authenticate"] = "Bearer"
    return JSONResponse(body, status_code=status, media_type=PROBLEM, headers=headers or None)


def _iso(t_s: int) -> str:
    return datetime.fromtimestamp(t_s, UTC).isoformat().replace("+00:00", "Z")


def _rendered(request: Request, exc: DomainError) -> tuple[str, dict[str, Any]]:
    """The message for this caller (the private part, naming other holders, only for an
    operator key) and the public facts, instants in ISO 8601."""
    who = getattr(request.state, "principal", None)
    operator = who is not None and who.is_operator
    facts = {k: _iso(v) if isinstance(v, Instant) else v for k, v in exc.public_facts().items()}
    return exc.render(_iso, operator=operator), facts


def install(app: FastAPI) -> None:
    """Register the handlers that turn exceptions into problem details."""

    @app.exception_handler(RequestError)
    async def _request_error(request: Request, exc: RequestError) -> JSONResponse:
        errors = [_field_problem(p) for p in exc.problems]
        return problem(422, "Invalid request", "; ".join(exc.problems), request, errors=errors)

    @app.exception_handler(RequestValidationError)
    async def _validation(request: Request, exc: RequestValidationError) -> JSONResponse:
        unreadable = next((e for e in exc.errors() if _unreadable(e)), None)
        if unreadable is not None:
            return not_json(request, unreadable)
        errors = [{"field": _field(e["loc"]), "problem": e["msg"]} for e in exc.errors()]
        detail = "; ".join(f"{e['field']}: {e['problem']}" for e in errors)
        return problem(422, "Invalid request", detail, request, errors=errors)

    @app.exception_handler(NotFound)
    async def _not_found(request: Request, exc: NotFound) -> JSONResponse:
        return problem(404, "Not found", _rendered(request, exc)[0], request)

    @app.exception_handler(AccessDenied)
    async def _denied(request: Request, exc: AccessDenied) -> JSONResponse:
        return problem(401, "Unauthorized", str(exc), request)

    @app.exception_handler(Forbidden)
    async def _forbidden(request: Request, exc: Forbidden) -> JSONResponse:
        return problem(403, "Forbidden", str(exc), request)

    @app.exception_handler(OperatorOnly)
    async def _operator_only(request: Request, exc: OperatorOnly) -> JSONResponse:
        return problem(403, "Forbidden", str(exc), request)

    @app.exception_handler(BadMoney)
    async def _money(request: Request, exc: BadMoney) -> JSONResponse:
        errors = [{"field": "price", "problem": str(exc)}]
        return problem(422, "Invalid request", f"price: {exc}", request, errors=errors)

    @app.exception_handler(UnknownNode)
    async def _unknown_node(request: Request, exc: UnknownNode) -> JSONResponse:
        return problem(404, "Not found", str(exc), request)

    @app.exception_handler(DomainError)
    async def _domain(request: Request, exc: DomainError) -> JSONResponse:
        detail, facts = _rendered(request, exc)
        return problem(422, "Invalid request", detail, request, **({"facts": facts} if facts else {}))

    for refused in (
        Unplaceable,
        LeaseRuleError,
        BookingConflict,
        IllegalTransition,
        InvoiceRuleError,
        PoolExists,
        StudyExists,
        StudyFinished,
    ):

        @app.exception_handler(refused)
        async def _conflict(request: Request, exc: Exception) -> JSONResponse:
            assert isinstance(exc, DomainError)
            detail, facts = _rendered(request, exc)
            extra: dict[str, Any] = {"facts": facts} if facts else {}
            if isinstance(exc, Unplaceable):
                extra["alternatives"] = [
                    {
                        "kind": a.kind,
                        "description": a.description,
                        "gpus": a.gpus,
                        "start_s": a.start_s,
                        "locality": a.locality.value if a.locality else None,
                    }
                    for a in exc.refusal.alternatives
                ]
            if isinstance(exc, HeldByOthers):  # holders only in the operator's copy (services.visibility)
                extra.update(lease=exc.lease_id, blocked_nodes=exc.blocked, blocked_from=_iso(exc.from_s))
                if exc.holders:
                    extra["holders"] = list(exc.holders)
            return problem(409, "Refused", detail, request, **extra)

    @app.exception_handler(StoreError)
    async def _store(request: Request, exc: StoreError) -> JSONResponse:
        return problem(503, "Store unavailable", str(exc), request)

    @app.exception_handler(StarletteHTTPException)
    async def _http(request: Request, exc: StarletteHTTPException) -> JSONResponse:
        title = _TITLES.get(exc.status_code, "Error")
        headers = dict(exc.headers or {})
        if exc.status_code == 405:
            # RFC 9110: a 405 lists every method of the resource, not only the first route's.
            headers["Allow"] = _allowed_methods(request) or headers.get("Allow", "")
        return problem(exc.status_code, title, str(exc.detail), request, headers=headers)


_TITLES = {
    400: "Bad request",
    401: "Unauthorized",
    404: "Not found",
    405: "Method not allowed",
    413: "Content too large",
}


def not_json(request: Request, error: Any) -> JSONResponse:
    """400: the body is not JSON at all (the OpenAPI document's 400), saying where it broke."""
    if error["type"] == "json_invalid":
        at = error["loc"][-1] if len(error["loc"]) > 1 else 0
        reason = f"not valid JSON: {(error.get('ctx') or {}).get('error', 'malformed')} at character {at}"
    else:
        reason = f"not JSON (Content-Type {request.headers.get('content-type', 'missing')}); send application/json"
    return problem(400, "Bad request", f"body: {reason}", request, errors=[{"field": "body", "problem": reason}])


def _unreadable(error: Any) -> bool:
    """Malformed JSON, or a body FastAPI did not read as JSON (another Content-Type)."""
    return bool(
        error["type"] == "json_invalid" or (tuple(error["loc"]) == ("body",) and isinstance(error.get("input"), bytes))
    )


def too_large(request: Request, max_bytes: int) -> JSONResponse:
    """413: the body is over the size limit; the connection is closed, the rest unread."""
    return problem(413, "Content too large", too_large_detail(max_bytes), request, headers={"Connection": "close"})


def too_large_detail(max_bytes: int) -> str:
    return f"the request body is over the limit of {max_bytes:,} bytes"


def _field(loc: Any) -> str:
    """``gpus``, ``steps.0.gpus``, ``query.after``; ``body`` for the body as a whole."""
    parts = [str(p) for p in loc[1:]] if loc and loc[0] == "body" else [str(p) for p in loc]
    return ".".join(parts) or "body"


def _allowed_methods(request: Request) -> str:
    """The methods the OpenAPI document gives this request's path, as an ``Allow`` value
    (Starlette's own ``Allow`` names only the first route that matched the path). The most
    specific paths win: ``/v1/leases/quote`` is not ``/v1/leases/{lease_id}``."""
    paths: dict[str, dict[str, Any]] = request.app.openapi().get("paths", {})
    matching = [t for t in paths if compile_path(t)[0].fullmatch(request.url.path)]
    fewest = min((t.count("{") for t in matching), default=0)
    methods = {m.upper() for t in matching if t.count("{") == fewest for m in paths[t] if m.upper() in _METHODS}
    if "GET" in methods:
        methods.add("HEAD")
    return ", ".join(sorted(methods))


_METHODS = {"GET", "PUT", "POST", "DELETE", "PATCH", "OPTIONS", "HEAD", "TRACE"}


def _field_problem(text: str) -> dict[str, str]:
    field, sep, rest = text.partition(": ")
    return {"field": field, "problem": rest} if sep else {"field": "", "problem": text}
