"""Result folders: CSV/JSON writers that never leave a partial result.

A result is written into a hidden staging folder next to the target and renamed into
place when complete, so a result folder is either complete or absent. The completion
marker ``.silkroute-complete`` is written last and lists the files silkroute wrote; a
reader treats a folder without it as absent.

Never destroy user data: an existing folder that silkroute did not write is refused
unless ``force``; and whenever a folder holds files silkroute did not write (a user's
notes next to a result, say), only silkroute's own files are replaced or removed —
everything else stays where it was.
"""

from __future__ import annotations

import contextlib
import errno
import json
import math
import os
import platform
import re
import shutil
import uuid
from collections.abc import Callable, Iterator
from importlib import metadata
from pathlib import Path, PurePosixPath
from typing import IO, Any

import pandas as pd

from silkroute_sim.buildinfo import build_kind
from silkroute_sim.config.errors import SilkrouteError

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
#: files a silkroute folder written before markers listed their files is known to hold
_LEGACY_OWNED = re.compile(r"^(?:[\w\-]+\.(?:csv|json|html|md)|plots/[^/]+\.png)$")
#: ``.<name>.tmp-<pid>-<hex>`` staging folders and temporary files, ``.<name>.old-<pid>-<hex>``
_LEFTOVER = re.compile(r"^\.(?P<name>.+)\.(?P<kind>tmp|old)-(?P<pid>\d+)-[0-9a-f]{8}$")


class OutputError(SilkrouteError):
    """The output folder cannot be written (exists and is not ours, read-only, full)."""


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


# --------------------------------------------------------------------------- reading


