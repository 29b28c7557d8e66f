"""Rate-card files (YAML, TOML or JSON) and the JSON the stores keep a price-book version as.

One document shape for all three (the stored JSON is the same, with amounts as strings)::

    currency: USD            # optional (default USD): the currency of every amount
    note: "why this version"
    on_demand: [{model: H100, rate: "3.99"}]
    reserved:  [{model: H100, base: "3.99", discounts: [{min_term_days: 365, discount: "0.411"}]}]
    spot:      [{model: H100, discount: "0.60", eviction_notice_s: 1800}]
    wholesale: [{model: H100, per_gpu_month: "1030.625", ramp: [{month: 1, discount: "0.5"}]}]
    # or, for a wholesale unit:  {model: GB200, monthly_fee: "97000", unit_gpus: 72}

Loading is all-or-nothing: every structural problem and every rule of
:func:`neocloud.economics.pricebook.book_problems` is collected and raised together as
:class:`SpecError`, each naming the file and the field (``reserved[0].discounts[2].discount``).
"""

from __future__ import annotations

import json
import tomllib
from decimal import Decimal, InvalidOperation
from pathlib import Path
from typing import Any

import yaml

from neocloud.domain.errors import FieldError, SpecError
from neocloud.domain.money import Money
from neocloud.economics.pricebook import (
    OnDemandCard,
    PriceBook,
    RampStep,
    RateCards,
    ReservedCard,
    SpotCard,
    TermDiscount,
    WholesaleCard,
    book_problems,
)

MAX_FILE_BYTES = 1 << 20
TIERS = ("wholesale", "reserved", "on_demand", "spot")
_TOP = {"currency", "note", *TIERS}


def load_rate_cards(path: Path) -> tuple[RateCards, str]:
    """The cards and the note of a rate-card file (by suffix: .yaml/.yml, .toml, .json)."""
    name = str(path)
    try:
        if path.stat().st_size > MAX_FILE_BYTES:
            raise SpecError([FieldError(name, "", f"larger than {MAX_FILE_BYTES:,} bytes")])
        text = path.read_text(encoding="utf-8")
    except (OSError, UnicodeDecodeError) as e:
        raise SpecError([FieldError(name, "", f"cannot read: {e}")]) from None
    return parse_rate_cards(text, name, path.suffix.lower())


def parse_rate_cards(text: str, file: str, suffix: str) -> tuple[RateCards, str]:
    """Parse ``text`` as the rate-card document its ``suffix`` names; checked in full."""
    try:
        if suffix in {".yaml", ".yml"}:
            data = yaml.safe_load(text)
        elif suffix == ".toml":
            data = tomllib.loads(text)
        elif suffix == ".json":
            data = json.loads(text)
        else:
            raise SpecError([FieldError(file, "", f"unknown suffix {suffix!r}; give .yaml, .yml, .toml or .json")])
    except (yaml.YAMLError, tomllib.TOMLDecodeError, json.JSONDecodeError) as e:
        raise SpecError([FieldError(file, "", f"not valid {suffix.lstrip('.').upper()}: {e}")]) from None
    return cards_from_document(data, file)


def cards_from_document(data: Any, file: str) -> tuple[RateCards, str]:
    """The cards and note of a parsed document (a file's, or an API body's), checked in full."""
    reader = _Reader(file)
    cards, note = reader.document(data)
    if reader.errors:
        raise SpecError(reader.errors)
    problems = [_field(file, p) for p in book_problems(cards)]
    if problems:
        raise SpecError(problems)
    return cards, note


def cards_to_json(cards: RateCards) -> dict[str, Any]:
    """The stored form of a version's cards (amounts as strings, exact)."""
    return {
        "currency": cards.currency,
        "wholesale": [_wholesale_json(c) for c in cards.wholesale],
        "reserved": [
            {
                "model": c.model,
                "base": _money(c.base),
                "discounts": [{"min_term_days": r.min_term_days, "discount": str(r.discount)} for r in c.discounts],
            }
            for c in cards.reserved
        ],
        "on_demand": [{"model": c.model, "rate": _money(c.rate)} for c in cards.on_demand],
        "spot": [
            {"model": c.model, "discount": str(c.discount), "eviction_notice_s": c.eviction_notice_s}
            for c in cards.spot
        ],
    }


