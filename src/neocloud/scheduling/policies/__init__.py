"""The scheduling policies, one small module each; :data:`POLICIES` names them."""

from __future__ import annotations

from collections.abc import Callable

from neocloud.scheduling.cycle import Policy
from neocloud.scheduling.policies.backfill import Backfill
from neocloud.scheduling.policies.fairshare import FairShare
from neocloud.scheduling.policies.fifo import Fifo
from neocloud.scheduling.policies.las import Las
from neocloud.scheduling.policies.priority import Priority
from neocloud.scheduling.policies.sjf import ShortestFirst

POLICIES: dict[str, Callable[[], Policy]] = {
    "fifo": Fifo,
    "backfill": Backfill,
    "sjf": ShortestFirst,
    "las": Las,
    "fairshare": FairShare,
    "priority": Priority,
}
