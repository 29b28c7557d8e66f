"""docs/lease-demand.md: its CSV example and its worked example run, with the figures it states."""

from __future__ import annotations

import json
import re
from pathlib import Path
from typing import Any

import pytest
from typer.testing import CliRunner

from neocloud.cli.main import app

DOC = Path(__file__).resolve().parents[2] / "docs" / "lease-demand.md"


def neocloud(*args: str | Path) -> Any:
    result = CliRunner().invoke(app, list(map(str, args)), env={"COLUMNS": "80"})
    assert result.exit_code == 0, result.output
    return result


@pytest.fixture(scope="module")
def demo(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """The demo fleet as `fleet generate demo` writes it (its failed and degraded nodes included)."""
    path = tmp_path_factory.mktemp("demo") / "demo.yaml"
    neocloud("fleet", "generate", "demo", "-o", path)
    return path


def runs(*args: str | Path) -> dict[str, Any]:
    data: dict[str, Any] = json.loads(neocloud("sim", "leases", *args, "--json", "-").stdout)["runs"]
    return data


def test_the_csv_example_books_three_of_its_five_requests(demo, tmp_path):
    csv = re.search(r"```csv\n(.*?)```", DOC.read_text(), re.S)
    assert csv is not None
    (tmp_path / "requests.csv").write_text(csv.group(1))
    run = runs("--fleet", demo, "--demand", f"csv:{tmp_path / 'requests.csv'}", "--days", "40")["without_pin"]
    assert [r["id"] for r in run["refused_requests"]] == ["rack", "burst"]
    assert (run["accepted"], run["revenue_booked"], run["revenue_refused"]) == (3, "9479226.12", "587946.24")
    assert "$9,479,226.12 booked, $587,946.24 refused" in DOC.read_text()


def test_the_worked_example_has_the_figures_the_page_states(demo):
    both = runs("--fleet", demo, "--demand", "model:load=0.8", "--pin", "site:1095")
    without, pinned = both["without_pin"], both["with_pin"]
    assert (without["requests"], without["accepted"], pinned["accepted"]) == (52, 43, 38)
    assert round(float(without["revenue_booked"])) == 100_315_022
    assert round(float(pinned["revenue_booked"])) == 39_227_697
    assert round(float(pinned["revenue_with_pin"])) == 66_556_665
    assert (round(without["utilization_mean"], 3), round(pinned["utilization_mean"], 3)) == (0.629, 0.804)
    text = DOC.read_text()
    for figure in ("43 of 52 (82.7%)", "38 of 52 (73.1%)", "USD 66,556,665", "USD 27,328,967"):
        assert figure in text, figure
