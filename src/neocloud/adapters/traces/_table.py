"""Streaming a trace CSV row by row, with precise errors.

Every reader goes through :func:`read_table`: it opens the file (through gzip when the
name ends in ``.gz``, as the inventory importers do: ``importers._csv.open_text``),
checks the header, and yields one :class:`Row` per non-blank data line as the csv
reader reaches it; nothing is listed first. Columns are found by header name (spaces
around names stripped, a UTF-8 BOM ignored), extra columns are ignored, and a row's
problem raises :class:`TraceError` at once, naming the file, the row (the physical
line, the header being row 1) and the column: rows before it have been yielded.
"""

from __future__ import annotations

import csv
import math
import zlib
from collections.abc import Iterator, Sequence
from pathlib import Path
from typing import NoReturn

from neocloud.adapters.importers._csv import open_text, read_problem
from neocloud.domain.errors import TraceError


class Row:
    """One data row: typed reads of its cells, each failing with the row and column."""

    __slots__ = ("_file", "_index", "_values", "line")

    def __init__(self, file: str, line: int, values: list[str], index: dict[str, int]) -> None:
        self._file = file
        self.line = line
        self._values = values
        self._index = index

    def has(self, column: str) -> bool:
        """Whether the file has ``column`` (an optional one)."""
        return column in self._index

    def raw(self, column: str) -> str:
        """The stripped cell (``""`` when the row is shorter than the header)."""
        return self._values[self._index[column]].strip()

    def text(self, column: str) -> str:
        """A non-empty cell."""
        value = self._values[self._index[column]].strip()
        if not value:
            self.fail(column, "empty value")
        return value

    def optional_text(self, column: str) -> str | None:
        """The cell, or ``None`` when it is empty or the file has no such column."""
        if column not in self._index:
            return None
        return self.raw(column) or None

    def count(self, column: str) -> int:
        """A whole number >= 0 (``8`` or ``8.0``)."""
        value = self._values[self._index[column]].strip()
        return int(value) if value.isdigit() else self._whole(column, value)

    def seconds(self, column: str) -> float:
        """A finite number >= 0 (sub-second values kept)."""
        value = self._values[self._index[column]].strip()
        try:
            number = float(value)
        except ValueError:
            self.fail(column, f"{value!r} is not a number" if value else "empty value")
        if not 0 <= number < math.inf:  # also refuses NaN
            self.fail(column, f"{value!r} is negative" if number < 0 else f"{value!r} is not a finite number")
        return number

    def optional_seconds(self, column: str) -> float | None:
        """:meth:`seconds`, or ``None`` when the cell is empty or the column absent."""
        if column not in self._index or not self.raw(column):
            return None
        return self.seconds(column)

    def fail(self, column: str, problem: str) -> NoReturn:
        """Raise the row's :class:`TraceError` for ``column``."""
        raise TraceError(self._file, f"row {self.line}, column {column!r}", problem)

    def _whole(self, column: str, value: str) -> int:
        if not value:
            self.fail(column, "empty value")
        try:
            number = float(value)
        except ValueError:
            number = math.nan
        if not math.isfinite(number) or not number.is_integer():
            self.fail(column, f"{value!r} is not a whole number")
        if number < 0:
            self.fail(column, f"{value!r} is negative")
        return int(number)


def read_table(path: Path, required: Sequence[str], optional: Sequence[str] = ()) -> Iterator[Row]:
    """The data rows of the trace CSV at ``path``, as the reader reaches them.

    The header must have every ``required`` column; ``optional`` ones are read when
    present (:meth:`Row.has`). Raises :class:`TraceError` for a missing or unreadable
    file, a missing column (naming those expected and those found), a file without a
    header or without a data row, and through :class:`Row` for a bad cell.
    """
    file = str(path)
    try:
        with open_text(path) as fh:
            reader = csv.reader(fh)
            header = next(reader, None)
            index = _header(file, header, required, optional)
            width = len(header or ())
            rows = 0
            for values in reader:
                cells = values if len(values) >= width else values + [""] * (width - len(values))  # short row
                if not "".join(cells).strip():
                    continue
                rows += 1
                yield Row(file, reader.line_num, cells, index)
            if rows == 0:
                raise TraceError(file, "", "empty file: a header but no data rows")
    except (OSError, UnicodeDecodeError, EOFError, zlib.error, csv.Error) as exc:
        problem = read_problem(exc)
        if problem is None:
            raise
        raise TraceError(file, "", problem) from None


def _header(file: str, header: list[str] | None, required: Sequence[str], optional: Sequence[str]) -> dict[str, int]:
    expected = ", ".join(repr(c) for c in required)
    if header is None:
        raise TraceError(file, "", f"empty file; expected a header with columns {expected}")
    names = [h.strip() for h in header]
    missing = [c for c in required if c not in names]
    if missing:
        found = ", ".join(repr(n) for n in names)
        what = "column" if len(missing) == 1 else "columns"
        shown = ", ".join(repr(c) for c in missing)
        raise TraceError(file, "row 1", f"missing {what} {shown}; expected {expected}; found {found}")
    return {c: names.index(c) for c in (*required, *optional) if c in names}
