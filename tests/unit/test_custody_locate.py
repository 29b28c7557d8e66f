"""Which node a serial names: a GPU serial first, then a node serial, then a node id;
a node serial shared by several nodes is refused with their ids, never guessed."""

from __future__ import annotations

import pytest

from neocloud.billing.custody import Matched, locate
from neocloud.domain.errors import NotFound, RequestError
from neocloud.domain.spec import build_fleet
from tests.builders import a_block, a_fleet, a_node, a_site


def fleet(*nodes):
    return build_fleet(a_fleet(a_site(blocks=(a_block("b1", node_groups=(), nodes=nodes),)))).nodes


NODES = fleet(
    a_node("x1", serial="SN-1", gpu_count=2, gpu_serials=("G-a", "G-b")),
    a_node("x2", serial="SN-2"),
    a_node("x3", serial="SN-2"),
)


def test_a_gpu_serial_names_its_node_and_index():
    found = locate(NODES, "G-b")
    assert (found.node.id, found.matched, found.gpu_index, found.gpu_serial) == ("x1", Matched.GPU_SERIAL, 1, "G-b")


def test_a_node_serial_and_a_node_id_name_the_node_without_a_gpu():
    assert (locate(NODES, "SN-1").node.id, locate(NODES, "SN-1").matched) == ("x1", Matched.NODE_SERIAL)
    assert (locate(NODES, " x2 ").node.id, locate(NODES, "x2").matched) == ("x2", Matched.NODE_ID)


def test_a_node_serial_shared_by_two_nodes_is_refused_with_both_ids():
    with pytest.raises(RequestError, match=r"serial: 'SN-2' is the serial of 2 nodes \(x2, x3\); give a node id"):
        locate(NODES, "SN-2")


def test_nothing_with_that_serial_is_not_found_naming_the_field():
    with pytest.raises(NotFound, match="serial: no GPU serial, node serial or node id 'G-z' in the fleet"):
        locate(NODES, "G-z")
