"""Jobs shared with a forked child (outputs/forked.py): the child runs them while the
parent works, the parent takes those the child has not reached (each job runs once), a
failed child's jobs are run again by the parent, an error in the parent's block stops the
child; and a run's figures are the same bytes whichever process draws each."""

from __future__ import annotations

import os
import sys
import threading
import time
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


def _wait_for(*paths: Path, seconds: float = 30) -> None:
    """Wait until every one of ``paths`` exists (written by the other process)."""
    give_up = time.monotonic() + seconds
    while not all(p.exists() for p in paths):
        assert time.monotonic() < give_up, f"never written: {paths}"
        time.sleep(0.01)


@needs_fork
def test_jobs_run_in_a_child_while_the_block_runs(tmp_path, one_thread) -> None:
    files = [tmp_path / "a", tmp_path / "b"]
    with forked.jobs_in_child([_writer(f) for f in files]) as in_child:
        assert in_child
        mine = os.getpid()
        _wait_for(*files)  # a long block: the child takes every job meanwhile
    assert [f.read_text() != str(mine) for f in files] == [True, True]
    assert len({f.read_text() for f in files}) == 1  # one child ran both


@needs_fork
def test_after_the_block_the_parent_takes_the_jobs_the_child_has_not(tmp_path, one_thread) -> None:
    """The child is held in the first job until the last has run: the parent, done with
    its block, takes every job between (each job runs once, by one process)."""
    release = tmp_path / "release"
    runs = tmp_path / "runs"
    runs.mkdir()

    def job(number: int) -> object:
        def run() -> None:
            (runs / f"{number}-{os.getpid()}").write_text("")
            if number == 0:
                _wait_for(release)
            if number == 3:
                release.write_text("")

        return run

    with forked.jobs_in_child([job(n) for n in range(4)]) as in_child:
        assert in_child
        give_up = time.monotonic() + 30  # until the child is in the first job
        while not any(p.name.startswith("0-") for p in runs.iterdir()):
            assert time.monotonic() < give_up, "the child never started"
            time.sleep(0.01)
    done = sorted(p.name.split("-") for p in runs.iterdir())
    assert [number for number, _ in done] == ["0", "1", "2", "3"]  # each once
    by = dict(done)
    assert by["0"] != str(os.getpid())  # the child's first job
    assert by["1"] == by["2"] == by["3"] == str(os.getpid())  # the rest here


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
def test_a_failed_child_leaves_the_parent_only_the_jobs_it_has_not_run(
    tmp_path, one_thread
) -> None:
    """The child fails in its first job once the parent has run the second: the parent
    runs the first again, not the second."""
    parent = os.getpid()
    log = tmp_path / "log"
    log.mkdir()
    second_done = tmp_path / "second-done"

    def first() -> None:
        if os.getpid() != parent:
            (tmp_path / "first-started").write_text("")
            _wait_for(second_done)
            raise RuntimeError("fails in the child")
        (log / "first-here").write_text("")

    def second() -> None:
        with open(log / f"second-{os.getpid()}", "x"):  # a second run here would fail
            pass
        second_done.write_text("")

    with forked.jobs_in_child([first, second]) as in_child:
        assert in_child
        _wait_for(tmp_path / "first-started")  # the child has taken the first job
    assert sorted(p.name for p in log.iterdir()) == ["first-here", f"second-{parent}"]


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


@needs_fork
def test_a_stop_signal_at_the_fork_stops_the_child_not_its_jobs(tmp_path, one_thread) -> None:
    """With the command's handlers in place (a stop signal raises), the block fails at
    once and the parent stops the child: the child must end there, not take the signal
    for the command's and go on with its jobs (the signals are blocked across the fork
    until the child takes their default action). Repeated, as the moment varies."""
    from silkroute_sim.cli.common import stop_on_signals

    for attempt in range(20):
        ran = tmp_path / f"ran-{attempt}"

        def slow(ran: Path = ran) -> None:
            time.sleep(1.0)
            ran.write_text(str(os.getpid()))

        with stop_on_signals(), pytest.raises(ValueError), forked.jobs_in_child([slow]):
            raise ValueError("the parent's work failed")
        assert not ran.exists(), f"attempt {attempt}: the child went on after SIGTERM"


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
def test_run_figures_are_the_same_bytes_whichever_process_draws_each(
    tmp_path, monkeypatch, one_thread
) -> None:
    """Drawn here only (no child), shared by the child and this process, and all drawn by
    the child (this process's block lasts until the child has drawn every one): the same
    files, byte for byte, with the paths in report order."""
    from silkroute_sim.analysis.tables import Tables
    from silkroute_sim.config.loader import load_config
    from silkroute_sim.model.simulate import simulate
    from silkroute_sim.outputs.plots.run import _figures, all_run_plots, run_plots_beside

    result = simulate(load_config("baseline", days=20, warmup_days=3))
    tables = Tables(result)
    drawn = {}
    for way in ("here", "shared", "child"):
        monkeypatch.setattr(forked, "ENABLED", way != "here")
        folder = tmp_path / way
        if way == "child":
            expected = [path for path, _ in _figures(result, tables, folder)]
            with run_plots_beside(result, tables, folder) as paths:
                _wait_for(*expected, seconds=120)
            assert {p.read_bytes() != b"" for p in expected} == {True}
        else:
            paths = all_run_plots(result, tables, folder)
        assert [p.parent for p in paths] == [folder] * len(paths)
        assert [p.name for p in paths][:2] == ["throughput.png", "yard_level.png"]
        drawn[way] = {p.name: p.read_bytes() for p in paths}
    assert drawn["shared"] == drawn["here"]
    assert drawn["child"] == drawn["here"]


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
