"""Stored studies: a keep-vs-lease study or a sweep as a durable record (issue 13 section 5).

A study is created ``running`` with the inputs it was asked for and the work it has
to do (``total``: fractions or points), moves its ``done`` count on as the work
progresses, and ends once: ``done`` with its result document, or ``failed`` with the
error. A finished study never changes (the stores refuse a second finish, and the
database refuses any change to a finished row). Names are unique: a name says what
the study is about, and ``--save NAME`` twice is a mistake, not a new version.
"""

from __future__ import annotations

import math
import re
from collections.abc import Mapping
from dataclasses import dataclass
from enum import StrEnum
from typing import Any

from neocloud.domain.errors import DomainError, RequestError

#: A study's name: what ``--save NAME`` and the API's ``name`` accept [D: the charset
#: of a path segment and a shell word, so a name is a URL part and a CLI argument
#: without quoting; 100 characters is a title, not a document].
NAME = re.compile(r"[A-Za-z0-9][A-Za-z0-9._-]{0,99}")


class StudyKind(StrEnum):
    KEEP_VS_LEASE = "keep-vs-lease"
    SWEEP = "sweep"


class StudyStatus(StrEnum):
    RUNNING = "running"
    DONE = "done"
    FAILED = "failed"


class StudyExists(DomainError):
    """A study of that name is stored already (the store's unique name refused a second)."""


class StudyFinished(DomainError):
    """The study is done or failed already: a finished study is written once."""


@dataclass(frozen=True, slots=True)
class Study:
    """One stored study. ``inputs`` is the command's options (or the API's payload) as
    a document; ``result`` is set once, when it is done; ``error`` when it failed."""

    id: str
    kind: StudyKind
    name: str
    actor: str
    inputs: Mapping[str, Any]
    status: StudyStatus
    done: int
    total: int
    created_s: int
    finished_s: int | None = None
    error: str | None = None
    result: Mapping[str, Any] | None = None

    @property
    def progress(self) -> float:
        """The share of the work done, 0 to 1."""
        return 1.0 if self.status is StudyStatus.DONE else (self.done / self.total if self.total else 0.0)


def check_name(name: str, field: str = "name") -> None:
    """Raise :class:`RequestError` naming ``field`` unless ``name`` is a study name."""
    if not NAME.fullmatch(name):
        rule = "1-100 of letters, digits, '.', '_', '-'; a letter or digit first"
        raise RequestError([f"{field}: {name[:120]!r} is not a study name ({rule})"])


def plain(value: Any) -> Any:
    """``value`` as a JSON document every store keeps bit for bit: tuples as lists,
    a float that is not finite (a mean over no finished job) as ``None``."""
    if isinstance(value, float):
        return value if math.isfinite(value) else None
    if isinstance(value, Mapping):
        return {str(k): plain(v) for k, v in value.items()}
    if isinstance(value, list | tuple):
        return [plain(v) for v in value]
    return value
