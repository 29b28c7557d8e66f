"""The dashboard's serving plan page: what a lease's (or a site's, or counted) GPUs serve.

A tenant plans from its own leases (another's is a 404, as everywhere) or from counts;
the operator from any lease, a site or counts. The page is a GET form: the plan is a
pure computation that writes nothing, so its address can be bookmarked and shared.
"""

from __future__ import annotations

from typing import Any

from fastapi import APIRouter, Request
from fastapi.responses import HTMLResponse

from neocloud.domain.errors import NotFound, RequestError
from neocloud.economics.serving.plan import ENGINES, PRECISIONS, Target
from neocloud.economics.serving.report import measured_chart, plan_dict
from neocloud.services.serving import (
    DEFAULT_ISL,
    DEFAULT_OSL,
    DEFAULT_PLANS,
    DEFAULT_TIERS,
    DEFAULT_TPOT_MS,
    DEFAULT_TTFT_MS,
    CapacityAsk,
    ServingAsk,
)
from neocloud.services.visibility import Viewer
from neocloud.web.routes import _not_found, _opt, _page, _services, signed_in
from neocloud.web.views import HIDDEN_STATES, PALETTE

router = APIRouter(include_in_schema=False)
DEFAULT_MODEL = "deepseek-ai/DeepSeek-R1"


@router.get("/serving", response_class=HTMLResponse)
def serving_page(  # noqa: PLR0917 - one query parameter per form field
    request: Request,
    lease: str | None = None,
    site: str | None = None,
    gpus: str | None = None,
    model: str | None = None,
    isl: str | None = None,
    osl: str | None = None,
    tpot_ms: str | None = None,
    ttft_ms: str | None = None,
    precision: str | None = None,
    engine: str | None = None,
    one_nvlink_domain: str | None = None,
) -> HTMLResponse:
    who = signed_in(request)
    svc = _services(request)
    viewer = Viewer.of(who)
    form = {
        "lease": _opt(lease),
        "site": _opt(site) if who.is_operator else None,
        "gpus": _opt(gpus),
        "model": _opt(model) or DEFAULT_MODEL,
        "isl": _opt(isl) or str(DEFAULT_ISL),
        "osl": _opt(osl) or str(DEFAULT_OSL),
        "tpot_ms": _opt(tpot_ms) or f"{DEFAULT_TPOT_MS:g}",
        "ttft_ms": _opt(ttft_ms) or f"{DEFAULT_TTFT_MS:g}",
        "precision": _opt(precision) or "fp8",
        "engine": _opt(engine) or "trtllm",
        "one_nvlink_domain": bool(_opt(one_nvlink_domain)),
    }
    context: dict[str, Any] = {
        "form": form,
        "leases": [le for le in svc.leasing.leases(viewer=viewer) if le.state not in HIDDEN_STATES],
        "sites": [s.name for s in svc.leasing.fleet().sites] if who.is_operator else [],
        "models": svc.serving.models.known_models(),
        "precisions": PRECISIONS,
        "engines": ENGINES,
        "plan": None,
        "errors": [],
    }
    context["defaulted"] = _default_capacity(form, context, who.is_operator)
    if form["lease"] or form["site"] or form["gpus"]:
        try:
            plan = plan_dict(svc.serving.plan(_ask(form), viewer=viewer))
        except NotFound:
            return _not_found(request, who, f"lease {form['lease']}" if form["lease"] else f"site {form['site']}")
        except RequestError as e:
            context["errors"] = e.problems
        else:
            points = list(svc.serving.models.measured(str(form["model"])))
            context.update(plan=plan, tokens_chart=throughput_chart(plan), measured=measured_chart(points))
    return _page(request, "serving.html", who, **context)


def _default_capacity(form: dict[str, Any], context: dict[str, Any], operator: bool) -> str | None:
    """With nothing chosen, plan the first site (operator) or the first of the principal's
    own leases (tenant), so the page opens on a plan; the sentence says which and why."""
    if form["lease"] or form["site"] or form["gpus"]:
        return None
    if operator and context["sites"]:
        form["site"] = context["sites"][0]
        return f"Showing site {form['site']}, the first site: choose a lease, another site or GPU counts above."
    if not operator and context["leases"]:
        form["lease"] = context["leases"][0].id
        return f"Showing lease {form['lease']}, the first of your leases: choose another or GPU counts above."
    return None


def _ask(form: dict[str, Any]) -> ServingAsk:
    problems: list[str] = []
    numbers: dict[str, float] = {}
    for name in ("isl", "osl", "tpot_ms", "ttft_ms"):
        try:
            numbers[name] = float(form[name])
        except ValueError:
            problems.append(f"{name}: must be a number, got {form[name]!r}")
    for name in ("isl", "osl"):
        if name in numbers and not numbers[name].is_integer():
            problems.append(f"{name}: must be a whole number of tokens, got {form[name]!r}")
    if problems:
        raise RequestError(problems)
    target = Target(
        form["model"],
        int(numbers["isl"]),
        int(numbers["osl"]),
        numbers["tpot_ms"],
        numbers["ttft_ms"],
        precision=form["precision"],
        engine=form["engine"],
        one_nvlink_domain=form["one_nvlink_domain"],
    )
    capacity = CapacityAsk(lease=form["lease"], site=form["site"], gpus=form["gpus"])
    return ServingAsk(capacity=capacity, target=target, tiers=DEFAULT_TIERS, plans=DEFAULT_PLANS)


def throughput_chart(plan: dict[str, Any]) -> dict[str, object]:
    """Output and input tokens/s per GPU, one pair of bars per served GPU model."""
    served = [m for m in plan["models"] if m["served"]]
    series = (("output tok/s per GPU", "out_tok_s_per_gpu"), ("input tok/s per GPU", "in_tok_s_per_gpu"))
    return {
        "type": "bar",
        "labels": [f"{m['gpu_model']} ({m['system']})" for m in served],
        "datasets": [
            {"label": label, "data": [round(m[key]) for m in served], "backgroundColor": PALETTE[k]}
            for k, (label, key) in enumerate(series)
        ],
        "horizontal": True,
    }
