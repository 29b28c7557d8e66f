"""What ``sim run``, ``sim sweep``, ``sim leases`` and ``queue create`` read from their
options, in one place: the trace source, the window, the cluster, the arrival-ordered
jobs, fair-share quotas, the checks and all-or-nothing writes of the output files,
and the progress bar. A bad value exits 2 naming the option."""

from __future__ import annotations

import math
import os
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import typer
from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeElapsedColumn

from neocloud import bootstrap
from neocloud.cli.common import EXIT_BAD_INPUT, bad_input, err
from neocloud.domain.fleet import Fleet

#: a trace shorter than this replays in well under a second: no bar
PROGRESS_MIN_JOBS = 2_000


def fail(message: str) -> None:
    err.print(f"[red]error[/]: {message}", highlight=False, soft_wrap=True, markup=True)
    raise typer.Exit(EXIT_BAD_INPUT)


def writable(option: str, target: Path) -> None:
    """Exit 2 before a long run when ``target`` cannot be written."""
    folder = target.parent if str(target.parent) else Path(".")
    if not folder.is_dir():
        fail(f"{option} {target}: the folder {folder} does not exist")
    if target.is_dir():
        fail(f"{option} {target}: is a folder")
    if not os.access(folder, os.W_OK):
        fail(f"{option} {target}: the folder {folder} is not writable")


def write_all(outputs: list[tuple[Path, str]]) -> None:
    """Write every output or none: each to a temporary file beside it, then renamed."""
    staged: list[tuple[Path, Path]] = []
    try:
        for target, text in outputs:
            temp = target.with_name(f".{target.name}.partial")
            temp.write_text(text)
            staged.append((temp, target))
    except OSError:
        for temp, _ in staged:
            temp.unlink(missing_ok=True)
        raise
    for temp, target in staged:
        temp.replace(target)


def window(text: str | None) -> Any:
    from neocloud.sim.workload import Window

    if text is None:
        return None
    first, sep, last = text.partition(":")
    if not sep or not first.isdigit() or not last.isdigit():
        fail(f"--window {text!r}: expected FIRST:LAST, like 40000:49999")
    if int(first) > int(last):
        fail(f"--window {text!r}: FIRST is after LAST")
    return Window(int(first), int(last))


def trace_source(text: str) -> tuple[str, Path]:
    from neocloud.cli.sim import source_of

    return source_of(text, "--trace")


def cluster_fleet(text: str) -> Fleet:
    """The fleet of ``--cluster``: gpus:N[xG], an inventory FORMAT:PATH, or a fleet file."""
    from neocloud.domain.spec import build_fleet
    from neocloud.sim.clusters import parse_gpus, uniform_fleet

    try:
        gpus = parse_gpus(text)
    except ValueError as exc:
        fail(f"--cluster {exc}")
        raise
    if gpus is not None:
        return build_fleet(uniform_fleet(*gpus), file="--cluster")
    fmt, sep, rest = text.partition(":")
    importers = bootstrap.importers()
    if sep and fmt in importers:
        return build_fleet(importers[fmt](Path(rest)), file=rest)
    if sep and not Path(text).exists():
        fail(f"--cluster {text!r}: unknown inventory format {fmt!r}; one of {', '.join(importers)}, or gpus:N[xG]")
    return bootstrap.fleet_files().load_fleet(Path(text))


def arrival_ordered(fmt: str, path: Path) -> Iterator[Any]:
    from neocloud.domain.workload import in_arrival_order

    jobs = bootstrap.trace_jobs(fmt, path)
    if bootstrap.trace_in_arrival_order(fmt):
        return jobs
    return iter(in_arrival_order(jobs))


def replay_jobs(option: str, text: str, fmt: str, path: Path) -> tuple[Any, ...]:
    """The trace's jobs in arrival order, read whole here before any replay (or any
    worker) starts: a bad row, or jobs the driver would refuse as out of order, exit 2
    naming ``option`` (given as ``text``)."""
    from neocloud.sim.sweep import arrival_disorder

    with bad_input():
        jobs = tuple(arrival_ordered(fmt, path))
    if (disorder := arrival_disorder(jobs)) is not None:
        fail(f"{option} {text}: {disorder}")
    return jobs


