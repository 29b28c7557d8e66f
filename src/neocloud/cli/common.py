"""Shared CLI plumbing: bad input exits 2 with a precise message on stderr."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager

import typer
from rich.console import Console

from neocloud.domain.errors import DomainError, SpecError
from neocloud.services.fleet import UnknownFormat

err = Console(stderr=True)
EXIT_BAD_INPUT = 2
MAX_ERRORS_SHOWN = 50


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
    except (DomainError, UnknownFormat) as exc:
        err.print(f"[red]error[/]: {exc}", highlight=False, soft_wrap=True)
        raise typer.Exit(EXIT_BAD_INPUT) from None
    except OSError as exc:  # unreadable input, unwritable output: name the file and the reason
        where = f"{exc.filename}: " if exc.filename else ""
        err.print("[red]error[/]: ", end="", highlight=False)
        err.print(f"{where}{exc.strerror or exc}", highlight=False, soft_wrap=True, markup=False)
        raise typer.Exit(EXIT_BAD_INPUT) from None


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
