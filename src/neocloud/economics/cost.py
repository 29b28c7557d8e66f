"""What capacity costs its owner: TCO per GPU-hour and per MW-year of IT load, as lines.

For one GPU of one model at one site, per year (``HOURS_PER_YEAR`` hours):

- **hardware, servers** and **hardware, network fabric**: the hardware capex per GPU
  (server + fabric) straight-line over the economic life [R2], split by the network share
  of cluster capex [R7][R10]. Hardware capex is ``capex_per_gpu_usd`` less the facility
  part that figure includes (``facility_in_capex_per_gpu_usd``): [R7]'s 50k per H100 holds
  its spreadsheet's "Facility & Ops" line of 6,250 per GPU, which the facility and other
  opex lines below already count; a list or rack price ([R15], [R19]) holds none;
- **facility**: facility capex per MW of IT load [R17] x the GPU's IT kW, straight-line
  over the facility's life (the only place the facility is counted);
- **financing**: the capital charge at the WACC. Both capexes are recovered as a capital
  recovery annuity, ``C * r / (1 - (1 + r)^-n)``; this line is the annuity minus the two
  straight-line lines above it, so the lines add up to the annuity;
- **power**: IT kW per GPU x average draw x PUE x price per kWh. IT kW is the node's
  maximum draw per GPU (e.g. 10.2 kW / 8 for HGX H100 [R12]), *not* the "all-in" kW of
  [R1], which already includes facility overhead: applying the site's PUE to [R1] would
  count the overhead twice. (When a model has only an all-in figure, IT kW is taken as
  all-in / PUE, so the PUE still enters once.)
- **failures and RMA**: hardware failures per GPU-hour (unexpected interrupts [R90] x the
  hardware share [R92]) x the share that replace hardware [R94] x the replaced part's
  share of capex, x capex per GPU;
- **other opex**: per MW of IT load per year, x the GPU's IT MW.

Rounding (the one rule): each line is computed unrounded from the inputs, then rounded
once, half-even, to the currency's rate precision per GPU-hour (4 places for USD, as
:func:`neocloud.domain.money.rate_places` gives) and to the minor unit (cents) per MW-year.
A total is the sum of its rounded lines, never rounded again; a fleet's line is the
GPU-weighted mean of its rows' rounded lines, rounded once the same way.

Book depreciation (the accounting view: hardware capex over the book life [R25]) is
reported beside the economic-life cost, not added to it.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from decimal import Decimal

from neocloud.domain.catalog import GpuModel
from neocloud.domain.errors import DomainError
from neocloud.domain.fleet import Fleet, Site
from neocloud.domain.money import Money, round_money, round_rate
from neocloud.economics.assumptions import FACILITY_IN_CAPEX, GLOBAL_KEYS, Assumptions, Sourced
from neocloud.economics.months import HOURS_PER_YEAR

#: The lines of a TCO, in the order they are shown: key -> label.
LINE_LABELS: Mapping[str, str] = {
    "hardware_servers": "hardware: servers",
    "hardware_fabric": "hardware: network fabric",
    "facility": "facility capex",
    "financing": "financing (capital charge)",
    "power": "power",
    "failures": "failures and RMA",
    "other_opex": "other opex",
}

_MODEL_REQUIRED = ("capex_per_gpu_usd",)
_KW = Decimal(1000)


class MissingAssumption(DomainError):
    """A value the cost model needs has no layer that gives it."""


class InconsistentAssumption(DomainError):
    """Resolved values contradict each other (a facility part larger than the capex)."""


@dataclass(frozen=True, slots=True)
class CostInputs:
    """Everything :func:`tco` reads for one GPU model at one site: resolved, sourced values."""

    model: str
    site: str | None
    values: Mapping[str, Sourced]
    currency: str = "USD"

    @classmethod
    def resolve(
        cls, assumptions: Assumptions, model: str, site: Site | str | None = None, gpu: GpuModel | None = None
    ) -> CostInputs:
        """The values for ``model`` at ``site``, the most specific layer winning: a fleet
        :class:`Site` brings its fleet data (PUE, electricity price); a site's name alone
        only its overrides. ``gpu``, the fleet catalog's entry for the model, gives the IT
        kW per GPU (node power / GPUs per node) when no assumption gives a power figure.
        Raises :class:`MissingAssumption` naming what no layer gives."""
        layer = site_layer(site) if isinstance(site, Site) else None
        name = site.name if isinstance(site, Site) else site
        values = assumptions.resolve(model, name, layer)
        if "it_kw_per_gpu" not in values and "all_in_kw_per_gpu" not in values and gpu and gpu.node_power_kw:
            kw = Decimal(str(gpu.node_power_kw)) / gpu.gpus_per_node
            note = f"{gpu.node_power_kw:g} kW per node / {gpu.gpus_per_node} GPUs, from the fleet's catalog"
            values["it_kw_per_gpu"] = Sourced(kw, "fleet:catalog", "fleet file", note)
        missing = [k for k in (*GLOBAL_KEYS, *_MODEL_REQUIRED) if k not in values]
        if "it_kw_per_gpu" not in values and "all_in_kw_per_gpu" not in values:
            missing.append("it_kw_per_gpu (or all_in_kw_per_gpu)")
        if missing:
            raise MissingAssumption(
                "no assumption gives {keys} for GPU model {model!r}", keys=", ".join(missing), model=model
            )
        inputs = cls(model, name, values, assumptions.currency)
        if inputs.hardware_capex_per_gpu < 0:
            raise InconsistentAssumption(
                "{key} ({part}) exceeds capex_per_gpu_usd ({capex}) for GPU model {model!r}",
                key=FACILITY_IN_CAPEX,
                part=str(inputs.value(FACILITY_IN_CAPEX)),
                capex=str(inputs.value("capex_per_gpu_usd")),
                model=model,
            )
        return inputs

    def value(self, key: str) -> Decimal:
        return self.values[key].value

    @property
    def it_kw_per_gpu(self) -> Decimal:
        """IT load per GPU in kW: the node's maximum draw per GPU, or all-in / PUE."""
        if "it_kw_per_gpu" in self.values:
            return self.value("it_kw_per_gpu")
        return self.value("all_in_kw_per_gpu") / self.value("pue")

    @property
    def hardware_capex_per_gpu(self) -> Decimal:
        """Server + fabric capex per GPU: ``capex_per_gpu_usd`` less the facility part the
        figure includes (zero when no layer gives one), so the facility line alone counts
        the facility."""
        part = self.values.get(FACILITY_IN_CAPEX)
        return self.value("capex_per_gpu_usd") - (part.value if part else Decimal(0))

    @property
    def wacc(self) -> Decimal:
        """Pre-tax WACC: debt share x cost of debt + equity share x cost of equity."""
        debt = self.value("debt_share")
        return debt * self.value("cost_of_debt") + (1 - debt) * self.value("cost_of_equity")


