"""``/docs`` in a real browser with no way out: Swagger UI draws the API from local files."""

from __future__ import annotations

from typing import Any

from tests.browser.conftest import Served, shot

# Swagger UI parses a 1.4 MB bundle and the whole document before it draws anything:
# 1.8 s on one idle core, several times that beside the other xdist worker on 2 cores.
# A bound against a hang, not a timing claim.
DRAW_WAIT_MS = 45_000


def test_the_api_docs_draw_every_operation_offline(page: Any, served: Served) -> None:
    elsewhere: list[str] = []

    def only_here(route: Any) -> None:
        if route.request.url.startswith(served.url):
            route.continue_()
        else:
            elsewhere.append(route.request.url)
            route.abort()

    page.route("**/*", only_here)
    response = page.goto(f"{served.url}/docs")
    assert response is not None
    assert response.status == 200
    page.wait_for_selector(".opblock-summary-path", timeout=DRAW_WAIT_MS)
    paths = {p.strip() for p in page.locator(".opblock-summary-path").all_inner_texts()}
    assert "/v1/leases/{lease_id}" in {p.replace("\u200b", "") for p in paths}
    shot(page, "api-docs")
    assert elsewhere == []
    assert page.console.errors == []
