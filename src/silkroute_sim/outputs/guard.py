"""The one output guard: every file or folder silkroute writes goes through here.

* **Targets are judged as what they really are.** ``--out`` is resolved first (symlinks,
  ``..``, ``.``, relative or absolute), so ``tmpx/..`` is judged as the folder it names;
  names too long for the file system, the current folder (or one holding it) and paths
  under a file are refused with one line.
* **Silkroute knows what it owns.** A result's completion marker (``.silkroute-complete``,
  written last) holds its kind (run, replications, comparison, sweep, verify) and lists
  only the files silkroute wrote; a folder written in place (a sweep) keeps the same list
  in ``.silkroute-owned`` while it is being written. Anything not listed is the user's: it
  is never replaced, moved away or removed, ``--force`` or not; where silkroute would write
  over it, the write is refused, naming it. A folder of another kind is refused without
  ``--force``.
* **A result is replaced atomically.** It is built in a hidden staging folder next to the
  target; the user's files there are linked into it; then the two folders swap. A kill at
  any moment leaves the old complete result or the new complete one, never a mix, with the
  user's files in place.
* **Errors name the user's path**, never a staging folder, and say what to do.
"""

from __future__ import annotations

import contextlib
import datetime as dt
import json
import math
import os
import re
import shutil
import uuid
from collections.abc import Callable, Iterable, Iterator
from pathlib import Path, PurePosixPath
from typing import IO, Any

from silkroute_sim.config.errors import SilkrouteError

MARKER = ".silkroute-complete"
LEDGER = ".silkroute-owned"
#: at most this many bytes in one name of --out (the staging name adds about 30 more)
MAX_NAME_BYTES = 200
MAX_PATH_BYTES = 3800
#: kinds of folder that replace each other without --force (a kind not named here is
#: its own family: run, comparison, sweep, optimize)
FAMILY = {"replications": "run"}
#: the writers without a --force (their folders are written in place, file by file)
NO_FORCE = ("sweep", "optimize")
#: names a result of each kind always writes at its top (checked before any work)
KNOWN_FILES = {
    None: ("manifest.json",),
    "run": ("summary.csv", "daily.csv", "trains.csv", "shipments.csv", "manifest.json"),
    "replications": ("summary.csv", "replications.csv", "manifest.json"),
    "comparison": ("comparison.csv", "replications.csv", "manifest.json"),
    "verify": ("verify.csv", "verify.md", "report.html", "manifest.json"),
    "sweep": ("manifest.json", "runs.csv", "points.csv"),
    "optimize": ("manifest.json", "trials.csv", "study.db"),
}
#: the files a silkroute folder written before markers listed their files held: the
#: names silkroute writes, and only those (a user's notes.md or data.csv there is theirs)
_LEGACY_OWNED = re.compile(
    r"^(?:(?:summary|daily|daily_long|trains|shipments|node_events|disruptions|modes"
    r"|replications|comparison|verify|runs|points|trials)\.(?:csv|parquet)"
    r"|manifest\.json|report\.html|animation\.html|verify\.md"
    r"|plots/(?:differences|per_replication|throughput|throughput_reps|yard_level|hub_dwell"
    r"|door_to_door|door_to_door_ecdf|border_waits|border_queues|string_line|corridor_map"
    r"|warmup|kpis)\.png"
    r"|rep-[0-9]+/)$"  # a replication, a result of its own inside replications
)
#: ``.<name>.silkroute-tmp-<pid>-<hex>`` staging folders and temporary files,
#: ``.<name>.silkroute-old-<pid>-<hex>`` a result being replaced (names no user would give;
#: only these are ever cleaned up as leftovers)
_LEFTOVER = re.compile(
    r"\.(?P<name>.+)\.silkroute-(?P<kind>tmp|old)-(?P<pid>\d+)-[0-9a-f]{8}\Z", re.DOTALL
)


class OutputError(SilkrouteError):
    """The output folder cannot be written (not ours, of another kind, read-only, full)."""


def _reason(exc: OSError) -> str:
    return exc.strerror or str(exc) or type(exc).__name__


def _jsonable(value: Any) -> Any:
    """NaN and infinity become null: JSON has no NaN, and an empty KPI is not a number."""
    if isinstance(value, float):
        return value if math.isfinite(value) else None
    if isinstance(value, dict):
        return {k: _jsonable(v) for k, v in value.items()}
    if isinstance(value, list | tuple):
        return [_jsonable(v) for v in value]
    if isinstance(value, dt.date):  # a date in a spec (YAML reads 2020-01-01 as one)
        return value.isoformat()
    if hasattr(value, "item") and callable(value.item):  # numpy scalars
        return _jsonable(value.item())
    return value


