"""axe-core in the page: the accessibility violations of what the browser shows.

axe-core's script ships inside the ``axe-playwright-python`` package
(``axe_playwright_python/axe.min.js``): nothing is fetched. It is injected through
Playwright's ``evaluate``, which the pages' Content-Security-Policy does not cover.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

#: What the dashboard must never have: axe's two highest impacts, and landmark
#: problems of any impact (duplicate, unnamed or nested regions: axe rates them moderate).
BLOCKING_IMPACTS = frozenset({"serious", "critical"})
BLOCKING_RULE_PREFIX = "landmark-"


@dataclass(frozen=True, slots=True)
class Violation:
    page: str
    rule: str
    impact: str
    help: str
    targets: tuple[str, ...]

    @property
    def blocking(self) -> bool:
        return self.impact in BLOCKING_IMPACTS or self.rule.startswith(BLOCKING_RULE_PREFIX)

    def __str__(self) -> str:
        shown = ", ".join(self.targets[:8]) + (f" (+{len(self.targets) - 8} more)" if len(self.targets) > 8 else "")
        return f"{self.page}: {self.rule} ({self.impact}) {self.help}: {shown}"


def violations(page: Any, name: str) -> list[Violation]:
    """Every violation axe finds on ``page`` as it is now, named ``name`` in reports."""
    from axe_playwright_python.sync_playwright import Axe

    found = Axe().run(page).response["violations"]
    return [
        Violation(
            name,
            v["id"],
            v.get("impact") or "unknown",
            v["help"],
            tuple(" ".join(map(str, n["target"])) for n in v["nodes"]),
        )
        for v in found
    ]


def report(found: list[Violation]) -> str:
    """One line per violation: page, rule, impact, what it asks, and the elements."""
    return "\n".join(str(v) for v in found)
