"""The latency model's arithmetic on hand-computed cases, its refusals, and the fit."""

from __future__ import annotations

import math
from dataclasses import replace

import numpy as np
import pytest

from neocloud.adapters.serving_files import load_coefficients
from neocloud.economics.serving.architecture import parse_config
from neocloud.economics.serving.catalog import ServingInputs
from neocloud.economics.serving.deployment import Deployment, Worker, parse_row, within_domain
from neocloud.economics.serving.fit import fit
from neocloud.economics.serving.latency import (
    INITIAL,
    MEMORY_FRACTION,
    TERM_NAMES,
    Coefficients,
    Unsupported,
    combine,
    resident_sequences,
    roofline,
    table,
    terms,
)
from neocloud.economics.serving.precision import QUANT_MODES
from neocloud.economics.serving.predictor import predict_rows
from neocloud.economics.serving.system import GpuSystem

# A tiny dense model whose sizes are easy to multiply out by hand.
TINY = {
    "num_hidden_layers": 2,
    "hidden_size": 1024,
    "num_attention_heads": 8,
    "num_key_value_heads": 8,
    "head_dim": 128,
    "intermediate_size": 4096,
    "vocab_size": 1000,
}
SYSTEM = GpuSystem(
    name="toy",
    hbm_bw=1e12,
    hbm_bytes=80e9,
    bf16_flops=1e15,
    fp8_flops=2e15,
    fp4_flops=0.0,
    int8_flops=2e15,
    nvlink_bw=4e11,
    inter_node_bw=5e10,
    gpus_per_node=8,
    nvlink_domain_gpus=8,
    sm_version=90,
    empirical_mem_bw_factor=0.8,
    empirical_mem_latency_s=3e-6,
    empirical_p2p_latency_s=1e-5,
    reserved_bytes=4e9,
)


def deployment(batch: int = 4, tp: int = 1, isl: int = 1000, osl: int = 200, quant: str = "bf16") -> Deployment:
    mode = QUANT_MODES[quant]
    return Deployment(
        model_path="toy/tiny",
        system="toy",
        backend="vllm",
        mode="agg",
        isl=isl,
        osl=osl,
        dense_quant=mode,
        moe_quant=mode,
        decode=Worker(batch=batch, tp=tp),
        prefill=None,
        concurrency=batch,
    )


def test_plain_roofline_tpot_is_weight_and_kv_bytes_over_hbm_bandwidth_by_hand() -> None:
    # per layer: Q and O 1024x1024 each, K and V 1024x(8x128) each = 4 x 1,048,576; MLP 3 x 1024 x 4096
    per_layer = 4 * 1_048_576 + 3 * 1024 * 4096  # 16,777,216
    params = 2 * per_layer + 2 * 1000 * 1024  # two layers, embedding and LM head: 35,602,432
    weights = params * 2  # BF16
    kv = 4 * (1000 + 200 / 2) * (2 * 2 * 8 * 128) * 2  # 4 sequences x mean context x K,V elems x 2 bytes
    expected_ms = (weights + kv) / 1e12 * 1e3  # 0.10725 ms
    got = roofline(parse_config(TINY), SYSTEM, deployment())
    assert expected_ms == pytest.approx(0.107249664)
    assert got.tpot_ms == pytest.approx(expected_ms, rel=1e-9)
    # TTFT: the larger of 2 x params x 1000 tokens of BF16 FLOPs at 1 PFLOPS (the embedding
    # lookup is no GEMM): 0.06916 ms, and reading the weights once: 0.07120 ms
    active = params - 1000 * 1024
    compute_ms = 2 * active * 1000 / 1e15 * 1e3
    assert compute_ms == pytest.approx(0.069156864)
    assert got.ttft_ms == pytest.approx(max(compute_ms, weights / 1e12 * 1e3), rel=1e-9)


