"""Every write goes through one output guard: nothing the user wrote is lost or replaced.

One test per case of issue 20 (files): ``..`` in --out (1), a run over a sweep folder (2),
sweep reruns and the user's plots (3), --force and the user's files of silkroute's names
(4), a kill while a result is replaced (5), sweep resume and a foreign run (7), a full
disk naming --out (12a); and a property test over random targets and commands.
"""

from __future__ import annotations

import hashlib
import json
import shutil
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest
import yaml
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

import silkroute_sim.outputs.storage as io

from ..conftest import silkroute, tiny_raw

#: long end-to-end or statistical tests: left out of ``pytest -m "not slow"``
pytestmark = pytest.mark.slow

FAST = ("--days", "3", "--warmup-days", "1", "--no-plots", "-q")


def _yaml(path: Path, raw: dict[str, Any]) -> Path:
    path.write_text(yaml.safe_dump(raw, allow_unicode=True), encoding="utf-8")
    return path


def _tiny(folder: Path, name: str = "t.yaml", plots: bool = False, **sim: Any) -> Path:
    raw = tiny_raw()
    raw["simulation"].update(sim)
    raw["outputs"]["plots"] = plots
    return _yaml(folder / name, raw)


def _spec(folder: Path, reps: int = 1) -> Path:
    _yaml(folder / "base.yaml", tiny_raw(simulation={"days": 3, "warmup_days": 1, "seed": 1}))
    spec = {"base": "base.yaml", "parameters": {"demand.tonnes_per_day": [60, 100]}}
    return _yaml(folder / "spec.yaml", {**spec, "reps": reps, "seed": 5})


def _errors(proc: subprocess.CompletedProcess[str]) -> list[str]:
    return [ln for ln in proc.stderr.replace("\r", "\n").splitlines() if ln.strip()]


def _snapshot(root: Path) -> dict[str, bytes]:
    """Every file under ``root`` (not following symlinked folders) and its bytes."""
    out: dict[str, bytes] = {}
    for path in sorted(root.rglob("*")):
        if path.is_file():
            out[path.relative_to(root).as_posix()] = path.read_bytes()
    return out


# --------------------------------------------------------------------------- case 1


@pytest.mark.parametrize(
    "args",
    [
        ("run", "t.yaml", *FAST, "--out", "tmpx/.."),
        ("run", "t.yaml", *FAST, "--reps", "2", "--out", "zz/.."),
        ("compare", "t.yaml", "t2.yaml", *FAST, "--reps", "2", "--out", "yy/.."),
        ("run", "t.yaml", *FAST, "--out", ".", "--force"),
    ],
    ids=["run", "reps", "compare", "dot"],
)
def test_case1_dotdot_out_is_judged_as_the_folder_it_names(
    tmp_path: Path, args: tuple[str, ...]
) -> None:
    here = tmp_path / "p"
    here.mkdir()
    _tiny(here)
    _tiny(here, "t2.yaml", seed=2)
    (here / "summary.csv").write_text("mine\n")
    (here / "manifest.json").write_text('{"mine": true}\n')
    before = _snapshot(here)
    proc = silkroute(*args, cwd=here)
    assert proc.returncode == 2, proc.stderr
    lines = _errors(proc)
    assert len(lines) == 1 and lines[0].startswith("error:"), proc.stderr
    assert _snapshot(here) == before
    assert sorted(p.name for p in here.iterdir()) == sorted(before)


# --------------------------------------------------------------------------- case 2


