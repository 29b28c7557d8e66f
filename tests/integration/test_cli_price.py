"""``neocloud price`` end to end against SQLite: show, history, publish; a bad rate-card
file exits 2 naming each field and writes nothing."""

from __future__ import annotations

from pathlib import Path

import pytest

from tests.integration.test_cli_ledger import Ledger, day, text, window

GOOD = """\
note: "H100 up for the quarter"
on_demand:
  - {model: H100, rate: "4.25"}
reserved:
  - model: H100
    base: "4.25"
    discounts: [{min_term_days: 0, discount: "0"}, {min_term_days: 365, discount: "0.45"}]
"""


def test_init_seeds_the_default_book_and_show_prints_its_rate_cards(ledger: Ledger) -> None:
    shown = text(ledger.ok("price", "show", "--model", "H100", "--tier", "reserved").stdout)
    assert "price book v1" in shown
    assert ">= 365 d 2.3501 -41.1%" in shown  # the H100 one-year contract price [R5], to the cent
    data = ledger.json("price", "show", "--tier", "on_demand")
    assert [(r["model"], r["rate_per_gpu_hour"]) for r in data["rows"]] == [
        ("H100", "3.99"),
        ("H200", "4.50"),
        ("B200", "6.69"),
        ("GB200", "10.50"),
    ]


def test_show_of_a_model_the_book_does_not_price_is_bad_input(ledger: Ledger) -> None:
    result = ledger("price", "show", "--model", "MI300X")
    assert result.exit_code == 2
    assert "model: price book v1 has no card for 'MI300X'" in text(result.stderr)


@pytest.mark.parametrize("suffix", [".yaml", ".json", ".toml"])
def test_publish_adds_a_version_that_history_lists_and_new_quotes_take(
    ledger: Ledger, tmp_path: Path, suffix: str
) -> None:
    import json
    import tomllib

    import yaml

    doc = yaml.safe_load(GOOD)
    path = tmp_path / f"cards{suffix}"
    if suffix == ".yaml":
        path.write_text(GOOD)
    elif suffix == ".json":
        path.write_text(json.dumps(doc))
    else:
        path.write_text(_toml(doc))
        assert tomllib.loads(path.read_text()) == doc
    published = ledger.json("price", "publish", path)
    assert published["version"] == 2
    history = ledger.json("price", "history")
    assert [(v["version"], v["note"]) for v in history][1] == (2, "H100 up for the quarter")
    quote = ledger.json("lease", "quote", "--tenant", "acme", "--gpus", "8", "--model", "H100", *window(10, 12))
    assert (quote["price_version"], quote["price_per_gpu_hour"]) == (2, "4.25")


def test_a_bad_rate_card_file_exits_2_naming_every_field_and_writes_nothing(ledger: Ledger, tmp_path: Path) -> None:
    bad = tmp_path / "bad.yaml"
    bad.write_text(
        "on_demand:\n  - {model: H100, rate: '-1'}\n"
        "reserved:\n  - {model: H100, base: '3.99', discounts: [{min_term_days: 365, discount: '0.4'},"
        " {min_term_days: 30, discount: '1.2'}]}\n"
        "spot:\n  - {model: B200, discount: '0.5', eviction_notice_s: 60}\n"
    )
    before = ledger.json("price", "history")
    result = ledger("price", "publish", bad)
    assert result.exit_code == 2
    err = text(result.stderr)
    for field in (
        "bad.yaml: on_demand[0].rate: -1 USD is out of range",
        "reserved[0].discounts[1].min_term_days: 30 must be above the previous row's 365",
        "reserved[0].discounts[1].discount: 1.2 is outside [0, 1)",
        "spot[0].model: 'B200' has no on_demand card",
    ):
        assert field in err, err
    assert ledger.json("price", "history") == before


def test_publish_in_the_past_exits_2_and_later_takes_effect_then(ledger: Ledger, tmp_path: Path) -> None:
    path = tmp_path / "cards.yaml"
    path.write_text(GOOD)
    result = ledger("price", "publish", path, "--effective", "2020-01-01")
    assert result.exit_code == 2
    assert "effective: is in the past" in text(result.stderr)
    later = ledger.json("price", "publish", path, "--effective", day(30))
    assert later["effective"] == f"{day(30)}T00:00:00Z"
    assert ledger.json("price", "show")["version"] == 1  # still v1 until then
    assert ledger.json("price", "show", "--at", day(31))["version"] == 2


def test_an_explicit_price_is_recorded_as_an_override(ledger: Ledger) -> None:
    lease = ledger.create("--gpus", "8", "--model", "H100", "--price", "2.4975", *window(10, 12))
    assert (lease["price_per_gpu_hour"], lease["price_version"], lease["price_override"]) == ("2.4975", None, True)
    spot = ledger.create("--gpus", "8", "--model", "H100", "--tier", "spot", *window(20, 22))
    assert (spot["tier"], spot["price_per_gpu_hour"], spot["price_override"]) == ("spot", "1.5960", False)


def _toml(doc: dict[str, object]) -> str:
    lines = [f'note = "{doc["note"]}"']
    for tier in ("on_demand", "reserved"):
        for card in doc[tier]:  # type: ignore[attr-defined]
            lines.append(f"[[{tier}]]")
            for key, value in card.items():
                if isinstance(value, list):
                    rows = ", ".join("{" + ", ".join(f"{k} = {_v(v)}" for k, v in r.items()) + "}" for r in value)
                    lines.append(f"{key} = [{rows}]")
                else:
                    lines.append(f"{key} = {_v(value)}")
    return "\n".join(lines) + "\n"


def _v(value: object) -> str:
    return str(value) if isinstance(value, int) else f'"{value}"'
