"""The dashboard served by uvicorn on 127.0.0.1 (a free port, a background thread)
over the demo fleet, and Debian's Chromium driven by Playwright.

Playwright's own browser downloads are not used: Chromium comes from Debian
(``apt-get install chromium``, ``.ci/run`` does it). Without Chromium or the
``playwright`` package the tests are skipped with the reason, unless
``NEOCLOUD_REQUIRE_BROWSER=1`` (CI sets it), which turns the skip into a failure.
"""

from __future__ import annotations

import os
import shutil
import socket
import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest
import uvicorn

from neocloud.services.container import Services
from neocloud.services.demo import DemoKeys
from tests.web_demo import demo_app

REQUIRE_ENV = "NEOCLOUD_REQUIRE_BROWSER"
CHROMIUM = os.environ.get("NEOCLOUD_CHROMIUM", "/usr/bin/chromium")
CHROMIUM_ARGS = [
    "--no-sandbox",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
    "--no-first-run",
    "--disable-sync",
    "--disable-quic",
]
SCREENSHOTS = Path(__file__).resolve().parents[2] / "artifacts" / "screenshots"
WAIT_MS = 15_000


def _unavailable(reason: str) -> None:
    if os.environ.get(REQUIRE_ENV) == "1":
        pytest.fail(f"browser tests are required here ({REQUIRE_ENV}=1) but cannot run: {reason}", pytrace=False)
    pytest.skip(f"browser tests skipped: {reason}")


@dataclass(frozen=True, slots=True)
class Served:
    url: str
    services: Services
    keys: DemoKeys


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port: int = s.getsockname()[1]
        return port


@contextmanager
def serving(app: Any, services: Services, keys: DemoKeys, name: str = "dashboard") -> Iterator[Served]:
    """``app`` served by uvicorn on 127.0.0.1 (a free port, a daemon thread) while the
    block runs; refused after 20 s without a start."""
    port = _free_port()
    server = uvicorn.Server(uvicorn.Config(app, host="127.0.0.1", port=port, log_level="warning", lifespan="off"))
    thread = threading.Thread(target=server.run, name=name, daemon=True)
    thread.start()
    deadline = time.monotonic() + 20
    while not server.started:
        if time.monotonic() > deadline or not thread.is_alive():
            server.should_exit = True
            raise RuntimeError(f"the {name} did not start on 127.0.0.1:{port} within 20 s")
        time.sleep(0.05)
    try:
        yield Served(f"http://127.0.0.1:{port}", services, keys)
    finally:
        server.should_exit = True
        thread.join(timeout=10)


@pytest.fixture(scope="session")
def served() -> Iterator[Served]:
    with serving(*demo_app()) as s:
        yield s


@pytest.fixture(scope="session")
def browser() -> Iterator[Any]:
    try:
        from playwright.sync_api import sync_playwright
    except ImportError:
        _unavailable("the playwright package is not installed (pip install playwright)")
        raise AssertionError("unreachable") from None
    if not (Path(CHROMIUM).exists() or shutil.which(CHROMIUM)):
        _unavailable(f"no Chromium at {CHROMIUM} (apt-get install chromium)")
    with sync_playwright() as pw:
        try:
            launched = pw.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS, headless=True)
        except Exception as e:  # the launcher's errors are plain exceptions
            _unavailable(f"Chromium at {CHROMIUM} did not start: {e}")
            raise AssertionError("unreachable") from e
        try:
            yield launched
        finally:
            launched.close()


class Console:
    """Errors the page reported: console errors, uncaught exceptions, failed requests
    (but not those the browser cancelled itself, ``net::ERR_ABORTED``: a favicon still
    loading when a click navigates away)."""

    def __init__(self, page: Any) -> None:
        self.errors: list[str] = []
        page.on("console", lambda m: self.errors.append(f"console {m.type}: {m.text}") if m.type == "error" else None)
        page.on("pageerror", lambda e: self.errors.append(f"page error: {e}"))
        page.on("requestfailed", self._request_failed)

    def _request_failed(self, request: Any) -> None:
        if request.failure != "net::ERR_ABORTED":
            self.errors.append(f"request failed: {request.url} {request.failure}")


@pytest.fixture
def page(browser: Any) -> Iterator[Any]:
    context = browser.new_context(viewport={"width": 1400, "height": 900})
    context.set_default_timeout(WAIT_MS)
    opened = context.new_page()
    opened.console = Console(opened)
    try:
        yield opened
    finally:
        context.close()


def sign_in(page: Any, served: Served, token: str) -> None:
    page.goto(f"{served.url}/login")
    page.fill("#api_key", token)
    page.click("button[type=submit]")
    page.wait_for_url(f"{served.url}/")


def shot(page: Any, name: str) -> Path:
    """A full-page screenshot under artifacts/screenshots/ (gitignored)."""
    SCREENSHOTS.mkdir(parents=True, exist_ok=True)
    path = SCREENSHOTS / f"{name}.png"
    page.screenshot(path=str(path), full_page=True)
    return path
