"""``neocloud serve`` (the API and the dashboard) and ``neocloud keys``."""

from __future__ import annotations

import functools
import json
import os
import socket
import sys
from pathlib import Path
from typing import Annotated

import typer
from rich.table import Table

from neocloud import bootstrap
from neocloud.api.body_limit import DEFAULT_MAX_BODY_BYTES
from neocloud.api.metrics import SCRAPE_ENV_VAR, token_problem
from neocloud.cli.common import EXIT_BAD_INPUT, actor_name, bad_input, db_url, err, stdout_console
from neocloud.cli.views import iso, short_time
from neocloud.domain.access import Role

out = stdout_console()
keys_app = typer.Typer(help="API keys: create (shown once), list, revoke.", no_args_is_help=True)
DEMO_DB = Path("neocloud-demo.db")
MIN_BODY_LIMIT = 1 << 10  # a sign-in form and the smallest requests fit
MAX_BODY_LIMIT = 1 << 30

DbOpt = Annotated[
    str | None, typer.Option("--db", help="Database URL (default: $NEOCLOUD_DB or sqlite:///neocloud.db).")
]


def serve(
    host: Annotated[str, typer.Option(help="Address to listen on.")] = "127.0.0.1",
    port: Annotated[int, typer.Option(min=1, max=65535, help="Port to listen on.")] = 8000,
    db: DbOpt = None,
    demo: Annotated[bool, typer.Option("--demo", help="Serve a fresh demo database (./neocloud-demo.db).")] = False,
    workers: Annotated[
        int, typer.Option(min=1, max=64, help="Worker processes sharing the database (one cached view each).")
    ] = 1,
    metrics_token: Annotated[
        str | None,
        typer.Option(
            "--metrics-token",
            envvar=SCRAPE_ENV_VAR,
            show_envvar=True,
            help="A bearer token that may read /metrics (besides operator keys); prefer the environment variable.",
        ),
    ] = None,
    max_body_bytes: Annotated[
        int,
        typer.Option(
            min=MIN_BODY_LIMIT,
            max=MAX_BODY_LIMIT,
            envvar=bootstrap.MAX_BODY_BYTES_ENV,
            help="Refuse request bodies over this many bytes with 413.",
        ),
    ] = DEFAULT_MAX_BODY_BYTES,
) -> None:
    """Serve the REST API (/v1, /docs, /metrics) and the dashboard (/)."""
    import uvicorn

    from neocloud.api.app import create_app

    url = db_url(db) if (db or not demo) else f"sqlite:///{DEMO_DB}"
    if metrics_token is not None and (problem := token_problem(metrics_token)) is not None:
        err.print(f"[red]error[/]: --metrics-token (or ${SCRAPE_ENV_VAR}): {problem}", highlight=False, soft_wrap=True)
        raise typer.Exit(EXIT_BAD_INPUT)
    _check_port(host, port)
    demo_key = ""
    with bad_input():
        if demo:
            demo_key = _fresh_demo(url, explicit=db is not None)
        services = bootstrap.services(url, server=True)
        services.leasing.leases()  # fail fast: schema and fleet present
    app = create_app(services, metrics_token=metrics_token, max_body_bytes=max_body_bytes)
    base = f"http://{host}:{port}"
    say = functools.partial(out.print, highlight=False, soft_wrap=True)
    say(f"neocloud serving {url}")
    say(f"  dashboard  {base}/")
    say(f"  API docs   {base}/docs")
    say(f"  metrics    {base}/metrics ({'the scrape token or ' if metrics_token else ''}an operator key)")
    if demo:
        say(f"  operator API key (shown once): [bold]{demo_key}[/]")
        say(f"  sign in to the dashboard with it, or: curl -H 'Authorization: Bearer {demo_key}' {base}/v1/leases")
        say(f"  the CLI reads the same database with: export NEOCLOUD_DB={url}  (then: neocloud lease list)")
    say("  Ctrl-C to stop")
    if workers == 1:
        uvicorn.run(app, host=host, port=port, log_level="warning")
        return
    os.environ["NEOCLOUD_DB"] = url  # the workers' factory reads them, and the token
    os.environ[bootstrap.MAX_BODY_BYTES_ENV] = str(max_body_bytes)
    if metrics_token is not None:
        os.environ[SCRAPE_ENV_VAR] = metrics_token
    uvicorn.run(
        "neocloud.bootstrap:worker_app", factory=True, workers=workers, host=host, port=port, log_level="warning"
    )


