"""How accurate is the serving latency model on model families and GPU systems it has not seen?

Reads ../shared/reference/serving-silicon (silicon_dev.csv, model_configs, systems), costs
every row (neocloud.economics.serving), and reports the median and p90 absolute % error
of TTFT and TPOT under two cross-validations: leave-one-model-family-out (each family's
rows predicted by a fit on the others) and leave-one-system-out; per system, per engine,
per mode and overall, with the plain roofline beside it, the worst groups and coverage.

Families: deepseek = DeepSeek-R1, -V3, R1-NVFP4; llama-3.1 = 8B-Instruct, 8B-Instruct-FP8,
70B; every other model is its own family (Kimi-K2.5 shares DeepSeek-V3's architecture
but is Moonshot's model and weights; it is held out on its own).

``--write-coefficients PATH`` also fits on all rows and writes the coefficients file the
predictor ships (src/neocloud/economics/serving/latency_coefficients.json) with its
provenance: dataset, git commit of the fit code, date and these CV errors.

    .venv/bin/python benchmarks/serving_accuracy.py [--out /tmp/serving_accuracy.json]
        [--write-coefficients src/neocloud/economics/serving/latency_coefficients.json]
"""

from __future__ import annotations

import argparse
import hashlib
import json
import platform
import subprocess
import sys
import time
from datetime import UTC, datetime
from pathlib import Path

import numpy as np

from neocloud.adapters import serving_files
from neocloud.economics.serving.catalog import ServingInputs, base_name, resolve_model
from neocloud.economics.serving.fit import abs_pct_error, cross_validate, fit
from neocloud.economics.serving.latency import INITIAL, combine, roofline
from neocloud.economics.serving.predictor import cost_rows

REPO = Path(__file__).resolve().parents[1]
# latency-v2 (2026-12-01): squared layout spelling read as the run it is; TTFT as bursts
# of equal requests (per-engine share, disagg over every attention-DP rank), decode steps
# waited for and host time per prompt token, in place of the closed-loop prefill queue.
# latency-v3 (2026-12-01): each request of a burst is a whole prefill, its compute plus a
# cost per decoder layer (eager kernel launches), every attention-DP rank's tokens through
# the experts in agg as in disagg; the agg queue and decode-step wait (at their bounds) gone.
VERSION = "latency-v3"
DATA = REPO.parent / "shared" / "reference" / "serving-silicon"
FAMILIES = {
    "deepseek-r1": "deepseek",
    "deepseek-v3": "deepseek",
    "llama-3.1-8b": "llama-3.1",
    "llama-3.1-70b": "llama-3.1",
}


def family(model_path: str) -> str:
    name = base_name(model_path)
    return FAMILIES.get(name, name)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--data", type=Path, default=DATA)
    parser.add_argument("--out", type=Path, default=Path("/tmp/serving_accuracy.json"))
    parser.add_argument("--write-coefficients", type=Path, default=None)
    args = parser.parse_args()
    if not (args.data / "silicon_dev.csv").exists():
        sys.exit(f"no serving-silicon data at {args.data} (../shared/reference beside the repo)")
    inputs = ServingInputs(
        models=serving_files.load_models(args.data / "model_configs"),
        systems=serving_files.load_systems(args.data / "systems"),
        coefficients=INITIAL,
    )
    _, rows = serving_files.read_rows(args.data / "silicon_dev.csv")
    costed = cost_rows(rows, inputs)
    used = [rows[int(i)] for i in costed.index]
    ttft = np.array([_num(r.get("silicon_ttft_ms")) for r in used])
    tpot = np.array([_num(r.get("silicon_tpot_ms")) for r in used])
    labels = {
        "system": np.array([r["system"] for r in used]),
        "engine": np.array([r["backend"] for r in used]),
        "mode": np.array([r["mode"] for r in used]),
        "family": np.array([family(r["model_path"]) for r in used]),
    }
    roof = _roofline(costed, inputs)
    report: dict[str, object] = {
        "machine": f"{platform.node()} {platform.processor() or platform.machine()} ({platform.python_version()})",
        "dataset": _dataset(args.data),
        "rows": len(rows),
        "coverage": {"predicted": len(used), "rows": len(rows), "share": len(used) / max(len(rows), 1)},
        "unsupported": _reasons(costed.reasons),
    }
    started = time.perf_counter()
    for cv, key in (("leave-one-family-out", "family"), ("leave-one-system-out", "system")):
        pred_ttft, pred_tpot = cross_validate(costed.table, ttft, tpot, labels[key].tolist())
        report[cv] = _tables(pred_ttft, pred_tpot, ttft, tpot, labels)
        _print(cv, report[cv])  # type: ignore[arg-type]
    report["roofline"] = _tables(roof[:, 0], roof[:, 1], ttft, tpot, labels)
    report["interpolation_floor"] = _floor(costed, used, ttft, tpot, labels)
    print(f"\nwithin-sweep interpolation (no model), median error: {report['interpolation_floor']}")
    _print("plain roofline (no fit)", report["roofline"])  # type: ignore[arg-type]
    final = fit(costed.table, ttft, tpot)
    in_ttft, in_tpot = combine(costed.table, final.coefficients)
    report["in-sample"] = _tables(in_ttft, in_tpot, ttft, tpot, labels)["overall"]
    report["seconds"] = time.perf_counter() - started
    print(f"\ncoverage {len(used)}/{len(rows)}; in-sample {report['in-sample']}; {report['seconds']:.0f} s")
    args.out.parent.mkdir(parents=True, exist_ok=True)
    args.out.write_text(json.dumps(report, indent=1), encoding="utf-8")
    print(f"wrote {args.out}")
    if args.write_coefficients:
        _write_coefficients(args.write_coefficients, final.coefficients.to_mapping(), report)


def _roofline(costed, inputs):  # type: ignore[no-untyped-def]
    out = []
    keys = list(inputs.models)
    for i in costed.index:
        dep = costed.deployments[int(i)]
        arch = inputs.models[resolve_model(dep.model_path, keys)]
        p = roofline(arch, inputs.systems[dep.system], dep)
        out.append((p.ttft_ms, p.tpot_ms))
    return np.array(out)


def _floor(costed, used, ttft, tpot, labels):  # type: ignore[no-untyped-def]
    """What the rows themselves allow: each row predicted by log-log interpolation over
    concurrency between the other rows of its sweep (same engine and version, model,
    system, quantisation, lengths, layouts and worker counts; only interior points).
    Rows that differ only in what the schema does not record (speculative decoding, the
    hidden worker split) set this floor; no model of these columns goes below it."""
    sweeps: dict[tuple[object, ...], list[int]] = {}
    for j, (i, row) in enumerate(zip(costed.index, used, strict=True)):
        d = costed.deployments[int(i)]
        layouts = tuple((w.tp, w.attention_dp, w.moe_tp, w.moe_ep, w.count) for w in (d.decode, d.prefill) if w)
        key = (row["backend"], row.get("backend_version"), row["model_path"], row["system"], d.dense_quant.name)
        sweeps.setdefault((*key, d.moe_quant.name, d.isl, d.osl, layouts, d.worker_counts_known), []).append(j)
    err = {"ttft": np.full(len(used), np.nan), "tpot": np.full(len(used), np.nan)}
    conc = np.array([costed.deployments[int(i)].concurrency for i in costed.index], dtype=float)
    for rows in sweeps.values():
        for j in rows:
            others = sorted((conc[k], k) for k in rows if conc[k] != conc[j])
            x = np.log([c for c, _ in others]) if others else np.array([])
            if len(others) < 2 or not x[0] <= np.log(conc[j]) <= x[-1]:
                continue
            for name, measured in (("ttft", ttft), ("tpot", tpot)):
                y = np.interp(np.log(conc[j]), x, np.log([measured[k] for _, k in others]))
                err[name][j] = abs(np.exp(y) / measured[j] - 1)
    out: dict[str, object] = {}
    for mode in ("agg", "disagg"):
        m = (labels["mode"] == mode) & np.isfinite(err["ttft"])
        out[mode] = {"rows": int(m.sum()), **{k: round(float(np.median(v[m])), 4) for k, v in err.items()}}
    return out


def _tables(pred_ttft, pred_tpot, ttft, tpot, labels):  # type: ignore[no-untyped-def]
    e_ttft = abs_pct_error(pred_ttft, ttft)
    e_tpot = abs_pct_error(pred_tpot, tpot)
    out: dict[str, object] = {"overall": _stats(e_ttft, e_tpot, np.ones(len(ttft), bool))}
    for key in ("system", "engine", "mode", "family"):
        out[key] = {g: _stats(e_ttft, e_tpot, labels[key] == g) for g in sorted(set(labels[key].tolist()))}
    for key in ("engine", "system"):  # aggregated and disaggregated rows apart: their errors differ 1.5-3x
        out[f"mode_{key}"] = {
            f"{m}/{g}": _stats(e_ttft, e_tpot, (labels["mode"] == m) & (labels[key] == g))
            for m in sorted(set(labels["mode"].tolist()))
            for g in sorted(set(labels[key].tolist()))
            if ((labels["mode"] == m) & (labels[key] == g)).any()
        }
    groups = [(s, e) for s in sorted(set(labels["system"].tolist())) for e in sorted(set(labels["engine"].tolist()))]
    cells = []
    for s, e in groups:
        mask = (labels["system"] == s) & (labels["engine"] == e)
        if mask.sum() >= 10:
            cells.append({"system": s, "engine": e, **_stats(e_ttft, e_tpot, mask)})
    out["worst"] = sorted(cells, key=lambda c: -c["tpot_median"])[:5]  # type: ignore[no-any-return]
    return out


