"""``neocloud sim pack``: the JSON scripts read, an 80-column summary, bad options exit 2 and write nothing."""

from __future__ import annotations

import json
import re
from pathlib import Path
from typing import Any

import pytest
from click.testing import Result
from typer.testing import CliRunner

from neocloud.cli.main import app

_ANSI = re.compile(r"\x1b\[[0-9;]*m")
PODS = "name,cpu_milli,memory_mib,num_gpu,gpu_milli,gpu_spec,qos,pod_phase,creation_time,deletion_time,scheduled_time\n"
NODES = "sn,cpu_milli,memory_mib,gpu,model\n"


def sim(*args: str | Path, columns: int = 80) -> Result:
    return CliRunner().invoke(app, ["sim", "pack", *map(str, args)], env={"FORCE_COLOR": None, "COLUMNS": str(columns)})


@pytest.fixture
def files(tmp_path: Path) -> tuple[Path, Path]:
    """Twelve pods (shares, whole GPUs, 2-GPU and CPU-only ones, one T4-only) on three nodes."""
    pods = tmp_path / "pods.csv"
    rows = [
        "p00,4000,8192,1,500,,LS,Running,0,10,0",
        "p01,4000,8192,1,300,,LS,Running,0,10,0",
        "p02,8000,16384,1,1000,,LS,Running,0,10,0",
        "p03,16000,32768,2,1000,,LS,Running,0,10,0",
        "p04,2000,4096,0,0,,BE,Running,0,10,0",
        "p05,4000,8192,1,250,T4,LS,Running,0,10,0",
    ]
    pods.write_text(PODS + "\n".join(rows + [r.replace("p0", "p1", 1) for r in rows]) + "\n")
    nodes = tmp_path / "nodes.csv"
    nodes.write_text(NODES + "n0,96000,786432,8,G2\nn1,32000,131072,2,T4\nn2,64000,262144,4,V100M16\n")
    return pods, nodes


def as_json(*args: str | Path) -> dict[str, Any]:
    result = sim(*args, "--json", "-")
    assert result.exit_code == 0, result.output
    data: dict[str, Any] = json.loads(result.stdout)
    return data


def test_the_json_has_the_curve_keyed_0_to_130_and_each_seed(files):
    pods, nodes = files
    data = as_json("--pods", pods, "--nodes", nodes, "--policy", "fgd", "--seeds", "42-44", "--inflate", "1.3")
    assert list(data["allocation_pct"]) == [str(k) for k in range(131)]
    assert data["seeds"] == [42, 43, 44]
    assert data["gpus"] == 14
    assert data["policy"] == "fgd"
    assert [s["seed"] for s in data["per_seed"]] == [42, 43, 44]
    for seed in data["per_seed"]:
        assert list(seed["allocation_pct"]) == list(data["allocation_pct"])
        assert seed["placed"] + seed["unplaced"] == seed["pods"]
        assert 0 < seed["final_allocation_pct"] <= 100
    assert all(v is None or 0 <= v <= 100 for v in data["allocation_pct"].values())


def test_the_mean_curve_is_the_mean_of_the_seeds(files):
    pods, nodes = files
    data = as_json("--pods", pods, "--nodes", nodes, "--policy", "random", "--seeds", "1,5")
    for k, mean in data["allocation_pct"].items():
        values = [s["allocation_pct"][k] for s in data["per_seed"] if s["allocation_pct"][k] is not None]
        assert mean == (round(sum(values) / len(values), 2) if values else None)


def test_json_to_a_file_and_the_summary_within_80_columns(files, tmp_path):
    pods, nodes = files
    out = tmp_path / "out.json"
    result = sim("--pods", pods, "--nodes", nodes, "--policy", "bestfit", "--seeds", "7", "--json", out)
    assert result.exit_code == 0, result.output
    assert json.loads(out.read_text())["seeds"] == [7]
    text = _ANSI.sub("", result.stdout)
    assert "bestfit packing, seed 7" in text
    assert "allocated %" in text
    assert "130%" in text
    assert max(len(line) for line in text.splitlines()) <= 80


@pytest.mark.parametrize(
    ("option", "value", "message"),
    [
        ("--policy", "tetris", "--policy 'tetris': one of random, dotprod"),
        ("--seeds", "4x", "--seeds '4x': expected N, FIRST-LAST"),
        ("--seeds", "9-3", "--seeds '9-3': 9 is after 3"),
        ("--seeds", "1,1", "--seeds '1,1': a seed is named twice"),
        ("--inflate", "0", "--inflate 0.0: expected a ratio above 0"),
        ("--inflate", "25", "--inflate 25.0: expected a ratio above 0 and at most 10"),
    ],
)
def test_a_bad_option_exits_2_naming_it_and_writes_nothing(files, tmp_path, option, value, message):
    pods, nodes = files
    out = tmp_path / "out.json"
    result = sim("--pods", pods, "--nodes", nodes, option, value, "--json", out)
    assert result.exit_code == 2, result.output
    assert message in " ".join(_ANSI.sub("", result.stderr).split())
    assert not out.exists()


def test_a_pod_list_the_experiment_cannot_take_exits_2_naming_the_pod(files, tmp_path):
    _, nodes = files
    pods = tmp_path / "bad.csv"
    pods.write_text(PODS + "ok,1000,1024,1,500,,LS,Running,0,1,0\nsplit,1000,1024,2,500,,LS,Running,0,1,0\n")
    out = tmp_path / "out.json"
    result = sim("--pods", pods, "--nodes", nodes, "--json", out)
    assert result.exit_code == 2
    assert "pod split: a share of 500 is for one GPU only" in " ".join(result.stderr.split())
    assert not out.exists()


def test_a_missing_node_list_exits_2_naming_the_file(files, tmp_path):
    pods, _ = files
    result = sim("--pods", pods, "--nodes", tmp_path / "absent.csv")
    assert result.exit_code == 2
    assert "absent.csv" in result.stderr


def test_a_long_list_of_seeds_folds_within_80_columns(files):
    pods, nodes = files
    seeds = ",".join(str(s) for s in range(101, 141, 2))
    result = sim("--pods", pods, "--nodes", nodes, "--policy", "gpupacking", "--seeds", seeds)
    assert result.exit_code == 0, result.output
    text = _ANSI.sub("", result.stdout)
    assert "20 seeds," in text
    assert "101,103,105" in text
    assert max(len(line) for line in text.splitlines()) <= 80
