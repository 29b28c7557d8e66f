"""Architecture from config.json: parameter counts of known models against their
published figures, KV-cache sizes, nested text configs, and refusals with reasons."""

from __future__ import annotations

import pytest

from neocloud.economics.serving.architecture import UnsupportedArchitecture, parse_config, parse_config_text
from tests.serving_data import config_text, serving_silicon


def arch(name: str):  # type: ignore[no-untyped-def]
    return parse_config_text(config_text(name), name)


def near(value: float, published: float, tolerance: float = 0.03) -> bool:
    return abs(value / published - 1.0) <= tolerance


def test_llama_3_1_70b_has_its_published_70_6_billion_parameters_all_active() -> None:
    a = arch("meta-llama--Meta-Llama-3.1-70B_config.json")
    assert near(a.total_params, 70.6e9, 0.01)
    assert not a.is_moe
    # GQA: 80 layers x (K and V) x 8 KV heads x 128 dims
    assert a.kv_elems_per_token == 80 * 2 * 8 * 128


def test_llama_3_1_8b_and_405b_match_their_names() -> None:
    assert near(arch("meta-llama--Meta-Llama-3.1-8B_config.json").total_params, 8.03e9)
    assert near(arch("meta-llama--Meta-Llama-3.1-405B_config.json").total_params, 405.9e9)


def test_deepseek_v3_has_671b_parameters_of_which_37b_are_active_per_token() -> None:
    a = arch("deepseek-ai--DeepSeek-V3_config.json")
    assert near(a.total_params, 671e9, 0.01)
    assert near(a.active_params, 37e9, 0.03)
    assert (a.moe_layers, a.dense_layers, a.n_experts, a.experts_per_token) == (58, 3, 256, 8)
    # MLA caches one latent (kv_lora_rank) plus one RoPE key per token per layer, read whole by every TP rank
    assert a.kv_elems_per_token == 61 * (512 + 64)
    assert a.kv_replicated_across_tp


def test_qwen3_5_is_read_from_its_nested_text_config_with_only_full_attention_layers_caching_kv() -> None:
    a = arch("Qwen--Qwen3.5-397B-A17B_config.json")
    assert near(a.total_params, 397e9, 0.02)
    assert near(a.active_params, 17e9, 0.06)
    full_layers = 60 // 4  # full_attention_interval = 4; the others are linear attention with a fixed state
    assert a.kv_elems_per_token == full_layers * 2 * 2 * 256
    assert a.state_elems_per_seq > 0


@pytest.mark.parametrize(
    ("name", "total", "active"),
    [
        ("Qwen--Qwen3-235B-A22B-FP8_config.json", 235e9, 22e9),
        ("MiniMaxAI--MiniMax-M2.5_config.json", 229e9, 10e9),
        ("moonshotai--Kimi-K2.5_config.json", 1.03e12, 32e9),
        ("openai--gpt-oss-120b_config.json", 116.8e9, 5.1e9),
        ("zai-org--GLM-5_config.json", 744e9, 40e9),
    ],
)
def test_moe_models_match_their_published_total_and_active_parameters(name: str, total: float, active: float) -> None:
    a = arch(name)
    assert near(a.total_params, total, 0.03)
    assert near(a.active_params, active, 0.06)


def test_every_shipped_config_parses() -> None:
    for path in sorted((serving_silicon() / "model_configs").glob("*.json")):
        assert parse_config_text(path.read_text(encoding="utf-8"), path.name).total_params > 0


def test_weight_bytes_follow_the_precision_of_dense_parts_and_experts_separately() -> None:
    a = arch("deepseek-ai--DeepSeek-V3_config.json")
    dense = a.total_params - a.routed_params
    assert a.weight_bytes(2.0, 0.5) == pytest.approx(dense * 2.0 + a.routed_params * 0.5)


def test_a_config_without_hidden_size_is_refused_naming_the_field() -> None:
    with pytest.raises(UnsupportedArchitecture, match="hidden_size: missing"):
        parse_config({"num_hidden_layers": 2, "num_attention_heads": 4, "vocab_size": 10})


def test_an_unknown_layer_kind_is_refused_naming_it() -> None:
    config = {
        "num_hidden_layers": 2,
        "hidden_size": 64,
        "num_attention_heads": 4,
        "intermediate_size": 128,
        "vocab_size": 10,
        "layer_types": ["full_attention", "mamba"],
    }
    with pytest.raises(UnsupportedArchitecture, match=r"unknown layer kind.*mamba"):
        parse_config(config)


def test_an_encoder_decoder_config_is_refused() -> None:
    with pytest.raises(UnsupportedArchitecture, match="encoder-decoder"):
        parse_config({"is_encoder_decoder": True})


def test_text_that_is_not_json_is_refused_with_the_line() -> None:
    with pytest.raises(UnsupportedArchitecture, match=r"not JSON.*line 1"):
        parse_config_text("{oops", "bad.json")
