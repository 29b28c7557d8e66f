"""The plan's candidates reach the latency model as the silicon-CSV rows it was fitted on."""

from __future__ import annotations

import pytest

from neocloud.economics.serving.bridge import deployment, quant_of, split_deployment
from neocloud.economics.serving.deployment import parse_row
from neocloud.economics.serving.plan import Candidate, Split, Workload


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


def test_a_split_is_the_deployment_its_disagg_row_describes() -> None:
    prefill = Candidate(tp=1, pp=2, attention_dp=8, moe_tp=1, moe_ep=8, batch=1)
    decode = Candidate(tp=1, pp=1, attention_dp=32, moe_tp=1, moe_ep=32, batch=32)
    split = Split(prefill, decode, prefill_workers=3, decode_workers=2)
    row = {
        "backend": "sglang",
        "model_path": "deepseek-ai/DeepSeek-R1",
        "system": "h100_sxm",
        "precision": "fp8",
        "mode": "disagg",
        "isl": "2048",
        "osl": "1024",
        "gemm_quant_mode": "fp8",
        "moe_quant_mode": "fp8",
        "silicon_data_source": f"db-dump; silicon_concurrency={split.concurrency}; measured=2026",
        "prefill_batch_size": "1",
        "prefill_num_workers": "3",
        "prefill_tp_size": "1",
        "prefill_pp_size": "2",
        "prefill_attention_dp_size": "8",
        "prefill_moe_tp_size": "1",
        "prefill_moe_ep_size": "8",
        "decode_batch_size": "32",
        "decode_num_workers": "2",
        "decode_tp_size": "1",
        "decode_pp_size": "1",
        "decode_attention_dp_size": "32",
        "decode_moe_tp_size": "1",
        "decode_moe_ep_size": "32",
    }
    workload = Workload(2048, 1024, "fp8", "sglang")
    built = split_deployment("deepseek-ai/DeepSeek-R1", "h100_sxm", split, workload, quant_of("fp8"))
    assert built == parse_row(row)
    assert split.concurrency == 2 * 32 * 32
