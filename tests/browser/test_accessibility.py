"""axe-core on every dashboard page, as the operator and as tenants: no serious or
critical accessibility violation (colour contrast, nested controls...) and no
landmark problem (two unnamed navigation regions, say)."""

from __future__ import annotations

from typing import Any

import pytest

from neocloud.domain.health import Health
from tests.browser.accessibility import Violation, report, violations
from tests.browser.conftest import Served, sign_in

#: The operator, a tenant with block leases (one healed), and the whole-site tenant.
PRINCIPALS = ("operator", "acme-ai", "frontier-lab")


def _pages(served: Served, principal: str) -> list[str]:
    """Every kind of page the principal can open, with each of its leases and a node
    of each health state it can see."""
    tenant = None if principal == "operator" else principal
    leasing = served.services.leasing
    leases = leasing.leases(tenant=tenant)
    mine = {le.id for le in leases}
    visible = {b.node for b in leasing.bookings(0, 2**62) if tenant is None or b.holder in mine}
    nodes = {}
    for node in leasing.fleet().nodes:
        if node.id in visible:
            nodes.setdefault(node.health, node.id)
    return [
        "/",
        "/timeline",
        "/timeline?months=24",
        *(f"/leases/{le.id}" for le in leases),
        "/leases/L-nope",
        "/nodes",
        f"/nodes?state={Health.FAILED.value}",
        *(f"/nodes/{node}" for node in nodes.values()),
        "/events",
        "/prices",
        "/invoices",  # the month so far as a preview (the demo has no invoice yet)
        "/economics",  # the operator's costs; a tenant's refusal page
        "/studies",  # the operator's studies; a tenant's refusal page
        *(f"/studies/{s.id}" for s in served.services.studies.studies()),
        "/serving",
        *(f"/serving?lease={le.id}&model=meta-llama/Meta-Llama-3.1-70B" for le in leases[:1]),
    ]


@pytest.mark.parametrize("principal", PRINCIPALS)
def test_no_page_has_a_serious_accessibility_violation_or_a_landmark_problem(
    page: Any, served: Served, principal: str
) -> None:
    found: list[Violation] = []
    page.goto(f"{served.url}/login")
    found += violations(page, "/login")
    page.fill("#api_key", "nc_nope_nope")
    page.click("button[type=submit]")
    page.wait_for_selector(".error")
    found += violations(page, "/login (refused)")
    token = served.keys.operator if principal == "operator" else served.keys.tenants[principal]
    sign_in(page, served, token)
    for path in _pages(served, principal):
        page.goto(f"{served.url}{path}")  # waits for the load event: the charts are drawn by then
        found += violations(page, path)
    blocking = [v for v in found if v.blocking]
    if blocking:
        pytest.fail(f"axe-core, signed in as {principal}:\n{report(blocking)}", pytrace=False)
