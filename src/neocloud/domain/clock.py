"""Time is a parameter: every "now" comes from a Clock passed in.

This is the only module allowed to read the wall clock (ruff bans it elsewhere).
Instants in the core are integer seconds since the Unix epoch, UTC.
"""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Protocol


class Clock(Protocol):
    def now(self) -> datetime:
        """The current instant, timezone-aware UTC."""
        ...


class SystemClock:
    """The wall clock."""

    def now(self) -> datetime:
        return datetime.now(UTC)  # noqa: TID251 - the one place that reads the wall clock


class ManualClock:
    """A clock that moves only when told: tests, the simulator, demos."""

    def __init__(self, start: datetime) -> None:
        self._now = _aware(start)

    def now(self) -> datetime:
        return self._now

    def advance(self, seconds: float = 0.0, **delta: float) -> datetime:
        self._now += timedelta(seconds=seconds, **delta)
        return self._now

    def set(self, instant: datetime) -> None:
        self._now = _aware(instant)


def to_s(instant: datetime) -> int:
    """Seconds since the epoch of an aware datetime."""
    return int(_aware(instant).timestamp())


def from_s(seconds: int) -> datetime:
    return datetime.fromtimestamp(seconds, UTC)


def _aware(instant: datetime) -> datetime:
    if instant.tzinfo is None:
        raise ValueError(f"{instant.isoformat()} has no time zone; neocloud works in UTC")
    return instant.astimezone(UTC)
