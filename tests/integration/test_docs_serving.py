"""docs/economics.md "Serving plan": the worked example's figures are the ones
``neocloud plan serving --preset colossus-1 --model deepseek-ai/DeepSeek-R1`` computes
now (per-GPU tokens/s and latencies per GPU model, the fleet's OTPM and ITPM, tiers,
budgets and the GPUs that double them), so a refit of the latency model cannot leave the
section stale. Skips when ../shared (the serving-silicon files) is absent."""

from __future__ import annotations

import json
import re
from pathlib import Path
from typing import Any

import pytest
from typer.testing import CliRunner

from neocloud.cli.main import app
from tests.conftest import SHARED

DOCS = Path(__file__).resolve().parents[2] / "docs"
SILICON = SHARED / "reference" / "serving-silicon"
EXAMPLE = ["plan", "serving", "--preset", "colossus-1", "--model", "deepseek-ai/DeepSeek-R1", "--json"]


def _section() -> str:
    text = (DOCS / "economics.md").read_text()
    start = text.index("## Serving plan")
    end = text.find("\n## ", start + 1)
    return " ".join(text[start : end if end > 0 else None].split())


@pytest.fixture(scope="module")
def plan() -> dict[str, Any]:
    if not (SILICON / "model_configs").is_dir():
        pytest.skip(f"serving-silicon not found at {SILICON} (../shared/reference beside the repo)")
    result = CliRunner().invoke(app, EXAMPLE)
    assert result.exit_code == 0, result.output
    data: dict[str, Any] = json.loads(result.stdout)
    return data


def test_the_worked_example_table_has_the_computed_rates_and_latencies(plan: dict[str, Any]) -> None:
    rows = re.findall(
        r"\| (H100|H200|GB200) \| ([0-9,]+) \| [^|]+ \| ([0-9,]+) \| ([0-9.]+) \| ([0-9,]+) \| ([0-9,]+) \|", _section()
    )
    assert [r[0] for r in rows] == ["H100", "H200", "GB200"]
    lines = {m["gpu_model"]: m for m in plan["models"]}
    for model, gpus, ttft, tpot, out, inp in rows:
        m = lines[model]
        assert (gpus, ttft, tpot) == (f"{m['gpus']:,}", f"{m['ttft_ms']:,.0f}", f"{m['tpot_ms']:.1f}"), model
        assert (out, inp) == (f"{m['out_tok_s_per_gpu']:,.0f}", f"{m['in_tok_s_per_gpu']:,.0f}"), model


def test_the_worked_example_names_each_chosen_layout(plan: dict[str, Any]) -> None:
    text = _section()
    for m in plan["models"]:
        c = m["configuration"]
        if c["mode"] == "disagg":
            p, d = c["prefill"], c["decode"]
            assert f"split: {p['workers']} prefill x" in text, m["gpu_model"]
            assert (
                f"batch {d['batch']} per rank ({c['gpus_per_replica']} GPUs, {c['concurrency_per_replica']:,}" in text
            )
        else:
            assert f"aggregated TP{c['tp']} (MoE TP{c['moe_tp']}), batch {c['batch']}" in text


def test_the_fleet_tiers_and_budgets_are_the_computed_ones(plan: dict[str, Any]) -> None:
    text = _section()
    fleet = plan["fleet"]
    assert f"**{fleet['otpm'] / 1e9:.2f}B OTPM** and **{fleet['itpm'] / 1e9:.1f}B ITPM**" in text
    for t in plan["tiers"]:
        lim = t["per_org"]
        assert f"{t['name']} {lim['rpm']:,} / {lim['itpm']:,} / {lim['otpm']:,}" in text, t["name"]
        assert (
            f"holds {t['orgs_at_published']:,} organisations" in text
            or f"{t['orgs_at_published']:,} organisations at" in text
        )
    for p in plan["plans"]:
        assert f"{p['name']} {p['out_tokens_5h']:,} output + {p['in_tokens_5h']:,} input" in text or (
            f"{p['name']} {p['out_tokens_5h']:,} + {p['in_tokens_5h']:,} ({p['messages_5h']:,} messages" in text
        ), p["name"]


def test_the_gpus_that_double_the_budgets_are_the_computed_ones(plan: dict[str, Any]) -> None:
    text = _section()
    for s in plan["scaling"]:
        alone = s["extra_gpus_alone"]
        expected = f"{alone['H100']:,} H100, {alone['H200']:,} H200 or {alone['GB200']:,} GB200 alone"
        assert f"+{s['extra_gpus_same_mix']:,}" in text, s["plan"]
        assert expected in text, s["plan"]
