"""A preset's capacity is built once per process, not per request (review of issue 10:
any key could make the server build colossus-2's 550k GPUs on every plan)."""

from __future__ import annotations

import pytest

from neocloud.services import serving


def test_a_preset_is_built_once_and_each_caller_gets_its_own_copy(monkeypatch: pytest.MonkeyPatch) -> None:
    built: list[str] = []
    real = serving.build_fleet

    def counting(spec, **kw):  # type: ignore[no-untyped-def]
        built.append(kw.get("file", ""))
        return real(spec, **kw)

    serving._preset_capacity.cache_clear()
    monkeypatch.setattr(serving, "build_fleet", counting)
    first = serving._of_preset("demo")
    first.gpus.clear()  # type: ignore[attr-defined]
    second = serving._of_preset("demo")
    assert built == ["preset demo"]
    assert second.total > 0
