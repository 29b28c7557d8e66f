"""The ``neocloud fleet`` commands end to end: generate, show (text and JSON), validate."""

from __future__ import annotations

import json
import re
from pathlib import Path
from typing import Any

import pytest
import yaml
from click.testing import Result
from typer.testing import CliRunner

from neocloud.cli.main import app

TOTAL_KEYS = {
    "fleet",
    "sites",
    "power_mw_budget",
    "power_mw_used",
    "gpus",
    "gpus_by_model",
    "nodes",
    "pods",
    "fabric_blocks",
    "nvlink_domains",
    "nodes_by_health",
}
SITE_KEYS = (TOTAL_KEYS - {"fleet", "sites"}) | {"name", "region", "pue"}
_ANSI = re.compile(r"\x1b\[[0-9;]*m")


def fleet(*args: str | Path) -> Result:
    # click >= 8.2 always captures stderr apart (result.stderr); result.output mixes both
    return CliRunner().invoke(app, ["fleet", *map(str, args)], env={"FORCE_COLOR": None, "COLUMNS": "100"})


def stdout(result: Result) -> str:
    return _ANSI.sub("", result.stdout)


def stderr(result: Result) -> str:
    return _ANSI.sub("", result.stderr)


def show_json(path: Path) -> dict[str, Any]:
    result = fleet("show", path, "--json")
    assert result.exit_code == 0, result.output
    data: dict[str, Any] = json.loads(result.stdout)
    return data


@pytest.fixture(scope="module")
def demo(tmp_path_factory: pytest.TempPathFactory) -> Path:
    path = tmp_path_factory.mktemp("demo") / "demo.yaml"
    result = fleet("generate", "demo", "-o", path)
    assert result.exit_code == 0, result.output
    return path


# -- generate and show ---------------------------------------------------------------


def test_show_json_of_the_demo_has_the_documented_keys_and_totals(demo: Path) -> None:
    data = show_json(demo)
    assert data.keys() >= TOTAL_KEYS
    assert [s["name"] for s in data["sites"]] == ["demo-east", "demo-west"]
    for site in data["sites"]:
        assert site.keys() >= SITE_KEYS
        assert site["power_mw_used"] <= site["power_mw_budget"]
    assert data["fleet"] == "demo"
    assert data["gpus"] == 1600
    assert data["nodes"] == 272
    assert data["gpus_by_model"] == {"GB200": 576, "H100": 512, "H200": 512}
    # 2% failed, 1% degraded, 1% in maintenance of 272 nodes
    assert data["nodes_by_health"] == {"healthy": 261, "degraded": 3, "failed": 5, "maintenance": 3, "retired": 0}
    assert data["power_mw_budget"] == pytest.approx(2.7)
    for key in ("gpus", "nodes", "pods", "fabric_blocks", "nvlink_domains"):
        assert data[key] == sum(s[key] for s in data["sites"]), key


def test_show_prints_each_demo_site_and_the_total(demo: Path) -> None:
    result = fleet("show", demo)
    assert result.exit_code == 0, result.output
    text = stdout(result)
    assert "demo-east" in text
    assert "demo-west" in text
    assert "total" in text
    assert "1,600" in text
    assert result.stderr == ""


def test_validate_accepts_the_demo(demo: Path) -> None:
    result = fleet("validate", demo)
    assert result.exit_code == 0, result.output
    assert "valid" in stdout(result)
    assert "272 nodes, 1,600 GPUs" in stdout(result)


def test_colossus_one_has_its_documented_gpus_within_310_mw(tmp_path: Path) -> None:
    path = tmp_path / "c1.yaml"
    assert fleet("generate", "colossus-1", "-o", path).exit_code == 0
    data = show_json(path)
    assert data["gpus"] == 230_024
    assert data["gpus_by_model"] == {"GB200": 30_024, "H100": 150_000, "H200": 50_000}
    assert data["power_mw_used"] <= 310
    assert data["power_mw_budget"] == 310


