"""Crash safety and user data: a result folder is complete or absent, whatever happens.

* SIGKILL at random moments while a run writes its folder leaves no complete-looking
  folder; the staging folder it leaves is ignored by readers and cleaned by the next run.
* ``--out`` to a folder silkroute did not write is refused; ``--force`` and reruns replace
  only silkroute's own files (the marker lists them).
* A read-only place, a path under a file and a full disk give one ``error:`` line.
"""

from __future__ import annotations

import json
import os
import random
import signal
import subprocess
import sys
import time
from pathlib import Path
from typing import Any

import pytest
import yaml

import silkroute_sim.outputs.storage as io
from silkroute_sim.outputs.storage import MARKER, OutputError

from ..conftest import tiny_raw

RUN_FILES = ("summary.csv", "daily.csv", "trains.csv", "shipments.csv", "node_events.csv")


def _env() -> dict[str, str]:
    env = {**os.environ, "MPLBACKEND": "Agg"}
    env.pop("SILKROUTE_DEBUG", None)
    return env


def silkroute(*args: str, cwd: Path | None = None) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "silkroute_sim", *args],
        capture_output=True,
        text=True,
        cwd=cwd,
        env=_env(),
        timeout=300,
    )


def _error_lines(stderr: str) -> list[str]:
    """Lines of stderr (a progress bar's carriage returns split lines too)."""
    return [line for line in stderr.replace("\r", "\n").splitlines() if line.strip()]


def _tiny_yaml(path: Path, **sim: Any) -> Path:
    raw = tiny_raw()
    raw["simulation"].update(sim)
    path.write_text(yaml.safe_dump(raw, allow_unicode=True), encoding="utf-8")
    return path


def _dead_pid() -> int:
    proc = subprocess.Popen([sys.executable, "-c", "pass"])
    proc.wait()
    return proc.pid


def _assert_complete_or_absent(out: Path) -> bool:
    """``out`` is absent, or complete with every file its marker lists."""
    if not out.exists():
        return False
    assert io.is_complete(out), f"{out} exists without its completion marker"
    info = io.read_marker(out)
    assert info is not None
    listed = io.listed_files(info)
    assert listed is not None
    for name in (*RUN_FILES, "manifest.json"):
        assert name in listed
    for name in listed:
        assert (out / name).is_file(), f"{name} listed in the marker but missing"
    json.loads((out / "manifest.json").read_text(encoding="utf-8"))
    return True


# --------------------------------------------------------------------------- SIGKILL


@pytest.mark.slow
def test_sigkill_at_random_moments_never_leaves_a_complete_looking_folder(tmp_path: Path) -> None:
    """A 30-day baseline run with plots spends seconds writing; kill it at random moments
    after its staging folder appears (CSVs, plots, report, marker) and check the result."""
    rng = random.Random(20240611)
    outcomes: list[bool] = []
    windows = [(0.0, 0.3), (0.5, 2.0), (2.0, 6.0)]  # CSVs, plots, plots/report/marker
    for attempt, (low, high) in enumerate(windows):
        out = tmp_path / f"run{attempt}"
        args = ["run", "baseline", "--days", "30", "--warmup-days", "5", "--out", str(out), "-q"]
        proc = subprocess.Popen(
            [sys.executable, "-m", "silkroute_sim", *args],
            env=_env(),
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
        )
        deadline = time.monotonic() + 240
        while not list(tmp_path.glob(f".run{attempt}.silkroute-tmp-*")) and proc.poll() is None:
            assert time.monotonic() < deadline
            time.sleep(0.02)
        time.sleep(rng.uniform(low, high))
        proc.send_signal(signal.SIGKILL)
        proc.wait()
        outcomes.append(_assert_complete_or_absent(out))
        # whatever the kill left behind is not a result
        assert [p.name for p in io.complete_folders(tmp_path)] == [
            f"run{i}" for i, done in enumerate(outcomes) if done
        ]
        for staging in tmp_path.glob(f".run{attempt}.silkroute-tmp-*"):
            assert not io.is_complete(staging) or not staging.is_dir()
    assert not all(outcomes), "no kill landed while the folder was being written"
    # the next run into a killed run's folder cleans the leftovers and completes
    out = tmp_path / "run0"
    proc2 = silkroute(
        "run", str(_tiny_yaml(tmp_path / "t.yaml")), "--out", str(out), "-q", "--no-plots"
    )
    assert proc2.returncode == 0, proc2.stderr
    assert _assert_complete_or_absent(out)
    assert not list(tmp_path.glob(".run0.*"))


