"""GPU serials in fleet files: YAML lists and patterns, the node table's column, and
a fleet written back out (inline or as a table) reading in with the same serials."""

from __future__ import annotations

from pathlib import Path

from neocloud.adapters.fleetfile import load_fleet
from neocloud.adapters.fleetfile.io import save_spec
from neocloud.domain.presets import preset
from neocloud.domain.spec import build_fleet, spec_from_fleet
from tests.integration.test_fleetfile import HEADER, problems, with_table, write

DOC = {
    "version": 1,
    "sites": [
        {
            "name": "s1",
            "region": "r",
            "power_mw": 1.0,
            "pue": 1.2,
            "electricity_usd_per_kwh": 0.07,
            "pods": [
                {
                    "name": "p1",
                    "blocks": [
                        {
                            "name": "b1",
                            "node_groups": [
                                {
                                    "count": 2,
                                    "gpu_model": "H100",
                                    "gpu_count": 2,
                                    "id_pattern": "{block}-n{i}",
                                    "gpu_serial_pattern": "G-{block}-{i}-{g}",
                                }
                            ],
                            "nodes": [{"id": "x1", "gpu_model": "H100", "gpu_count": 2, "gpu_serials": ["A", "B"]}],
                        }
                    ],
                }
            ],
        }
    ],
    "overrides": [{"id": "b1-n2", "gpu_serials": ["G-b1-2-0", "RMA-REPLACED"]}],
}


def test_a_yaml_file_gives_gpu_serials_from_a_pattern_a_list_and_an_override(tmp_path: Path) -> None:
    fleet = load_fleet(write(tmp_path, DOC))
    assert {n.id: n.gpu_serials for n in fleet.nodes} == {
        "b1-n1": ("G-b1-1-0", "G-b1-1-1"),
        "b1-n2": ("G-b1-2-0", "RMA-REPLACED"),
        "x1": ("A", "B"),
    }


def test_a_duplicate_in_the_yaml_is_named_with_the_file_and_the_place(tmp_path: Path) -> None:
    doc = {**DOC, "overrides": [{"id": "b1-n2", "gpu_serials": ["A", "C"]}]}
    [(file, location, message)] = problems(write(tmp_path, doc))
    # nodes are checked in fleet order: the group's b1-n2 (as overridden) comes before x1
    assert (file, location) == (str(tmp_path / "fleet.yaml"), "sites[0].pods[0].blocks[0].nodes[0].gpu_serials[0]")
    assert message == (
        "node 'x1' GPU 0: duplicate GPU serial 'A', already GPU 0 of node 'b1-n2' (overrides[0].gpu_serials[0])"
    )


def test_an_empty_gpu_serial_in_the_yaml_is_a_schema_error(tmp_path: Path) -> None:
    doc = {**DOC, "overrides": [{"id": "b1-n2", "gpu_serials": ["", "C"]}]}
    [(_, location, message)] = problems(write(tmp_path, doc))
    assert location == "overrides[0].gpu_serials[0]"
    assert "at least 1 character" in message


def test_a_node_table_column_lists_gpu_serials_separated_by_spaces(tmp_path: Path) -> None:
    header = HEADER.rstrip("\n") + ",gpu_serials\n"
    path = with_table(tmp_path, header + "t1,H100,s1,s1-p1,s1-b1,SN-t1,2,,healthy,T-0 T-1\n")
    fleet = load_fleet(path)
    assert fleet.nodes[-1].gpu_serials == ("T-0", "T-1")


def test_a_node_table_row_with_too_few_serials_names_the_table_row_and_column(tmp_path: Path) -> None:
    header = HEADER.rstrip("\n") + ",gpu_serials\n"
    path = with_table(tmp_path, header + "t1,H100,s1,s1-p1,s1-b1,SN-t1,2,,healthy,T-0\n")
    [(file, location, message)] = problems(path)
    assert (file, location) == (str(tmp_path / "nodes.csv"), "row 2, column gpu_serials")
    assert message.startswith("node 't1' has 1 GPU serials for 2 GPUs")


def test_a_fleet_written_inline_or_as_a_table_reads_back_with_its_gpu_serials(tmp_path: Path) -> None:
    fleet = build_fleet(preset("demo"))
    for table in (None, "demo.nodes.csv"):
        path = tmp_path / f"{table or 'inline'}.yaml"
        save_spec(spec_from_fleet(fleet, table_path=table, name="demo"), path)
        back = load_fleet(path)
        assert [n.gpu_serials for n in back.nodes] == [n.gpu_serials for n in fleet.nodes]


def test_a_node_table_without_gpu_serials_keeps_its_familiar_columns(tmp_path: Path) -> None:
    fleet = build_fleet(preset("demo"))
    for node in fleet.nodes:
        node.gpu_serials = ()
    save_spec(spec_from_fleet(fleet, table_path="t.csv"), tmp_path / "f.yaml")
    assert (tmp_path / "t.csv").read_text(encoding="utf-8").splitlines()[0] + "\n" == HEADER
