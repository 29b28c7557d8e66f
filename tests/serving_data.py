"""Where the serving-silicon reference data lives (../shared beside the repo), and a
fixture-like helper that skips with the reason when it is absent."""

from __future__ import annotations

from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parents[1]
SERVING_SILICON = REPO.parent / "shared" / "reference" / "serving-silicon"


def serving_silicon() -> Path:
    """The data folder, or skip: the tests read it, the repo does not copy it."""
    if not (SERVING_SILICON / "silicon_dev.csv").is_file():
        pytest.skip(f"serving-silicon data not found at {SERVING_SILICON} (../shared/reference beside the repo)")
    return SERVING_SILICON


def config_text(name: str) -> str:
    return (serving_silicon() / "model_configs" / name).read_text(encoding="utf-8")
