"""The local process pool: a dead worker fails only its own run; workers are stopped."""

from __future__ import annotations

import os
import signal
import sys
import time
from pathlib import Path

import pytest

from silkroute_sim.experiments.executor import ExecutorError, LocalPoolExecutor

from ..conftest import tiny_raw


def _slow_square_or_killed(x: int) -> int:
    """Item 1 kills its own process while item 0 (1 s) is still running on the other."""
    if x == 0:
        time.sleep(1.0)
    if x == 1:
        time.sleep(0.2)
        os.kill(os.getpid(), signal.SIGKILL)
    return x * x


def _pid_after(x: float) -> int:
    time.sleep(x)
    return os.getpid()


@pytest.mark.slow
def test_a_dead_worker_fails_only_the_run_it_held() -> None:
    with LocalPoolExecutor(2) as pool:
        results = dict(pool.imap_unordered(_slow_square_or_killed, list(range(6))))
    assert sorted(results) == list(range(6))
    assert isinstance(results[1], ExecutorError)
    assert "died" in str(results[1]) and "SIGKILL" in str(results[1])
    # the run beside it, in flight when its neighbour died, is not lost
    assert {x: r for x, r in results.items() if x != 1} == {x: x * x for x in (0, 2, 3, 4, 5)}


@pytest.mark.slow
@pytest.mark.skipif(sys.platform != "linux", reason="reads /proc")
def test_workers_are_kept_between_calls_and_gone_after_close() -> None:
    pool = LocalPoolExecutor(2)
    try:
        first = {r for _, r in pool.imap_unordered(_pid_after, [0.3, 0.3])}
        second = {r for _, r in pool.imap_unordered(_pid_after, [0.3, 0.3])}
        assert len(first) == 2 and second == first  # the same two processes
    finally:
        pool.close()
    for pid in first:
        assert not Path(f"/proc/{pid}").exists()


@pytest.mark.slow
@pytest.mark.skipif(sys.platform != "linux", reason="reads /proc")
def test_closing_the_results_early_stops_the_workers_at_once() -> None:
    pool = LocalPoolExecutor(2)
    results = pool.imap_unordered(_pid_after, [0.2, 30.0, 30.0, 30.0])
    try:
        _, pid = next(results)
        started = time.monotonic()
        results.close()  # as Ctrl-C or kill does, passing through the generator
        assert time.monotonic() - started < 5
        assert not Path(f"/proc/{pid}").exists()
        assert pool._processes == []
    finally:
        pool.close()


# --------------------------------------------------------------------------- the API's pool


def _tiny_cfg(days: int = 12):  # type: ignore[no-untyped-def]
    from silkroute_sim.config.loader import validate_config

    raw = tiny_raw(simulation={"days": days, "warmup_days": 2, "seed": 3})
    return validate_config(raw, "tiny")


def _alive(pid: int) -> bool:
    """A live process (not a zombie waiting for its parent) with this id."""
    try:
        state = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()[0]
    except (OSError, IndexError):
        return False
    return state != "Z"


@pytest.mark.slow
@pytest.mark.skipif(sys.platform != "linux", reason="reads /proc")
def test_the_api_keeps_its_workers_between_calls_and_matches_a_serial_run() -> None:
    from silkroute_sim.experiments import executor
    from silkroute_sim.experiments.replications import run_replications

    cfg = _tiny_cfg()
    serial = run_replications(cfg, 4, workers=1)
    first = run_replications(cfg, 4, workers=2)
    pool = executor._shared
    assert pool is not None
    pids = [w.process.pid for w in pool._processes]
    second = run_replications(cfg, 4, workers=2)
    assert len(pids) == 2 and [w.process.pid for w in pool._processes] == pids
    for rr in (first, second):  # same seeds: the same numbers whichever process ran them
        assert rr.summary.to_csv() == serial.summary.to_csv()
        assert rr.values().to_csv() == serial.values().to_csv()
    executor.close_shared_pool()
    assert executor._shared is None
    assert not any(_alive(pid) for pid in pids if pid is not None)


