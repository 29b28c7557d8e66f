"""Domain errors. Edges (CLI, API) map them to exit codes and HTTP problems."""

from __future__ import annotations

from dataclasses import dataclass


class DomainError(Exception):
    """A rule of the domain was broken; the message says which and why."""


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
