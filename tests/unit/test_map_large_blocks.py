"""The command's memory setting: blocks of 128 KiB and more mapped on their own (glibc)."""

from __future__ import annotations

from types import SimpleNamespace

import pytest


class _FakeMallopt:
    def __init__(self) -> None:
        self.calls: list[tuple[int, int]] = []
        self.argtypes: list[object] = []

    def __call__(self, param: int, value: int) -> int:
        self.calls.append((param, value))
        return 1


def test_the_command_maps_large_blocks_where_glibc_runs_it(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    import ctypes
    import sys

    from silkroute_sim.cli import common as app

    fake = _FakeMallopt()
    monkeypatch.setattr(ctypes, "CDLL", lambda _name: SimpleNamespace(mallopt=fake))
    monkeypatch.setattr(sys, "platform", "linux")
    for name in ("MALLOC_MMAP_THRESHOLD_", "GLIBC_TUNABLES"):
        monkeypatch.delenv(name, raising=False)
    assert app.map_large_blocks() is True
    assert fake.calls == [(-3, 1 << 17)]  # M_MMAP_THRESHOLD, 128 KiB
    assert fake.argtypes == [ctypes.c_int, ctypes.c_int]
    # the user's own setting stands, and elsewhere than Linux nothing is called
    monkeypatch.setenv("GLIBC_TUNABLES", "glibc.malloc.mmap_threshold=65536")
    assert app.map_large_blocks() is False
    monkeypatch.delenv("GLIBC_TUNABLES")
    monkeypatch.setenv("MALLOC_MMAP_THRESHOLD_", "65536")
    assert app.map_large_blocks() is False
    monkeypatch.delenv("MALLOC_MMAP_THRESHOLD_")
    monkeypatch.setattr(sys, "platform", "darwin")
    assert app.map_large_blocks() is False
    assert len(fake.calls) == 1


def test_a_c_library_without_mallopt_changes_nothing(monkeypatch: pytest.MonkeyPatch) -> None:
    import ctypes
    import sys

    from silkroute_sim.cli import common as app

    monkeypatch.setattr(ctypes, "CDLL", lambda _name: SimpleNamespace())  # musl, say
    monkeypatch.setattr(sys, "platform", "linux")
    monkeypatch.delenv("MALLOC_MMAP_THRESHOLD_", raising=False)
    monkeypatch.delenv("GLIBC_TUNABLES", raising=False)
    assert app.map_large_blocks() is False


def test_a_run_maps_from_1_mib_once_its_tables_are_built(
    tmp_path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """``silkroute run`` simulates and builds its tables with blocks from 128 KiB mapped
    on their own, then writes its files and figures with the threshold at 1 MiB (cheaper
    there): the switch comes after the tables, before the first file."""
    from silkroute_sim.cli import common, run
    from silkroute_sim.config.loader import load_config

    out = tmp_path / "out"
    seen: list[tuple[int, bool]] = []

    def fake(size: int = common.LARGE_BLOCK_BYTES) -> bool:
        # the folder is filled beside ``out`` and moved there: look at both
        seen.append((size, any(tmp_path.rglob("*.csv"))))
        return True

    monkeypatch.setattr(run, "map_large_blocks", fake)
    cfg = load_config("baseline", days=2, warmup_days=0)
    run._run_one(cfg, out, plots=False, force=False, quiet=True)
    assert seen == [(1 << 20, False)]  # once, before any table file
    assert (out / "summary.csv").is_file()
