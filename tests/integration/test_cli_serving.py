"""``neocloud plan serving`` on the real serving-silicon files (``../shared``), with the
worked example of docs/economics.md "Serving plan" checked by independent arithmetic."""

from __future__ import annotations

import json
import math
from pathlib import Path
from typing import Any

import pytest
import yaml
from click.testing import Result
from typer.testing import CliRunner

from neocloud.cli.main import app
from tests.conftest import SHARED

SILICON = SHARED / "reference" / "serving-silicon"
EXAMPLE = ["plan", "serving", "--preset", "colossus-1", "--model", "deepseek-ai/DeepSeek-R1"]


@pytest.fixture(scope="module")
def silicon() -> Path:
    if not (SILICON / "model_configs").is_dir():
        pytest.skip(f"serving-silicon not found at {SILICON} (../shared/reference beside the repo)")
    return SILICON


def run(*args: str) -> Result:
    return CliRunner().invoke(app, list(args), env={"FORCE_COLOR": None, "COLUMNS": "80"})


@pytest.fixture(scope="module")
def example(silicon: Path) -> dict[str, Any]:
    result = run(*EXAMPLE, "--json")
    assert result.exit_code == 0, result.output
    data: dict[str, Any] = json.loads(result.stdout)
    return data


def test_the_worked_example_plans_every_gpu_model_of_the_seed_site(example: dict[str, Any]) -> None:
    assert example["capacity"]["gpus"] == {"H100": 150_000, "H200": 50_000, "GB200": 30_024}
    assert [m["system"] for m in example["models"]] == ["h100_sxm", "h200_sxm", "gb200"]
    assert all(m["served"] for m in example["models"])


def test_each_chosen_configuration_meets_the_limits_and_fits_hbm(example: dict[str, Any], silicon: Path) -> None:
    t = example["target"]
    for m in example["models"]:
        assert m["tpot_ms"] <= t["tpot_ms"]
        assert m["ttft_ms"] <= t["ttft_ms"]
        system = yaml.safe_load((silicon / "systems" / f"{m['system']}.yaml").read_text())
        used = (m["weights_gib_per_gpu"] + m["kv_gib_per_gpu"]) * 2**30 + system["misc"]["other_mem"]
        assert used <= system["gpu"]["mem_capacity"]


def gpus_and_requests(c: dict[str, Any]) -> tuple[int, int]:
    """GPUs and requests in flight of one replica (of a split: both pools), from its layout."""
    if c["mode"] == "agg":
        return c["tp"] * c["pp"] * c["attention_dp"], c["batch"] * c["attention_dp"]
    p, d = c["prefill"], c["decode"]
    gpus = p["workers"] * p["tp"] * p["pp"] * p["attention_dp"] + d["workers"] * d["tp"] * d["pp"] * d["attention_dp"]
    return gpus, d["workers"] * d["batch"] * d["attention_dp"]


def test_tokens_per_gpu_follow_from_the_chosen_latencies(example: dict[str, Any]) -> None:
    osl, isl = example["target"]["osl"], example["target"]["isl"]
    for m in example["models"]:
        c = m["configuration"]
        gpus, requests = gpus_and_requests(c)
        assert (c["gpus_per_replica"], c["concurrency_per_replica"]) == (gpus, requests)
        request_s = (m["ttft_ms"] + (osl - 1) * m["tpot_ms"]) / 1000
        per_gpu = requests * osl / request_s / gpus
        assert m["out_tok_s_per_gpu"] == pytest.approx(per_gpu)
        assert m["in_tok_s_per_gpu"] == pytest.approx(per_gpu * isl / osl)


def test_fleet_tiers_budgets_and_scaling_follow_from_the_per_gpu_rates(example: dict[str, Any]) -> None:
    u = example["headroom"]
    assert u == 0.8
    otpm = sum(m["gpus"] * m["out_tok_s_per_gpu"] for m in example["models"]) * 60 * u
    assert example["fleet"]["otpm"] == pytest.approx(otpm)
    for tier in example["tiers"]:
        share = tier["share"] * tier["oversubscription"] / tier["orgs"]
        assert tier["per_org"]["otpm"] == math.floor(otpm * share)
    for plan, scale in zip(example["plans"], example["scaling"], strict=True):
        assert plan["binding"] == "output"
        assert plan["out_tokens_5h"] == math.floor(otpm * plan["share"] * 300 / plan["users"])
        assert scale["factor"] == 2.0
        assert scale["extra_gpus_same_mix"] == math.ceil(230_024 * plan["share"])
        h100 = next(m for m in example["models"] if m["gpu_model"] == "H100")
        need = otpm * plan["share"] / (h100["out_tok_s_per_gpu"] * 60 * u)
        assert scale["extra_gpus_alone"]["H100"] == math.ceil(need)


