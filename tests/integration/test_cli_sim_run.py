"""``neocloud sim run``: figures piped, as JSON and as an HTML report; bad options exit 2 and write nothing."""

from __future__ import annotations

import json
import re
from pathlib import Path
from typing import Any

import pytest
from click.testing import Result
from typer.testing import CliRunner

from neocloud.cli.main import app

_ANSI = re.compile(r"\x1b\[[0-9;]*m")
TIRESIAS = "job_id,num_gpu,submit_time,iterations,model_name,duration,interval\n"
PHILLY = "microsoft-philly-2017/derived_rfold_philly_trace.csv.gz"
MACHINES = "microsoft-philly-2017/cluster_machine_list.csv"
REQUIRED = ("jobs", "jct_mean_s", "jct_p50_s", "jct_p99_s", "queue_mean_s", "makespan_s", "utilization_mean")


def sim(*args: str | Path, columns: int = 80) -> Result:
    return CliRunner().invoke(app, ["sim", "run", *map(str, args)], env={"FORCE_COLOR": None, "COLUMNS": str(columns)})


@pytest.fixture
def toy(tmp_path: Path) -> Path:
    """Four jobs on 16 GPUs: the 16-GPU job at 10 s waits for the 8-GPU one started at 0."""
    path = tmp_path / "toy.csv"
    path.write_text(TIRESIAS + "0,8,0,1,a,100,0\n1,16,10,1,b,50,0\n2,4,20,1,c,10,0\n3,2,30,1,d,5,0\n")
    return path


def as_json(*args: str | Path) -> dict[str, Any]:
    result = sim(*args, "--json", "-")
    assert result.exit_code == 0, result.output
    data: dict[str, Any] = json.loads(result.stdout)
    return data


def test_the_json_has_the_fields_scripts_depend_on(toy):
    data = as_json("--trace", f"tiresias:{toy}", "--cluster", "gpus:16x8", "--policy", "fifo")
    for key in (*REQUIRED, "preemptions", "wall_s"):
        assert key in data, key
    assert (data["jobs"], data["finished"], data["rejected"]) == (4, 4, 0)
    # FIFO: the 16-GPU job starts at 100, the two small ones behind it at 150
    assert data["makespan_s"] == 160
    assert data["jct_mean_s"] == pytest.approx(((100 - 0) + (150 - 10) + (160 - 20) + (155 - 30)) / 4)


def test_backfill_lets_the_small_jobs_run_before_the_blocked_one(toy):
    data = as_json("--trace", f"tiresias:{toy}", "--cluster", "gpus:16x8", "--policy", "backfill")
    assert data["queue_mean_s"] == pytest.approx((0 + 90 + 0 + 0) / 4)


def test_piped_output_is_a_summary_within_80_columns(toy):
    result = sim("--trace", f"tiresias:{toy}", "--cluster", "gpus:16x8", "--policy", "las", "--placement", "bestfit")
    assert result.exit_code == 0, result.output
    text = _ANSI.sub("", result.stdout)
    assert "las with bestfit placement" in text
    assert "4 submitted, 4 finished, 0 rejected" in text
    assert max(len(line) for line in text.splitlines()) <= 80


def test_json_and_report_files_are_written(toy, tmp_path):
    out, html = tmp_path / "run.json", tmp_path / "run.html"
    result = sim("--trace", f"tiresias:{toy}", "--cluster", "gpus:16x8", "--json", out, "--report", html)
    assert result.exit_code == 0, result.output
    assert json.loads(out.read_text())["jobs"] == 4
    page = html.read_text()
    assert page.startswith("<!doctype html>")
    assert page.count("<svg") == 3
    assert "<script" not in page


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (("--policy", "lottery"), "--policy 'lottery': one of fifo, backfill, sjf, las, fairshare, priority"),
        (("--placement", "random"), "--placement 'random': one of count, firstfit, bestfit, consolidated"),
        (("--window", "9:2"), "--window '9:2': FIRST is after LAST"),
        (("--window", "a:b"), "--window 'a:b': expected FIRST:LAST, like 40000:49999"),
        (("--estimate-error", "1.5"), "--estimate-error 1.5: expected a share from 0 to below 1"),
        (("--restart-s", "nan"), "--restart-s nan: expected a finite number of seconds, 0 or more"),
        (("--restart-s", "inf"), "--restart-s inf: expected a finite number of seconds, 0 or more"),
        (("--window", "7:9"), "--window 7:9: the trace has no job in it"),
        (
            ("--report", "no/such/folder/r.html"),
            "--report no/such/folder/r.html: the folder no/such/folder does not exist",
        ),
    ],
)
def test_bad_options_exit_2_naming_the_option_and_write_nothing(toy, tmp_path, args, message):
    out = tmp_path / "run.json"
    result = sim("--trace", f"tiresias:{toy}", "--cluster", "gpus:16x8", *args, "--json", out, columns=200)
    assert result.exit_code == 2
    assert message in _ANSI.sub("", result.output)
    assert not out.exists()


