"""Rendered answers of read routes, reused while the ledger's state has not changed.

A read of the leases or of availability is a pure function of the ledger's state as
of now (``LeasingService.read_token``: the store version plus what the clock moved)
and of the request (the caller's scope and its parameters). The cache keeps the
rendered bytes of recent reads for the current token only: a new token (any write,
here or in another process, or the clock moving a lease) empties it, so an answer is
never older than the state it was rendered from. Bounded: at most ``size`` answers.
"""

from __future__ import annotations

import threading
from collections.abc import Callable, Hashable

from fastapi import Request, Response

from neocloud.services.container import Services

READ_CACHE_SIZE = 256


class ReadCache:
    def __init__(self, size: int = READ_CACHE_SIZE) -> None:
        self.size = size
        self._token: Hashable = None
        self._answers: dict[Hashable, bytes] = {}
        self._lock = threading.Lock()

    def get(self, token: Hashable, key: Hashable, render: Callable[[], bytes]) -> bytes:
        """The answer rendered for ``key`` at ``token``, rendering it on a miss."""
        with self._lock:
            if token != self._token:
                self._token, self._answers = token, {}
            found = self._answers.get(key)
        if found is not None:
            return found
        answer = render()
        with self._lock:
            if token == self._token:
                if len(self._answers) >= self.size:
                    self._answers.clear()
                self._answers[key] = answer
        return answer


def cached(request: Request, svc: Services, key: Hashable, render: Callable[[], bytes]) -> Response:
    """A JSON read answered from the app's cache while the ledger's state is unchanged."""
    cache: ReadCache = request.app.state.read_cache
    body = cache.get(svc.leasing.read_token(), key, render)
    return Response(body, media_type="application/json")