def quotas(given: list[str], policy: str) -> dict[str, Any]:
    """``--quota`` values as Kueue-style quotas by tenant; exit 2 naming the bad one."""
    from neocloud.scheduling.policies.fairshare import Quota

    if given and policy != "fairshare":
        fail(f"--quota {given[0]}: quotas apply to --policy fairshare, not {policy}")
    out: dict[str, Quota] = {}
    for text in given:
        tenant, sep, rest = text.partition("=")
        if not sep or not tenant.strip():
            fail(f"--quota {text!r}: expected TENANT=GPUS[,borrow=N][,lend=N][,weight=W]")
        tenant = tenant.strip()
        if tenant in out:
            fail(f"--quota {text!r}: tenant {tenant!r} has a quota already")
        nominal, *options = rest.split(",")
        fields: dict[str, Any] = {"nominal": quota_int(text, "GPUS", nominal)}
        for option in options:
            key, sep, value = option.partition("=")
            name = {"borrow": "borrowing_limit", "lend": "lending_limit", "weight": "weight"}.get(key.strip())
            if not sep or name is None:
                fail(f"--quota {text!r}: {option.strip()!r} is not borrow=N, lend=N or weight=W")
            elif name in fields:
                fail(f"--quota {text!r}: {key.strip()} is given twice")
            elif name == "weight":
                fields[name] = quota_weight(text, value)
            else:
                fields[name] = quota_int(text, key.strip(), value)
        out[tenant] = Quota(**fields)
    return out


def quota_int(text: str, what: str, value: str) -> int:
    try:
        number = int(value.strip())
    except ValueError:
        number = -1
    if number < 0:
        fail(f"--quota {text!r}: {what} {value.strip()!r} is not a whole number of GPUs, 0 or more")
    return number


def quota_weight(text: str, value: str) -> float:
    try:
        weight = float(value.strip())
    except ValueError:
        weight = math.nan
    if not 0 < weight < math.inf:
        fail(f"--quota {text!r}: weight {value.strip()!r} is not a positive number")
    return weight


@contextmanager
def progress(total: int) -> Iterator[Callable[[int], None] | None]:
    """A bar on stderr while a long replay runs on a terminal; nothing when piped."""
    if total < PROGRESS_MIN_JOBS or not err.is_terminal:
        yield None
        return
    columns = (TextColumn("replaying"), BarColumn(), MofNCompleteColumn(), TimeElapsedColumn())
    with Progress(*columns, console=err, transient=True) as bar:
        task = bar.add_task("jobs", total=total)
        step = max(total // 200, 1)
        yield lambda done: bar.update(task, completed=done) if done % step == 0 or done == total else None


@contextmanager
def count_bar(label: str, unit: str, total: int) -> Iterator[Callable[[int], None] | None]:
    """A bar over the tasks finished (a sweep's points, a study's fractions), on stderr
    on a terminal; nothing when piped."""
    if not err.is_terminal:
        yield None
        return
    columns = (TextColumn(label), BarColumn(), MofNCompleteColumn(), TextColumn(unit), TimeElapsedColumn())
    with Progress(*columns, console=err, transient=True) as bar:
        task = bar.add_task(unit, total=total)
        yield lambda done: bar.update(task, completed=done)


def check_run_options(*, placement: str, restart_s: float, repair_hours: float, estimate_error: float) -> None:
    """The replay options ``sim run`` and ``sim sweep`` share; exit 2 naming the first bad one."""
    from neocloud.placement.jobs import JobPlacement

    placements = [p.value for p in JobPlacement]
    if placement not in placements:
        fail(f"--placement {placement!r}: one of {', '.join(placements)}")
    if not 0 <= restart_s < math.inf:
        fail(f"--restart-s {restart_s}: expected a finite number of seconds, 0 or more")
    if not 0 < repair_hours < math.inf:
        fail(f"--repair-hours {repair_hours}: expected a finite number of hours above 0")
    if not 0 <= estimate_error < 1:
        fail(f"--estimate-error {estimate_error}: expected a share from 0 to below 1")


def emit(
    document: dict[str, Any],
    json_out: Path | None,
    report: Path | None,
    *,
    report_html: Callable[[], str],
    summary: Callable[[dict[str, Any]], None],
) -> None:
    """Write the JSON and the report (all or nothing), then print the summary unless
    the JSON goes to stdout (``--json -``)."""
    import json
    import sys

    from neocloud.cli.common import bad_input

    outputs: list[tuple[Path, str]] = []
    if json_out is not None:
        text = json.dumps(document, indent=2) + "\n"
        if str(json_out) == "-":
            sys.stdout.write(text)
        else:
            outputs.append((json_out, text))
    if report is not None:
        outputs.append((report, report_html()))
    with bad_input():
        write_all(outputs)
    if json_out is None or str(json_out) != "-":
        summary(document)
