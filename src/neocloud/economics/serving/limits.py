"""Sellable usage limits from fleet tokens per minute (economics.md §4.3-4.4).

Units are the providers' (§4.3): per organisation RPM, ITPM (input tokens per minute,
cache reads excluded [R75]) and OTPM (output tokens per minute); per consumer plan a
five-hour token budget ``B_5h = OTPM_for_plan x 300 / concurrent_active_users``
(§4.4 step 4). Token counts are floats until a limit is stated; a stated limit is
rounded *down* to a whole token (or request) once, so what is sold never exceeds
what the fleet serves.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass

from neocloud.domain.counts import whole_number
from neocloud.domain.errors import RequestError

FIVE_HOURS_MIN = 300
#: Input tokens per output token in a production chat/API mix: DeepSeek's V3/R1 fleet,
#: 608B input : 168B output tokens in 24 h. [R74] (2025-03-01)
INPUT_OUTPUT_RATIO = 3.6
#: Share of those input tokens read from the KV cache (not prefilled, not counted in
#: ITPM). [R74] (2025-03-01): 56.3%.
KV_CACHE_HIT_RATE = 0.56
MAX_SPLIT = 1_000_000_000


@dataclass(frozen=True, slots=True)
class RateLimit:
    """Per-organisation limits: requests, input tokens and output tokens per minute."""

    rpm: int
    itpm: int
    otpm: int


@dataclass(frozen=True, slots=True)
class Ceiling:
    """A published tier's limits, with its source (economics.md §4.3)."""

    name: str
    limit: RateLimit
    source: str


#: Published tier ceilings (reference, not targets). Anthropic 2025 Tier 1 for Claude Opus
#: 4.x [R75] (2025); 2026 Start and Scale for the newest model class, read 2026-10-17 [R76].
PUBLISHED_CEILINGS: tuple[Ceiling, ...] = (
    Ceiling("tier1", RateLimit(50, 30_000, 8_000), "[R75] Anthropic Tier 1, Claude Opus 4.x (2025)"),
    Ceiling("start", RateLimit(1_000, 500_000, 100_000), "[R76] Anthropic Start, newest model class (2026-10-17)"),
    Ceiling("scale", RateLimit(4_000, 4_000_000, 800_000), "[R76] Anthropic Scale, newest model class (2026-10-17)"),
)


@dataclass(frozen=True, slots=True)
class TierSpec:
    """An API tier: ``orgs`` organisations share ``share`` of the fleet's tokens per
    minute, sold ``oversubscription`` times over (few organisations run at their cap
    at once, §4.4 step 3); ``ceiling`` names a published tier to compare with."""

    name: str
    orgs: int
    share: float
    oversubscription: float = 1.0
    ceiling: str | None = None


@dataclass(frozen=True, slots=True)
class PlanSpec:
    """A consumer plan: ``users`` concurrently active users share ``share`` of the fleet."""

    name: str
    users: int
    share: float


@dataclass(frozen=True, slots=True)
class TierLimits:
    """What one organisation of a tier may use, and how it compares with a published tier."""

    spec: TierSpec
    per_org: RateLimit
    ceiling: Ceiling | None
    orgs_at_ceiling: int | None
    zero_note: str | None = None  # why RPM is 0 and what would lift it (None when it is not)


@dataclass(frozen=True, slots=True)
class PlanBudget:
    """A plan's five-hour budget per active user: output tokens (``binding`` says whether
    output or prefill capacity set it), the input it allows (3.6 per output [R74]) and
    messages of the target's output length."""

    spec: PlanSpec
    out_tokens_5h: int
    in_tokens_5h: int
    binding: str
    messages_5h: int
    zero_note: str | None = None  # why no whole message fits and what would lift it


@dataclass(frozen=True, slots=True)
class FleetRate:
    """The fleet's sellable tokens per minute at the headroom: OTPM and ITPM (prefilled
    input, the tokens ITPM counts), for requests of ``isl`` in and ``osl`` out."""

    otpm: float
    itpm: float
    isl: int
    osl: int


def tier_limits(rate: FleetRate, tier: TierSpec) -> TierLimits:
    """Per-organisation limits of ``tier``: its share of the fleet, oversubscribed,
    over its organisations; RPM is what those tokens allow at the target's lengths."""
    scale = tier.share * tier.oversubscription / tier.orgs
    otpm, itpm = math.floor(rate.otpm * scale), math.floor(rate.itpm * scale)
    rpm = math.floor(min(rate.otpm * scale / rate.osl, rate.itpm * scale / rate.isl))
    ceiling = ceiling_named(tier.ceiling) if tier.ceiling else None
    at_ceiling = None
    if ceiling is not None:
        pool_out, pool_in = (
            rate.otpm * tier.share * tier.oversubscription,
            rate.itpm * tier.share * tier.oversubscription,
        )
        at_ceiling = math.floor(min(pool_out / ceiling.limit.otpm, pool_in / ceiling.limit.itpm))
    exact_rpm = min(rate.otpm * scale / rate.osl, rate.itpm * scale / rate.isl)
    note = None if rpm else _zero_note("RPM", "organisations", exact_rpm, tier.orgs)
    return TierLimits(tier, RateLimit(rpm, itpm, otpm), ceiling, at_ceiling, note)


