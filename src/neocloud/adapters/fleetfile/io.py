"""Read and write fleet files: a YAML spec plus the node tables (CSV) it references.

Loading is all-or-nothing: every structural and semantic error of the YAML and its
tables is collected and raised together as :class:`SpecError`; nothing is returned
half-loaded. Writing goes to a temporary file renamed into place, so a crash never
leaves a truncated fleet file.
"""

from __future__ import annotations

import csv
import os
import tempfile
from collections.abc import Iterable, Iterator
from contextlib import contextmanager
from dataclasses import MISSING, fields
from pathlib import Path
from typing import IO, Any

import yaml

from neocloud.adapters.fleetfile.schema import parse_document, to_spec
from neocloud.domain.errors import FieldError, SpecError
from neocloud.domain.fleet import Fleet
from neocloud.domain.health import Health
from neocloud.domain.spec import (
    FleetSpec,
    GpuModelSpec,
    NodeGroupSpec,
    NodeOverride,
    NodeSpec,
    NodeTable,
    SiteSpec,
    TableRow,
    build_fleet,
)

_BaseLoader: Any = getattr(yaml, "CSafeLoader", yaml.SafeLoader)
_MERGE_TAG = "tag:yaml.org,2002:merge"


class _Loader(_BaseLoader):  # type: ignore[misc]
    """The safe loader, refusing a key written twice in one mapping (YAML keeps the last, silently)."""

    def construct_mapping(self, node: yaml.MappingNode, deep: bool = False) -> dict[Any, Any]:
        seen: dict[Any, yaml.Node] = {}
        for key_node, _ in node.value:
            if key_node.tag == _MERGE_TAG or not isinstance(key_node, yaml.ScalarNode):
                continue
            first = seen.setdefault(self.construct_object(key_node, deep=deep), key_node)
            if first is not key_node:
                raise yaml.constructor.ConstructorError(
                    None,
                    None,
                    f"duplicate key {key_node.value!r} (first at line {first.start_mark.line + 1})",
                    key_node.start_mark,
                )
        mapping: dict[Any, Any] = super().construct_mapping(node, deep=deep)
        return mapping


_Dumper: Any = getattr(yaml, "CSafeDumper", yaml.SafeDumper)

TABLE_REQUIRED = ("id", "gpu_model", "site", "pod", "block")
#: ``gpu_serials``: the node's GPU serials in GPU index order, separated by spaces.
TABLE_OPTIONAL = ("serial", "gpu_count", "rack", "health", "gpu_serials")
TABLE_COLUMNS = TABLE_REQUIRED + TABLE_OPTIONAL
_HEALTH = {h.value: h for h in Health}


def load_fleet(path: str | os.PathLike[str]) -> Fleet:
    """Load, expand and validate a fleet file; raise :class:`SpecError` with every problem."""
    p = Path(path)
    spec = load_spec(p)
    return build_fleet(spec, file=str(p), table_dir=str(p.parent) if str(p.parent) != "." else "")


def load_spec(path: str | os.PathLike[str]) -> FleetSpec:
    """Parse the YAML and read its node tables; structural errors raise :class:`SpecError`."""
    p = Path(path)
    file = str(p)
    try:
        with p.open("rb") as fh:
            data = yaml.load(fh, Loader=_Loader)  # noqa: S506 - a safe loader
    except FileNotFoundError:
        raise SpecError([FieldError(file, "", "file not found")]) from None
    except IsADirectoryError:
        raise SpecError([FieldError(file, "", "is a directory, not a fleet file")]) from None
    except yaml.YAMLError as exc:
        raise SpecError([_yaml_error(file, exc)]) from None
    doc, errors = parse_document(data, file)
    if doc is None:
        raise SpecError(errors)
    spec = to_spec(doc)
    tables: list[NodeTable] = []
    for ti, table in enumerate(spec.node_tables):
        rows, table_errors = read_node_table(p.parent / table.path, f"node_tables[{ti}].path", file)
        errors.extend(table_errors)
        tables.append(NodeTable(table.path, tuple(rows)))
    if errors:
        raise SpecError(errors)
    return FleetSpec(spec.name, spec.gpu_models, spec.sites, tuple(tables), spec.overrides, spec.version)


