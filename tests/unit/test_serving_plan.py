"""The serving planner's pure core: the search, the capacity values, fleet rates,
tier limits, five-hour budgets and the GPUs a larger budget needs."""

from __future__ import annotations

import math
import re

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from neocloud.domain.catalog import builtin_catalog
from neocloud.domain.errors import RequestError
from neocloud.economics.serving.capacity import Capacity, parse_gpu_counts
from neocloud.economics.serving.fleet_plan import plan_serving
from neocloud.economics.serving.limits import (
    FIVE_HOURS_MIN,
    FleetRate,
    PlanSpec,
    TierSpec,
    parse_plan,
    parse_tier,
    plan_budget,
    tier_limits,
)
from neocloud.economics.serving.plan import (
    Choice,
    NoChoice,
    Target,
    best_configuration,
    candidate_grid,
    memory_per_gpu,
    throughput_per_gpu,
)
from tests.serving_fakes import GB, FakePredictor, a_footprint, a_system

CATALOG = builtin_catalog()


def a_target(**kw: object) -> Target:
    base: dict[str, object] = {
        "model": "dense-70",
        "isl": 1000,
        "osl": 1000,
        "tpot_ms": 50.0,
        "ttft_ms": 2000.0,
        "precision": "fp8",
    }
    base.update(kw)
    return Target(**base)  # type: ignore[arg-type]


# -- throughput and memory arithmetic ------------------------------------------------
def test_throughput_per_gpu_counts_the_time_a_request_spends_in_prefill() -> None:
    # 64 requests in flight on 8 GPUs, 1 s to first token, then 999 steps of 20 ms:
    # each request holds its slot 20.98 s, so 64 x 1000 / 20.98 / 8 = 381.3 tok/s per GPU
    rate = throughput_per_gpu(64, 8, 1000.0, 20.0, osl=1000)
    assert float(rate) == pytest.approx(64 * 1000 / 20.98 / 8)
    assert float(rate) < 64 / 0.020 / 8  # the README's approximation ignores prefill


def test_an_mla_cache_is_replicated_across_tp_ranks_and_a_gqa_cache_is_split() -> None:
    gqa = a_footprint(kv_heads=8, dense_weight_bytes=80 * GB)
    mla = a_footprint(kv_heads=None, dense_weight_bytes=80 * GB)
    grid = candidate_grid(gqa)
    i = next(k for k in range(len(grid.tp)) if grid.tp[k] == 4 and grid.pp[k] == 2 and grid.batch[k] == 16)
    w, kv_gqa = memory_per_gpu(grid, gqa, 2000)
    _, kv_mla = memory_per_gpu(grid, mla, 2000)
    assert w[i] == pytest.approx(80 * GB / 8)
    assert kv_gqa[i] == pytest.approx(16 * 2000 * 0.3e6 / (2 * 4))
    assert kv_mla[i] == pytest.approx(16 * 2000 * 0.3e6 / 2)


def test_routed_experts_split_over_expert_parallel_ranks_and_attention_over_tp() -> None:
    moe = a_footprint(dense_weight_bytes=16 * GB, expert_weight_bytes=640 * GB, kv_heads=None)
    grid = candidate_grid(moe)
    w, _ = memory_per_gpu(grid, moe, 1000)
    i = next(k for k in range(len(grid.tp)) if (grid.tp[k], grid.dp[k], grid.ep[k], grid.pp[k]) == (1, 16, 16, 1))
    assert w[i] == pytest.approx(16 * GB + 640 * GB / 16)  # DP attention: dense weights replicated


# -- the search ----------------------------------------------------------------------
def test_the_chosen_configuration_meets_both_limits_and_is_the_fastest_that_does() -> None:
    predict = FakePredictor()
    target = a_target(tpot_ms=40.0)
    found = best_configuration(target, a_footprint(), a_system(), predict)
    assert isinstance(found, Choice)
    assert found.tpot_ms <= 40.0
    assert found.ttft_ms <= 2000.0
    # brute force over the same grid with the same arithmetic: nothing feasible is faster
    grid = candidate_grid(a_footprint())
    w, kv = memory_per_gpu(grid, a_footprint(), 2000)
    best = 0.0
    for k in range(len(grid.tp)):
        c = grid.candidate(k)
        if w[k] + kv[k] + 4 * GB > 80 * GB:
            continue
        lat = predict("h100_sxm", [c], target.workload)[0]
        assert not isinstance(lat, type(None))
        if lat.tpot_ms <= 40.0 and lat.ttft_ms <= 2000.0:  # type: ignore[union-attr]
            best = max(best, float(throughput_per_gpu(c.concurrency, c.gpus, lat.ttft_ms, lat.tpot_ms, 1000)))  # type: ignore[union-attr]
    assert found.out_tok_s_per_gpu == pytest.approx(best)
    assert found.in_tok_s_per_gpu == pytest.approx(best * 1000 / 1000)


