"""The dashboard's studies pages through the app (no browser): the operator sees the list
with a status per study and the progress of a running one, a keep-vs-lease study's
frontier, recommendation and table, a sweep's chart and means; a tenant gets the
operator-only page and no nav link; everything stored is escaped."""

from __future__ import annotations

import html
import re

from neocloud.domain.studies import StudyKind
from neocloud.services.demo_studies import record_demo_studies
from neocloud.services.study_documents import sweep_rows
from neocloud.sim.sweep import mean_over_seeds
from neocloud.web.routes import COOKIE
from tests.api.conftest import World
from tests.api.test_queue_pages import _table

CIRCLE = re.compile(r"<circle ")


def _as(world: World, role: str) -> World:
    world.client.cookies.set(COOKIE, world.keys.operator if role == "operator" else world.keys.tenants[role])
    return world


def _named(world: World, name: str) -> str:
    return next(s.id for s in world.services.studies.studies() if s.name == name)


def test_the_list_shows_each_study_its_status_and_a_running_ones_progress(world: World):
    record_demo_studies(world.services)
    running = world.services.studies.start(StudyKind.KEEP_VS_LEASE, "later", actor="op", inputs={}, total=5)
    world.services.studies.progress(running.id, 2)
    page = _as(world, "operator").client.get("/studies")
    assert page.status_code == 200
    rows = {r[0]: r for r in _table(page.text, "studies")}
    assert set(rows) == {"demo-keep-vs-lease", "demo-sweep", "later"}
    assert rows["demo-keep-vs-lease"][1:4] == ["keep-vs-lease", "done", "3 of 3"]
    assert rows["demo-sweep"][1:4] == ["sweep", "done", "24 of 24"]
    assert rows["later"][2] == "running"
    assert '<progress max="5" value="2"' in page.text
    assert 'href="/studies"' in page.text  # the nav link


def test_a_keep_vs_lease_study_draws_its_frontier_with_the_bound_and_its_table(world: World):
    record_demo_studies(world.services)
    study = world.services.studies.study(_named(world, "demo-keep-vs-lease"))
    assert study.result is not None
    page = _as(world, "operator").client.get(f"/studies/{study.id}").text
    assert "<svg class='frontier'" in page
    assert len(CIRCLE.findall(page)) == len(study.result["options"]) == 3  # a point per fraction
    assert f"delay bound {study.result['max_delay_hours']:g} h" in page
    assert study.result["recommendation"] in html.unescape(page)
    assert re.findall(r"<tr><td>(\d+%)</td>", page) == ["0%", "50%", "100%"]  # the table per fraction


def test_a_sweep_draws_its_means_over_the_seeds(world: World):
    record_demo_studies(world.services)
    study = world.services.studies.study(_named(world, "demo-sweep"))
    assert study.result is not None
    settings = mean_over_seeds(sweep_rows(study.result))
    page = _as(world, "operator").client.get(f"/studies/{study.id}").text
    assert "<svg class='sweep'" in page
    assert page.count("<polyline") == len({(s.policy, s.lease_fraction) for s in settings}) == 8
    assert page.count("<tr><td>") >= len(settings)
    for s in settings:
        assert f"<tr><td>{s.policy}</td><td>{s.lease_fraction:g}</td><td>{s.load:g}</td>" in page


def test_everything_a_study_holds_is_escaped(world: World):
    evil = "<script>alert(1)</script>"
    study = world.services.studies.record(
        StudyKind.KEEP_VS_LEASE,
        "evil",
        actor=evil,
        inputs={"tenant": evil},
        result={
            "currency": evil,
            "price_per_gpu_hour": evil,
            "internal_scale": 1.0,
            "internal_load": 1.0,
            "max_delay_hours": 4.0,
            "recommendation": evil,
            "options": [
                {
                    "fraction": 0.5,
                    "leased_units": [evil],
                    "kept_gpus": 8,
                    "internal": {"jct_mean_s": 1.0, "queue_mean_s": 0.0, "delay_mean_s": None, "unfinished": 1},
                    "lease": {
                        "total_revenue": "1",
                        "npv": "1",
                        "gross_margin": 0.1,
                        "revenue_at_risk": "0",
                        "top1_share": 1.0,
                        "hhi": 10000.0,
                    },
                }
            ],
        },
        total=1,
    )
    page = _as(world, "operator").client.get(f"/studies/{study.id}").text
    assert "<script" not in page
    assert "&lt;script&gt;" in page
    assert "1 left out: no internal job finished" in page  # a delay that is no number is not drawn
    assert "<td>-</td>" in page


def test_a_tenant_gets_the_operator_only_page_and_no_nav_link(world: World):
    record_demo_studies(world.services)
    study_id = _named(world, "demo-sweep")
    for path in ("/studies", f"/studies/{study_id}", "/studies/S-nope"):
        r = _as(world, "acme-ai").client.get(path)
        assert r.status_code == 403, path
        assert "demo-sweep" not in r.text
        assert "demo-keep-vs-lease" not in r.text
        assert 'href="/studies"' not in r.text


def test_an_unknown_study_is_the_not_found_page(world: World):
    r = _as(world, "operator").client.get("/studies/S-nope")
    assert r.status_code == 404
    assert "study S-nope" in r.text