def cards_from_json(data: Any) -> RateCards:
    """The cards as stored by :func:`cards_to_json` (a stored version is never invalid)."""
    reader = _Reader("stored price book")
    cards, _ = reader.document(data)
    if reader.errors:
        raise SpecError(reader.errors)
    return cards


def book_json(book: PriceBook) -> dict[str, Any]:
    """A whole version, for ``--json`` output and the API."""
    return {
        "version": book.version,
        "effective_s": book.effective_s,
        "author": book.author,
        "note": book.note,
        "created_s": book.created_s,
        "cards": cards_to_json(book.cards),
    }


def _wholesale_json(c: WholesaleCard) -> dict[str, Any]:
    out: dict[str, Any] = {"model": c.model}
    if c.per_gpu_month is not None:
        out["per_gpu_month"] = _money(c.per_gpu_month)
    if c.monthly_fee is not None:
        out["monthly_fee"] = _money(c.monthly_fee)
        out["unit_gpus"] = c.unit_gpus
    out["ramp"] = [{"month": r.month, "discount": str(r.discount)} for r in c.ramp]
    return out


def _money(m: Money) -> str:
    return str(m.amount)


def _field(file: str, problem: str) -> FieldError:
    location, _, message = problem.partition(": ")
    return FieldError(file, location, message)