def read_marker(folder: Path) -> dict[str, Any] | None:
    """The completion marker's content, or None when there is none (or it is unreadable)."""
    try:
        info = json.loads((Path(folder) / MARKER).read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return None
    return info if isinstance(info, dict) else None


def _safe_relative(name: object) -> str | None:
    """``name`` if it is a plain relative path inside a folder (no '..', not absolute)."""
    if not isinstance(name, str) or not name or "\\" in name or "\x00" in name:
        return None
    path = PurePosixPath(name.rstrip("/"))
    if path.is_absolute() or any(part in ("..", ".", "") for part in path.parts):
        return None
    return name


def listed_files(info: dict[str, Any]) -> list[str] | None:
    """The files a marker lists (``dir/`` entries are nested result folders), or None
    for a marker that lists none (written before markers listed their files)."""
    files = info.get("files")
    if not isinstance(files, list):
        return None
    names = [_safe_relative(f) for f in files]
    return [n for n in names if n is not None]


def is_complete(folder: Path) -> bool:
    """A finished result: the marker, written last, is there. (Files deleted from a result
    afterwards, a report page say, do not make it unfinished.)"""
    return (Path(folder) / MARKER).is_file()


def folder_kind(folder: Path) -> str | None:
    """``run``, ``replications``, ``comparison`` … from the completion marker (None if the
    folder is not a complete silkroute result)."""
    info = read_marker(folder) if is_complete(folder) else None
    kind = info.get("kind") if info is not None else None
    return str(kind) if kind else None


def complete_folders(parent: Path) -> Iterator[Path]:
    """Complete result folders directly under ``parent`` (staging and hidden ones skipped)."""
    parent = Path(parent)
    if not parent.is_dir():
        return
    for item in sorted(parent.iterdir()):
        if not item.name.startswith(".") and item.is_dir() and is_complete(item):
            yield item


def is_silkroute_folder(folder: Path) -> bool:
    """Written by silkroute (complete or not): it has our marker or our manifest."""
    if (folder / MARKER).is_file():
        return True
    manifest = folder / "manifest.json"
    if manifest.is_file():
        try:
            return "silkroute_version" in json.loads(manifest.read_text(encoding="utf-8"))
        except (OSError, ValueError, TypeError):
            return False
    return False


def inventory(folder: Path) -> list[str]:
    """Files under ``folder`` (relative, '/'-separated, sorted), leaving out the marker and
    temporary files; a sub-folder that is itself a complete result counts as one ``dir/``."""
    out: list[str] = []

    def walk(current: Path, prefix: str) -> None:
        for item in sorted(current.iterdir()):
            rel = f"{prefix}{item.name}"
            if item.is_dir() and not item.is_symlink():
                if (item / MARKER).is_file():
                    out.append(f"{rel}/")
                else:
                    walk(item, f"{rel}/")
            elif item.name != MARKER and not _LEFTOVER.match(item.name):
                out.append(rel)

    walk(Path(folder), "")
    return out


def owned_files(folder: Path) -> set[str]:
    """The files in ``folder`` that silkroute wrote: those its marker lists or, for an
    older folder without that list, the names silkroute writes (CSV, JSON, plots)."""
    info = read_marker(folder)
    listed = listed_files(info) if info is not None else None
    if listed is not None:
        return set(listed)
    return {name for name in inventory(folder) if _LEGACY_OWNED.match(name)}


# --------------------------------------------------------------------------- writing


def _jsonable(value: Any) -> Any:
    """NaN and infinity become null: JSON has no NaN, and an empty KPI is not a number."""
    if isinstance(value, float):
        return value if math.isfinite(value) else None
    if isinstance(value, dict):
        return {k: _jsonable(v) for k, v in value.items()}
    if isinstance(value, list | tuple):
        return [_jsonable(v) for v in value]
    if hasattr(value, "item") and callable(value.item):  # numpy scalars
        return _jsonable(value.item())
    return value


def atomic_write(path: Path, write: Callable[[IO[str]], object]) -> None:
    """Write a text file through a temporary name in the same folder, then rename it:
    readers see the old file or the new one, never half of it."""
    path = Path(path)
    tmp = path.with_name(f".{path.name}.tmp-{os.getpid()}-{uuid.uuid4().hex[:8]}")
    try:
        with open(tmp, "w", encoding="utf-8", newline="\n") as fh:
            write(fh)
            fh.flush()
            os.fsync(fh.fileno())
        os.replace(tmp, path)
    finally:
        if tmp.exists():
            tmp.unlink()


def atomic_write_text(path: Path, text: str) -> None:
    atomic_write(path, lambda fh: fh.write(text))


def write_csv(df: pd.DataFrame, path: Path) -> None:
    """A tidy CSV (empty cell for NaN), streamed to disk rather than built in memory."""
    atomic_write(
        path,
        lambda fh: df.to_csv(fh, index=False, float_format=FLOAT_FORMAT, lineterminator="\n"),
    )


def write_json(data: Any, path: Path) -> None:
    text = json.dumps(_jsonable(data), indent=2, ensure_ascii=False, allow_nan=False)
    atomic_write_text(path, text + "\n")


def _first_file_ancestor(path: Path) -> Path | None:
    """The first ancestor of ``path`` that exists and is not a folder (e.g. a file)."""
    for ancestor in reversed(path.absolute().parents):
        if ancestor.exists() and not ancestor.is_dir():
            return ancestor
    return None


def _nearest_existing(path: Path) -> Path:
    for candidate in (path, *path.absolute().parents):
        if candidate.exists():
            return candidate
    return Path("/")


def _probe_writable(folder: Path) -> None:
    """Create and remove a hidden folder in ``folder``: the one test that also holds for
    root, read-only file systems and pseudo file systems such as /proc."""
    probe = folder / f".silkroute-probe-{os.getpid()}-{uuid.uuid4().hex[:8]}"
    try:
        probe.mkdir()
    except OSError as exc:
        raise OutputError(f"{folder}: cannot write here ({_reason(exc)})") from None
    with contextlib.suppress(OSError):
        probe.rmdir()


def _reason(exc: OSError) -> str:
    return exc.strerror or str(exc) or type(exc).__name__


def check_output_target(out: Path, force: bool = False) -> None:
    """Refuse, before any work, an output we may not or cannot write: a folder silkroute
    did not write (unless ``force``), a path under a file, a place we cannot write to."""
    out = Path(out)
    blocker = _first_file_ancestor(out)
    if blocker is not None:
        raise OutputError(f"{blocker}: is a file, not a folder; choose another --out")
    if out.exists() and not out.is_dir():
        raise OutputError(f"{out}: exists and is not a folder; choose another --out")
    if out.is_dir() and any(out.iterdir()) and not is_silkroute_folder(out) and not force:
        raise OutputError(
            f"{out}: folder exists and was not written by silkroute; choose another --out "
            "or pass --force to add silkroute's files to it"
        )
    _probe_writable(_nearest_existing(out.parent))
    if out.is_dir():
        _probe_writable(out)


def write_folder(out: Path, fill: Callable[[Path], None], force: bool = False) -> Path:
    """Create the result folder ``out`` atomically.

    ``fill`` writes into a staging folder; the completion marker (listing the files) is
    written last. When nothing but silkroute's files is at ``out``, the staging folder
    is swapped into place. When ``out`` also holds other files (a foreign folder with
    ``force``, or a user's files added to a result folder), silkroute's files are moved
    in one by one — the marker removed first and written last — and nothing else there
    is touched. Any OSError (read-only, disk full) becomes a one-line OutputError."""
    out = Path(out)
    check_output_target(out, force)
    parent = out.parent if str(out.parent) else Path(".")
    try:
        parent.mkdir(parents=True, exist_ok=True)
    except OSError as exc:
        raise OutputError(f"{parent}: cannot create the folder ({_reason(exc)})") from None
    clean_leftovers(parent, out.name)
    staging = _staging(parent, out.name)
    try:
        fill(staging)
        if not (staging / MARKER).is_file():
            mark_complete(staging, {})
        if not out.exists() or (out.is_dir() and not any(out.iterdir())):
            os.replace(staging, out)
        elif _foreign_files(out):
            _merge_into(staging, out)
        else:
            old = parent / f".{out.name}.old-{os.getpid()}-{uuid.uuid4().hex[:8]}"
            os.replace(out, old)
            os.replace(staging, out)
            shutil.rmtree(old, ignore_errors=True)
        _fsync_dir(parent)
    except OSError as exc:
        reason = _reason(exc)
        if exc.errno == errno.ENOSPC:
            reason = f"the disk is full: {reason}"
        raise OutputError(f"{out}: cannot write the results ({reason})") from None
    finally:
        if staging.exists():
            shutil.rmtree(staging, ignore_errors=True)
    return out


def _foreign_files(folder: Path) -> list[str]:
    """Files in ``folder`` that silkroute did not write."""
    owned = owned_files(folder)
    return [name for name in inventory(folder) if name not in owned]


def _merge_into(staging: Path, out: Path) -> None:
    """Move silkroute's new files into ``out``; remove its old ones; keep everything else."""
    old_owned = owned_files(out)
    new_files = inventory(staging)
    (out / MARKER).unlink(missing_ok=True)  # the folder is incomplete until we are done
    for name in new_files:
        source, target = staging / name.rstrip("/"), out / name.rstrip("/")
        target.parent.mkdir(parents=True, exist_ok=True)
        if name.endswith("/") and name in old_owned and target.is_dir():
            shutil.rmtree(target)  # an older nested result of ours: replaced whole
        os.replace(source, target)
    for name in sorted(old_owned - set(new_files), reverse=True):
        stale = out / name.rstrip("/")
        if name.endswith("/"):
            shutil.rmtree(stale, ignore_errors=True)
        else:
            stale.unlink(missing_ok=True)
        _remove_empty_parents(stale.parent, out)
    os.replace(staging / MARKER, out / MARKER)


def _remove_empty_parents(folder: Path, root: Path) -> None:
    while folder != root and root in folder.parents:
        try:
            folder.rmdir()  # only if empty
        except OSError:
            return
        folder = folder.parent


def _fsync_dir(folder: Path) -> None:
    """Make the renames durable (a power cut after this keeps the folder)."""
    try:
        fd = os.open(folder, os.O_RDONLY)
    except OSError:
        return
    try:
        with contextlib.suppress(OSError):
            os.fsync(fd)
    finally:
        os.close(fd)


def _pid_alive(pid: int) -> bool:
    if pid == os.getpid():
        return True
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except (PermissionError, OSError):
        return True
    return True


def clean_leftovers(parent: Path, name: str) -> int:
    """Remove staging folders of ``name`` left by a killed process (its pid is gone).

    A previous result parked as ``.<name>.old-…`` by a process killed between its two
    renames is put back when ``<name>`` is missing, so finished work is never lost."""
    removed = 0
    try:
        items = sorted(Path(parent).iterdir())
    except OSError:
        return 0
    out = Path(parent) / name
    for item in items:
        match = _LEFTOVER.match(item.name)
        if match is None or match["name"] != name or _pid_alive(int(match["pid"])):
            continue
        if match["kind"] == "old" and not out.exists() and is_complete(item):
            try:
                os.replace(item, out)
                continue
            except OSError:
                pass
        remove_path(item)
        removed += 1
    return removed


def remove_path(item: Path) -> None:
    """Delete a file or a folder tree, ignoring what is already gone."""
    if item.is_dir():
        shutil.rmtree(item, ignore_errors=True)
    else:
        item.unlink(missing_ok=True)


def _staging(parent: Path, name: str) -> Path:
    staging = parent / f".{name}.tmp-{os.getpid()}-{uuid.uuid4().hex[:8]}"
    try:
        staging.mkdir()
    except OSError as exc:
        raise OutputError(f"{parent}: cannot write here ({_reason(exc)})") from None
    return staging


def mark_complete(folder: Path, info: dict[str, Any]) -> None:
    """Write the completion marker last: ``info`` plus the list of the folder's files."""
    data = {**info, "files": inventory(Path(folder))}
    atomic_write_text(Path(folder) / MARKER, json.dumps(_jsonable(data), sort_keys=True) + "\n")


def base_manifest() -> dict[str, Any]:
    return {
        "silkroute_version": package_version(),
        "version": package_version(),
        "python": platform.python_version(),
        "packages": environment_versions(),
        "build": build_kind(),  # pure Python or compiled: the same outputs either way
    }