def test_the_human_plan_fits_80_columns_and_piped_shows_no_progress(silicon: Path) -> None:
    result = run(*EXAMPLE)
    assert result.exit_code == 0, result.output
    assert max(len(line) for line in result.stdout.splitlines()) <= 80
    assert "tokens/min" in result.stdout
    assert result.stderr == ""


def test_a_config_json_path_is_planned_from_the_file(silicon: Path) -> None:
    config = silicon / "model_configs" / "meta-llama--Meta-Llama-3.1-70B_config.json"
    result = run("plan", "serving", "--gpus", "H100=64", "--model", str(config), "--json", "--tier", "t:1:0.5")
    assert result.exit_code == 0, result.output
    (line,) = json.loads(result.stdout)["models"]
    assert line["served"]


@pytest.mark.parametrize(
    ("args", "needle"),
    [
        (["--gpus", "A100=8"], "gpus: 'A100': unknown GPU model"),
        (["--gpus", "H100=8", "--preset", "colossus-1"], "capacity: give exactly one of"),
        (["--gpus", "H100=8", "--isl", "0"], "isl: must be 1.."),
        (["--gpus", "H100=8", "--tier", "scale:lots:0.1"], "ORGS must be a whole number"),
        (["--gpus", "H100=8", "--plan", "max:10:0.9", "--tier", "scale:1:0.5"], "more than 1"),
        (["--gpus", "H100=8", "--headroom", "0"], "headroom: must be more than 0"),
        (["--preset", "colossus-9"], "preset: unknown preset 'colossus-9'"),
    ],
)
def test_bad_input_exits_2_naming_the_field(silicon: Path, args: list[str], needle: str) -> None:
    result = run("plan", "serving", "--model", "deepseek-ai/DeepSeek-R1", *args)
    assert result.exit_code == 2, result.output
    assert needle in " ".join(result.stderr.split())
    assert result.stdout == ""


def test_an_unknown_model_exits_2_listing_the_known_ones(silicon: Path) -> None:
    result = run("plan", "serving", "--gpus", "H100=8", "--model", "acme/Nope-1T")
    assert result.exit_code == 2
    assert "model: no config.json for 'acme/Nope-1T'" in " ".join(result.stderr.split())
    assert "deepseek-ai/DeepSeek-R1" in result.stderr


def test_within_one_nvlink_domain_deepseek_does_not_fit_an_h100_node(silicon: Path) -> None:
    result = run(*EXAMPLE, "--one-nvlink-domain", "--json")
    assert result.exit_code == 0, result.output
    by = {m["gpu_model"]: m for m in json.loads(result.stdout)["models"]}
    assert not by["H100"]["served"]
    assert "does not fit h100_sxm within one NVLink domain" in by["H100"]["reason"]
    for gpu, domain in (("H200", 8), ("GB200", 72)):
        c = by[gpu]["configuration"] if by[gpu]["served"] else None
        if c is not None and c["mode"] == "agg":
            assert c["gpus_per_replica"] <= domain
        elif c is not None:
            assert all(w["tp"] * w["pp"] * w["attention_dp"] <= domain for w in (c["prefill"], c["decode"]))


def test_a_small_lease_says_which_limits_round_to_zero_and_what_would_lift_them(silicon: Path) -> None:
    result = run("plan", "serving", "--gpus", "H100=16", "--model", "deepseek-ai/DeepSeek-R1")
    assert result.exit_code == 0, result.output
    text = " ".join(result.stdout.split())
    assert "start: RPM rounds to 0: this share gives each of 200,000 organisations" in text
    assert "pro: messages per 5 h rounds to 0: this share gives each of 5,000,000 users" in text
    assert "the capacity would give each 1" in text
    assert max(len(line) for line in result.stdout.splitlines()) <= 80
    data = json.loads(
        run("plan", "serving", "--gpus", "H100=16", "--model", "deepseek-ai/DeepSeek-R1", "--json").stdout
    )
    assert all(t["zero_note"] for t in data["tiers"] if t["per_org"]["rpm"] == 0)
    assert all(p["zero_note"] is None for p in data["plans"] if p["messages_5h"] > 0)