def test_a_tighter_tpot_limit_never_gives_more_tokens_per_gpu() -> None:
    loose = best_configuration(a_target(tpot_ms=200.0), a_footprint(), a_system(), FakePredictor())
    tight = best_configuration(a_target(tpot_ms=25.0), a_footprint(), a_system(), FakePredictor())
    assert isinstance(loose, Choice)
    assert isinstance(tight, Choice)
    assert tight.out_tok_s_per_gpu < loose.out_tok_s_per_gpu
    assert tight.tpot_ms <= 25.0 < loose.tpot_ms


def test_the_kv_cache_of_the_batch_must_fit_in_hbm_with_the_reserved_memory() -> None:
    # 70 GB of weights on TP1 leaves 6 GB: 6e9 / (2000 tokens x 0.3 MB) = 10 requests, so batch <= 8 on TP1
    predict = FakePredictor(base_ms=1.0, step_ms=0.0)  # latency never binds: memory must
    found = best_configuration(a_target(tpot_ms=1000.0, ttft_ms=1e5), a_footprint(kv_heads=1), a_system(), predict)
    assert isinstance(found, Choice)
    assert found.weights_gib_per_gpu * 2**30 + found.kv_gib_per_gpu * 2**30 + 4 * GB <= 80 * GB
    c = found.candidate
    assert c.batch * 2000 * 0.3e6 / c.pp <= 80 * GB - 4 * GB - 70 * GB / (c.tp * c.pp)


def test_a_model_larger_than_every_layout_is_refused_naming_its_weights() -> None:
    huge = a_footprint(name="huge", dense_weight_bytes=80 * GB * 64 * 4 * 2)
    found = best_configuration(a_target(), huge, a_system(), FakePredictor())
    assert isinstance(found, NoChoice)
    assert "huge does not fit h100_sxm" in found.reason
    assert "GiB of weights" in found.reason


def test_a_precision_the_system_lacks_is_refused_before_any_prediction() -> None:
    predict = FakePredictor()
    found = best_configuration(a_target(precision="fp4"), a_footprint(), a_system(), predict)
    assert isinstance(found, NoChoice)
    assert "no fp4 tensor cores" in found.reason
    assert predict.calls == []


def test_when_no_configuration_is_fast_enough_the_refusal_gives_the_fastest_tpot() -> None:
    found = best_configuration(a_target(tpot_ms=5.0), a_footprint(), a_system(), FakePredictor())
    assert isinstance(found, NoChoice)
    assert "TPOT <= 5 ms" in found.reason
    assert "fastest predicted is 20.0 ms" in found.reason


def test_a_system_the_latency_model_declines_is_refused_with_its_reason() -> None:
    found = best_configuration(a_target(), a_footprint(), a_system(), FakePredictor(refuse={"h100_sxm"}))
    assert isinstance(found, NoChoice)
    assert "not calibrated" in found.reason


def test_memory_filtering_happens_before_prediction_and_the_search_stays_small() -> None:
    predict = FakePredictor()
    best_configuration(a_target(), a_footprint(), a_system(), predict)
    ((_, asked),) = predict.calls
    assert asked < len(candidate_grid(a_footprint()).tp) <= 300


# -- capacity ------------------------------------------------------------------------
def test_gpu_counts_parse_by_catalog_name_or_alias_in_any_case() -> None:
    cap = parse_gpu_counts("h100=150000, H200-SXM=50000,GB200 NVL72=30000", CATALOG)
    assert dict(cap.gpus) == {"H100": 150_000, "H200": 50_000, "GB200": 30_000}


@pytest.mark.parametrize(
    ("text", "needle"),
    [
        ("H100", "expected MODEL=COUNT"),
        ("A100=8", "'A100': unknown GPU model"),
        ("H100=0", "whole number 1.."),
        ("H100=-3", "whole number 1.."),
        ("H100=8,h100=8", "H100 is given twice"),
        ("", "expected MODEL=COUNT"),
    ],
)
def test_bad_gpu_counts_name_the_item_and_the_problem(text: str, needle: str) -> None:
    with pytest.raises(RequestError) as e:
        parse_gpu_counts(text, CATALOG)
    assert all(p.startswith("gpus: ") for p in e.value.problems)
    assert needle in str(e.value)


