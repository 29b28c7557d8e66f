"""The demo's economics commands fit 80 columns, piped and on an 80-column terminal,
and piped lines end where their words do (no padding spaces). Money in a table is one
compact format: ``191.31K`` beside ``9.31M``, never ``191,308.80``."""

from __future__ import annotations

import re

import pytest

from neocloud import bootstrap
from neocloud.services.demo import build_demo
from tests.integration.test_cli_piped import _on_terminal, _piped

COMMANDS = [["plan", "book"], ["price", "history"]]
FULL_CENTS = re.compile(r"\d{1,3}(?:,\d{3})+\.\d{2}")


@pytest.fixture(scope="module")
def demo_db(tmp_path_factory: pytest.TempPathFactory) -> str:
    url = f"sqlite:///{tmp_path_factory.mktemp('widths') / 'demo.db'}"
    build_demo(bootstrap.services(url))
    return url


@pytest.mark.parametrize("args", COMMANDS, ids=" ".join)
def test_piped_the_demos_economics_fit_80_columns_without_trailing_spaces(demo_db: str, args: list[str]) -> None:
    lines = _piped([*args, "--db", demo_db]).splitlines()
    assert len(lines) > 3
    assert max(len(line) for line in lines) <= 80
    assert [line for line in lines if line != line.rstrip()] == []


@pytest.mark.parametrize("args", COMMANDS, ids=" ".join)
def test_on_an_80_column_terminal_the_demos_economics_fit(demo_db: str, args: list[str]) -> None:
    lines = _on_terminal([*args, "--db", demo_db], columns=80).splitlines()
    assert len(lines) > 3
    assert max(len(line) for line in lines) <= 80


def test_the_book_prints_every_sum_in_one_compact_format(demo_db: str) -> None:
    text = _piped(["plan", "book", "--db", demo_db])
    assert re.search(r"\d\.\d\dM", text)  # the demo's large tenant
    assert re.search(r"\d\.\d\dK", text)  # and its small one, on the same scale of format
    assert FULL_CENTS.findall(text) == []


def test_a_long_price_book_note_is_printed_whole_below_the_table(demo_db: str) -> None:
    text = " ".join(_piped(["price", "history", "--db", demo_db]).split())
    assert "v1: seeded from economics.md" in text
