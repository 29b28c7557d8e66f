"""Files of the serving latency model: model configs (``*_config.json``), GPU system files
(``systems/*.yaml``), the fitted coefficients (JSON) and CSV tables of deployments.

Parsing is the core's (:mod:`neocloud.economics.serving`); this module only reads and
writes. A config or system file the core refuses is kept as its reason, so a row that
names it gets that reason instead of a crash.
"""

from __future__ import annotations

import csv
import json
import os
import tempfile
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from pathlib import Path
from typing import IO, Any

import yaml

from neocloud.domain.errors import FieldError, SpecError
from neocloud.economics.serving.architecture import Architecture, UnsupportedArchitecture, parse_config_text
from neocloud.economics.serving.catalog import ServingInputs, config_key
from neocloud.economics.serving.latency import Coefficients
from neocloud.economics.serving.system import GpuSystem, SystemError_, system_from_mapping

COEFFICIENTS_FILE = Path(__file__).resolve().parents[1] / "economics" / "serving" / "latency_coefficients.json"


def load_models(configs_dir: Path) -> dict[str, Architecture | str]:
    """Every ``*.json`` in ``configs_dir`` by config key: its architecture, or the reason
    it is refused."""
    if not configs_dir.is_dir():
        raise SpecError([FieldError(str(configs_dir), "", "configs directory not found")])
    out: dict[str, Architecture | str] = {}
    for path in sorted(configs_dir.glob("*.json")):
        key = config_key(path.name)
        try:
            out[key] = parse_config_text(path.read_text(encoding="utf-8"), key)
        except UnsupportedArchitecture as exc:
            out[key] = f"config {path.name}: {exc}"
        except UnicodeDecodeError:
            out[key] = f"config {path.name}: not UTF-8 text"
    return out


def load_systems(systems_dir: Path) -> dict[str, GpuSystem | str]:
    """Every ``*.yaml`` in ``systems_dir`` by file stem: the system, or why it is refused."""
    if not systems_dir.is_dir():
        raise SpecError([FieldError(str(systems_dir), "", "systems directory not found")])
    out: dict[str, GpuSystem | str] = {}
    for path in sorted(systems_dir.glob("*.yaml")):
        try:
            data = yaml.safe_load(path.read_text(encoding="utf-8"))
            if not isinstance(data, dict):
                raise SystemError_("not a mapping")
            out[path.stem] = system_from_mapping(path.stem, data)
        except (SystemError_, yaml.YAMLError, UnicodeDecodeError) as exc:
            out[path.stem] = f"system file {path.name}: {exc}"
    return out


def load_coefficients(path: Path = COEFFICIENTS_FILE) -> tuple[Coefficients, dict[str, Any]]:
    """The coefficients and the whole file (with its provenance)."""
    data = json.loads(path.read_text(encoding="utf-8"))
    try:
        return Coefficients.from_mapping(data["coefficients"]), data
    except (KeyError, TypeError, ValueError) as exc:
        raise SpecError([FieldError(str(path), "coefficients", str(exc))]) from None


def serving_inputs(configs_dir: Path, systems_dir: Path, coefficients: Path = COEFFICIENTS_FILE) -> ServingInputs:
    coeffs, data = load_coefficients(coefficients)
    return ServingInputs(
        models=load_models(configs_dir),
        systems=load_systems(systems_dir),
        coefficients=coeffs,
        coefficients_version=str(data.get("version", "")),
    )


def read_rows(path: Path) -> tuple[list[str], list[dict[str, str]]]:
    """A CSV's header and rows (text as is). A row with more cells than the header is an
    error naming the row (1 = the first data row)."""
    try:
        with path.open(encoding="utf-8", newline="") as fh:
            reader = csv.reader(fh)
            header = next(reader, None)
            if not header:
                raise SpecError([FieldError(str(path), "", "empty file (no header row)")])
            rows = []
            for number, cells in enumerate(reader, start=1):
                if len(cells) > len(header):
                    raise SpecError([FieldError(str(path), f"row {number}", "more cells than header columns")])
                rows.append(dict(zip(header, cells, strict=False)))
    except UnicodeDecodeError:
        raise SpecError([FieldError(str(path), "", "not UTF-8 text")]) from None
    return header, rows


def write_rows(path: Path, header: Sequence[str], rows: Sequence[dict[str, str]]) -> None:
    """Write a CSV atomically (a reader never sees half a file)."""
    with _atomic(path) as fh:
        writer = csv.DictWriter(fh, fieldnames=list(header), extrasaction="ignore")
        writer.writeheader()
        writer.writerows(rows)


def write_text(path: Path, text: str) -> None:
    with _atomic(path) as fh:
        fh.write(text)


@contextmanager
def _atomic(target: Path) -> Iterator[IO[str]]:
    target.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(prefix=f".{target.name}.", dir=target.parent)
    umask = os.umask(0)
    os.umask(umask)
    os.chmod(tmp, 0o666 & ~umask)  # mkstemp makes 0600; a written table is an ordinary file
    try:
        with os.fdopen(fd, "w", encoding="utf-8", newline="") as fh:
            yield fh
            fh.flush()
        os.replace(tmp, target)
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise
