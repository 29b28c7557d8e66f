"""How long does the serving plan's search take per GPU model, and what does it choose?

The worked example of docs/economics.md "Serving plan": the colossus-1 preset (150k H100,
50k H200, 30,024 GB200) serving deepseek-ai/DeepSeek-R1 at fp8 (2,048 in / 1,024 out,
p50 TPOT <= 50 ms, TTFT <= 2 s), and Llama-3.1-70B beside it. Per GPU model, for the
whole search (aggregated, then disaggregated splits, the better kept): the candidates
sent to the latency model (both searches), the mode chosen, the wall time
(median of ``--repeat`` runs, files already read), and the deployment chosen with its
tokens/s per GPU. Needs ``../shared/reference/serving-silicon``.

    .venv/bin/python benchmarks/serving_plan.py [--repeat 5] [--out /tmp/serving_plan.json]
"""

from __future__ import annotations

import argparse
import json
import platform
import statistics
import time
from pathlib import Path
from typing import Any

from neocloud import bootstrap
from neocloud.domain.catalog import builtin_catalog
from neocloud.economics.serving.capacity import system_for
from neocloud.economics.serving.plan import Choice, Split, Target
from neocloud.economics.serving.split import best_deployment

MODELS = ("deepseek-ai/DeepSeek-R1", "meta-llama/Meta-Llama-3.1-70B")
GPUS = ("H100", "H200", "GB200")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--repeat", type=int, default=5)
    parser.add_argument("--out", type=Path, default=Path("/tmp/serving_plan.json"))
    args = parser.parse_args()
    files = bootstrap.serving_models()
    systems = files.systems()
    catalog = builtin_catalog()
    rows = []
    for model in MODELS:
        target = Target(model, 2048, 1024, 50.0, 2000.0)
        footprint = files.footprint(model, "fp8", 2048 + 1024)
        model_predict = files.predictor(model)
        asked: list[int] = []

        def predict(
            system: str, candidates: Any, workload: Any, _p: Any = model_predict, _asked: list[int] = asked
        ) -> Any:
            _asked.append(len(candidates))
            return _p(system, candidates, workload)

        for gpu in GPUS:
            system = systems[system_for(gpu, catalog) or ""]
            times = []
            asked.clear()
            for _ in range(args.repeat):
                started = time.perf_counter()
                found = best_deployment(target, footprint, system, predict)
                times.append(time.perf_counter() - started)
            row = {
                "model": model,
                "gpu": gpu,
                "predicted_rows": sum(asked) // args.repeat,
                "mode": "disagg" if isinstance(found, Choice) and isinstance(found.candidate, Split) else "agg",
                "search_ms": round(statistics.median(times) * 1000, 1),
                "choice": found.candidate.label() if isinstance(found, Choice) else found.reason,
                "out_tok_s_per_gpu": round(found.out_tok_s_per_gpu) if isinstance(found, Choice) else None,
            }
            rows.append(row)
            print(
                f"{model[:24]:24} {gpu:6} rows {row['predicted_rows']:5} {row['mode']:6} "
                f"{row['search_ms']:7.1f} ms  {row['out_tok_s_per_gpu'] or '-':>6}  {row['choice']}"
            )
    result = {
        "machine": f"{platform.machine()} {platform.processor()}",
        "python": platform.python_version(),
        "rows": rows,
    }
    args.out.parent.mkdir(parents=True, exist_ok=True)
    args.out.write_text(json.dumps(result, indent=2) + "\n")
    print(f"wrote {args.out}")


if __name__ == "__main__":
    main()
