"""``neocloud sim trace``: a trace's summary, piped and as JSON; bad input exits 2 with the reader's message."""

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
PHILLY_VC = "microsoft-philly-2017/derived_pollux_philly_jobs_with_vc.csv.gz"
CHRONUS = "chronus-socc21-philly-slo/trace_job_Philly_MIX2.csv.gz"
OPENB = "alibaba-gpu-v2023-openb/csv/openb_pod_list_default.csv"


def sim(*args: str | Path) -> Result:
    return CliRunner().invoke(app, ["sim", *map(str, args)], env={"FORCE_COLOR": None, "COLUMNS": "200"})


def stdout(result: Result) -> str:
    return _ANSI.sub("", result.stdout)


def summary(source: str, *args: str) -> dict[str, Any]:
    result = sim("trace", source, "--json", *args)
    assert result.exit_code == 0, result.output
    data: dict[str, Any] = json.loads(result.stdout)
    return data


@pytest.fixture
def toy(tmp_path: Path) -> Path:
    path = tmp_path / "toy.csv"
    path.write_text(TIRESIAS + "0,1,0,606,vgg19,3600,30\n1,8,30,133,vgg11,1800,23\n2,1,60,10,vgg16,60,0\n")
    return path


def test_the_json_summary_counts_jobs_sizes_span_and_gpu_hours(toy):
    data = summary(f"tiresias:{toy}", "--limit", "2")
    assert data["jobs"] == 3
    assert data["jobs_by_gpus"] == {"1": 2, "8": 1}
    assert (data["first_arrival_s"], data["last_arrival_s"], data["span_s"]) == (0.0, 60.0, 60.0)
    assert data["gpu_hours"] == pytest.approx(1 + 8 * 0.5 + 60 / 3600)
    assert data["in_arrival_order"] is True
    assert (data["tenants"], data["jobs_with_deadline"], data["jobs_without_duration"]) == (0, 0, 0)
    assert [j["id"] for j in data["first"]] == ["0", "1"]
    assert data["first"][1] == {
        "id": "1",
        "arrival_s": 30.0,
        "gpus": 8,
        "gpu_milli": 1000,
        "duration_s": 1800.0,
        "tenant": None,
        "deadline_s": None,
    }


def test_the_piped_summary_fits_80_columns_and_lists_the_first_jobs(toy):
    long = toy.parent / ("a-folder-with-a-long-name-" * 4) / "toy.csv"
    long.parent.mkdir()
    long.write_text(toy.read_text())
    result = sim("trace", f"tiresias:{long}")
    assert result.exit_code == 0, result.output
    text = stdout(result)
    assert max(len(line) for line in text.splitlines()) <= 80
    assert "jobs          3 (in arrival order)" in text
    assert "GPU-hours     5 over the 3 jobs with a duration" in text
    assert "1: 2 · 8: 1" in text
    assert "first jobs" in text
    assert result.stderr == ""


def test_an_unknown_format_exits_2_naming_the_formats_and_prints_nothing_else(toy):
    result = sim("trace", f"helios:{toy}")
    assert result.exit_code == 2
    assert result.stdout == ""
    assert "unknown trace format 'helios'; one of philly, philly-vc, tiresias" in result.stderr


def test_a_source_without_a_format_exits_2(toy):
    result = sim("trace", str(toy.name))
    assert result.exit_code == 2
    assert "expected FORMAT:PATH" in result.stderr


def test_a_bad_row_exits_2_with_the_readers_message_only(tmp_path):
    path = tmp_path / "bad.csv"
    path.write_text(TIRESIAS + "0,1,0,606,vgg19,3600,30\n1,two,30,133,vgg11,1800,23\n")
    result = sim("trace", f"tiresias:{path}", "--json")
    assert result.exit_code == 2
    assert result.stdout == ""
    message = f"error: {path}: row 3, column 'num_gpu': 'two' is not a whole number"
    assert _ANSI.sub("", result.stderr).strip() == message


@pytest.mark.traces
def test_the_real_philly_trace_summarises_as_the_readme_says(traces):
    data = summary(f"philly:{traces / PHILLY}", "--limit", "0")
    assert data["jobs"] == 111_549
    assert data["jobs_by_gpus"]["1"] == 96_662
    assert round(data["span_s"] / 86_400, 1) == 129.4
    assert round(data["gpu_hours"] / data["jobs"], 1) == 32.5  # README: GPU-hours per job, mean 32.5
    assert data["first"] == []


@pytest.mark.traces
@pytest.mark.parametrize(("fmt", "name"), [("philly-vc", PHILLY_VC), ("chronus", CHRONUS), ("openb", OPENB)])
def test_real_summaries_fit_80_columns_piped(traces, fmt, name):
    result = sim("trace", f"{fmt}:{traces / name}")
    assert result.exit_code == 0, result.output
    lines = stdout(result).splitlines()
    assert max(len(line) for line in lines) <= 80
    assert any(line.startswith("tenants") for line in lines)
