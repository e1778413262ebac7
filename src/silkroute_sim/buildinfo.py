"""Which build of silkroute-sim is running.

The default install is pure Python. The compiled build (``hatch_build.py``; install
with ``HATCH_BUILD_HOOK_ENABLE_CUSTOM=1 pip install .``, see the README) compiles the
modules of the event loop, :data:`HOT_MODULES`, to C extensions with mypyc: the same
source, the same outputs to the byte (``tests/test_compiled.py``), about a quarter less
time.
"""

from __future__ import annotations

from importlib.machinery import EXTENSION_SUFFIXES
from importlib.util import find_spec

#: the modules the build hook (``hatch_build.py``) compiles: it reads this list
HOT_MODULES = (
    "cargo",
    "corridor",
    "demand",
    "entities",
    "hub",
    "network",
    "records",
    "resources",
    "rng",
)


def compiled_modules() -> list[str]:
    """The hot modules that load from a compiled extension (without importing them)."""
    compiled = []
    for name in HOT_MODULES:
        spec = find_spec(f"{__package__}.{name}")
        origin = spec.origin if spec is not None else None
        if origin is not None and origin.endswith(tuple(EXTENSION_SUFFIXES)):
            compiled.append(name)
    return compiled


def build_kind() -> str:
    """``"pure Python"``, or ``"compiled (mypyc, n of 9 hot modules)"``."""
    compiled = compiled_modules()
    if not compiled:
        return "pure Python"
    return f"compiled (mypyc, {len(compiled)} of {len(HOT_MODULES)} hot modules)"
