"""A model's architecture from its Hugging Face ``config.json``: what a serving step reads
and computes.

Parsed from a mapping (or the JSON text) in the core; the file is read by an adapter.
Handled shapes: dense decoders (Llama, Qwen3), GQA, MLA (DeepSeek-V3/R1, Kimi-K2.5,
GLM-5 with its sparse-attention indexer), MoE (DeepSeek, Qwen3-MoE, MiniMax-M2, gpt-oss),
sliding-window layers (gpt-oss) and linear-attention layers (Qwen3.5's Gated DeltaNet),
also when nested under ``text_config`` (multimodal checkpoints: the vision tower is not
counted; it does not run for text requests). Anything else is refused with
:class:`UnsupportedArchitecture` naming what is missing or unknown.

Counts are parameters (elements), not bytes: bytes depend on the precision of the run
(:mod:`neocloud.economics.serving.precision`). All sums are over the whole model.
"""

from __future__ import annotations

import json
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

# Layer kinds named in ``layer_types`` that this model knows how to cost.
FULL_ATTENTION = "full_attention"
SLIDING_ATTENTION = "sliding_attention"
LINEAR_ATTENTION = "linear_attention"
_LAYER_KINDS = (FULL_ATTENTION, SLIDING_ATTENTION, LINEAR_ATTENTION)


class UnsupportedArchitecture(ValueError):
    """A config this model cannot cost; the message says which field and why."""


@dataclass(frozen=True, slots=True)
class Architecture:
    """What one forward pass of a decoder touches, summed over its layers.

    ``attn_params``: attention projection weights (all layers); ``dense_ffn_params``:
    the MLP weights of dense layers; ``shared_expert_params``: always-active experts of
    MoE layers; ``expert_params``: ONE routed expert of ONE MoE layer (so routed
    weights total ``expert_params * n_experts * moe_layers``); ``embed_params`` and
    ``lm_head_params`` the vocabulary matrices (the embedding is a lookup: it is not read
    whole per step). ``kv_elems_per_token``: KV-cache elements one token adds (all
    layers with a growing cache); ``kv_window``: tokens kept by sliding layers and their
    per-token elements ``sliding_kv_elems_per_token``; ``state_elems_per_seq``: fixed
    recurrent state per sequence (linear attention), read and written each step.
    ``attn_flops_per_ctx_token``: multiply-adds x2 per query token per context token
    (QK^T and PV) for full layers. ``kv_replicated_across_tp``: MLA keeps one latent
    per token that every tensor-parallel rank reads whole.
    """

    name: str
    layers: int
    hidden: int
    heads: int
    kv_heads: int
    head_dim: int
    vocab: int
    attn_params: int
    dense_ffn_params: int
    dense_layers: int
    moe_layers: int
    n_experts: int
    experts_per_token: int
    expert_params: int
    shared_expert_params: int
    embed_params: int
    lm_head_params: int
    kv_elems_per_token: int
    sliding_kv_elems_per_token: int
    kv_window: int
    state_elems_per_seq: int
    attn_flops_per_ctx_token: int
    kv_replicated_across_tp: bool
    sparse_attention_topk: int = 0
    indexer_elems_per_token: int = 0
    prefill_attn_flops_per_ctx_token: int = 0  # MLA is not absorbed in prefill: 0 = same as decode

    @property
    def is_moe(self) -> bool:
        return self.moe_layers > 0

    @property
    def routed_params(self) -> int:
        return self.expert_params * self.n_experts * self.moe_layers

    @property
    def total_params(self) -> int:
        """Every weight, embeddings included (what a published parameter count counts)."""
        return (
            self.attn_params
            + self.dense_ffn_params
            + self.shared_expert_params
            + self.routed_params
            + self.embed_params
            + self.lm_head_params
        )

    @property
    def active_params(self) -> int:
        """Weights one token multiplies through (embedding lookup excluded, LM head
        included), the usual "active parameters" of a MoE."""
        routed = self.expert_params * self.experts_per_token * self.moe_layers
        return self.attn_params + self.dense_ffn_params + self.shared_expert_params + routed + self.lm_head_params

    def weight_bytes(self, dense_bytes_per_param: float, expert_bytes_per_param: float) -> float:
        """Bytes of all weights at the given precisions (dense parts, routed experts)."""
        dense = self.total_params - self.routed_params
        return dense * dense_bytes_per_param + self.routed_params * expert_bytes_per_param

    def kv_bytes_per_token(self, kv_bytes_per_elem: float, context: int) -> float:
        """KV-cache bytes per token of a sequence ``context`` tokens long (sliding layers
        keep at most ``kv_window`` tokens, so their share shrinks with length)."""
        sliding = self.sliding_kv_elems_per_token * min(context, self.kv_window) / max(context, 1)
        return (self.kv_elems_per_token + sliding) * kv_bytes_per_elem + self.indexer_elems_per_token


