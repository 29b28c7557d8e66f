"""API schemas of stored studies (``/v1/studies``, operator only): keep-vs-lease studies
and sweeps. A study's ``result`` is the document the CLI prints with ``--json``
(``plan keep-vs-lease``; a sweep's rows and its about block), money as decimal strings."""

from __future__ import annotations

from typing import Annotated, Any

from pydantic import Field, field_validator, model_validator

from neocloud.api.schemas import Instant, Name, Schema, iso, seconds
from neocloud.api.schemas_deals import Amount, Fraction
from neocloud.domain.money import Money
from neocloud.domain.studies import Study
from neocloud.economics.contract import MAX_NOTICE_DAYS
from neocloud.economics.months import MAX_TERM_MONTHS
from neocloud.services.keep_vs_lease import DEFAULT_MAX_DELAY_S, LeaseTerms
from neocloud.services.studies import KeepVsLeaseAsk

#: Fractions one study may ask [D: a frontier reads well with 5-11 points; 21 is 5% steps].
MAX_FRACTIONS = 21
Share = Annotated[float, Field(ge=0, le=1, allow_inf_nan=False)]


class CandidatesIn(Schema):
    level: str = Field(description="What may be leased: sites, pods or blocks")
    sites: list[Name] = Field(default_factory=list, max_length=64, description="Only these sites' units; [] all")


class LeaseIn(Schema):
    """How the leased part is sold: ``price_per_gpu_hour``, or ``monthly_fee`` for all the
    candidates (a part pays its share of their GPUs)."""

    tenant: Name
    start: Instant
    end: Instant = Field(description="End, exclusive")
    price_per_gpu_hour: Amount | None = None
    monthly_fee: Amount | None = None
    currency: str = Field("USD", pattern=r"^[A-Z]{3}$")
    ramp: list[Fraction] = Field(default_factory=list, max_length=MAX_TERM_MONTHS)
    notice_days: Annotated[int, Field(strict=True, ge=0, le=MAX_NOTICE_DAYS)] | None = None
    initial_months: Annotated[int, Field(strict=True, ge=0, le=MAX_TERM_MONTHS)] = 0

    @model_validator(mode="after")
    def _one_price(self) -> LeaseIn:
        if (self.price_per_gpu_hour is None) == (self.monthly_fee is None):
            raise ValueError("give exactly one of price_per_gpu_hour and monthly_fee")
        for name in ("price_per_gpu_hour", "monthly_fee"):
            value = getattr(self, name)
            if value is not None and value <= 0:
                raise ValueError(f"{name} must be above 0")
        return self

    def to_domain(self) -> LeaseTerms:
        def money(value: Any) -> Money | None:
            return None if value is None else Money(value, self.currency)

        return LeaseTerms(
            tenant=self.tenant,
            start_s=seconds(self.start) or 0,
            end_s=seconds(self.end) or 0,
            price_per_gpu_hour=money(self.price_per_gpu_hour),
            monthly_fee=money(self.monthly_fee),
            ramp=tuple(self.ramp),
            notice_days=self.notice_days,
            initial_months=self.initial_months,
        )


class KeepVsLeaseIn(Schema):
    """A keep-vs-lease study on the served fleet, run in the background."""

    name: str = Field(min_length=1, max_length=100, description="Unique: letters, digits, '.', '_', '-'")
    fractions: list[Share] = Field(min_length=1, max_length=MAX_FRACTIONS, description="Shares of the candidates")
    candidates: CandidatesIn
    internal: str = Field(
        min_length=1, max_length=4096, description="'demo' (the demo's internal work) or FORMAT:PATH of a trace"
    )
    internal_scale: float | None = Field(None, gt=0, le=1e6, allow_inf_nan=False, description="GPUs per job x this")
    internal_load: float = Field(1.0, gt=0, le=1e3, allow_inf_nan=False, description="Arrivals compressed by this")
    policy: str = "las"
    placement: str = "count"
    max_delay_hours: float = Field(DEFAULT_MAX_DELAY_S / 3600, gt=0, le=1e4, allow_inf_nan=False)
    lease: LeaseIn

    @field_validator("fractions")
    @classmethod
    def _distinct(cls, fractions: list[float]) -> list[float]:
        if len(set(fractions)) != len(fractions):
            raise ValueError("a share is named twice")
        return fractions

    def to_domain(self) -> KeepVsLeaseAsk:
        return KeepVsLeaseAsk(
            name=self.name,
            fractions=tuple(self.fractions),
            level=self.candidates.level,
            sites=tuple(self.candidates.sites),
            internal=self.internal,
            terms=self.lease.to_domain(),
            scale=self.internal_scale,
            load=self.internal_load,
            policy=self.policy,
            placement=self.placement,
            max_delay_s=self.max_delay_hours * 3600,
        )


class StudyListed(Schema):
    id: str
    kind: str
    name: str
    actor: str
    status: str
    done: int = Field(description="Fractions (keep-vs-lease) or points (sweep) done")
    total: int
    progress: float = Field(description="done / total, 0 to 1")
    created: str | None
    finished: str | None
    error: str | None

    @classmethod
    def of(cls, s: Study) -> StudyListed:
        return cls(
            id=s.id,
            kind=s.kind.value,
            name=s.name,
            actor=s.actor,
            status=s.status.value,
            done=s.done,
            total=s.total,
            progress=s.progress,
            created=iso(s.created_s),
            finished=iso(s.finished_s),
            error=s.error,
        )


class StudyOut(StudyListed):
    inputs: dict[str, Any]
    result: dict[str, Any] | None = Field(description="Set once the study is done; never changed after")

    @classmethod
    def whole(cls, s: Study) -> StudyOut:
        listed = StudyListed.of(s).model_dump()
        return cls(**listed, inputs=dict(s.inputs), result=None if s.result is None else dict(s.result))
