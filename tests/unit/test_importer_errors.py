"""Importers on small CSVs: schema by header name, every bad row reported, modelling rules."""

from __future__ import annotations

import gzip
from pathlib import Path

import pytest

from neocloud.adapters.importers import IMPORTERS
from neocloud.adapters.importers.alibaba import import_openb, import_pai, import_spot, read_openb
from neocloud.adapters.importers.crux import import_crux
from neocloud.adapters.importers.philly import import_philly
from neocloud.adapters.importers.zhejiang import import_zhejiang
from neocloud.domain.errors import SpecError
from neocloud.domain.spec import FleetSpec, build_fleet


def write(tmp_path: Path, text: str, name: str = "in.csv") -> Path:
    path = tmp_path / name
    path.write_text(text, encoding="utf-8")
    return path


def problems(spec_error: pytest.ExceptionInfo[SpecError]) -> list[tuple[str, str]]:
    return [(e.location, e.message) for e in spec_error.value.errors]


def nodes(spec: FleetSpec) -> dict[str, tuple[str, int, str]]:
    fleet = build_fleet(spec)
    return {n.id: (n.gpu_model, n.gpu_count, n.block) for n in fleet.nodes}


# -- schema: columns by name -------------------------------------------------


def test_a_missing_column_names_the_column_and_the_header(tmp_path):
    path = write(tmp_path, "machineId, number of GPUs\nm0,2\n")
    with pytest.raises(SpecError) as info:
        import_philly(path)
    [(location, message)] = problems(info)
    assert location == "row 1, column single GPU mem"
    assert message.startswith("missing column")
    assert info.value.errors[0].file == str(path)


def test_a_non_numeric_gpu_count_is_reported_with_its_row_and_column(tmp_path):
    path = write(tmp_path, "machineId, number of GPUs, single GPU mem\nm0,2, 12GB\nm1,two, 12GB\n")
    with pytest.raises(SpecError) as info:
        import_philly(path)
    assert problems(info) == [("row 3, column number of GPUs", "expected a whole number, got 'two'")]


def test_every_bad_row_is_reported_at_once(tmp_path):
    text = "sn,gpu,model\nn1,x,T4\nn2,,T4\nn3,2,\nn4,-1,T4\nn1,2,T4\n"
    with pytest.raises(SpecError) as info:
        import_openb(write(tmp_path, text))
    assert problems(info) == [
        ("row 2, column gpu", "expected a whole number, got 'x'"),
        ("row 3, column gpu", "empty value"),
        ("row 4, column model", "empty value"),
        ("row 5, column gpu", "expected 0 or more, got '-1'"),
        ("row 6, column sn", "duplicate 'n1' (first at row 2)"),
    ]


def test_reordered_and_extra_columns_are_accepted(tmp_path):
    text = "rack,model , gpu,sn,cpu_milli\nr1,T4,2,n1,32000\nr2,G2,8,n2,96000\n"
    spec = import_openb(write(tmp_path, text))
    assert nodes(spec) == {"n1": ("T4", 2, "alibaba-openb-T4"), "n2": ("G2", 8, "alibaba-openb-G2")}


def test_header_spaces_bom_crlf_and_blank_lines_are_tolerated(tmp_path):
    path = tmp_path / "in.csv"
    path.write_bytes(b"\xef\xbb\xbfmachineId , number of GPUs , single GPU mem\r\n\r\nm0, 8 , 24 GB\r\n")
    assert nodes(import_philly(path)) == {"m0": ("philly-24GB", 8, "philly-24GB")}


def test_gzipped_files_are_read(tmp_path):
    path = tmp_path / "nodes.csv.gz"
    with gzip.open(path, "wt", encoding="utf-8") as fh:
        fh.write("gpu_model,gpu_capacity_num,cpu_num,node_name\nH800,8,128,0\n")
    assert nodes(import_spot(path)) == {"0": ("H800", 8, "alibaba-spot-H800")}


def test_a_missing_file_is_one_clear_error(tmp_path):
    with pytest.raises(SpecError) as info:
        IMPORTERS["pai"](tmp_path / "absent.csv")
    assert problems(info) == [("", "file not found")]


def test_an_empty_file_asks_for_the_header(tmp_path):
    with pytest.raises(SpecError) as info:
        import_crux(write(tmp_path, ""))
    [(location, message)] = problems(info)
    assert location == "row 1"
    assert "ip, DSW, PSW, ASW" in message


def test_a_file_without_gpu_machines_is_an_error(tmp_path):
    with pytest.raises(SpecError) as info:
        import_pai(write(tmp_path, "machine,gpu_type,cap_gpu\nc1,CPU,0\n"))
    assert problems(info) == [("", "no GPU machines in the file (1 CPU-only rows skipped)")]


def test_a_bad_memory_size_is_reported(tmp_path):
    with pytest.raises(SpecError) as info:
        import_philly(write(tmp_path, "machineId,number of GPUs,single GPU mem\nm0,2,lots\n"))
    assert problems(info) == [("row 2, column single GPU mem", "expected a memory size such as '12GB', got 'lots'")]


# -- modelling ----------------------------------------------------------------


def test_cpu_only_rows_are_skipped_and_counted(tmp_path):
    path = write(tmp_path, "sn,cpu_milli,memory_mib,gpu,model\nc1,32000,1024,0,\nn1,32000,1024,2,T4\n")
    inventory = read_openb(path)
    assert (inventory.cpu_only, [n.id for n in inventory.nodes]) == (1, ["n1"])


def test_a_builtin_model_name_uses_the_catalog_and_others_are_declared(tmp_path):
    text = "gpu_model,gpu_capacity_num,node_name\nh100-sxm,8,a\nA100-SXM4-80GB,4,b\nA100-SXM4-80GB,8,c\n"
    spec = import_spot(write(tmp_path, text))
    assert [(m.name, m.gpus_per_node, m.memory_gb, m.tdp_w, m.node_power_kw) for m in spec.gpu_models] == [
        ("A100-SXM4-80GB", 8, 80.0, None, None)
    ]
    assert nodes(spec)["a"] == ("H100", 8, "alibaba-spot-H100")
    assert nodes(spec)["b"] == ("A100-SXM4-80GB", 4, "alibaba-spot-A100-SXM4-80GB")


def test_model_names_differing_only_in_case_are_one_model(tmp_path):
    spec = import_openb(write(tmp_path, "sn,gpu,model\nn1,2,t4\nn2,4,T4\n"))
    assert [(m.name, m.gpus_per_node) for m in spec.gpu_models] == [("t4", 4)]
    assert {m for m, _, _ in nodes(spec).values()} == {"t4"}


def test_sites_have_unknown_power_and_price_and_the_default_pue(tmp_path):
    spec = import_philly(write(tmp_path, "machineId,number of GPUs,single GPU mem\nm0,2,12GB\n"))
    [site] = spec.sites
    assert (site.power_mw, site.electricity_usd_per_kwh, site.pue) == (None, None, 1.25)


def test_crux_names_blocks_by_their_path_when_tor_names_repeat(tmp_path):
    text = "ip,DSW,PSW,ASW\nh1,G1,P1,S1\nh2,G1,P2,S1\nh3,G1,P10,S2\nh4,G1,P2,S1\n"
    spec = import_crux(write(tmp_path, text))
    fleet = build_fleet(spec)
    assert [p.name for p in fleet.pods] == ["G1-P1", "G1-P2", "G1-P10"]
    assert {n.id: n.block for n in fleet.nodes} == {
        "h1": "G1-P1-S1",
        "h2": "G1-P2-S1",
        "h4": "G1-P2-S1",
        "h3": "G1-P10-S2",
    }
    assert {n.gpu_count for n in fleet.nodes} == {8}


def test_crux_reports_repeated_hosts_and_empty_switches(tmp_path):
    with pytest.raises(SpecError) as info:
        import_crux(write(tmp_path, "ip,DSW,PSW,ASW\nh1,G1,P1,S1\nh1,G1,P1,S2\nh2,G1,,S1\n"))
    assert problems(info) == [
        ("row 3, column ip", "duplicate 'h1' (first at row 2)"),
        ("row 4, column PSW", "empty value"),
    ]


def test_zhejiang_groups_leaves_that_share_a_server_so_each_server_is_in_one_block(tmp_path):
    rows = [
        # rail-optimised: each server on leaves L1 and L2; a separate pair L3/L4; one server on L5 only
        ("s1", "L1"),
        ("s1", "L2"),
        ("s2", "L2"),
        ("s2", "L1"),
        ("s3", "L3"),
        ("s3", "L4"),
        ("s4", "L5"),
        ("s5", "L4"),
    ]
    text = "serverIP,nicname,switchname,sysname,extra\n" + "".join(f",nic,{leaf},{srv},x\n" for srv, leaf in rows)
    fleet = build_fleet(import_zhejiang(write(tmp_path, text)))
    assert {n.id: n.block for n in fleet.nodes} == {
        "s1": "leafgroup-1",
        "s2": "leafgroup-1",
        "s3": "leafgroup-2",
        "s5": "leafgroup-2",
        "s4": "leafgroup-3",
    }
    assert {(n.gpu_model, n.gpu_count) for n in fleet.nodes} == {("A100", 8)}


def test_zhejiang_requires_server_and_leaf_names(tmp_path):
    with pytest.raises(SpecError) as info:
        import_zhejiang(write(tmp_path, "sysname,switchname\ns1,\n"))
    assert problems(info) == [("row 2, column switchname", "empty value")]
    with pytest.raises(SpecError) as info:
        import_zhejiang(write(tmp_path, "serverIP,switchname\n10.0.0.1,L1\n"))
    assert [loc for loc, _ in problems(info)] == ["row 1, column sysname"]


def test_a_file_that_is_not_gzip_despite_its_name_is_one_error(tmp_path):
    path = tmp_path / "nodes.csv.gz"
    path.write_bytes(b"sn,gpu,model\n")
    with pytest.raises(SpecError) as info:
        import_openb(path)
    [(location, message)] = problems(info)
    assert (location, message.startswith("not a readable gzip file")) == ("", True)