def plan_budget(rate: FleetRate, plan: PlanSpec) -> PlanBudget:
    """``B_5h`` of §4.4 step 4 on the output side, and on the input side the budget the
    prefill capacity allows at 3.6 input tokens per output token of which 56% are cache
    hits [R74]; the smaller binds."""
    by_output = rate.otpm * plan.share * FIVE_HOURS_MIN / plan.users
    uncached_per_output = INPUT_OUTPUT_RATIO * (1 - KV_CACHE_HIT_RATE)
    by_input = rate.itpm * plan.share * FIVE_HOURS_MIN / plan.users / uncached_per_output
    out = math.floor(min(by_output, by_input))
    return PlanBudget(
        spec=plan,
        out_tokens_5h=out,
        in_tokens_5h=math.floor(out * INPUT_OUTPUT_RATIO),
        binding="output" if by_output <= by_input else "input",
        messages_5h=out // rate.osl,
        zero_note=None
        if out >= rate.osl
        else _zero_note("messages per 5 h", "users", min(by_output, by_input) / rate.osl, plan.users),
    )


def _zero_note(what: str, holders: str, exact: float, count: int) -> str:
    """A limit rounded down to 0: the share of the capacity gives each of ``count``
    holders ``exact`` (< 1) units; ``floor(count x exact)`` holders, or ``1 / exact``
    times the capacity, would give each one."""
    most = math.floor(count * exact)
    fewer = f"at most {most:,} {holders}" if most else f"fewer {holders}"
    factor = f"{1 / exact:,.1f}x the capacity" if exact > 0 else "more capacity"
    return (
        f"{what} rounds to 0: this share gives each of {count:,} {holders} {exact:.2g};"
        f" {fewer} or {factor} would give each 1"
    )


def ceiling_named(name: str) -> Ceiling:
    for c in PUBLISHED_CEILINGS:
        if c.name == name.casefold():
            return c
    known = ", ".join(c.name for c in PUBLISHED_CEILINGS)
    raise RequestError([f"ceiling: unknown published tier {name!r} (known: {known})"])


def split_problems(tiers: Sequence[TierSpec], plans: Sequence[PlanSpec]) -> list[str]:
    """Every bad field of the tiers and plans, named: counts, shares (together at most 1),
    oversubscription, unique names, known ceilings."""
    out: list[str] = []
    names: set[str] = set()
    for kind, name, count, share in [("tier", t.name, t.orgs, t.share) for t in tiers] + [
        ("plan", p.name, p.users, p.share) for p in plans
    ]:
        where = f"{kind} {name!r}"
        if not name or name.casefold() in names:
            out.append(f"{kind}: {'a name is required' if not name else f'{name!r} is given twice'}")
        names.add(name.casefold())
        if not 1 <= count <= MAX_SPLIT:
            out.append(f"{where}: {'orgs' if kind == 'tier' else 'users'} must be 1..{MAX_SPLIT:,}, got {count}")
        if not (math.isfinite(share) and 0 < share <= 1):
            out.append(f"{where}: share must be more than 0 and at most 1, got {share}")
    for t in tiers:
        if not (math.isfinite(t.oversubscription) and 1 <= t.oversubscription <= 100):
            out.append(f"tier {t.name!r}: oversubscription must be 1..100, got {t.oversubscription}")
        if t.ceiling and t.ceiling.casefold() not in {c.name for c in PUBLISHED_CEILINGS}:
            out.append(f"tier {t.name!r}: unknown published ceiling {t.ceiling!r}")
    total = sum(t.share for t in tiers) + sum(p.share for p in plans)
    if math.isfinite(total) and total > 1 + 1e-9:
        out.append(f"share: tiers and plans together take {total:g} of the fleet, more than 1")
    return out


def parse_tier(text: str) -> TierSpec:
    """``NAME:ORGS:SHARE[:OVERSUBSCRIPTION]``, e.g. ``scale:1000:0.3:2``; a published
    tier's name (``tier1``, ``start``, ``scale``) is compared with its ceiling."""
    parts = [p.strip() for p in text.split(":")]
    if len(parts) not in (3, 4):
        raise RequestError([f"tier: {text!r}: expected NAME:ORGS:SHARE[:OVERSUBSCRIPTION]"])
    orgs = _int("tier", text, "ORGS", parts[1])
    share = _float("tier", text, "SHARE", parts[2])
    over = _float("tier", text, "OVERSUBSCRIPTION", parts[3]) if len(parts) == 4 else 1.0
    return TierSpec(parts[0], orgs, share, over, published_name(parts[0]))


def published_name(name: str) -> str | None:
    """The published tier a tier's name is (``Scale`` -> ``scale``), or ``None``."""
    return name.casefold() if name.casefold() in {c.name for c in PUBLISHED_CEILINGS} else None


def parse_plan(text: str) -> PlanSpec:
    """``NAME:USERS:SHARE``, e.g. ``max:200000:0.3`` (concurrently active users)."""
    parts = [p.strip() for p in text.split(":")]
    if len(parts) != 3:
        raise RequestError([f"plan: {text!r}: expected NAME:USERS:SHARE"])
    return PlanSpec(parts[0], _int("plan", text, "USERS", parts[1]), _float("plan", text, "SHARE", parts[2]))


def _int(kind: str, text: str, part: str, raw: str) -> int:
    value = whole_number(raw)
    if value is None:
        raise RequestError([f"{kind}: {text!r}: {part} must be a whole number, got {raw!r}"])
    return value


def _float(kind: str, text: str, part: str, raw: str) -> float:
    try:
        value = float(raw)
    except ValueError:
        raise RequestError([f"{kind}: {text!r}: {part} must be a number, got {raw!r}"]) from None
    if not math.isfinite(value):
        raise RequestError([f"{kind}: {text!r}: {part} must be finite, got {raw!r}"])
    return value
