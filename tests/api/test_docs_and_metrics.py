"""The system pages around the API: ``/docs`` works offline."""

from __future__ import annotations

import re
import tomllib
from pathlib import Path, PurePosixPath

from tests.api.conftest import World

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
