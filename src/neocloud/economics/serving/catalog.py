"""Which config a row's ``model_path`` means, and the models and systems a prediction
may use, as values (an adapter reads the files).

A config file is named ``<owner>--<name>_config.json`` after the Hugging Face repository
it came from. A row names a model as ``owner/name``; checkpoints republished by others
(``nvidia/DeepSeek-R1-NVFP4``, ``meta-llama/Llama-3.1-8B-Instruct``) share the base
model's architecture, so :func:`resolve_model` tries, in order: the exact name; then the
name without its owner, lower-cased, with a leading ``Meta-`` and trailing packaging
suffixes (``-Instruct``, ``-FP8``, ``-NVFP4``, ``-FP4``, ``-AWQ``, ``-BF16``) removed, when
exactly one config matches that.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field

from neocloud.economics.serving.architecture import Architecture
from neocloud.economics.serving.latency import Coefficients
from neocloud.economics.serving.system import GpuSystem

_SUFFIXES = ("-instruct", "-fp8", "-nvfp4", "-fp4", "-awq", "-bf16", "-chat", "-base")


def config_key(file_name: str) -> str:
    """``meta-llama--Meta-Llama-3.1-8B_config.json`` -> ``meta-llama/Meta-Llama-3.1-8B``."""
    stem = file_name.removesuffix(".json").removesuffix("_config")
    return stem.replace("--", "/", 1)


def base_name(model_path: str) -> str:
    """The owner-free, suffix-free, lower-case name two checkpoints of one model share."""
    name = model_path.rsplit("/", 1)[-1].strip().lower()
    name = name.removeprefix("meta-")
    changed = True
    while changed:
        changed = False
        for suffix in _SUFFIXES:
            if name.endswith(suffix):
                name = name[: -len(suffix)]
                changed = True
    return name


def resolve_model(model_path: str, keys: Iterable[str]) -> str | None:
    """The config key for ``model_path`` (see the module's rule), or None."""
    keys = list(keys)
    if model_path in keys:
        return model_path
    wanted = base_name(model_path)
    matches = [k for k in keys if base_name(k) == wanted]
    return matches[0] if len(matches) == 1 else None


@dataclass(frozen=True, slots=True)
class ServingInputs:
    """What the predictor may read: architectures by config key (or the reason a config
    was refused), systems by name (or why refused), and the fitted coefficients."""

    models: Mapping[str, Architecture | str]
    systems: Mapping[str, GpuSystem | str]
    coefficients: Coefficients
    coefficients_version: str = ""
    family_of: Mapping[str, str] = field(default_factory=dict)
