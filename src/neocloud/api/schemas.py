"""API schemas: what goes over the wire, separate from domain objects.

Field names follow the CLI's ``--json`` views (docs/cli.md). Instants are ISO 8601
in UTC (``2027-01-04`` means midnight UTC; a time without a zone is taken as UTC).
Requests convert to domain values with ``to_domain``; responses are built from
domain values with ``of``.
"""

from __future__ import annotations

from datetime import UTC, date, datetime
from decimal import Decimal
from typing import Annotated, Any, Generic, Literal, TypeVar

from fastapi import Response
from pydantic import AfterValidator, BaseModel, BeforeValidator, ConfigDict, Field, StrictBool
from pydantic_core import to_json

from neocloud.api.schemas_amendments import AmendmentOut, SegmentOut
from neocloud.api.schemas_prices import MarginOut
from neocloud.api.schemas_sla import SlaCreditsIn, SlaCreditsOut, credit_terms
from neocloud.domain.access import ApiKey, Role
from neocloud.domain.changes import Change, StoredEvent
from neocloud.domain.clock import from_s, to_s
from neocloud.domain.fleet import Node, SiteSummary
from neocloud.domain.health import Health
from neocloud.domain.leases import (
    MAINTENANCE_NOTICE_S,
    MAX_GPUS,
    MAX_SPARES,
    MAX_STEPS,
    MAX_UNITS,
    Lease,
    LeaseRequest,
    SparePolicy,
    Step,
    Terms,
    Tier,
    requested_shape,
)
from neocloud.domain.ledger import Booking
from neocloud.domain.money import Money
from neocloud.domain.shape import Level, Locality, Unit
from neocloud.economics.pricebook import Margin
from neocloud.leasing.availability import ModelAvailability
from neocloud.leasing.delivered import CapacityPoint
from neocloud.leasing.engine import Alternative, Quote, Refusal, RequestError
from neocloud.services.catalog import Page, UnitSummary
from neocloud.services.lease_blocks import BlockShare
from neocloud.services.leasing import LeaseView

T = TypeVar("T")

#: Longest identifier accepted in a body (a tenant, site, model or node name).
NAME_MAX = 200
#: GPU models one request may list.
MAX_MODELS = 16
#: Longest page cursor accepted (the base64 of a sort key: a name or a lease's key).
MAX_CURSOR = 1000
_ECHO = 40  # characters of a bad value quoted back


def parse_instant(value: Any) -> Any:
    """``YYYY-MM-DD`` (midnight UTC) or an ISO 8601 date-time; no zone means UTC."""
    if isinstance(value, str):
        text = value.strip()
        try:
            parsed = datetime.combine(date.fromisoformat(text), datetime.min.time()) if len(text) == 10 else None
            parsed = parsed or datetime.fromisoformat(text)
        except ValueError:
            shown = repr(value) if len(value) <= _ECHO else repr(value[:_ECHO]) + "..."
            raise ValueError(f"{shown} is not an ISO 8601 date or date-time, like 2027-01-04T00:00:00Z") from None
        value = parsed
    if isinstance(value, datetime) and value.tzinfo is None:
        value = value.replace(tzinfo=UTC)
    return value


def in_utc(value: datetime) -> datetime:
    """The instant in UTC; one that UTC cannot hold (``0001-01-01T00:00:00+01:00``) is invalid, not a 500."""
    try:
        return value.astimezone(UTC)
    except OverflowError:
        raise ValueError(f"{value.isoformat()} is out of range in UTC") from None


Instant = Annotated[datetime, BeforeValidator(parse_instant), AfterValidator(in_utc)]


def iso(t_s: int | None) -> str | None:
    return None if t_s is None else from_s(t_s).isoformat().replace("+00:00", "Z")


def seconds(instant: datetime | None) -> int | None:
    return None if instant is None else to_s(instant)


class Schema(BaseModel):
    model_config = ConfigDict(extra="forbid", populate_by_name=True)


