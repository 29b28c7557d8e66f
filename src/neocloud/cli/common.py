"""Shared CLI plumbing: bad input exits 2 with a precise message on stderr."""

from __future__ import annotations

import os
import re
import sys
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import UTC, datetime

import typer
from rich.console import Console

from neocloud.domain.billing import InvoiceRuleError
from neocloud.domain.changes import StoreError
from neocloud.domain.errors import DomainError, SpecError
from neocloud.domain.leases import LeaseRuleError
from neocloud.domain.ledger import BookingConflict
from neocloud.leasing.engine import NotFound, RequestError, Unplaceable
from neocloud.services.fleet import UnknownFormat

EXIT_BAD_INPUT = 2
EXIT_REFUSED = 3
MAX_ERRORS_SHOWN = 50
DEFAULT_DB = "sqlite:///neocloud.db"
# Piped or redirected, a table is as wide as its widest values: no column is ever cut.
UNBOUNDED_COLUMNS = 1_000_000
#: Human output fits this many columns, piped or on a wider terminal (project rule).
HUMAN_COLUMNS = 80
_TRAILING = re.compile(r"[ \t]+(?=\n)")


class _StripTrailing:
    """Standard output (looked up on each write, as Rich does) without the spaces Rich
    pads table lines with before a newline: piped text then ends where its words do."""

    def write(self, text: str) -> int:
        return sys.stdout.write(_TRAILING.sub("", text))

    def flush(self) -> None:
        sys.stdout.flush()

    def isatty(self) -> bool:
        return False


def stdout_console() -> Console:
    """The console for standard output. On a terminal, tables fit its width (and may
    wrap or shorten a cell). Piped or redirected, every value is printed whole: Rich
    would otherwise assume 80 columns (or the width of a terminal on stdin or stderr)
    and cut values to ``confirm…``. ``COLUMNS`` does not narrow piped output."""
    if _is_terminal(sys.stdout):
        return Console()
    return Console(width=UNBOUNDED_COLUMNS, file=_StripTrailing())  # type: ignore[arg-type]


def human_width(console: Console) -> int:
    """The width a command's tables are laid out in: the terminal's, at most 80 columns;
    piped, 80 columns too (cells wrap or fold there, never cut)."""
    return min(console.width, HUMAN_COLUMNS)


def _is_terminal(stream: object) -> bool:
    isatty = getattr(stream, "isatty", None)
    try:
        return bool(isatty and isatty())
    except ValueError:  # closed
        return False


err = Console(stderr=True)


@contextmanager
def bad_input() -> Iterator[None]:
    """Turn domain and input errors into a message on stderr and exit code 2."""
    try:
        yield
    except SpecError as exc:
        shown = exc.errors[:MAX_ERRORS_SHOWN]
        err.print(
            f"[red]error[/]: {len(exc.errors)} problem{'s' if len(exc.errors) != 1 else ''} found", highlight=False
        )
        for e in shown:
            err.print(f"  {e}", markup=False, highlight=False, soft_wrap=True)
        if len(exc.errors) > len(shown):
            err.print(f"  ... and {len(exc.errors) - len(shown)} more", highlight=False)
        raise typer.Exit(EXIT_BAD_INPUT) from None
    except RequestError as exc:
        err.print(f"[red]error[/]: {len(exc.problems)} problem(s) in the request", highlight=False)
        for problem in exc.problems:
            err.print(f"  {problem}", markup=False, highlight=False, soft_wrap=True)
        raise typer.Exit(EXIT_BAD_INPUT) from None
    except NotFound as exc:
        err.print("[red]error[/]: ", end="", highlight=False)
        err.print(exc.render(iso_z), markup=False, highlight=False, soft_wrap=True)
        raise typer.Exit(EXIT_BAD_INPUT) from None
    except (Unplaceable, LeaseRuleError, BookingConflict, InvoiceRuleError) as exc:
        err.print("[red]refused[/]: ", end="", highlight=False)
        err.print(exc.render(iso_z), markup=False, highlight=False, soft_wrap=True)
        raise typer.Exit(EXIT_REFUSED) from None
    except StoreError as exc:
        err.print("[red]error[/]: ", end="", highlight=False)
        err.print(str(exc), markup=False, highlight=False, soft_wrap=True)
        raise typer.Exit(EXIT_BAD_INPUT) from None
    except (DomainError, UnknownFormat) as exc:
        err.print("[red]error[/]: ", end="", highlight=False)
        message = exc.render(iso_z) if isinstance(exc, DomainError) else str(exc)
        err.print(message, markup=False, highlight=False, soft_wrap=True)
        raise typer.Exit(EXIT_BAD_INPUT) from None
    except OSError as exc:  # unreadable input, unwritable output: name the file and the reason
        where = f"{exc.filename}: " if exc.filename else ""
        err.print("[red]error[/]: ", end="", highlight=False)
        err.print(f"{where}{exc.strerror or exc}", highlight=False, soft_wrap=True, markup=False)
        raise typer.Exit(EXIT_BAD_INPUT) from None


def iso_z(t_s: int) -> str:
    """How the CLI writes an instant in a message: ISO 8601 UTC, ``2027-01-01T00:00:00Z``."""
    return datetime.fromtimestamp(t_s, UTC).isoformat().replace("+00:00", "Z")


def parse_settings(items: list[str]) -> dict[str, str]:
    """``["a=1", "b=x"]`` -> ``{"a": "1", "b": "x"}``; a malformed item exits 2."""
    out: dict[str, str] = {}
    for item in items:
        key, sep, value = item.partition("=")
        if not sep or not key.strip():
            err.print(f"[red]error[/]: --set {item!r}: expected key=value", highlight=False)
            raise typer.Exit(EXIT_BAD_INPUT)
        out[key.strip()] = value.strip()
    return out


_DATE = re.compile(r"^\d{4}-\d{2}-\d{2}$")


def parse_time(option: str, text: str) -> datetime:
    """``YYYY-MM-DD`` (midnight UTC) or an ISO 8601 date-time (UTC unless an offset is given)."""
    value = text.strip()
    try:
        parsed = datetime.fromisoformat(value.replace("Z", "+00:00"))
    except ValueError:
        err.print(
            f"[red]error[/]: {option} {text!r}: not a date; use YYYY-MM-DD or YYYY-MM-DDTHH:MM[:SS][Z|+HH:MM]",
            highlight=False,
            soft_wrap=True,
        )
        raise typer.Exit(EXIT_BAD_INPUT) from None
    if _DATE.match(value) or parsed.tzinfo is None:
        parsed = parsed.replace(tzinfo=UTC)
    return parsed.astimezone(UTC)


def db_url(option: str | None) -> str:
    """The database URL: ``--db``, else ``NEOCLOUD_DB``, else a SQLite file here."""
    return option or os.environ.get("NEOCLOUD_DB") or DEFAULT_DB


def actor_name(option: str | None) -> str:
    return option or os.environ.get("NEOCLOUD_ACTOR") or f"cli:{os.environ.get('USER', 'unknown')}"
