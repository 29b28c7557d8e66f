"""Tenants and API keys: operator only. Tokens are shown once; hashes never."""

from __future__ import annotations

from fastapi import APIRouter

from neocloud.api.auth import OperatorDep, ServicesDep
from neocloud.api.schemas import PROBLEMS, KeyCreatedOut, KeyIn, KeyOut, TenantIn, TenantOut

router = APIRouter(prefix="/v1", tags=["admin"], responses=PROBLEMS)


@router.get("/tenants", response_model=list[TenantOut])
def tenants(_: OperatorDep, svc: ServicesDep) -> list[TenantOut]:
    return [TenantOut(name=name) for name in sorted(svc.leasing.tenants())]


@router.post("/tenants", status_code=201, response_model=TenantOut)
def add_tenant(body: TenantIn, who: OperatorDep, svc: ServicesDep) -> TenantOut:
    """Add a tenant; 422 if it exists."""
    svc.leasing.add_tenant(body.name, actor=who.actor)
    return TenantOut(name=body.name)


@router.get("/keys", response_model=list[KeyOut])
def keys(_: OperatorDep, svc: ServicesDep) -> list[KeyOut]:
    return [KeyOut.of(k) for k in svc.keys.list()]


@router.post("/keys", status_code=201, response_model=KeyCreatedOut)
def create_key(body: KeyIn, who: OperatorDep, svc: ServicesDep) -> KeyCreatedOut:
    """A new key; its token is in this response and nowhere else, ever."""
    key, token = svc.create_key(role=body.role, tenant=body.tenant, label=body.label, actor=who.actor)
    return KeyCreatedOut(**KeyOut.of(key).model_dump(), token=token)


@router.delete("/keys/{key_id}", response_model=KeyOut)
def revoke_key(key_id: str, who: OperatorDep, svc: ServicesDep) -> KeyOut:
    """Revoke a key; requests with it get 401 from now on."""
    return KeyOut.of(svc.keys.revoke(key_id, actor=who.actor))
