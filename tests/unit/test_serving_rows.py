"""A silicon-schema row's numbers: whole, finite and within bounds, or a RowError naming
the column (review of issue 10: ``nan`` crashed ``plan predict``, ``0`` read as absent)."""

from __future__ import annotations

import pytest

from neocloud.economics.serving.deployment import RowError, parse_row

ROW = {
    "id": "r1",
    "backend": "vllm",
    "model_path": "MiniMaxAI/MiniMax-M2.5",
    "system": "b300_sxm",
    "precision": "fp8",
    "mode": "agg",
    "isl": "1024",
    "osl": "1024",
    "gemm_quant_mode": "fp8",
    "moe_quant_mode": "fp8",
    "batch_size": "128",
    "tp_size": "4",
    "pp_size": "1",
    "attention_dp_size": "1",
    "moe_tp_size": "4",
    "moe_ep_size": "1",
}


def test_a_well_formed_row_parses_and_a_written_float_count_is_accepted() -> None:
    assert parse_row(ROW).decode.tp == 4
    assert parse_row({**ROW, "tp_size": "4.0"}).decode.tp == 4


@pytest.mark.parametrize(
    ("column", "text"),
    [
        ("isl", "nan"),
        ("isl", "inf"),
        ("osl", "-inf"),
        ("isl", "1e12"),
        ("batch_size", "1e9"),
        ("moe_ep_size", "1e9"),
        ("tp_size", "1000000"),
        ("tp_size", "0"),
        ("pp_size", "0"),
        ("tp_size", "2.5"),
    ],
)
def test_a_non_finite_zero_fractional_or_huge_number_is_a_row_error_naming_its_column(column: str, text: str) -> None:
    with pytest.raises(RowError) as caught:
        parse_row({**ROW, column: text})
    assert caught.value.column == column


def test_zero_in_a_moe_column_means_not_set() -> None:
    assert parse_row({**ROW, "moe_ep_size": "0"}).decode.moe_ep == 1
