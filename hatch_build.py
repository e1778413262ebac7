"""The compiled build, opt-in: mypyc compiles the event loop's modules to C.

A hatchling build hook (``[tool.hatch.build.targets.wheel.hooks.custom]`` in
pyproject.toml). ``pip install .`` builds the pure-Python wheel in seconds, with no C
compiler; ``SILKROUTE_BUILD=compiled pip install .`` compiles the hot modules
(``silkroute_sim.buildinfo.HOT_MODULES``, the one list of them; dotted names below the
package) to C extensions with mypyc and puts them in the wheel beside the Python sources
(an extension module is imported before a source file of the same name). Same source,
byte-identical outputs (CI's ``.ci/compare_builds.py``), about half the simulation time;
the compile takes a minute or two and needs a C compiler and Python's headers.

``SILKROUTE_BUILD`` chooses:

* ``pure`` (the default, also when unset): do not compile;
* ``compiled``: compile, or fail the install with mypyc's or the compiler's message;
* ``auto``: compile; where that fails (no C compiler, no Python headers), build the
  pure-Python wheel instead and record why, so that ``silkroute --version`` and every
  run's manifest say which build runs and why.

Every wheel records the build asked for and the one made (``silkroute_sim/_build.json``,
read by ``silkroute_sim.buildinfo``). mypyc type-checks the compiled modules first with
the project's own mypy settings (pyproject's ``[tool.mypy]``, pydantic plugin included).
The build happens in a temporary folder: the source tree gets no compiled files. Editable
installs stay pure Python.
"""

from __future__ import annotations

import importlib.util
import json
import os
import re
import subprocess
import sys
import tempfile
from pathlib import Path
from typing import Any

from hatchling.builders.hooks.plugin.interface import BuildHookInterface

SETUP = """\
from setuptools import setup
from mypyc.build import mypycify

setup(
    name="silkroute_sim_compiled",
    ext_modules=mypycify({args!r}, opt_level="3"),
)
"""


#: the values ``SILKROUTE_BUILD`` takes (the first is the default)
MODES = ("pure", "compiled", "auto")

#: what the compile needs in the build environment: mypyc, and the packages whose types
#: the compiled modules use (the rest count as Any). Asked for only when it compiles, so
#: that the default pure build and editable installs fetch none of it.
COMPILE_REQUIRES = [
    "mypy==2.4.1",
    "setuptools>=70",
    "pydantic>=2.5,<3",
    "simpy>=4.1,<5",
    "numpy>=1.24",
]


def build_mode() -> str:
    """``SILKROUTE_BUILD``, checked; unset or empty is the default, ``pure``."""
    mode = os.environ.get("SILKROUTE_BUILD", "").strip().lower() or MODES[0]
    if mode not in MODES:
        raise ValueError(
            f"SILKROUTE_BUILD={os.environ['SILKROUTE_BUILD']!r}: allowed {', '.join(MODES)}"
        )
    return mode


def hot_modules(buildinfo: Path) -> tuple[str, ...]:
    """``silkroute_sim.buildinfo.HOT_MODULES``, read from the source tree (the package is
    not importable while its wheel is being built)."""
    spec = importlib.util.spec_from_file_location("_silkroute_buildinfo", buildinfo)
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return tuple(module.HOT_MODULES)


class CompileError(Exception):
    """mypyc or the C compiler failed: ``reason`` in a line, ``log`` its output."""

    def __init__(self, reason: str, log: str) -> None:
        super().__init__(reason)
        self.reason = reason
        self.log = log


#: what a failed build's output says (a pattern), and the line that explains it to a user;
#: the first that matches wins
REASONS = (
    (r"Python\.h", "Python's headers are missing (python3-dev)"),
    (r"command '([^']+)' failed: No such file or directory", "no C compiler"),
    (r"No such file or directory: '([^']+)'", "no C compiler"),
    (r"Microsoft Visual C\+\+", "no C compiler (Microsoft Visual C++ Build Tools)"),
    (r"\.pyi?:\d+: error:", "mypyc reported type errors"),
    (r"failed with exit code|error: command", "the C compiler failed"),
)


