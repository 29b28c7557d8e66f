"""Fleet files on disk: every error names the file and the path inside it, all at once."""

from __future__ import annotations

from dataclasses import replace
from pathlib import Path
from typing import Any

import pytest
import yaml

from neocloud.adapters.fleetfile import dump_spec, load_fleet
from neocloud.domain.errors import SpecError
from neocloud.domain.spec import BlockSpec, FleetSpec, NodeTable, PodSpec, RackSpec
from tests.builders import a_block, a_fleet, a_group, a_node, a_site

HEADER = "id,gpu_model,site,pod,block,serial,gpu_count,rack,health\n"
GOOD_ROW = "t1,H100,s1,s1-p1,s1-b1,SN-t1,8,,healthy\n"


def data_of(spec: FleetSpec) -> dict[str, Any]:
    data: dict[str, Any] = yaml.safe_load(dump_spec(spec))
    return data


def write(tmp_path: Path, content: dict[str, Any] | str | FleetSpec, name: str = "fleet.yaml") -> Path:
    path = tmp_path / name
    if isinstance(content, FleetSpec):
        content = dump_spec(content)
    elif isinstance(content, dict):
        content = yaml.safe_dump(content, sort_keys=False)
    path.write_text(content, encoding="utf-8")
    return path


def problems(path: Path) -> list[tuple[str, str, str]]:
    """(file, location, message) of every error ``load_fleet`` raises for ``path``."""
    with pytest.raises(SpecError) as info:
        load_fleet(path)
    return [(e.file, e.location, e.message) for e in info.value.errors]


def with_table(tmp_path: Path, table: str, spec: FleetSpec | None = None) -> Path:
    """A fleet file whose nodes.csv holds ``table`` (written as given)."""
    (tmp_path / "nodes.csv").write_text(table, encoding="utf-8")
    return write(tmp_path, replace(spec or a_fleet(), node_tables=(NodeTable("nodes.csv"),)))


# -- a valid file, the baseline every error test departs from ------------------------


def test_a_valid_file_with_a_node_table_loads_whole(tmp_path: Path) -> None:
    path = with_table(tmp_path, HEADER + GOOD_ROW)
    fleet = load_fleet(path)
    assert [n.id for n in fleet.nodes] == ["s1-b1-n01", "s1-b1-n02", "s1-b1-n03", "s1-b1-n04", "t1"]
    assert fleet.nodes[-1].serial == "SN-t1"
    assert fleet.gpu_count == 40


# -- structure and types (the schema) ------------------------------------------------


def test_a_missing_field_is_named_by_its_path(tmp_path: Path) -> None:
    data = data_of(a_fleet())
    del data["sites"][0]["pue"]
    path = write(tmp_path, data)
    assert problems(path) == [(str(path), "sites[0].pue", "missing required field")]


@pytest.mark.parametrize(
    ("where", "key", "value", "location"),
    [
        ("group", "count", "lots", "sites[0].pods[0].blocks[0].node_groups[0].count"),
        ("group", "count", "64", "sites[0].pods[0].blocks[0].node_groups[0].count"),
        ("site", "power_mw", "big", "sites[0].power_mw"),
        ("site", "pue", "1.2", "sites[0].pue"),
    ],
)
def test_a_string_where_a_number_belongs_is_refused_not_coerced(
    tmp_path: Path, where: str, key: str, value: str, location: str
) -> None:
    data = data_of(a_fleet())
    site = data["sites"][0]
    target = site if where == "site" else site["pods"][0]["blocks"][0]["node_groups"][0]
    target[key] = value
    path = write(tmp_path, data)
    [(file, loc, message)] = problems(path)
    assert (file, loc) == (str(path), location)
    assert message.endswith(f"(got {value!r})")


def test_a_value_out_of_range_is_refused(tmp_path: Path) -> None:
    data = data_of(a_fleet())
    data["sites"][0]["pue"] = 0.8
    path = write(tmp_path, data)
    [(file, loc, message)] = problems(path)
    assert (file, loc) == (str(path), "sites[0].pue")
    assert "greater than or equal to 1" in message


def test_an_unknown_field_is_named_by_its_path(tmp_path: Path) -> None:
    data = data_of(a_fleet())
    data["sites"][0]["pods"][0]["blocks"][0]["colour"] = "red"
    path = write(tmp_path, data)
    assert problems(path) == [(str(path), "sites[0].pods[0].blocks[0].colour", "unknown field")]


