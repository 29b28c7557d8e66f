"""Expanding a fleet spec: structure, NVLink domains, budgets and every semantic error."""

from __future__ import annotations

import pytest

from neocloud.domain.errors import SpecError
from neocloud.domain.health import Health
from neocloud.domain.spec import NodeOverride, RackSpec, build_fleet
from tests.builders import a_block, a_fleet, a_group, a_node, a_site


def errors_of(spec) -> list[str]:
    with pytest.raises(SpecError) as info:
        build_fleet(spec, file="f.yaml")
    return [f"{e.location}: {e.message}" for e in info.value.errors]


def test_a_group_expands_to_nodes_racks_and_one_domain_per_hgx_node():
    fleet = build_fleet(a_fleet())
    assert [n.id for n in fleet.nodes] == ["s1-b1-n01", "s1-b1-n02", "s1-b1-n03", "s1-b1-n04"]
    assert [n.rack for n in fleet.nodes] == ["s1-b1-r1", "s1-b1-r1", "s1-b1-r2", "s1-b1-r2"]
    assert {n.nvlink_domain for n in fleet.nodes} == {n.id for n in fleet.nodes}
    assert fleet.gpu_count == 32


def test_nvl72_nodes_share_their_rack_as_nvlink_domain():
    group = a_group(count=36, gpu_model="GB200", nodes_per_rack=18, rack_power_kw=120.0)
    fleet = build_fleet(a_fleet(a_site(blocks=(a_block("b1", node_groups=(group,)),))))
    assert {n.nvlink_domain for n in fleet.nodes} == {"b1-r1", "b1-r2"}
    assert fleet.gpu_count == 144


def test_unknown_gpu_model_names_the_path_and_the_known_models():
    spec = a_fleet(a_site(blocks=(a_block("b1", node_groups=(), nodes=(a_node(gpu_model="H1000"),)),)))
    [msg] = errors_of(spec)
    assert msg.startswith("sites[0].pods[0].blocks[0].nodes[0].gpu_model: unknown GPU model 'H1000'")
    assert "H100" in msg


def test_duplicate_node_id_points_at_both_places():
    block = a_block("b1", node_groups=(), nodes=(a_node("x"), a_node("x")))
    [msg] = errors_of(a_fleet(a_site(blocks=(block,))))
    assert msg == (
        "sites[0].pods[0].blocks[0].nodes[1]: duplicate node id 'x' "
        "(first defined at sites[0].pods[0].blocks[0].nodes[0])"
    )


def test_a_node_placed_twice_across_blocks_is_refused():
    b1 = a_block("b1", node_groups=(), nodes=(a_node("x"),))
    b2 = a_block("b2", node_groups=(), nodes=(a_node("x"),))
    [msg] = errors_of(a_fleet(a_site(blocks=(b1, b2))))
    assert "duplicate node id 'x'" in msg
    assert "blocks[1]" in msg


def test_rack_over_its_power_budget():
    group = a_group(rack_power_kw=20.0)  # 2 x 10.2 kW H100 nodes per rack
    msgs = errors_of(a_fleet(a_site(blocks=(a_block("b1", node_groups=(group,)),))))
    assert len(msgs) == 2
    assert "rack 'b1-r1' draws 20.4 kW at node maximum, over its budget of 20 kW" in msgs[0]


def test_site_over_its_it_budget():
    msgs = errors_of(a_fleet(a_site(power_mw=0.03)))
    assert msgs == ["sites[0].power_mw: site 's1' IT load is 0.04 MW at node maximum, over its IT budget of 0.03 MW"]


def test_site_over_its_facility_budget_counts_pue():
    msgs = errors_of(a_fleet(a_site(pue=1.5, facility_power_mw=0.05)))
    assert msgs == [
        "sites[0].facility_power_mw: site 's1' draws 0.06 MW with PUE 1.5 (0.04 MW IT), "
        "over its facility budget of 0.05 MW"
    ]


def test_every_error_of_a_spec_is_reported_at_once():
    block = a_block("b1", nodes=(a_node("x", gpu_model="nope"), a_node("b1-n01")))
    msgs = errors_of(a_fleet(a_site(blocks=(block,), power_mw=0.001)))
    assert len(msgs) == 3


def test_nvl_nodes_without_a_rack_are_refused():
    block = a_block("b1", node_groups=(), nodes=(a_node("g", gpu_model="GB200"),))
    [msg] = errors_of(a_fleet(a_site(blocks=(block,))))
    assert msg.startswith("sites[0].pods[0].blocks[0].nodes[0].rack: GB200 nodes need a rack")


def test_an_nvl_rack_cannot_hold_more_than_its_domain():
    group = a_group(count=19, gpu_model="GB200", nodes_per_rack=19, rack_power_kw=200.0)
    [msg] = errors_of(a_fleet(a_site(blocks=(a_block("b1", node_groups=(group,)),))))
    assert "holds 19 GB200 nodes; its NVLink domain takes at most 18" in msg


def test_gpu_count_above_the_node_size_is_refused():
    block = a_block("b1", node_groups=(), nodes=(a_node("x", gpu_count=9),))
    [msg] = errors_of(a_fleet(a_site(blocks=(block,))))
    assert msg == "sites[0].pods[0].blocks[0].nodes[0].gpu_count: 9 GPUs on a H100 node; expected 1 to 8"


def test_duplicate_site_pod_block_and_rack_names():
    block = a_block("b1", racks=(RackSpec("r"), RackSpec("r")))
    msgs = errors_of(a_fleet(a_site("s", blocks=(block,)), a_site("s")))
    assert any("duplicate rack name 'r'" in m for m in msgs)
    assert any(m.startswith("sites[1].name: duplicate site name 's'") for m in msgs)


def test_bad_patterns_are_refused_with_the_allowed_fields():
    group = a_group(id_pattern="{node.__class__}")
    [msg] = errors_of(a_fleet(a_site(blocks=(a_block("b1", node_groups=(group,)),))))
    assert "node_groups[0].id_pattern" in msg
    assert "allowed fields" in msg


def test_overrides_set_health_and_unknown_ids_are_errors():
    spec = a_fleet(overrides=(NodeOverride("s1-b1-n02", health=Health.FAILED),))
    fleet = build_fleet(spec)
    assert [n.health for n in fleet.nodes].count(Health.FAILED) == 1
    [msg] = errors_of(a_fleet(overrides=(NodeOverride("ghost", health=Health.FAILED),)))
    assert msg == "overrides[0].id: no node has id 'ghost'"


def test_a_node_keeps_the_history_of_its_health_changes():
    from datetime import UTC, datetime

    from neocloud.domain.health import IllegalTransition

    node = build_fleet(a_fleet()).nodes[0]
    at = datetime(2027, 1, 1, tzinfo=UTC)
    node.change_health(Health.FAILED, at=at, reason="xid 79")
    node.change_health(Health.MAINTENANCE, at=at, reason="RMA")
    assert [(h.from_state, h.to_state) for h in node.history] == [
        (Health.HEALTHY, Health.FAILED),
        (Health.FAILED, Health.MAINTENANCE),
    ]
    node.change_health(Health.RETIRED, at=at, reason="beyond repair")
    with pytest.raises(IllegalTransition, match="terminal"):
        node.change_health(Health.HEALTHY, at=at, reason="no")
    assert node.health is Health.RETIRED
    assert len(node.history) == 3
