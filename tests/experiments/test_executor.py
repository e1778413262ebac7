"""The local process pool: a dead worker fails only its own run; workers are stopped."""

from __future__ import annotations

import os
import signal
import sys
import time
from pathlib import Path

import pytest

from silkroute_sim.experiments.executor import ExecutorError, LocalPoolExecutor


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


def test_a_dead_worker_fails_only_the_run_it_held() -> None:
    with LocalPoolExecutor(2) as pool:
        results = dict(pool.imap_unordered(_slow_square_or_killed, list(range(6))))
    assert sorted(results) == list(range(6))
    assert isinstance(results[1], ExecutorError)
    assert "died" in str(results[1]) and "SIGKILL" in str(results[1])
    # the run beside it, in flight when its neighbour died, is not lost
    assert {x: r for x, r in results.items() if x != 1} == {x: x * x for x in (0, 2, 3, 4, 5)}


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