@dataclass(frozen=True, slots=True)
class TcoLine:
    """One line of a TCO: ``per_gpu_hour`` and ``per_mw_year`` (of IT load), each rounded once."""

    key: str
    label: str
    per_gpu_hour: Money
    per_mw_year: Money


@dataclass(frozen=True, slots=True)
class Tco:
    """The owner's cost of one GPU of ``model`` at ``site``.

    ``per_gpu_hour`` and ``per_mw_year`` are the sums of the lines' rounded amounts.
    ``capex_per_gpu`` is the hardware capex (server + fabric, without any facility part the
    source figure included); ``facility_capex_per_gpu`` the facility's share.
    ``book_depreciation_per_gpu_year`` is hardware capex over the book life (the
    accounting view), shown beside the cost, not part of it.
    """

    model: str
    site: str | None
    lines: tuple[TcoLine, ...]
    per_gpu_hour: Money
    per_mw_year: Money
    capex_per_gpu: Money
    facility_capex_per_gpu: Money
    book_depreciation_per_gpu_year: Money
    wacc: Decimal
    it_kw_per_gpu: Decimal
    facility_kw_per_gpu: Decimal
    inputs: CostInputs

    def capex_total(self, gpus: int) -> Money:
        """Hardware capex (server + fabric) for ``gpus`` GPUs."""
        return self.capex_per_gpu.times(gpus)

    def line(self, key: str) -> TcoLine:
        """The line called ``key`` (one of :data:`LINE_LABELS`)."""
        return next(line for line in self.lines if line.key == key)