_SLOW_WRITER = """
import sys, time
from pathlib import Path
import silkroute_sim.outputs.storage as io

def fill(folder):
    io.write_json({"silkroute_version": "test"}, folder / "manifest.json")
    (folder / "summary.csv").write_text("metric,value,unit\\n")
    print("writing", flush=True)
    time.sleep(60)
    io.mark_complete(folder, {"kind": "run"})

io.write_folder(Path(sys.argv[1]), fill)
"""


@pytest.mark.slow
def test_killed_writer_leaves_no_folder_and_the_next_write_cleans_up(tmp_path: Path) -> None:
    out = tmp_path / "res"
    proc = subprocess.Popen(
        [sys.executable, "-c", _SLOW_WRITER, str(out)],
        stdout=subprocess.PIPE,
        text=True,
        env=_env(),
    )
    assert proc.stdout is not None
    assert proc.stdout.readline().strip() == "writing"
    proc.kill()
    proc.wait()
    assert not out.exists()
    leftovers = list(tmp_path.glob(".res.silkroute-tmp-*"))
    assert len(leftovers) == 1 and (leftovers[0] / "manifest.json").is_file()
    # readers: a staging folder is not a result
    assert not io.is_complete(leftovers[0])
    assert list(io.complete_folders(tmp_path)) == []
    proc = silkroute("report", str(leftovers[0]))
    assert proc.returncode == 2
    assert _error_lines(proc.stderr) == [
        f"error: {leftovers[0]}: not a complete silkroute result folder"
    ]
    # the next write (another process) removes the dead process's staging folder
    io.write_folder(out, lambda f: io.mark_complete(f, {"kind": "run"}))
    assert io.is_complete(out)
    assert not list(tmp_path.glob(".res.*"))


def test_a_live_writers_staging_folder_is_left_alone(tmp_path: Path) -> None:
    live = tmp_path / f".res.silkroute-tmp-{os.getpid()}-0123abcd"
    live.mkdir()
    io.write_folder(tmp_path / "res", lambda f: io.mark_complete(f, {}))
    assert live.is_dir()


def test_previous_result_parked_by_a_killed_swap_is_restored(tmp_path: Path) -> None:
    """Killed between 'rename old away' and 'rename new in': the old result comes back."""
    parked = tmp_path / f".res.silkroute-old-{_dead_pid()}-0123abcd"
    parked.mkdir()
    (parked / "summary.csv").write_text("metric,value,unit\n")
    io.mark_complete(parked, {"kind": "run"})
    assert io.clean_leftovers(tmp_path, "res") == 0
    assert io.is_complete(tmp_path / "res")
    assert (tmp_path / "res" / "summary.csv").is_file()


def test_an_exception_while_filling_leaves_nothing(tmp_path: Path) -> None:
    def fill(folder: Path) -> None:
        io.write_csv(__import__("pandas").DataFrame({"a": [1.0]}), folder / "summary.csv")
        raise KeyboardInterrupt

    with pytest.raises(KeyboardInterrupt):
        io.write_folder(tmp_path / "res", fill)
    assert list(tmp_path.iterdir()) == []


# --------------------------------------------------------------------------- user data


def _fill_run(plots: bool = True, value: str = "1") -> Any:
    def fill(folder: Path) -> None:
        io.write_json({"silkroute_version": "test", "value": value}, folder / "manifest.json")
        (folder / "summary.csv").write_text(f"metric,value,unit\nx,{value},t\n")
        if plots:
            (folder / "plots").mkdir()
            (folder / "plots" / "throughput.png").write_bytes(b"png")
        io.mark_complete(folder, {"kind": "run"})

    return fill


