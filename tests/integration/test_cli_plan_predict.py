"""``neocloud plan predict`` end to end on small CSVs cut from the reference data: every
input column kept plus the predictions, a bad row exits 2 naming row and column (and
writes nothing), an unsupported row gets a reason instead of a crash."""

from __future__ import annotations

import csv
import json
from pathlib import Path

from click.testing import Result
from typer.testing import CliRunner

from neocloud.cli.main import app
from tests.serving_data import serving_silicon

NEW_COLUMNS = ["predicted_ttft_ms", "predicted_tpot_ms", "unsupported_reason"]


def plan(*args: str | Path) -> Result:
    return CliRunner().invoke(app, ["plan", *map(str, args)], env={"FORCE_COLOR": None, "COLUMNS": "80"})


def sample(tmp_path: Path, count: int = 12, drop: tuple[str, ...] = ()) -> tuple[Path, list[str], list[dict[str, str]]]:
    """The first ``count`` rows of each mode from silicon_dev.csv, written to a small CSV."""
    with (serving_silicon() / "silicon_dev.csv").open(encoding="utf-8", newline="") as fh:
        reader = csv.DictReader(fh)
        header = [h for h in (reader.fieldnames or []) if h not in drop]
        rows, seen = [], {"agg": 0, "disagg": 0}
        for row in reader:
            if seen[row["mode"]] < count // 2:
                seen[row["mode"]] += 1
                rows.append({h: row[h] for h in header})
    path = tmp_path / "rows.csv"
    write(path, header, rows)
    return path, header, rows


def write(path: Path, header: list[str], rows: list[dict[str, str]]) -> None:
    with path.open("w", encoding="utf-8", newline="") as fh:
        writer = csv.DictWriter(fh, fieldnames=header)
        writer.writeheader()
        writer.writerows(rows)


def read(path: Path) -> tuple[list[str], list[dict[str, str]]]:
    with path.open(encoding="utf-8", newline="") as fh:
        reader = csv.DictReader(fh)
        return list(reader.fieldnames or []), list(reader)


def test_predict_keeps_every_input_column_and_adds_both_latencies(tmp_path: Path) -> None:
    rows_csv, header, rows = sample(tmp_path)
    out = tmp_path / "out.csv"
    result = plan("predict", rows_csv, "-o", out)
    assert result.exit_code == 0, result.output
    out_header, out_rows = read(out)
    assert out_header == header + NEW_COLUMNS
    assert [r["id"] for r in out_rows] == [r["id"] for r in rows]
    for row in out_rows:
        assert row["unsupported_reason"] == ""
        assert float(row["predicted_ttft_ms"]) > 0
        assert float(row["predicted_tpot_ms"]) > 0
    assert all(len(line) <= 80 for line in result.stdout.splitlines() if str(tmp_path) not in line)
    assert f"{len(rows)} of {len(rows)} rows predicted" in result.stdout


def test_predict_json_summary_counts_rows_and_reports_the_error_against_measured(tmp_path: Path) -> None:
    rows_csv, _, rows = sample(tmp_path)
    result = plan("predict", rows_csv, "-o", tmp_path / "out.csv", "--json")
    assert result.exit_code == 0, result.output
    summary = json.loads(result.stdout)
    assert (summary["rows"], summary["predicted"], summary["unsupported"]) == (len(rows), len(rows), 0)
    assert summary["tpot_rows_measured"] == len(rows)
    assert 0 <= summary["tpot_median_abs_error"] < 5


def test_predict_reads_a_csv_without_the_measured_columns(tmp_path: Path) -> None:
    rows_csv, header, _ = sample(tmp_path, drop=("silicon_ttft_ms", "silicon_tpot_ms"))
    out = tmp_path / "out.csv"
    result = plan("predict", rows_csv, "-o", out, "--json")
    assert result.exit_code == 0, result.output
    assert "tpot_median_abs_error" not in json.loads(result.stdout)
    assert read(out)[0] == header + NEW_COLUMNS


def test_a_malformed_batch_size_exits_2_naming_file_row_and_column_and_writes_nothing(tmp_path: Path) -> None:
    rows_csv, header, rows = sample(tmp_path)
    rows[2]["batch_size"] = "lots"
    rows[2]["mode"] = "agg"
    write(rows_csv, header, rows)
    out = tmp_path / "out.csv"
    result = plan("predict", rows_csv, "-o", out)
    assert result.exit_code == 2
    assert "rows.csv: row 3, column batch_size: not a number: 'lots'" in result.stderr
    assert not out.exists()


def test_an_unknown_mode_exits_2_naming_the_column(tmp_path: Path) -> None:
    rows_csv, header, rows = sample(tmp_path)
    rows[0]["mode"] = "sideways"
    write(rows_csv, header, rows)
    result = plan("predict", rows_csv, "-o", tmp_path / "out.csv")
    assert result.exit_code == 2
    assert "row 1, column mode: expected one of agg, disagg" in result.stderr


