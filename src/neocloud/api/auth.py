"""Bearer API keys -> the principal of a request."""

from __future__ import annotations

from typing import Annotated

from fastapi import Depends, Request
from fastapi.concurrency import run_in_threadpool

from neocloud.api.problems import Forbidden
from neocloud.domain.access import Principal
from neocloud.leasing.engine import RequestError
from neocloud.services.container import Services


async def services(request: Request) -> Services:
    """The app's services (a coroutine: FastAPI runs it without a thread hop)."""
    found: Services = request.app.state.services
    return found


async def principal(request: Request) -> Principal:
    """The caller, from ``Authorization: Bearer nc_<id>_<secret>``; 401 without a valid key.

    On the event loop when the key cache knows the key; a key that must be read from the
    store is looked up on a worker thread, so the loop never waits on the database."""
    header = request.headers.get("authorization", "")
    scheme, _, token = header.partition(" ")
    keys = (await services(request)).keys
    given = token.strip() if scheme.lower() == "bearer" else None
    cached = keys.authenticate_cached(given)
    found = cached if cached is not None else await run_in_threadpool(keys.authenticate, given)
    request.state.principal = found
    return found


async def operator(who: Annotated[Principal, Depends(principal)]) -> Principal:
    """Only the operator; a tenant key gets 403."""
    if not who.is_operator:
        raise Forbidden("this needs an operator key")
    return who


def acting_tenant(who: Principal, asked: str | None) -> str:
    """The tenant a lease is booked for: a tenant key books for its own (naming
    another tenant is refused, not silently ignored)."""
    if not who.is_operator:
        if asked is not None and asked != who.tenant:
            raise RequestError([f"tenant: this key books for {who.tenant!r} only; leave tenant out or name it"])
        return who.tenant or ""
    if not asked:
        raise RequestError(["tenant: required with an operator key"])
    return asked


ServicesDep = Annotated[Services, Depends(services)]
PrincipalDep = Annotated[Principal, Depends(principal)]
OperatorDep = Annotated[Principal, Depends(operator)]