def test_invalid_yaml_names_the_line_and_column(tmp_path: Path) -> None:
    path = write(tmp_path, "version: 1\nsites: [\n  - name: x\n")
    [(file, loc, message)] = problems(path)
    assert (file, loc) == (str(path), "line 3, column 3")
    assert message.startswith("invalid YAML: ")


def test_a_key_written_twice_is_an_error_not_a_silent_overwrite(tmp_path: Path) -> None:
    text = dump_spec(a_fleet())
    assert "  pods:\n" in text
    # a second, empty pods list after the first would silently drop every node
    path = write(tmp_path, text + "  pods: []\n")
    [(file, loc, message)] = problems(path)
    assert file == str(path)
    assert loc.startswith(f"line {len(text.splitlines()) + 1}, column 3")
    assert message.startswith("invalid YAML: duplicate key 'pods' (first at line ")


@pytest.mark.parametrize(
    ("text", "kind"),
    [("- version: 1\n", "list"), ("", "empty"), ("42\n", "int"), ("just words\n", "str")],
)
def test_a_top_level_that_is_not_a_mapping_is_refused(tmp_path: Path, text: str, kind: str) -> None:
    path = write(tmp_path, text)
    assert problems(path) == [(str(path), "", f"expected a mapping at the top level, got {kind}")]


def test_a_missing_fleet_file_is_named(tmp_path: Path) -> None:
    path = tmp_path / "nope.yaml"
    assert problems(path) == [(str(path), "", "file not found")]


# -- meaning (the domain) ------------------------------------------------------------


def four_pods_with_a_bad_node() -> FleetSpec:
    """Four pods of two blocks; node 7 of block 1 of pod 3 has an unknown GPU model."""
    pods = []
    for p in range(4):
        nodes = tuple(a_node(f"p{p}-x{i}", gpu_model="H1000" if (p, i) == (3, 7) else "H100") for i in range(8))
        pods.append(PodSpec(f"p{p}", (a_block(f"p{p}-b0"), BlockSpec(f"p{p}-b1", nodes=nodes))))
    return a_fleet(replace(a_site(), pods=tuple(pods)))


def test_an_unknown_gpu_model_deep_in_the_tree_is_named_by_its_exact_path(tmp_path: Path) -> None:
    path = write(tmp_path, four_pods_with_a_bad_node())
    [(file, loc, message)] = problems(path)
    assert (file, loc) == (str(path), "sites[0].pods[3].blocks[1].nodes[7].gpu_model")
    assert message == "unknown GPU model 'H1000'; known: H100, H200, B200, GB200, GB300"


def test_duplicate_ids_point_at_the_second_and_name_the_first(tmp_path: Path) -> None:
    b1 = a_block("b1", node_groups=(), nodes=(a_node("x"),))
    b2 = a_block("b2", node_groups=(), nodes=(a_node("y"), a_node("x")))
    path = write(tmp_path, a_fleet(a_site(blocks=(b1, b2))))
    assert problems(path) == [
        (
            str(path),
            "sites[0].pods[0].blocks[1].nodes[1]",
            "duplicate node id 'x' (first defined at sites[0].pods[0].blocks[0].nodes[0])",
        )
    ]


def test_duplicate_block_names_across_sites_are_refused(tmp_path: Path) -> None:
    path = write(tmp_path, a_fleet(a_site("s1", blocks=(a_block("b"),)), a_site("s2", blocks=(a_block("b"),))))
    assert problems(path) == [(str(path), "sites[1].pods[0].blocks[0].name", "duplicate block name 'b'")]


def test_a_node_named_like_an_nvl72_rack_cannot_share_its_nvlink_domain(tmp_path: Path) -> None:
    nodes = (a_node("r1"), a_node("g1", gpu_model="GB200", rack="r1"), a_node("g2", gpu_model="GB200", rack="r1"))
    path = write(tmp_path, a_fleet(a_site(blocks=(a_block("b1", node_groups=(), nodes=nodes),))))
    [(file, loc, message)] = problems(path)
    assert (file, loc) == (str(path), "sites[0].pods[0].blocks[0].nodes[1]")
    assert message.startswith("rack 'r1' is an NVLink domain with the name of node 'r1'")


TWO_NODES_IN_R = (a_node("x", rack="r"), a_node("y", rack="r"))  # 2 x 10.2 kW H100


