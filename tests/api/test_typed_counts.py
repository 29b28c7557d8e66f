"""Counts and dates people type reach every surface as a 4xx naming the field, never a
500: a superscript digit passes ``str.isdigit`` but not ``int`` (review of issue 10)."""

from __future__ import annotations

import pytest

from neocloud.domain.counts import model_counts, whole_number
from neocloud.web.routes import COOKIE
from tests.api.conftest import World
from tests.api.isolation_world import A, build, client

ODD_DIGITS = ["²", "١٢", "½", "1__0", "_1", "1e3", ""]


@pytest.mark.parametrize("raw", ODD_DIGITS)
def test_only_ascii_digits_are_a_whole_number(raw: str) -> None:
    assert whole_number(raw) is None


def test_a_whole_number_may_group_digits_with_underscores() -> None:
    assert whole_number(" 150_000 ") == 150_000


def test_model_counts_name_every_bad_item_and_a_model_given_twice() -> None:
    counts, problems = model_counts("H100=8,h100=9,GB200=²,=3,B200", "gpus", max_count=100)
    assert counts == {"H100": 8}
    assert problems == [
        "gpus: H100 is given twice",
        "gpus: 'GB200=²': the count must be a whole number 1..100",
        "gpus: '=3': expected MODEL=COUNT",
        "gpus: 'B200': expected MODEL=COUNT",
    ]


@pytest.mark.parametrize("gpus", ["H100=²", "H100=8,H100=9"])
def test_a_tenants_serving_plan_with_an_odd_count_is_a_422_naming_gpus(gpus: str) -> None:
    world = build()
    with client(world) as http:
        r = http.post(
            "/v1/serving/plan",
            json={"gpus": gpus, "model": "dense-70"},
            headers={"Authorization": f"Bearer {world.token[A]}"},
        )
        http.cookies.set(COOKIE, world.token[A])
        page = http.get("/serving", params={"gpus": gpus, "model": "dense-70"})
    assert r.status_code == 422, r.text
    assert "gpus" in {e["field"] for e in r.json()["errors"]}
    assert page.status_code < 500, page.text


@pytest.mark.parametrize(
    ("query", "words"),
    [
        ({"site": "demo-west", "gpus": "H100=²"}, "gpus"),
        ({"site": "demo-west", "start": "9999-01-01"}, "start: must be from 2000-01-01"),
        ({"site": "demo-west", "notice_days": "٩٠"}, "notice_days"),
    ],
)
def test_the_deals_page_names_a_bad_count_or_date_instead_of_failing(
    world: World, query: dict[str, str], words: str
) -> None:
    world.client.cookies.set(COOKIE, world.keys.operator)
    page = world.client.get("/deals", params=query)
    assert 400 <= page.status_code < 500, page.status_code
    assert words in page.text
