"""Typed, sourced assumptions for the cost model, and their parser.

Every value is a :class:`Sourced`: the number, the tag of its source in
``../shared/reference/economics.md`` (``R7``, or ``D`` for a value we derived, with the
derivation in ``note``), and the date of that source. Values are ``Decimal`` whatever
their unit, so the money arithmetic in :mod:`neocloud.economics.cost` never meets a float.

Layers, later wins (most specific wins):

1. global values (financing, lives, PUE, electricity, facility capex, failures, opex);
2. the fleet file's site data (``Site.pue``, ``Site.electricity_usd_per_kwh``), where present;
3. operator overrides per site;
4. per-GPU-model values (capex per GPU, IT and all-in kW per GPU, TDP): the shipped
   defaults with the operator's per-model overrides on top;
5. operator overrides per site and model.

An assumptions file is TOML (parsed here from text the caller read; reading the file is
the shell's job)::

    version = "2026-11"
    currency = "USD"
    [global.pue]
    value = 1.25
    source = "R9"
    date = "2024"
    [model.H100.capex_per_gpu_usd]
    value = 50000
    source = "R7"
    date = "2024-08"
    [site."colossus-1".electricity_usd_per_kwh]   # a site override
    [site."colossus-1".model.H100.capex_per_gpu_usd]   # a site + model override

An override file has the same shape and may give only some keys (``version`` and
``currency`` may be left out); :meth:`Assumptions.overridden_by` lays it over the defaults.
"""

from __future__ import annotations

import tomllib
from collections.abc import Mapping
from dataclasses import dataclass, field
from decimal import Decimal, InvalidOperation
from types import MappingProxyType
from typing import TypeVar

from neocloud.domain.errors import FieldError, SpecError


@dataclass(frozen=True, slots=True)
class Sourced:
    """One assumption: ``value`` with its ``source`` tag (``R7``, ``R20 R21``, ``D``, or an
    operator's own words in an override file) and the ``date`` of that source."""

    value: Decimal
    source: str
    date: str
    note: str = ""

    @property
    def tag(self) -> str:
        """``[R7] (2024-08)``: how a value cites itself in tables and docs."""
        tags = " ".join(f"[{t}]" for t in self.source.split())
        return f"{tags} ({self.date})"


@dataclass(frozen=True, slots=True)
class Bound:
    """What a key holds: its unit and the closed or half-open range of legal values."""

    unit: str
    low: Decimal
    high: Decimal
    low_open: bool = False
    integer: bool = False

    def problem(self, value: Decimal) -> str | None:
        """Why ``value`` is out of range (``None`` when it is fine)."""
        below = value <= self.low if self.low_open else value < self.low
        if below or value > self.high:
            left = "(" if self.low_open else "["
            return f"{value} is out of range {left}{self.low}, {self.high}] ({self.unit})"
        if self.integer and value != value.to_integral_value():
            return f"{value} must be a whole number ({self.unit})"
        return None


def _b(unit: str, low: str, high: str, *, low_open: bool = False, integer: bool = False) -> Bound:
    return Bound(unit, Decimal(low), Decimal(high), low_open, integer)


#: Keys that hold for a whole site or fleet (and may be overridden per site or model).
GLOBAL_KEYS: Mapping[str, Bound] = MappingProxyType(
    {
        "cost_of_debt": _b("fraction per year", "0", "1"),
        "cost_of_equity": _b("fraction per year", "0", "1"),
        "debt_share": _b("fraction of capital", "0", "1"),
        "economic_life_years": _b("years", "0", "30", low_open=True),
        "depreciation_years_book": _b("years", "0", "30", low_open=True),
        "facility_life_years": _b("years", "0", "60", low_open=True),
        "pue": _b("facility power / IT power", "1", "3"),
        "electricity_usd_per_kwh": _b("USD per kWh", "0", "10"),
        "average_draw_fraction": _b("average / maximum IT draw", "0", "1", low_open=True),
        "facility_capex_usd_per_mw_it": _b("USD per MW of IT load", "0", "1000000000"),
        "network_share_of_cluster_capex": _b("fraction of hardware capex", "0", "1"),
        "unexpected_interrupts_per_gpu_hour": _b("per GPU-hour", "0", "1"),
        "hw_share_of_interrupts": _b("fraction", "0", "1"),
        "replacement_share_of_hw_failures": _b("fraction", "0", "1"),
        "replaced_part_share_of_capex": _b("fraction of capex per GPU", "0", "1"),
        "other_opex_usd_per_mw_it_year": _b("USD per MW of IT load per year", "0", "1000000000"),
    }
)

