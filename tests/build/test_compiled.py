"""The compiled build (``hatch_build.py``, mypyc), what ``pip install .`` installs, is
the pure-Python build, faster.

Where the installed package is the compiled build (as CI installs it with the README's
command), it runs beside the source tree (pure Python); where it is pure (an editable
install), the wheel is built here the way a user builds it (pip's isolated build,
``SILKROUTE_BUILD=compiled``) into a folder of its own. Both builds run the shipped
scenarios, with every dispatch policy and with disruptions: every CSV must be the same
to the byte, and the manifests the same but for the wall time and the build.

The build hook's choices are tested too: ``auto`` (the default) falls back to pure
Python where it cannot compile and says why in the wheel, ``compiled`` fails instead,
``pure`` does not compile; and a wheel installed where it could compile must be the
compiled one (a fallback must not hide a broken compiled build). Building needs a C
compiler, Python's headers and the package index for the build's own dependencies
(skipped without them), and takes a minute or two: mypyc type-checks and compiles nine
modules.
"""

from __future__ import annotations

import json
import os
import platform
import shutil
import subprocess
import sys
import sysconfig
from pathlib import Path
from typing import Any

import pytest
from click.testing import CliRunner

import silkroute_sim
from silkroute_sim import buildinfo
from silkroute_sim.buildinfo import HOT_MODULES, build_record, compiled_modules

from ..conftest import CONFIGS, REPO, silkroute

try:
    import tomllib
except ImportError:  # Python 3.10
    tomllib = None  # type: ignore[assignment]

RUNS = {
    "baseline": ["baseline"],
    "khorgos-closed": [str(CONFIGS / "scenarios" / "khorgos-closed-7d.yaml")],
    "gales": [str(CONFIGS / "scenarios" / "alashankou-gales.yaml")],
    "auto-exports": [str(CONFIGS / "scenarios" / "auto-exports.yaml")],
    "full-policy": ["baseline", "--set", "services.duisburg.policy={kind: full}"],
    "schedule-policy": [
        "baseline",
        "--set",
        "services.moscow.policy={kind: schedule, departures: [10 h], weekdays: [0, 3], "
        "cutoff: 6 h, min_load: 0.3}",
    ],
}


@pytest.mark.skipif(tomllib is None, reason="reading pyproject.toml needs Python 3.11")
def test_the_build_hook_is_on_by_default_and_its_modules_exist() -> None:
    pyproject = tomllib.loads((REPO / "pyproject.toml").read_text(encoding="utf-8"))
    hook = pyproject["tool"]["hatch"]["build"]["targets"]["wheel"]["hooks"]["custom"]
    assert hook["enable-by-default"] is True  # pip install . builds the compiled build
    for name in HOT_MODULES:  # the list hatch_build.py compiles
        assert (REPO / "src" / "silkroute_sim" / f"{name.replace('.', '/')}.py").is_file()
    assert "hatch_build.py" in pyproject["tool"]["hatch"]["build"]["targets"]["sdist"]["include"]


def _compiler() -> str | None:
    cc = (sysconfig.get_config_var("CC") or "cc").split()[0]
    return shutil.which(cc)


def _can_compile() -> bool:
    headers = Path(sysconfig.get_paths()["include"]) / "Python.h"
    return _compiler() is not None and headers.is_file()


#: what pip prints when it cannot reach the package index for the build's dependencies
OFFLINE = (
    "No matching distribution found",
    "Could not find a version that satisfies",
    "NewConnectionError",
    "Temporary failure in name resolution",
    "Network is unreachable",
)

PIP = [sys.executable, "-m", "pip", "--disable-pip-version-check", "--quiet"]


def _build_wheel(folder: Path, target: Path, **env: str) -> Path:
    """Build this source tree's wheel as a user's ``pip install .`` does (pip's isolated
    build, with ``env`` added), install it into ``target``, and return the wheel."""
    build = subprocess.run(
        [*PIP, "wheel", "--no-deps", "--wheel-dir", str(folder), str(REPO)],
        env={**os.environ, "PIP_NO_INPUT": "1", **env},
        capture_output=True,
        text=True,
        timeout=900,
    )
    log = build.stdout[-3000:] + build.stderr[-3000:]
    if build.returncode and any(sign in log for sign in OFFLINE):
        pytest.skip("the build's dependencies (mypy, hatchling) cannot be fetched here")
    assert build.returncode == 0, log
    (wheel,) = folder.glob("silkroute_sim-*.whl")
    install = subprocess.run(
        [*PIP, "install", "--no-deps", "--target", str(target), str(wheel)],
        capture_output=True,
        text=True,
        timeout=300,
    )
    assert install.returncode == 0, install.stderr[-3000:]
    return wheel