# -- requests -------------------------------------------------------------------------
# Counts are strict JSON integers (``true`` and ``"8"`` are refused, not read as 1 and 8)
# within the domain's bounds; flags are strict booleans.
Name = Annotated[str, Field(min_length=1, max_length=NAME_MAX)]
Gpus = Annotated[int, Field(strict=True, ge=1, le=MAX_GPUS)]
Units = Annotated[int, Field(strict=True, ge=1, le=MAX_UNITS)]
Spares = Annotated[int, Field(strict=True, ge=1, le=MAX_SPARES)]
OPERATOR_TERMS = ("price", "currency", "sla", "maintenance_notice_days", "sla_credits")


class StepIn(Schema):
    at: Instant
    gpus: Gpus


class SparesIn(Schema):
    per: Literal["nvlink_domain", "block"]
    count: Spares


class LeaseIn(Schema):
    """A lease request, as ``neocloud lease quote|create`` takes it. How much: one of
    ``gpus``, ``unit`` (with ``units``) or ``whole_site``."""

    tenant: Name | None = Field(
        None, description="Operator: required. A tenant key books for its own tenant; naming another is a 422."
    )
    gpus: Gpus | None = Field(None, description="GPU count (whole nodes).")
    models: list[Name] = Field(
        default_factory=list, max_length=MAX_MODELS, description="Acceptable GPU models, in order."
    )
    locality: Locality = Locality.ANYWHERE
    start: Instant
    end: Instant
    unit: Unit | None = Field(None, description="Lease whole units of this level instead of a GPU count.")
    units: Units | None = Field(None, description="How many whole units (default 1); only with unit.")
    whole_site: Name | None = Field(None, description="Lease this whole site (every GPU model unless models narrows).")
    site: Name | None = None
    steps: list[StepIn] = Field(default_factory=list, max_length=MAX_STEPS)
    spares: SparesIn | None = None
    tier: Tier = Field(
        Tier.RESERVED, description="How it is sold: priced from the price book in force (reserved: by term)."
    )
    price: Decimal | None = Field(
        None,
        description="Operator only: price per GPU-hour, above 0, at most 1,000,000, at most 4 decimal places in "
        "USD (the currency's minor unit + 2), recorded as an override. Default: the price book's for the tier. "
        "A tenant key sending it gets 422.",
    )
    currency: str | None = Field(None, pattern=r"^[A-Z]{3}$", description="Operator only, with price (ISO 4217).")
    sla: Decimal | None = Field(
        None,
        description="Operator only: availability target, percent, above 0 and at most 100, at most 3 decimal "
        "places. Default: the operator's. A tenant key sending it gets 422.",
    )
    maintenance_notice_days: int | None = Field(
        None, ge=0, le=365, description="Operator only: notice a maintenance window needs, days (default 7)."
    )
    sla_credits: SlaCreditsIn | None = Field(None, description="Operator only: SLA credit tiers and cap.")

    def to_domain(self, tenant: str, terms: Terms, *, by_operator: bool) -> LeaseRequest:
        """The domain request for ``tenant``; price and SLA from ``terms`` unless the
        operator set them. Contradicting fields, or terms sent by a tenant key, are a
        :class:`RequestError` naming each field."""
        shape = requested_shape(
            tuple(self.models),
            gpus=self.gpus,
            unit=self.unit,
            units=self.units,
            whole_site=self.whole_site,
            site=self.site,
            locality=self.locality,
        )
        problems = self._term_problems(by_operator) + (shape if isinstance(shape, list) else [])
        if problems or isinstance(shape, list):
            raise RequestError(problems)
        tiers, cap = credit_terms(self.sla_credits)
        return LeaseRequest(
            tenant=tenant,
            shape=shape,
            start_s=to_s(self.start),
            end_s=to_s(self.end),
            price_per_gpu_hour=self._price(terms.price_per_gpu_hour),
            sla_availability_pct=terms.sla_availability_pct if self.sla is None else self.sla,
            steps=tuple(Step(to_s(s.at), s.gpus) for s in self.steps),
            spares=SparePolicy(Level(self.spares.per), self.spares.count) if self.spares else None,
            tier=self.tier,
            maintenance_notice_s=MAINTENANCE_NOTICE_S if (d := self.maintenance_notice_days) is None else d * 86_400,
            sla_credit_tiers=tiers,
            sla_credit_cap=cap,
        )

    def _term_problems(self, by_operator: bool) -> list[str]:
        """Price, currency and SLA are the operator's: a tenant key may not send them."""
        sent = [f for f in OPERATOR_TERMS if getattr(self, f) is not None]
        problems = [] if by_operator else [f"{f}: set by the operator; a tenant key cannot send it" for f in sent]
        if self.currency is not None and self.price is None:
            problems.append("currency: only with price")
        return problems

    def _price(self, list_price: Money) -> Money | None:
        """The operator's price if given (in the list price's currency unless named), else
        ``None``: the price book prices it."""
        if self.price is None:
            return None
        return Money(self.price, self.currency or list_price.currency)