def test_decode_memory_term_counts_weights_once_and_kv_per_sequence() -> None:
    a = parse_config(TINY)
    one = terms(a, SYSTEM, deployment(batch=1))
    two = terms(a, SYSTEM, deployment(batch=2))
    kv_per_seq = (1000 + 100) * 4096 * 2 / 1e12
    assert two["d_mem_s"] - one["d_mem_s"] == pytest.approx(kv_per_seq, rel=1e-9)


def test_tensor_parallelism_splits_weights_and_adds_two_all_reduces_per_layer() -> None:
    a = parse_config(TINY)
    tp1 = terms(a, SYSTEM, deployment(tp=1))
    tp4 = terms(a, SYSTEM, deployment(tp=4))
    assert tp4["d_mem_s"] == pytest.approx(tp1["d_mem_s"] / 4, rel=1e-9)
    assert (tp1["d_ar_n"], tp4["d_ar_n"]) == (0.0, 4.0)


def test_a_kv_cache_that_does_not_fit_caps_the_batch_and_makes_requests_wait() -> None:
    a = parse_config(TINY)
    room = resident_sequences(a, SYSTEM, deployment(), Worker(batch=1))
    free = 80e9 * MEMORY_FRACTION - 4e9 - 35_602_432 * 2
    assert room == pytest.approx(free / ((1000 + 100) * 4096 * 2), rel=1e-9)
    crowded = terms(a, SYSTEM, deployment(batch=int(room * 3)))
    assert crowded["decode_batch_n"] == math.floor(room)
    assert crowded["slot_wait_n"] == pytest.approx((int(room * 3) / math.floor(room) - 1) * 200)
    assert terms(a, SYSTEM, deployment(batch=8))["slot_wait_n"] == 0.0


def test_fp4_weights_on_a_gpu_without_fp4_tensor_cores_are_unsupported_with_the_reason() -> None:
    with pytest.raises(Unsupported, match="toy has no FP4 tensor cores"):
        terms(parse_config(TINY), SYSTEM, deployment(quant="nvfp4"))


def test_weights_larger_than_the_gpus_are_unsupported_with_sizes() -> None:
    small = replace(SYSTEM, hbm_bytes=4.05e9)
    with pytest.raises(Unsupported, match="weights need 0 GB per GPU"):
        terms(parse_config(TINY), small, deployment())


def test_more_batch_never_makes_a_decode_step_faster() -> None:
    a = parse_config(TINY)
    rows = table([terms(a, SYSTEM, deployment(batch=b)) for b in (1, 2, 8, 32, 128)])
    _, tpot = combine(rows, INITIAL)
    assert np.all(np.diff(tpot) > 0)


def test_coefficients_survive_the_trip_through_a_mapping_and_a_vector() -> None:
    assert Coefficients.from_mapping(INITIAL.to_mapping()) == INITIAL
    assert Coefficients.from_vector(INITIAL.vector()) == INITIAL


def test_the_fit_recovers_the_latencies_of_rows_the_model_itself_generated() -> None:
    a = parse_config(TINY)
    deps = [deployment(batch=b, tp=tp, isl=isl) for b in (1, 4, 16, 64) for tp in (1, 2, 4) for isl in (256, 2048)]
    rows = table([terms(a, SYSTEM, d) for d in deps])
    truth = replace(INITIAL, mem_eff=0.8, layer_s=(5e-5, 5e-5, 5e-5), ttft_s=(0.05, 0.05, 0.05), burst=(0.3, 0.3, 0.3))
    ttft, tpot = combine(rows, truth)
    found = fit(rows, ttft, tpot).coefficients
    fit_ttft, fit_tpot = combine(rows, found)
    assert np.max(np.abs(fit_tpot / tpot - 1)) < 0.02
    assert np.max(np.abs(fit_ttft / ttft - 1)) < 0.02


def test_every_term_is_named_once() -> None:
    assert len(set(TERM_NAMES)) == len(TERM_NAMES)
    assert set(terms(parse_config(TINY), SYSTEM, deployment())) == set(TERM_NAMES)


