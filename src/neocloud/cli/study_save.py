"""``--save NAME`` of ``plan keep-vs-lease`` and ``sim sweep``: the study recorded in the
database (``NEOCLOUD_DB``, else ./neocloud.db) as well as printed and written to files.

The name is checked before any work (a name in use exits 2 naming it, and nothing is
written); the record is stored, done, in one write after the work and before the
command writes its files, so a refusal then (another process took the name meanwhile)
also leaves nothing behind.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from pathlib import Path
from typing import Any, TypeVar

from neocloud import bootstrap
from neocloud.cli.common import actor_name, bad_input, db_url
from neocloud.domain.clock import SystemClock, to_s
from neocloud.domain.studies import StudyKind, check_name

D = TypeVar("D", bound=Mapping[str, Any])


def saver(name: str | None, kind: StudyKind, options: Mapping[str, Any]) -> Callable[[D, int], D]:
    """A function ``(result, total) -> result`` that records the study as ``name`` with
    ``options`` (the command's, as given: its inputs), once the name is known to be free
    (exit 2 naming it if not); without ``--save`` it only hands the result back."""
    inputs = {k: str(v) if isinstance(v, Path) else v for k, v in options.items() if k != "save"}
    if name is None:
        return lambda result, _total: result
    clock = SystemClock()
    with bad_input():
        check_name(name, "--save")  # before the database is opened (or created)
        studies = bootstrap.study_service(db_url(None), clock)
        studies.check_free(name, "--save")
    started_s = to_s(clock.now())

    def save(result: D, total: int) -> D:
        with bad_input():
            studies.record(
                kind, name, actor=actor_name(None), inputs=inputs, result=result, total=total, started_s=started_s
            )
        return result

    return save