def test_a_gpu_model_without_a_system_and_a_missing_system_file_are_refused_per_model() -> None:
    cap = Capacity({"H100": 8, "GB300": 72}, "counts")
    plan = plan_serving(cap, a_target(), a_footprint(), {"h100_sxm": a_system()}, FakePredictor(), catalog=CATALOG)
    by = {line.gpu_model: line.choice for line in plan.lines}
    assert isinstance(by["H100"], Choice)
    assert isinstance(by["GB300"], NoChoice)
    assert "no system file for gb300" in by["GB300"].reason
    assert plan.served_gpus == 8


# -- fleet rates, tiers, plans ------------------------------------------------------
def test_fleet_otpm_is_gpus_times_tokens_per_gpu_times_sixty_times_headroom() -> None:
    systems = {"h100_sxm": a_system(), "h200_sxm": a_system("h200_sxm", hbm_bytes=141 * GB)}
    predict = FakePredictor(speed={"h200_sxm": 1.5})
    cap = Capacity({"H100": 1000, "H200": 500}, "counts")
    plan = plan_serving(cap, a_target(isl=3000), a_footprint(), systems, predict, catalog=CATALOG, headroom=0.7)
    per = {line.gpu_model: line.choice for line in plan.lines}
    assert isinstance(per["H100"], Choice)
    assert isinstance(per["H200"], Choice)
    expected = (1000 * per["H100"].out_tok_s_per_gpu + 500 * per["H200"].out_tok_s_per_gpu) * 60 * 0.7
    assert plan.rate.otpm == pytest.approx(expected)
    assert plan.rate.itpm == pytest.approx(expected * 3)


def test_tier_limits_divide_the_oversubscribed_share_among_the_organisations() -> None:
    rate = FleetRate(otpm=1e9, itpm=4e9, isl=4000, osl=1000)
    got = tier_limits(rate, TierSpec("scale", orgs=500, share=0.2, oversubscription=2.0, ceiling="scale"))
    assert got.per_org.otpm == 800_000
    assert got.per_org.itpm == 3_200_000
    assert got.per_org.rpm == 800
    # the pool fits 4e8 / 800k = 500 Scale organisations on output, 1.6e9 / 4M = 400 on input
    assert got.ceiling is not None
    assert got.orgs_at_ceiling == 400


@settings(max_examples=60, deadline=None)
@given(
    otpm=st.floats(1e3, 1e12),
    share=st.floats(0.001, 1.0),
    orgs=st.integers(1, 10**6),
    over=st.floats(1.0, 10.0),
)
def test_what_a_tier_sells_never_exceeds_its_oversubscribed_share(
    otpm: float, share: float, orgs: int, over: float
) -> None:
    rate = FleetRate(otpm=otpm, itpm=otpm * 2, isl=2000, osl=1000)
    got = tier_limits(rate, TierSpec("t", orgs=orgs, share=share, oversubscription=over))
    assert got.per_org.otpm * orgs <= otpm * share * over * (1 + 1e-12)
    assert got.per_org.itpm * orgs <= otpm * 2 * share * over * (1 + 1e-12)
    assert got.per_org.rpm * 1000 <= got.per_org.otpm + 1000


def test_a_five_hour_budget_is_the_plans_otpm_times_300_over_its_users() -> None:
    rate = FleetRate(otpm=6e9, itpm=60e9, isl=4000, osl=1000)
    got = plan_budget(rate, PlanSpec("max", users=1_000_000, share=0.5))
    assert got.out_tokens_5h == math.floor(6e9 * 0.5 * FIVE_HOURS_MIN / 1e6) == 900_000
    assert got.binding == "output"
    assert got.messages_5h == 900
    assert got.in_tokens_5h == math.floor(900_000 * 3.6)


def test_when_prefill_is_short_the_input_side_sets_the_budget() -> None:
    # uncached input per output token: 3.6 x (1 - 0.56) = 1.584; ITPM = OTPM only gives 1 per output
    rate = FleetRate(otpm=6e9, itpm=6e9, isl=1000, osl=1000)
    got = plan_budget(rate, PlanSpec("pro", users=1_000_000, share=0.5))
    assert got.binding == "input"
    assert got.out_tokens_5h == math.floor(6e9 * 0.5 * 300 / 1e6 / 1.584)