def test_a_disaggregated_row_without_worker_counts_takes_its_concurrency_from_the_source_column() -> None:
    row = {
        "mode": "disagg",
        "model_path": "toy/tiny",
        "system": "toy",
        "backend": "trtllm",
        "precision": "fp8",
        "isl": "1024",
        "osl": "1024",
        "prefill_tp_size": "4",
        "decode_tp_size": "8",
        "silicon_data_source": "source_file=x.csv; silicon_concurrency=60; measured=2026",
    }
    dep = parse_row(row)
    assert (dep.concurrency, dep.decode.batch, dep.decode.tp, dep.worker_counts_known) == (60, 60, 8, False)
    assert dep.prefill is not None
    assert dep.prefill.tp == 4


TINY_MOE = {**TINY, "num_experts": 16, "num_experts_per_tok": 2, "moe_intermediate_size": 256}


def test_a_moe_decode_step_reads_only_the_experts_its_tokens_route_to() -> None:
    a = parse_config(TINY_MOE)
    expert_bytes = a.expert_params * a.moe_layers * 2 / 1e12  # one expert of every MoE layer, BF16
    one = terms(a, SYSTEM, deployment(batch=1))["d_mem_s"]
    many = terms(a, SYSTEM, deployment(batch=512))["d_mem_s"]
    kv = (1000 + 100) * 4096 * 2 / 1e12
    # one token reads k = 2 experts per layer; 512 tokens reach all 16 (uniform routing)
    dense = one - 2 * expert_bytes - kv
    assert many - 512 * kv - dense == pytest.approx(16 * expert_bytes, rel=1e-6)


def agg_row(**cells: str) -> dict[str, str]:
    row = {
        "mode": "agg",
        "model_path": "toy/tiny",
        "system": "toy",
        "backend": "vllm",
        "precision": "fp8",
        "isl": "1024",
        "osl": "1024",
        "batch_size": "16",
        "tp_size": "2",
        "attention_dp_size": "4",
        "moe_tp_size": "1",
        "moe_ep_size": "8",
    }
    return {**row, **cells}


def test_batch_size_counts_requests_per_attention_dp_rank() -> None:
    # the data's own rule: silicon_concurrency = batch_size x attention_dp_size
    dep = parse_row(agg_row())
    assert (dep.decode.batch, dep.concurrency, dep.decode.gpus) == (64, 64, 8)
    assert parse_row(agg_row(attention_dp_size="")).decode.batch == 16


def test_a_disaggregated_row_without_worker_counts_gets_as_many_prefill_as_decode_replicas() -> None:
    a = parse_config(TINY)
    small = replace(SYSTEM, hbm_bytes=6e9)  # about 1.3 GB of KV room per worker
    dep = replace(
        deployment(batch=400),
        mode="disagg",
        prefill=Worker(batch=1),
        concurrency=400,
        worker_counts_known=False,
    )
    room = resident_sequences(a, small, dep, dep.decode)
    got = terms(a, small, dep)
    workers = math.ceil(400 / room)
    assert workers > 1
    assert got["prefill_workers_n"] == workers
    assert got["decode_batch_n"] == math.ceil(400 / workers)


# --- latency-v2: the data's layout spelling, and TTFT as bursts of equal requests;
# latency-v3: each request in a burst a whole prefill (compute and a cost per layer) ---


def test_a_layout_written_as_64_gpus_of_tp8_ep8_on_an_8_gpu_node_is_costed_as_the_8_gpu_run() -> None:
    # silicon_dev.csv holds the same measurements as 64/1/8/8 and as 8/1/1/8 (and
    # 16/1/4/4 = 4/1/1/4, 1/64/8/8 = 1/8/1/8): read as written, 64-way TP across InfiniBand
    squared = parse_row(agg_row(tp_size="64", attention_dp_size="1", moe_tp_size="8", moe_ep_size="8"))
    plain = parse_row(agg_row(tp_size="8", attention_dp_size="1", moe_tp_size="1", moe_ep_size="8"))
    assert squared.decode.gpus == 64
    assert within_domain(squared, 8).decode == plain.decode
    dp = parse_row(agg_row(tp_size="1", attention_dp_size="64", moe_tp_size="8", moe_ep_size="8", batch_size="4"))
    read = within_domain(dp, 8).decode
    assert (read.tp, read.attention_dp, read.moe_tp, read.moe_ep, read.gpus, read.batch) == (1, 8, 1, 8, 8, 256)