def _reason(log: str) -> str:
    for pattern, reason in REASONS:
        found = re.search(pattern, log)
        if found:
            return f"{reason}: {found.group(1)} not found" if found.groups() else reason
    lines = [line.strip() for line in log.splitlines() if line.strip()]
    return lines[-1][:200] if lines else "the build failed without a message"


class CompiledBuild(BuildHookInterface):  # type: ignore[type-arg]
    PLUGIN_NAME = "custom"

    def dependencies(self) -> list[str]:
        return [] if build_mode() == "pure" else list(COMPILE_REQUIRES)

    def initialize(self, version: str, build_data: dict[str, Any]) -> None:
        if self.target_name != "wheel" or version == "editable":
            return
        mode = build_mode()
        self._tmp = tempfile.TemporaryDirectory(prefix="silkroute-mypyc-")
        tmp = Path(self._tmp.name)
        record: dict[str, str] = {"requested": mode, "build": "pure Python", "reason": ""}
        if mode != "pure":
            try:
                self._compile(tmp, build_data)
                record["build"] = "compiled"
            except CompileError as exc:
                if mode == "compiled":
                    raise RuntimeError(
                        f"the compiled build (mypyc) failed: {exc.reason}. Install without "
                        "SILKROUTE_BUILD=compiled for the pure-Python build (the default)."
                        f"\n{exc.log}"
                    ) from None
                record["reason"] = exc.reason
                # pip shows this with -v; the record makes --version and manifests say it
                print(
                    f"silkroute-sim: the compiled build failed ({exc.reason}); building the "
                    "pure-Python wheel instead. SILKROUTE_BUILD=compiled shows mypyc's output.",
                    file=sys.stderr,
                )
        path = tmp / "_build.json"
        path.write_text(json.dumps(record, indent=1) + "\n", encoding="utf-8")
        build_data["force_include"][str(path)] = "silkroute_sim/_build.json"

    def _compile(self, tmp: Path, build_data: dict[str, Any]) -> None:
        """Compile the hot modules into ``tmp`` and add the extensions to the wheel, or
        raise :class:`CompileError`."""
        root = Path(self.root)
        package = root / "src" / "silkroute_sim"
        modules = hot_modules(package / "buildinfo.py")
        sources = [str(package / f"{name.replace('.', '/')}.py") for name in modules]
        lib = tmp / "lib"
        args = [
            "--config-file",
            str(root / "pyproject.toml"),
            # the modules it compiles must type-check; stub packages differ between
            # environments, so errors in the other modules (which `mypy src` checks)
            # and unused ignores are not reported here
            "--follow-imports=silent",
            "--no-warn-unused-ignores",
            *sources,
        ]
        (tmp / "setup.py").write_text(SETUP.format(args=args), encoding="utf-8")
        cmd = [sys.executable, "setup.py", "build_ext", "--build-lib", str(lib)]
        cmd += ["--build-temp", str(tmp / "build")]
        env = {**os.environ, "MYPY_CACHE_DIR": str(tmp / "mypy-cache")}
        try:
            done = subprocess.run(cmd, cwd=tmp, env=env, capture_output=True, text=True)
        except OSError as exc:
            raise CompileError(f"could not run the build: {exc}", str(exc)) from None
        if done.returncode:
            log = done.stdout[-4000:] + done.stderr[-4000:]
            raise CompileError(_reason(log), log)
        built = sorted(p for p in lib.rglob("*") if p.suffix in {".so", ".pyd"})
        wanted = {f"silkroute_sim/{name.replace('.', '/')}" for name in modules}
        got = {f"{p.parent.relative_to(lib).as_posix()}/{p.name.split('.')[0]}" for p in built}
        if wanted - got:
            missing = f"mypyc built no extension for {sorted(wanted - got)}"
            raise CompileError(missing, missing)
        for path in built:
            build_data["force_include"][str(path)] = path.relative_to(lib).as_posix()
        build_data["pure_python"] = False
        build_data["infer_tag"] = True

    def finalize(self, version: str, build_data: dict[str, Any], artifact_path: str) -> None:
        tmp = getattr(self, "_tmp", None)
        if tmp is not None:
            tmp.cleanup()
