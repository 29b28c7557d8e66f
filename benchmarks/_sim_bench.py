"""What the simulator's benchmarks share: the machine a run was measured on, and a
cProfile summary with paths shortened to the repository or the package."""

from __future__ import annotations

import cProfile
import io
import os
import platform
import pstats
import time
from pathlib import Path
from typing import Any

REPO = Path(__file__).resolve().parents[1]


def machine() -> dict[str, Any]:
    return {
        "platform": platform.platform(),
        "processor": platform.processor() or platform.machine(),
        "cpus": os.cpu_count(),
        "python": platform.python_version(),
        "date": time.strftime("%Y-%m-%d"),
    }


def profile_table(prof: cProfile.Profile, top: int = 12) -> str:
    """The ``top`` functions by own time, as pstats prints them, without its header."""
    text = io.StringIO()
    pstats.Stats(prof, stream=text).sort_stats("tottime").print_stats(top)
    lines = text.getvalue().splitlines()
    start = next((k for k, line in enumerate(lines) if line.lstrip().startswith("ncalls")), 0)
    keep = [line for line in lines[start:] if line.strip()]
    return "\n".join(line.replace(str(REPO) + "/", "").replace("src/neocloud/", "") for line in keep)
