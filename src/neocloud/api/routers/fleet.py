"""Fleet reads: sites, pods, fabric blocks and nodes, filtered and paged."""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import APIRouter, Depends, Query

from neocloud.api.auth import PrincipalDep, ServicesDep
from neocloud.api.schemas import MAX_CURSOR, PROBLEMS, NodeOut, PageOut, SiteOut, UnitOut, paged
from neocloud.domain.health import Health
from neocloud.services.catalog import NodeFilter

router = APIRouter(prefix="/v1", tags=["fleet"], responses=PROBLEMS)


def node_filter(
    site: Annotated[str | None, Query(description="Only this site.")] = None,
    state: Annotated[Health | None, Query(description="Only nodes in this health state.")] = None,
    model: Annotated[str | None, Query(description="Only this GPU model.")] = None,
) -> NodeFilter:
    return NodeFilter(site=site, state=state, model=model)


Filter = Annotated[NodeFilter, Depends(node_filter)]
Limit = Annotated[int, Query(ge=1, le=1000, description="Page size.")]
Cursor = Annotated[str | None, Query(max_length=MAX_CURSOR, description="next_cursor of the previous page.")]


@router.get("/sites", response_model=PageOut[SiteOut])
def sites(_: PrincipalDep, svc: ServicesDep, where: Filter, limit: Limit = 100, cursor: Cursor = None) -> Any:
    """Sites with their GPUs and nodes (of the matching nodes)."""
    return paged(svc.catalog.sites(where, limit, cursor), SiteOut.of)


@router.get("/pods", response_model=PageOut[UnitOut])
def pods(_: PrincipalDep, svc: ServicesDep, where: Filter, limit: Limit = 100, cursor: Cursor = None) -> Any:
    """Pods with their GPUs and nodes by health."""
    return paged(svc.catalog.pods(where, limit, cursor), UnitOut.of)


@router.get("/blocks", response_model=PageOut[UnitOut])
def blocks(_: PrincipalDep, svc: ServicesDep, where: Filter, limit: Limit = 100, cursor: Cursor = None) -> Any:
    """Fabric blocks with their GPUs and nodes by health."""
    return paged(svc.catalog.blocks(where, limit, cursor), UnitOut.of)


@router.get("/nodes", response_model=PageOut[NodeOut])
def nodes(_: PrincipalDep, svc: ServicesDep, where: Filter, limit: Limit = 100, cursor: Cursor = None) -> Any:
    """Nodes in id order, a page at a time."""
    return paged(svc.catalog.nodes(where, limit, cursor), NodeOut.of)


@router.get("/nodes/{node_id}", response_model=NodeOut)
def node(node_id: str, _: PrincipalDep, svc: ServicesDep) -> NodeOut:
    return NodeOut.of(svc.catalog.node(node_id))
