"""Result folders: CSV/JSON writers that never leave a partial result.

A run is written into a hidden temporary folder next to the target and renamed into
place when complete, so a result folder is either complete or absent. The completion
marker ``.silkroute-complete`` is written last; readers treat a folder without it as
absent. An existing folder that silkroute did not write is never replaced.
"""

from __future__ import annotations

import json
import os
import platform
import shutil
import uuid
from collections.abc import Callable
from importlib import metadata
from pathlib import Path
from typing import Any

import pandas as pd

from .errors import SilkrouteError

MARKER = ".silkroute-complete"
FLOAT_FORMAT = "%.4f"
RUN_FILES = (
    "summary.csv",
    "daily.csv",
    "trains.csv",
    "shipments.csv",
    "node_events.csv",
    "manifest.json",
)
PACKAGES = ("simpy", "networkx", "numpy", "pandas", "matplotlib", "pydantic", "PyYAML")


class OutputError(SilkrouteError):
    """The output folder cannot be written (exists and is not ours, read-only, full)."""


def package_version() -> str:
    try:
        return metadata.version("silkroute-sim")
    except metadata.PackageNotFoundError:
        return "0+unknown"


def environment_versions() -> dict[str, str]:
    versions: dict[str, str] = {}
    for name in PACKAGES:
        try:
            versions[name] = metadata.version(name)
        except metadata.PackageNotFoundError:
            versions[name] = "missing"
    return versions


def is_complete(folder: Path) -> bool:
    return (folder / MARKER).is_file()


def is_silkroute_folder(folder: Path) -> bool:
    """Written by silkroute (complete or not): it has our marker or our manifest."""
    if is_complete(folder):
        return True
    manifest = folder / "manifest.json"
    if manifest.is_file():
        try:
            return "silkroute_version" in json.loads(manifest.read_text(encoding="utf-8"))
        except (OSError, ValueError):
            return False
    return False


def atomic_write_text(path: Path, text: str) -> None:
    tmp = path.with_name(f".{path.name}.tmp-{uuid.uuid4().hex[:8]}")
    try:
        with open(tmp, "w", encoding="utf-8", newline="\n") as fh:
            fh.write(text)
            fh.flush()
            os.fsync(fh.fileno())
        os.replace(tmp, path)
    finally:
        if tmp.exists():
            tmp.unlink()


def write_csv(df: pd.DataFrame, path: Path) -> None:
    atomic_write_text(path, df.to_csv(index=False, float_format=FLOAT_FORMAT, lineterminator="\n"))


def write_json(data: Any, path: Path) -> None:
    atomic_write_text(path, json.dumps(data, indent=2, ensure_ascii=False, sort_keys=False) + "\n")


def check_output_target(out: Path, force: bool = False) -> None:
    """Refuse to touch a folder silkroute did not write (unless ``force``)."""
    if out.exists() and not out.is_dir():
        raise OutputError(f"{out}: exists and is not a folder; choose another --out")
    if out.is_dir() and any(out.iterdir()) and not is_silkroute_folder(out) and not force:
        raise OutputError(
            f"{out}: folder exists and was not written by silkroute; choose another --out "
            "or pass --force to add silkroute's files to it"
        )


def write_folder(out: Path, fill: Callable[[Path], None], force: bool = False) -> Path:
    """Create ``out`` atomically: ``fill`` writes into a temporary folder that is renamed
    into place; an older silkroute folder at ``out`` is replaced only once the new one is
    complete. With ``force`` on a foreign folder, silkroute's files are written into it
    one by one (each atomically) and nothing else there is touched."""
    out = Path(out)
    check_output_target(out, force)
    parent = out.parent if str(out.parent) else Path(".")
    try:
        parent.mkdir(parents=True, exist_ok=True)
    except OSError as exc:
        raise OutputError(f"{parent}: cannot create the folder ({exc.strerror})") from None
    if out.is_dir() and any(out.iterdir()) and not is_silkroute_folder(out):
        # --force on a foreign folder: never delete anything of the user's
        staging = _staging(parent, out.name)
        try:
            fill(staging)
            (out / MARKER).unlink(missing_ok=True)
            for item in sorted(staging.rglob("*")):
                target = out / item.relative_to(staging)
                if item.is_dir():
                    target.mkdir(exist_ok=True)
                elif item.name != MARKER:
                    os.replace(item, target)
            os.replace(staging / MARKER, out / MARKER)
        finally:
            shutil.rmtree(staging, ignore_errors=True)
        return out
    staging = _staging(parent, out.name)
    try:
        fill(staging)
        if out.exists():
            old = parent / f".{out.name}.old-{uuid.uuid4().hex[:8]}"
            os.replace(out, old)
            os.replace(staging, out)
            shutil.rmtree(old, ignore_errors=True)
        else:
            os.replace(staging, out)
    except OSError as exc:
        shutil.rmtree(staging, ignore_errors=True)
        raise OutputError(f"{out}: cannot write results ({exc.strerror or exc})") from None
    except BaseException:
        shutil.rmtree(staging, ignore_errors=True)
        raise
    return out


def _staging(parent: Path, name: str) -> Path:
    staging = parent / f".{name}.tmp-{os.getpid()}-{uuid.uuid4().hex[:8]}"
    try:
        staging.mkdir()
    except OSError as exc:
        raise OutputError(f"{parent}: cannot write here ({exc.strerror})") from None
    return staging


def mark_complete(folder: Path, info: dict[str, Any]) -> None:
    atomic_write_text(folder / MARKER, json.dumps(info, sort_keys=True) + "\n")


def base_manifest() -> dict[str, Any]:
    return {
        "silkroute_version": package_version(),
        "version": package_version(),
        "python": platform.python_version(),
        "packages": environment_versions(),
    }
