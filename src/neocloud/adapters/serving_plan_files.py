"""The serving plan's files: the ``serving-silicon`` folder's model configs, system files
and the latency model's coefficients, read once on first use (``adapters.serving_files``
parses them; this adds the system files' memory margins, ``misc.other_mem`` and
``misc.nccl_mem``, which the plan's memory check needs).

The server resolves models by Hugging Face name only; a ``config.json`` path is read
only where ``allow_paths`` is set (the CLI, on the user's own files).
"""

from __future__ import annotations

from collections.abc import Mapping
from functools import cached_property
from pathlib import Path
from typing import Any

import yaml

from neocloud.adapters.serving_files import read_rows, serving_inputs
from neocloud.domain.errors import RequestError
from neocloud.economics.serving.architecture import Architecture, UnsupportedArchitecture, parse_config_text
from neocloud.economics.serving.bridge import LatencyModel, footprint, limits
from neocloud.economics.serving.catalog import ServingInputs, resolve_model
from neocloud.economics.serving.plan import ModelFootprint, Predictor, SystemLimits
from neocloud.economics.serving.predictor import predict_rows
from neocloud.economics.serving.report import MeasuredPoint
from neocloud.economics.serving.system import GpuSystem

DEV_CSV = "silicon_dev.csv"


class ServingFiles:
    """Implements ``services.serving.ServingModels`` on a ``serving-silicon`` folder."""

    def __init__(self, data_dir: Path, *, allow_paths: bool = False) -> None:
        self.data_dir = data_dir
        self.allow_paths = allow_paths
        self._measured: dict[str, list[MeasuredPoint]] = {}

    def known_models(self) -> list[str]:
        if not self._present():
            return []
        return sorted(k for k, v in self._inputs.models.items() if isinstance(v, Architecture))

    def footprint(self, model: str, precision: str, context: int) -> ModelFootprint:
        return footprint(self._arch(model)[1], precision, context)

    def systems(self) -> Mapping[str, SystemLimits]:
        if not self._present():
            return {}
        return self._limits

    def predictor(self, model: str) -> Predictor:
        key, arch = self._arch(model)
        return LatencyModel(key, arch, self._inputs)

    def version(self) -> str:
        return self._inputs.coefficients_version if self._present() else ""

    def measured(self, model: str) -> list[MeasuredPoint]:
        """The dev CSV's runs of ``model`` (by config, so checkpoints of one model count
        together) that the latency model predicts, beside its predictions."""
        if not (self.data_dir / DEV_CSV).is_file():
            return []
        try:
            key, _ = self._arch(model)
        except RequestError:
            return []
        if key not in self._measured:
            self._measured[key] = self._points(key)
        return self._measured[key]

    # -- helpers -----------------------------------------------------------------------
    def _present(self) -> bool:
        return (self.data_dir / "model_configs").is_dir() and (self.data_dir / "systems").is_dir()

    def _arch(self, model: str) -> tuple[str, Architecture]:
        path = Path(model)
        if self.allow_paths and model.endswith(".json") and path.is_file():
            try:
                return path.name, parse_config_text(path.read_text(encoding="utf-8"), path.name)
            except (UnsupportedArchitecture, UnicodeDecodeError) as exc:
                raise RequestError([f"model: {model}: {exc}"]) from None
        if not self._present():
            raise RequestError([f"model: the serving data is not at {self.data_dir} (model_configs/ and systems/)"])
        key = resolve_model(model, self._inputs.models)
        if key is None:
            known = ", ".join(self.known_models())
            raise RequestError([f"model: no config.json for {model!r} (known: {known})"])
        found = self._inputs.models[key]
        if isinstance(found, str):
            raise RequestError([f"model: {found}"])
        return key, found

    def _points(self, key: str) -> list[MeasuredPoint]:
        _, rows = read_rows(self.data_dir / DEV_CSV)
        keys = list(self._inputs.models)
        mine = [r for r in rows if resolve_model(r.get("model_path", ""), keys) == key]
        out = []
        for row, p in zip(mine, predict_rows(mine, self._inputs), strict=True):
            ttft, tpot = _num(row.get("silicon_ttft_ms")), _num(row.get("silicon_tpot_ms"))
            if p.ttft_ms is None or p.tpot_ms is None or ttft is None or tpot is None:
                continue
            engine, mode = row.get("backend", ""), row.get("mode", "")
            out.append(MeasuredPoint(row["system"], engine, mode, ttft, tpot, p.ttft_ms, p.tpot_ms))
        return out

    @cached_property
    def _inputs(self) -> ServingInputs:
        return serving_inputs(self.data_dir / "model_configs", self.data_dir / "systems")

    @cached_property
    def _limits(self) -> dict[str, SystemLimits]:
        out: dict[str, SystemLimits] = {}
        for name, system in self._inputs.systems.items():
            if isinstance(system, GpuSystem):
                misc = _misc(self.data_dir / "systems" / f"{name}.yaml")
                out[name] = limits(system, float(misc.get("other_mem") or 0.0), _nccl(misc.get("nccl_mem")))
        return out


def _num(text: str | None) -> float | None:
    try:
        value = float(text or "")
    except ValueError:
        return None
    return value if value > 0 else None


def _misc(path: Path) -> Mapping[str, Any]:
    data = yaml.safe_load(path.read_text(encoding="utf-8"))
    misc = data.get("misc") if isinstance(data, dict) else None
    return misc if isinstance(misc, dict) else {}


def _nccl(raw: object) -> dict[int, float]:
    if not isinstance(raw, dict):
        return {}
    return {int(k): float(v) for k, v in raw.items() if str(k).isdigit() and isinstance(v, int | float)}
