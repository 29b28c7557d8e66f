"""The documented examples run: the complete fleet file in docs/fleet-spec.md loads."""

from __future__ import annotations

import re
from pathlib import Path

from neocloud.adapters.fleetfile.io import load_fleet
from neocloud.domain.fleet import summarize

DOCS = Path(__file__).resolve().parents[2] / "docs"


def _block(text: str, lang: str) -> str:
    match = re.search(rf"```{lang}\n(.*?)```", text, re.S)
    assert match, f"no ```{lang} block"
    return match.group(1)


def test_the_complete_example_in_fleet_spec_md_is_valid(tmp_path: Path) -> None:
    text = (DOCS / "fleet-spec.md").read_text()
    (tmp_path / "example.yaml").write_text(_block(text, "yaml"))
    (tmp_path / "example.nodes.csv").write_text(_block(text, "csv"))
    fleet = load_fleet(tmp_path / "example.yaml")
    [site], total = summarize(fleet)
    assert total.gpus == 680
    assert site.gpus_by_model == {"A100-SXM4-80GB": 16, "GB200": 144, "H100": 520}
    assert site.nodes_by_health["failed"] == 1
    assert site.nodes_by_health["maintenance"] == 1
    assert site.nvlink_domains == 69
