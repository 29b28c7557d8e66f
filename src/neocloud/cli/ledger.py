"""``neocloud init``, ``tenant``, ``lease``, ``availability``, ``node`` and ``events``."""

from __future__ import annotations

import json
import re
import sys
from dataclasses import dataclass, replace
from decimal import Decimal, InvalidOperation
from pathlib import Path
from typing import Annotated, Any, NoReturn

import typer
from rich import box
from rich.table import Table

from neocloud import bootstrap
from neocloud.cli.amendments import print_amendments
from neocloud.cli.common import (
    EXIT_BAD_INPUT,
    actor_name,
    bad_input,
    db_url,
    err,
    parse_time,
    stdout_console,
)
from neocloud.cli.views import (
    availability_json,
    change_summary,
    event_json,
    iso,
    lease_json,
    lease_view_json,
    quote_json,
    short_time,
)
from neocloud.domain.changes import Change, EventQuery
from neocloud.domain.clock import to_s
from neocloud.domain.credits import DEFAULT_CAP_SHARE, CreditTier, describe_credits
from neocloud.domain.health import Health
from neocloud.domain.leases import (
    MAX_GPUS,
    MAX_UNITS,
    Lease,
    LeaseRequest,
    LeaseState,
    SparePolicy,
    Step,
    Terms,
    Tier,
    requested_shape,
)
from neocloud.domain.money import BadMoney, Money
from neocloud.domain.shape import Level, Locality, Unit
from neocloud.economics.pricebook import Margin
from neocloud.leasing.engine import Quote, Refusal, RequestError
from neocloud.services.leasing import LeasingService

out = stdout_console()
DbOpt = Annotated[
    str | None, typer.Option("--db", help="Database URL (default: $NEOCLOUD_DB or sqlite:///neocloud.db).")
]
ActorOpt = Annotated[str | None, typer.Option("--actor", help="Who is acting, for the event log.")]
JsonOpt = Annotated[bool, typer.Option("--json", help="Print JSON (documented in docs/cli.md).")]

tenant_app = typer.Typer(help="Tenants: the customers leases belong to.", no_args_is_help=True)
lease_app = typer.Typer(help="Leases: quote, create, list, show, extend, shrink, terminate.", no_args_is_help=True)
node_app = typer.Typer(help="Node health and maintenance windows.", no_args_is_help=True)


def service(db: str | None) -> LeasingService:
    return bootstrap.leasing_service(db_url(db))


def init(
    fleet: Annotated[Path, typer.Option("--fleet", help="Fleet YAML file to load.")],
    db: DbOpt = None,
    actor: ActorOpt = None,
) -> None:
    """Create (or upgrade) the database and load the fleet into it."""
    with bad_input():
        loaded = bootstrap.fleet_files().load_fleet(fleet)
        svc = service(db)
        svc.init(loaded, actor_name(actor))
    out.print(
        f"initialised {db_url(db)} with fleet {loaded.name or fleet.name}: "
        f"{len(loaded.nodes):,} nodes, {loaded.gpu_count:,} GPUs",
        highlight=False,
        soft_wrap=True,
    )


@tenant_app.command("add")
def tenant_add(name: str, db: DbOpt = None, actor: ActorOpt = None) -> None:
    """Add a tenant."""
    with bad_input():
        service(db).add_tenant(name, actor_name(actor))
    out.print(f"tenant {name} added", highlight=False)


@tenant_app.command("list")
def tenant_list(db: DbOpt = None, as_json: JsonOpt = False) -> None:
    """List tenants."""
    with bad_input():
        names = sorted(service(db).tenants())
    _emit(names, as_json, lambda: out.print("\n".join(names) or "no tenants", highlight=False))


@dataclass(frozen=True)
class _Opts:
    tenant: str
    gpus: int | None
    model: list[str]
    locality: Locality
    start: str
    end: str
    unit: Unit | None
    units: int | None
    whole_site: str | None
    site: str | None
    step: list[str]
    spares: str | None
    price: str | None
    sla: str | None
    tier: Tier = Tier.RESERVED
    credit_tier: tuple[str, ...] = ()
    credit_cap: str | None = None


WIDE_TABLE = 120  # terminals narrower than this get folded tables (piped output is never narrow)


