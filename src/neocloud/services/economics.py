"""Economics use cases: what the served fleet costs its owner (operator only).

:class:`CostService` prices the fleet the ledger serves (or one a command was handed) with
the shipped assumptions and the operator's override file, if one is configured. The
fleet's topology is fixed after ``init``, so the fleet's TCO is computed once per service
and reused; :meth:`CostService.tco_per_gpu_hour` is what the price book calls for margins.
"""

from __future__ import annotations

import threading
from collections.abc import Callable

from neocloud.domain.errors import RequestError
from neocloud.domain.fleet import Fleet
from neocloud.domain.money import Money
from neocloud.economics.assumptions import Assumptions
from neocloud.economics.cost import CostInputs, FleetTco, MissingAssumption, Tco, fleet_tco, tco


class CostService:
    """The owner's TCO of a fleet, per site and GPU model.

    ``fleet`` and ``assumptions`` are called once, on first use (so a bad override file
    fails the request that needs it, not the server's start).
    """

    def __init__(self, fleet: Callable[[], Fleet], assumptions: Callable[[], Assumptions]) -> None:
        self._fleet = fleet
        self._load = assumptions
        self._assumptions: Assumptions | None = None
        self._tco: FleetTco | None = None
        self._one: dict[tuple[str | None, str], Tco | None] = {}
        self._mutex = threading.Lock()

    def assumptions(self) -> Assumptions:
        """The assumptions in force: shipped defaults with the operator's overrides."""
        with self._mutex:
            if self._assumptions is None:
                self._assumptions = self._load()
            return self._assumptions

    def fleet_tco(self, *, site: str | None = None, model: str | None = None) -> FleetTco:
        """The fleet's TCO, or that of one ``site`` and/or ``model``. Raises
        :class:`RequestError` naming a site or model the fleet does not have."""
        whole = self._whole()
        problems = []
        if site is not None and site not in whole.sites():
            problems.append(f"site: no site {site!r} in the fleet; it has {', '.join(whole.sites()) or 'none'}")
        if model is not None and model not in whole.models():
            problems.append(f"model: no {model!r} GPUs in the fleet; it has {', '.join(whole.models()) or 'none'}")
        if problems:
            raise RequestError(problems)
        return whole if site is None and model is None else whole.only(site, model)

    def tco(self, site: str | None, model: str) -> Tco | None:
        """The TCO of one GPU of ``model`` at ``site`` (its fleet data and overrides when the
        fleet has it; the defaults and any site overrides when not); ``None`` when no
        assumption prices ``model``."""
        key = (site, model)
        if key not in self._one:
            fleet = self._fleet()
            sites = {s.name: s for s in fleet.sites}
            where = sites.get(site, site) if site is not None else None
            try:
                self._one[key] = tco(CostInputs.resolve(self.assumptions(), model, where, fleet.catalog.get(model)))
            except MissingAssumption:
                self._one[key] = None
        return self._one[key]

    def tco_per_gpu_hour(self, site: str, model: str) -> Money | None:
        """The owner's TCO per GPU-hour of ``model`` at ``site`` (``None`` when it cannot
        be priced): what the price book shows margins over."""
        one = self.tco(site, model)
        return one.per_gpu_hour if one is not None else None

    def _whole(self) -> FleetTco:
        assumptions = self.assumptions()
        with self._mutex:
            if self._tco is None:
                self._tco = fleet_tco(self._fleet(), assumptions)
            return self._tco
