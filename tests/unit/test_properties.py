"""Properties that hold for every fleet: power budgets, the hierarchy, YAML round trips, health."""

from __future__ import annotations

import itertools
import tempfile
from collections import defaultdict
from dataclasses import replace
from datetime import UTC, datetime
from pathlib import Path

import numpy as np
import pytest
from hypothesis import HealthCheck, example, given, settings
from hypothesis import strategies as st

from neocloud.adapters.fleetfile import load_spec, save_spec
from neocloud.domain.catalog import builtin_catalog
from neocloud.domain.health import TRANSITIONS, Health, IllegalTransition, transition
from neocloud.domain.presets import preset
from neocloud.domain.spec import (
    BlockSpec,
    FleetSpec,
    GpuModelSpec,
    NodeGroupSpec,
    NodeOverride,
    NodeSpec,
    NodeTable,
    PodSpec,
    RackSpec,
    SiteSpec,
    TableRow,
    build_fleet,
    spec_from_fleet,
)
from neocloud.placement.snapshot import build_snapshot

CATALOG = builtin_catalog()
HGX_MODELS = ("H100", "H200", "B200")
NVL_MODELS = ("GB200", "GB300")
GENERIC_MODELS = HGX_MODELS + NVL_MODELS
FAST = settings(max_examples=40, deadline=None, suppress_health_check=[HealthCheck.too_slow])
T0 = datetime(2025, 1, 1, tzinfo=UTC)


# -- a. generated fleets respect every power budget ----------------------------------


@st.composite
def generic_settings(draw: st.DrawFn) -> dict[str, str]:
    models = draw(st.lists(st.sampled_from(GENERIC_MODELS), min_size=1, max_size=5, unique=True))
    weights = draw(st.lists(st.integers(1, 100), min_size=len(models), max_size=len(models)))
    total = draw(st.integers(sum(weights), 2 * sum(weights)))  # shares add up to at most 1
    mix = ",".join(f"{m}:{w / total!r}" for m, w in zip(models, weights, strict=True))
    return {
        "power_mw": repr(draw(st.floats(0.05, 6.0))),
        "mix": mix,
        "block_gpus": str(draw(st.integers(1, 2048))),
        "fill": repr(draw(st.floats(0.0, 1.0))),
    }


def assert_within_power_budgets(spec: FleetSpec) -> None:
    fleet = build_fleet(spec)
    rack_kw: dict[str, float] = defaultdict(float)
    site_kw: dict[str, float] = defaultdict(float)
    for node in fleet.nodes:
        model = CATALOG.get(node.gpu_model)
        assert model is not None
        assert model.node_power_kw is not None
        assert node.rack is not None
        rack_kw[node.rack] += model.node_power_kw
        site_kw[node.site] += model.node_power_kw
    for rack in fleet.racks:
        assert rack.power_kw is not None
        assert rack_kw[rack.name] <= rack.power_kw + 1e-6, rack.name
    for site in fleet.sites:
        assert site.power_mw is not None
        assert site_kw[site.name] / 1000 <= site.power_mw + 1e-9, site.name


@FAST
@given(generic_settings())
def test_generic_fleets_fit_every_rack_and_site_budget(params: dict[str, str]) -> None:
    assert_within_power_budgets(preset("generic", params))


def test_b200_racks_of_the_generic_preset_fit_their_budget() -> None:
    assert_within_power_budgets(preset("generic", {"power_mw": "2", "mix": "B200:1.0"}))


# -- b. every GPU belongs to exactly one node, domain, block, pod and site -----------