def _request(o: _Opts, terms: Terms) -> LeaseRequest:
    """The request the options describe: priced from the price book unless ``--price``
    (an override, in the currency of ``terms`` unless named); the SLA is ``terms``' unless given."""
    start_s, end_s = to_s(parse_time("--start", o.start)), to_s(parse_time("--end", o.end))
    if o.gpus is None and o.unit is None and o.whole_site is None:
        _fail("give --gpus N, or whole units with --unit and --units, or --whole-site SITE")
    models = tuple(m for item in o.model for m in item.split(",") if m)
    shape = requested_shape(
        models, gpus=o.gpus, unit=o.unit, units=o.units, whole_site=o.whole_site, site=o.site, locality=o.locality
    )
    if isinstance(shape, list):
        raise RequestError(shape)
    return LeaseRequest(
        tenant=o.tenant,
        shape=shape,
        start_s=start_s,
        end_s=end_s,
        price_per_gpu_hour=None if o.price is None else _price(o.price, terms),
        sla_availability_pct=terms.sla_availability_pct if o.sla is None else _sla(o.sla),
        steps=tuple(_step(s) for s in o.step),
        spares=_spares(o.spares),
        tier=o.tier,
        sla_credit_tiers=tuple(_credit_tier(t) for t in o.credit_tier),
        sla_credit_cap=DEFAULT_CAP_SHARE if o.credit_cap is None else _percent("--credit-cap", o.credit_cap) / 100,
    )


def _price(text: str, terms: Terms) -> Money:
    try:
        return Money.parse(text, default_currency=terms.price_per_gpu_hour.currency)
    except BadMoney as exc:
        _fail(f"--{exc}")  # the message starts "price '...': ", so this names the option


def _sla(text: str) -> Decimal:
    try:
        return Decimal(text)
    except InvalidOperation:
        _fail(f"--sla {text!r}: not a number")


def _credit_tier(text: str) -> CreditTier:
    """``99:10``: availability below 99 percent earns 10 percent of the period's charge."""
    below, sep, credit = text.partition(":")
    if not sep:
        _fail(f"--credit-tier {text!r}: expected BELOW:CREDIT in percent, like 99:10")
    return CreditTier(_percent("--credit-tier", below, text), _percent("--credit-tier", credit, text) / 100)


def _percent(flag: str, text: str, whole: str | None = None) -> Decimal:
    try:
        value = Decimal(text.strip().removesuffix("%"))
    except InvalidOperation:
        value = Decimal("NaN")
    if not value.is_finite():
        _fail(f"{flag} {whole or text!r}: {text.strip()!r} is not a number of percent")
    return value


def _step(text: str) -> Step:
    when, sep, count = text.partition("=")
    if not sep or not _COUNT.fullmatch(count.strip()):
        _fail(f"--step {text!r}: expected DATE=GPUS, like 2027-09-01=50000")
    return Step(to_s(parse_time("--step", when)), int(count))


def _spares(text: str | None) -> SparePolicy | None:
    if text is None:
        return None
    per, sep, count = text.partition(":")
    if not sep or not _COUNT.fullmatch(count.strip()):
        _fail(f"--spares {text!r}: expected UNIT:COUNT, like block:2 or nvlink_domain:1")
    if per.strip() not in tuple(Level):
        _fail(f"--spares {text!r}: spares.per: must be nvlink_domain or block")
    return SparePolicy(Level(per.strip()), int(count))


_COUNT = re.compile(r"[0-9]{1,18}")  # a count an int64 holds; the request's rules bound it further


def _fail(message: str) -> NoReturn:
    err.print(f"[red]error[/]: {message}", highlight=False, soft_wrap=True)
    raise typer.Exit(EXIT_BAD_INPUT)


