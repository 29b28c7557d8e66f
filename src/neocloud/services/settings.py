"""The operator's settings, read from the environment by the composition root.

``bootstrap`` reads them for every CLI command and every server worker, so they share
one configuration. Each is checked by the same rule as the input it stands for.

| variable | default | meaning |
|---|---|---|
| ``NEOCLOUD_LIST_PRICE`` | ``2.35 USD`` | the currency of an explicit price (leases are priced from the price book) |
| ``NEOCLOUD_DEFAULT_SLA`` | ``99.0`` | availability target, percent, of a lease that sets none |
| ``NEOCLOUD_HEALTH_BACKDATE_HOURS`` | ``72`` | how far back a health change may be dated, 0 to 720 |
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import dataclass
from decimal import Decimal, InvalidOperation

from neocloud.domain.errors import DomainError
from neocloud.domain.health import DEFAULT_BACKDATE_S
from neocloud.domain.leases import DEFAULT_TERMS, Terms, terms_problems
from neocloud.domain.money import BadMoney, Money

LIST_PRICE = "NEOCLOUD_LIST_PRICE"
DEFAULT_SLA = "NEOCLOUD_DEFAULT_SLA"
HEALTH_BACKDATE_HOURS = "NEOCLOUD_HEALTH_BACKDATE_HOURS"
MAX_BACKDATE_HOURS = 30 * 24


class SettingError(DomainError):
    """An environment variable that does not hold a valid setting; the message names it."""


@dataclass(frozen=True, slots=True)
class Settings:
    terms: Terms = DEFAULT_TERMS
    health_backdate_s: int = DEFAULT_BACKDATE_S


def settings_from(env: Mapping[str, str]) -> Settings:
    """The settings in ``env`` (``os.environ``), defaults for those not set."""
    price = _price(env.get(LIST_PRICE))
    sla = _sla(env.get(DEFAULT_SLA))
    terms = Terms(price, sla)
    problems = terms_problems(terms)
    if problems:
        raise SettingError(f"{LIST_PRICE}/{DEFAULT_SLA}: {'; '.join(problems)}")
    return Settings(terms, _backdate_s(env.get(HEALTH_BACKDATE_HOURS)))


def _price(text: str | None) -> Money:
    if text is None:
        return DEFAULT_TERMS.price_per_gpu_hour
    try:
        return Money.parse(text)
    except BadMoney as exc:
        raise SettingError(f"{LIST_PRICE}: {exc}") from None


def _sla(text: str | None) -> Decimal:
    if text is None:
        return DEFAULT_TERMS.sla_availability_pct
    try:
        return Decimal(text.strip())
    except InvalidOperation:
        raise SettingError(f"{DEFAULT_SLA}={text!r}: not a number") from None


def _backdate_s(text: str | None) -> int:
    if text is None:
        return DEFAULT_BACKDATE_S
    value = text.strip()
    if not re.fullmatch(r"[0-9]{1,4}", value) or int(value) > MAX_BACKDATE_HOURS:
        raise SettingError(f"{HEALTH_BACKDATE_HOURS}={text!r}: give whole hours from 0 to {MAX_BACKDATE_HOURS}")
    return int(value) * 3600
