"""The pure rules for what people type in: tenant names, notes, prices, terms, dates,
counts and request shapes. Each returns problems naming the field; empty means fine."""

from __future__ import annotations

import string
from dataclasses import replace
from decimal import Decimal

import pytest
from hypothesis import given
from hypothesis import strategies as st

from neocloud.domain.health import DEFAULT_BACKDATE_S, health_time_problems
from neocloud.domain.leases import (
    MAX_GPUS,
    MAX_HORIZON_S,
    MAX_SPARES,
    MAX_STEPS,
    LeaseRequest,
    SparePolicy,
    Step,
    Terms,
    horizon_problems,
    requested_shape,
    terms_problems,
    validate_request,
)
from neocloud.domain.money import MAX_PRICE_PER_GPU_HOUR, Money, price_problems
from neocloud.domain.names import TENANT_NAME_MAX, key_label_problems, note_problems, tenant_name_problems
from neocloud.domain.shape import Locality, Shape, Unit

NOW = 1_800_000_000  # 2027-01-15
DAY = 86_400
TENANT_CHARS = string.ascii_letters + string.digits + "-_."
tenant_names = st.text(TENANT_CHARS, min_size=1, max_size=TENANT_NAME_MAX).filter(
    lambda s: s[0].isalnum() and s[-1].isalnum()
)


def a_request(**changes: object) -> LeaseRequest:
    base = LeaseRequest("acme", Shape(("H100",), gpus=8), NOW + DAY, NOW + 30 * DAY, Money(Decimal("2.35")))
    return replace(base, **changes)  # type: ignore[arg-type]


# -- tenant names -------------------------------------------------------------------------
@given(tenant_names)
def test_any_name_of_the_documented_alphabet_and_length_is_accepted(name: str) -> None:
    assert tenant_name_problems(name) == []


@given(st.text(max_size=TENANT_NAME_MAX + 20))
def test_an_accepted_name_is_plain_ascii_trimmed_and_bounded(name: str) -> None:
    if tenant_name_problems(name) == []:
        assert name.isascii()
        assert name.isprintable()
        assert name == name.strip()
        assert " " not in name
        assert 1 <= len(name) <= TENANT_NAME_MAX


@given(tenant_names, st.data())
def test_a_case_twin_of_an_existing_name_is_refused(name: str, data: st.DataObject) -> None:
    twin = "".join(data.draw(st.sampled_from([c.lower(), c.upper()])) for c in name)
    problems = tenant_name_problems(twin, {"other", name})
    assert len(problems) == 1
    assert problems[0].startswith("name: tenant ")
    assert "already exists" in problems[0]


@pytest.mark.parametrize(
    ("name", "problem"),
    [
        ("", "must not be empty"),
        (" acme", "starts or ends with whitespace"),
        ("acme\n", "starts or ends with whitespace"),
        ("ac me", "contains U+0020 (SPACE)"),
        ("acme\x00", "contains U+0000"),
        ("acme\u202egnp.exe", "contains U+202E (RIGHT-TO-LEFT OVERRIDE)"),
        ("аcme", "contains 'а'"),  # Cyrillic a
        ("-acme", "must start and end with a letter or a digit"),
        ("x" * 100_000, "100,000 characters; at most 63"),
    ],
)
def test_a_bad_tenant_name_is_refused_saying_why(name: str, problem: str) -> None:
    [found] = tenant_name_problems(name)
    assert found.startswith("name: ")
    assert problem in found
    assert len(found) < 200  # a 100,000-character name is not echoed back


def test_the_message_of_a_case_twin_names_the_stored_spelling() -> None:
    assert tenant_name_problems("ACME", {"acme"}) == [
        "name: tenant 'ACME' already exists as 'acme' (names are unique regardless of case)"
    ]
    assert tenant_name_problems("acme", {"acme"}) == ["name: tenant 'acme' already exists"]


# -- notes ---------------------------------------------------------------------------------
@pytest.mark.parametrize(
    ("label", "problem"),
    [
        ("x" * 200_000, "200,000 characters; at most 100"),
        ("ci\nrunner", "contains U+000A"),
        ("ci\u200drunner", "contains U+200D (ZERO WIDTH JOINER)"),
        ("ci\u2028", "contains U+2028 (LINE SEPARATOR)"),
        (" ci", "starts or ends with whitespace"),
    ],
)
def test_a_bad_key_label_is_refused_saying_why(label: str, problem: str) -> None:
    [found] = key_label_problems(label)
    assert found.startswith("label: ")
    assert problem in found


@pytest.mark.parametrize("label", ["", "ci", "Zürich build runner", "运维 key", "x" * 100])
def test_a_key_label_may_be_any_printable_text_up_to_its_length(label: str) -> None:
    assert key_label_problems(label) == []


@given(st.text(max_size=120))
def test_an_accepted_note_is_printable_and_bounded(text: str) -> None:
    if note_problems("reason", text, 100) == []:
        assert len(text) <= 100
        assert all(c.isprintable() or c == " " for c in text) or not text
        assert text == text.strip()


# -- prices and terms ----------------------------------------------------------------------
@pytest.mark.parametrize(
    ("price", "problem"),
    [
        (Money(Decimal(0)), "0 USD is out of range"),
        (Money(Decimal("1E+308")), "1E+308 USD is out of range"),
        (Money(Decimal("1E+999")), "1E+999 USD is out of range"),
        (Money(MAX_PRICE_PER_GPU_HOUR + 1), "is out of range"),
        (Money(Decimal("2.12345")), "more than 4 decimal places, the precision of a USD rate"),
        (Money(Decimal("1E-30")), "more than 4 decimal places"),
        (Money(Decimal("300.125"), "JPY"), "more than 2 decimal places, the precision of a JPY rate"),
    ],
)
def test_an_operator_price_is_bounded_and_has_its_currency_precision(price: Money, problem: str) -> None:
    [found] = price_problems(price)
    assert found.startswith("price: ")
    assert problem in found
    assert len(found) < 200  # never a 300-digit number


