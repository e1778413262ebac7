"""Which build of silkroute-sim is running.

``pip install .`` builds the compiled build (``hatch_build.py``, see the README): it
compiles the modules of the event loop, :data:`HOT_MODULES`, to C extensions with mypyc:
the same source, the same outputs to the byte (``tests/test_compiled.py``), about half
the time. Where it cannot compile (no C compiler, say) it installs the pure-Python build
and records why in ``_build.json`` beside this file, which :func:`build_note` reads.
Editable installs and the source tree are pure Python.
"""

from __future__ import annotations

import json
from importlib.machinery import EXTENSION_SUFFIXES
from importlib.util import find_spec
from pathlib import Path

#: the modules the build hook (``hatch_build.py``) compiles: it reads this list
HOT_MODULES = (
    "model.cargo",
    "model.corridor",
    "model.demand",
    "model.entities",
    "model.hub",
    "model.network",
    "model.records",
    "engine.resources",
    "engine.rng",
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
    """``"pure Python"``, or ``"compiled (mypyc, n of 9 hot modules)"``; a pure-Python
    install that was meant to be compiled says why it is not."""
    compiled = compiled_modules()
    if compiled:
        return f"compiled (mypyc, {len(compiled)} of {len(HOT_MODULES)} hot modules)"
    reason = _fallback_reason()
    return "pure Python" if reason is None else f"pure Python, not compiled: {reason}"


#: what the build hook wrote into the wheel: the build asked for, the one made, and why
RECORD = Path(__file__).with_name("_build.json")


def build_record() -> dict[str, str] | None:
    """The installed wheel's build record; None for a source tree or editable install."""
    try:
        data = json.loads(RECORD.read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return None
    return data if isinstance(data, dict) else None


def _fallback_reason() -> str | None:
    """Why the install is pure Python although it was meant to be compiled, or None."""
    record = build_record()
    if record is None or record.get("requested") != "auto" or record.get("build") != "pure Python":
        return None
    return str(record.get("reason") or "unknown reason")


def build_note() -> str | None:
    """One line for a user when the compiled build was asked for and is not what runs
    (the install could not compile); None otherwise."""
    reason = _fallback_reason()
    if reason is None or compiled_modules():
        return None
    return (
        f"the compiled build could not be made at install ({reason}), so this is the "
        "pure-Python build, about twice as slow; with a C compiler and Python's headers, "
        "reinstall with pip's --no-cache-dir --force-reinstall (SILKROUTE_BUILD=compiled "
        "shows the compiler's output)"
    )