# --------------------------------------------------------------------------- atomic files


def temp_name(name: str, kind: str = "tmp") -> str:
    """A hidden name beside ``name`` for a file or folder being written (``kind``
    ``tmp``) or a result being replaced (``old``): this process's, recognisable as
    silkroute's and cleaned up by :func:`clean_leftovers` once the process is gone."""
    return f".{name}.silkroute-{kind}-{os.getpid()}-{uuid.uuid4().hex[:8]}"


def atomic_write(path: Path, write: Callable[[IO[str]], object]) -> None:
    """Write a text file through a temporary name in the same folder, then rename it:
    readers see the old file or the new one, never half of it."""
    path = Path(path)
    tmp = path.with_name(temp_name(path.name))
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


# --------------------------------------------------------------------------- what we own


def read_marker(folder: Path) -> dict[str, Any] | None:
    """The completion marker's content, or None when there is none (or it is unreadable)."""
    return _read_json(Path(folder) / MARKER)


def _read_json(path: Path) -> dict[str, Any] | None:
    try:
        info = json.loads(path.read_text(encoding="utf-8"))
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


def written_kind(folder: Path) -> str | None:
    """The kind of a folder silkroute wrote, complete or not (an interrupted sweep is a
    sweep); ``run`` for an older run folder without a kind; None when not silkroute's."""
    folder = Path(folder)
    kind = folder_kind(folder)
    if kind:
        return kind
    manifest = _read_json(folder / "manifest.json")
    if manifest is not None and "silkroute_version" in manifest:
        return str(manifest.get("kind") or "run")
    ledger = _read_json(folder / LEDGER)
    if ledger is not None:  # a folder being written in place (a sweep) says its kind
        return str(ledger.get("kind") or "run")
    if read_marker(folder) is not None:  # a marker without a kind: an older run
        return "run"
    return None


def complete_folders(parent: Path) -> Iterator[Path]:
    """Complete result folders directly under ``parent`` (staging and hidden ones skipped)."""
    parent = Path(parent)
    if not parent.is_dir():
        return
    for item in sorted(parent.iterdir()):
        if not item.name.startswith(".") and item.is_dir() and is_complete(item):
            yield item


def is_silkroute_folder(folder: Path) -> bool:
    """Written by silkroute (complete or not): it has our marker, ledger or manifest."""
    return written_kind(Path(folder)) is not None


def _hidden_ours(name: str) -> bool:
    return name in (MARKER, LEDGER) or _LEFTOVER.match(name) is not None


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
            elif not _hidden_ours(item.name):
                out.append(rel)

    walk(Path(folder), "")
    return out


def owned_files(folder: Path) -> set[str]:
    """The files in ``folder`` that silkroute wrote: those its marker and its ledger list
    or, for an older silkroute folder without that list, the names silkroute writes."""
    folder = Path(folder)
    info = read_marker(folder)
    listed = listed_files(info) if info is not None else None
    ledger = _read_json(folder / LEDGER)
    kept = listed_files(ledger) if ledger is not None else None
    if listed is None and kept is None:
        if written_kind(folder) is None:
            return set()
        return {n for n in inventory(folder) if _LEGACY_OWNED.match(n) or _legacy_sweep(n)}
    return set(listed or ()) | set(kept or ())


def _legacy_sweep(name: str) -> bool:
    parts = name.split("/")
    return (len(parts) == 3 and parts[0] == "runs" and parts[2] == "") or (
        len(parts) == 2 and parts[0] == "failed" and parts[1].endswith(".json")
    )


def mark_complete(folder: Path, info: dict[str, Any], files: Iterable[str] | None = None) -> None:
    """Write the completion marker last: ``info`` plus the files silkroute wrote (``files``,
    or every file of a folder that only silkroute wrote: a staging folder)."""
    folder = Path(folder)
    names = sorted(set(files)) if files is not None else inventory(folder)
    data = {**info, "files": names}
    atomic_write_text(folder / MARKER, json.dumps(_jsonable(data), sort_keys=True) + "\n")


