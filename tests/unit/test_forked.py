"""Jobs shared with a forked child (outputs/forked.py): the child runs them while the
parent works, a failed child's jobs are run again by the parent, an error in the parent's
block stops the child; and a run's figures are the same bytes drawn in a child or not."""

from __future__ import annotations

import os
import sys
import threading
from pathlib import Path

import pytest

from silkroute_sim.outputs import forked

FORKS = sys.platform == "linux" and forked.usable_cores() > 1
needs_fork = pytest.mark.skipif(not FORKS, reason="forks only on Linux with 2+ cores")


@pytest.fixture
def one_thread(monkeypatch: pytest.MonkeyPatch) -> None:
    """Fork as a command would, whatever threads earlier tests of the session left
    behind (a Dask cluster's, say): the jobs here only write files."""
    monkeypatch.setattr(forked, "only_thread", lambda: True)


def _writer(path: Path) -> object:
    def job() -> None:
        path.write_text(str(os.getpid()))

    return job


@needs_fork
def test_jobs_run_in_a_child_while_the_block_runs(tmp_path, one_thread) -> None:
    files = [tmp_path / "a", tmp_path / "b"]
    with forked.jobs_in_child([_writer(f) for f in files]) as in_child:
        assert in_child
        mine = os.getpid()
    assert [f.read_text() != str(mine) for f in files] == [True, True]
    assert len({f.read_text() for f in files}) == 1  # one child ran both


@needs_fork
def test_a_failed_child_has_its_jobs_run_here(tmp_path, one_thread) -> None:
    parent = os.getpid()
    out = tmp_path / "only-here"

    def job() -> None:
        if os.getpid() != parent:
            raise RuntimeError("fails in the child")
        out.write_text("parent")

    with forked.jobs_in_child([job]) as in_child:
        assert in_child
    assert out.read_text() == "parent"


@needs_fork
def test_an_error_in_the_block_stops_the_child_and_runs_nothing_here(tmp_path, one_thread) -> None:
    ran = tmp_path / "ran"
    started = tmp_path / "started"

    def slow() -> None:
        started.write_text("x")
        threading.Event().wait(30)
        ran.write_text(str(os.getpid()))

    with pytest.raises(ValueError), forked.jobs_in_child([slow]):
        raise ValueError("the parent's work failed")
    assert not ran.exists()


def test_without_a_child_the_jobs_run_here_after_the_block(tmp_path, monkeypatch) -> None:
    monkeypatch.setattr(forked, "ENABLED", False)
    out = tmp_path / "a"
    with forked.jobs_in_child([_writer(out)]) as in_child:
        assert not in_child
        assert not out.exists()  # after the block, not before
    assert out.read_text() == str(os.getpid())


def test_no_fork_beside_another_thread(monkeypatch) -> None:
    stop = threading.Event()
    other = threading.Thread(target=stop.wait)
    other.start()
    try:
        assert not forked.can_fork()
    finally:
        stop.set()
        other.join()


@pytest.mark.slow
def test_run_figures_are_the_same_bytes_drawn_in_a_child_or_not(
    tmp_path, monkeypatch, one_thread
) -> None:
    from silkroute_sim.analysis.tables import Tables
    from silkroute_sim.config.loader import load_config
    from silkroute_sim.model.simulate import simulate
    from silkroute_sim.outputs.plots.run import CHILD_FIGURES, all_run_plots

    result = simulate(load_config("baseline", days=20, warmup_days=3))
    tables = Tables(result)
    drawn = {}
    for enabled in (True, False):
        monkeypatch.setattr(forked, "ENABLED", enabled)
        folder = tmp_path / str(enabled)
        paths = all_run_plots(result, tables, folder)
        assert [p.parent for p in paths] == [folder] * len(paths)
        drawn[enabled] = {p.name: p.read_bytes() for p in paths}
    assert drawn[True] == drawn[False]
    assert {f"{name}.png" for name in CHILD_FIGURES} <= set(drawn[True])


def test_tables_written_beside_are_the_same_files(tmp_path, monkeypatch, one_thread) -> None:
    from silkroute_sim.analysis.tables import Tables
    from silkroute_sim.config.loader import load_config
    from silkroute_sim.model.simulate import simulate
    from silkroute_sim.outputs.run_folder import BESIDE, write_tables

    result = simulate(load_config("baseline", days=15, warmup_days=2))
    tables = Tables(result)
    files = {}
    for enabled in (True, False):
        monkeypatch.setattr(forked, "ENABLED", enabled)
        folder = tmp_path / str(enabled)
        folder.mkdir()
        written = write_tables(result, tables, folder, beside=True)
        files[enabled] = ({p.name: p.read_bytes() for p in folder.iterdir()}, written)
    assert files[True] == files[False]
    assert {f"{name}.csv" for name in BESIDE} <= set(files[True][0])


@pytest.mark.slow
def test_a_summary_run_keeps_the_shipment_columns_its_figures_read(
    tmp_path, monkeypatch, one_thread
) -> None:
    """A run folder at ``records="summary"`` that frees its logs keeps only the shipment
    columns of :data:`FIGURE_SHIPMENT_COLUMNS` once its KPIs are computed; its figures
    are the same bytes as those drawn from the full tables (a figure reading any other
    column would fail here: no child to fall back from)."""
    from silkroute_sim.analysis.tables import Tables
    from silkroute_sim.config.loader import load_config
    from silkroute_sim.model.simulate import simulate
    from silkroute_sim.outputs.plots.run import FIGURE_SHIPMENT_COLUMNS, all_run_plots
    from silkroute_sim.outputs.run_folder import write_run

    monkeypatch.setattr(forked, "ENABLED", False)
    cfg = load_config("baseline", days=20, warmup_days=3)
    result = simulate(cfg)
    paths = all_run_plots(result, Tables(result), tmp_path / "full")
    full = {p.name: p.read_bytes() for p in paths}
    folder, tables, _ = write_run(simulate(cfg), tmp_path / "run", records="summary", release=True)
    assert set(tables.shipments.columns) <= FIGURE_SHIPMENT_COLUMNS
    assert "arrived_h" not in tables.shipments  # read by the KPIs only
    drawn = {p.name: p.read_bytes() for p in (folder / "plots").glob("*.png")}
    assert drawn == full