# The request options, shared by quote and create.
TenantOpt = Annotated[str, typer.Option("--tenant", help="Tenant the lease is for.")]
GpusOpt = Annotated[int | None, typer.Option("--gpus", min=1, max=MAX_GPUS, help="GPU count (whole nodes).")]
ModelOpt = Annotated[
    list[str] | None, typer.Option("--model", help="Acceptable GPU model(s), in order (repeat or comma).")
]
LocalityOpt = Annotated[Locality, typer.Option("--locality", help="All nodes within one unit of this level.")]
StartOpt = Annotated[str, typer.Option("--start", help="Start, YYYY-MM-DD or ISO date-time (UTC).")]
EndOpt = Annotated[str, typer.Option("--end", help="End (exclusive), YYYY-MM-DD or ISO date-time (UTC).")]
UnitOpt = Annotated[Unit | None, typer.Option("--unit", help="Lease whole units instead of a GPU count.")]
UnitsOpt = Annotated[
    int | None, typer.Option("--units", min=1, max=MAX_UNITS, help="How many whole units (default 1; with --unit).")
]
WholeSiteOpt = Annotated[
    str | None, typer.Option("--whole-site", help="Lease this whole site (every GPU model in it).")
]
SiteOpt = Annotated[str | None, typer.Option("--site", help="Restrict placement to this site.")]
StepOpt = Annotated[list[str] | None, typer.Option("--step", help="DATE=GPUS: hold GPUS from DATE (repeatable).")]
SparesOpt = Annotated[str | None, typer.Option("--spares", help="UNIT:COUNT spare nodes per block or nvlink_domain.")]
PriceOpt = Annotated[
    str | None,
    typer.Option("--price", help="Price per GPU-hour, like '2.35 USD', recorded as an override (default: the book's)."),
]
TierOpt = Annotated[Tier, typer.Option("--tier", help="How it is sold; priced from the book in force.")]
SlaOpt = Annotated[str | None, typer.Option("--sla", help="Availability target in percent (default: the operator's).")]
CreditTierOpt = Annotated[
    list[str] | None,
    typer.Option(
        "--credit-tier",
        help="BELOW:CREDIT percent, like 99:10: availability below 99% credits 10% of the period's charge "
        "(repeatable, highest first; replaces the default tiers).",
    ),
]
CreditCapOpt = Annotated[
    str | None, typer.Option("--credit-cap", help="Most credit in a period, percent of its charge (default 100).")
]


@lease_app.command("quote")
def lease_quote(
    tenant: TenantOpt,
    start: StartOpt,
    end: EndOpt,
    gpus: GpusOpt = None,
    model: ModelOpt = None,
    locality: LocalityOpt = Locality.ANYWHERE,
    unit: UnitOpt = None,
    units: UnitsOpt = None,
    whole_site: WholeSiteOpt = None,
    site: SiteOpt = None,
    step: StepOpt = None,
    spares: SparesOpt = None,
    price: PriceOpt = None,
    sla: SlaOpt = None,
    tier: TierOpt = Tier.RESERVED,
    credit_tier: CreditTierOpt = None,
    credit_cap: CreditCapOpt = None,
    db: DbOpt = None,
    as_json: JsonOpt = False,
) -> None:
    """Where would this lease go, and at what price (and margin over TCO, where known)? Books nothing."""
    with bad_input():
        svc = service(db)
        request = _request(
            _Opts(
                tenant,
                gpus,
                model or [],
                locality,
                start,
                end,
                unit,
                units,
                whole_site,
                site,
                step or [],
                spares,
                price,
                sla,
                tier,
                tuple(credit_tier or ()),
                credit_cap,
            ),
            svc.terms,
        )
        quote = svc.quote(request)
        margin = svc.quote_margin(quote) if isinstance(quote, Quote) else None
    _emit(quote_json(quote, margin), as_json, lambda: _print_quote(quote, margin))
    if isinstance(quote, Refusal):
        raise typer.Exit(3)


@lease_app.command("create")
def lease_create(
    tenant: TenantOpt,
    start: StartOpt,
    end: EndOpt,
    gpus: GpusOpt = None,
    model: ModelOpt = None,
    locality: LocalityOpt = Locality.ANYWHERE,
    unit: UnitOpt = None,
    units: UnitsOpt = None,
    whole_site: WholeSiteOpt = None,
    site: SiteOpt = None,
    step: StepOpt = None,
    spares: SparesOpt = None,
    price: PriceOpt = None,
    sla: SlaOpt = None,
    tier: TierOpt = Tier.RESERVED,
    credit_tier: CreditTierOpt = None,
    credit_cap: CreditCapOpt = None,
    hold: Annotated[bool, typer.Option("--hold", help="Hold (expires) instead of confirming at once.")] = False,
    hold_minutes: Annotated[
        int, typer.Option("--hold-minutes", min=1, max=10_080, help="How long a --hold lasts before it expires.")
    ] = 15,
    notice_days: Annotated[
        int | None,
        typer.Option("--maintenance-notice-days", min=0, max=365, help="Notice a maintenance window needs (7)."),
    ] = None,
    db: DbOpt = None,
    actor: ActorOpt = None,
    as_json: JsonOpt = False,
) -> None:
    """Book a lease: confirmed at once, or held with --hold (expiring after --hold-minutes)."""
    with bad_input():
        svc = service(db)
        request = _request(
            _Opts(
                tenant,
                gpus,
                model or [],
                locality,
                start,
                end,
                unit,
                units,
                whole_site,
                site,
                step or [],
                spares,
                price,
                sla,
                tier,
                tuple(credit_tier or ()),
                credit_cap,
            ),
            svc.terms,
        )
        if notice_days is not None:
            request = replace(request, maintenance_notice_s=notice_days * 86_400)
        lease, quote = svc.create(request, actor=actor_name(actor), hold=hold, hold_s=hold_minutes * 60)
        margin = svc.quote_margin(quote)
    data = {**lease_json(lease), "quote": quote_json(quote, margin)}
    _emit(
        data,
        as_json,
        lambda: out.print(
            f"lease [bold]{lease.id}[/] {lease.state.value}: {lease.gpus:,} {lease.model} GPUs for {lease.tenant}, "
            f"{iso(lease.start_s)} to {iso(lease.end_s)}, {quote.total}"
            + (f", hold expires {iso(lease.hold_expires_s)}" if lease.hold_expires_s else ""),
            highlight=False,
            soft_wrap=True,
        ),
    )


