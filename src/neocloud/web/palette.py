"""Chart colours shared by the dashboard and the CLI's HTML charts (no framework here,
so a CLI command that writes a chart does not load the web stack)."""

from __future__ import annotations

#: One colour per TCO line, in ``economics.cost.LINE_LABELS`` order.
LINE_COLOURS = ("#4e79a7", "#76b7b2", "#59a14f", "#edc949", "#f28e2c", "#e15759", "#af7aa1")