@st.composite
def buildable_blocks(draw: st.DrawFn, name: str) -> BlockSpec:
    """A block of mixed HGX and NVL72 groups and explicit nodes that always builds."""
    groups = []
    for gi in range(draw(st.integers(0, 2))):
        model = draw(st.sampled_from(HGX_MODELS + NVL_MODELS))
        gpus_per_node = 4 if model in NVL_MODELS else 8
        racked = model in NVL_MODELS or draw(st.booleans())
        groups.append(
            NodeGroupSpec(
                count=draw(st.integers(1, 40)),
                gpu_model=model,
                id_pattern=f"{{block}}-g{gi}-n{{i:03d}}",
                serial_pattern=draw(st.sampled_from([None, f"SN-{{block}}-{gi}-{{i}}"])),
                rack_pattern=f"{{block}}-g{gi}-r{{r}}" if racked else None,
                nodes_per_rack=draw(st.integers(1, 18 if model in NVL_MODELS else 8)) if racked else None,
                gpu_count=draw(st.none() | st.integers(1, gpus_per_node)),
                start=draw(st.integers(0, 3)),
                rack_start=draw(st.integers(0, 3)),
            )
        )
    nodes = []
    for ni in range(draw(st.integers(0, 5))):
        model = draw(st.sampled_from(HGX_MODELS + NVL_MODELS))
        if model in NVL_MODELS:  # one NVL rack per model, at most 5 nodes in it
            rack: str | None = f"{name}-{model}"
        else:
            rack = draw(st.sampled_from([None, f"{name}-hgx"]))
        nodes.append(NodeSpec(f"{name}-x{ni}", model, rack=rack, health=draw(st.sampled_from(list(Health)))))
    return BlockSpec(name, node_groups=tuple(groups), nodes=tuple(nodes))


@st.composite
def buildable_specs(draw: st.DrawFn) -> FleetSpec:
    sites = []
    for si in range(draw(st.integers(1, 2))):
        pods = []
        for pi in range(draw(st.integers(1, 2))):
            blocks = [draw(buildable_blocks(f"s{si}-p{pi}-b{bi}")) for bi in range(draw(st.integers(1, 2)))]
            pods.append(PodSpec(f"s{si}-p{pi}", tuple(blocks)))
        sites.append(SiteSpec(f"s{si}", "r", None, 1.25, 0.07, pods=tuple(pods)))
    return FleetSpec(name="prop", sites=tuple(sites))


@FAST
@given(buildable_specs())
def test_every_gpu_belongs_to_exactly_one_node_domain_block_pod_and_site(spec: FleetSpec) -> None:
    fleet = build_fleet(spec)
    snap = build_snapshot(fleet)

    assert sorted(snap.node_ids) == sorted(n.id for n in fleet.nodes)
    assert len(set(snap.node_ids)) == len(snap.node_ids)
    assert int(snap.node_gpus.sum()) == int(snap.block_gpus.sum()) == int(snap.domain_gpus.sum()) == fleet.gpu_count
    assert int(snap.domain_nodes.sum()) == len(fleet.nodes)

    # node -> domain -> block, and node -> block -> pod -> site agree
    np.testing.assert_array_equal(snap.domain_block[snap.node_domain], snap.node_block)
    np.testing.assert_array_equal(snap.block_pod[snap.node_block], snap.node_pod)
    np.testing.assert_array_equal(snap.block_site[snap.node_block], snap.node_site)
    pod_site = np.array([snap.site_names.index(p.site) for p in fleet.pods], np.int32)
    np.testing.assert_array_equal(pod_site[snap.block_pod], snap.block_site)

    # and they agree with the fleet's own names
    by_id = {n.id: n for n in fleet.nodes}
    for k, node_id in enumerate(snap.node_ids):
        node = by_id[node_id]
        assert snap.block_names[snap.node_block[k]] == node.block
        assert snap.pod_names[snap.node_pod[k]] == node.pod
        assert snap.site_names[snap.node_site[k]] == node.site
        assert snap.domain_ids[snap.node_domain[k]] == node.nvlink_domain
        assert snap.models[snap.node_model[k]] == node.gpu_model

    # a domain is one model, and no bigger than its model allows
    for d, dom in enumerate(snap.domain_ids):
        members = [n for n in fleet.nodes if n.nvlink_domain == dom]
        assert {n.gpu_model for n in members} == {snap.models[snap.domain_model[d]]}
        model = CATALOG.get(members[0].gpu_model)
        assert model is not None
        assert snap.domain_gpus[d] <= model.nvlink_domain_gpus


# -- c. YAML round trip is lossless --------------------------------------------------

# Names may hold anything YAML must quote; table cells lose surrounding whitespace
# (the reader strips DCIM padding), so those are generated already stripped.
_TRICKY = st.sampled_from(
    ["null", "true", "no", "~", "1", "1.5", "0x1F", "1_000", "- x", "a: b", "#c", "'q'", '"', "*a"]
)
_TEXT = st.text(st.characters(exclude_categories=("Cs", "Co", "Cn")), min_size=1, max_size=12)
NAMES = _TEXT | _TRICKY
CELLS = NAMES.map(str.strip).filter(bool)
POSITIVE = st.floats(min_value=0.0, exclude_min=True, allow_nan=False, allow_infinity=False)
NON_NEGATIVE = st.floats(min_value=0.0, allow_nan=False, allow_infinity=False)
HEALTH = st.sampled_from(list(Health))


