"""The rules of GPU serials in an expanded fleet, checked once the spec is expanded.

A node carries no GPU serials (the inventory tracks nodes only) or exactly one per GPU
in GPU index order. Every GPU serial is unique across the fleet, non-empty, free of
whitespace (a node table lists them separated by spaces), and never a node's id or
serial: the custody trail looks up any of the three, so each must name one thing.

The common case costs a few passes over sets and strings (measured in
``benchmarks/gpu_serials.py``); only when it fails does a per-GPU pass find each
problem and place it where the serials were written: a list (``...gpu_serials[k]``), a
group's pattern (``...gpu_serial_pattern``, reported once with how many more clashes it
makes, as a pattern repeats one mistake per node) or a node table's column.
"""

from __future__ import annotations

import re
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from itertools import chain

from neocloud.domain.fleet import Node

_WHITESPACE = re.compile(r"\s")


def gpu_serial_problems(
    nodes: Sequence[Node], written: Mapping[str, tuple[str, str | None]]
) -> list[tuple[str, str | None, str]]:
    """``(location, file, message)`` of every problem, one per place serials were
    written. ``written``: per node id with GPU serials, the ``(path, file)`` of the
    place that gave them (a group, a node, a table row, ``overrides[i]``; ``file`` for
    a node table, else ``None``)."""
    if _all_fine(nodes):
        return []
    names = {n.id: n.id for n in nodes} | {n.serial: n.id for n in nodes}
    first: dict[str, tuple[str, int, str]] = {}  # serial -> node, GPU index, where
    problems: dict[tuple[str, str | None], list[str]] = {}
    for node in nodes:
        place = written.get(node.id)
        if place is None or not node.gpu_serials:
            continue
        origin = _origin_of(*place)
        if len(node.gpu_serials) != node.gpu_count:
            problems.setdefault((origin.location, origin.file), []).append(
                f"node {node.id!r} has {len(node.gpu_serials)} GPU serials for {node.gpu_count} GPUs; "
                "give one per GPU, in GPU index order, or none"
            )
            continue
        for k, serial in enumerate(node.gpu_serials):
            clash = _clash(node.id, k, serial, first, names)
            if clash is not None:
                problems.setdefault((origin.field(k), origin.file), []).append(clash)
                continue
            first[serial] = (node.id, k, origin.at(k))
    out = []
    for (location, file), found in problems.items():
        more = f" (and {len(found) - 1} more like it)" if len(found) > 1 else ""
        out.append((location, file, found[0] + more))
    return out


def _all_fine(nodes: Sequence[Node]) -> bool:
    """Every rule holds, checked without placing anything."""
    listed = [n for n in nodes if n.gpu_serials]
    if any(len(n.gpu_serials) != n.gpu_count for n in listed):
        return False
    distinct = set(chain.from_iterable(n.gpu_serials for n in listed))
    if len(distinct) != sum(n.gpu_count for n in listed) or "" in distinct:
        return False
    if _WHITESPACE.search("".join(distinct)) is not None:
        return False
    return not any(n.id in distinct or n.serial in distinct for n in nodes)


def _clash(node: str, k: int, serial: str, first: dict[str, tuple[str, int, str]], names: dict[str, str]) -> str | None:
    if not serial or serial.split() != [serial]:
        return f"node {node!r} GPU {k}: GPU serial {serial!r} is empty or holds whitespace"
    seen = first.get(serial)
    if seen is not None:
        other, j, where = seen
        first_use = f"GPU {j} of node {other!r} ({where})"
        return f"node {node!r} GPU {k}: duplicate GPU serial {serial!r}, already {first_use}"
    if serial in names:
        return (
            f"node {node!r} GPU {k}: GPU serial {serial!r} is also the id or serial of node "
            f"{names[serial]!r}; the custody trail looks up either, so they must differ"
        )
    return None


@dataclass(frozen=True, slots=True)
class _Origin:
    """Where a node's GPU serials were written: a list (each GPU at ``location[k]``) or
    a pattern or table cell (every GPU at ``location``)."""

    location: str
    file: str | None
    listed: bool

    def field(self, k: int) -> str:
        """Where GPU ``k``'s serial was written."""
        return f"{self.location}[{k}]" if self.listed else self.location

    def at(self, k: int) -> str:
        """The same, with the file when it is not the spec (a node table)."""
        return self.field(k) if self.file is None else f"{self.file} {self.field(k)}"


def _origin_of(path: str, file: str | None) -> _Origin:
    """The place behind a ``(path, file)``: an override's or an explicit node's list, a
    table row's column, or a group's pattern."""
    if path.startswith("row "):
        return _Origin(f"{path}, column gpu_serials", file, False)
    if path.rsplit(".", 1)[-1].startswith("node_groups["):
        return _Origin(f"{path}.gpu_serial_pattern", file, False)
    return _Origin(f"{path}.gpu_serials", file, True)
