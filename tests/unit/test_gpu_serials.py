"""GPU serials in the fleet spec: one per GPU or none, unique across the fleet, from a
list on a node or an override, or a group's pattern with the GPU index ``{g}``."""

from __future__ import annotations

import pytest

from neocloud.domain.errors import SpecError
from neocloud.domain.presets import preset
from neocloud.domain.spec import NodeOverride, build_fleet
from tests.builders import a_block, a_fleet, a_group, a_node, a_site

NODE = "sites[0].pods[0].blocks[0].nodes"
GROUP = "sites[0].pods[0].blocks[0].node_groups[0]"


def errors_of(spec) -> list[str]:
    with pytest.raises(SpecError) as info:
        build_fleet(spec, file="f.yaml")
    return [f"{e.location}: {e.message}" for e in info.value.errors]


def nodes(*specs) -> object:
    return a_fleet(a_site(blocks=(a_block("b1", node_groups=(), nodes=specs),)))


def gpus(prefix: str, n: int = 8) -> tuple[str, ...]:
    return tuple(f"{prefix}-{g}" for g in range(n))


def test_a_group_pattern_gives_every_gpu_its_serial_by_node_and_index():
    group = a_group(count=2, gpu_serial_pattern="G-{block}-{i:02d}-{g}")
    fleet = build_fleet(a_fleet(a_site(blocks=(a_block("b1", node_groups=(group,)),))))
    assert fleet.nodes[0].gpu_serials == gpus("G-b1-01")
    assert fleet.nodes[1].gpu_serials == gpus("G-b1-02")


def test_a_gpu_index_with_a_format_spec_is_formatted_like_any_field():
    group = a_group(count=1, gpu_count=2, gpu_serial_pattern="G{i}{g:02d}")
    fleet = build_fleet(a_fleet(a_site(blocks=(a_block("b1", node_groups=(group,)),))))
    assert fleet.nodes[0].gpu_serials == ("G100", "G101")


def test_a_node_without_gpu_serials_has_none_and_is_valid():
    fleet = build_fleet(nodes(a_node("x1")))
    assert fleet.nodes[0].gpu_serials == ()


def test_a_listed_node_keeps_its_serials_in_index_order():
    fleet = build_fleet(nodes(a_node("x1", gpu_count=2, gpu_serials=("B", "A"))))
    assert fleet.nodes[0].gpu_serials == ("B", "A")


def test_fewer_serials_than_gpus_names_the_node_and_both_counts():
    [msg] = errors_of(nodes(a_node("x1", gpu_serials=("A", "B", "C"))))
    assert msg == (
        f"{NODE}[0].gpu_serials: node 'x1' has 3 GPU serials for 8 GPUs; give one per GPU, in GPU index order, or none"
    )


def test_a_serial_used_twice_names_both_gpus_and_where_the_first_was_written():
    first = a_node("x1", gpu_count=2, gpu_serials=("A", "B"))
    second = a_node("x2", gpu_count=2, gpu_serials=("C", "B"))
    [msg] = errors_of(nodes(first, second))
    assert msg == (
        f"{NODE}[1].gpu_serials[1]: node 'x2' GPU 1: duplicate GPU serial 'B', "
        f"already GPU 1 of node 'x1' ({NODE}[0].gpu_serials[1])"
    )


def test_a_serial_repeated_on_one_node_is_a_duplicate_too():
    [msg] = errors_of(nodes(a_node("x1", gpu_count=2, gpu_serials=("A", "A"))))
    assert "node 'x1' GPU 1: duplicate GPU serial 'A', already GPU 0 of node 'x1'" in msg


def test_a_gpu_serial_equal_to_a_node_serial_is_refused_as_ambiguous():
    spec = nodes(a_node("x1", serial="SN-1"), a_node("x2", gpu_count=1, gpu_serials=("SN-1",)))
    [msg] = errors_of(spec)
    assert msg.startswith(f"{NODE}[1].gpu_serials[0]: node 'x2' GPU 0: GPU serial 'SN-1' is also the id or serial")


def test_a_gpu_serial_with_whitespace_is_refused():
    [msg] = errors_of(nodes(a_node("x1", gpu_count=1, gpu_serials=("A B",))))
    assert msg == f"{NODE}[0].gpu_serials[0]: node 'x1' GPU 0: GPU serial 'A B' is empty or holds whitespace"


def test_a_pattern_without_the_gpu_index_is_refused_before_expansion():
    group = a_group(gpu_serial_pattern="G-{block}-{i}")
    [msg] = errors_of(a_fleet(a_site(blocks=(a_block("b1", node_groups=(group,)),))))
    assert msg == (
        f"{GROUP}.gpu_serial_pattern: pattern 'G-{{block}}-{{i}}' lacks {{g}} (the GPU index): "
        "every GPU of a node would get the same serial"
    )


def test_a_pattern_field_outside_the_language_names_the_allowed_ones():
    group = a_group(gpu_serial_pattern="G-{rack}-{g}")
    [msg] = errors_of(a_fleet(a_site(blocks=(a_block("b1", node_groups=(group,)),))))
    assert msg.startswith(f"{GROUP}.gpu_serial_pattern: pattern 'G-{{rack}}-{{g}}' uses {{rack}}")
    assert "{g}" in msg
    assert "{i}" in msg


def test_a_pattern_without_the_node_number_is_one_problem_for_the_group_not_one_per_gpu():
    group = a_group(count=4, gpu_serial_pattern="G-{block}-{g}")
    [msg] = errors_of(a_fleet(a_site(blocks=(a_block("b1", node_groups=(group,)),))))
    assert msg.startswith(f"{GROUP}.gpu_serial_pattern: node 'b1-n02' GPU 0: duplicate GPU serial 'G-b1-0'")
    assert msg.endswith("(and 23 more like it)")


def test_an_override_replaces_the_serials_of_one_gpu_swapped_in_an_rma():
    group = a_group(count=2, gpu_count=2, gpu_serial_pattern="G{i}-{g}")
    override = NodeOverride("b1-n01", gpu_serials=("G1-0", "NEW-7"))
    fleet = build_fleet(a_fleet(a_site(blocks=(a_block("b1", node_groups=(group,)),)), overrides=(override,)))
    assert fleet.nodes[0].gpu_serials == ("G1-0", "NEW-7")


def test_an_override_that_collides_is_named_at_the_override():
    group = a_group(count=2, gpu_count=2, gpu_serial_pattern="G{i}-{g}")
    override = NodeOverride("b1-n02", gpu_serials=("G1-0", "X"))
    spec = a_fleet(a_site(blocks=(a_block("b1", node_groups=(group,)),)), overrides=(override,))
    [msg] = errors_of(spec)
    assert msg == (
        "overrides[0].gpu_serials[0]: node 'b1-n02' GPU 0: duplicate GPU serial 'G1-0', "
        f"already GPU 0 of node 'b1-n01' ({GROUP}.gpu_serial_pattern)"
    )


def test_the_presets_give_every_gpu_a_serial_unique_across_the_fleet():
    fleet = build_fleet(preset("demo"))
    serials = [s for n in fleet.nodes for s in n.gpu_serials]
    assert all(len(n.gpu_serials) == n.gpu_count for n in fleet.nodes)
    assert len(set(serials)) == len(serials) == fleet.gpu_count