def opt(strategy: st.SearchStrategy) -> st.SearchStrategy:
    return st.none() | strategy


NODE_GROUPS = st.builds(
    NodeGroupSpec,
    count=st.integers(1, 10**6),
    gpu_model=NAMES,
    id_pattern=NAMES,
    serial_pattern=opt(NAMES),
    rack_pattern=opt(NAMES),
    nodes_per_rack=opt(st.integers(1, 100)),
    rack_power_kw=opt(POSITIVE),
    gpu_count=opt(st.integers(1, 16)),
    start=st.integers(0, 10**6),
    rack_start=st.integers(0, 10**6),
)
NODES = st.builds(
    NodeSpec,
    id=NAMES,
    gpu_model=NAMES,
    serial=opt(NAMES),
    gpu_count=opt(st.integers(1, 16)),
    rack=opt(NAMES),
    health=HEALTH,
)
BLOCKS = st.builds(
    BlockSpec,
    name=NAMES,
    racks=st.lists(st.builds(RackSpec, name=NAMES, power_kw=opt(POSITIVE)), max_size=2).map(tuple),
    node_groups=st.lists(NODE_GROUPS, max_size=2).map(tuple),
    nodes=st.lists(NODES, max_size=2).map(tuple),
)
PODS = st.builds(PodSpec, name=NAMES, blocks=st.lists(BLOCKS, max_size=2).map(tuple))
SITES = st.builds(
    SiteSpec,
    name=NAMES,
    region=st.text(max_size=8) | _TRICKY,
    power_mw=opt(POSITIVE),
    pue=st.floats(1.0, 3.0),
    electricity_usd_per_kwh=opt(NON_NEGATIVE),
    facility_power_mw=opt(POSITIVE),
    rack_power_kw=opt(POSITIVE),
    pods=st.lists(PODS, max_size=2).map(tuple),
)
GPU_MODELS = st.builds(
    GpuModelSpec,
    name=NAMES,
    gpus_per_node=st.integers(1, 16),
    memory_gb=opt(POSITIVE),
    tdp_w=opt(POSITIVE),
    node_power_kw=opt(POSITIVE),
    nvlink_domain_gpus=opt(st.integers(1, 576)),
)
OVERRIDES = st.builds(NodeOverride, id=NAMES, health=opt(HEALTH), serial=opt(NAMES))


@st.composite
def node_tables(draw: st.DrawFn, path: str) -> NodeTable:
    rows = draw(
        st.lists(
            st.builds(
                TableRow,
                row=st.just(0),
                id=CELLS,
                gpu_model=CELLS,
                site=CELLS,
                pod=CELLS,
                block=CELLS,
                serial=opt(CELLS),
                gpu_count=opt(st.integers(1, 16)),
                rack=opt(CELLS),
                health=HEALTH,
            ),
            max_size=4,
        )
    )
    # row numbers are line numbers: the header is line 1
    return NodeTable(path, tuple(replace(r, row=k + 2) for k, r in enumerate(rows)))


@st.composite
def any_specs(draw: st.DrawFn) -> FleetSpec:
    """Any spec the schema accepts; it need not build."""
    paths = draw(st.lists(st.sampled_from(["nodes.csv", "more.csv", "tables/nodes.csv"]), max_size=2, unique=True))
    return FleetSpec(
        name=draw(opt(st.text(max_size=8) | _TRICKY)),
        gpu_models=tuple(draw(st.lists(GPU_MODELS, max_size=2))),
        sites=tuple(draw(st.lists(SITES, min_size=1, max_size=2))),
        node_tables=tuple(draw(node_tables(p)) for p in paths),
        overrides=tuple(draw(st.lists(OVERRIDES, max_size=2))),
    )


def round_trip(spec: FleetSpec) -> FleetSpec:
    with tempfile.TemporaryDirectory() as tmp:
        path = Path(tmp) / "fleet.yaml"
        save_spec(spec, path)
        return load_spec(path)


