"""docs/economics.md "Price book" runs: its rate-card example publishes, and its table of
seeded prices is what the seeded version 1 computes."""

from __future__ import annotations

import re
from decimal import Decimal
from pathlib import Path

from neocloud.adapters.pricefile import parse_rate_cards
from neocloud.domain.leases import Tier
from neocloud.domain.money import Money
from neocloud.economics.pricebook import PriceBook, book_problems, price_for
from neocloud.economics.pricebook_defaults import default_cards

DOCS = Path(__file__).resolve().parents[2] / "docs"
DAY = 86_400
MODELS = ("H100", "H200", "B200", "GB200")


def _section() -> str:
    text = (DOCS / "economics.md").read_text()
    start = text.index("## Price book")
    end = text.find("\n## ", start + 1)
    return text[start : end if end > 0 else None]


def test_the_rate_card_example_is_a_valid_version() -> None:
    example = re.search(r"```yaml\n(.*?)```", _section(), re.S)
    assert example
    cards, note = parse_rate_cards(example.group(1), "economics.md", ".yaml")
    assert note == "H100 up for the quarter"
    assert book_problems(cards) == []
    gb200 = price_for(PriceBook(2, 0, cards), Tier.WHOLESALE, "GB200", 0, 30 * DAY)
    assert [gb200.monthly_fee(72, month) for month in (1, 2)] == [
        Money(Decimal("48500.00")),
        Money(Decimal("97000.00")),
    ]


def test_the_seeded_table_is_what_version_1_computes() -> None:
    book = PriceBook(1, 0, default_cards())
    terms = {
        "on-demand, per GPU-hour": (Tier.ON_DEMAND, DAY),
        "reserved 1 year": (Tier.RESERVED, 365 * DAY),
        "reserved 5 years": (Tier.RESERVED, 1826 * DAY),
        "spot": (Tier.SPOT, DAY),
    }
    rows = re.findall(
        r"^\| ([a-z0-9 ,-]+(?: GPU-(?:hour|month))?) \| ([0-9.]+) \| ([0-9.]+) \| ([0-9.]+) \| ([0-9.]+) \|",
        _section(),
        re.M,
    )
    assert [r[0] for r in rows] == [*terms, "wholesale, per GPU-month"]
    for label, *figures in rows:
        for model, shown in zip(MODELS, figures, strict=True):
            if label in terms:
                tier, length = terms[label]
                assert price_for(book, tier, model, 0, length).rate.amount == Decimal(shown), (label, model)
            else:
                assert price_for(book, Tier.WHOLESALE, model, 0, DAY).per_gpu_month.amount == Decimal(shown)  # type: ignore[union-attr]