def test_an_unsupported_row_gets_its_reason_while_the_others_are_predicted(tmp_path: Path) -> None:
    rows_csv, header, rows = sample(tmp_path)
    rows[1]["model_path"] = "acme/Unheard-Of-7B"
    rows[4]["system"] = "tpu_v9"
    write(rows_csv, header, rows)
    out = tmp_path / "out.csv"
    result = plan("predict", rows_csv, "-o", out)
    assert result.exit_code == 0, result.output
    _, out_rows = read(out)
    assert out_rows[1]["unsupported_reason"] == "no config.json for model 'acme/Unheard-Of-7B' in the configs directory"
    assert out_rows[1]["predicted_tpot_ms"] == ""
    assert out_rows[1]["predicted_ttft_ms"] == ""
    assert out_rows[4]["unsupported_reason"] == "no system file for 'tpu_v9' in the systems directory"
    assert sum(1 for r in out_rows if r["predicted_tpot_ms"]) == len(rows) - 2


def test_a_config_the_model_refuses_is_a_reason_in_the_row_not_a_crash(tmp_path: Path) -> None:
    rows_csv, _, rows = sample(tmp_path)
    configs = tmp_path / "configs"
    configs.mkdir()
    for path in (serving_silicon() / "model_configs").glob("*.json"):
        (configs / path.name).write_text(path.read_text(encoding="utf-8"), encoding="utf-8")
    broken = configs / (rows[0]["model_path"].replace("/", "--") + "_config.json")
    broken.write_text('{"num_hidden_layers": 2}', encoding="utf-8")
    out = tmp_path / "out.csv"
    result = plan("predict", rows_csv, "-o", out, "--configs", configs)
    assert result.exit_code == 0, result.output
    reason = read(out)[1][0]["unsupported_reason"]
    assert reason == f"config {broken.name}: hidden_size: missing (a decoder config needs it)"


def test_a_missing_configs_directory_exits_2(tmp_path: Path) -> None:
    rows_csv, _, _ = sample(tmp_path)
    result = plan("predict", rows_csv, "-o", tmp_path / "out.csv", "--configs", tmp_path / "nowhere")
    assert result.exit_code == 2
    assert "configs directory not found" in result.stderr


def test_plot_writes_a_self_contained_log_log_scatter_of_both_latencies(tmp_path: Path) -> None:
    rows_csv, _, rows = sample(tmp_path)
    page = tmp_path / "plot.html"
    result = plan("predict", rows_csv, "-o", tmp_path / "out.csv", "--plot", page)
    assert result.exit_code == 0, result.output
    html = page.read_text(encoding="utf-8")
    assert html.count("<svg") == 2
    assert html.count("<circle") == 2 * len(rows)
    assert "<script" not in html
    assert "http" not in html


def test_a_file_whose_every_row_is_unsupported_still_writes_every_row_with_its_reason(tmp_path: Path) -> None:
    rows_csv, header, rows = sample(tmp_path, count=4)
    for row in rows:
        row["system"] = "tpu_v9"
    write(rows_csv, header, rows)
    out = tmp_path / "out.csv"
    result = plan("predict", rows_csv, "-o", out, "--json")
    assert result.exit_code == 0, result.output
    assert json.loads(result.stdout)["unsupported"] == len(rows)
    assert [r["unsupported_reason"] for r in read(out)[1]] == [
        "no system file for 'tpu_v9' in the systems directory"
    ] * 4


def test_a_header_only_file_writes_a_header_only_output(tmp_path: Path) -> None:
    rows_csv, header, _ = sample(tmp_path, count=0)
    out = tmp_path / "out.csv"
    result = plan("predict", rows_csv, "-o", out)
    assert result.exit_code == 0, result.output
    assert read(out) == (header + NEW_COLUMNS, [])


def test_a_header_without_the_required_columns_exits_2_naming_them_and_writes_nothing(tmp_path: Path) -> None:
    serving_silicon()  # the command loads the reference configs before it reads the rows
    for rows in ([], [{"a": "1", "b": "2"}]):
        rows_csv, out = tmp_path / "ab.csv", tmp_path / "out.csv"
        write(rows_csv, ["a", "b"], rows)
        result = plan("predict", rows_csv, "-o", out)
        assert result.exit_code == 2, (rows, result.output)
        assert "missing required columns model_path, system, mode, isl, osl" in " ".join(result.output.split())
        assert not out.exists(), rows


def test_a_header_lacking_one_required_column_names_only_that_one(tmp_path: Path) -> None:
    rows_csv, _, _ = sample(tmp_path, count=2, drop=("osl",))
    out = tmp_path / "out.csv"
    result = plan("predict", rows_csv, "-o", out)
    assert result.exit_code == 2
    assert "header: missing required column osl " in " ".join(result.output.split())
    assert not out.exists()


def test_the_usage_line_names_the_rows_argument_rows_csv() -> None:
    result = plan("predict", "--help")
    assert result.exit_code == 0
    usage = next(line for line in result.output.splitlines() if "Usage:" in line)
    assert "ROWS_CSV" in usage
    assert "rows_csv" not in usage