@lease_app.command("list")
def lease_list(
    tenant: Annotated[str | None, typer.Option("--tenant")] = None,
    state: Annotated[LeaseState | None, typer.Option("--state")] = None,
    db: DbOpt = None,
    as_json: JsonOpt = False,
) -> None:
    """List leases (optionally of one tenant or in one state)."""
    with bad_input():
        leases = service(db).leases(tenant=tenant, state=state)

    def table() -> None:
        t = Table(
            "id",
            "tenant",
            "state",
            "GPUs",
            "model",
            "start",
            "end",
            title=f"{len(leases)} lease(s)",
            box=box.SIMPLE_HEAD,
            pad_edge=False,
        )
        for col in (t.columns[0], t.columns[3]):  # ids and counts whole
            col.no_wrap = True
        for col in t.columns[1:5]:  # on a narrow terminal names fold, never cut
            col.overflow = "fold"
        for col in t.columns[5:]:
            col.no_wrap = True
        narrow = out.width < WIDE_TABLE  # dates then take two lines: the day, then the time

        def when(t_s: int) -> str:
            text = short_time(t_s)
            return text.replace(" ", "\n", 1) if narrow else text

        for lease in leases:
            t.add_row(
                lease.id,
                lease.tenant,
                lease.state.value + (" (degraded)" if lease.degraded else ""),
                f"{lease.gpus:,}",
                lease.model,
                when(lease.start_s),
                when(lease.end_s),
            )
        out.print(t)

    _emit([lease_json(x) for x in leases], as_json, table)


@lease_app.command("show")
def lease_show(lease_id: str, db: DbOpt = None, as_json: JsonOpt = False) -> None:
    """A lease: shape, nodes, state history, contracted vs delivered GPUs over time."""
    with bad_input():
        view = service(db).show(lease_id)
    _emit(lease_view_json(view), as_json, lambda: _print_view(view))


@lease_app.command("confirm")
def lease_confirm(lease_id: str, db: DbOpt = None, actor: ActorOpt = None) -> None:
    """Confirm a held lease before its hold expires."""
    _lease_op(lambda svc, who: svc.confirm(lease_id, actor=who), db, actor)


@lease_app.command("cancel")
def lease_cancel(lease_id: str, db: DbOpt = None, actor: ActorOpt = None) -> None:
    """Cancel a held or confirmed lease before it starts; its nodes are released."""
    _lease_op(lambda svc, who: svc.cancel(lease_id, actor=who), db, actor)


@lease_app.command("extend")
def lease_extend(
    lease_id: str,
    end: EndOpt,
    allow_swap: Annotated[
        bool, typer.Option("--allow-swap", help="Move taken nodes to free ones in the same block.")
    ] = False,
    db: DbOpt = None,
    actor: ActorOpt = None,
) -> None:
    """Move the end later; refused (with the swap on offer) when later leases hold the nodes."""
    new_end = to_s(parse_time("--end", end))
    _lease_op(lambda svc, who: svc.extend(lease_id, new_end, actor=who, allow_swap=allow_swap), db, actor)