CR_IN_A_CELL = FleetSpec(
    sites=(SiteSpec("s", "", None, 1.0, None),),
    node_tables=(NodeTable("nodes.csv", (TableRow(2, "a\rb", "H100", "s", "p", "b"),)),),
)


@FAST
@example(CR_IN_A_CELL)
@given(any_specs())
def test_saving_then_loading_a_spec_gives_it_back_unchanged(spec: FleetSpec) -> None:
    assert round_trip(spec) == spec


@settings(max_examples=25, deadline=None)
@given(buildable_specs(), st.booleans())
def test_a_fleet_written_as_a_spec_builds_back_to_the_same_nodes(spec: FleetSpec, with_table: bool) -> None:
    fleet = build_fleet(spec)
    listed = spec_from_fleet(fleet, table_path="nodes.csv" if with_table else None, name=spec.name)
    with tempfile.TemporaryDirectory() as tmp:
        path = Path(tmp) / "fleet.yaml"
        written = save_spec(listed, path)
        loaded = load_spec(path)
        assert (Path(tmp) / "nodes.csv" in written) is with_table
        rebuilt = build_fleet(loaded, file=str(path), table_dir=tmp)
    assert loaded == listed
    assert rebuilt.nodes == fleet.nodes
    assert rebuilt.racks == fleet.racks
    assert rebuilt.blocks == fleet.blocks


# -- d. health transitions follow the table ------------------------------------------


@pytest.mark.parametrize(("current", "target"), sorted(TRANSITIONS))
def test_every_listed_transition_is_accepted_and_recorded(current: Health, target: Health) -> None:
    before = transition("n1", Health.HEALTHY, Health.MAINTENANCE, at=T0, reason="setup")[1]
    state, history = transition("n1", current, target, at=T0, reason="why", history=before)
    assert state is target
    assert history[:-1] == before
    last = history[-1]
    assert (last.node_id, last.from_state, last.to_state, last.at, last.reason) == ("n1", current, target, T0, "why")


UNLISTED = sorted(set(itertools.product(Health, Health)) - set(TRANSITIONS))


@pytest.mark.parametrize(("current", "target"), UNLISTED)
def test_every_unlisted_transition_is_refused_naming_both_states(current: Health, target: Health) -> None:
    with pytest.raises(IllegalTransition) as info:
        transition("n1", current, target, at=T0, reason="why")
    assert f"'n1': cannot go from {current.value} to {target.value}" in str(info.value)


def test_retired_is_terminal() -> None:
    assert not [edge for edge in TRANSITIONS if edge[0] is Health.RETIRED]
    for target in Health:
        with pytest.raises(IllegalTransition, match="none \\(terminal state\\)"):
            transition("n1", Health.RETIRED, target, at=T0, reason="resurrect")


def test_every_state_but_retired_can_reach_retired_and_healthy() -> None:
    reach: dict[Health, set[Health]] = {h: {h} for h in Health}
    for _ in Health:
        for src, dst in TRANSITIONS:
            reach[src] |= reach[dst]
    for state in Health:
        if state is not Health.RETIRED:
            assert {Health.RETIRED, Health.HEALTHY} <= reach[state], state


def test_a_transition_needs_an_aware_time() -> None:
    with pytest.raises(ValueError, match="timezone-aware"):
        transition("n1", Health.HEALTHY, Health.FAILED, at=datetime(2025, 1, 1), reason="naive")  # noqa: DTZ001


@FAST
@given(st.lists(st.sampled_from(list(Health)), max_size=30))
def test_a_walk_of_legal_steps_keeps_one_record_per_step_in_order(targets: list[Health]) -> None:
    state, history = Health.HEALTHY, ()
    taken = []
    for k, target in enumerate(targets):
        at = T0.replace(minute=k)
        if (state, target) in TRANSITIONS:
            state, history = transition("n1", state, target, at=at, reason=f"step {k}", history=history)
            taken.append(target)
        else:
            with pytest.raises(IllegalTransition):
                transition("n1", state, target, at=at, reason=f"step {k}", history=history)
    assert [h.to_state for h in history] == taken
    assert all(a.to_state is b.from_state for a, b in itertools.pairwise(history))
    assert state is (taken[-1] if taken else Health.HEALTHY)