def _yaml_error(file: str, exc: yaml.YAMLError) -> FieldError:
    mark = getattr(exc, "problem_mark", None)
    where = f"line {mark.line + 1}, column {mark.column + 1}" if mark is not None else ""
    problem = getattr(exc, "problem", None) or str(exc)
    return FieldError(file, where, f"invalid YAML: {problem}")


def read_node_table(path: Path, ref: str, spec_file: str) -> tuple[list[TableRow], list[FieldError]]:
    """Rows of a node table; row numbers are line numbers (the header is line 1)."""
    file = str(path)
    try:
        fh = path.open(newline="", encoding="utf-8-sig")  # -sig: spreadsheets' "CSV UTF-8" starts with a BOM
    except FileNotFoundError:
        return [], [FieldError(spec_file, ref, f"node table {file} not found")]
    except IsADirectoryError:
        return [], [FieldError(spec_file, ref, f"node table {file} is a directory")]
    with fh:
        reader = csv.reader(fh)
        try:
            header = [h.strip() for h in next(reader, [])]
            problems = _header_problems(header)
            if problems:
                return [], [FieldError(file, "row 1 (header)", p) for p in problems]
            return _rows(reader, header, file)
        except UnicodeDecodeError:
            return [], [_not_utf8(path)]


def _not_utf8(path: Path) -> FieldError:
    data = path.read_bytes()
    try:
        data.decode("utf-8-sig")
    except UnicodeDecodeError as exc:
        line = data.count(b"\n", 0, exc.start) + 1
        return FieldError(str(path), f"row {line}", f"not valid UTF-8 (byte 0x{data[exc.start]:02x})")
    return FieldError(str(path), "", "not valid UTF-8")


def _header_problems(header: list[str]) -> list[str]:
    out = [f"missing column {c!r}" for c in TABLE_REQUIRED if c not in header]
    out += [f"unknown column {c!r}; allowed: {', '.join(TABLE_COLUMNS)}" for c in header if c not in TABLE_COLUMNS]
    dupes = {c for c in header if header.count(c) > 1}
    out += [f"column {c!r} appears more than once" for c in sorted(dupes)]
    return out


def _rows(reader: Iterable[list[str]], header: list[str], file: str) -> tuple[list[TableRow], list[FieldError]]:
    rows: list[TableRow] = []
    errors: list[FieldError] = []
    idx = {c: header.index(c) for c in header}
    width = len(header)
    opt = {c: idx.get(c) for c in TABLE_OPTIONAL}
    for line, values in enumerate(reader, start=2):
        if not values or (len(values) == 1 and not values[0].strip()):
            continue
        if len(values) != width:
            errors.append(FieldError(file, f"row {line}", f"{len(values)} values, expected {width}"))
            continue
        row, problems = _row(line, values, idx, opt)
        if problems:
            errors.extend(FieldError(file, f"row {line}, column {c}", m) for c, m in problems)
        elif row is not None:
            rows.append(row)
    return rows, errors


def _row(
    line: int, values: list[str], idx: dict[str, int], opt: dict[str, int | None]
) -> tuple[TableRow | None, list[tuple[str, str]]]:
    problems: list[tuple[str, str]] = []
    req = {c: values[idx[c]].strip() for c in TABLE_REQUIRED}
    problems += [(c, "empty value") for c, v in req.items() if not v]
    got = {c: (values[i].strip() if i is not None else "") for c, i in opt.items()}
    count: int | None = None
    if got["gpu_count"]:
        try:
            count = int(got["gpu_count"])
        except ValueError:
            problems.append(("gpu_count", f"expected a whole number, got {got['gpu_count']!r}"))
    health = _HEALTH.get(got["health"] or "healthy")
    if health is None:
        problems.append(("health", f"unknown health {got['health']!r}; allowed: {', '.join(_HEALTH)}"))
    if problems:
        return None, problems
    return (
        TableRow(
            row=line,
            id=req["id"],
            gpu_model=req["gpu_model"],
            site=req["site"],
            pod=req["pod"],
            block=req["block"],
            serial=got["serial"] or None,
            gpu_count=count,
            rack=got["rack"] or None,
            health=health or Health.HEALTHY,
            gpu_serials=tuple(got["gpu_serials"].split()),
        ),
        [],
    )


# -- writing ---------------------------------------------------------------