@pytest.fixture
def two_tenants(tmp_path: Path) -> Path:
    """Philly-VC rows: tenant a asks for all 16 GPUs at 0 s, tenant b for 8 at 1 s."""
    path = tmp_path / "vc.csv"
    path.write_text(
        "timestamp,duration,num_gpus,gpu_time,cluster\n"
        "2017-10-01 00:00:00,100,16,1600,a\n"
        "2017-10-01 00:00:01,50,8,400,b\n"
    )
    return path


def test_stated_quotas_hold_a_tenant_to_its_nominal_quota_plus_its_borrowing_limit(two_tenants):
    base = ("--trace", f"philly-vc:{two_tenants}", "--cluster", "gpus:16x8", "--policy", "fairshare")
    even = as_json(*base)
    assert (even["finished"], even["rejected"], even["quotas"]) == (2, 0, {})
    held = as_json(*base, "--quota", "a=8,borrow=4", "--quota", "b=8,lend=0,weight=2")
    assert (held["finished"], held["rejected"]) == (1, 1)
    assert held["rejections"] == ["asks for 16 GPUs; tenant 'a' may use at most 12"]
    assert held["quotas"] == {
        "a": {"nominal": 8, "borrowing_limit": 4, "lending_limit": None, "weight": 1.0},
        "b": {"nominal": 8, "borrowing_limit": None, "lending_limit": 0, "weight": 2.0},
    }


@pytest.mark.parametrize(
    ("quota", "message"),
    [
        (("a",), "--quota 'a': expected TENANT=GPUS[,borrow=N][,lend=N][,weight=W]"),
        (("a=x",), "--quota 'a=x': GPUS 'x' is not a whole number of GPUs, 0 or more"),
        (("a=-1",), "--quota 'a=-1': GPUS '-1' is not a whole number of GPUs, 0 or more"),
        (("a=8,steal=1",), "--quota 'a=8,steal=1': 'steal=1' is not borrow=N, lend=N or weight=W"),
        (("a=8,borrow=2,borrow=3",), "--quota 'a=8,borrow=2,borrow=3': borrow is given twice"),
        (("a=8,weight=0",), "--quota 'a=8,weight=0': weight '0' is not a positive number"),
        (("a=8,lend=1.5",), "--quota 'a=8,lend=1.5': lend '1.5' is not a whole number of GPUs, 0 or more"),
        (("a=8", "a=4"), "--quota 'a=4': tenant 'a' has a quota already"),
    ],
)
def test_a_bad_quota_exits_2_naming_it_and_writes_nothing(two_tenants, tmp_path, quota, message):
    out = tmp_path / "run.json"
    flags = [arg for q in quota for arg in ("--quota", q)]
    base = ("--trace", f"philly-vc:{two_tenants}", "--cluster", "gpus:16x8", "--policy", "fairshare")
    result = sim(*base, *flags, "--json", out, columns=200)
    assert result.exit_code == 2
    assert message in _ANSI.sub("", result.output)
    assert not out.exists()


def test_a_quota_under_another_policy_exits_2(two_tenants):
    result = sim("--trace", f"philly-vc:{two_tenants}", "--cluster", "gpus:16x8", "--quota", "a=8", columns=200)
    assert result.exit_code == 2
    assert "--quota a=8: quotas apply to --policy fairshare, not fifo" in _ANSI.sub("", result.output)


@pytest.mark.parametrize(
    ("cluster", "message"),
    [
        ("gpus:12x8", "'gpus:12x8': 12 GPUs is not a whole number of 8-GPU nodes"),
        ("gpus:lots", "'gpus:lots': expected gpus:N or gpus:NxG, like gpus:1024x8"),
        ("inventory:x.csv", "unknown inventory format 'inventory'"),
    ],
)
def test_a_bad_cluster_exits_2_with_the_reason(toy, cluster, message):
    result = sim("--trace", f"tiresias:{toy}", "--cluster", cluster, columns=200)
    assert result.exit_code == 2
    assert message in _ANSI.sub("", result.output)


def test_a_trace_out_of_arrival_order_exits_2_naming_the_jobs(tmp_path):
    path = tmp_path / "unsorted.csv"
    path.write_text(TIRESIAS + "0,8,50,1,a,100,0\n1,8,10,1,b,50,0\n")
    result = sim("--trace", f"tiresias:{path}", "--cluster", "gpus:16x8", columns=200)
    assert result.exit_code == 2
    assert "job 1 comes after job 0 but is submitted 40 s before it" in _ANSI.sub("", result.output)


def test_a_bad_trace_row_exits_2_naming_file_row_and_column(tmp_path):
    path = tmp_path / "bad.csv"
    path.write_text(TIRESIAS + "0,8,0,1,a,100,0\n1,x,10,1,b,50,0\n")
    result = sim("--trace", f"tiresias:{path}", "--cluster", "gpus:16x8", columns=200)
    assert result.exit_code == 2
    assert "num_gpu" in result.output
    assert "bad.csv" in result.output


def test_a_philly_window_replays_on_the_philly_inventory(traces):
    data = as_json(
        "--trace",
        f"philly:{traces / PHILLY}",
        "--cluster",
        f"philly:{traces / MACHINES}",
        "--window",
        "40000:40999",
        "--policy",
        "backfill",
        "--placement",
        "firstfit",
    )
    assert data["jobs"] == 1000
    assert data["gpus"] == 2490
    assert data["finished"] + data["rejected"] == 1000