def test_foreign_folder_is_refused_and_untouched(tmp_path: Path) -> None:
    out = tmp_path / "mine"
    out.mkdir()
    (out / "thesis.tex").write_text("years of work")
    cfg = _tiny_yaml(tmp_path / "t.yaml")
    proc = silkroute("run", str(cfg), "--out", str(out), "-q")
    assert proc.returncode == 2
    lines = _error_lines(proc.stderr)
    assert len(lines) == 1 and lines[0].startswith("error:") and "--force" in lines[0]
    assert sorted(p.name for p in out.iterdir()) == ["thesis.tex"]
    assert not list(tmp_path.glob(".mine.*"))


@pytest.mark.slow
def test_force_and_every_later_rerun_keep_the_users_files(tmp_path: Path) -> None:
    """--force writes silkroute's files next to the user's; a rerun without --force (the
    folder now has our marker) must still not delete them — it once did."""
    out = tmp_path / "mine"
    out.mkdir()
    (out / "thesis.tex").write_text("years of work")
    (out / "data").mkdir()
    (out / "data" / "survey.csv").write_text("a,b\n1,2\n")
    cfg = _tiny_yaml(tmp_path / "t.yaml")
    proc = silkroute("run", str(cfg), "--out", str(out), "-q", "--force", "--no-plots")
    assert proc.returncode == 0, proc.stderr
    assert io.is_complete(out)
    assert (out / "thesis.tex").read_text() == "years of work"
    proc = silkroute("run", str(cfg), "--out", str(out), "-q", "--no-plots")  # the same run
    assert proc.returncode == 0, proc.stderr
    assert (out / "thesis.tex").read_text() == "years of work"
    assert (out / "data" / "survey.csv").read_text() == "a,b\n1,2\n"
    # another run (seed 5) needs --force here, and keeps the user's files as well
    proc = silkroute("run", str(cfg), "--out", str(out), "-q", "--no-plots", "--seed", "5")
    assert proc.returncode == 2 and "holds another run" in proc.stderr
    proc = silkroute(
        "run", str(cfg), "--out", str(out), "-q", "--no-plots", "--seed", "5", "--force"
    )
    assert proc.returncode == 0, proc.stderr
    assert (out / "thesis.tex").read_text() == "years of work"
    assert (out / "data" / "survey.csv").read_text() == "a,b\n1,2\n"
    assert json.loads((out / "manifest.json").read_text())["seed"] == 5
    listed = io.listed_files(io.read_marker(out) or {})
    assert listed is not None and "thesis.tex" not in listed and "summary.csv" in listed


def test_rerun_replaces_only_silkroutes_files(tmp_path: Path) -> None:
    out = tmp_path / "res"
    io.write_folder(out, _fill_run(plots=True, value="1"))
    (out / "notes.txt").write_text("my notes")
    (out / "plots" / "my-sketch.png").write_bytes(b"mine")
    io.write_folder(out, _fill_run(plots=False, value="2"))
    assert io.is_complete(out)
    assert "x,2,t" in (out / "summary.csv").read_text()
    assert (out / "notes.txt").read_text() == "my notes"
    assert (out / "plots" / "my-sketch.png").read_bytes() == b"mine"
    assert not (out / "plots" / "throughput.png").exists()  # ours and stale: removed
    # without user files the folder is swapped whole (stale files of ours disappear)
    clean = tmp_path / "clean"
    io.write_folder(clean, _fill_run(plots=True))
    io.write_folder(clean, _fill_run(plots=False))
    assert sorted(p.name for p in clean.iterdir()) == [MARKER, "manifest.json", "summary.csv"]