def tco(inputs: CostInputs) -> Tco:
    """The TCO of one GPU from ``inputs`` (see the module docstring for the formulas)."""
    yearly = _yearly_lines(inputs)
    cur = inputs.currency
    it_kw = inputs.it_kw_per_gpu
    lines = tuple(
        TcoLine(
            key,
            LINE_LABELS[key],
            Money(round_rate(amount / HOURS_PER_YEAR, cur), cur),
            Money(round_money(amount * _KW / it_kw, cur), cur),
        )
        for key, amount in yearly.items()
    )
    capex = inputs.hardware_capex_per_gpu
    return Tco(
        model=inputs.model,
        site=inputs.site,
        lines=lines,
        per_gpu_hour=Money(sum((line.per_gpu_hour.amount for line in lines), Decimal(0)), cur),
        per_mw_year=Money(sum((line.per_mw_year.amount for line in lines), Decimal(0)), cur),
        capex_per_gpu=Money(round_money(capex, cur), cur),
        facility_capex_per_gpu=Money(round_money(_facility_capex(inputs), cur), cur),
        book_depreciation_per_gpu_year=Money(round_money(capex / inputs.value("depreciation_years_book"), cur), cur),
        wacc=inputs.wacc,
        it_kw_per_gpu=it_kw,
        facility_kw_per_gpu=it_kw * inputs.value("pue"),
        inputs=inputs,
    )


def capital_recovery_factor(rate: Decimal, years: Decimal) -> Decimal:
    """The annuity per year that repays 1 over ``years`` at ``rate``: r / (1 - (1 + r)^-n)
    (1 / n at a rate of zero)."""
    if rate == 0:
        return 1 / years
    return rate / (1 - (1 + rate) ** -years)


def site_layer(site: Site) -> dict[str, Sourced]:
    """The fleet file's values for ``site`` (PUE, and the electricity price where given)."""
    source = f"fleet:{site.name}"
    layer = {"pue": Sourced(Decimal(str(site.pue)), source, "fleet file", "the site's PUE in the fleet file")}
    if site.electricity_usd_per_kwh is not None:
        price = Decimal(str(site.electricity_usd_per_kwh))
        layer["electricity_usd_per_kwh"] = Sourced(price, source, "fleet file", "the site's price in the fleet file")
    return layer


# -- the fleet ------------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class FleetTcoRow:
    """The TCO of ``gpus`` GPUs of one model at one site; ``annual_cost`` is
    ``gpus x per_gpu_hour x HOURS_PER_YEAR``, rounded once to the minor unit."""

    site: str
    model: str
    gpus: int
    tco: Tco
    annual_cost: Money

    @property
    def capex_with_facility(self) -> Money:
        """Hardware (server + fabric) and facility capex of these GPUs."""
        t = self.tco
        return Money(
            t.capex_total(self.gpus).amount + t.facility_capex_per_gpu.amount * self.gpus, t.capex_per_gpu.currency
        )


@dataclass(frozen=True, slots=True)
class Unpriced:
    """GPUs the cost model cannot price, and why (e.g. a model with no capex assumption)."""

    site: str
    model: str
    gpus: int
    reason: str


