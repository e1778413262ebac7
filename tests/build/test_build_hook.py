"""The build hook (``hatch_build.py``) and the build that runs (``silkroute_sim.buildinfo``).

``pip install .`` builds pure Python; ``SILKROUTE_BUILD=compiled`` compiles the hot
modules with mypyc or fails; ``auto`` compiles where it can and otherwise builds pure
Python and says why. These tests call the hook's functions directly, with its compile
step (mypyc in a subprocess) replaced by the test: no wheel is built here. CI builds the
compiled wheel, runs the whole suite against it and compares its seeded outputs with the
pure build's to the byte (``.ci/run``, ``.ci/compare_builds.py``).
"""

from __future__ import annotations

import importlib.util
import json
import subprocess
from pathlib import Path
from types import ModuleType, SimpleNamespace
from typing import Any

import pytest
from click.testing import CliRunner

from silkroute_sim import buildinfo
from silkroute_sim.buildinfo import HOT_MODULES, build_kind, build_record, compiled_modules

from ..conftest import REPO

try:
    import tomllib
except ImportError:  # Python 3.10
    tomllib = None  # type: ignore[assignment]

#: the file name suffix of a compiled extension here (``.cpython-311-x86_64-linux-gnu.so``)
EXT = importlib.machinery.EXTENSION_SUFFIXES[0]


@pytest.mark.skipif(tomllib is None, reason="reading pyproject.toml needs Python 3.11")
def test_the_build_hook_runs_for_every_wheel_and_ships_in_the_sdist() -> None:
    pyproject = tomllib.loads((REPO / "pyproject.toml").read_text(encoding="utf-8"))
    targets = pyproject["tool"]["hatch"]["build"]["targets"]
    assert targets["wheel"]["hooks"]["custom"]["enable-by-default"] is True
    assert "hatch_build.py" in targets["sdist"]["include"]
    assert pyproject["build-system"]["requires"] == ["hatchling>=1.21"]  # no mypy by default


def test_every_hot_module_is_a_source_file_of_the_package() -> None:
    """The hook compiles ``HOT_MODULES``, dotted names below the package."""
    assert len(set(HOT_MODULES)) == len(HOT_MODULES)
    for name in HOT_MODULES:
        assert (REPO / "src" / "silkroute_sim" / f"{name.replace('.', '/')}.py").is_file(), name


def _load_hook_module() -> ModuleType:
    pytest.importorskip("hatchling")
    spec = importlib.util.spec_from_file_location("_silkroute_hatch_build", REPO / "hatch_build.py")
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