def test_the_extra_gpus_for_a_doubled_budget_double_it_when_added() -> None:
    systems = {"h100_sxm": a_system()}
    cap = Capacity({"H100": 10_000}, "counts")
    plans = [PlanSpec("max", users=50_000, share=0.6)]
    before = plan_serving(
        cap, a_target(isl=4000), a_footprint(), systems, FakePredictor(), catalog=CATALOG, plans=plans
    )
    (scale,) = before.scaling
    assert scale.extra_gpus_alone["H100"] == scale.extra_gpus_same_mix == 6_000
    bigger = Capacity({"H100": 10_000 + scale.extra_gpus_alone["H100"]}, "counts")
    # the extra GPUs go to the plan: its share of the bigger fleet is (0.6 x 10k + 6k) / 16k
    plans_after = [PlanSpec("max", users=50_000, share=12_000 / 16_000)]
    after = plan_serving(
        bigger, a_target(isl=4000), a_footprint(), systems, FakePredictor(), catalog=CATALOG, plans=plans_after
    )
    assert after.plans[0].out_tokens_5h >= 2 * before.plans[0].out_tokens_5h - 1


# -- bad input -----------------------------------------------------------------------
def test_every_bad_target_field_is_named_at_once() -> None:
    with pytest.raises(RequestError) as e:
        a_target(isl=0, osl=-1, tpot_ms=0.0, ttft_ms=float("nan"), precision="int3")
    fields = [p.split(":")[0] for p in e.value.problems]
    assert fields == ["isl", "osl", "tpot_ms", "ttft_ms", "precision"]


def test_tiers_and_plans_taking_more_than_the_whole_fleet_are_refused() -> None:
    cap = Capacity({"H100": 8}, "counts")
    with pytest.raises(RequestError) as e:
        plan_serving(
            cap,
            a_target(),
            a_footprint(),
            {"h100_sxm": a_system()},
            FakePredictor(),
            catalog=CATALOG,
            tiers=[TierSpec("scale", 10, 0.7)],
            plans=[PlanSpec("max", 100, 0.5), PlanSpec("Max", 100, 0.1)],
            headroom=1.5,
        )
    text = str(e.value)
    assert "more than 1" in text
    assert "'Max' is given twice" in text
    assert "headroom" in text


@pytest.mark.parametrize(
    ("text", "needle"),
    [
        ("scale:10", "expected NAME:ORGS:SHARE"),
        ("scale:ten:0.1", "ORGS must be a whole number"),
        ("scale:10:lots", "SHARE must be a number"),
        ("scale:10:0.1:inf", "OVERSUBSCRIPTION must be finite"),
    ],
)
def test_a_bad_tier_names_the_part_that_is_wrong(text: str, needle: str) -> None:
    with pytest.raises(RequestError, match=needle):
        parse_tier(text)


def test_a_published_tier_name_brings_its_ceiling_and_a_plan_parses() -> None:
    assert parse_tier("Scale:100:0.3:2").ceiling == "scale"
    assert parse_tier("gold:100:0.3").ceiling is None
    assert parse_plan("max:200000:0.3") == PlanSpec("max", 200_000, 0.3)
    with pytest.raises(RequestError, match="USERS must be a whole number"):
        parse_plan("max:many:0.3")


def test_one_nvlink_domain_keeps_every_replica_within_the_systems_domain() -> None:
    moe = a_footprint(name="moe", dense_weight_bytes=16 * GB, expert_weight_bytes=300 * GB, kv_heads=None)
    wide = best_configuration(a_target(), moe, a_system(), FakePredictor())
    narrow = best_configuration(a_target(one_nvlink_domain=True), moe, a_system(), FakePredictor())
    assert isinstance(wide, Choice)
    assert isinstance(narrow, Choice)
    grid = candidate_grid(moe)
    assert narrow.tried == int((grid.tp * grid.pp * grid.dp <= 8).sum()) < wide.tried == len(grid.tp)
    assert narrow.candidate.gpus <= 8


def test_a_model_larger_than_one_nvlink_domain_is_refused_saying_so() -> None:
    big = a_footprint(name="big", dense_weight_bytes=16 * GB, expert_weight_bytes=640 * GB, kv_heads=None)
    wide = best_configuration(a_target(), big, a_system(), FakePredictor())
    assert isinstance(wide, Choice)
    assert wide.candidate.gpus > 8
    found = best_configuration(a_target(one_nvlink_domain=True), big, a_system(), FakePredictor())
    assert isinstance(found, NoChoice)
    assert "does not fit h100_sxm within one NVLink domain" in found.reason


