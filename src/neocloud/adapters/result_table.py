"""Result tables (a sweep's rows) as CSV, or as Parquet when the name ends in
``.parquet`` and pyarrow is installed (``pip install 'neocloud[parquet]'``).

Both are written to a temporary file beside the target and renamed, so a failed
write leaves no partial table.
"""

from __future__ import annotations

import csv
from collections.abc import Mapping, Sequence
from pathlib import Path

Value = int | float | str | None


def is_parquet(path: Path) -> bool:
    return path.suffix.lower() == ".parquet"


def parquet_ready() -> bool:
    """Whether pyarrow's Parquet writer can be imported."""
    try:
        import pyarrow.parquet  # noqa: F401
    except ImportError:
        return False
    return True


def write_rows(path: Path, columns: Sequence[str], rows: Sequence[Mapping[str, Value]]) -> None:
    """``rows`` (each with every one of ``columns``) to ``path``: Parquet for a
    ``.parquet`` name, CSV otherwise (a header, then one line per row)."""
    temp = path.with_name(f".{path.name}.partial")
    try:
        if is_parquet(path):
            _parquet(temp, columns, rows)
        else:
            with temp.open("w", newline="") as out:
                writer = csv.DictWriter(out, fieldnames=list(columns), extrasaction="raise")
                writer.writeheader()
                writer.writerows(rows)
        temp.replace(path)
    finally:
        temp.unlink(missing_ok=True)


def read_rows(path: Path) -> list[dict[str, str]]:
    """A CSV result table's rows as text (for tests and scripts)."""
    with path.open(newline="") as source:
        return list(csv.DictReader(source))


def _parquet(path: Path, columns: Sequence[str], rows: Sequence[Mapping[str, Value]]) -> None:
    import pyarrow as pa
    import pyarrow.parquet as pq

    table = pa.table({name: [row[name] for row in rows] for name in columns})
    pq.write_table(table, path)
