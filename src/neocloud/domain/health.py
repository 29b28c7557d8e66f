"""Node health: the states, the legal transitions as a table, and the history.

The table is data (STYLE habit 5): one function validates an edge, stamps the time
and appends the history; tests walk the table.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime
from enum import StrEnum

from neocloud.domain.errors import DomainError


class Health(StrEnum):
    """The health of a node. Only ``healthy`` nodes count as deliverable capacity."""

    HEALTHY = "healthy"
    DEGRADED = "degraded"
    FAILED = "failed"
    MAINTENANCE = "maintenance"
    RETIRED = "retired"


H = Health

#: States in which a node serves nothing: a lease holding one is short of it.
DOWN = frozenset({H.FAILED, H.MAINTENANCE, H.RETIRED})

#: Legal transitions, each with why it exists. Anything absent is refused.
TRANSITIONS: dict[tuple[Health, Health], str] = {
    (H.HEALTHY, H.DEGRADED): "a GPU, NVLink or NIC reports errors but the node still runs",
    (H.HEALTHY, H.FAILED): "the node stops serving (GPU fell off the bus, host down)",
    (H.HEALTHY, H.MAINTENANCE): "planned work: firmware, drain for repair, inspection",
    (H.DEGRADED, H.HEALTHY): "the fault cleared (reset, remap) and checks pass",
    (H.DEGRADED, H.FAILED): "the degradation became a hard failure",
    (H.DEGRADED, H.MAINTENANCE): "drained to fix the degradation",
    (H.FAILED, H.HEALTHY): "recovered in place (reboot, reseat) and checks pass",
    (H.FAILED, H.MAINTENANCE): "taken in for repair or part replacement",
    (H.FAILED, H.RETIRED): "beyond repair",
    (H.MAINTENANCE, H.HEALTHY): "work done and burn-in passed: back in service",
    (H.MAINTENANCE, H.DEGRADED): "back in service with a known, tolerated fault",
    (H.MAINTENANCE, H.FAILED): "burn-in or repair failed",
    (H.MAINTENANCE, H.RETIRED): "decommissioned during maintenance",
}


@dataclass(frozen=True, slots=True)
class HealthTransition:
    """One recorded change of a node's health."""

    node_id: str
    from_state: Health
    to_state: Health
    at: datetime
    reason: str


@dataclass(frozen=True, slots=True)
class HealthRecord:
    """One line of a node's stored health log: from ``at_s`` (epoch seconds) the node
    was ``state``, and why. What it was before is the previous record's state, or
    healthy before the first (a node is healthy until a record says otherwise)."""

    node: str
    at_s: int
    state: Health
    reason: str


class IllegalTransition(DomainError):
    """A health change that the transition table does not allow."""


def transition(
    node_id: str,
    current: Health,
    target: Health,
    *,
    at: datetime,
    reason: str,
    history: tuple[HealthTransition, ...] = (),
) -> tuple[Health, tuple[HealthTransition, ...]]:
    """Move ``current`` to ``target`` at ``at``; return the new state and history.

    Raises :class:`IllegalTransition` naming the node and both states when the table
    has no such edge (a retired node never comes back; a failed node goes through
    maintenance or repair, never straight to degraded).
    """
    problem = transition_problem(node_id, current, target)
    if problem is not None:
        raise IllegalTransition(problem)
    if at.tzinfo is None:
        raise ValueError("transition time must be timezone-aware (UTC)")
    record = HealthTransition(node_id, current, target, at, reason)
    return target, (*history, record)


def transition_problem(node_id: str, current: Health, target: Health) -> str | None:
    """Why the table refuses ``current -> target`` (naming the moves it allows), or ``None``."""
    if (current, target) in TRANSITIONS:
        return None
    allowed = sorted(t.value for (f, t) in TRANSITIONS if f is current)
    return (
        f"node {node_id!r}: cannot go from {current.value} to {target.value}; "
        f"allowed from {current.value}: {', '.join(allowed) or 'none (terminal state)'}"
    )


#: How far back a health change may be dated unless the operator configures otherwise:
#: three days, so a failure found after a weekend is recorded from when it happened.
#: Anything older has been reported as delivered capacity and is not rewritten.
DEFAULT_BACKDATE_S = 3 * 86_400


def health_time_problems(at_s: int, now_s: int, max_backdate_s: int = DEFAULT_BACKDATE_S) -> list[str]:
    """What is wrong with ``at_s`` as the time of a health change recorded at ``now_s``:
    never in the future (the node's state now would not be what it is), and at most
    ``max_backdate_s`` in the past."""
    if at_s > now_s:
        return [f"at: {_iso(at_s)} is in the future (now {_iso(now_s)}); record a health change once it happened"]
    if at_s < now_s - max_backdate_s:
        earliest = _iso(now_s - max_backdate_s)
        return [f"at: {_iso(at_s)} is more than {_span(max_backdate_s)} ago; the earliest allowed now is {earliest}"]
    return []


class OutOfOrderHealth(IllegalTransition):
    """A health change dated before the node's latest record, or before the fleet was
    loaded: a node's history only grows at its end, so a late report may not rewrite it."""


def report_order_problem(node_id: str, at_s: int, last: tuple[int, Health] | None, loaded_s: int) -> str | None:
    """Why a change of ``node_id`` dated ``at_s`` cannot be recorded, or ``None``.

    ``last`` is the node's latest record ``(at_s, state)``; a change may be dated at or
    after it (records at the same second keep the order written), and never before
    ``loaded_s``, when the fleet was loaded (the node has no history before)."""
    if at_s < loaded_s:
        return f"node {node_id!r}: at {_iso(at_s)} is before the fleet was loaded ({_iso(loaded_s)})"
    if last is not None and last[0] > at_s:
        when, state = last
        return (
            f"node {node_id!r}: at {_iso(at_s)} is before its latest health record "
            f"({state.value} at {_iso(when)}); a change may be dated from then on"
        )
    return None


def _iso(t_s: int) -> str:
    return datetime.fromtimestamp(t_s, UTC).strftime("%Y-%m-%dT%H:%M:%SZ")


def _span(seconds: int) -> str:
    if seconds % 86_400 == 0:
        days = seconds // 86_400
        return f"{days} day{'s' if days != 1 else ''}"
    hours = seconds / 3600
    return f"{hours:g} hour{'s' if hours != 1 else ''}"