def _user_entries(folder: Path) -> tuple[list[str], list[str]]:
    """The user's files (and empty folders) in ``folder``, at any depth: everything that
    neither its marker nor its ledger (nor those of a nested result of ours) lists."""
    owned = owned_files(folder)
    files: list[str] = []
    empty: list[str] = []

    def walk(current: Path, prefix: str) -> bool:  # True when it held something
        held = False
        for item in sorted(current.iterdir()):
            rel = f"{prefix}{item.name}"
            if not prefix and _hidden_ours(item.name):  # this folder's own marker, ledger
                held = True  # and temporary files; deeper down, such names are the user's
                continue  # (a copied result's marker) or a nested result's (listed as dir/)
            held = True
            if item.is_dir() and not item.is_symlink():
                if f"{rel}/" in owned:
                    nested_files, nested_empty = _user_entries(item)
                    files.extend(f"{rel}/{n}" for n in nested_files)
                    empty.extend(f"{rel}/{n}" for n in nested_empty)
                elif not walk(item, f"{rel}/"):
                    empty.append(rel)
            elif rel not in owned:
                files.append(rel)
        return held

    walk(folder, "")
    return files, empty


def user_files(folder: Path) -> list[str]:
    """Files in ``folder`` that silkroute did not write (relative, '/'-separated)."""
    return _user_entries(Path(folder))[0]


# --------------------------------------------------------------------------- targets


def resolve_target(out: Path | str) -> Path:
    """``out`` as the folder it really is: absolute, symlinks and ``..`` resolved. Refuses
    names the file system cannot hold, the current folder and the folders above it."""
    text = os.fspath(out)
    if not text or "\x00" in text:
        raise OutputError(f"{text!r}: not a folder name; choose another --out")
    if len(os.fsencode(text)) > MAX_PATH_BYTES:
        raise OutputError(f"{text[:40]}…: the path is too long; choose a shorter --out")
    for part in Path(text).parts:
        if len(os.fsencode(part)) > MAX_NAME_BYTES:
            raise OutputError(
                f"{part[:40]}…: a name in --out is {len(os.fsencode(part))} bytes long, at "
                f"most {MAX_NAME_BYTES} are allowed; choose a shorter --out"
            )
    try:
        path = Path(os.path.realpath(text))
    except (OSError, ValueError) as exc:
        raise OutputError(
            f"{text}: cannot resolve the path ({exc}); choose another --out"
        ) from None
    here = Path(os.path.realpath(os.getcwd()))
    if path == here or path in here.parents:
        where = "the current folder" if path == here else "a folder holding the current one"
        raise OutputError(
            f"{text}: is {where} ({path}); silkroute writes a result into a folder of its "
            "own: choose --out below it, e.g. results/NAME"
        )
    return path


def _first_file_ancestor(path: Path) -> Path | None:
    """The first ancestor of ``path`` that exists and is not a folder (e.g. a file)."""
    for ancestor in reversed(path.parents):
        if ancestor.exists() and not ancestor.is_dir():
            return ancestor
    return None


def _nearest_existing(path: Path) -> Path:
    for candidate in (path, *path.parents):
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


def _shown_under(shown: Path | str, path: Path, inner: Path) -> str:
    """``inner`` (under the resolved ``path``) as the user would name it."""
    try:
        rel = inner.relative_to(path)
    except ValueError:
        return str(inner)
    return str(Path(shown) / rel) if rel.parts else str(shown)


def check_output_target(
    out: Path | str,
    force: bool = False,
    kind: str | None = None,
    probe: bool = True,
    within: Path | None = None,
) -> Path:
    """Refuse, before any work, an output we may not or cannot write: a folder silkroute
    did not write or of another kind (unless ``force``), a user's file where silkroute
    writes one, a path under a file, a place we cannot write to. Returns the resolved
    folder. ``kind`` None: a single result (run, replications, comparison, verify)."""
    path = resolve_target(out)
    blocker = _first_file_ancestor(path)
    if blocker is not None:
        raise OutputError(f"{blocker}: is a file, not a folder; choose another --out")
    if path.exists() and not path.is_dir():
        raise OutputError(f"{out}: exists and is not a folder; choose another --out")
    _refuse_part_of_another(out, path, within)
    if path.is_dir() and any(path.iterdir()):
        for hidden in (MARKER, LEDGER):  # a file of that name that is not silkroute's
            if _occupied(path / hidden) and _read_json(path / hidden) is None:
                raise _in_the_way(_shown_under(out, path, path / hidden))
        theirs = written_kind(path)
        if theirs is None and not force:
            raise OutputError(
                f"{out}: folder exists and was not written by silkroute; choose another --out"
                + ("" if kind in NO_FORCE else " or pass --force to add silkroute's files to it")
            )
        if theirs is not None and not force and _other_family(theirs, kind):
            raise OutputError(
                f"{out}: is {'an' if theirs[:1] in 'aeiou' else 'a'} {theirs} folder written by "
                "silkroute; choose another --out"
                + ("" if kind in NO_FORCE else " or pass --force to replace silkroute's files")
            )
        mine = set(user_files(path))
        for name in KNOWN_FILES.get(kind, KNOWN_FILES[None]):
            if name in mine or any(p in mine for p in _prefixes(name)):
                raise _in_the_way(_shown_under(out, path, path / name))
    if probe:  # ``probe=False``: judged again as the result goes in (writable by then)
        _probe_writable(_nearest_existing(path.parent))
        if path.is_dir():
            _probe_writable(path)
    return path


