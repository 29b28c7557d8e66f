"""API (and ``neocloud plan tco --json``) schemas of the cost model's results.

Money is a decimal string with its ``currency`` beside it, never a float; kW are numbers.
"""

from __future__ import annotations

from pydantic import BaseModel, Field

from neocloud.economics.assumptions import Assumptions
from neocloud.economics.cost import FleetTco, FleetTcoRow, SiteTco, TcoLine, Unpriced


class TcoLineOut(BaseModel):
    key: str = Field(description="hardware_servers, hardware_fabric, facility, financing, power, failures, other_opex")
    label: str
    per_gpu_hour: str = Field(description="Decimal string, rounded once to 4 places (USD)")
    per_mw_year: str = Field(description="Per MW of IT load per year; decimal string in the minor unit (cents)")

    @classmethod
    def of(cls, line: TcoLine) -> TcoLineOut:
        return cls(
            key=line.key,
            label=line.label,
            per_gpu_hour=str(line.per_gpu_hour.amount),
            per_mw_year=str(line.per_mw_year.amount),
        )


class AssumptionOut(BaseModel):
    key: str
    value: str
    source: str = Field(description="Tag(s) in economics.md section 7; D: derived (see note); fleet:SITE")
    date: str
    note: str


class TcoRowOut(BaseModel):
    site: str
    model: str
    gpus: int
    per_gpu_hour: str = Field(description="Sum of the lines' per_gpu_hour")
    per_mw_year: str = Field(description="Sum of the lines' per_mw_year")
    annual_cost: str = Field(description="gpus x per_gpu_hour x 8766 h, rounded once to cents")
    capex_per_gpu: str = Field(description="All-in hardware capex per GPU (server + fabric)")
    capex_total: str = Field(description="gpus x capex_per_gpu (hardware)")
    capex_with_facility: str = Field(description="gpus x (capex_per_gpu + facility_capex_per_gpu)")
    facility_capex_per_gpu: str
    book_depreciation_per_gpu_year: str = Field(description="Hardware capex over the book life: beside the cost")
    wacc: str
    it_kw_per_gpu: float
    facility_kw_per_gpu: float = Field(description="IT kW per GPU x PUE")
    lines: list[TcoLineOut]
    inputs: list[AssumptionOut]

    @classmethod
    def of(cls, row: FleetTcoRow) -> TcoRowOut:
        t = row.tco
        return cls(
            site=row.site,
            model=row.model,
            gpus=row.gpus,
            per_gpu_hour=str(t.per_gpu_hour.amount),
            per_mw_year=str(t.per_mw_year.amount),
            annual_cost=str(row.annual_cost.amount),
            capex_per_gpu=str(t.capex_per_gpu.amount),
            capex_total=str(t.capex_total(row.gpus).amount),
            capex_with_facility=str(row.capex_with_facility.amount),
            facility_capex_per_gpu=str(t.facility_capex_per_gpu.amount),
            book_depreciation_per_gpu_year=str(t.book_depreciation_per_gpu_year.amount),
            wacc=str(t.wacc),
            it_kw_per_gpu=float(t.it_kw_per_gpu),
            facility_kw_per_gpu=float(t.facility_kw_per_gpu),
            lines=[TcoLineOut.of(line) for line in t.lines],
            inputs=[
                AssumptionOut(key=k, value=str(v.value), source=v.source, date=v.date, note=v.note)
                for k, v in sorted(t.inputs.values.items())
            ],
        )


class UnpricedOut(BaseModel):
    site: str
    model: str
    gpus: int
    reason: str

    @classmethod
    def of(cls, u: Unpriced) -> UnpricedOut:
        return cls(site=u.site, model=u.model, gpus=u.gpus, reason=u.reason)


class SiteTcoOut(BaseModel):
    site: str
    gpus: int
    it_mw: float = Field(description="IT load of the priced GPUs")
    power_mw: float | None = Field(description="The site's IT power budget in the fleet file")
    annual_cost: str
    per_mw_year_of_budget: str | None = Field(description="annual_cost / power_mw, in cents; null without a budget")
    capex: str = Field(description="Hardware and facility capex of the site's priced GPUs")

    @classmethod
    def of(cls, s: SiteTco) -> SiteTcoOut:
        per_mw = s.per_mw_year_of_budget
        return cls(
            site=s.site,
            gpus=s.gpus,
            it_mw=float(s.it_mw),
            power_mw=s.power_mw,
            annual_cost=str(s.annual_cost.amount),
            per_mw_year_of_budget=str(per_mw.amount) if per_mw is not None else None,
            capex=str(s.capex.amount),
        )


class FleetTcoOut(BaseModel):
    """The owner's TCO of the fleet (operator only)."""

    assumptions_version: str
    assumptions_origin: str
    currency: str
    gpus: int = Field(description="GPUs priced (unpriced ones are listed apart)")
    per_gpu_hour: str = Field(description="GPU-weighted: the sum of lines")
    annual_cost: str = Field(description="Sum of the rows' annual_cost")
    lines: list[TcoLineOut]
    rows: list[TcoRowOut]
    sites: list[SiteTcoOut]
    unpriced: list[UnpricedOut]

    @classmethod
    def of(cls, result: FleetTco, assumptions: Assumptions) -> FleetTcoOut:
        return cls(
            assumptions_version=assumptions.version,
            assumptions_origin=assumptions.origin,
            currency=result.currency,
            gpus=result.gpus,
            per_gpu_hour=str(result.per_gpu_hour.amount),
            annual_cost=str(result.annual_cost.amount),
            lines=[TcoLineOut.of(line) for line in result.lines],
            rows=[TcoRowOut.of(r) for r in result.rows],
            sites=[SiteTcoOut.of(s) for s in result.site_totals()],
            unpriced=[UnpricedOut.of(u) for u in result.unpriced],
        )
