"""Replacing a whole result folder (the output guard's writer, :mod:`.guard`).

A result is built in a hidden staging folder next to its target, then goes in: a folder
that holds only silkroute's files is swapped with the staging folder in one step; the
user's files and folders inside it are carried over as they are (hard links, their
folders' modes, owners and times), or the write is refused, naming the one that cannot
be; a folder of the user's own (``--force``) is never moved, only silkroute's files in it
change. The target is judged again, under a lock, as the result goes in.
"""

from __future__ import annotations

import contextlib
import ctypes
import errno
import os
import shutil
from collections.abc import Callable, Iterator
from pathlib import Path

from silkroute_sim.config.errors import SilkrouteError
from silkroute_sim.outputs.guard import (
    LEDGER,
    MARKER,
    OutputError,
    _display,
    _in_the_way,
    _prefixes,
    _reason,
    _shown_under,
    _user_entries,
    check_output_target,
    clean_leftovers,
    inventory,
    mark_complete,
    owned_files,
    read_marker,
    temp_name,
    write_ledger,
    written_kind,
)

# --------------------------------------------------------------------------- whole results


def write_folder(
    out: Path | str,
    fill: Callable[[Path], None],
    force: bool = False,
    kind: str | None = None,
    recheck: Callable[[], object] | None = None,
) -> Path:
    """Create or replace the result folder ``out``.

    ``fill`` writes into a staging folder next to ``out``; the completion marker, listing
    only those files, is written last. Then, holding a lock on the parent folder, the
    target is judged again (``check_output_target`` and ``recheck``: another process may
    have written it while this one worked) and the result goes in: a folder that holds
    only silkroute's files is swapped with the staging folder in one step (``out`` holds
    the old complete result or the new one, never a mix); a folder that also holds the
    user's files, or is the user's own (``--force``), keeps every one of them as they are
    (same files, owners, modes; other file systems mounted in it untouched) and only
    silkroute's files change (:func:`_update_in_place`). A user's file where silkroute's
    would go refuses the write, naming it, before anything changes. Any OSError
    (read-only, disk full) becomes a one-line OutputError naming ``out``."""
    path = check_output_target(out, force, kind)
    shown = _display(out, path)
    parent = path.parent
    try:
        parent.mkdir(parents=True, exist_ok=True)
    except OSError as exc:
        raise OutputError(f"{parent}: cannot create the folder ({_reason(exc)})") from None
    clean_leftovers(parent, path.name)
    staging = _staging(parent, path.name)
    try:
        try:
            fill(staging)
            if not (staging / MARKER).is_file():
                mark_complete(staging, {"kind": kind} if kind else {})
            with _parent_lock(parent):
                check_output_target(out, force, kind, probe=False)
                if recheck is not None:
                    recheck()
                _swap_in(staging, path, shown)
            _fsync_dir(parent)
        except OSError as exc:
            reason = _reason(exc)
            if exc.errno == errno.ENOSPC:
                reason = f"the disk is full: {reason}"
            raise OutputError(f"{shown}: cannot write the results ({reason})") from None
        except SilkrouteError as exc:  # a nested writer's message names the staging folder
            exc.args = tuple(
                a.replace(str(staging), str(shown)) if isinstance(a, str) else a for a in exc.args
            )
            raise
    finally:
        if staging.exists():
            shutil.rmtree(staging, ignore_errors=True)
    return shown


def _swap_in(staging: Path, path: Path, shown: Path) -> None:
    """Put the complete result in ``staging`` at ``path``, keeping the user's files."""
    if not path.exists() or (path.is_dir() and not any(path.iterdir())):
        os.replace(staging, path)
        return
    files, empty = _user_entries(path)
    new = inventory(staging)
    _refuse_conflicts(staging, new, [*files, *empty], path, shown)
    if written_kind(path) is None or (path / LEDGER).is_file():
        _update_in_place(staging, path, new)  # the user's folder (--force): never moved
        return
    _refuse_other_devices(path, [*files, *empty], shown)
    for name in files:
        _link(path / name, staging / name, _shown_under(shown, path, path / name))
    for name in empty:
        (staging / name).mkdir(parents=True, exist_ok=True)
    _keep_folder_stats(path, staging, [*files, *empty], new)
    if _exchange(staging, path):  # one atomic step: staging now holds the old result
        _remove_old(staging)
        return
    old = path.parent / temp_name(path.name, "old")
    os.replace(path, old)  # killed between these two: the next write puts ``old`` back
    os.replace(staging, path)
    _remove_old(old)


