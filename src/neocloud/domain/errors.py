"""Domain errors. Edges (CLI, API) map them to exit codes and HTTP problems.

A refusal carries its facts as fields (times, ids, counts), not only as prose: the
message is a template over ``facts`` and each edge renders it (:meth:`DomainError.render`)
with its own time format, so no message ever shows epoch seconds. ``private`` is what
only the operator may read (other tenants' holders); edges show it to the operator
only, so a refusal to a tenant says what blocks it without naming who.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any


class Instant(int):
    """Seconds since the epoch (UTC), marked so that messages render it as a time."""


def minutes_utc(t_s: int) -> str:
    """``2027-05-30 00:00 UTC``: how an instant reads in a message by default."""
    return datetime.fromtimestamp(t_s, UTC).strftime("%Y-%m-%d %H:%M UTC")


class DomainError(Exception):
    """A rule of the domain was broken; the message says which and why.

    ``message`` may name ``{fields}`` of ``facts``; :class:`Instant` facts render as
    times. ``private`` (a template over the same facts) adds what only the operator
    may see.
    """

    def __init__(self, message: str = "", /, *, private: str | None = None, **facts: object) -> None:
        self.template = message
        self.private = private
        self.facts = facts
        super().__init__(message)

    def render(self, instant: Callable[[int], str] = minutes_utc, *, operator: bool = True) -> str:
        """The message with facts filled in; the private part only for the ``operator``."""
        text = self._fill(self.template, instant)
        if operator and self.private:
            text = f"{text} ({self._fill(self.private, instant)})"
        return text

    def public_facts(self) -> dict[str, object]:
        """The facts as plain values (instants as seconds), without private ones."""
        return {k: v for k, v in self.facts.items() if not k.startswith("_")}

    def __str__(self) -> str:
        return self.render(operator=False)

    def __reduce__(self) -> tuple[Any, ...]:
        """Pickled as its type, its args and its attributes, whatever its ``__init__``
        takes: an error raised in a worker process or a Ray task reaches the command
        that started it as itself (pickle's default calls ``__init__(*args)``, which a
        subclass with its own arguments, such as :class:`TraceError`, refuses)."""
        return (_rebuilt, (type(self), self.args, dict(self.__dict__)))

    def _fill(self, template: str, instant: Callable[[int], str]) -> str:
        if not self.facts:
            return template
        values = {k: instant(v) if isinstance(v, Instant) else v for k, v in self.facts.items()}
        return template.format(**values)


def _rebuilt(cls: type[DomainError], args: tuple[object, ...], state: dict[str, object]) -> DomainError:
    error = cls.__new__(cls)
    Exception.__init__(error, *args)
    error.__dict__.update(state)
    return error


class RequestError(DomainError):
    """A request with invalid fields; ``problems`` names each field and what is wrong."""

    def __init__(self, problems: list[str]) -> None:
        self.problems = problems
        super().__init__("; ".join(problems))


class NotFound(DomainError):
    """No such lease or node (for a tenant: not one of theirs)."""


@dataclass(frozen=True, slots=True)
class FieldError:
    """One problem in an input file: where it is and what is wrong.

    ``file`` is the file's path as given; ``location`` a path inside it such as
    ``sites[0].pods[3].blocks[1].nodes[7].gpu_model`` or, for a table,
    ``row 17, column gpu_model``.
    """

    file: str
    location: str
    message: str

    def __str__(self) -> str:
        where = f"{self.file}: {self.location}" if self.location else self.file
        return f"{where}: {self.message}"


class SpecError(DomainError):
    """An input file is invalid. Carries every problem found, not just the first."""

    def __init__(self, errors: list[FieldError]) -> None:
        self.errors = errors
        head = f"{len(errors)} error{'s' if len(errors) != 1 else ''}"
        super().__init__(head + ":\n" + "\n".join(f"  {e}" for e in errors))


class TraceError(DomainError, ValueError):
    """A workload trace file cannot be read.

    Trace readers stream, so the error is the first problem met, not a list: the
    file, where in it (``row 17, column 'size'``: the physical line, the header
    being row 1, as in the inventory importers) and what is wrong.
    """

    def __init__(self, file: str, location: str, problem: str) -> None:
        self.error = FieldError(file, location, problem)
        super().__init__(str(self.error))