def test_generate_with_a_node_table_writes_it_beside_the_yaml_with_the_same_totals(tmp_path: Path, demo: Path) -> None:
    path = tmp_path / "out" / "demo.yaml"
    result = fleet("generate", "demo", "-o", path, "--node-table", "nodes.csv")
    assert result.exit_code == 0, result.output
    assert sorted(p.name for p in path.parent.iterdir()) == ["demo.yaml", "nodes.csv"]
    assert len((path.parent / "nodes.csv").read_text().splitlines()) == 1 + 272
    assert "node_groups" not in path.read_text()
    assert fleet("validate", path).exit_code == 0
    assert show_json(path) == show_json(demo)


def test_generate_applies_set_values(tmp_path: Path) -> None:
    path = tmp_path / "c1.yaml"
    result = fleet("generate", "colossus-1", "-o", path, "--set", "h100_gpus=8_000", "--set", "h200_gpus=0")
    assert result.exit_code == 0, result.output
    assert show_json(path)["gpus_by_model"] == {"GB200": 30_024, "H100": 8_000}


# -- bad input: exit 2, a precise message on stderr, nothing written -----------------


def assert_refused(result: Result, *needles: str) -> None:
    assert result.exit_code == 2, result.output
    assert result.stdout == ""
    for needle in needles:
        assert needle in stderr(result)


def test_validate_of_a_broken_file_prints_the_path_of_each_error(tmp_path: Path, demo: Path) -> None:
    data = yaml.safe_load(demo.read_text())
    del data["sites"][0]["pue"]
    data["sites"][0]["pods"][0]["blocks"][0]["node_groups"][0]["count"] = "lots"
    broken = tmp_path / "broken.yaml"
    broken.write_text(yaml.safe_dump(data, sort_keys=False))
    result = fleet("validate", broken)
    assert_refused(
        result,
        "2 problems found",
        f"{broken}: sites[0].pue: missing required field",
        f"{broken}: sites[0].pods[0].blocks[0].node_groups[0].count: Input should be a valid integer (got 'lots')",
    )


def test_show_of_a_missing_file_is_refused(tmp_path: Path) -> None:
    assert_refused(fleet("show", tmp_path / "nope.yaml"), f"{tmp_path / 'nope.yaml'}: file not found")


@pytest.mark.parametrize(
    ("args", "needles"),
    [
        (["nope"], ["unknown preset 'nope'; available: colossus-1, colossus-2, demo, generic"]),
        (["colossus-1", "--set", "h100_gpus=abc"], ["--set h100_gpus=abc: expected a whole number"]),
        (["colossus-1", "--set", "pue=warm"], ["--set pue=warm: expected a number"]),
        (["colossus-1", "--set", "h100_gpus=-8"], ["must not be negative"]),
        (
            ["colossus-1", "--set", "bogus=1"],
            ["unknown key 'bogus'; valid keys: site_name, prefix, region, power_mw, pue", "h100_gpus", "seed"],
        ),
        (["demo", "--set", "seed"], ["--set 'seed': expected key=value"]),
        (["demo", "--set", "=3"], ["--set '=3': expected key=value"]),
        (["generic", "--set", "mix=H100:0.7,GB200:0.7"], ["shares add up to 1.4, over 1"]),
        (["colossus-1", "--set", "power_mw=100"], ["sites[0].power_mw: site 'colossus-1' IT load is 305.04 MW"]),
    ],
    ids=[
        "unknown preset",
        "not a whole number",
        "not a number",
        "negative",
        "unknown key",
        "no equals sign",
        "no key",
        "mix over 1",
        "over budget",
    ],
)
def test_a_failed_generate_exits_2_and_writes_nothing(tmp_path: Path, args: list[str], needles: list[str]) -> None:
    out = tmp_path / "out.yaml"
    result = fleet("generate", *args, "-o", out, "--node-table", "nodes.csv")
    assert_refused(result, *needles)
    assert list(tmp_path.iterdir()) == []


def test_a_failed_generate_leaves_an_existing_file_as_it_was(tmp_path: Path, demo: Path) -> None:
    out = tmp_path / "fleet.yaml"
    out.write_text(demo.read_text())
    assert_refused(fleet("generate", "colossus-1", "-o", out, "--set", "power_mw=1"), "over its IT budget")
    assert out.read_text() == demo.read_text()
    assert [p.name for p in tmp_path.iterdir()] == ["fleet.yaml"]