@dataclass(frozen=True, slots=True)
class SiteTco:
    """One site's priced GPUs and their cost: ``it_mw`` is their IT load, ``power_mw`` the
    site's budget in the fleet file, ``per_mw_year_of_budget`` the annual cost over it,
    ``capex`` what the GPUs and their share of the facility cost to build (a deal's IRR
    is measured against it)."""

    site: str
    gpus: int
    it_mw: Decimal
    power_mw: float | None
    annual_cost: Money
    per_mw_year_of_budget: Money | None
    capex: Money


@dataclass(frozen=True, slots=True)
class FleetTco:
    """A fleet's TCO: one row per (site, model), and the GPU-weighted mean per line.

    ``per_gpu_hour`` is the sum of ``lines``; ``annual_cost`` the sum of the rows'.
    GPUs in ``unpriced`` count in neither.
    """

    rows: tuple[FleetTcoRow, ...]
    unpriced: tuple[Unpriced, ...]
    lines: tuple[TcoLine, ...]
    per_gpu_hour: Money
    annual_cost: Money
    gpus: int
    currency: str
    site_power_mw: Mapping[str, float | None] = field(default_factory=dict)

    def only(self, site: str | None = None, model: str | None = None) -> FleetTco:
        """The rows of ``site`` and/or ``model`` (``None``: all), with their own totals."""
        rows = [r for r in self.rows if site in (None, r.site) and model in (None, r.model)]
        unpriced = [u for u in self.unpriced if site in (None, u.site) and model in (None, u.model)]
        return _fleet_total(rows, unpriced, self.currency, self.site_power_mw)

    def site_totals(self) -> list[SiteTco]:
        """Per site: its priced GPUs, their IT load, the site's power budget from the fleet
        file, the annual cost, and that cost per MW-year of the budget (``None`` without one)."""
        out = []
        for site in dict.fromkeys(r.site for r in self.rows):
            rows = [r for r in self.rows if r.site == site]
            annual = sum((r.annual_cost.amount for r in rows), Decimal(0))
            budget = self.site_power_mw.get(site)
            per_mw = Money(round_money(annual / Decimal(str(budget)), self.currency), self.currency) if budget else None
            it_mw = sum((r.gpus * r.tco.it_kw_per_gpu for r in rows), Decimal(0)) / _KW
            capex = Money(sum((r.capex_with_facility.amount for r in rows), Decimal(0)), self.currency)
            gpus = sum(r.gpus for r in rows)
            out.append(SiteTco(site, gpus, it_mw, budget, Money(annual, self.currency), per_mw, capex))
        return out

    def capex_with_facility(self) -> Money:
        """Hardware and facility capex of every priced GPU: the sum of the rows'."""
        return Money(sum((r.capex_with_facility.amount for r in self.rows), Decimal(0)), self.currency)

    def sites(self) -> list[str]:
        """Sites with GPUs, priced or not, in fleet order."""
        return list(dict.fromkeys([*(r.site for r in self.rows), *(u.site for u in self.unpriced)]))

    def models(self) -> list[str]:
        """GPU models, priced or not, in fleet order."""
        return list(dict.fromkeys([*(r.model for r in self.rows), *(u.model for u in self.unpriced)]))


def fleet_tco(fleet: Fleet, assumptions: Assumptions) -> FleetTco:
    """The TCO of every (site, GPU model) in ``fleet`` with its GPU count, and the fleet's
    GPU-weighted total. Counts every GPU, whatever its health (the owner pays for all)."""
    counts: Counter[tuple[str, str]] = Counter()
    for node in fleet.nodes:
        counts[(node.site, node.gpu_model)] += node.gpu_count
    sites = {s.name: s for s in fleet.sites}
    rows: list[FleetTcoRow] = []
    unpriced: list[Unpriced] = []
    cur = assumptions.currency
    for (site, model), gpus in counts.items():
        try:
            one = tco(CostInputs.resolve(assumptions, model, sites.get(site), fleet.catalog.get(model)))
        except (MissingAssumption, InconsistentAssumption) as exc:
            unpriced.append(Unpriced(site, model, gpus, str(exc)))
            continue
        annual = Money(round_money(one.per_gpu_hour.amount * gpus * HOURS_PER_YEAR, cur), cur)
        rows.append(FleetTcoRow(site, model, gpus, one, annual))
    return _fleet_total(rows, unpriced, cur, {s.name: s.power_mw for s in fleet.sites})


