"""The demand model: seeded, at its stated rate, terms and tenants from its stated
distributions, a rate derived from an offered load; the shape text it is written in."""

from __future__ import annotations

import math

import numpy as np
import pytest

from neocloud.domain.demand import parse_shape, shape_problem
from neocloud.domain.leases import Tier
from neocloud.domain.shape import Locality, Shape, Unit
from neocloud.sim import demand_model as dm

DAY_S = 86_400


def test_the_same_seed_gives_the_same_stream_and_another_seed_another():
    model = dm.DemandModel()
    a, b = dm.generate(model, 30, 100, seed=7), dm.generate(model, 30, 100, seed=7)
    assert a == b
    assert dm.generate(model, 30, 100, seed=8) != a
    assert [r.arrival_s for r in a] == sorted(r.arrival_s for r in a)
    assert all(0 <= r.arrival_s < 100 * DAY_S for r in a)


def test_arrivals_come_at_the_stated_rate_per_day_and_class_share():
    rate, days = 40.0, 500
    stream = dm.generate(dm.DemandModel(), rate, days, seed=1)
    expected = rate * days  # Poisson: standard deviation sqrt(20,000) = 141
    assert abs(len(stream) - expected) < 5 * math.sqrt(expected)
    for cls in dm.DEFAULT_CLASSES:
        n = sum(1 for r in stream if (r.shape_text, r.tier) == (cls.shape_text, cls.tier))
        mean = expected * cls.share
        assert abs(n - mean) < 5 * math.sqrt(mean), cls


def test_terms_follow_each_tiers_stated_distribution():
    stream = dm.generate(dm.DemandModel(), 100, 365, seed=2)
    days = {t: np.array([r.term_s / DAY_S for r in stream if r.tier is t]) for t in Tier}
    hour = 1 / 24
    assert days[Tier.RESERVED].min() >= 30
    assert days[Tier.RESERVED].max() <= 1826 + hour
    assert days[Tier.WHOLESALE].min() >= 3 * 365.25
    assert days[Tier.WHOLESALE].max() <= 5 * 365.25 + hour
    assert days[Tier.ON_DEMAND].mean() == pytest.approx(7.0, rel=0.05)  # exponential, mean 7 days
    assert days[Tier.SPOT].mean() == pytest.approx(2.0, rel=0.08)
    log_mean = dm.RESERVED_TERM.mean_days  # (1826 - 30) / ln(1826 / 30) = 437 days
    assert days[Tier.RESERVED].mean() == pytest.approx(log_mean, rel=0.05)
    assert all(r.term_s % 3_600 == 0 and r.term_s > 0 for r in stream)


def test_tenants_are_drawn_from_the_stated_count():
    stream = dm.generate(dm.DemandModel(tenants=5), 50, 100, seed=4)
    assert {r.tenant for r in stream} == {"t1", "t2", "t3", "t4", "t5"}


def test_a_rate_derived_from_a_load_offers_that_load_within_the_span():
    gpus = {"8": 8, "64@block": 64, "256": 256, "block": 512}
    model, fleet_gpus, days = dm.DemandModel(), 1_000_000, 365

    def gpus_of(shape: Shape) -> float:
        return 512.0 if shape.unit is Unit.BLOCK else float(shape.gpus or 0)

    rate = dm.rate_for_load(model, 0.8, fleet_gpus, days, gpus_of)
    stream = dm.generate(model, rate, days, seed=5)
    span_s = days * DAY_S
    asked = sum(gpus[r.shape_text] * min(r.term_s, span_s - r.arrival_s) for r in stream)
    assert asked / (fleet_gpus * span_s) == pytest.approx(0.8, rel=0.05)


def test_settings_name_the_bad_key():
    assert dm.model_from_settings({"rate": "12", "tenants": "3"}) == dm.DemandModel(rate_per_day=12.0, tenants=3)
    for settings, message in (
        ({"rat": "1"}, "unknown key 'rat'"),
        ({"rate": "0"}, "rate: '0' is not a number above 0"),
        ({"load": "x"}, "load: 'x' is not a number"),
        ({"rate": "1", "load": "1"}, "rate, load: give one of them"),
        ({"tenants": "0"}, "tenants: '0' is not a whole number"),
    ):
        with pytest.raises(ValueError, match=message):
            dm.model_from_settings(settings)


def test_shape_text_reads_gpu_counts_and_whole_units():
    assert parse_shape("8") == Shape(("*",), gpus=8)
    assert parse_shape("512xH100@block") == Shape(("H100",), gpus=512, locality=Locality.BLOCK)
    assert parse_shape("block") == Shape(("*",), unit=Unit.BLOCK, units=1)
    assert parse_shape("nvlink_domain:2xGB200") == Shape(("GB200",), unit=Unit.NVLINK_DOMAIN, units=2)
    assert parse_shape(" site ") == Shape(("*",), unit=Unit.SITE)
    for text, message in (
        ("", "empty shape"),
        ("rack:2", "'rack' is neither a GPU count nor a unit"),
        ("block:0", "the number of units must be a whole number"),
        ("block@pod", "a locality"),
        ("64@row", "unknown locality 'row'"),
        ("64x", "no model after 'x'"),
        ("0", "the GPU count must be from 1"),
    ):
        with pytest.raises(ValueError, match=message):
            parse_shape(text)


def test_wholesale_sells_whole_units_only():
    assert shape_problem(parse_shape("64"), Tier.WHOLESALE) is not None
    assert shape_problem(parse_shape("pod"), Tier.WHOLESALE) is None
    assert shape_problem(parse_shape("64"), Tier.SPOT) is None