_SCRIPT = """
import sys, threading, time
from silkroute_sim.config.loader import validate_config
from silkroute_sim.experiments import executor
from silkroute_sim.experiments.replications import run_replications

if __name__ == "__main__":
    cfg = validate_config({raw!r}, "tiny")
    run_replications(cfg, 2, workers=2)
    pool = executor._shared
    if sys.argv[1] == "busy":  # both workers in the middle of a long item when killed
        work = lambda: list(pool.imap_unordered(time.sleep, [60.0, 60.0]))
        threading.Thread(target=work, daemon=True).start()
        while sum(w.busy for w in pool._processes) < 2:
            time.sleep(0.05)
    print(*[w.process.pid for w in pool._processes], flush=True)
    if sys.argv[1] == "busy":
        time.sleep(60)
"""


def _wait_gone(pids: list[int], within_s: float = 10.0) -> bool:
    deadline = time.monotonic() + within_s
    while time.monotonic() < deadline:
        if not any(_alive(p) for p in pids):
            return True
        time.sleep(0.1)
    return False


@pytest.mark.slow
@pytest.mark.skipif(sys.platform != "linux", reason="reads /proc")
@pytest.mark.parametrize("end", ["exit", "sigkill"])
def test_a_script_leaves_no_worker_behind(tmp_path: Path, end: str) -> None:
    """A script that ends without closing the pool, or is killed with SIGKILL (no atexit
    runs) while its workers are busy, leaves no worker process: each watches its parent
    and ends with it."""
    import subprocess

    raw = tiny_raw(simulation={"days": 3, "warmup_days": 1, "seed": 1})
    script = tmp_path / "script.py"
    script.write_text(_SCRIPT.format(raw=raw), encoding="utf-8")
    mode = "busy" if end == "sigkill" else "exit"
    proc = subprocess.Popen(
        [sys.executable, str(script), mode], stdout=subprocess.PIPE, text=True, cwd=tmp_path
    )
    try:
        assert proc.stdout is not None
        pids = [int(p) for p in proc.stdout.readline().split()]
        assert len(pids) == 2
        if end == "sigkill":
            proc.kill()
        assert proc.wait(timeout=30) in (0, -signal.SIGKILL)
        assert _wait_gone(pids)
    finally:
        proc.kill()
        proc.wait()


def _handlers_of_worker(_: int) -> tuple[object, object, object, str]:
    return (
        signal.getsignal(signal.SIGINT),
        signal.getsignal(signal.SIGTERM),
        signal.getsignal(signal.SIGHUP),
        __import__("multiprocessing").current_process().name,
    )


@pytest.mark.skipif(sys.platform != "linux", reason="forks only on Linux")
def test_workers_fork_where_safe_and_spawn_otherwise(monkeypatch: pytest.MonkeyPatch) -> None:
    import threading

    from silkroute_sim.experiments import worker_start

    # the suite's own process may hold threads other tests left (a Dask client's), so
    # the choice is checked with the thread count stated, then with a thread started
    monkeypatch.setattr(worker_start, "only_thread", lambda: True)
    assert worker_start.start_method() == "fork"
    monkeypatch.setattr(worker_start, "FORK", False)
    assert worker_start.start_method() == "spawn"
    monkeypatch.setattr(worker_start, "FORK", True)
    monkeypatch.undo()
    stop = threading.Event()
    helper = threading.Thread(target=stop.wait)
    helper.start()
    try:  # another thread could hold a lock at the fork: spawn
        assert worker_start.start_method() == "spawn"
    finally:
        stop.set()
        helper.join()


@pytest.mark.skipif(sys.platform != "linux", reason="forks only on Linux")
@pytest.mark.parametrize("fork", [True, False])
def test_a_worker_has_default_signal_handlers_not_the_commands(
    fork: bool, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The command's handlers (which stop it by cleaning up its folder) do not reach a
    forked worker: SIGTERM and SIGHUP are the defaults there, SIGINT is ignored."""
    from silkroute_sim.experiments import worker_start

    monkeypatch.setattr(worker_start, "FORK", fork)
    monkeypatch.setattr(worker_start, "only_thread", lambda: True)  # fork, if asked to

    def command_handler(signum: int, _frame: object) -> None:
        raise RuntimeError("the command's handler ran")

    previous = {s: signal.signal(s, command_handler) for s in (signal.SIGTERM, signal.SIGHUP)}
    try:
        with LocalPoolExecutor(1) as pool:
            ((_, got),) = list(pool.imap_unordered(_handlers_of_worker, [0]))
    finally:
        for s, old in previous.items():
            signal.signal(s, old)
    assert got == (signal.SIG_IGN, signal.SIG_DFL, signal.SIG_DFL, "silkroute-worker")