def _refuse_conflicts(
    staging: Path, new: list[str], users: list[str], path: Path, shown: Path
) -> None:
    """Refuse, naming it, a user's file or folder where silkroute's would go: at one of
    its names, on the way to one (a file where it needs a folder), or inside a result of
    its own it writes whole (``rep-2/`` of replications). Nothing has changed yet."""
    nested = [n for n in new if n.endswith("/")]
    for name in users:
        places = [staging / name, *(staging / p for p in _prefixes(name))]
        inside = any(name == n.rstrip("/") or name.startswith(n) for n in nested)
        taken = _occupied(places[0]) and not (places[0].is_dir() and (path / name).is_dir())
        if inside or taken or any(_occupied(p) and not p.is_dir() for p in places[1:]):
            top = next((n.rstrip("/") for n in nested if name.startswith(n)), name)
            raise _in_the_way(_shown_under(shown, path, path / top))


def _refuse_other_devices(path: Path, users: list[str], shown: Path) -> None:
    """A result is replaced by moving folders, which cannot cross file systems: refuse,
    naming it, a file system mounted inside the folder (its files are never copied away
    and deleted)."""
    device = os.lstat(path).st_dev
    for name in users:
        parts = name.split("/")
        for depth in range(1, len(parts) + 1):
            rel = "/".join(parts[:depth])
            if os.lstat(path / rel).st_dev != device:
                raise OutputError(
                    f"{_shown_under(shown, path, path / rel)}: another file system is mounted "
                    "inside the result folder; unmount it or choose another --out"
                )


def _link(source: Path, target: Path, shown: str) -> None:
    """The user's file at ``source`` also at ``target``: the same file (a hard link), or
    the same link; refused, naming it, where that cannot be (never a copy: the user's
    file keeps its owner, mode and other links)."""
    target.parent.mkdir(parents=True, exist_ok=True)
    try:
        if source.is_symlink():
            os.symlink(os.readlink(source), target)
        else:
            os.link(source, target, follow_symlinks=False)
    except OSError as exc:
        raise OutputError(
            f"{shown}: cannot keep this file in place while the result is replaced "
            f"({_reason(exc)}); move it out of the result folder or choose another --out"
        ) from None


def _keep_folder_stats(path: Path, staging: Path, users: list[str], new: list[str]) -> None:
    """The folders that carry the user's files over keep the mode, owner and times the
    user gave them (the result's own folders, ``plots/`` say, are silkroute's), the top
    folder its mode and owner."""
    ours = {p for n in new for p in _prefixes(n.rstrip("/") + "/x")}
    folders = {p for n in users for p in _prefixes(n)} | {
        n for n in users if (path / n).is_dir() and not (path / n).is_symlink()
    }
    for rel in sorted(folders - ours, key=lambda r: -r.count("/")):  # deepest first
        _copy_stats(path / rel, staging / rel, times=True)
    _copy_stats(path, staging, times=False)


def _copy_stats(source: Path, target: Path, times: bool) -> None:
    with contextlib.suppress(OSError):
        info = os.lstat(source)
        if (info.st_uid, info.st_gid) != (os.lstat(target).st_uid, os.lstat(target).st_gid):
            os.chown(target, info.st_uid, info.st_gid, follow_symlinks=False)
        os.chmod(target, info.st_mode & 0o7777)
        if times:
            os.utime(target, ns=(info.st_atime_ns, info.st_mtime_ns), follow_symlinks=False)