def _refuse_part_of_another(out: Path | str, path: Path, within: Path | None) -> None:
    """A result that is part of another (a replication of replications, a comparison's
    kept run, a sweep's run) is never replaced on its own, ``--force`` or not: the other's
    tables are built from it. ``within``: the result writing it (a sweep, its own runs)."""
    for whole in path.parents:
        if within is not None and whole == Path(os.path.realpath(within)):
            continue
        info = read_marker(whole) if is_complete(whole) else _read_json(whole / LEDGER)
        if info is None:
            continue
        rel = path.relative_to(whole).as_posix()
        if f"{rel}/" in (listed_files(info) or []):
            raise OutputError(
                f"{out}: is part of the {info.get('kind') or 'result'} in {whole} (its "
                "tables are built from it); choose another --out, or run that again"
            )


def _occupied(path: Path) -> bool:
    return path.exists() or path.is_symlink()


def _other_family(theirs: str, kind: str | None) -> bool:
    if kind is None:  # the writers that do not say write single results, never sweeps
        return FAMILY.get(theirs, theirs) in NO_FORCE
    return FAMILY.get(theirs, theirs) != FAMILY.get(kind, kind)


def _prefixes(name: str) -> list[str]:
    parts = name.rstrip("/").split("/")
    return ["/".join(parts[:i]) for i in range(1, len(parts))]


def _in_the_way(shown: str) -> OutputError:
    return OutputError(
        f"{shown}: not written by silkroute and in the way of its results; move it away "
        "or choose another --out"
    )


def _display(out: Path | str, path: Path) -> Path:
    """The folder to report back: as the user wrote it, unless that needs resolving."""
    given = Path(out)
    return path if ".." in given.parts else given


def write_ledger(folder: Path, names: Iterable[str], kind: str | None = None) -> None:
    """What silkroute owns in a folder it writes in place (a sweep, or the user's folder
    it adds a result to), and the folder's kind (kept from the ledger there when None)."""
    folder = Path(folder)
    if kind is None:
        kind = str((_read_json(folder / LEDGER) or {}).get("kind") or "") or None
    data = {"files": sorted(set(names)), "kind": kind}
    atomic_write_text(folder / LEDGER, json.dumps(data, sort_keys=True) + "\n")


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


def clean_leftovers(parent: Path, name: str | None = None) -> int:
    """Remove staging folders and temporary files (of ``name``, or of any name) left in
    ``parent`` by a killed process (its pid is gone).

    A previous result parked as ``.<name>.old-…`` by a process killed between its two
    renames is put back when ``<name>`` is missing, so finished work is never lost."""
    removed = 0
    try:
        items = sorted(Path(parent).iterdir())
    except OSError:
        return 0
    for item in items:
        match = _LEFTOVER.match(item.name)
        if match is None:
            _restore_parked_before(item, parent, name)
            continue
        if name is not None and match["name"] != name:
            continue
        if _pid_alive(int(match["pid"])):
            continue
        out = Path(parent) / match["name"]
        if match["kind"] == "old" and not out.exists() and is_complete(item):
            try:
                os.replace(item, out)
                continue
            except OSError:
                pass
        remove_path(item)
        removed += 1
    return removed


#: a result parked by a version before temporary names said ``silkroute-``
_PARKED_BEFORE = re.compile(r"\.(?P<name>.+)\.old-(?P<pid>\d+)-[0-9a-f]{8}\Z", re.DOTALL)


def _restore_parked_before(item: Path, parent: Path, name: str | None) -> None:
    """Put back a complete result parked under an older version's name by a writer killed
    between its two renames (only put back, never removed: the name is not ours alone)."""
    match = _PARKED_BEFORE.match(item.name)
    if match is None or (name is not None and match["name"] != name):
        return
    out = Path(parent) / match["name"]
    if not _pid_alive(int(match["pid"])) and not out.exists() and read_marker(item) is not None:
        with contextlib.suppress(OSError):
            os.replace(item, out)


def remove_path(item: Path) -> None:
    """Delete a file or a folder tree, ignoring what is already gone."""
    if item.is_dir() and not item.is_symlink():
        shutil.rmtree(item, ignore_errors=True)
    else:
        item.unlink(missing_ok=True)