def test_case2_a_run_over_a_sweep_folder_is_refused_and_the_marker_lists_only_ours(
    tmp_path: Path,
) -> None:
    spec = _spec(tmp_path)
    out = tmp_path / "S"
    proc = silkroute("sweep", str(spec), "--out", str(out), "--workers", "1", "-q", "--no-plots")
    assert proc.returncode == 0, proc.stderr
    (out / "my-notes.txt").write_text("mine")
    proc = silkroute("sweep", str(spec), "--out", str(out), "--workers", "1", "-q", "--no-plots")
    assert proc.returncode == 0, proc.stderr
    listed = io.listed_files(io.read_marker(out) or {})
    assert listed is not None and "my-notes.txt" not in listed and "runs.csv" in listed
    before = _snapshot(out)
    cfg = _tiny(tmp_path)
    proc = silkroute("run", str(cfg), *FAST, "--out", str(out))
    assert proc.returncode == 2
    lines = _errors(proc)
    assert len(lines) == 1 and "sweep folder" in lines[0] and str(out) in lines[0]
    assert _snapshot(out) == before
    # with --force silkroute's files are replaced, the user's stay
    proc = silkroute("run", str(cfg), *FAST, "--out", str(out), "--force")
    assert proc.returncode == 0, proc.stderr
    assert (out / "my-notes.txt").read_text() == "mine"
    assert io.folder_kind(out) == "run" and not (out / "runs").exists()


# --------------------------------------------------------------------------- case 3


def test_case3_rerunning_a_sweep_keeps_the_users_plots(tmp_path: Path) -> None:
    spec = _spec(tmp_path)
    out = tmp_path / "S"
    args = ("sweep", str(spec), "--out", str(out), "--workers", "1", "-q")
    assert silkroute(*args).returncode == 0
    ours = sorted(p.name for p in (out / "plots").glob("*.png"))
    assert ours
    (out / "plots" / "my-figure.png").write_bytes(b"mine")
    (out / "plots" / "notes.txt").write_text("mine")
    proc = silkroute(*args)
    assert proc.returncode == 0, proc.stderr
    proc = silkroute(*args, "--no-plots")
    assert proc.returncode == 0, proc.stderr
    assert (out / "plots" / "my-figure.png").read_bytes() == b"mine"
    assert (out / "plots" / "notes.txt").read_text() == "mine"
    assert not any((out / "plots" / name).exists() for name in ours)  # ours: stale, gone


# --------------------------------------------------------------------------- case 4


@pytest.mark.parametrize("name", ["summary.csv", "report.html", "plots/throughput.png"])
def test_case4_force_never_replaces_a_users_file_of_silkroutes_name(
    tmp_path: Path, name: str
) -> None:
    out = tmp_path / "mine"
    (out / "plots").mkdir(parents=True)
    (out / name).write_text("years of work")
    (out / "thesis.tex").write_text("more work")
    before = _snapshot(out)
    cfg = _tiny(tmp_path, plots=True)
    proc = silkroute(
        "run", str(cfg), "--days", "3", "--warmup-days", "1", "-q", "--out", str(out), "--force"
    )
    assert proc.returncode == 2
    lines = _errors(proc)
    assert len(lines) == 1 and lines[0].startswith(f"error: {out / name}:"), proc.stderr
    assert _snapshot(out) == before
    assert not list(tmp_path.glob(".mine.*"))


# --------------------------------------------------------------------------- case 5

_KILLED_SWAP = """
import os, shutil, signal, sys
from pathlib import Path
import silkroute_sim.outputs.storage as io

out, value, kill_at = Path(sys.argv[1]), sys.argv[2], int(sys.argv[3])
calls = {"n": 0}

def hook(real):
    def wrapped(*args, **kwargs):
        calls["n"] += 1
        if calls["n"] == kill_at:
            os.kill(os.getpid(), signal.SIGKILL)
        return real(*args, **kwargs)
    return wrapped

def fill(folder):
    for name in ("summary.csv", "daily.csv", "trains.csv"):
        (folder / name).write_text(value)
    io.write_json({"silkroute_version": "test", "value": value}, folder / "manifest.json")
    io.mark_complete(folder, {"kind": "run"})
    for mod, name in ((os, "replace"), (os, "rename"), (os, "link"), (os, "unlink"),
                      (os, "symlink"), (os, "rmdir"), (shutil, "rmtree"), (shutil, "copy2")):
        setattr(mod, name, hook(getattr(mod, name)))

io.write_folder(out, fill)
print("done")
"""