def test_a_layout_inside_the_nvlink_domain_or_not_squared_is_left_as_written() -> None:
    wide = parse_row(agg_row(tp_size="64", attention_dp_size="1", moe_tp_size="8", moe_ep_size="8"))
    assert within_domain(wide, 72) == wide  # an NVL72 rack joins 64 GPUs by NVLink
    mixed = parse_row(agg_row(tp_size="8", attention_dp_size="1", moe_tp_size="2", moe_ep_size="4"))
    assert within_domain(mixed, 4) == mixed  # moe_tp x ep = tp: an ordinary layout


def test_the_predictor_reads_the_squared_spelling_the_same_as_the_plain_one() -> None:
    models = {"toy/tiny-moe": parse_config(TINY_MOE)}
    inputs = ServingInputs(models=models, systems={"toy": SYSTEM}, coefficients=INITIAL)
    cells = {"model_path": "toy/tiny-moe", "attention_dp_size": "1", "moe_ep_size": "8"}
    squared = predict_rows([agg_row(**cells, tp_size="64", moe_tp_size="8")], inputs)
    plain = predict_rows([agg_row(**cells, tp_size="8", moe_tp_size="1")], inputs)
    assert plain[0].tpot_ms is not None
    assert squared == plain


def _disagg(prefill: Worker, concurrency: int) -> Deployment:
    return replace(
        deployment(batch=concurrency),
        mode="disagg",
        prefill=prefill,
        concurrency=concurrency,
        decode=Worker(batch=concurrency, count=1),
    )


def test_a_disaggregated_request_waits_for_a_share_of_the_burst_on_its_prefill_rank() -> None:
    a = parse_config(TINY_MOE)
    c = replace(INITIAL, disagg_burst=0.5)
    one_worker = table([terms(a, SYSTEM, _disagg(Worker(batch=1), 64))])
    four_workers = table([terms(a, SYSTEM, _disagg(Worker(batch=1, count=4), 64))])
    alone = table([terms(a, SYSTEM, _disagg(Worker(batch=1), 1))])
    ttft = [combine(t, c)[0][0] for t in (one_worker, four_workers, alone)]
    assert ttft[0] > ttft[1] > ttft[2]
    # exactly: 63 others on one rank, 15 on each of four, each waited for at half its prefill
    assert terms(a, SYSTEM, _disagg(Worker(batch=1), 64))["burst_n"] == 63.0
    without = combine(one_worker, replace(c, disagg_burst=1e-12))[0][0]
    assert ttft[0] - without == pytest.approx(0.5 * 63 * _whole_prefill_ms(one_worker, c, engine=2), rel=1e-6)


def _whole_prefill_ms(t: np.ndarray, c: Coefficients, engine: int) -> float:
    """One burst request's prefill as the model waits for it: compute, with every
    attention-DP rank's tokens through the experts, and the engine's cost per layer."""
    col = {n: t[0, i] for i, n in enumerate(TERM_NAMES)}
    moe_eff = c.prefill_eff * min(c.moe_eff / c.gemm_eff, 1.0)
    compute = (col["p_gemm_s"] + col["p_attn_s"]) / c.prefill_eff + col["p_moe_burst_s"] / moe_eff
    return float((compute + col["layers_n"] * c.prefill_layer_s[engine]) * 1e3)