def _check_port(host: str, port: int) -> None:
    """Refuse before touching any database when the address is taken or invalid."""
    try:
        with socket.socket(socket.AF_INET6 if ":" in host else socket.AF_INET, socket.SOCK_STREAM) as probe:
            probe.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
            probe.bind((host, port))
    except OSError as exc:
        err.print(f"[red]error[/]: cannot listen on {host}:{port}: {exc.strerror or exc}", highlight=False)
        raise typer.Exit(EXIT_BAD_INPUT) from None


def _fresh_demo(url: str, explicit: bool) -> str:
    """Build the demo in a new database (the default demo file is replaced; a --db must
    be empty); the operator's API key."""
    from neocloud.domain.clock import ManualClock, SystemClock
    from neocloud.services.demo import build_demo_with_a_closed_month

    if not explicit:
        for suffix in ("", "-wal", "-shm"):
            Path(f"{DEMO_DB}{suffix}").unlink(missing_ok=True)
    now = SystemClock().now()
    clock = ManualClock(now)  # the demo's month of history is written at the instants it happened
    services = bootstrap.services(url, clock)
    return build_demo_with_a_closed_month(services, clock, now).operator


@keys_app.command("create")
def keys_create(
    tenant: Annotated[str | None, typer.Option("--tenant", help="A key for this tenant.")] = None,
    operator: Annotated[bool, typer.Option("--operator", help="An operator key (everything).")] = False,
    label: Annotated[str, typer.Option("--label", help="A note to recognise the key by.")] = "",
    db: DbOpt = None,
    actor: Annotated[str | None, typer.Option("--actor")] = None,
) -> None:
    """Create a key; its token is printed once and only its hash is stored."""
    if operator == (tenant is not None):
        err.print("[red]error[/]: give exactly one of --tenant NAME or --operator", highlight=False)
        raise typer.Exit(EXIT_BAD_INPUT)
    with bad_input():
        services = bootstrap.services(db_url(db))
        role = Role.OPERATOR if operator else Role.TENANT
        key, token = services.keys.create(
            role=role, tenant=tenant, actor=actor_name(actor), known_tenants=services.leasing.tenants(), label=label
        )
    out.print(
        f"key {key.id} ({role.value}{f' {tenant}' if tenant else ''}) created. Token, shown once:", highlight=False
    )
    sys.stdout.write(token + "\n")


@keys_app.command("list")
def keys_list(db: DbOpt = None, as_json: Annotated[bool, typer.Option("--json")] = False) -> None:
    """List keys (never their secrets)."""
    with bad_input():
        keys = bootstrap.services(db_url(db)).keys.list()
    rows = [
        {
            "id": k.id,
            "role": k.role.value,
            "tenant": k.tenant,
            "label": k.label,
            "created": iso(k.created_s),
            "created_by": k.created_by,
            "revoked": iso(k.revoked_s) if k.revoked_s else None,
        }
        for k in keys
    ]
    if as_json:
        sys.stdout.write(json.dumps(rows, indent=2) + "\n")
        return
    table = Table("id", "role", "tenant", "label", "created", "revoked", title=f"{len(rows)} key(s)")
    for k, r in zip(keys, rows, strict=True):
        table.add_row(
            r["id"],
            r["role"],
            r["tenant"] or "",
            r["label"],
            short_time(k.created_s),
            short_time(k.revoked_s) if k.revoked_s else "",
        )
    out.print(table)


@keys_app.command("revoke")
def keys_revoke(key_id: str, db: DbOpt = None, actor: Annotated[str | None, typer.Option("--actor")] = None) -> None:
    """Revoke a key: requests with it get 401 from now on."""
    with bad_input():
        key = bootstrap.services(db_url(db)).keys.revoke(key_id, actor=actor_name(actor))
    out.print(f"key {key.id} revoked", highlight=False)