def test_case5_a_kill_while_replacing_leaves_old_or_new_never_a_mix(tmp_path: Path) -> None:
    out = tmp_path / "res"
    io.write_folder(out, lambda f: _fill(f, "old"))
    (out / "notes.txt").write_text("mine")
    (out / "sub").mkdir()
    (out / "sub" / "data.csv").write_text("a,b\n")
    for kill_at in range(1, 40):
        proc = subprocess.run(
            [sys.executable, "-c", _KILLED_SWAP, str(out), "new", str(kill_at)],
            capture_output=True,
            text=True,
            timeout=60,
        )
        io.clean_leftovers(tmp_path, "res")  # what the next write does first
        assert io.is_complete(out), f"killed at step {kill_at}: no complete result"
        values = {(out / n).read_text() for n in ("summary.csv", "daily.csv", "trains.csv")}
        assert values in ({"old"}, {"new"}), f"killed at step {kill_at}: a mix {values}"
        assert (out / "notes.txt").read_text() == "mine"
        assert (out / "sub" / "data.csv").read_text() == "a,b\n"
        if proc.returncode == 0:
            assert values == {"new"}
            break
        io.write_folder(out, lambda f: _fill(f, "old"))  # start again from the old result
    else:
        pytest.fail("the writer never finished")
    assert not [p for p in tmp_path.iterdir() if p.name.startswith(".")]


def _fill(folder: Path, value: str) -> None:
    for name in ("summary.csv", "daily.csv", "trains.csv"):
        (folder / name).write_text(value)
    io.write_json({"silkroute_version": "test", "value": value}, folder / "manifest.json")
    io.mark_complete(folder, {"kind": "run"})


# --------------------------------------------------------------------------- case 7


def test_case7_resume_reruns_a_run_folder_whose_hash_is_not_its_key(tmp_path: Path) -> None:
    spec = _spec(tmp_path)
    out = tmp_path / "S"
    args = ("sweep", str(spec), "--out", str(out), "--workers", "1", "-q", "--no-plots")
    assert silkroute(*args).returncode == 0
    runs_before = (out / "runs.csv").read_bytes()
    first, second = sorted(p for p in (out / "runs").iterdir())
    (second / "notes.txt").write_text("mine")
    for item in second.iterdir():  # a foreign run under the second key
        if item.name != "notes.txt":
            item.unlink()
    for item in first.iterdir():
        shutil.copy2(item, second / item.name)
    proc = silkroute(*args)
    assert proc.returncode == 0, proc.stderr
    manifest = json.loads((second / "manifest.json").read_text())
    assert manifest["config_hash"] == second.name
    assert (second / "notes.txt").read_text() == "mine"
    assert (out / "runs.csv").read_bytes() == runs_before


# --------------------------------------------------------------------------- case 12a


