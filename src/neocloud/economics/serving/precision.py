"""Quantisation modes: bytes per weight and the tensor-core kind that computes with them.

Block formats carry scales: NVFP4 one FP8 scale per 16 weights (0.5 + 1/16 bytes),
MXFP4 one E8M0 scale per 32 (0.5 + 1/32), INT4 weight-only with one BF16 scale per group
of 32 (0.5 + 2/32, Kimi-K2.5's compressed-tensors config), FP8 block scales one FP32 per
128x128 (negligible). Weight-only modes compute in BF16 (their weights are dequantised
on the fly). The KV cache is stored in FP8 (1 byte) for FP8 and FP4 runs and in BF16
(2 bytes) otherwise: the engines' published recipes for these models set an FP8 KV
cache with FP8/FP4 weights [SS] (an assumption of this model, stated in
docs/economics.md).
"""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True, slots=True)
class QuantMode:
    name: str
    bytes_per_param: float
    compute: str  # "bf16" | "fp8" | "fp4"
    kv_bytes: float


QUANT_MODES: dict[str, QuantMode] = {
    "bf16": QuantMode("bf16", 2.0, "bf16", 2.0),
    "fp16": QuantMode("fp16", 2.0, "bf16", 2.0),
    "fp8": QuantMode("fp8", 1.0, "fp8", 1.0),
    "fp8_block": QuantMode("fp8_block", 1.0 + 4 / (128 * 128), "fp8", 1.0),
    "nvfp4": QuantMode("nvfp4", 0.5 + 1 / 16, "fp4", 1.0),
    "mxfp4": QuantMode("mxfp4", 0.5 + 1 / 32, "fp4", 1.0),
    "int4_wo": QuantMode("int4_wo", 0.5 + 2 / 32, "bf16", 2.0),
}

# What an empty quant column means, by the row's ``precision`` (the checkpoint's dtype).
PRECISION_DEFAULT_MODE = {"": "bf16", "bf16": "bf16", "fp16": "fp16", "fp8": "fp8", "fp4": "nvfp4", "int4": "int4_wo"}


def quant_mode(name: str) -> QuantMode | None:
    """The mode called ``name`` (case-insensitive), or None when unknown."""
    return QUANT_MODES.get(name.strip().lower())
