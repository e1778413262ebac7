"""Which build of silkroute-sim is running.

``pip install .`` installs the pure-Python build. ``SILKROUTE_BUILD=compiled pip install .``
installs the compiled build (``hatch_build.py``; docs/performance.md): mypyc compiles the
modules of the event loop, :data:`HOT_MODULES`, to C extensions: the same source, the
same outputs to the byte (checked in CI), about half the simulation time.
``SILKROUTE_BUILD=auto`` compiles where it can and otherwise installs the pure-Python
build, recording why in ``_build.json`` beside this file, which :func:`build_note` reads.
Editable installs and the source tree are pure Python.
"""

from __future__ import annotations

import json
from importlib.machinery import EXTENSION_SUFFIXES
from importlib.util import find_spec
from pathlib import Path

#: the modules the build hook (``hatch_build.py``) compiles, dotted below the package: it
#: reads this list
HOT_MODULES = (
    "model.cargo",
    "model.column_log",
    "model.corridor",
    "model.customs",
    "model.demand",
    "model.dispatch",
    "model.entities",
    "model.holding",
    "model.hub",
    "model.inbound",
    "model.network",
    "model.records",
    "model.routing",
    "model.shipment_log",
    "model.train_log",
    "engine.clock",
    "engine.pools",
    "engine.monitors",
    "engine.resources",
    "engine.rng",
    "engine.tasks",
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
    """``"pure Python"``, or ``"compiled (mypyc, n of 12 hot modules)"``; a pure-Python
    install whose compile failed under ``SILKROUTE_BUILD=auto`` says why it is not."""
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
    """Why the install is pure Python although ``SILKROUTE_BUILD=auto`` tried to compile
    it, or None (the default pure build, a compiled build, a source tree)."""
    record = build_record()
    if record is None or record.get("requested") != "auto" or record.get("build") != "pure Python":
        return None
    return str(record.get("reason") or "unknown reason")


def build_note() -> str | None:
    """One line for a user when ``SILKROUTE_BUILD=auto`` could not compile at install, so
    the pure-Python build runs; None otherwise (the default pure build needs no note)."""
    reason = _fallback_reason()
    if reason is None or compiled_modules():
        return None
    return (
        f"the compiled build could not be made at install ({reason}), so this is the "
        "pure-Python build, about twice as slow; with a C compiler and Python's headers, "
        "reinstall with SILKROUTE_BUILD=compiled and pip's --no-cache-dir --force-reinstall "
        "(it shows the compiler's output)"
    )
