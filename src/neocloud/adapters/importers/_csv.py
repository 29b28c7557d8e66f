"""Reading inventory CSVs by schema, with every row problem collected.

Readers find columns by header name (spaces around names are stripped, a UTF-8 BOM
is ignored), accept extra columns in any order, and read ``.gz`` files through
gzip. Row numbers are line numbers, the header being line 1. Problems in rows are
collected in :class:`RowErrors` and raised together as one :class:`SpecError`; a
missing file, an unreadable one or a header without a required column stops the
read at once.
"""

from __future__ import annotations

import csv
import gzip
import math
import re
import zlib
from collections.abc import Iterator, Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import IO

from neocloud.domain.errors import FieldError, SpecError

_MEMORY = re.compile(r"^(\d+(?:\.\d+)?)\s*(?:GB|GiB|G)?$", re.IGNORECASE)


@dataclass(frozen=True, slots=True)
class Row:
    """One data row: its line number and the stripped value of each asked-for column."""

    line: int
    cells: Mapping[str, str]


class RowErrors:
    """Problems found in the rows of one file, raised together by :meth:`raise_if_any`."""

    __slots__ = ("errors", "file")

    def __init__(self, path: Path) -> None:
        self.file = str(path)
        self.errors: list[FieldError] = []

    def add(self, line: int, column: str, problem: str) -> None:
        self.errors.append(FieldError(self.file, f"row {line}, column {column}", problem))

    def fail(self, problem: str) -> None:
        """A problem with the file as a whole."""
        self.errors.append(FieldError(self.file, "", problem))

    def raise_if_any(self) -> None:
        if self.errors:
            raise SpecError(list(self.errors))


def read_rows(path: Path, columns: Sequence[str]) -> Iterator[Row]:
    """The non-blank data rows of the CSV at ``path``, restricted to ``columns``.

    Raises :class:`SpecError` when the file is missing or unreadable, or when its
    header lacks one of ``columns``. A row shorter than the header gives ``""`` for
    the values it lacks.
    """
    file = str(path)
    try:
        with open_text(path) as fh:
            reader = csv.reader(fh)
            index = _header_index(file, next(reader, None), columns)
            for values in reader:
                if all(not v.strip() for v in values):
                    continue
                cells = {c: values[i].strip() if i < len(values) else "" for c, i in index.items()}
                yield Row(reader.line_num, cells)
    except (OSError, UnicodeDecodeError, EOFError, zlib.error, csv.Error) as exc:
        problem = read_problem(exc)
        if problem is None:
            raise
        raise SpecError([FieldError(file, "", problem)]) from None


def read_problem(exc: BaseException) -> str | None:
    """What went wrong reading a CSV file, in words, or ``None`` when ``exc`` is no read problem.

    Shared with the workload trace readers (``neocloud.adapters.traces``).
    """
    if isinstance(exc, FileNotFoundError):
        return "file not found"
    if isinstance(exc, IsADirectoryError):
        return "is a directory, not a CSV file"
    if isinstance(exc, UnicodeDecodeError):
        return f"not UTF-8 text: {exc.reason}"
    if isinstance(exc, gzip.BadGzipFile | EOFError | zlib.error):
        return f"not a readable gzip file: {exc}"
    if isinstance(exc, OSError):
        return f"cannot read: {exc.strerror or exc}"
    if isinstance(exc, csv.Error):
        return f"malformed CSV: {exc}"
    return None


def open_text(path: Path) -> IO[str]:
    """The text of ``path`` (UTF-8, a BOM ignored), through gzip when its name ends in ``.gz``."""
    if path.name.endswith(".gz"):
        return gzip.open(path, "rt", encoding="utf-8-sig", newline="")
    return path.open(encoding="utf-8-sig", newline="")


def _header_index(file: str, header: list[str] | None, columns: Sequence[str]) -> dict[str, int]:
    if header is None:
        wanted = ", ".join(columns)
        raise SpecError([FieldError(file, "row 1", f"empty file; expected a header with columns {wanted}")])
    names = [h.strip() for h in header]
    missing = [c for c in columns if c not in names]
    if missing:
        shown = ", ".join(repr(n) for n in names)
        raise SpecError(
            [FieldError(file, f"row 1, column {c}", f"missing column; the header has {shown}") for c in missing]
        )
    return {c: names.index(c) for c in columns}


def text(row: Row, column: str, errors: RowErrors) -> str | None:
    """The value of ``column``, or ``None`` (and an error) when it is empty."""
    value = row.cells[column]
    if not value:
        errors.add(row.line, column, "empty value")
        return None
    return value


def count(row: Row, column: str, errors: RowErrors) -> int | None:
    """A whole number >= 0 (``8`` or ``8.0``), or ``None`` (and an error)."""
    value = text(row, column, errors)
    if value is None:
        return None
    try:
        number = float(value)
    except ValueError:
        number = math.nan
    if not math.isfinite(number) or not number.is_integer():
        errors.add(row.line, column, f"expected a whole number, got {value!r}")
        return None
    if number < 0:
        errors.add(row.line, column, f"expected 0 or more, got {value!r}")
        return None
    return int(number)


def memory_gb(row: Row, column: str, errors: RowErrors) -> float | None:
    """A positive memory size such as ``12GB``, ``12 GB`` or ``12``, in GB; else ``None`` and an error."""
    value = text(row, column, errors)
    if value is None:
        return None
    match = _MEMORY.match(value)
    if match is None or float(match.group(1)) <= 0:
        errors.add(row.line, column, f"expected a memory size such as '12GB', got {value!r}")
        return None
    return float(match.group(1))


def unique(row: Row, column: str, value: str, seen: dict[str, int], errors: RowErrors) -> bool:
    """Record ``value`` as seen on this row; ``False`` (and an error) if an earlier row had it."""
    first = seen.get(value)
    if first is not None:
        errors.add(row.line, column, f"duplicate {value!r} (first at row {first})")
        return False
    seen[value] = row.line
    return True