@pytest.mark.parametrize(
    "price",
    [Money(Decimal("2.35")), Money(Decimal("2.4975")), Money(Decimal("2.3500000")), Money(Decimal("320"), "JPY")],
)
def test_real_prices_are_accepted(price: Money) -> None:
    assert price_problems(price) == []
    assert price_problems(Money(MAX_PRICE_PER_GPU_HOUR)) == []


@pytest.mark.parametrize(
    ("sla", "problem"),
    [("0", "above 0 and at most 100"), ("100.5", "above 0 and at most 100"), ("99.9999", "more than 3 decimal")],
)
def test_an_sla_is_a_percentage_with_at_most_three_decimals(sla: str, problem: str) -> None:
    [found] = terms_problems(Terms(sla_availability_pct=Decimal(sla)))
    assert found.startswith("sla: ")
    assert problem in found
    assert terms_problems(Terms(sla_availability_pct=Decimal("99.999"))) == []


def test_the_default_terms_are_valid() -> None:
    assert terms_problems(Terms()) == []


# -- dates ---------------------------------------------------------------------------------
def test_a_lease_ending_beyond_the_ten_year_horizon_is_refused() -> None:
    far = a_request(end_s=NOW + MAX_HORIZON_S + 1)
    [problem] = validate_request(far, NOW)
    assert problem.startswith("end: ")
    assert "more than 10 years ahead" in problem
    assert validate_request(a_request(end_s=NOW + MAX_HORIZON_S), NOW) == []
    year_9999 = 253_370_764_800
    assert validate_request(a_request(start_s=year_9999 - DAY, end_s=year_9999), NOW)[0].startswith("start: ")


def test_the_horizon_names_the_field_it_checks_and_the_latest_date() -> None:
    [problem] = horizon_problems("end", NOW + 11 * 365 * DAY, NOW)
    assert problem.startswith("end: 2038-01-")
    assert "the latest allowed is 2037-01-" in problem
    assert horizon_problems("end", NOW + DAY, NOW) == []


def test_a_health_change_may_not_be_dated_in_the_future() -> None:
    [problem] = health_time_problems(NOW + 1, NOW)
    assert problem.startswith("at: 2027-01-15T08:00:01Z is in the future")
    assert health_time_problems(NOW, NOW) == []


def test_a_health_change_may_be_dated_back_only_within_the_window() -> None:
    assert health_time_problems(NOW - DEFAULT_BACKDATE_S, NOW) == []
    [problem] = health_time_problems(NOW - DEFAULT_BACKDATE_S - 1, NOW)
    assert "is more than 3 days ago" in problem
    assert problem.startswith("at: ")
    assert health_time_problems(0, NOW)[0].startswith("at: 1970-01-01T00:00:00Z is more than 3 days ago")
    assert health_time_problems(NOW - 3600, NOW, max_backdate_s=1800)[0].endswith("2027-01-15T07:30:00Z")


# -- counts --------------------------------------------------------------------------------
@pytest.mark.parametrize(
    ("changes", "field"),
    [
        ({"shape": Shape(("H100",), gpus=MAX_GPUS + 8)}, "gpus: "),
        ({"shape": Shape(("H100",), unit=Unit.NODE, units=10**18)}, "units: "),
        ({"steps": tuple(Step(NOW + DAY + k + 1, 8) for k in range(MAX_STEPS + 1))}, "steps: "),
        ({"steps": (Step(NOW + 2 * DAY, 2**63),)}, "steps[0].gpus: "),
        ({"spares": SparePolicy("block", MAX_SPARES + 1)}, "spares.count: "),
    ],
)
def test_every_count_of_a_request_has_an_upper_bound(changes: dict[str, object], field: str) -> None:
    problems = validate_request(a_request(**changes), NOW)
    assert [p for p in problems if p.startswith(field)], problems


# -- shapes --------------------------------------------------------------------------------
@pytest.mark.parametrize(
    ("fields", "problem"),
    [
        ({"gpus": 8, "whole_site": "west"}, "gpus, whole_site: give only one of"),
        ({"gpus": 8, "unit": Unit.BLOCK}, "gpus, unit: give only one of"),
        ({"unit": Unit.BLOCK, "whole_site": "west"}, "unit, whole_site: give only one of"),
        ({"gpus": 8, "units": 2}, "units: only with unit"),
        ({"whole_site": "west", "site": "east"}, "site, whole_site: "),
    ],
)
def test_contradicting_shape_fields_are_named_together(fields: dict[str, object], problem: str) -> None:
    found = requested_shape(("H100",), **fields)  # type: ignore[arg-type]
    assert isinstance(found, list)
    assert any(p.startswith(problem) for p in found), found


def test_a_whole_site_is_every_model_of_the_site_unless_models_narrow_it() -> None:
    assert requested_shape((), whole_site="west") == Shape(("*",), unit=Unit.SITE, units=1, site="west")
    assert requested_shape(("H100",), whole_site="west") == Shape(("H100",), unit=Unit.SITE, site="west")
    assert requested_shape(("H100",), gpus=8, locality=Locality.BLOCK) == Shape(
        ("H100",), gpus=8, locality=Locality.BLOCK
    )
    assert requested_shape(("H100",), unit=Unit.BLOCK, units=2) == Shape(("H100",), unit=Unit.BLOCK, units=2)
