"""Shared test fixtures: where the real traces live, and small fleet builders."""

from __future__ import annotations

from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parents[1]
SHARED = REPO.parent / "shared"
TRACES = SHARED / "traces"


@pytest.fixture
def traces() -> Path:
    """The real traces folder; skips the test with the reason when it is absent."""
    if not TRACES.is_dir():
        pytest.skip(f"real traces not found at {TRACES} (../shared/traces beside the repo)")
    return TRACES