def weighted_lines(rows: Sequence[FleetTcoRow], currency: str) -> tuple[TcoLine, ...]:
    """The GPU-weighted mean of each line over ``rows`` (per GPU-hour; per MW-year weighted
    by IT MW), each rounded once."""
    gpus = sum(r.gpus for r in rows)
    it_mw = sum(r.gpus * r.tco.it_kw_per_gpu for r in rows) / _KW
    out: list[TcoLine] = []
    for key, label in LINE_LABELS.items():
        hour = sum((r.gpus * r.tco.line(key).per_gpu_hour.amount for r in rows), Decimal(0))
        year_mw = sum(
            (r.gpus * r.tco.it_kw_per_gpu / _KW * r.tco.line(key).per_mw_year.amount for r in rows), Decimal(0)
        )
        out.append(
            TcoLine(
                key,
                label,
                Money(round_rate(hour / gpus, currency) if gpus else Decimal(0), currency),
                Money(round_money(year_mw / it_mw, currency) if it_mw else Decimal(0), currency),
            )
        )
    return tuple(out)


# -- helpers, in call order -------------------------------------------------------------------


def _yearly_lines(inputs: CostInputs) -> dict[str, Decimal]:
    """Each line's unrounded cost per GPU per year."""
    v = inputs.value
    capex = inputs.hardware_capex_per_gpu
    life, facility_life = v("economic_life_years"), v("facility_life_years")
    facility = _facility_capex(inputs)
    share = v("network_share_of_cluster_capex")
    wacc = inputs.wacc
    annuity = capex * capital_recovery_factor(wacc, life) + facility * capital_recovery_factor(wacc, facility_life)
    straight = {"hardware_servers": capex * (1 - share) / life, "hardware_fabric": capex * share / life}
    straight["facility"] = facility / facility_life
    failures_per_year = (
        v("unexpected_interrupts_per_gpu_hour")
        * v("hw_share_of_interrupts")
        * v("replacement_share_of_hw_failures")
        * HOURS_PER_YEAR
    )
    it_kw = inputs.it_kw_per_gpu
    return {
        **straight,
        "financing": annuity - sum(straight.values(), Decimal(0)),
        "power": it_kw * v("average_draw_fraction") * v("pue") * HOURS_PER_YEAR * v("electricity_usd_per_kwh"),
        "failures": failures_per_year * v("replaced_part_share_of_capex") * capex,
        "other_opex": v("other_opex_usd_per_mw_it_year") * it_kw / _KW,
    }


def _facility_capex(inputs: CostInputs) -> Decimal:
    return inputs.value("facility_capex_usd_per_mw_it") * inputs.it_kw_per_gpu / _KW


def _fleet_total(
    rows: Sequence[FleetTcoRow],
    unpriced: Sequence[Unpriced],
    currency: str,
    site_power_mw: Mapping[str, float | None],
) -> FleetTco:
    lines = weighted_lines(rows, currency)
    return FleetTco(
        rows=tuple(rows),
        unpriced=tuple(unpriced),
        lines=lines,
        per_gpu_hour=Money(sum((line.per_gpu_hour.amount for line in lines), Decimal(0)), currency),
        annual_cost=Money(sum((r.annual_cost.amount for r in rows), Decimal(0)), currency),
        gpus=sum(r.gpus for r in rows),
        currency=currency,
        site_power_mw=dict(site_power_mw),
    )
