"""CSV and JSON writers, the manifest's common fields, and the output guard's API.

Every write goes through the output guard, :mod:`silkroute_sim.outputs.guard`: a result is
built in a hidden staging folder and swapped into place whole, so a result folder is
either complete or absent; the completion marker ``.silkroute-complete`` is written last
and lists only the files silkroute wrote; a reader treats a folder without it as absent.
The guard's functions are importable from here too.

Never destroy user data: an existing folder that silkroute did not write is refused
unless ``force``; a file silkroute did not write is never replaced or removed.
"""

from __future__ import annotations

import json
import platform
from importlib import metadata
from pathlib import Path
from typing import Any

import pandas as pd

from silkroute_sim.buildinfo import build_kind
from silkroute_sim.outputs.guard import (
    MARKER,
    OutputError,
    _jsonable,
    atomic_write,
    atomic_write_text,
    check_output_target,
    clean_leftovers,
    complete_folders,
    folder_kind,
    inventory,
    is_complete,
    is_silkroute_folder,
    listed_files,
    mark_complete,
    owned_files,
    read_marker,
    remove_path,
    temp_name,
    user_files,
)
from silkroute_sim.outputs.replace import write_folder
from silkroute_sim.outputs.tablefiles import FLOAT_FORMAT, write_csv_file

__all__ = [
    "FLOAT_FORMAT",
    "MARKER",
    "OutputError",
    "atomic_write",
    "atomic_write_text",
    "base_manifest",
    "check_output_target",
    "clean_leftovers",
    "complete_folders",
    "environment_versions",
    "folder_kind",
    "inventory",
    "is_complete",
    "is_silkroute_folder",
    "listed_files",
    "mark_complete",
    "owned_files",
    "package_version",
    "read_marker",
    "remove_path",
    "temp_name",
    "user_files",
    "write_csv",
    "write_folder",
    "write_json",
]

RUN_FILES = (
    "summary.csv",
    "daily.csv",
    "trains.csv",
    "shipments.csv",
    "node_events.csv",
    "manifest.json",
)
PACKAGES = ("simpy", "networkx", "numpy", "pandas", "matplotlib", "pydantic", "PyYAML")


def package_version() -> str:
    try:
        return metadata.version("silkroute-sim")
    except metadata.PackageNotFoundError:  # imported from a source tree, not installed
        from silkroute_sim._version import __version__

        return __version__


def environment_versions() -> dict[str, str]:
    versions: dict[str, str] = {}
    for name in PACKAGES:
        try:
            versions[name] = metadata.version(name)
        except metadata.PackageNotFoundError:
            versions[name] = "missing"
    return versions


def write_csv(df: pd.DataFrame, path: Path) -> None:
    """A tidy CSV (empty cell for NaN, four decimals), written atomically by the column
    writer of :mod:`silkroute_sim.outputs.tablefiles`: the bytes of ``df.to_csv(index=False,
    float_format=FLOAT_FORMAT, lineterminator="\\n")``, several times faster."""
    write_csv_file(df, path)


def write_json(data: Any, path: Path) -> None:
    text = json.dumps(_jsonable(data), indent=2, ensure_ascii=False, allow_nan=False)
    atomic_write_text(path, text + "\n")


def base_manifest() -> dict[str, Any]:
    return {
        "silkroute_version": package_version(),
        "version": package_version(),
        "python": platform.python_version(),
        "packages": environment_versions(),
        "build": build_kind(),  # pure Python or compiled: the same outputs either way
    }