@pytest.fixture
def hook(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Any:
    """The build hook for a wheel of this source tree, with ``SILKROUTE_BUILD`` unset."""
    module = _load_hook_module()
    monkeypatch.delenv("SILKROUTE_BUILD", raising=False)
    made = module.CompiledBuild(str(REPO), {}, None, None, str(tmp_path), "wheel")
    made.module = module
    yield made
    made.finalize("standard", {}, str(tmp_path / "x.whl"))


def _record(build_data: dict[str, Any]) -> dict[str, str]:
    path = next(k for k, v in build_data["force_include"].items() if v.endswith("_build.json"))
    data: dict[str, str] = json.loads(Path(path).read_text(encoding="utf-8"))
    return data


def _never(tmp: Path, build_data: dict[str, Any]) -> None:
    raise AssertionError("the hook compiled although the build asked for is pure Python")


@pytest.mark.parametrize("value", [None, "", " Pure "])
def test_the_default_build_is_pure_python_and_fetches_nothing(
    hook: Any, monkeypatch: pytest.MonkeyPatch, value: str | None
) -> None:
    if value is not None:
        monkeypatch.setenv("SILKROUTE_BUILD", value)
    monkeypatch.setattr(hook, "_compile", _never)
    assert hook.dependencies() == []  # no mypy, no setuptools: a build in seconds
    build_data: dict[str, Any] = {"force_include": {}}
    hook.initialize("standard", build_data)
    assert _record(build_data) == {"requested": "pure", "build": "pure Python", "reason": ""}
    assert "pure_python" not in build_data  # hatchling's default tags: py3-none-any
    assert list(build_data["force_include"].values()) == ["silkroute_sim/_build.json"]


def test_editable_installs_and_sdists_are_left_alone(
    hook: Any, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("SILKROUTE_BUILD", "compiled")
    monkeypatch.setattr(hook, "_compile", _never)
    build_data: dict[str, Any] = {"force_include": {}}
    hook.initialize("editable", build_data)
    assert build_data == {"force_include": {}}


def test_a_bad_value_is_refused_with_the_allowed_ones(
    hook: Any, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("SILKROUTE_BUILD", "fast")
    with pytest.raises(ValueError, match="SILKROUTE_BUILD='fast': allowed pure, compiled, auto"):
        hook.initialize("standard", {"force_include": {}})


def _fake_mypyc(monkeypatch: pytest.MonkeyPatch, hook: Any, leave_out: str = "") -> list[str]:
    """Replace the compile's subprocess by one that writes an empty extension file for
    each source the generated ``setup.py`` names (but ``leave_out``); returns them."""
    sources: list[str] = []

    def run(cmd: list[str], cwd: Path, **kwargs: Any) -> subprocess.CompletedProcess[str]:
        setup = (Path(cwd) / "setup.py").read_text(encoding="utf-8")
        assert "mypycify(" in setup
        args = cmd[cmd.index("--build-lib") + 1]
        package = REPO / "src"
        for name in HOT_MODULES:
            source = str(package / "silkroute_sim" / f"{name.replace('.', '/')}.py")
            if source in setup:
                sources.append(source)
            if name == leave_out:
                continue
            ext = Path(args) / "silkroute_sim" / f"{name.replace('.', '/')}{EXT}"
            ext.parent.mkdir(parents=True, exist_ok=True)
            ext.write_bytes(b"")
        return subprocess.CompletedProcess(cmd, 0, "", "")

    monkeypatch.setattr(hook.module, "subprocess", SimpleNamespace(run=run))
    return sources


def test_compiled_compiles_every_hot_module_into_its_subpackage(
    hook: Any, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("SILKROUTE_BUILD", "compiled")
    assert any(r.startswith("mypy==") for r in hook.dependencies())  # fetches mypyc
    sources = _fake_mypyc(monkeypatch, hook)
    build_data: dict[str, Any] = {"force_include": {}}
    hook.initialize("standard", build_data)
    assert len(sources) == len(HOT_MODULES)  # setup.py names every hot module's file
    assert all(Path(source).is_file() for source in sources)
    shipped = sorted(v for v in build_data["force_include"].values() if v.endswith(EXT))
    assert shipped == sorted(f"silkroute_sim/{n.replace('.', '/')}{EXT}" for n in HOT_MODULES)
    assert "silkroute_sim/engine/resources" + EXT in shipped  # dots became folders
    assert build_data["pure_python"] is False and build_data["infer_tag"] is True
    assert _record(build_data) == {"requested": "compiled", "build": "compiled", "reason": ""}


def test_compiled_fails_when_a_hot_module_was_not_built(
    hook: Any, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("SILKROUTE_BUILD", "compiled")
    _fake_mypyc(monkeypatch, hook, leave_out="engine.rng")
    with pytest.raises(
        RuntimeError, match=r"built no extension for \['silkroute_sim/engine/rng'\]"
    ):
        hook.initialize("standard", {"force_include": {}})


def test_compiled_fails_the_install_with_the_compilers_message(
    hook: Any, monkeypatch: pytest.MonkeyPatch
) -> None:
    log = "x.c:1:10: fatal error: Python.h: No such file or directory\ncompilation terminated."

    def run(cmd: list[str], **kwargs: Any) -> subprocess.CompletedProcess[str]:
        return subprocess.CompletedProcess(cmd, 1, "", log)

    monkeypatch.setattr(hook.module, "subprocess", SimpleNamespace(run=run))
    monkeypatch.setenv("SILKROUTE_BUILD", "compiled")
    with pytest.raises(RuntimeError) as raised:
        hook.initialize("standard", {"force_include": {}})
    message = str(raised.value)
    assert "Python's headers are missing (python3-dev)" in message
    assert "fatal error: Python.h: No such file or directory" in message  # the compiler's own
    assert "Install without SILKROUTE_BUILD=compiled" in message


def test_auto_falls_back_to_pure_python_and_records_why(
    hook: Any, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    log = "error: command '/usr/bin/cc' failed: No such file or directory: '/usr/bin/cc'"

    def fail(tmp: Path, build_data: dict[str, Any]) -> None:
        raise hook.module.CompileError(hook.module._reason(log), log)

    monkeypatch.setattr(hook, "_compile", fail)
    monkeypatch.setenv("SILKROUTE_BUILD", "auto")
    build_data: dict[str, Any] = {"force_include": {}}
    hook.initialize("standard", build_data)
    assert _record(build_data) == {
        "requested": "auto",
        "build": "pure Python",
        "reason": "no C compiler: /usr/bin/cc not found",
    }
    assert "pure_python" not in build_data  # a pure wheel: hatchling's default tags
    assert "building the pure-Python wheel instead" in capsys.readouterr().err


@pytest.mark.parametrize(
    ("log", "reason"),
    [
        (
            "x.c:1:10: fatal error: Python.h: No such file or directory",
            "Python's headers are missing (python3-dev)",
        ),
        ("error: command 'gcc' failed: No such file or directory", "no C compiler: gcc not found"),
        ("[Errno 2] No such file or directory: '/opt/cc'", "no C compiler: /opt/cc not found"),
        (
            "src/silkroute_sim/model/hub.py:12: error: Incompatible types",
            "mypyc reported type errors",
        ),
        ("__native.c:9:5: error: x\ngcc failed with exit code 1", "the C compiler failed"),
        ("bits/x.h: No such file or directory\nfailed with exit code 1", "the C compiler failed"),
        ("something new\nthe last line", "the last line"),
        ("", "the build failed without a message"),
    ],
)
def test_a_failed_build_is_explained_in_a_line(log: str, reason: str) -> None:
    assert _load_hook_module()._reason(log) == reason


# ------------------------------------------------------------ the build that runs


def test_the_build_that_runs_is_the_one_the_install_recorded() -> None:
    """The installed wheel's record (none for a source tree or an editable install) and
    the modules that load compiled agree, and ``--version`` and manifests say which: CI
    runs this against the default pure wheel and again against the compiled one."""
    record = build_record()
    compiled = compiled_modules()
    if record is not None and record["build"] == "compiled":
        assert compiled == list(HOT_MODULES)
        assert (
            build_kind()
            == f"compiled (mypyc, {len(HOT_MODULES)} of {len(HOT_MODULES)} hot modules)"
        )
    else:
        assert compiled == []
        assert build_kind().startswith("pure Python")
    if record is None or record["requested"] != "auto":
        assert buildinfo.build_note() is None


def _run(tmp_path: Path, name: str, *extra: str) -> Any:
    from silkroute_sim.cli.app import cli

    args = ["run", "--days", "1", "--warmup-days", "0", "--no-plots", *extra]
    return CliRunner().invoke(cli, [*args, "--out", str(tmp_path / name)])


def _fake_record(tmp_path: Path, monkeypatch: pytest.MonkeyPatch, **data: str) -> None:
    record = tmp_path / "_build.json"
    record.write_text(json.dumps({"reason": "", **data}), encoding="utf-8")
    monkeypatch.setattr(buildinfo, "RECORD", record)
    monkeypatch.setattr(buildinfo, "compiled_modules", lambda: [])


def test_an_auto_fallback_says_so_in_version_and_before_a_run(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    from silkroute_sim.cli.app import cli

    _fake_record(
        tmp_path, monkeypatch, requested="auto", build="pure Python", reason="no C compiler"
    )
    assert buildinfo.build_kind() == "pure Python, not compiled: no C compiler"
    version = CliRunner().invoke(cli, ["--version"])
    assert version.exit_code == 0
    assert "(pure Python, not compiled: no C compiler)" in version.stdout
    assert "note: the compiled build could not be made at install" in version.stderr
    ran = _run(tmp_path, "r")
    assert ran.exit_code == 0, ran.output
    assert ran.stderr.count("note: the compiled build") == 1
    manifest = json.loads((tmp_path / "r" / "manifest.json").read_text(encoding="utf-8"))
    assert manifest["build"] == "pure Python, not compiled: no C compiler"
    quiet = _run(tmp_path, "q", "-q")
    assert quiet.exit_code == 0 and "note:" not in quiet.stderr


@pytest.mark.parametrize(
    "data",
    [
        {"requested": "pure", "build": "pure Python"},  # the default install
        {"requested": "compiled", "build": "compiled"},
        {"requested": "auto", "build": "compiled"},
    ],
)
def test_an_install_that_is_the_build_asked_for_has_nothing_to_say(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, data: dict[str, str]
) -> None:
    from silkroute_sim.cli.app import cli

    _fake_record(tmp_path, monkeypatch, **data)
    assert buildinfo.build_note() is None
    version = CliRunner().invoke(cli, ["--version"])
    assert version.exit_code == 0 and "note:" not in version.stderr
    if data["build"] == "pure Python":
        assert "(pure Python)" in version.stdout