class LeaseCreateIn(LeaseIn):
    hold: StrictBool = Field(False, description="Hold (expires) instead of confirming at once.")


class ExtendIn(Schema):
    end: Instant
    allow_swap: StrictBool = False


class ShrinkIn(Schema):
    gpus: Gpus = Field(description="GPUs to keep (fewer than now, whole nodes).")
    from_: Instant | None = Field(None, alias="from", description="From when (default now).")


class TerminateIn(Schema):
    at: Instant | None = None


class HealthIn(Schema):
    at: Instant | None = Field(
        default=None, description="When it happened (default now): not in the future, at most 3 days ago by default."
    )
    reason: str = Field(default="", description="What happened: at most 200 characters, no control characters.")


class MaintenanceIn(Schema):
    node: Name
    start: Instant
    end: Instant


class LeaseMaintenanceIn(Schema):
    start: Instant = Field(description="At least the lease's maintenance notice from now (7 days by default).")
    end: Instant
    reason: str = Field(description="Why, as the tenant reads it: 1 to 200 characters, no control characters.")


class TenantIn(Schema):
    name: str = Field(
        description="1 to 63 ASCII letters, digits, '-', '_' or '.', starting and ending with a letter or digit; "
        "unique regardless of case."
    )


class KeyIn(Schema):
    role: Role
    tenant: Name | None = None
    label: str = Field("", description="A note to recognise the key by: at most 100 characters, no control characters.")


# -- responses ------------------------------------------------------------------------
class PageOut(BaseModel, Generic[T]):
    items: list[T]
    next_cursor: str | None


class LeaseOut(BaseModel):
    id: str
    tenant: str
    state: str
    model: str
    gpus: int
    start: str | None
    end: str | None
    locality: str
    unit: str | None
    units: int | None
    site: str | None
    price_per_gpu_hour: str
    currency: str
    tier: str
    price_version: int | None = Field(description="The price-book version it was signed at; null: an explicit price.")
    price_override: bool
    sla_availability_pct: str
    hold_expires: str | None
    degraded_nodes: list[str]
    contract: list[SegmentOut]
    created: str | None
    maintenance_notice_s: int = Field(description="Notice a maintenance window on the lease needs, in seconds.")
    amendments: list[AmendmentOut] = Field(description="Its changes after booking, oldest first.")
    sla_credits: SlaCreditsOut = Field(description="The SLA credit tiers and cap it was signed with.")

    @classmethod
    def of(cls, lease: Lease) -> LeaseOut:
        shape = lease.request.shape
        return cls(
            id=lease.id,
            tenant=lease.tenant,
            state=lease.state.value,
            model=lease.model,
            gpus=lease.gpus,
            start=iso(lease.start_s),
            end=iso(lease.end_s),
            locality=shape.locality.value,
            unit=shape.unit.value if shape.unit else None,
            units=shape.units if shape.unit else None,
            site=shape.site,
            price_per_gpu_hour=str(lease.price_per_gpu_hour.amount),
            currency=lease.price_per_gpu_hour.currency,
            tier=lease.request.tier.value,
            price_version=lease.request.price_version,
            price_override=lease.request.price_override,
            sla_availability_pct=str(lease.request.sla_availability_pct),
            hold_expires=iso(lease.hold_expires_s),
            degraded_nodes=list(lease.degraded_nodes),
            contract=[SegmentOut.of(s) for s in lease.contract],
            created=iso(lease.created_s),
            maintenance_notice_s=lease.request.maintenance_notice_s,
            amendments=[AmendmentOut.of(a) for a in lease.amendments],
            sla_credits=SlaCreditsOut.of(lease.request.sla_credit_tiers, lease.request.sla_credit_cap),
        )