class _Reader:
    """Reads the document, collecting every structural problem with its path."""

    def __init__(self, file: str) -> None:
        self.file = file
        self.errors: list[FieldError] = []
        self.currency = "USD"

    def document(self, data: Any) -> tuple[RateCards, str]:
        if not isinstance(data, dict):
            self._bad("", "the document must be a mapping of tiers (wholesale, reserved, on_demand, spot)")
            return RateCards(), ""
        for key in data:
            if key not in _TOP:
                self._bad(str(key), f"unknown field; expected one of {', '.join(sorted(_TOP))}")
        currency = data.get("currency", "USD")
        if not (isinstance(currency, str) and len(currency) == 3 and currency.isascii() and currency.isupper()):
            self._bad("currency", "a 3-letter ISO 4217 code such as USD")
        else:
            self.currency = currency
        note = data.get("note", "")
        if not isinstance(note, str):
            self._bad("note", "must be text")
            note = ""
        groups = {tier: self._list(data, tier, tier) for tier in TIERS}
        return (
            RateCards(
                wholesale=tuple(self._each(groups["wholesale"], "wholesale", self._wholesale)),
                reserved=tuple(self._each(groups["reserved"], "reserved", self._reserved)),
                on_demand=tuple(self._each(groups["on_demand"], "on_demand", self._on_demand)),
                spot=tuple(self._each(groups["spot"], "spot", self._spot)),
            ),
            note,
        )

    def _each(self, items: list[Any], path: str, read: Any) -> list[Any]:
        out = []
        for k, item in enumerate(items):
            where = f"{path}[{k}]"
            if not isinstance(item, dict):
                self._bad(where, "must be a mapping")
                continue
            card = read(item, where)
            if card is not None:
                out.append(card)
        return out

    def _on_demand(self, d: dict[str, Any], at: str) -> OnDemandCard | None:
        self._only(d, at, {"model", "rate"})
        model, rate = self._model(d, at), self._amount(d, at, "rate")
        return None if model is None or rate is None else OnDemandCard(model, rate)

    def _reserved(self, d: dict[str, Any], at: str) -> ReservedCard | None:
        self._only(d, at, {"model", "base", "discounts"})
        model, base = self._model(d, at), self._amount(d, at, "base")
        rows = []
        for k, row in enumerate(self._list(d, "discounts", f"{at}.discounts")):
            where = f"{at}.discounts[{k}]"
            if not isinstance(row, dict):
                self._bad(where, "must be a mapping with min_term_days and discount")
                continue
            self._only(row, where, {"min_term_days", "discount"})
            days, off = self._int(row, where, "min_term_days"), self._fraction(row, where, "discount")
            if days is not None and off is not None:
                rows.append(TermDiscount(days, off))
        return None if model is None or base is None else ReservedCard(model, base, tuple(rows))

    def _spot(self, d: dict[str, Any], at: str) -> SpotCard | None:
        self._only(d, at, {"model", "discount", "eviction_notice_s"})
        model, off = self._model(d, at), self._fraction(d, at, "discount")
        notice = self._int(d, at, "eviction_notice_s")
        return None if model is None or off is None or notice is None else SpotCard(model, off, notice)

    def _wholesale(self, d: dict[str, Any], at: str) -> WholesaleCard | None:
        self._only(d, at, {"model", "per_gpu_month", "monthly_fee", "unit_gpus", "ramp"})
        model = self._model(d, at)
        per_gpu = self._amount(d, at, "per_gpu_month") if "per_gpu_month" in d else None
        fee = self._amount(d, at, "monthly_fee") if "monthly_fee" in d else None
        unit_gpus = self._int(d, at, "unit_gpus") if "unit_gpus" in d else None
        ramp = []
        for k, row in enumerate(self._list(d, "ramp", f"{at}.ramp")):
            where = f"{at}.ramp[{k}]"
            if not isinstance(row, dict):
                self._bad(where, "must be a mapping with month and discount")
                continue
            self._only(row, where, {"month", "discount"})
            month, off = self._int(row, where, "month"), self._fraction(row, where, "discount")
            if month is not None and off is not None:
                ramp.append(RampStep(month, off))
        if model is None:
            return None
        return WholesaleCard(model, per_gpu, fee, unit_gpus, tuple(ramp))

    # -- fields --------------------------------------------------------------------
    def _list(self, d: dict[str, Any], key: str, path: str) -> list[Any]:
        value = d.get(key, [])
        if not isinstance(value, list):
            self._bad(path, "must be a list")
            return []
        return value

    def _only(self, d: dict[str, Any], at: str, allowed: set[str]) -> None:
        for key in d:
            if key not in allowed:
                self._bad(f"{at}.{key}", f"unknown field; expected {', '.join(sorted(allowed))}")

    def _model(self, d: dict[str, Any], at: str) -> str | None:
        model = d.get("model")
        if not isinstance(model, str) or not model.strip():
            self._bad(f"{at}.model", "give the GPU model (such as H100)")
            return None
        return model

    def _number(self, d: dict[str, Any], at: str, key: str) -> Decimal | None:
        if key not in d:
            self._bad(f"{at}.{key}", "missing")
            return None
        value = d[key]
        if isinstance(value, bool) or not isinstance(value, (str, int, float)):
            self._bad(f"{at}.{key}", f"{value!r} is not a number")
            return None
        text = str(value).strip()
        if isinstance(value, str):
            parts = text.split()
            if len(parts) == 2 and parts[1] == self.currency:
                text = parts[0]
            elif len(parts) == 2:
                self._bad(f"{at}.{key}", f"{value!r}: the currency must be the document's ({self.currency})")
                return None
        try:
            number = Decimal(text)
        except InvalidOperation:
            self._bad(f"{at}.{key}", f"{value!r} is not a number")
            return None
        if not number.is_finite():
            self._bad(f"{at}.{key}", f"{value!r} is not a finite number")
            return None
        return number

    def _amount(self, d: dict[str, Any], at: str, key: str) -> Money | None:
        number = self._number(d, at, key)
        return None if number is None else Money(number, self.currency)

    def _fraction(self, d: dict[str, Any], at: str, key: str) -> Decimal | None:
        return self._number(d, at, key)

    def _int(self, d: dict[str, Any], at: str, key: str) -> int | None:
        value = d.get(key)
        if key not in d:
            self._bad(f"{at}.{key}", "missing")
            return None
        if isinstance(value, bool) or not isinstance(value, int):
            self._bad(f"{at}.{key}", f"{value!r} is not a whole number")
            return None
        return value

    def _bad(self, location: str, message: str) -> None:
        self.errors.append(FieldError(self.file, location, message))
