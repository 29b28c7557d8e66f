"""Reading the cost model's assumptions files: the shipped defaults and an operator's overrides.

The pure core parses text (:func:`neocloud.economics.assumptions.parse_assumptions`); this
module only finds and reads the files. Nothing is written.
"""

from __future__ import annotations

from importlib import resources
from pathlib import Path

from neocloud.domain.errors import FieldError
from neocloud.economics.assumptions import Assumptions, AssumptionsError, parse_assumptions

#: The shipped defaults, versioned by the month of the reference they copy.
SHIPPED = "assumptions-2026-11.toml"


def shipped_text() -> str:
    """The text of the shipped defaults file (package data of ``neocloud.economics``)."""
    return (resources.files("neocloud.economics") / "data" / SHIPPED).read_text(encoding="utf-8")


def shipped_assumptions() -> Assumptions:
    """The shipped defaults, parsed."""
    return parse_assumptions(shipped_text(), origin=SHIPPED)


def load_assumptions(override: Path | None = None) -> Assumptions:
    """The shipped defaults with the operator's ``override`` file (any subset of keys) laid
    over them. Raises :class:`AssumptionsError` naming the file for an unreadable or invalid one."""
    base = shipped_assumptions()
    if override is None:
        return base
    try:
        text = override.read_text(encoding="utf-8")
    except (OSError, UnicodeDecodeError) as exc:
        raise AssumptionsError([FieldError(str(override), "", f"cannot read: {exc}")]) from None
    return base.overridden_by(parse_assumptions(text, origin=str(override), partial=True))
