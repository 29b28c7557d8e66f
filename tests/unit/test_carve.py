"""Carving: locality is honoured, best fit keeps whole blocks whole, infeasible says why."""

from __future__ import annotations

import numpy as np
import pytest

from neocloud.domain.presets import preset
from neocloud.domain.shape import Locality, Shape, Unit
from neocloud.domain.spec import build_fleet
from neocloud.placement.carve import Infeasible, Placement, carve
from neocloud.placement.snapshot import FleetSnapshot, build_snapshot


@pytest.fixture(scope="module")
def snap() -> FleetSnapshot:
    # 4 pods x 4 blocks of 64 H100 nodes, 8 GB200 racks
    spec = preset(
        "generic", {"power_mw": "20", "mix": "H100:0.6,GB200:0.3", "block_gpus": "512", "blocks_per_pod": "4"}
    )
    return build_snapshot(build_fleet(spec))


def free(snap: FleetSnapshot) -> np.ndarray:
    return np.zeros(len(snap.node_ids), bool)


def placed(result: Placement | Infeasible) -> Placement:
    assert isinstance(result, Placement), result
    return result


def test_block_locality_keeps_every_node_in_one_block(snap):
    p = placed(carve(snap, ~free(snap), Shape(("H100",), gpus=256, locality=Locality.BLOCK)))
    assert p.gpus == 256
    assert np.unique(snap.node_block[p.nodes]).size == 1


def test_best_fit_picks_the_fullest_block_that_still_fits(snap):
    taken = free(snap)
    first = placed(carve(snap, ~taken, Shape(("H100",), gpus=448, locality=Locality.BLOCK)))
    taken[first.nodes] = True
    second = placed(carve(snap, ~taken, Shape(("H100",), gpus=64, locality=Locality.BLOCK)))
    assert snap.node_block[second.nodes[0]] == snap.node_block[first.nodes[0]]


def test_first_fit_takes_the_lowest_index_instead(snap):
    taken = free(snap)
    a = placed(carve(snap, ~taken, Shape(("H100",), gpus=64, locality=Locality.BLOCK), policy="first_fit"))
    assert (
        snap.node_block[a.nodes[0]] == snap.node_block[np.flatnonzero(snap.node_model == snap.models.index("H100"))[0]]
    )


def test_a_large_request_takes_whole_blocks_first(snap):
    p = placed(carve(snap, ~free(snap), Shape(("H100",), gpus=512 * 3 + 64, locality=Locality.SITE)))
    per_block = np.bincount(snap.node_block[p.nodes])
    assert sorted(per_block[per_block > 0].tolist()) == [8, 64, 64, 64]


def test_whole_nvl72_racks_are_whole_domains(snap):
    p = placed(carve(snap, ~free(snap), Shape(("GB200",), unit=Unit.NVLINK_DOMAIN, units=2, locality=Locality.BLOCK)))
    assert p.gpus == 144
    assert np.unique(snap.node_domain[p.nodes]).size == 2


def test_whole_site_takes_every_node_whatever_the_model(snap):
    p = placed(carve(snap, ~free(snap), Shape(tuple(snap.models), unit=Unit.SITE, site=snap.site_names[0])))
    assert p.gpus == snap.total_gpus


def test_whole_units_must_be_entirely_free(snap):
    taken = free(snap)
    taken[0] = True
    r = carve(snap, ~taken, Shape(tuple(snap.models), unit=Unit.SITE, site=snap.site_names[0]))
    assert isinstance(r, Infeasible)
    assert "at most 0 available" in r.reason


def test_infeasible_names_the_largest_request_that_would_fit(snap):
    r = carve(snap, ~free(snap), Shape(("H100",), gpus=1024, locality=Locality.BLOCK))
    assert isinstance(r, Infeasible)
    assert r.max_gpus == 512
    assert "at most 512 do" in r.reason


def test_gpu_counts_must_be_whole_nodes(snap):
    r = carve(snap, ~free(snap), Shape(("H100",), gpus=12))
    assert isinstance(r, Infeasible)
    assert "ask for 8 or 16" in r.reason


def test_only_eligible_nodes_are_ever_placed(snap):
    """Placement reads no health of its own: the caller's eligible mask (free and,
    for GPU counts, healthy) is the only word on which nodes may be used."""
    eligible = np.random.default_rng(7).random(len(snap.node_ids)) < 0.5
    p = placed(carve(snap, eligible, Shape(("H100",), gpus=800)))
    assert eligible[p.nodes].all()


def test_models_are_tried_in_order(snap):
    p = placed(carve(snap, ~free(snap), Shape(("B200", "GB200"), gpus=72, locality=Locality.NVLINK_DOMAIN)))
    assert p.model == "GB200"
