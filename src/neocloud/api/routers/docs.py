"""``/docs``: the interactive API reference, Swagger UI served from files in the package.

FastAPI's own ``/docs`` loads Swagger UI from a CDN, so it is a blank page offline.
Here the page is the same one FastAPI writes, pointed at the copy vendored in
``web/static/vendor`` (see its README) and with Swagger UI's online spec validator
turned off: the page asks nothing of any other host. ``/redoc`` is not served.
"""

from __future__ import annotations

from fastapi import APIRouter, Request
from fastapi.openapi.docs import get_swagger_ui_html
from fastapi.responses import HTMLResponse

SWAGGER_UI = "/static/vendor/swagger-ui-5.35.0"
FAVICON = "/static/favicon.svg"

router = APIRouter(include_in_schema=False)


@router.get("/docs")
def docs(request: Request) -> HTMLResponse:
    """Swagger UI over ``/openapi.json``, from local files only."""
    return get_swagger_ui_html(
        openapi_url=request.app.openapi_url or "/openapi.json",
        title=f"{request.app.title} API",
        swagger_js_url=f"{SWAGGER_UI}/swagger-ui-bundle.js",
        swagger_css_url=f"{SWAGGER_UI}/swagger-ui.css",
        swagger_favicon_url=FAVICON,
        swagger_ui_parameters={"validatorUrl": None},
    )