@lease_app.command("shrink")
def lease_shrink(
    lease_id: str,
    gpus: Annotated[int, typer.Option("--gpus", min=1, max=MAX_GPUS, help="GPUs to keep.")],
    from_: Annotated[
        str | None, typer.Option("--from", help="From when (default now, or the lease's start if later).")
    ] = None,
    db: DbOpt = None,
    actor: ActorOpt = None,
) -> None:
    """Hold fewer GPUs from a date on; whole nodes are released."""
    from_s = None if from_ is None else to_s(parse_time("--from", from_))

    def op(svc: LeasingService, who: str) -> Lease:
        # "from now" on a lease that has not started yet means from its start
        at_s = from_s if from_s is not None else max(to_s(svc.clock.now()), svc.show(lease_id).lease.start_s)
        return svc.shrink(lease_id, gpus, at_s, actor=who)

    _lease_op(op, db, actor)


@lease_app.command("terminate")
def lease_terminate(
    lease_id: str,
    at: Annotated[str | None, typer.Option("--at", help="Effective time (default now).")] = None,
    db: DbOpt = None,
    actor: ActorOpt = None,
) -> None:
    """End an active lease early; nodes are free from then on."""
    at_s = None if at is None else to_s(parse_time("--at", at))
    _lease_op(lambda svc, who: svc.terminate(lease_id, at_s, actor=who), db, actor)


def _lease_op(op: Any, db: str | None, actor: str | None) -> None:
    with bad_input():
        lease = op(service(db), actor_name(actor))
    contract = ", ".join(
        f"{seg.gpus:,} GPUs {short_time(seg.start_s)} to {short_time(seg.end_s)}" for seg in lease.contract
    )
    out.print(
        f"lease {lease.id} {lease.state.value}: {contract or 'nothing contracted'}", highlight=False, soft_wrap=True
    )


def availability(
    start: StartOpt,
    end: EndOpt,
    model: ModelOpt = None,
    site: SiteOpt = None,
    db: DbOpt = None,
    as_json: JsonOpt = False,
) -> None:
    """Free GPUs per model for the whole window, the largest free units, and free GPUs over time."""
    start_s, end_s = to_s(parse_time("--start", start)), to_s(parse_time("--end", end))
    models = tuple(m for item in model or [] for m in item.split(",") if m) or None
    with bad_input():
        rows = service(db).availability(start_s, end_s, models=models, site=site)

    def table() -> None:
        t = Table(
            "model",
            "total",
            "healthy",
            "free (whole window)",
            "largest free block",
            "whole free blocks",
            "whole free NVLink domains",
            title=f"availability {iso(start_s)} to {iso(end_s)}",
        )
        for r in rows:
            t.add_row(
                r.model,
                f"{r.total_gpus:,}",
                f"{r.healthy_gpus:,}",
                f"{r.free_gpus:,}",
                f"{r.largest_free['block']:,}",
                f"{r.whole_free['block']:,}",
                f"{r.whole_free['nvlink_domain']:,}",
            )
        out.print(t)

    _emit(availability_json(rows), as_json, table)


def _health_cmd(state: Health, verb: str) -> Any:
    def command(
        node: str,
        at: Annotated[str | None, typer.Option("--at", help="When it happened (default now).")] = None,
        reason: Annotated[str, typer.Option("--reason", help="What happened.")] = "",
        db: DbOpt = None,
        actor: ActorOpt = None,
    ) -> None:
        at_s = None if at is None else to_s(parse_time("--at", at))
        with bad_input():
            change = service(db).set_health(node, state, at_s=at_s, actor=actor_name(actor), reason=reason or verb)
        _print_change(f"node {node} {state.value}", change)

    command.__doc__ = f"Record that a node {verb}; leased failed nodes are swapped for spares or free nodes."
    return command


node_app.command("fail")(_health_cmd(Health.FAILED, "failed"))
node_app.command("repair")(_health_cmd(Health.HEALTHY, "was repaired"))
node_app.command("degrade")(_health_cmd(Health.DEGRADED, "is degraded"))


@node_app.command("maintenance")
def node_maintenance(node: str, start: StartOpt, end: EndOpt, db: DbOpt = None, actor: ActorOpt = None) -> None:
    """Book a maintenance window; refused on a leased node unless a free node can take over."""
    start_s, end_s = to_s(parse_time("--start", start)), to_s(parse_time("--end", end))
    with bad_input():
        change = service(db).maintenance(node, start_s, end_s, actor=actor_name(actor))
    _print_change(f"maintenance on {node} {iso(start_s)} to {iso(end_s)}", change)