def _update_in_place(staging: Path, path: Path, new: list[str]) -> None:
    """Replace silkroute's files in ``path`` by those in ``staging``, one by one (each in
    one step), leaving everything else there as it is. The ledger names old and new
    files first and the old marker goes, so a kill part-way leaves an unfinished result
    that silkroute knows as its own (the next write completes it); the marker comes last."""
    info = read_marker(staging) or {}
    kind = str(info.get("kind") or "") or None
    old = owned_files(path) if written_kind(path) is not None else set()
    write_ledger(path, old | set(new), kind)
    (path / MARKER).unlink(missing_ok=True)
    for name in sorted(old - set(new)):
        _remove_owned(path, name)
    for name in new:
        target = path / name.rstrip("/")
        if name.endswith("/") and name in old:
            _remove_owned(path, name)
        target.parent.mkdir(parents=True, exist_ok=True)
        os.replace(staging / name.rstrip("/"), target)
    write_ledger(path, new, kind)
    os.replace(staging / MARKER, path / MARKER)


def _remove_owned(folder: Path, name: str) -> None:
    """Remove silkroute's ``name`` from ``folder``: a file, or a nested result of its own
    (``dir/``) but for any file of the user's inside it; then the folders that removal
    left empty, up to ``folder`` (never a folder that was empty before: that is the
    user's)."""
    target = folder / name.rstrip("/")
    if name.endswith("/"):
        if target.is_dir() and not target.is_symlink():
            for inner in sorted(owned_files(target), reverse=True):
                _remove_owned(target, inner)
            for hidden in (MARKER, LEDGER):
                (target / hidden).unlink(missing_ok=True)
            _prune(target, folder)
        return
    if target.is_symlink() or target.is_file():
        target.unlink()
        _prune(target.parent, folder)


def _prune(current: Path, top: Path) -> None:
    """Remove ``current`` and the folders above it, up to ``top``, while they are empty."""
    while current != top and top in current.parents:
        try:
            current.rmdir()
        except OSError:
            return
        current = current.parent


def _remove_old(old: Path) -> None:
    """Remove a previous result swapped out of its place. It held only silkroute's files
    when judged; a file the user put there since (in the moment between) is kept: the
    folder then stays, renamed where it can be seen, and nothing of the user's is lost."""
    if not any(_user_entries(old)):
        shutil.rmtree(old, ignore_errors=True)
        return
    for name in owned_files(old):
        _remove_owned(old, name)
    visible = old.parent / f"{old.name.lstrip('.')}-kept"
    with contextlib.suppress(OSError):
        os.replace(old, visible)


@contextlib.contextmanager
def _parent_lock(parent: Path) -> Iterator[None]:
    """An advisory lock on ``parent`` while a result goes in: two processes writing the
    same target judge it and swap one after the other (the kernel drops the lock if the
    process is killed). Where locks are not supported, nothing is held."""
    try:
        import fcntl
    except ImportError:  # pragma: no cover - Windows
        yield
        return
    try:
        fd = os.open(parent, os.O_RDONLY)
    except OSError:
        yield
        return
    try:
        with contextlib.suppress(OSError):
            fcntl.flock(fd, fcntl.LOCK_EX)
        yield
    finally:
        os.close(fd)


def _occupied(path: Path) -> bool:
    return path.exists() or path.is_symlink()


def _exchange(a: Path, b: Path) -> bool:
    """Swap two folders in one step (Linux renameat2 RENAME_EXCHANGE); False if unsupported."""
    try:
        libc = ctypes.CDLL(None, use_errno=True)
        renameat2 = libc.renameat2
    except (OSError, AttributeError):
        return False
    at_fdcwd, rename_exchange = -100, 2
    result = renameat2(at_fdcwd, os.fsencode(a), at_fdcwd, os.fsencode(b), rename_exchange)
    return bool(result == 0)


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


def _staging(parent: Path, name: str) -> Path:
    staging = parent / temp_name(name)
    try:
        staging.mkdir()
    except OSError as exc:
        raise OutputError(f"{parent}: cannot write here ({_reason(exc)})") from None
    return staging