# -- disaggregated splits ------------------------------------------------------------
def test_a_split_meets_both_limits_and_its_rate_counts_both_pools() -> None:
    from neocloud.economics.serving.plan import Split
    from neocloud.economics.serving.split import best_split

    target = a_target(tpot_ms=40.0, ttft_ms=3000.0)
    found = best_split(target, a_footprint(), a_system(), FakePredictor())
    assert isinstance(found, Choice)
    unit = found.candidate
    assert isinstance(unit, Split)
    assert found.ttft_ms <= 3000.0
    assert found.tpot_ms <= 40.0
    gpus = unit.prefill_workers * unit.prefill.gpus + unit.decode_workers * unit.decode.gpus
    concurrency = unit.decode_workers * unit.decode.batch * unit.decode.attention_dp
    request_s = (found.ttft_ms + 999 * found.tpot_ms) / 1000
    assert found.out_tok_s_per_gpu == pytest.approx(concurrency * 1000 / request_s / gpus)
    assert unit.prefill.batch == 1


def test_the_plan_takes_the_better_of_aggregated_and_split() -> None:
    from neocloud.economics.serving.split import best_deployment, best_split

    target = a_target(tpot_ms=40.0, ttft_ms=3000.0)
    agg = best_configuration(target, a_footprint(), a_system(), FakePredictor())
    split = best_split(target, a_footprint(), a_system(), FakePredictor())
    chosen = best_deployment(target, a_footprint(), a_system(), FakePredictor())
    assert isinstance(agg, Choice)
    assert isinstance(split, Choice)
    assert isinstance(chosen, Choice)
    assert chosen.out_tok_s_per_gpu == max(agg.out_tok_s_per_gpu, split.out_tok_s_per_gpu)


def test_a_split_search_stays_small() -> None:
    from neocloud.economics.serving.split import best_split

    predict = FakePredictor()
    best_split(a_target(), a_footprint(), a_system(), predict)
    assert len(predict.calls) == 2
    assert sum(n for _, n in predict.calls) <= 1000


def test_a_split_whose_requests_wait_too_long_for_prefill_is_not_chosen() -> None:
    from neocloud.economics.serving.split import best_split

    found = best_split(a_target(tpot_ms=40.0, ttft_ms=120.0), a_footprint(), a_system(), FakePredictor())
    assert isinstance(found, Choice)
    assert found.ttft_ms <= 120.0


def _count_in(note: str, noun: str) -> int:
    found = re.search(rf"at most ([0-9,]+) {noun}", note)
    assert found, note
    return int(found.group(1).replace(",", ""))


def test_a_tier_whose_share_rounds_to_zero_rpm_says_how_many_orgs_would_get_one() -> None:
    rate = FleetRate(otpm=1e6, itpm=2e6, isl=2000, osl=1000)  # 1,000 requests a minute in all
    got = tier_limits(rate, TierSpec("start", orgs=200_000, share=0.1, oversubscription=4.0))
    assert got.per_org.rpm == 0
    assert got.zero_note is not None
    most = _count_in(got.zero_note, "organisations")
    assert "the capacity" in got.zero_note
    assert tier_limits(rate, TierSpec("start", orgs=most, share=0.1, oversubscription=4.0)).per_org.rpm == 1
    assert tier_limits(rate, TierSpec("start", orgs=most + 1, share=0.1, oversubscription=4.0)).per_org.rpm == 0
    assert tier_limits(rate, TierSpec("start", orgs=most, share=0.1, oversubscription=4.0)).zero_note is None


def test_a_plan_whose_budget_is_under_one_message_says_how_many_users_would_get_one() -> None:
    rate = FleetRate(otpm=1e6, itpm=1e7, isl=2000, osl=1000)
    got = plan_budget(rate, PlanSpec("pro", users=5_000_000, share=0.2))
    assert got.messages_5h == 0
    assert got.zero_note is not None
    most = _count_in(got.zero_note, "users")
    assert plan_budget(rate, PlanSpec("pro", users=most, share=0.2)).messages_5h == 1
    assert plan_budget(rate, PlanSpec("pro", users=most + 1, share=0.2)).messages_5h == 0
    assert plan_budget(rate, PlanSpec("pro", users=most, share=0.2)).zero_note is None