#: Keys that belong to one GPU model.
MODEL_KEYS: Mapping[str, Bound] = MappingProxyType(
    {
        "capex_per_gpu_usd": _b("USD per GPU, server + fabric", "0", "10000000", low_open=True),
        "it_kw_per_gpu": _b("kW of IT load per GPU", "0", "100", low_open=True),
        "all_in_kw_per_gpu": _b("kW per GPU incl. facility overhead", "0", "100", low_open=True),
        "tdp_w": _b("W", "0", "100000", low_open=True),
    }
)

_ENTRY_FIELDS = frozenset({"value", "source", "date", "note"})
_TOP_KEYS = frozenset({"version", "currency", "global", "model", "site"})

Layer = Mapping[str, Sourced]
_K = TypeVar("_K")


class AssumptionsError(SpecError):
    """An assumptions file is invalid; every problem names the file, the key path and what
    is wrong. Nothing is applied when this is raised."""


@dataclass(frozen=True, slots=True)
class Assumptions:
    """The layers of the cost model's inputs, as parsed. Look values up with :meth:`resolve`."""

    version: str
    currency: str
    origin: str
    globals: Layer = field(default_factory=dict)
    models: Mapping[str, Layer] = field(default_factory=dict)
    sites: Mapping[str, Layer] = field(default_factory=dict)
    site_models: Mapping[tuple[str, str], Layer] = field(default_factory=dict)

    def overridden_by(self, other: Assumptions) -> Assumptions:
        """These assumptions with ``other``'s values laid over them, key by key.

        The version stays this one's, with ``+other`` appended when the override names
        one; a different currency is refused (an override cannot silently mix currencies).
        """
        if other.currency != self.currency:
            raise AssumptionsError(
                [FieldError(other.origin, "currency", f"{other.currency!r} differs from {self.currency!r}")]
            )
        return Assumptions(
            version=f"{self.version}+{other.version}" if other.version else self.version,
            currency=self.currency,
            origin=f"{self.origin} + {other.origin}",
            globals={**self.globals, **other.globals},
            models=_merge_nested(self.models, other.models),
            sites=_merge_nested(self.sites, other.sites),
            site_models=_merge_nested(self.site_models, other.site_models),
        )

    def model_names(self) -> list[str]:
        """GPU models that have values of their own, in file order."""
        return list(self.models)

    def resolve(self, model: str, site: str | None = None, site_data: Layer | None = None) -> dict[str, Sourced]:
        """Every key's value for ``model`` at ``site``. Layers, later wins: the globals,
        ``site_data`` (the fleet file's values for the site), the site's overrides, the
        model's values (defaults and overrides), the site+model's overrides.

        Model names match case-insensitively, site names exactly. Keys no layer gives are
        absent (the caller says which it needs).
        """
        out: dict[str, Sourced] = dict(self.globals)
        out.update(site_data or {})
        if site is not None:
            out.update(self.sites.get(site, {}))
        out.update(self.models.get(_find(self.models, model) or "", {}))
        if site is not None:
            for (s, m), layer in self.site_models.items():
                if s == site and m.casefold() == model.casefold():
                    out.update(layer)
        return out


def parse_assumptions(text: str, *, origin: str, partial: bool = False) -> Assumptions:
    """Parse an assumptions file's ``text``; ``origin`` names it in errors.

    A defaults file (``partial=False``) must give ``version``, ``currency`` and every
    global key; an override file (``partial=True``) may give any subset. Every entry needs
    a ``value``, a non-empty ``source`` and a ``date``. Raises :class:`AssumptionsError`
    listing every problem (unknown key, wrong type, out of range, missing source).
    """
    errors: list[FieldError] = []
    try:
        doc = tomllib.loads(text)
    except tomllib.TOMLDecodeError as exc:
        raise AssumptionsError([FieldError(origin, "", f"not valid TOML: {exc}")]) from None
    parser = _Parser(origin, errors)
    result = parser.document(doc, partial=partial)
    if errors:
        raise AssumptionsError(errors)
    return result


# -- helpers, in call order -------------------------------------------------------------------


def _merge_nested(base: Mapping[_K, Layer], over: Mapping[_K, Layer]) -> dict[_K, Layer]:
    out: dict[_K, Layer] = {k: dict(v) for k, v in base.items()}
    for k, layer in over.items():
        out[k] = {**out.get(k, {}), **layer}
    return out


def _find(models: Mapping[str, Layer], name: str) -> str | None:
    folded = name.casefold()
    return next((k for k in models if k.casefold() == folded), None)


