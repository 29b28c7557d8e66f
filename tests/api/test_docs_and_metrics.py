"""The system pages around the API: ``/docs`` works offline, ``/metrics`` is not public."""

from __future__ import annotations

import re
import tomllib
from pathlib import Path, PurePosixPath

import pytest
from fastapi.testclient import TestClient

from neocloud.api.app import create_app
from neocloud.api.metrics import token_problem
from tests.api.conftest import World
from tests.api.test_behaviour import PROBLEM

ROOT = Path(__file__).resolve().parents[2]
WEB = ROOT / "src" / "neocloud" / "web"
ATTRIBUTE_URL = re.compile(r"""(?:src|href)=["']([^"']+)["']""")
EXTERNAL = re.compile(r"""["'(](?:https?:)?//""")


# -- /docs ------------------------------------------------------------------------------
def test_the_docs_page_names_no_other_host(world: World) -> None:
    r = world.client.get("/docs")
    assert r.status_code == 200
    assert "SwaggerUIBundle" in r.text
    assert EXTERNAL.search(r.text) is None, EXTERNAL.search(r.text)
    assert "validatorUrl" in r.text  # Swagger UI's online validator is off


def test_every_asset_of_the_docs_page_is_served_here(world: World) -> None:
    page = world.client.get("/docs").text
    assets = ATTRIBUTE_URL.findall(page)
    assert len(assets) >= 3  # the stylesheet, the icon and the script
    for url in assets:
        assert url.startswith("/"), url
        r = world.client.get(url)
        assert r.status_code == 200, url
        assert len(r.content) > 0, url
    assert world.client.get("/openapi.json").status_code == 200


def test_redoc_from_a_cdn_is_not_served(world: World) -> None:
    assert world.client.get("/redoc").status_code == 404


def test_every_dashboard_and_docs_file_is_package_data() -> None:
    """A non-editable install ships every template and static file, the vendored ones too."""
    globs = tomllib.loads((ROOT / "pyproject.toml").read_text())["tool"]["setuptools"]["package-data"]["neocloud.web"]
    shipped = [p for d in ("static", "templates") for p in (WEB / d).rglob("*") if p.is_file()]
    assert any("swagger-ui" in str(p) for p in shipped)
    for path in shipped:
        rel = PurePosixPath(path.relative_to(WEB).as_posix())
        assert any(rel.match(g) and len(rel.parts) == len(PurePosixPath(g).parts) for g in globs), rel


# -- /metrics -----------------------------------------------------------------------------
SCRAPE = "scrape-0123456789abcdef"


def test_without_a_scrape_token_metrics_are_the_operators_only(world: World) -> None:
    anonymous = world.client.get("/metrics")
    assert anonymous.status_code == 401
    assert anonymous.headers["content-type"] == PROBLEM
    assert anonymous.headers["www-authenticate"] == "Bearer"
    assert "neocloud_gpus" not in anonymous.text
    assert world.client.get("/metrics", headers={"Authorization": f"Bearer {SCRAPE}"}).status_code == 401
    tenant = world.client.get("/metrics", headers=world.auth("acme-ai"))
    assert tenant.status_code == 403
    assert "neocloud_gpus" not in tenant.text
    operator = world.client.get("/metrics", headers=world.auth("operator"))
    assert operator.status_code == 200
    assert "neocloud_gpus{" in operator.text


def test_a_scrape_token_reads_metrics_and_nothing_else(world: World) -> None:
    client = TestClient(create_app(world.services, metrics_token=SCRAPE))
    scrape = {"Authorization": f"Bearer {SCRAPE}"}
    r = client.get("/metrics", headers=scrape)
    assert r.status_code == 200
    assert "neocloud_leases{" in r.text
    assert client.get("/metrics", headers={"Authorization": f"Bearer {SCRAPE}x"}).status_code == 401
    assert client.get("/metrics").status_code == 401
    assert client.get("/metrics", headers=world.auth("acme-ai")).status_code == 403
    assert client.get("/metrics", headers=world.auth("operator")).status_code == 200
    assert client.get("/v1/leases", headers=scrape).status_code == 401
    assert client.get("/v1/sites", headers=scrape).status_code == 401


@pytest.mark.parametrize("token", ["", "short", "sixteen chars no", "x" * 257, "é" * 20])
def test_a_weak_or_malformed_scrape_token_is_refused(world: World, token: str) -> None:
    assert token_problem(token) is not None
    with pytest.raises(ValueError, match="metrics token: must be 16 to 256 visible ASCII"):
        create_app(world.services, metrics_token=token)