class AlternativeOut(BaseModel):
    kind: str
    description: str
    start: str | None
    gpus: int | None
    locality: str | None

    @classmethod
    def of(cls, a: Alternative) -> AlternativeOut:
        locality = a.locality.value if a.locality else None
        return cls(kind=a.kind, description=a.description, start=iso(a.start_s), gpus=a.gpus, locality=locality)


class QuoteOut(BaseModel):
    feasible: bool
    reason: str | None = None
    alternatives: list[AlternativeOut] = Field(default_factory=list)
    model: str | None = None
    gpus: int | None = None
    nodes: int | None = None
    spares: int | None = None
    gpu_hours: str | None = None
    total: str | None = None
    currency: str | None = None
    contract: list[SegmentOut] = Field(default_factory=list)
    nodes_by_block: dict[str, int] = Field(default_factory=dict)
    tier: str | None = None
    price_version: int | None = None
    price_per_gpu_hour: str | None = None
    margin: MarginOut | None = Field(
        default=None, description="Operator only: the margin over TCO, where the TCO is known."
    )

    @classmethod
    def of(cls, quote: Quote | Refusal, margin: Margin | None = None) -> QuoteOut:
        if isinstance(quote, Refusal):
            return cls(
                feasible=False, reason=quote.reason, alternatives=[AlternativeOut.of(a) for a in quote.alternatives]
            )
        return cls(
            feasible=True,
            model=quote.model,
            gpus=quote.gpus,
            nodes=len(quote.nodes),
            spares=len(quote.spares),
            gpu_hours=str(quote.gpu_hours),
            total=str(quote.total.amount),
            currency=quote.total.currency,
            contract=[SegmentOut.of(s) for s in quote.contract],
            nodes_by_block=quote.blocks,
            tier=quote.request.tier.value,
            price_version=quote.request.price_version,
            price_per_gpu_hour=None if (p := quote.request.price_per_gpu_hour) is None else str(p.amount),
            margin=None if margin is None else MarginOut.of(margin),
        )


class LeaseCreatedOut(LeaseOut):
    quote: QuoteOut

    @classmethod
    def of_booking(cls, lease: Lease, quote: Quote, margin: Margin | None = None) -> LeaseCreatedOut:
        return cls(**LeaseOut.of(lease).model_dump(), quote=QuoteOut.of(quote, margin))


class CapacityOut(BaseModel):
    from_: str | None = Field(serialization_alias="from")
    contracted_gpus: int
    delivered_gpus: int

    @classmethod
    def of(cls, p: CapacityPoint) -> CapacityOut:
        return cls(from_=iso(p.t_s), contracted_gpus=p.contracted, delivered_gpus=p.delivered)


class HistoryOut(BaseModel):
    from_: str | None = Field(serialization_alias="from")
    to: str
    at: str | None
    actor: str
    reason: str


class BookingOut(BaseModel):
    """One node held for a lease (``kind`` ``lease``) or as its spare (``spare``) over ``[start, end)``."""

    id: int
    node: str
    kind: str
    start: str | None
    end: str | None

    @classmethod
    def of(cls, b: Booking) -> BookingOut:
        return cls(id=b.id, node=b.node, kind=b.kind.value, start=iso(b.start_s), end=iso(b.end_s))


class BlockShareOut(BaseModel):
    """What the lease holds in one fabric block at ``blocks_at``: its nodes and their GPUs,
    spare nodes, and how many of those are not healthy now."""

    site: str
    block: str
    model: str
    nodes: int
    gpus: int
    spares: int
    unhealthy_nodes: int

    @classmethod
    def of(cls, s: BlockShare) -> BlockShareOut:
        return cls(
            site=s.site,
            block=s.block,
            model=s.model,
            nodes=s.nodes,
            gpus=s.gpus,
            spares=s.spares,
            unhealthy_nodes=s.unhealthy,
        )


