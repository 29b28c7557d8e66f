"""The custody trail's API schema (``GET /v1/custody/{serial}``, operator only)."""

from __future__ import annotations

from pydantic import BaseModel, Field

from neocloud.api.schemas import iso
from neocloud.billing.custody import HealthStep, Holding, Swap, Trail


class CustodyNodeOut(BaseModel):
    """The node the serial names, where it sits, and which of its GPUs (``gpu_index``,
    ``gpu_serial``) when the serial was a GPU's."""

    id: str
    serial: str
    gpu_model: str
    gpu_count: int
    site: str
    pod: str
    block: str
    rack: str | None
    nvlink_domain: str
    health: str = Field(description="Its health now.")
    gpu_index: int | None
    gpu_serial: str | None
    gpu_serials: list[str] = Field(description="Every GPU's serial in index order; empty when not tracked.")


class HealthStepOut(BaseModel):
    at: str | None
    from_: str = Field(serialization_alias="from")
    to: str
    reason: str

    @classmethod
    def of(cls, s: HealthStep) -> HealthStepOut:
        return cls(at=iso(s.at_s), from_=s.from_state.value, to=s.to_state.value, reason=s.reason)


class SwapOut(BaseModel):
    at: str | None
    node: str = Field(description="The node on the other side of the swap.")
    reason: str

    @classmethod
    def of(cls, s: Swap | None) -> SwapOut | None:
        return None if s is None else cls(at=iso(s.at_s), node=s.other_node, reason=s.reason)


class HoldingOut(BaseModel):
    """The node held over ``[start, end)`` by a lease, a lease's spare, a pool or a
    maintenance window; a swap that started or ended the holding, if one did."""

    kind: str
    holder: str
    lease: str | None
    tenant: str | None
    start: str | None
    end: str | None
    swapped_in: SwapOut | None
    swapped_out: SwapOut | None

    @classmethod
    def of(cls, h: Holding) -> HoldingOut:
        return cls(
            kind=h.kind.value,
            holder=h.holder,
            lease=h.lease_id,
            tenant=h.tenant,
            start=iso(h.start_s),
            end=iso(h.end_s),
            swapped_in=SwapOut.of(h.swapped_in),
            swapped_out=SwapOut.of(h.swapped_out),
        )


class CustodyOut(BaseModel):
    """GPU serial -> node -> health history -> who held it when -> what each tenant was
    billed and credited for it (docs/billing.md, "The custody trail")."""

    serial: str
    matched: str = Field(description="What the serial named: gpu_serial, node_serial or node_id.")
    node: CustodyNodeOut
    health: list[HealthStepOut]
    holdings: list[HoldingOut]
    billing: list[dict[str, str]] = Field(default_factory=list)
    billing_note: str | None = None

    @classmethod
    def of(cls, t: Trail) -> CustodyOut:
        found, n = t.located, t.located.node
        node = CustodyNodeOut(
            id=n.id,
            serial=n.serial,
            gpu_model=n.gpu_model,
            gpu_count=n.gpu_count,
            site=n.site,
            pod=n.pod,
            block=n.block,
            rack=n.rack,
            nvlink_domain=n.nvlink_domain,
            health=n.health.value,
            gpu_index=found.gpu_index,
            gpu_serial=found.gpu_serial,
            gpu_serials=list(n.gpu_serials),
        )
        return cls(
            serial=t.serial,
            matched=found.matched.value,
            node=node,
            health=[HealthStepOut.of(s) for s in t.health],
            holdings=[HoldingOut.of(h) for h in t.holdings],
            billing_note=t.billing_note,
        )
