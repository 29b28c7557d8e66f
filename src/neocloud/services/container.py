"""Everything an entry point (API, dashboard) needs, built once by bootstrap."""

from __future__ import annotations

from dataclasses import dataclass

from neocloud.domain.access import ApiKey, Role
from neocloud.domain.clock import Clock
from neocloud.services.access import KeyService
from neocloud.services.billing import BillingService
from neocloud.services.catalog import Catalog
from neocloud.services.custody import CustodyService
from neocloud.services.deals import CostSource, DealService
from neocloud.services.economics import CostService
from neocloud.services.leasing import LeasingService
from neocloud.services.pricing import PricingService
from neocloud.services.queue import QueueService
from neocloud.services.serving import ServingService
from neocloud.services.studies import StudyService
from neocloud.services.visibility import Visibility


@dataclass(frozen=True, slots=True)
class Services:
    leasing: LeasingService
    keys: KeyService
    clock: Clock
    database: str
    pricing: PricingService
    cost: CostService  # the owner's TCO of the served fleet (operator only)
    serving: ServingService  # what capacity serves: tokens/s, rate limits, five-hour budgets
    billing: BillingService  # invoice runs, invoices and credit notes, their lifecycle
    queues: QueueService  # internal pools' live job queues (operator only)
    studies: StudyService  # stored keep-vs-lease studies and sweeps (operator only)
    deal_costs: CostSource | None = None  # what a site's capacity costs, for deals (the cost model)

    @property
    def catalog(self) -> Catalog:
        """Filtered, paged reads of the fleet and the leases."""
        return Catalog(self.leasing)

    @property
    def deals(self) -> DealService:
        """Deal analysis and the book of the ledger's leases (operator only)."""
        return DealService(self.leasing, self.deal_costs)

    @property
    def custody(self) -> CustodyService:
        """The custody trail of a GPU or node (operator only)."""
        return CustodyService(self.leasing, self.billing)

    @property
    def visibility(self) -> Visibility:
        """Bookings, nodes and events as a viewer may see them."""
        return Visibility(self.leasing)

    def create_key(self, *, role: Role, tenant: str | None, label: str, actor: str) -> tuple[ApiKey, str]:
        """A new API key (checked against the stored tenants) and its token, shown once."""
        return self.keys.create(
            role=role, tenant=tenant, actor=actor, known_tenants=self.leasing.tenants(), label=label
        )
