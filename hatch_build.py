"""The opt-in compiled build: ``HATCH_BUILD_HOOK_ENABLE_CUSTOM=1 pip install .``

A hatchling build hook (``[tool.hatch.build.targets.wheel.hooks.custom]`` in
pyproject.toml) that compiles the event loop's modules to C extensions with mypyc and
puts them in the wheel beside the Python sources (an extension module is imported before
a source file of the same name). The modules are ``silkroute_sim.buildinfo.HOT_MODULES``,
the one list of them. Same source, byte-identical outputs (``tests/test_compiled.py``),
about a quarter less time.

mypyc type-checks the package first with the project's own mypy settings (pyproject's
``[tool.mypy]``, pydantic plugin included). The build happens in a temporary folder: the
source tree gets no compiled files. A failure (no C compiler, say) fails the install
with mypyc's message: whoever asked for the compiled build learns it is not there,
rather than getting the pure one without noticing. Editable installs stay pure Python.
"""

from __future__ import annotations

import importlib.util
import os
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


def hot_modules(buildinfo: Path) -> tuple[str, ...]:
    """``silkroute_sim.buildinfo.HOT_MODULES``, read from the source tree (the package is
    not importable while its wheel is being built)."""
    spec = importlib.util.spec_from_file_location("_silkroute_buildinfo", buildinfo)
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return tuple(module.HOT_MODULES)


class CompiledBuild(BuildHookInterface):  # type: ignore[type-arg]
    PLUGIN_NAME = "custom"

    def initialize(self, version: str, build_data: dict[str, Any]) -> None:
        if self.target_name != "wheel" or version == "editable":
            return
        root = Path(self.root)
        package = root / "src" / "silkroute_sim"
        modules = hot_modules(package / "buildinfo.py")
        sources = [str(package / f"{name}.py") for name in modules]
        self._tmp = tempfile.TemporaryDirectory(prefix="silkroute-mypyc-")
        tmp = Path(self._tmp.name)
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
        done = subprocess.run(cmd, cwd=tmp, env=env, capture_output=True, text=True)
        if done.returncode:
            raise RuntimeError(
                "the compiled build (mypyc) failed; install without "
                "HATCH_BUILD_HOOK_ENABLE_CUSTOM for the pure-Python build.\n"
                + done.stdout[-4000:]
                + done.stderr[-4000:]
            )
        built = sorted(p for p in lib.rglob("*") if p.suffix in {".so", ".pyd"})
        wanted = {f"silkroute_sim/{name}" for name in modules}
        got = {f"{p.parent.relative_to(lib).as_posix()}/{p.name.split('.')[0]}" for p in built}
        if wanted - got:
            raise RuntimeError(f"mypyc built no extension for {sorted(wanted - got)}")
        for path in built:
            build_data["force_include"][str(path)] = path.relative_to(lib).as_posix()
        build_data["pure_python"] = False
        build_data["infer_tag"] = True

    def finalize(self, version: str, build_data: dict[str, Any], artifact_path: str) -> None:
        tmp = getattr(self, "_tmp", None)
        if tmp is not None:
            tmp.cleanup()