def _installed_is_compiled() -> bool:
    return compiled_modules() == list(HOT_MODULES)


@pytest.fixture(scope="module")
def compiled(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A folder to import the compiled build of this source tree from: the installed
    package's where it is the compiled build, else one built here."""
    if _installed_is_compiled():
        return Path(silkroute_sim.__file__).resolve().parent.parent
    if _compiler() is None:
        pytest.skip("no C compiler: the compiled build cannot be made here")
    if not _can_compile():
        pytest.skip("no Python headers (python3-dev): the compiled build cannot be made here")
    target = tmp_path_factory.mktemp("compiled")
    wheel = _build_wheel(tmp_path_factory.mktemp("wheels"), target, SILKROUTE_BUILD="compiled")
    assert "none-any" not in wheel.name  # a platform wheel: it holds extensions
    return target


def _silkroute(path: Path, *args: str) -> subprocess.CompletedProcess[str]:
    """The CLI of the build in ``path``."""
    return silkroute(*args, cwd=REPO, pythonpath=path)


@pytest.mark.slow
def test_the_compiled_build_loads_every_hot_module_compiled(compiled: Path) -> None:
    version = _silkroute(compiled, "--version")
    assert version.returncode == 0, version.stderr
    assert f"compiled (mypyc, {len(HOT_MODULES)} of {len(HOT_MODULES)} hot modules)" in (
        version.stdout
    )
    for name in HOT_MODULES:
        assert list((compiled / "silkroute_sim").glob(f"{name}.*.so")) or list(
            (compiled / "silkroute_sim").glob(f"{name}.*.pyd")
        )
    pure = _silkroute(REPO / "src", "--version")
    assert "(pure Python)" in pure.stdout  # the source tree is never compiled in place


@pytest.mark.slow
@pytest.mark.parametrize("case", sorted(RUNS))
def test_the_compiled_build_writes_the_same_outputs(
    case: str, compiled: Path, tmp_path: Path
) -> None:
    args = [*RUNS[case], "--days", "30", "--warmup-days", "5", "--no-plots", "-q"]
    outputs = {}
    for build, path in (("pure", REPO / "src"), ("compiled", compiled)):
        out = tmp_path / build
        done = _silkroute(path, "run", *args, "--out", str(out))
        assert done.returncode == 0, done.stderr[-3000:]
        outputs[build] = out
    pure, fast = outputs["pure"], outputs["compiled"]
    csvs = sorted(p.name for p in pure.glob("*.csv"))
    assert csvs == sorted(p.name for p in fast.glob("*.csv"))
    assert {"shipments.csv", "trains.csv", "node_events.csv", "daily.csv"} <= set(csvs)
    for name in csvs:
        assert (pure / name).read_bytes() == (fast / name).read_bytes(), name
    manifests = [json.loads((o / "manifest.json").read_text()) for o in (pure, fast)]
    assert manifests[0]["build"] == "pure Python"
    assert manifests[1]["build"].startswith("compiled")
    assert manifests[0]["events"] == manifests[1]["events"] > 10_000
    for manifest in manifests:
        del manifest["wall_s"], manifest["build"]
    assert manifests[0] == manifests[1]


# ------------------------------------------------------------ which build is installed


@pytest.mark.skipif(
    platform.python_implementation() != "CPython", reason="mypyc compiles for CPython only"
)
def test_a_wheel_installed_where_it_could_compile_is_the_compiled_build() -> None:
    """``pip install .`` falls back to pure Python only where it cannot compile: on a
    machine with a C compiler and Python's headers a fallback means the compiled build
    broke (a mypyc type error, say), and the fallback must not hide that."""
    record = build_record()
    if record is None:
        pytest.skip("not installed from a wheel (editable install or source tree): pure Python")
    if record["requested"] == "pure":
        pytest.skip("installed with SILKROUTE_BUILD=pure")
    if record["build"] != "compiled" and _can_compile():
        pytest.fail(f"the install fell back to pure Python here: {record['reason']}")
    if record["build"] == "compiled":
        assert _installed_is_compiled()


@pytest.mark.slow
def test_tests_that_need_the_pure_build_pass_on_the_source_tree() -> None:
    """A few engine tests subclass the engine or patch module attributes that compiled
    callers do not see, and skip (or check less) under the compiled build: with the
    compiled build installed, they run here against the source tree."""
    if not _installed_is_compiled():
        pytest.skip("the installed build is pure Python: these tests ran in full already")
    env = {**os.environ, "PYTHONPATH": str(REPO / "src")}
    origin = subprocess.run(
        [sys.executable, "-c", "import silkroute_sim; print(silkroute_sim.__file__)"],
        env=env,
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert Path(origin.stdout.strip()).parent == REPO / "src" / "silkroute_sim"
    tests = [
        "tests/test_engine.py::test_lazy_customs_hold_in_every_form_of_run",
        "tests/test_engine.py::test_callback_chains_deliver_and_replan_at_a_stop_as_processes_do",
    ]
    done = subprocess.run(
        [sys.executable, "-m", "pytest", "-q", "-p", "no:cacheprovider", *tests],
        cwd=REPO,
        env=env,
        capture_output=True,
        text=True,
        timeout=600,
    )
    assert done.returncode == 0, done.stdout[-3000:]
    assert "4 passed" in done.stdout and "skipped" not in done.stdout, done.stdout[-500:]


# ------------------------------------------------------------ the build hook's choices


@pytest.fixture
def hook(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Any:
    """The build hook for a wheel of this source tree (its compile step replaced by the
    test), with ``SILKROUTE_BUILD`` unset."""
    pytest.importorskip("hatchling")
    import importlib.util

    spec = importlib.util.spec_from_file_location("_silkroute_hatch_build", REPO / "hatch_build.py")
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    monkeypatch.delenv("SILKROUTE_BUILD", raising=False)
    made = module.CompiledBuild(str(REPO), {}, None, None, str(tmp_path), "wheel")
    made.module = module
    yield made
    made.finalize("standard", {}, str(tmp_path / "x.whl"))


def _record(build_data: dict[str, Any]) -> dict[str, str]:
    path = next(k for k, v in build_data["force_include"].items() if v.endswith("_build.json"))
    data: dict[str, str] = json.loads(Path(path).read_text(encoding="utf-8"))
    return data


def test_auto_falls_back_to_pure_python_and_records_why(
    hook: Any, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    log = "error: command '/usr/bin/cc' failed: No such file or directory: '/usr/bin/cc'"

    def fail(tmp: Path, build_data: dict[str, Any]) -> None:
        raise hook.module.CompileError(hook.module._reason(log), log)

    monkeypatch.setattr(hook, "_compile", fail)
    build_data: dict[str, Any] = {"force_include": {}}
    hook.initialize("standard", build_data)
    assert _record(build_data) == {
        "requested": "auto",
        "build": "pure Python",
        "reason": "no C compiler: /usr/bin/cc not found",
    }
    assert "pure_python" not in build_data  # a pure wheel: hatchling's default tags
    assert "building the pure-Python wheel instead" in capsys.readouterr().err


def test_compiled_fails_the_install_instead(hook: Any, monkeypatch: pytest.MonkeyPatch) -> None:
    def fail(tmp: Path, build_data: dict[str, Any]) -> None:
        raise hook.module.CompileError("mypyc reported type errors", "hub.py:1: error: no")

    monkeypatch.setattr(hook, "_compile", fail)
    monkeypatch.setenv("SILKROUTE_BUILD", "compiled")
    with pytest.raises(RuntimeError, match="SILKROUTE_BUILD=pure") as raised:
        hook.initialize("standard", {"force_include": {}})
    assert "hub.py:1: error: no" in str(raised.value)  # mypyc's own message


def test_pure_does_not_compile_and_a_bad_value_is_refused(
    hook: Any, monkeypatch: pytest.MonkeyPatch
) -> None:
    def never(tmp: Path, build_data: dict[str, Any]) -> None:
        raise AssertionError("compiled although SILKROUTE_BUILD=pure")

    monkeypatch.setattr(hook, "_compile", never)
    assert any(r.startswith("mypy==") for r in hook.dependencies())  # auto: fetch mypyc
    monkeypatch.setenv("SILKROUTE_BUILD", " Pure ")
    assert hook.dependencies() == []  # nothing to fetch for a pure build
    build_data: dict[str, Any] = {"force_include": {}}
    hook.initialize("standard", build_data)
    assert _record(build_data)["build"] == "pure Python"
    assert _record(build_data)["requested"] == "pure"
    hook.initialize("editable", {"force_include": {}})  # editable: nothing to do
    monkeypatch.setenv("SILKROUTE_BUILD", "fast")
    with pytest.raises(ValueError, match="SILKROUTE_BUILD='fast': allowed auto, compiled, pure"):
        hook.initialize("standard", {"force_include": {}})


@pytest.mark.parametrize(
    ("log", "reason"),
    [
        (
            "x.c:1:10: fatal error: Python.h: No such file or directory",
            "Python's headers are missing (python3-dev)",
        ),
        ("error: command 'gcc' failed: No such file or directory", "no C compiler: gcc not found"),
        ("[Errno 2] No such file or directory: '/opt/cc'", "no C compiler: /opt/cc not found"),
        ("src/silkroute_sim/hub.py:12: error: Incompatible types", "mypyc reported type errors"),
        ("__native.c:9:5: error: x\ngcc failed with exit code 1", "the C compiler failed"),
        ("bits/x.h: No such file or directory\nfailed with exit code 1", "the C compiler failed"),
        ("something new\nthe last line", "the last line"),
    ],
)
def test_a_failed_build_is_explained_in_a_line(hook: Any, log: str, reason: str) -> None:
    assert hook.module._reason(log) == reason


def test_a_pure_fallback_says_so_in_version_and_before_a_run(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    from silkroute_sim.cli.main import cli

    record = tmp_path / "_build.json"
    record.write_text(
        json.dumps({"requested": "auto", "build": "pure Python", "reason": "no C compiler"}),
        encoding="utf-8",
    )
    monkeypatch.setattr(buildinfo, "RECORD", record)
    monkeypatch.setattr(buildinfo, "compiled_modules", lambda: [])
    assert buildinfo.build_kind() == "pure Python, not compiled: no C compiler"
    version = CliRunner().invoke(cli, ["--version"])
    assert version.exit_code == 0
    assert "(pure Python, not compiled: no C compiler)" in version.stdout
    assert "note: the compiled build could not be made at install" in version.stderr
    ran = CliRunner().invoke(
        cli,
        ["run", "--days", "1", "--warmup-days", "0", "--no-plots", "--out", str(tmp_path / "r")],
    )
    assert ran.exit_code == 0, ran.output
    assert ran.stderr.count("note: the compiled build") == 1
    manifest = json.loads((tmp_path / "r" / "manifest.json").read_text(encoding="utf-8"))
    assert manifest["build"] == "pure Python, not compiled: no C compiler"
    quiet = CliRunner().invoke(
        cli,
        [
            "run",
            "--days",
            "1",
            "--warmup-days",
            "0",
            "--no-plots",
            "-q",
            "--out",
            str(tmp_path / "q"),
        ],
    )
    assert quiet.exit_code == 0 and "note:" not in quiet.stderr
    # a compiled install, or one asked to be pure, has nothing to say
    for data in (
        {"requested": "auto", "build": "compiled"},
        {"requested": "pure", "build": "pure Python"},
    ):
        record.write_text(json.dumps({**data, "reason": ""}), encoding="utf-8")
        assert buildinfo.build_note() is None
        assert "note:" not in CliRunner().invoke(cli, ["--version"]).stderr


@pytest.mark.slow
@pytest.mark.skipif(sys.platform == "win32", reason="MSVC does not read CC")
def test_pip_install_without_a_compiler_installs_the_pure_build_and_says_why(
    tmp_path: Path,
) -> None:
    """The real thing: a user's ``pip install .`` on a machine whose C compiler is
    missing (``CC`` names none) gets a working pure-Python install that says why."""
    target = tmp_path / "site"
    no_cc = str(tmp_path / "no-cc")
    wheel = _build_wheel(tmp_path / "wheels", target, SILKROUTE_BUILD="auto", CC=no_cc)
    assert wheel.name.endswith("-py3-none-any.whl")  # no extensions in it
    version = _silkroute(target, "--version")
    assert version.returncode == 0, version.stderr
    assert f"pure Python, not compiled: no C compiler: {tmp_path / 'no-cc'} not found" in (
        version.stdout
    )
    assert "note: the compiled build could not be made at install" in version.stderr
    out = tmp_path / "run"
    ran = _silkroute(
        target, "run", "--days", "2", "--warmup-days", "0", "--no-plots", "-q", "--out", str(out)
    )
    assert ran.returncode == 0, ran.stderr[-2000:]
    assert json.loads((out / "manifest.json").read_text())["build"].startswith("pure Python, not")
