"""A cap on the size of request bodies, counted as the bytes arrive."""

from __future__ import annotations

from starlette.exceptions import HTTPException
from starlette.requests import Request
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from neocloud.api import problems

#: 1 MiB. The largest request the API takes, a lease with the most steps allowed
#: (520), is about 25 KB of JSON; a megabyte leaves room and keeps a parse short.
DEFAULT_MAX_BODY_BYTES = 1 << 20


class BodyTooLarge(HTTPException):
    """Raised from ``receive`` once a body passes the limit. FastAPI passes HTTP
    exceptions on while it reads a body, so the problem handlers answer it as 413."""

    def __init__(self, max_bytes: int) -> None:
        super().__init__(413, problems.too_large_detail(max_bytes), headers={"Connection": "close"})


class BodyLimit:
    """ASGI middleware: a request whose body is over ``max_bytes`` gets a 413 problem.

    A declared ``Content-Length`` over the limit is refused before one byte of the body
    is read. Otherwise (a chunked body, or a length that understates the body) the bytes
    are counted as they stream in and the request is refused as soon as the count
    passes the limit: at most ``max_bytes`` and one chunk are ever read. The rest is
    never read; the 413 closes the connection.
    """

    def __init__(self, app: ASGIApp, max_bytes: int = DEFAULT_MAX_BODY_BYTES) -> None:
        if max_bytes < 0:
            raise ValueError("max_bytes must not be negative")
        self.app = app
        self.max_bytes = max_bytes

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        declared = _content_length(scope)
        if declared is not None and declared > self.max_bytes:
            await self._refuse(scope, receive, send)
            return
        received = 0
        started = False

        async def counting() -> Message:
            nonlocal received
            message = await receive()
            if message["type"] == "http.request":
                received += len(message.get("body", b""))
                if received > self.max_bytes:
                    raise BodyTooLarge(self.max_bytes)
            return message

        async def sending(message: Message) -> None:
            nonlocal started
            started = started or message["type"] == "http.response.start"
            await send(message)

        try:
            await self.app(scope, counting, sending)
        except BodyTooLarge:
            if started:
                raise
            await self._refuse(scope, receive, send)

    async def _refuse(self, scope: Scope, receive: Receive, send: Send) -> None:
        response = problems.too_large(Request(scope), self.max_bytes)
        await response(scope, receive, send)


def _content_length(scope: Scope) -> int | None:
    """The declared length, or ``None`` when absent or not a number (then it is counted)."""
    for name, value in scope.get("headers", ()):
        if name == b"content-length":
            text = value.decode("latin-1").strip()
            if not (text.isascii() and text.isdigit()):
                return None
            return int(text) if len(text) < 20 else 2**64
    return None
