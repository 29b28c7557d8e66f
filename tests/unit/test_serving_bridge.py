"""The plan's candidates reach the latency model as the silicon-CSV rows it was fitted on."""

from __future__ import annotations

import pytest

from neocloud.economics.serving.bridge import deployment, quant_of
from neocloud.economics.serving.deployment import parse_row
from neocloud.economics.serving.plan import Candidate, Workload


@pytest.mark.parametrize(
    "c",
    [
        Candidate(tp=8, pp=1, attention_dp=1, moe_tp=8, moe_ep=1, batch=64),
        Candidate(tp=1, pp=1, attention_dp=64, moe_tp=1, moe_ep=64, batch=256),
        Candidate(tp=4, pp=2, attention_dp=1, moe_tp=1, moe_ep=1, batch=16),
    ],
)
def test_a_candidate_is_the_deployment_its_csv_row_describes(c: Candidate) -> None:
    row = {
        "backend": "trtllm",
        "model_path": "deepseek-ai/DeepSeek-R1",
        "system": "h200_sxm",
        "precision": "fp8",
        "mode": "agg",
        "isl": "2048",
        "osl": "1024",
        "gemm_quant_mode": "fp8",
        "moe_quant_mode": "fp8",
        "batch_size": str(c.batch),
        "tp_size": str(c.tp),
        "pp_size": str(c.pp),
        "attention_dp_size": str(c.attention_dp),
        "moe_tp_size": str(c.moe_tp),
        "moe_ep_size": str(c.moe_ep),
    }
    workload = Workload(2048, 1024, "fp8", "trtllm")
    assert deployment("deepseek-ai/DeepSeek-R1", "h200_sxm", c, workload, quant_of("fp8")) == parse_row(row)
