"""The custody trail's API schema (``GET /v1/custody/{serial}``, operator only)."""

from __future__ import annotations

from pydantic import BaseModel, Field

from neocloud.api.schemas import iso
from neocloud.billing.custody import BilledShare, HealthStep, Holding, NodeBill, Swap, Trail


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


class BilledShareOut(BaseModel):
    """The node's part of one stored line (docs/billing.md, "The custody trail"): of
    ``line_amount``, ``node_gpu_s`` of ``basis_gpu_s``, rounded once to ``amount``,
    signed as the tenant owes it (a credit note's lines negative)."""

    document: str = Field(description="The invoice or credit note id.")
    credit_note: bool
    state: str
    tenant: str
    lease: str
    period: str
    kind: str
    description: str
    currency: str
    line_amount: str
    node_gpu_s: int
    basis_gpu_s: int
    amount: str

    @classmethod
    def of(cls, b: BilledShare) -> BilledShareOut:
        return cls(
            document=b.document,
            credit_note=b.credit_note,
            state=b.state,
            tenant=b.tenant,
            lease=b.lease_id,
            period=b.period,
            kind=b.kind.value,
            description=b.description,
            currency=b.amount.currency,
            line_amount=str(b.line_amount.amount),
            node_gpu_s=b.node_gpu_s,
            basis_gpu_s=b.basis_gpu_s,
            amount=str(b.amount.amount),
        )


class NodeBillOut(BaseModel):
    """Billed and credited for the node under one lease in one period (sums of the shares)."""

    lease: str
    tenant: str
    period: str
    currency: str
    billed: str
    credited: str = Field(description="SLA credits and credit notes, as a positive amount given back.")
    net: str

    @classmethod
    def of(cls, b: NodeBill) -> NodeBillOut:
        return cls(
            lease=b.lease_id,
            tenant=b.tenant,
            period=b.period,
            currency=b.billed.currency,
            billed=str(b.billed.amount),
            credited=str(b.credited.amount),
            net=str(b.net.amount),
        )


class CustodyOut(BaseModel):
    """GPU serial -> node -> health history -> who held it when -> what each tenant was
    billed and credited for it (docs/billing.md, "The custody trail")."""

    serial: str
    matched: str = Field(description="What the serial named: gpu_serial, node_serial or node_id.")
    node: CustodyNodeOut
    health: list[HealthStepOut]
    holdings: list[HoldingOut]
    billing: list[BilledShareOut]
    bills: list[NodeBillOut] = Field(description="The billing lines summed per lease and period.")
    billing_note: str | None = Field(description="Why billing is empty, when it is.")

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
            billing=[BilledShareOut.of(b) for b in t.billing],
            bills=[NodeBillOut.of(b) for b in t.bills],
            billing_note=t.billing_note,
        )