def parse_config_text(text: str, name: str = "") -> Architecture:
    """:func:`parse_config` of a ``config.json``'s text."""
    try:
        raw = json.loads(text)
    except json.JSONDecodeError as exc:
        raise UnsupportedArchitecture(f"not JSON: {exc.msg} at line {exc.lineno}") from None
    if not isinstance(raw, dict):
        raise UnsupportedArchitecture("a config.json must be a JSON object")
    return parse_config(raw, name)


def parse_config(config: Mapping[str, Any], name: str = "") -> Architecture:
    """The :class:`Architecture` of a Hugging Face config mapping, or
    :class:`UnsupportedArchitecture` naming the field that is missing or unknown."""
    cfg = _text_part(config)
    if cfg.get("is_encoder_decoder"):
        raise UnsupportedArchitecture("encoder-decoder models are not supported (decoder-only only)")
    layers = _int(cfg, "num_hidden_layers")
    hidden = _int(cfg, "hidden_size")
    heads = _int(cfg, "num_attention_heads")
    kv_heads = _int(cfg, "num_key_value_heads", heads)
    head_dim = _int(cfg, "head_dim", hidden // heads)
    vocab = _int(cfg, "vocab_size")
    kinds = _layer_kinds(cfg, layers)
    attn = _attention(cfg, kinds, hidden, heads, kv_heads=kv_heads, head_dim=head_dim)
    ffn = _ffn(cfg, layers, hidden)
    lm_head = vocab * hidden
    return Architecture(
        name=name or str(cfg.get("_name_or_path") or config.get("model_type") or "model"),
        layers=layers,
        hidden=hidden,
        heads=heads,
        kv_heads=kv_heads,
        head_dim=head_dim,
        vocab=vocab,
        embed_params=vocab * hidden,
        lm_head_params=0 if cfg.get("tie_word_embeddings") else lm_head,
        **attn,
        **ffn,
    )


def _text_part(config: Mapping[str, Any]) -> Mapping[str, Any]:
    """A multimodal checkpoint nests its language model under ``text_config``."""
    text = config.get("text_config")
    if isinstance(text, Mapping) and "num_hidden_layers" in text:
        return text
    if "num_hidden_layers" not in config and isinstance(config.get("llm_config"), Mapping):
        return config["llm_config"]  # type: ignore[no-any-return]
    return config


def _int(cfg: Mapping[str, Any], key: str, default: int | None = None) -> int:
    value = cfg.get(key, default)
    if value is None:
        raise UnsupportedArchitecture(f"{key}: missing (a decoder config needs it)")
    if isinstance(value, bool) or not isinstance(value, int) or value < 0:
        raise UnsupportedArchitecture(f"{key}: expected a non-negative integer, got {value!r}")
    return value


def _layer_kinds(cfg: Mapping[str, Any], layers: int) -> list[str]:
    kinds = cfg.get("layer_types")
    if kinds is None:
        return [FULL_ATTENTION] * layers
    if not isinstance(kinds, list) or len(kinds) != layers:
        raise UnsupportedArchitecture(f"layer_types: expected a list of {layers} layer kinds")
    unknown = sorted({k for k in kinds if k not in _LAYER_KINDS})
    if unknown:
        raise UnsupportedArchitecture(f"layer_types: unknown layer kind(s) {', '.join(map(str, unknown))}")
    return [str(k) for k in kinds]


def _attention(
    cfg: Mapping[str, Any], kinds: list[str], hidden: int, heads: int, *, kv_heads: int, head_dim: int
) -> dict[str, Any]:
    if "kv_lora_rank" in cfg:
        return _mla(cfg, len(kinds), hidden, heads)
    gate = 2 if cfg.get("attn_output_gate") else 1
    full_proj = hidden * heads * head_dim * (gate + 1) + 2 * hidden * kv_heads * head_dim
    if cfg.get("attention_bias"):
        full_proj += heads * head_dim + 2 * kv_heads * head_dim + hidden
    linear_proj, state = _linear_attention(cfg, hidden) if LINEAR_ATTENTION in kinds else (0, 0)
    n_full = kinds.count(FULL_ATTENTION)
    n_slide = kinds.count(SLIDING_ATTENTION)
    n_linear = kinds.count(LINEAR_ATTENTION)
    per_token_kv = 2 * kv_heads * head_dim
    window = _int(cfg, "sliding_window", 0) if n_slide else 0
    if n_slide and window == 0:
        raise UnsupportedArchitecture("sliding_window: missing for sliding_attention layers")
    return {
        "attn_params": (n_full + n_slide) * full_proj + n_linear * linear_proj,
        "kv_elems_per_token": n_full * per_token_kv,
        "sliding_kv_elems_per_token": n_slide * per_token_kv,
        "kv_window": window,
        "state_elems_per_seq": n_linear * state,
        "attn_flops_per_ctx_token": n_full * 2 * 2 * heads * head_dim,
        "kv_replicated_across_tp": False,
    }


def _linear_attention(cfg: Mapping[str, Any], hidden: int) -> tuple[int, int]:
    """Gated DeltaNet (Qwen3.5): projections and the per-sequence recurrent state."""
    nk = _int(cfg, "linear_num_key_heads")
    nv = _int(cfg, "linear_num_value_heads")
    dk = _int(cfg, "linear_key_head_dim")
    dv = _int(cfg, "linear_value_head_dim")
    conv = _int(cfg, "linear_conv_kernel_dim", 4)
    qkv = 2 * nk * dk + nv * dv
    proj = hidden * (qkv + nv * dv) + hidden * 2 * nv + nv * dv * hidden + qkv * conv
    state = nv * dk * dv + qkv * conv
    return proj, state


def _mla(cfg: Mapping[str, Any], layers: int, hidden: int, heads: int) -> dict[str, Any]:
    """Multi-head latent attention: a compressed KV latent plus a shared RoPE key."""
    kv_rank = _int(cfg, "kv_lora_rank")
    q_rank = cfg.get("q_lora_rank") or 0
    rope = _int(cfg, "qk_rope_head_dim")
    nope = _int(cfg, "qk_nope_head_dim")
    v_dim = _int(cfg, "v_head_dim")
    qk = nope + rope
    q_proj = hidden * q_rank + q_rank * heads * qk if q_rank else hidden * heads * qk
    kv_proj = hidden * (kv_rank + rope) + kv_rank * heads * (nope + v_dim)
    o_proj = heads * v_dim * hidden
    per_layer = q_proj + kv_proj + o_proj
    topk = cfg.get("index_topk") or 0
    indexer_elems = 0
    if topk:
        idx_heads = _int(cfg, "index_n_heads")
        idx_dim = _int(cfg, "index_head_dim")
        per_layer += (q_rank or hidden) * idx_heads * idx_dim + hidden * idx_dim + hidden * idx_heads
        indexer_elems = layers * idx_dim  # one FP8 key per token per layer
    return {
        "attn_params": layers * per_layer,
        "kv_elems_per_token": layers * (kv_rank + rope),
        "sliding_kv_elems_per_token": 0,
        "kv_window": 0,
        "state_elems_per_seq": 0,
        # absorbed MLA decode: scores against the latent+rope, values from the latent
        "attn_flops_per_ctx_token": layers * 2 * heads * (2 * kv_rank + rope),
        "kv_replicated_across_tp": True,
        "prefill_attn_flops_per_ctx_token": layers * 2 * heads * (qk + v_dim),
        "sparse_attention_topk": int(topk),
        "indexer_elems_per_token": indexer_elems,
    }


def _ffn(cfg: Mapping[str, Any], layers: int, hidden: int) -> dict[str, Any]:
    n_experts = cfg.get("n_routed_experts") or cfg.get("num_experts") or cfg.get("num_local_experts") or 0
    inter = _int(cfg, "intermediate_size", 0)
    gated = 3  # gate, up, down (SwiGLU); every supported family uses a gated MLP
    if not n_experts:
        if inter == 0:
            raise UnsupportedArchitecture("intermediate_size: missing for a dense model")
        return _no_moe(layers, gated * hidden * inter)
    k = _int(cfg, "num_experts_per_tok", cfg.get("experts_per_token"))
    moe_inter = _int(cfg, "moe_intermediate_size", inter)
    first_dense = _int(cfg, "first_k_dense_replace", 0)
    sparse_step = _int(cfg, "decoder_sparse_step", 1) or 1
    mlp_only = set(cfg.get("mlp_only_layers") or [])
    moe_idx = [i for i in range(layers) if i >= first_dense and i not in mlp_only and (i + 1) % sparse_step == 0]
    dense_layers = layers - len(moe_idx)
    if dense_layers and inter == 0:
        raise UnsupportedArchitecture("intermediate_size: missing for the dense layers of a MoE")
    shared = _shared_expert_inter(cfg, moe_inter)
    router = hidden * int(n_experts)
    bias = int(n_experts) * (2 * moe_inter + hidden) if cfg.get("model_type") == "gpt_oss" else 0
    return {
        "dense_ffn_params": dense_layers * gated * hidden * inter,
        "dense_layers": dense_layers,
        "moe_layers": len(moe_idx),
        "n_experts": int(n_experts),
        "experts_per_token": k,
        "expert_params": gated * hidden * moe_inter + bias // int(n_experts),
        "shared_expert_params": len(moe_idx) * (gated * hidden * shared + router),
    }


def _shared_expert_inter(cfg: Mapping[str, Any], moe_inter: int) -> int:
    if cfg.get("shared_expert_intermediate_size") is not None:
        return int(cfg["shared_expert_intermediate_size"])
    if cfg.get("shared_intermediate_size") is not None:
        return int(cfg["shared_intermediate_size"])
    return int(cfg.get("n_shared_experts") or 0) * moe_inter


def _no_moe(layers: int, per_layer: int) -> dict[str, Any]:
    return {
        "dense_ffn_params": layers * per_layer,
        "dense_layers": layers,
        "moe_layers": 0,
        "n_experts": 0,
        "experts_per_token": 0,
        "expert_params": 0,
        "shared_expert_params": 0,
    }
