"""``--save NAME`` on ``plan keep-vs-lease`` and ``sim sweep``: the study is recorded in the
database (NEOCLOUD_DB) with the document ``--json`` prints; a name in use, or not a
name, exits 2 naming it and writes nothing (no study, no table, no page)."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest
from click.testing import Result
from typer.testing import CliRunner

from neocloud import bootstrap
from neocloud.cli.main import app
from neocloud.domain.studies import StudyKind, StudyStatus

TIRESIAS = "job_id,num_gpu,submit_time,iterations,model_name,duration,interval\n"


@pytest.fixture
def db(tmp_path: Path) -> str:
    return f"sqlite:///{tmp_path / 'studies.db'}"


@pytest.fixture
def toy(tmp_path: Path) -> Path:
    """20 8-GPU jobs an hour apart, each about two days long."""
    path = tmp_path / "toy.csv"
    path.write_text(TIRESIAS + "".join(f"{k},8,{3600 * k},1,a,{200_000 - 3_000 * k},0\n" for k in range(20)))
    return path


def cli(db: str, *args: str | Path) -> Result:
    return CliRunner().invoke(app, list(map(str, args)), env={"NEOCLOUD_DB": db, "COLUMNS": "80"})


def keep(toy: Path, *more: str | Path) -> tuple[str | Path, ...]:
    return (
        "plan", "keep-vs-lease", "--fleet", "preset:demo", "--internal", f"tiresias:{toy}", "--internal-scale", "4",
        "--candidates", "blocks:demo-west", "--fractions", "0,0.5,1", "--tenant", "acme", "--price-per-gpu-hour",
        "2.35", "--start", "2027-01-01", "--end", "2028-01-01", *more,
    )  # fmt: skip


def sweep(toy: Path, out: Path, *more: str | Path) -> tuple[str | Path, ...]:
    return (
        "sim", "sweep", "--trace", f"tiresias:{toy}", "--cluster", "gpus:128x8", "--policies", "fifo,las",
        "--loads", "1,2", "--out", out, "--workers", "1", *more,
    )  # fmt: skip


def test_plan_keep_vs_lease_saves_the_study_it_prints(db: str, toy: Path, tmp_path: Path):
    done = cli(db, *keep(toy, "--json", "--save", "toy-kvl"))
    assert done.exit_code == 0, done.output
    printed = json.loads(done.stdout)
    (listed,) = bootstrap.study_service(db).studies()
    study = bootstrap.study_service(db).study(listed.id)
    assert (study.kind, study.name, study.status, study.done, study.total) == (
        StudyKind.KEEP_VS_LEASE,
        "toy-kvl",
        StudyStatus.DONE,
        3,
        3,
    )
    assert study.result == printed
    assert study.inputs["fractions"] == "0,0.5,1"
    assert study.inputs["candidates"] == "blocks:demo-west"
    assert study.actor.startswith("cli:")


def test_a_name_in_use_exits_2_naming_it_and_writes_nothing(db: str, toy: Path, tmp_path: Path):
    assert cli(db, *keep(toy, "--save", "taken")).exit_code == 0
    page = tmp_path / "again.html"
    again = cli(db, *keep(toy, "--save", "taken", "--report", page))
    assert again.exit_code == 2
    assert "--save: a study named 'taken' is stored already" in again.output
    assert not page.exists()
    out = tmp_path / "rows.csv"
    swept = cli(db, *sweep(toy, out, "--save", "taken"))
    assert swept.exit_code == 2
    assert "'taken'" in swept.output
    assert not out.exists()
    assert [s.name for s in bootstrap.study_service(db).studies()] == ["taken"]


def test_sim_sweep_saves_its_rows_and_about_block(db: str, toy: Path, tmp_path: Path):
    out = tmp_path / "rows.csv"
    done = cli(db, *sweep(toy, out, "--json", "--save", "toy-sweep"))
    assert done.exit_code == 0, done.output
    printed = json.loads(done.stdout)
    (listed,) = bootstrap.study_service(db).studies()
    study = bootstrap.study_service(db).study(listed.id)
    assert (study.kind, study.status, study.done, study.total) == (StudyKind.SWEEP, StudyStatus.DONE, 4, 4)
    assert study.result is not None
    assert study.result["rows"] == printed["rows"]
    assert study.result["about"]["executor"] == printed["executor"]
    assert study.inputs["policies"] == "fifo,las"
    assert out.exists()


@pytest.mark.parametrize("name", ["two words", "-dash-first", "x" * 101, "<b>"])
def test_a_save_name_that_is_not_a_name_exits_2_and_writes_nothing(db: str, toy: Path, tmp_path: Path, name: str):
    out = tmp_path / "rows.csv"
    r = cli(db, *sweep(toy, out, "--save", name))
    assert r.exit_code == 2
    assert "--save" in r.output
    assert "is not a study name" in r.output
    assert not out.exists()
    assert not (tmp_path / "studies.db").exists()  # the database is not even created


def test_a_name_taken_while_the_sweep_runs_exits_2_and_writes_no_table(
    db: str, toy: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
):
    from neocloud.cli import sim_sweep

    real = sim_sweep._execute

    def racing(*args: Any) -> Any:
        done = real(*args)
        other = bootstrap.study_service(db)  # another process saves under the name meanwhile
        other.record(StudyKind.SWEEP, "raced", actor="other", inputs={}, result={"rows": []}, total=1)
        return done

    monkeypatch.setattr(sim_sweep, "_execute", racing)
    out = tmp_path / "rows.csv"
    r = cli(db, *sweep(toy, out, "--save", "raced"))
    assert r.exit_code == 2
    assert "'raced'" in r.output
    assert not out.exists()
    assert [s.actor for s in bootstrap.study_service(db).studies()] == ["other"]