def test_a_marker_listing_paths_outside_the_folder_deletes_nothing_there(tmp_path: Path) -> None:
    victim = tmp_path / "victim.txt"
    victim.write_text("keep")
    out = tmp_path / "res"
    out.mkdir()
    (out / "notes.txt").write_text("mine")
    bad = {"kind": "run", "files": ["../victim.txt", "/etc/hostname", "notes.txt/../../x"]}
    (out / MARKER).write_text(json.dumps(bad))
    io.write_folder(out, _fill_run(plots=False))
    assert victim.read_text() == "keep"
    assert (out / "notes.txt").read_text() == "mine"
    assert io.is_complete(out)


def test_force_on_a_foreign_folder_with_a_colliding_name_fails_cleanly(tmp_path: Path) -> None:
    out = tmp_path / "mine"
    out.mkdir()
    (out / "summary.csv").mkdir()  # a folder where silkroute writes a file
    (out / "summary.csv" / "keep.txt").write_text("x")
    with pytest.raises(OutputError):
        io.write_folder(out, _fill_run(), force=True)
    assert (out / "summary.csv" / "keep.txt").read_text() == "x"
    assert not io.is_complete(out)
    assert not list(tmp_path.glob(".mine.*"))


# --------------------------------------------------------------------------- unwritable


def test_out_under_a_file_is_refused_before_the_run(tmp_path: Path) -> None:
    blocker = tmp_path / "file"
    blocker.write_text("x")
    cfg = _tiny_yaml(tmp_path / "t.yaml")
    proc = silkroute("run", str(cfg), "--out", str(blocker / "sub" / "out"))
    assert proc.returncode == 2
    lines = _error_lines(proc.stderr)
    assert lines == [f"error: {blocker}: is a file, not a folder; choose another --out"]
    assert proc.stdout == ""  # refused before the run: no KPI table


def test_out_on_a_file_system_that_refuses_writes_even_for_root(tmp_path: Path) -> None:
    """/proc refuses new folders for every user (chmod does not stop root)."""
    if not Path("/proc/self").is_dir():
        pytest.skip("no /proc")
    cfg = _tiny_yaml(tmp_path / "t.yaml")
    proc = silkroute("run", str(cfg), "--out", "/proc/silkroute-test-out", "-q")
    assert proc.returncode == 2
    lines = _error_lines(proc.stderr)
    assert len(lines) == 1 and lines[0].startswith("error: /proc: cannot write here (")


@pytest.mark.skipif(os.name != "posix" or os.geteuid() == 0, reason="root ignores chmod")
def test_read_only_folder_is_a_clear_error(tmp_path: Path) -> None:
    parent = tmp_path / "ro"
    parent.mkdir()
    parent.chmod(0o555)
    try:
        with pytest.raises(OutputError, match="cannot write here"):
            io.write_folder(parent / "res", _fill_run())
    finally:
        parent.chmod(0o755)


@pytest.mark.usefixtures("full_disk")
def test_full_disk_is_one_error_line_and_no_folder(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    """ENOSPC while writing a CSV: the CLI says so in one line, exit 2, nothing left."""
    import silkroute_sim.cli.app as cli

    cfg = _tiny_yaml(tmp_path / "t.yaml")
    out = tmp_path / "res"
    with pytest.raises(SystemExit) as exit_info:
        cli.cli.main(["run", str(cfg), "--out", str(out), "-q", "--no-plots"], "silkroute")
    assert exit_info.value.code == 2
    err = capsys.readouterr().err
    lines = _error_lines(err)
    assert len(lines) == 1, err
    assert lines[0].startswith(f"error: {out}: cannot write the results (the disk is full")
    assert sorted(p.name for p in tmp_path.iterdir()) == ["t.yaml"]


def test_json_has_no_nan(tmp_path: Path) -> None:
    io.write_json({"a": float("nan"), "b": [float("inf"), 1.5]}, tmp_path / "x.json")
    text = (tmp_path / "x.json").read_text()
    assert "NaN" not in text and "Infinity" not in text
    assert json.loads(text) == {"a": None, "b": [None, 1.5]}