@pytest.mark.parametrize(
    ("block", "site_rack_kw", "location"),
    [
        (
            a_block("b1", node_groups=(a_group(rack_power_kw=20.0),)),
            None,
            "sites[0].pods[0].blocks[0].node_groups[0].rack_power_kw",
        ),
        (
            a_block("b1", racks=(RackSpec("r", 20.0),), node_groups=(), nodes=TWO_NODES_IN_R),
            None,
            "sites[0].pods[0].blocks[0].racks[0].power_kw",
        ),
        (a_block("b1", node_groups=(a_group(rack_power_kw=None),)), 20.0, "sites[0].rack_power_kw"),
        (a_block("b1", node_groups=(), nodes=TWO_NODES_IN_R), 20.0, "sites[0].rack_power_kw"),
    ],
    ids=["group budget", "declared rack", "site default for a group", "site default for nodes"],
)
def test_a_rack_over_budget_points_at_the_budget_it_breaks(
    tmp_path: Path, block: BlockSpec, site_rack_kw: float | None, location: str
) -> None:
    path = write(tmp_path, a_fleet(a_site(blocks=(block,), rack_power_kw=site_rack_kw)))
    found = problems(path)
    assert {(file, loc) for file, loc, _ in found} == {(str(path), location)}
    assert "draws 20.4 kW at node maximum, over its budget of 20 kW" in found[0][2]


def test_a_site_over_its_it_budget_names_power_mw(tmp_path: Path) -> None:
    path = write(tmp_path, a_fleet(a_site(power_mw=0.03)))
    assert problems(path) == [
        (
            str(path),
            "sites[0].power_mw",
            "site 's1' IT load is 0.04 MW at node maximum, over its IT budget of 0.03 MW",
        )
    ]


def test_a_site_over_its_facility_budget_counts_the_pue(tmp_path: Path) -> None:
    # 4 x 10.2 kW = 40.8 kW of IT fits 0.05 MW; x PUE 1.5 = 61.2 kW does not
    path = write(tmp_path, a_fleet(a_site(pue=1.5, facility_power_mw=0.05)))
    assert problems(path) == [
        (
            str(path),
            "sites[0].facility_power_mw",
            "site 's1' draws 0.06 MW with PUE 1.5 (0.04 MW IT), over its facility budget of 0.05 MW",
        )
    ]
    assert load_fleet(write(tmp_path, a_fleet(a_site(pue=1.2, facility_power_mw=0.05)), "ok.yaml")).gpu_count == 32


# -- node tables ---------------------------------------------------------------------


@pytest.mark.parametrize(
    ("table", "location", "message"),
    [
        ("id,gpu_model,site,pod\nt1,H100,s1,s1-p1\n", "row 1 (header)", "missing column 'block'"),
        (HEADER + GOOD_ROW + "t2,H100,s1,s1-p1,nope,,,,\n", "row 3, column block", "unknown block 'nope'"),
        (HEADER + "t1,H100,s2,s1-p1,s1-b1,,,,\n", "row 2, column site", "block 's1-b1' is in site 's1'"),
        (
            HEADER + "t1,H100,s1,s1-p1,s1-b1,,,,sick\n",
            "row 2, column health",
            "unknown health 'sick'; allowed: healthy, degraded, failed, maintenance, retired",
        ),
        (
            HEADER + "t1,H100,s1,s1-p1,s1-b1,,eight,,\n",
            "row 2, column gpu_count",
            "expected a whole number, got 'eight'",
        ),
        (HEADER + "t1,H100,s1,s1-p1,s1-b1,,9,,\n", "row 2, column gpu_count", "9 GPUs on a H100 node; expected 1 to 8"),
        (HEADER + "t1,H1000,s1,s1-p1,s1-b1,,,,\n", "row 2, column gpu_model", "unknown GPU model 'H1000'"),
        (HEADER + GOOD_ROW + "t2,H100,s1\n", "row 3", "3 values, expected 9"),
        (HEADER + ",H100,s1,s1-p1,s1-b1,,,,\n", "row 2, column id", "empty value"),
        (HEADER + GOOD_ROW + GOOD_ROW, "row 3", "duplicate node id 't1' (first defined at "),
    ],
    ids=[
        "missing column",
        "unknown block",
        "wrong site",
        "bad health",
        "bad gpu_count",
        "too many gpus",
        "unknown model",
        "short row",
        "empty id",
        "duplicate id",
    ],
)
def test_a_node_table_problem_names_the_table_row_and_column(
    tmp_path: Path, table: str, location: str, message: str
) -> None:
    path = with_table(tmp_path, table)
    [(file, loc, msg)] = problems(path)
    assert (file, loc) == (str(tmp_path / "nodes.csv"), location)
    assert msg.startswith(message)