def save_spec(spec: FleetSpec, path: str | os.PathLike[str]) -> list[Path]:
    """Write the YAML and its node tables atomically; return the paths written."""
    p = Path(path)
    written: list[Path] = []
    for table in spec.node_tables:
        target = p.parent / table.path
        with _atomic(target) as fh:
            write_node_table(table.rows, fh)
        written.append(target)
    with _atomic(p) as fh:
        fh.write(dump_spec(spec))
    written.append(p)
    return written


def dump_spec(spec: FleetSpec) -> str:
    """The YAML text of ``spec`` (defaults omitted, keys in schema order)."""
    text: str = yaml.dump(spec_to_data(spec), Dumper=_Dumper, sort_keys=False, width=120)
    return text


def spec_to_data(spec: FleetSpec) -> dict[str, Any]:
    """Plain data for ``spec``, omitting fields left at their defaults."""
    data: dict[str, Any] = {"version": spec.version}
    if spec.name is not None:
        data["name"] = spec.name
    if spec.gpu_models:
        data["gpu_models"] = [_plain(m, GpuModelSpec) for m in spec.gpu_models]
    data["sites"] = [_site_data(s) for s in spec.sites]
    if spec.node_tables:
        data["node_tables"] = [{"path": t.path} for t in spec.node_tables]
    if spec.overrides:
        data["overrides"] = [_plain(o, NodeOverride) for o in spec.overrides]
    return data


def _site_data(site: SiteSpec) -> dict[str, Any]:
    out: dict[str, Any] = {
        "name": site.name,
        "region": site.region,
        "power_mw": site.power_mw,
        "pue": site.pue,
        "electricity_usd_per_kwh": site.electricity_usd_per_kwh,
    }
    if site.facility_power_mw is not None:
        out["facility_power_mw"] = site.facility_power_mw
    if site.rack_power_kw is not None:
        out["rack_power_kw"] = site.rack_power_kw
    out["pods"] = [{"name": pod.name, "blocks": [_block_data(b) for b in pod.blocks]} for pod in site.pods]
    return out


def _block_data(block: Any) -> dict[str, Any]:
    out: dict[str, Any] = {"name": block.name}
    if block.racks:
        out["racks"] = [
            {"name": r.name, **({"power_kw": r.power_kw} if r.power_kw is not None else {})} for r in block.racks
        ]
    if block.node_groups:
        out["node_groups"] = [_plain(g, NodeGroupSpec) for g in block.node_groups]
    if block.nodes:
        out["nodes"] = [_plain(n, NodeSpec) for n in block.nodes]
    return out


def _plain(obj: Any, cls: type) -> dict[str, Any]:
    """Fields of a spec dataclass that differ from their defaults (required always kept)."""
    out: dict[str, Any] = {}
    for f in fields(cls):
        value = getattr(obj, f.name)
        if f.default is not MISSING and value == f.default:
            continue
        out[f.name] = value.value if isinstance(value, Health) else list(value) if isinstance(value, tuple) else value
    return out


def write_node_table(rows: Iterable[TableRow], fh: IO[str]) -> None:
    """Write rows as CSV with every column (header first); ``gpu_serials`` only when
    some row has them, so a table without GPU serials keeps its familiar columns."""
    writer = csv.writer(fh, lineterminator="\n")
    # Python < 3.12 quotes only the line terminator's characters: a lone CR in a cell
    # would split the row when read back, so such rows are written fully quoted.
    quoted = csv.writer(fh, lineterminator="\n", quoting=csv.QUOTE_ALL)
    rows = list(rows)
    with_gpus = any(r.gpu_serials for r in rows)
    writer.writerow(TABLE_COLUMNS if with_gpus else TABLE_COLUMNS[:-1])
    for r in rows:
        values = [
            r.id,
            r.gpu_model,
            r.site,
            r.pod,
            r.block,
            r.serial or "",
            "" if r.gpu_count is None else r.gpu_count,
            r.rack or "",
            r.health.value,
            *([" ".join(r.gpu_serials)] if with_gpus else []),
        ]
        (quoted if any("\r" in str(v) for v in values) else writer).writerow(values)


@contextmanager
def _atomic(target: Path) -> Iterator[IO[str]]:
    target.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(prefix=f".{target.name}.", dir=target.parent)
    umask = os.umask(0)
    os.umask(umask)
    os.chmod(tmp, 0o666 & ~umask)
    try:
        with os.fdopen(fd, "w", encoding="utf-8", newline="") as fh:
            yield fh
            fh.flush()
            os.fsync(fh.fileno())
        os.replace(tmp, target)
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise
