"""A sweep's report as one self-contained HTML page (inline SVG, no script, no files):
what was swept, mean JCT against the load factor (a line per policy and lease
fraction, each point the mean over the seeds), the means per setting and every row. The
chart and the means are ``neocloud.web.study_charts``'s, the dashboard's ``/studies/{id}`` too."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from html import escape
from typing import Any

from neocloud.sim.sweep import COLUMNS, Row, mean_over_seeds
from neocloud.web.study_charts import settings_table, sweep_svg


def report_html(rows: Sequence[Row], about: Mapping[str, Any]) -> str:
    settings = mean_over_seeds(rows)
    title = f"{about['trace']} on {about['cluster']}"
    parts = [
        "<!doctype html><html lang='en'><head><meta charset='utf-8'>",
        f"<title>Sweep: {escape(title)}</title>",
        "<style>body{font-family:sans-serif;margin:1rem;max-width:72rem}table{border-collapse:collapse}"
        "td,th{padding:.2rem .5rem;border-bottom:1px solid #ddd;text-align:right;font-size:13px}"
        "td:first-child,th:first-child{text-align:left}text{font-size:11px}figure{margin:1rem 0}"
        ".wide{overflow-x:auto}</style>",
        f"</head><body><h1>Sweep</h1><p>{escape(title)}</p>",
        _about(about, rows),
        sweep_svg(settings),
        "<h2>Mean over the seeds</h2>",
        settings_table(settings),
        _rows(rows),
        "</body></html>\n",
    ]
    return "".join(parts)


def _about(about: Mapping[str, Any], rows: Sequence[Row]) -> str:
    items = [
        ("points", f"{len(rows):,}"),
        ("policies", ", ".join(dict.fromkeys(r.policy for r in rows))),
        ("seeds", ", ".join(str(s) for s in dict.fromkeys(r.seed for r in rows))),
        ("load factors", ", ".join(f"{x:g}" for x in dict.fromkeys(r.load for r in rows))),
        ("lease fractions", ", ".join(f"{x:g}" for x in dict.fromkeys(r.lease_fraction for r in rows))),
        ("placement", str(about["placement"])),
        ("window", str(about["window"] or "the whole trace")),
        ("ran on", str(about["executor"])),
        ("wall", f"{about['wall_s']:.2f} s"),
    ]
    body = "".join(f"<tr><td>{escape(k)}</td><td>{escape(v)}</td></tr>" for k, v in items)
    return f"<table aria-label='what was swept'>{body}</table>"


def _rows(rows: Sequence[Row]) -> str:
    head = "".join(f"<th>{escape(name)}</th>" for name in COLUMNS)
    body = "".join("<tr>" + "".join(f"<td>{_cell(v)}</td>" for v in r.as_dict().values()) + "</tr>" for r in rows)
    table = f"<table aria-label='every point'><tr>{head}</tr>{body}</table>"
    return f"<h2>Every point</h2><div class='wide'>{table}</div>"


def _cell(value: object) -> str:
    if isinstance(value, float):
        return escape(f"{value:,.4g}" if abs(value) < 1e4 else f"{value:,.0f}")
    if isinstance(value, int):
        return f"{value:,}"
    return escape(str(value))
