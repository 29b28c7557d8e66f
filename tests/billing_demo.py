"""The web demo a month on, its January invoiced: for the billing pages' tests.

The demo's leases start on 2027-01-04; the whole-site lease of ``frontier-lab`` has
failed nodes with no replacement, so its January invoice carries an SLA credit with
evidence. The clock then reads 2027-02-03 09:00 UTC: February has no invoice yet, so
the invoices page previews it."""

from __future__ import annotations

from datetime import UTC, datetime

from fastapi import FastAPI

from neocloud.api.app import create_app
from neocloud.domain.clock import ManualClock
from neocloud.services.container import Services
from neocloud.services.demo import DemoKeys
from tests.web_demo import demo_services

NOW = datetime(2027, 2, 3, 9, 0, tzinfo=UTC)


def billed_demo() -> tuple[Services, DemoKeys, ManualClock]:
    services, keys, clock = demo_services()
    clock.set(NOW)
    services.leasing.tick()
    services.billing.run("2027-01", actor="test")
    return services, keys, clock


def billed_demo_app() -> tuple[FastAPI, Services, DemoKeys]:
    services, keys, _ = billed_demo()
    return create_app(services), services, keys