def test_a_burst_on_a_data_parallel_prefill_worker_runs_every_ranks_tokens_through_the_experts() -> None:
    a = parse_config(TINY_MOE)
    dp4 = terms(a, SYSTEM, _disagg(Worker(batch=1, attention_dp=4, moe_ep=4), 64))
    assert dp4["p_moe_burst_s"] == pytest.approx(4 * dp4["p_gemm_moe_s"], rel=1e-9)
    assert dp4["burst_n"] == 15.0  # 64 requests over 4 ranks of one worker


def test_every_prompt_token_costs_the_engines_host_time_in_ttft() -> None:
    a = parse_config(TINY)
    row = table([terms(a, SYSTEM, deployment())])
    longer = row.copy()
    longer[0, TERM_NAMES.index("isl_n")] += 1000  # the same prefill work, 1,000 more prompt tokens to handle
    c = replace(INITIAL, prompt_token_s=(1e-6, 2e-6, 3e-6))  # vllm is the third engine
    assert combine(longer, c)[0][0] - combine(row, c)[0][0] == pytest.approx(1000 * 3e-6 * 1e3, rel=1e-9)
    assert terms(a, SYSTEM, deployment(isl=512))["isl_n"] == 512.0


def test_agg_ttft_waits_for_the_engines_share_of_the_whole_prefills_of_its_ranks_burst() -> None:
    a = parse_config(TINY)
    row = table([terms(a, SYSTEM, deployment(batch=16))])  # backend vllm: the third engine
    c = replace(INITIAL, prefill_layer_s=(1e-3, 1e-3, 4e-3))
    base = combine(row, replace(c, burst=(1e-12, 1e-12, 1e-12)))[0][0]
    with_burst = combine(row, replace(c, burst=(0.5, 0.5, 0.25)))[0][0]
    # 15 others on the rank, each waited for at a quarter of its compute and its 2 layers' cost
    assert with_burst - base == pytest.approx(0.25 * 15 * _whole_prefill_ms(row, c, engine=2), rel=1e-6)


def test_a_prefill_pays_the_engines_cost_per_decoder_layer_on_top_of_its_compute() -> None:
    a = parse_config(TINY)  # 2 decoder layers
    row = table([terms(a, SYSTEM, deployment(batch=1))])  # alone: no burst ahead of it
    cheap = combine(row, replace(INITIAL, prefill_layer_s=(1.0, 1.0, 1e-9)))[0][0]
    dear = combine(row, replace(INITIAL, prefill_layer_s=(1e-9, 1e-9, 0.01)))[0][0]
    assert dear - cheap == pytest.approx(2 * (0.01 - 1e-9) * 1e3, rel=1e-6)


def test_an_agg_burst_on_attention_dp_ranks_runs_every_ranks_prompt_through_the_experts() -> None:
    a = parse_config(TINY_MOE)
    dp = replace(deployment(batch=64), decode=Worker(batch=64, attention_dp=4, moe_ep=4))
    row = table([terms(a, SYSTEM, dp)])
    col = {n: row[0, i] for i, n in enumerate(TERM_NAMES)}
    assert col["p_moe_burst_s"] == pytest.approx(4 * col["p_gemm_moe_s"], rel=1e-9)
    assert col["burst_n"] == 15.0  # 64 requests over 4 ranks
    c = replace(INITIAL, burst=(0.5, 0.5, 0.5))
    alone = combine(row, replace(c, burst=(1e-12, 1e-12, 1e-12)))[0][0]
    assert combine(row, c)[0][0] - alone == pytest.approx(0.5 * 15 * _whole_prefill_ms(row, c, engine=2), rel=1e-6)


def test_the_shipped_coefficients_are_latency_v3_with_their_cross_validated_errors() -> None:
    coefficients, data = load_coefficients()
    assert data["version"] == "latency-v3"
    cv = data["provenance"]["cross_validation"]
    assert set(cv) == {"leave-one-family-out", "leave-one-system-out", "roofline"}
    assert len(data["provenance"]["dataset"]["sha256"]) == 64
    assert Coefficients.from_mapping(coefficients.to_mapping()) == coefficients
