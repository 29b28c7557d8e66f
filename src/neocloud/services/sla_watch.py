"""Each live lease's SLA in the billing period so far, for alerting before the invoice.

For every lease delivering now (billed state, its term holding this instant): the GPUs
contracted and delivered-healthy at this instant, and the period so far metered to the
second, by the same :func:`neocloud.billing.meter` the invoice run uses: the GPUs now
are the GPU-seconds of the one second from now (one mechanism, not a second reading of
bookings and health). The period is the calendar month in the zone earlier invoices
were billed in (UTC before the first run). ``/metrics`` exports these as
``neocloud_lease_*`` gauges (api/metrics.py).
"""

from __future__ import annotations

from dataclasses import dataclass
from decimal import Decimal

from neocloud.billing import Usage, meter
from neocloud.domain.billing import Period, period_of
from neocloud.domain.clock import to_s
from neocloud.services.billing import BillingService
from neocloud.services.billing_inputs import billed_leases, lease_histories


@dataclass(frozen=True, slots=True)
class LiveSla:
    """One lease now: GPUs at this instant and the period so far."""

    lease_id: str
    tenant: str
    contracted_gpus: int
    delivered_gpus: int
    target_pct: Decimal
    so_far: Usage

    @property
    def availability(self) -> float | None:
        """Delivered / (contracted - excluded) over the period so far (None: nothing counted yet)."""
        return self.so_far.availability


def live_sla(billing: BillingService, now_s: int | None = None) -> list[LiveSla]:
    """Every lease delivering at ``now_s`` (default: the clock), in lease-id order."""
    now = to_s(billing.clock.now()) if now_s is None else now_s
    month = period_of(now, billing.zone())
    instant = Period(month.label, month.tz, now, now + 1)
    leases = [lease for lease in billed_leases(billing.leasing.leases(), [instant]) if lease.start_s <= now]
    out = []
    for history in lease_histories(billing.leasing, sorted(leases, key=lambda lease: lease.id)):
        at_now = meter(history, instant)
        lease = history.lease
        out.append(
            LiveSla(
                lease.id,
                lease.tenant,
                at_now.contracted_gpu_s,
                at_now.delivered_gpu_s,
                lease.request.sla_availability_pct,
                meter(history, month, until_s=now),
            )
        )
    return out