def _stats(e_ttft, e_tpot, mask):  # type: ignore[no-untyped-def]
    a, b = e_ttft[mask], e_tpot[mask]
    a, b = a[np.isfinite(a)], b[np.isfinite(b)]
    return {
        "rows": int(mask.sum()),
        "ttft_median": round(float(np.median(a)), 4) if len(a) else None,
        "ttft_p90": round(float(np.percentile(a, 90)), 4) if len(a) else None,
        "tpot_median": round(float(np.median(b)), 4) if len(b) else None,
        "tpot_p90": round(float(np.percentile(b, 90)), 4) if len(b) else None,
    }


def _print(title, tables):  # type: ignore[no-untyped-def]
    print(f"\n{title}: median (p90) absolute error")
    print(f"{'group':<28}{'rows':>6}  {'TTFT':>16}  {'TPOT':>16}")

    def line(name, s):  # type: ignore[no-untyped-def]
        ttft = f"{s['ttft_median']:.0%} ({s['ttft_p90']:.0%})"
        tpot = f"{s['tpot_median']:.0%} ({s['tpot_p90']:.0%})"
        print(f"{name:<28}{s['rows']:>6}  {ttft:>16}  {tpot:>16}")

    line("overall", tables["overall"])
    for key in ("system", "engine", "mode", "family", "mode_engine", "mode_system"):
        for g, s in tables[key].items():
            line(f"{key.removeprefix('mode_')} {g}", s)
    for cell in tables["worst"]:
        line(f"worst {cell['system']}/{cell['engine']}", cell)


def _num(text):  # type: ignore[no-untyped-def]
    try:
        return float(text)
    except (TypeError, ValueError):
        return float("nan")


def _reasons(reasons):  # type: ignore[no-untyped-def]
    out: dict[str, int] = {}
    for r in reasons:
        if r:
            out[r] = out.get(r, 0) + 1
    return out


def _dataset(data: Path) -> dict[str, str]:
    csv_bytes = (data / "silicon_dev.csv").read_bytes()
    return {
        "file": "serving-silicon/silicon_dev.csv (ai-dynamo/aiconfigurator 095f58a, 2026-08-21)",
        "sha256": hashlib.sha256(csv_bytes).hexdigest(),
    }


def _write_coefficients(path: Path, coefficients: dict[str, object], report: dict[str, object]) -> None:
    commit = subprocess.run(
        ["git", "rev-parse", "HEAD"], check=False, cwd=REPO, capture_output=True, text=True
    ).stdout.strip()
    dirty = subprocess.run(
        ["git", "status", "--porcelain", "src/neocloud/economics/serving", "benchmarks/serving_accuracy.py"],
        check=False,
        cwd=REPO,
        capture_output=True,
        text=True,
    ).stdout.strip()
    cv = {
        name: report[name]["overall"]  # type: ignore[index]
        for name in ("leave-one-family-out", "leave-one-system-out", "roofline")
    }
    doc = {
        "version": VERSION,
        "provenance": {
            "dataset": report["dataset"],
            "fit_code_commit": commit + (" (with uncommitted changes)" if dirty else ""),
            "fitted_at": datetime.now(UTC).strftime("%Y-%m-%d"),  # noqa: TID251 - a benchmark stamps its run
            "method": (
                "scipy least_squares, soft_l1 (scale 0.1) on log(pred/measured), all costed rows: "
                "TPOT's coefficients on TPOT, then, those held, TTFT's own on TTFT"
            ),
            "rows": report["coverage"],  # type: ignore[dict-item]
            "cross_validation": cv,
        },
        "coefficients": coefficients,
    }
    path.write_text(json.dumps(doc, indent=1) + "\n", encoding="utf-8")
    print(f"wrote {path}")


if __name__ == "__main__":
    main()