class LeaseViewOut(LeaseOut):
    """The lease with its history, a summary of its nodes per block and its capacity
    series. Its bookings, one per node and time span, are paged at ``/bookings``."""

    history: list[HistoryOut]
    blocks_at: str | None
    blocks: list[BlockShareOut]
    bookings_total: int
    capacity: list[CapacityOut]

    @classmethod
    def of_view(cls, view: LeaseView) -> LeaseViewOut:
        history = [
            HistoryOut(
                from_=h.from_state.value if h.from_state else None,
                to=h.to_state.value,
                at=iso(h.at_s),
                actor=h.actor,
                reason=h.reason,
            )
            for h in view.lease.history
        ]
        return cls(
            **LeaseOut.of(view.lease).model_dump(),
            history=history,
            blocks_at=iso(view.blocks_at_s),
            blocks=[BlockShareOut.of(s) for s in view.blocks],
            bookings_total=len(view.bookings),
            capacity=[CapacityOut.of(p) for p in view.capacity],
        )


class CapacitySeriesOut(BaseModel):
    lease: str
    points: list[CapacityOut]

    @classmethod
    def of(cls, view: LeaseView) -> CapacitySeriesOut:
        return cls(lease=view.lease.id, points=[CapacityOut.of(p) for p in view.capacity])


class FreeAtOut(BaseModel):
    from_: str | None = Field(serialization_alias="from")
    free_gpus: int


class AvailabilityOut(BaseModel):
    model: str
    total_gpus: int
    healthy_gpus: int
    free_gpus: int
    largest_free: dict[str, int]
    whole_free: dict[str, int]
    series: list[FreeAtOut]

    @classmethod
    def of(cls, r: ModelAvailability) -> AvailabilityOut:
        series = [FreeAtOut(from_=iso(t), free_gpus=v) for t, v in r.series]
        return cls(
            model=r.model,
            total_gpus=r.total_gpus,
            healthy_gpus=r.healthy_gpus,
            free_gpus=r.free_gpus,
            largest_free=r.largest_free,
            whole_free=r.whole_free,
            series=series,
        )


class EventOut(BaseModel):
    seq: int
    kind: str
    subject: str
    at: str | None
    actor: str
    tenant: str | None
    lease: str | None
    node: str | None
    before: dict[str, Any] | None
    after: dict[str, Any] | None

    @classmethod
    def of(cls, stored: StoredEvent) -> EventOut:
        e = stored.event
        return cls(
            seq=stored.seq,
            kind=e.kind,
            subject=e.subject,
            at=iso(e.at_s),
            actor=e.actor,
            tenant=e.tenant,
            lease=e.lease_id,
            node=e.node,
            before=_payload(e.before),
            after=_payload(e.after),
        )


#: Keys of event payloads that hold instants (seconds since the epoch in the log).
_INSTANT_KEYS = frozenset({"at", "start", "end", "from", "expires", "effective"})


def _payload(values: dict[str, Any] | None) -> dict[str, Any] | None:
    """An event's before/after with its instants in ISO 8601 (the log keeps seconds)."""
    if values is None:
        return None
    out: dict[str, Any] = {}
    for k, v in values.items():
        if k in _INSTANT_KEYS and isinstance(v, int) and not isinstance(v, bool):
            out[k] = iso(v)
        elif k == "contract" and isinstance(v, list):  # [[start, end, gpus], ...]
            out[k] = [[iso(seg[0]), iso(seg[1]), seg[2]] for seg in v]
        else:
            out[k] = v
    return out


class ChangeOut(BaseModel):
    """What a health or maintenance call changed: leases touched, health moves, events."""

    leases: list[LeaseOut]
    health: list[dict[str, Any]]
    events: list[dict[str, Any]]
    notes: list[str]

    @classmethod
    def of(cls, change: Change) -> ChangeOut:
        health = [
            {"node": h.node, "from": h.from_state.value, "to": h.to_state.value, "at": iso(h.at_s), "reason": h.reason}
            for h in change.health
        ]
        events = [{"kind": e.kind, "subject": e.subject, "at": iso(e.at_s), "actor": e.actor} for e in change.events]
        return cls(
            leases=[LeaseOut.of(x) for x in change.leases], health=health, events=events, notes=list(change.notes)
        )