@pytest.mark.usefixtures("full_disk")
def test_case12a_a_full_disk_names_the_out_folder_not_the_staging_one(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    import silkroute_sim.cli.app as cli

    cfg = _tiny(tmp_path)
    out = tmp_path / "res"
    argv = ["run", str(cfg), "--out", str(out), "--reps", "2", *FAST]
    with pytest.raises(SystemExit) as exit_info:
        cli.cli.main(argv, "silkroute")
    assert exit_info.value.code == 2
    lines = [ln for ln in capsys.readouterr().err.splitlines() if ln.strip()]
    assert len(lines) == 1 and lines[0].startswith(f"error: {out}"), lines
    assert ".silkroute-tmp-" not in lines[0] and "the disk is full" in lines[0]
    assert sorted(p.name for p in tmp_path.iterdir()) == ["t.yaml"]


# --------------------------------------------------------------------------- property

TARGETS = ("absent", "user", "user-dotdot", "symlink", "run", "sweep", "long", "nested")
USER_NAMES = ("summary.csv", "notes.txt", "report.html", "plots/throughput.png", "plots/me.png")


@pytest.fixture(scope="module")
def made(tmp_path_factory: pytest.TempPathFactory) -> dict[str, Path]:
    """A finished run folder and a finished sweep folder to copy into each example."""
    root = tmp_path_factory.mktemp("made")
    cfg = _tiny(root, plots=False)
    _tiny(root, "t2.yaml", seed=2)
    run = root / "run"
    assert silkroute("run", str(cfg), *FAST, "--out", str(run)).returncode == 0
    spec = _spec(root)
    sweep = root / "sweep"
    proc = silkroute("sweep", str(spec), "--out", str(sweep), "--workers", "1", "-q", "--no-plots")
    assert proc.returncode == 0, proc.stderr
    return {
        "root": root,
        "cfg": cfg,
        "cfg2": root / "t2.yaml",
        "spec": spec,
        "run": run,
        "sweep": sweep,
    }


def _situation(box: Path, made: dict[str, Path], target: str, users: list[str]) -> str:
    """Build the target in ``box``; returns the --out to pass."""
    folder = box / "out"
    if target in ("run", "sweep"):
        shutil.copytree(made[target], folder, symlinks=True)
    elif target != "absent":
        folder.mkdir()
    if target != "absent":
        for i, name in enumerate(users):
            path = folder / name
            if path.exists():
                continue
            path.parent.mkdir(parents=True, exist_ok=True)
            path.write_bytes(hashlib.sha256(f"{name}{i}".encode()).digest())
    if target == "symlink":
        (box / "link").symlink_to(folder)
        return str(box / "link")
    if target == "user-dotdot":
        return str(box / "nosuch" / ".." / "out")
    if target == "long":
        return str(box / ("x" * 300))
    if target == "nested":
        return str(folder / "inner" / ".." / "..")  # the box itself: holds user files
    return str(folder)


def _run_cli(argv: list[str]) -> int:
    import silkroute_sim.cli.app as cli

    try:
        cli.cli.main(argv, "silkroute")
    except SystemExit as exc:
        return int(exc.code or 0)
    return 0


@settings(max_examples=25, deadline=None, suppress_health_check=list(HealthCheck))
@given(
    target=st.sampled_from(TARGETS),
    users=st.lists(st.sampled_from(USER_NAMES), max_size=3, unique=True),
    command=st.sampled_from(("run", "reps", "compare", "sweep", "report")),
    force=st.booleans(),
)
def test_no_user_file_ever_changes_or_vanishes(
    made: dict[str, Path],
    tmp_path_factory: pytest.TempPathFactory,
    target: str,
    users: list[str],
    command: str,
    force: bool,
) -> None:
    box = tmp_path_factory.mktemp("box")
    (box / "keep.txt").write_text("the user's")
    out = _situation(box, made, target, users)
    folder = box / "out"
    mine = {f"out/{n}" for n in users} | {"keep.txt"} if target != "absent" else {"keep.txt"}
    if target in ("run", "sweep"):
        mine = {f"out/{n}" for n in users if not (made[target] / n).exists()} | {"keep.txt"}
    before = {k: v for k, v in _snapshot(box).items() if k in mine}
    extra = ["--force"] if force else []
    argv = {
        "run": ["run", str(made["cfg"]), *FAST, "--out", out, *extra],
        "reps": ["run", str(made["cfg"]), *FAST, "--reps", "2", "--out", out, *extra],
        "compare": ["compare", str(made["cfg"]), str(made["cfg2"]), *FAST, "--out", out, *extra],
        "sweep": ["sweep", str(made["spec"]), "--out", out, "--workers", "1", "-q", "--no-plots"],
        "report": ["report", out if target in ("run", "sweep") else str(folder)],
    }[command]
    _run_cli(argv)
    after = _snapshot(box)
    for name, data in before.items():
        assert after.get(name) == data, f"{command} into {target} ({force=}): {name} changed"
    if folder.is_dir() and io.is_complete(folder):
        listed = io.listed_files(io.read_marker(folder) or {}) or []
        assert not {f"out/{n}" for n in listed} & mine, "the marker lists a user's file"


@pytest.mark.skipif(sys.platform == "win32", reason="SIGKILL is POSIX")
@settings(max_examples=12, deadline=None, suppress_health_check=list(HealthCheck))
@given(
    target=st.sampled_from(("absent", "user", "run", "sweep", "nested")),
    users=st.lists(st.sampled_from(USER_NAMES), max_size=3, unique=True),
    command=st.sampled_from(("run", "reps", "sweep")),
    force=st.booleans(),
    kill_after_s=st.floats(min_value=0.2, max_value=2.5),
)
def test_no_user_file_changes_when_a_command_is_killed_and_run_again(
    made: dict[str, Path],
    tmp_path_factory: pytest.TempPathFactory,
    target: str,
    users: list[str],
    command: str,
    force: bool,
    kill_after_s: float,
) -> None:
    """A command killed (SIGKILL) at a random moment, then run again to the end: no
    file the user had is changed or removed, after the kill or after the rerun."""
    import signal
    import time

    box = tmp_path_factory.mktemp("killed")
    (box / "keep.txt").write_text("the user's")
    out = _situation(box, made, target, users)
    mine = {f"out/{n}" for n in users} | {"keep.txt"} if target != "absent" else {"keep.txt"}
    if target in ("run", "sweep"):
        mine = {f"out/{n}" for n in users if not (made[target] / n).exists()} | {"keep.txt"}
    before = {k: v for k, v in _snapshot(box).items() if k in mine}
    extra = ["--force"] if force else []
    argv = {
        "run": ["run", str(made["cfg"]), "--days", "40", "--warmup-days", "1", "-q"],
        "reps": ["run", str(made["cfg"]), *FAST, "--reps", "4"],
        "sweep": ["sweep", str(made["spec"]), "--workers", "1", "-q"],
    }[command] + ["--out", out, *(extra if command != "sweep" else [])]
    proc = subprocess.Popen(
        [sys.executable, "-m", "silkroute_sim", *argv],
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    try:
        time.sleep(kill_after_s)
        proc.send_signal(signal.SIGKILL)
    finally:
        proc.wait(timeout=60)
    after_kill = _snapshot(box)
    _run_cli(argv)  # again, to the end (or refused as before)
    after = _snapshot(box)
    for name, data in before.items():
        assert after_kill.get(name) == data, f"killed {command} into {target}: {name} changed"
        assert after.get(name) == data, f"{command} again into {target}: {name} changed"


@pytest.mark.parametrize(
    ("command", "kind"),
    [
        (["run"], "comparison"),
        (["run", "--reps", "2"], "comparison"),
        (["compare", "--reps", "2"], "run"),
        (["run"], "optimize"),
        (["run", "--reps", "2"], "optimize"),
        (["compare", "--reps", "2"], "optimize"),
    ],
)
def test_a_folder_of_another_kind_is_refused_before_anything_runs(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, command: list[str], kind: str
) -> None:
    """The early check knows the kind the command writes: no simulation is spent on a
    result that would then be refused."""
    from click.testing import CliRunner

    import silkroute_sim.model.simulate as simulate_module
    from silkroute_sim.cli.app import cli

    out = tmp_path / "taken"
    out.mkdir()
    manifest = {"silkroute_version": "0.1.0", "kind": kind}
    (out / "manifest.json").write_text(json.dumps(manifest), encoding="utf-8")
    io.mark_complete(out, {"kind": kind}, ["manifest.json"])

    def no_simulation(*_args: Any, **_kwargs: Any) -> Any:
        raise AssertionError("simulated before refusing the output folder")

    monkeypatch.setattr(simulate_module, "simulate", no_simulation)
    cfg = _tiny(tmp_path)
    args = [*command[:1], str(cfg), *([str(cfg)] if command[0] == "compare" else [])]
    args += [*command[1:], "--out", str(out), "-q", "--no-plots"]
    result = CliRunner().invoke(cli, args)
    assert result.exit_code == 2, result.output
    article = "an" if kind[0] in "aeiou" else "a"
    assert f"is {article} {kind} folder written by silkroute" in result.output


@pytest.mark.parametrize("kind", ["sweep", "optimize"])
def test_a_writer_without_force_is_not_told_to_pass_it(tmp_path: Path, kind: str) -> None:
    """Sweeps and optimisations have no --force: their refusals say what they can do."""
    from silkroute_sim.outputs.guard import OutputError, check_output_target

    mine = tmp_path / "mine"
    mine.mkdir()
    (mine / "notes.txt").write_text("mine")
    with pytest.raises(OutputError) as info:
        check_output_target(mine, kind=kind)
    assert "choose another --out" in str(info.value) and "--force" not in str(info.value)
    with pytest.raises(OutputError) as info:
        check_output_target(mine, kind="run")  # run has --force, and says so
    assert "--force" in str(info.value)