@dataclass(slots=True)
class _Parser:
    origin: str
    errors: list[FieldError]

    def fail(self, where: str, message: str) -> None:
        self.errors.append(FieldError(self.origin, where, message))

    def document(self, doc: dict[str, object], *, partial: bool) -> Assumptions:
        for key in doc:
            if key not in _TOP_KEYS:
                self.fail(key, f"unknown key; expected one of {', '.join(sorted(_TOP_KEYS))}")
        version = self.text(doc, "version", required=not partial)
        currency = self.text(doc, "currency", required=not partial) or "USD"
        if len(currency) != 3 or not currency.isalpha() or not currency.isupper():
            self.fail("currency", f"{currency!r} is not a 3-letter ISO code such as USD")
        globals_ = self.layer(doc.get("global", {}), "global", GLOBAL_KEYS)
        if not partial:
            for key in GLOBAL_KEYS:
                if key not in globals_:
                    self.fail(f"global.{key}", "missing: a defaults file must give every global value")
        models = self.models(doc.get("model", {}), "model")
        sites, site_models = self.sites(doc.get("site", {}))
        return Assumptions(version or "", currency, self.origin, globals_, models, sites, site_models)

    def text(self, doc: dict[str, object], key: str, *, required: bool) -> str | None:
        value = doc.get(key)
        if value is None:
            if required:
                self.fail(key, "missing")
            return None
        if not isinstance(value, str) or not value.strip():
            self.fail(key, f"expected a non-empty string, got {value!r}")
            return None
        return value.strip()

    def table(self, raw: object, where: str) -> dict[str, object]:
        if not isinstance(raw, dict):
            self.fail(where, f"expected a table, got {type(raw).__name__}")
            return {}
        return raw

    def models(self, raw: object, where: str) -> dict[str, Layer]:
        out: dict[str, Layer] = {}
        for name, body in self.table(raw, where).items():
            out[name] = self.layer(body, f"{where}.{name}", {**GLOBAL_KEYS, **MODEL_KEYS})
        return out

    def sites(self, raw: object) -> tuple[dict[str, Layer], dict[tuple[str, str], Layer]]:
        sites: dict[str, Layer] = {}
        site_models: dict[tuple[str, str], Layer] = {}
        for name, body in self.table(raw, "site").items():
            table = dict(self.table(body, f"site.{name}"))
            nested = table.pop("model", {})
            sites[name] = self.layer(table, f"site.{name}", GLOBAL_KEYS)
            for model, layer in self.models(nested, f"site.{name}.model").items():
                site_models[(name, model)] = layer
        return sites, site_models

    def layer(self, raw: object, where: str, keys: Mapping[str, Bound]) -> dict[str, Sourced]:
        out: dict[str, Sourced] = {}
        for key, entry in self.table(raw, where).items():
            path = f"{where}.{key}"
            bound = keys.get(key)
            if bound is None:
                hint = " (a per-model key: put it under model.<NAME>)" if key in MODEL_KEYS else ""
                self.fail(path, f"unknown key{hint}")
                continue
            value = self.entry(entry, path, bound)
            if value is not None:
                out[key] = value
        return out

    def entry(self, raw: object, path: str, bound: Bound) -> Sourced | None:
        if not isinstance(raw, dict):
            self.fail(path, "expected a table with value, source and date, e.g. {value = 1.25, source = 'R9', ...}")
            return None
        ok = True
        for extra in sorted(set(raw) - _ENTRY_FIELDS):
            self.fail(f"{path}.{extra}", "unknown field; expected value, source, date and an optional note")
            ok = False
        value = self.number(raw.get("value"), f"{path}.value", bound)
        strings = {name: raw.get(name) for name in ("source", "date", "note")}
        for name in ("source", "date"):
            text = strings[name]
            if not isinstance(text, str) or not text.strip():
                why = "missing" if text is None else f"expected a non-empty string, got {text!r}"
                self.fail(f"{path}.{name}", f"{why}: every value names its source and date")
                ok = False
        note = strings["note"]
        if note is not None and not isinstance(note, str):
            self.fail(f"{path}.note", f"expected a string, got {note!r}")
            ok = False
        if value is None or not ok:
            return None
        return Sourced(value, str(strings["source"]).strip(), str(strings["date"]).strip(), str(note or "").strip())

    def number(self, raw: object, path: str, bound: Bound) -> Decimal | None:
        if raw is None:
            self.fail(path, "missing")
            return None
        if isinstance(raw, bool) or not isinstance(raw, int | float | str):
            self.fail(path, f"expected a number, got {type(raw).__name__} {raw!r}")
            return None
        try:
            value = Decimal(str(raw))
        except InvalidOperation:
            self.fail(path, f"expected a number, got {raw!r}")
            return None
        if not value.is_finite():
            self.fail(path, f"{raw!r} is not a finite number")
            return None
        problem = bound.problem(value)
        if problem:
            self.fail(path, problem)
            return None
        return value