class NodeOut(BaseModel):
    id: str
    serial: str
    gpu_model: str
    gpu_count: int
    site: str
    pod: str
    block: str
    rack: str | None
    nvlink_domain: str
    health: Health

    @classmethod
    def of(cls, n: Node) -> NodeOut:
        """Every field is an attribute of the same name on the domain object."""
        return cls.model_validate(n, from_attributes=True)


class SiteOut(BaseModel):
    name: str
    region: str
    power_mw_budget: float | None
    power_mw_used: float
    gpus: int
    gpus_by_model: dict[str, int]
    nodes: int
    pods: int
    fabric_blocks: int
    nvlink_domains: int
    racks: int
    nodes_by_health: dict[str, int]

    @classmethod
    def of(cls, s: SiteSummary) -> SiteOut:
        """Every field is an attribute of the same name on the domain object."""
        return cls.model_validate(s, from_attributes=True)


class UnitOut(BaseModel):
    name: str
    site: str
    pod: str
    nodes: int
    gpus: int
    gpus_by_model: dict[str, int]
    nodes_by_health: dict[str, int]

    @classmethod
    def of(cls, u: UnitSummary) -> UnitOut:
        """Every field is an attribute of the same name on the domain object."""
        return cls.model_validate(u, from_attributes=True)


class TenantOut(BaseModel):
    name: str


class KeyOut(BaseModel):
    """A key without its secret or hash."""

    id: str
    role: Role
    tenant: str | None
    label: str
    created: str | None
    created_by: str
    revoked: str | None

    @classmethod
    def of(cls, k: ApiKey) -> KeyOut:
        return cls(
            id=k.id,
            role=k.role,
            tenant=k.tenant,
            label=k.label,
            created=iso(k.created_s),
            created_by=k.created_by,
            revoked=iso(k.revoked_s),
        )


class KeyCreatedOut(KeyOut):
    token: str = Field(description="The bearer token; shown this once and never again.")


class ProblemOut(BaseModel):
    """An error as RFC 9457 problem details (``application/problem+json``)."""

    model_config = ConfigDict(extra="allow")

    type: str = "about:blank"
    title: str
    status: int
    detail: str
    instance: str
    errors: list[dict[str, str]] | None = Field(None, description="422: each bad field and what is wrong with it.")
    alternatives: list[dict[str, Any]] | None = Field(
        None, description="409 when capacity refused: what could be booked instead."
    )
    facts: dict[str, Any] | None = Field(
        None, description="The refusal's facts (times in ISO 8601, ids, counts), as its message states them."
    )


PROBLEM_SCHEMA_REF = "#/components/schemas/ProblemOut"
"""Every problem response points here; ``api/app.py`` adds ProblemOut to the document's
components once, so the schema is written once, not inlined in all ~300 responses."""


def _problem_response(description: str) -> dict[str, Any]:
    return {
        "description": description,
        "content": {"application/problem+json": {"schema": {"$ref": PROBLEM_SCHEMA_REF}}},
    }


PROBLEMS: dict[int | str, dict[str, Any]] = {
    400: _problem_response("The body could not be read (not JSON, or not UTF-8); where it broke."),
    401: _problem_response("No API key, or an unknown or revoked one."),
    403: _problem_response("The key's role may not do this."),
    404: _problem_response("No such thing (or another tenant's)."),
    409: _problem_response("Refused by the rules or by capacity (with alternatives), or an illegal health move."),
    413: _problem_response("The request body is over the server's size limit (1 MiB by default)."),
    422: _problem_response("Invalid request: each bad field named."),
    503: _problem_response("The store is unavailable."),
}
"""The problem details every ``/v1`` route may answer, for the OpenAPI document (routers' ``responses=``)."""


def paged(page: Page[Any], convert: Any) -> Response:
    """A service page as ``{"items": [...], "next_cursor": ...}``, serialised by
    pydantic-core in one pass (the route's response_model still documents it)."""
    return json_response({"items": [convert(x) for x in page.items], "next_cursor": page.next_cursor})


def json_response(content: Any, status_code: int = 200) -> Response:
    """JSON of models, lists and dicts of them, without FastAPI re-validating them."""
    return Response(to_json(content), status_code=status_code, media_type="application/json")