def events(
    lease: Annotated[str | None, typer.Option("--lease")] = None,
    node: Annotated[str | None, typer.Option("--node")] = None,
    tenant: Annotated[str | None, typer.Option("--tenant")] = None,
    kind: Annotated[str | None, typer.Option("--kind", help="Prefix, like lease. or node.failed")] = None,
    since: Annotated[str | None, typer.Option("--since")] = None,
    limit: Annotated[int, typer.Option("--limit", min=1, max=10_000)] = 100,
    db: DbOpt = None,
    as_json: JsonOpt = False,
) -> None:
    """The append-only event log, oldest first."""
    since_s = None if since is None else to_s(parse_time("--since", since))
    query = EventQuery(lease_id=lease, node=node, tenant=tenant, kind=kind, since_s=since_s, limit=limit)
    with bad_input():
        rows = service(db).events(query)

    def table() -> None:
        t = Table(
            "seq",
            "at",
            "kind",
            "subject",
            "actor",
            "what changed",
            title=f"{len(rows)} event(s)",
            box=box.SIMPLE_HEAD,
            pad_edge=False,
        )
        for col in t.columns[:2]:  # seq and time whole; the rest fold on a narrow terminal
            col.no_wrap = True
        for col in t.columns[2:5]:
            col.overflow = "fold"
        if out.width < WIDE_TABLE:  # a narrow terminal: what changed gets half of it, never squeezed away
            t.expand = True
            for col, share in zip(t.columns[2:], (1, 1, 1, 3), strict=True):
                col.ratio = share
        t.columns[5].overflow = "fold"
        for s in rows:
            e = s.event
            t.add_row(str(s.seq), short_time(e.at_s), e.kind, e.subject, e.actor, change_summary(e.before, e.after))
        out.print(t)

    _emit([event_json(r) for r in rows], as_json, table)


def _print_change(title: str, change: Change) -> None:
    out.print(title, highlight=False)
    for note in change.notes:
        out.print(f"  {note}", highlight=False)


def _print_quote(quote: Quote | Refusal, margin: Margin | None = None) -> None:
    if isinstance(quote, Refusal):
        out.print(f"[red]does not fit[/]: {quote.reason}", highlight=False, soft_wrap=True)
        for alt in quote.alternatives:
            out.print(f"  alternative ({alt.kind}): {alt.description}", highlight=False, soft_wrap=True)
        return
    out.print(
        f"{quote.gpus:,} {quote.model} GPUs on {len(quote.nodes):,} nodes in {len(quote.blocks)} block(s)"
        f"{f', {len(quote.spares)} spare node(s)' if quote.spares else ''}: "
        f"{quote.gpu_hours:,.0f} GPU-hours, {quote.total.amount:,.2f} {quote.total.currency}",
        highlight=False,
    )
    r = quote.request
    source = "explicit price (override)" if r.price_override else f"price book v{r.price_version}"
    out.print(f"{r.tier.value} at {r.price_per_gpu_hour} per GPU-hour, {source}", highlight=False, soft_wrap=True)
    if margin is not None:
        out.print(
            f"margin over TCO {margin.tco_per_gpu_hour}: {margin.per_gpu_hour} per GPU-hour "
            f"({margin.share:.1%}), {margin.total.amount:,.2f} {margin.total.currency} over the term",
            highlight=False,
            soft_wrap=True,
        )


def _print_view(view: Any) -> None:
    data = lease_view_json(view)
    out.print(
        f"[bold]{data['id']}[/] {data['state']} · tenant {data['tenant']} · {data['gpus']:,} {data['model']} "
        f"GPUs · {data['start']} to {data['end']}",
        highlight=False,
        soft_wrap=True,
    )
    r = view.lease.request
    out.print(describe_credits(r.sla_availability_pct, r.sla_credit_tiers, r.sla_credit_cap), highlight=False)
    kinds: dict[str, int] = {}
    for b in data["bookings"]:
        kinds[b["kind"]] = kinds.get(b["kind"], 0) + 1
    out.print("bookings: " + ", ".join(f"{k} {v}" for k, v in kinds.items()), highlight=False)
    for h in data["history"]:
        out.print(f"  {h['at']}  {h['from'] or '-'} -> {h['to']}  by {h['actor']}: {h['reason']}", highlight=False)
    t = Table("from", "contracted GPUs", "delivered GPUs", title="capacity")
    for p in data["capacity"]:
        t.add_row(p["from"], f"{p['contracted_gpus']:,}", f"{p['delivered_gpus']:,}")
    out.print(t)
    if view.lease.amendments:
        print_amendments(out, view.lease)


def _emit(data: Any, as_json: bool, human: Any) -> None:
    if as_json:
        sys.stdout.write(json.dumps(data, indent=2, default=str) + "\n")
    else:
        human()
