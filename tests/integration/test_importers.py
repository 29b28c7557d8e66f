"""Importers on the real public inventories in ../shared/traces (skipped when absent).

Expected counts are the published ones (traces README sections 1, 2, 3, 5, 6, 13).
"""

from __future__ import annotations

from collections import Counter
from pathlib import Path

import pytest
from typer.testing import CliRunner

from neocloud.adapters.fleetfile.io import load_fleet, save_spec
from neocloud.adapters.importers import IMPORTERS
from neocloud.adapters.importers.alibaba import read_openb, read_pai
from neocloud.cli.main import app
from neocloud.domain.fleet import Fleet
from neocloud.domain.spec import FleetSpec, build_fleet, spec_from_fleet

SOURCES = {
    "philly": "microsoft-philly-2017/cluster_machine_list.csv",
    "openb": "alibaba-gpu-v2023-openb/csv/openb_node_list_all_node.csv",
    "pai": "alibaba-pai-v2020/pai_machine_spec.csv",
    "alibaba-spot": "alibaba-spot-gpu-v2026/node_info_df.csv",
    "crux": "alibaba-lingjun-crux-2023/topo.csv",
    "zhejiang": "zhejiang-lab-a100-2024/cluster_topology.csv",
}

pytestmark = pytest.mark.traces


def imported(traces: Path, fmt: str) -> tuple[FleetSpec, Fleet]:
    spec = IMPORTERS[fmt](traces / SOURCES[fmt])
    return spec, build_fleet(spec, file=f"{fmt}.yaml")


def gpus_by_model(fleet: Fleet) -> dict[str, int]:
    out: Counter[str] = Counter()
    for node in fleet.nodes:
        out[node.gpu_model] += node.gpu_count
    return dict(out)


def nodes_by_model(fleet: Fleet) -> dict[str, int]:
    return dict(Counter(n.gpu_model for n in fleet.nodes))


def test_every_format_is_registered():
    assert set(IMPORTERS) == set(SOURCES)


def test_philly_has_552_machines_and_2490_gpus_in_two_memory_classes(traces):
    spec, fleet = imported(traces, "philly")
    assert (len(fleet.nodes), fleet.gpu_count) == (552, 2490)
    assert nodes_by_model(fleet) == {"philly-12GB": 321, "philly-24GB": 231}
    assert {m.name: (m.gpus_per_node, m.memory_gb) for m in spec.gpu_models} == {
        "philly-12GB": (2, 12.0),
        "philly-24GB": (8, 24.0),
    }
    assert [b.name for b in fleet.blocks] == ["philly-12GB", "philly-24GB"]
    assert "m0" in {n.id for n in fleet.nodes}


def test_openb_keeps_1213_gpu_nodes_and_skips_310_cpu_only(traces):
    spec, fleet = imported(traces, "openb")
    assert (len(fleet.nodes), fleet.gpu_count) == (1213, 6212)
    assert read_openb(traces / SOURCES["openb"]).cpu_only == 310
    assert nodes_by_model(fleet) == {
        "G2": 549,
        "T4": 404,
        "P100": 134,
        "V100M16": 55,
        "G3": 39,
        "V100M32": 30,
        "A10": 2,
    }
    assert {m.name: m.gpus_per_node for m in spec.gpu_models}["T4"] == 4
    assert all(m.memory_gb is None and m.tdp_w is None for m in spec.gpu_models)
    assert spec.name == "alibaba-openb"


def test_pai_keeps_1814_gpu_machines_and_6742_gpus(traces):
    _, fleet = imported(traces, "pai")
    assert (len(fleet.nodes), fleet.gpu_count) == (1897 - 83, 6742)
    assert read_pai(traces / SOURCES["pai"]).cpu_only == 83
    assert nodes_by_model(fleet) == {"P100": 798, "T4": 497, "MISC": 280, "V100M32": 135, "V100": 104}


def test_spot_has_4278_nodes_and_10412_gpus_with_memory_only_where_named(traces):
    spec, fleet = imported(traces, "alibaba-spot")
    assert (len(fleet.nodes), fleet.gpu_count) == (4278, 10412)
    assert gpus_by_model(fleet) == {
        "A100-SXM4-80GB": 3456,
        "A10": 2494,
        "H800": 1752,
        "GPU-series-1": 1558,
        "GPU-series-2": 976,
        "A800-SXM4-80GB": 176,
    }
    memory = {m.name: m.memory_gb for m in spec.gpu_models}
    assert memory["A100-SXM4-80GB"] == 80.0
    assert memory["H800"] is None


def test_crux_keeps_its_clos_fabric_119_tor_blocks_in_3_pods(traces):
    _, fleet = imported(traces, "crux")
    assert len(fleet.nodes) == 847
    assert fleet.gpu_count == 847 * 8  # assumed 8 GPUs per host: the file has no GPU column
    assert [s.name for s in fleet.sites] == ["crux-G6"]
    assert [p.name for p in fleet.pods] == ["G6-P8", "G6-P10", "G6-P12"]
    assert len(fleet.blocks) == 119
    assert Counter(b.pod for b in fleet.blocks) == {"G6-P10": 48, "G6-P12": 42, "G6-P8": 29}
    # ToR names repeat under different PSWs; blocks are named by their whole path.
    assert {"G6-P8-S14", "G6-P10-S14", "G6-P12-S14"} <= {b.name for b in fleet.blocks}


def test_zhejiang_puts_each_of_253_servers_in_one_of_5_leaf_groups(traces):
    _, fleet = imported(traces, "zhejiang")
    assert (len(fleet.nodes), fleet.gpu_count) == (253, 253 * 8)
    assert len({n.id for n in fleet.nodes}) == 253
    sizes = Counter(n.block for n in fleet.nodes)
    assert sizes == {"leafgroup-1": 60, "leafgroup-2": 60, "leafgroup-3": 49, "leafgroup-4": 60, "leafgroup-5": 24}
    assert gpus_by_model(fleet) == {"A100": 2024}


@pytest.mark.parametrize("fmt", sorted(SOURCES))
def test_imported_fleets_survive_a_round_trip_through_yaml_and_a_node_table(traces, tmp_path, fmt):
    spec, fleet = imported(traces, fmt)
    save_spec(spec_from_fleet(fleet, table_path=f"{fmt}.nodes.csv", name=spec.name), tmp_path / f"{fmt}.yaml")
    loaded = load_fleet(tmp_path / f"{fmt}.yaml")
    assert (len(loaded.nodes), loaded.gpu_count, len(loaded.blocks)) == (
        len(fleet.nodes),
        fleet.gpu_count,
        len(fleet.blocks),
    )
    assert all(s.pue == 1.25 and s.power_mw is None and s.electricity_usd_per_kwh is None for s in loaded.sites)


def test_cli_imports_philly_and_the_result_validates(traces, tmp_path):
    runner = CliRunner()
    out = tmp_path / "philly.yaml"
    result = runner.invoke(app, ["fleet", "import", "philly", str(traces / SOURCES["philly"]), "-o", str(out)])
    assert result.exit_code == 0, result.output
    assert (tmp_path / "philly.nodes.csv").is_file()
    result = runner.invoke(app, ["fleet", "validate", str(out)])
    assert result.exit_code == 0, result.output
    assert "552 nodes, 2,490 GPUs" in " ".join(result.output.split())