def test_a_missing_node_table_is_named_where_the_yaml_refers_to_it(tmp_path: Path) -> None:
    path = write(tmp_path, a_fleet(node_tables=(NodeTable("nodes.csv"), NodeTable("gone.csv"))))
    (tmp_path / "nodes.csv").write_text(HEADER + GOOD_ROW, encoding="utf-8")
    assert problems(path) == [
        (str(path), "node_tables[1].path", f"node table {tmp_path / 'gone.csv'} not found"),
    ]


def test_a_node_table_path_that_is_a_directory_is_named_where_the_yaml_refers_to_it(tmp_path: Path) -> None:
    (tmp_path / "tables").mkdir()
    path = write(tmp_path, a_fleet(node_tables=(NodeTable("tables"),)))
    assert problems(path) == [(str(path), "node_tables[0].path", f"node table {tmp_path / 'tables'} is a directory")]


def test_a_node_table_that_is_not_utf8_names_the_row(tmp_path: Path) -> None:
    path = with_table(tmp_path, "")
    (tmp_path / "nodes.csv").write_bytes((HEADER + GOOD_ROW).encode() + b"t\xff2,H100,s1,s1-p1,s1-b1,,,,\n")
    assert problems(path) == [(str(tmp_path / "nodes.csv"), "row 3", "not valid UTF-8 (byte 0xff)")]


def test_a_node_table_saved_by_a_spreadsheet_with_a_bom_loads(tmp_path: Path) -> None:
    path = with_table(tmp_path, "\ufeff" + HEADER + GOOD_ROW)
    assert load_fleet(path).nodes[-1].id == "t1"


# -- all at once, and nothing half-done ----------------------------------------------


def test_every_structural_error_is_reported_at_once(tmp_path: Path) -> None:
    data = data_of(a_fleet())
    del data["sites"][0]["pue"]
    data["sites"][0]["colour"] = "red"
    data["sites"][0]["pods"][0]["blocks"][0]["node_groups"][0]["count"] = "lots"
    path = write(tmp_path, data)
    assert {loc for _, loc, _ in problems(path)} == {
        "sites[0].pue",
        "sites[0].colour",
        "sites[0].pods[0].blocks[0].node_groups[0].count",
    }


def test_every_semantic_error_in_the_yaml_and_its_tables_is_reported_at_once(tmp_path: Path) -> None:
    block = a_block("s1-b1", nodes=(a_node("x", gpu_model="nope"), a_node("s1-b1-n01")))
    spec = a_fleet(a_site(blocks=(block,), power_mw=0.001))
    table = HEADER + GOOD_ROW + "t2,H100,s1,s1-p1,elsewhere,,,,\n"
    path = with_table(tmp_path, table, spec)
    csv_file = str(tmp_path / "nodes.csv")
    assert [(f, loc) for f, loc, _ in problems(path)] == [
        (str(path), "sites[0].pods[0].blocks[0].nodes[0].gpu_model"),
        (str(path), "sites[0].pods[0].blocks[0].nodes[1]"),
        (csv_file, "row 3, column block"),
        (str(path), "sites[0].power_mw"),
    ]


def test_every_row_error_of_every_table_is_reported_at_once(tmp_path: Path) -> None:
    (tmp_path / "a.csv").write_text(HEADER + "t1,H100,s1,s1-p1,s1-b1,,x,,\nt2,H100,s1,s1-p1,s1-b1,,,,ill\n")
    (tmp_path / "b.csv").write_text("id,gpu_model,site,pod,block,colour\n")
    path = write(tmp_path, a_fleet(node_tables=(NodeTable("a.csv"), NodeTable("b.csv"), NodeTable("c.csv"))))
    assert [(f, loc) for f, loc, _ in problems(path)] == [
        (str(tmp_path / "a.csv"), "row 2, column gpu_count"),
        (str(tmp_path / "a.csv"), "row 3, column health"),
        (str(tmp_path / "b.csv"), "row 1 (header)"),
        (str(path), "node_tables[2].path"),
    ]


def test_a_failed_load_writes_nothing_beside_the_file(tmp_path: Path) -> None:
    path = with_table(tmp_path, HEADER + "t1,H100,s1,s1-p1,nope,,,,\n")
    before = {p: p.read_bytes() for p in tmp_path.iterdir()}
    problems(path)
    assert {p: p.read_bytes() for p in tmp_path.iterdir()} == before
