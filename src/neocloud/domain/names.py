"""Names and notes people type in: tenant names, API key labels, health reasons.

A **tenant name** is an identifier. It appears in every table, URL and filter, on
invoices, and may become an account or namespace name elsewhere (Slurm, Kubernetes),
so it is kept plain:

- ASCII letters, digits, ``-``, ``_`` and ``.``, starting and ending with a letter or
  digit (no spaces or padding, no NUL, newlines or right-to-left overrides, no
  look-alike letters from other scripts);
- 1 to 63 characters (the length of a DNS label, RFC 1123);
- unique regardless of case: ``Acme`` and ``acme`` would be one customer twice.

A **note** (a key's label, the reason of a health change) is text for people: any
script and plain spaces, but no control or format characters (NUL, tabs, newlines,
bidirectional overrides, zero-width joiners) or other kinds of space, no leading or
trailing whitespace, and a bounded length.

Each rule returns the problems it finds, ``"field: what is wrong"``, empty when the
value is fine; the services that store these values call them, so the CLI and the
API refuse the same things with the same words.
"""

from __future__ import annotations

import re
import unicodedata
from collections.abc import Iterable

TENANT_NAME_MAX = 63
KEY_LABEL_MAX = 100
REASON_MAX = 200
_TENANT_CHARS = re.compile(r"[A-Za-z0-9._-]*")
_SHOWN = 40  # characters of a bad value quoted back in a message


def tenant_name_problems(name: str, existing: Iterable[str] = ()) -> list[str]:
    """What is wrong with ``name`` as a new tenant's name, next to the ``existing`` ones."""
    shape = _tenant_shape(name)
    if shape:
        return [f"name: {shape}"]
    twin = next((t for t in existing if t.lower() == name.lower()), None)
    if twin == name:
        return [f"name: tenant {name!r} already exists"]
    if twin is not None:
        return [f"name: tenant {name!r} already exists as {twin!r} (names are unique regardless of case)"]
    return []


def note_problems(field: str, text: str, max_chars: int) -> list[str]:
    """What is wrong with ``text`` as a note of at most ``max_chars`` characters."""
    if len(text) > max_chars:
        return [f"{field}: {len(text):,} characters; at most {max_chars}"]
    bad = next((c for c in text if _invisible(c)), None)
    if bad is not None:
        return [f"{field}: contains {_codepoint(bad)}; control and format characters are not allowed"]
    if text != text.strip():
        return [f"{field}: starts or ends with whitespace"]
    return []


def key_label_problems(label: str) -> list[str]:
    return note_problems("label", label, KEY_LABEL_MAX)


def reason_problems(reason: str) -> list[str]:
    return note_problems("reason", reason, REASON_MAX)


def _tenant_shape(name: str) -> str | None:
    if not name:
        return "must not be empty"
    if len(name) > TENANT_NAME_MAX:
        return f"{len(name):,} characters; at most {TENANT_NAME_MAX}"
    if name != name.strip():
        return f"{_shown(name)} starts or ends with whitespace"
    if not _TENANT_CHARS.fullmatch(name):
        bad = next(c for c in name if not _TENANT_CHARS.fullmatch(c))
        return f"{_shown(name)} contains {_codepoint(bad)}; use ASCII letters, digits, '-', '_' and '.'"
    if not (name[0].isalnum() and name[-1].isalnum()):
        return f"{_shown(name)} must start and end with a letter or a digit"
    return None


def _invisible(c: str) -> bool:
    """Control, format, surrogate, private-use and unassigned characters, and every
    separator but the plain space (line and paragraph separators, no-break and other
    spaces): what ``str.isprintable`` refuses."""
    return not c.isprintable() and c != " "


def _codepoint(c: str) -> str:
    name = unicodedata.name(c, "")
    return f"U+{ord(c):04X}" + (f" ({name})" if name else "") if not c.isprintable() or c == " " else repr(c)


def _shown(text: str) -> str:
    return repr(text) if len(text) <= _SHOWN else repr(text[:_SHOWN]) + "..."
