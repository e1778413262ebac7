"""Stopping a command that runs on worker processes: SIGTERM, SIGHUP and Ctrl-C.

The command stops its workers and exits with one line and 128 + the signal (143, 129,
130); no worker prints a traceback and nothing of the command's process group is left.
Each test runs the command in its own process group and kills the group in ``finally``.
"""

from __future__ import annotations

import contextlib
import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest
import yaml

from ..conftest import tiny_raw

pytestmark = [
    pytest.mark.skipif(
        sys.platform == "win32" or not Path("/proc/self/stat").exists(),
        reason="POSIX signals and process groups, read from /proc (Linux)",
    ),
    pytest.mark.slow,  # commands stopped and killed in subprocesses: left out of "not slow"
]

PY = sys.executable
#: long enough that every run is still going when the signal comes (about 8 s a run)
DAYS = "5000"


def _write_inputs(root: Path) -> None:
    raw = tiny_raw(simulation={"days": 12, "warmup_days": 2, "seed": 1})
    (root / "tiny.yaml").write_text(yaml.safe_dump(raw, allow_unicode=True), encoding="utf-8")
    spec = {
        "base": "tiny.yaml",
        "parameters": {"demand.tonnes_per_day": [60, 100]},
        "reps": 2,
        "seed": 5,
    }
    (root / "spec.yaml").write_text(yaml.safe_dump(spec), encoding="utf-8")


def _group(pgid: int) -> list[int]:
    """The live (not zombie) processes of process group ``pgid``."""
    pids = []
    for stat in Path("/proc").glob("[0-9]*/stat"):
        with contextlib.suppress(OSError, IndexError, ValueError):
            fields = stat.read_text().rsplit(")", 1)[1].split()
            if int(fields[2]) == pgid and fields[0] != "Z":
                pids.append(int(stat.parent.name))
    return pids


def _workers(pid: int) -> list[int]:
    """The worker processes among ``pid``'s children: spawned ones (``spawn_main``) or
    forked ones (the command's own command line), not multiprocessing's helpers (the
    resource tracker, a fork server)."""
    found = []
    own = Path(f"/proc/{pid}/cmdline").read_bytes()
    for children in Path(f"/proc/{pid}/task").glob("*/children"):
        with contextlib.suppress(OSError):
            for child in children.read_text().split():
                with contextlib.suppress(OSError):
                    cmdline = Path(f"/proc/{child}/cmdline").read_bytes()
                    if b"spawn_main" in cmdline or cmdline == own:
                        found.append(int(child))
    return found


def _wait_for_two_workers(proc: subprocess.Popen[str]) -> None:
    """Until the command's two workers exist, then 2 s more: they have imported the
    package and are simulating a run each."""
    deadline = time.monotonic() + 30
    while len(_workers(proc.pid)) < 2:
        assert proc.poll() is None, proc.communicate()
        assert time.monotonic() < deadline, "the workers did not start"
        time.sleep(0.05)
    time.sleep(2.0)


def _stop_with(
    args: list[str], cwd: Path, signum: int, whole_group: bool
) -> tuple[int, str, list[int]]:
    """Start ``silkroute ARGS``, wait for its two workers to run, send ``signum`` (to the
    whole group, as a terminal does, or to the command alone, as ``kill`` does). Returns
    the exit code, stderr and what is left of the group 5 s after the exit."""
    proc = subprocess.Popen(
        [PY, "-m", "silkroute_sim", *args],
        cwd=cwd,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
        env={**os.environ, "PYTHONWARNINGS": "ignore"},
        start_new_session=True,
    )
    try:
        _wait_for_two_workers(proc)
        if whole_group:
            os.killpg(proc.pid, signum)
        else:
            os.kill(proc.pid, signum)
        _, err = proc.communicate(timeout=20)
        deadline = time.monotonic() + 5
        while _group(proc.pid) and time.monotonic() < deadline:
            time.sleep(0.1)
        return proc.returncode, err, _group(proc.pid)
    finally:
        with contextlib.suppress(ProcessLookupError):
            os.killpg(proc.pid, signal.SIGKILL)
        with contextlib.suppress(subprocess.TimeoutExpired):
            proc.wait(timeout=10)


SWEEP = ["sweep", "spec.yaml", "--workers", "2", "--days", DAYS, "--out", "sw", "--no-plots", "-q"]
REPS = ["run", "tiny.yaml", "--reps", "6", "--workers", "2", "--days", DAYS, "--out", "reps"]
REPS += ["--no-plots", "-q"]


@pytest.mark.parametrize(
    ("args", "signum", "whole_group", "code", "line"),
    [
        (SWEEP, signal.SIGTERM, False, 143, "error: terminated (SIGTERM)"),
        (REPS, signal.SIGTERM, False, 143, "error: terminated (SIGTERM)"),
        (REPS, signal.SIGINT, True, 130, "error: interrupted"),
        (SWEEP, signal.SIGINT, True, 130, "error: interrupted"),
    ],
    ids=["sweep-kill", "reps-kill", "reps-ctrl-c", "sweep-ctrl-c"],
)
def test_a_stopped_command_stops_its_workers_and_says_one_line(
    tmp_path: Path, args: list[str], signum: int, whole_group: bool, code: int, line: str
) -> None:
    _write_inputs(tmp_path)
    returncode, err, left = _stop_with(args, tmp_path, signum, whole_group)
    assert returncode == code, err
    assert err.strip().splitlines() == [line]  # no traceback, from a worker or the command
    assert left == []  # no worker, no resource tracker


@pytest.mark.skipif(not hasattr(signal, "SIGHUP"), reason="no SIGHUP on this platform")
def test_a_closed_terminal_stops_the_workers_too(tmp_path: Path) -> None:
    _write_inputs(tmp_path)
    returncode, err, left = _stop_with(REPS, tmp_path, signal.SIGHUP, whole_group=False)
    assert returncode == 129, err
    assert err.strip().splitlines() == ["error: stopped: the terminal hung up (SIGHUP)"]
    assert left == []


def test_a_killed_worker_fails_only_its_own_run_and_the_sweep_goes_on(tmp_path: Path) -> None:
    import csv

    _write_inputs(tmp_path)
    # runs long enough to be in flight when the kill comes, in the compiled build too
    # (2,000 days were sometimes over by then: a killed idle worker fails no run)
    args = ["sweep", "spec.yaml", "--workers", "2", "--days", DAYS, "--out", "sw"]
    proc = subprocess.Popen(
        [PY, "-m", "silkroute_sim", *args, "--no-plots", "-q"],
        cwd=tmp_path,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
        env={**os.environ, "PYTHONWARNINGS": "ignore"},
        start_new_session=True,
    )
    try:
        _wait_for_two_workers(proc)
        os.kill(_workers(proc.pid)[0], signal.SIGKILL)
        _, err = proc.communicate(timeout=60)
    finally:
        with contextlib.suppress(ProcessLookupError):
            os.killpg(proc.pid, signal.SIGKILL)
        with contextlib.suppress(subprocess.TimeoutExpired):
            proc.wait(timeout=10)
    assert proc.returncode == 1, err  # some runs failed
    with open(tmp_path / "sw/runs.csv", encoding="utf-8") as fh:
        rows = list(csv.DictReader(fh))
    failed = [r for r in rows if r["status"] != "ok"]
    assert len(rows) == 4 and len(failed) == 1  # before: both runs in flight failed
    assert "died" in failed[0]["error"] and "SIGKILL" in failed[0]["error"]
    assert "1 of 4 runs failed" in err
