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
    _LEFTOVER,
    LEDGER,
    MARKER,
    OutputError,
    _display,
    _in_the_way,
    _occupied,
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
    within: Path | None = None,
) -> Path:
    """Create or replace the result folder ``out``.

    ``fill`` writes into a staging folder next to ``out``; the completion marker, listing
    only those files, is written last. Then, holding a lock on the parent folder, the
    target is judged again (``check_output_target`` and ``recheck``: another process may
    have written it while this one worked) and the result goes in: a folder that holds
    only silkroute's files and the user's is swapped with the staging folder in one step
    (``out`` holds the old complete result or the new one, never a mix), the user's files
    carried over as they are (hard links; their folders' mode, owner and times); a folder
    of the user's own (``--force``, or an empty one that was there) is never moved: only
    silkroute's files in it change (:func:`_update_in_place`). A user's file where
    silkroute's would go refuses the write, naming it, before anything changes.
    ``within``: the result (a sweep) that ``out`` is part of, writing it. Any OSError
    (read-only, disk full) becomes a one-line OutputError naming ``out``."""
    path = check_output_target(out, force, kind, within=within)
    shown = _display(out, path)
    parent = path.parent
    try:
        parent.mkdir(parents=True, exist_ok=True)
    except OSError as exc:
        raise OutputError(f"{parent}: cannot create the folder ({_reason(exc)})") from None
    there = path.exists()
    clean_leftovers(parent, path.name)
    if not there and path.exists():  # a result parked by a killed writer is back: judged
        check_output_target(out, force, kind, within=within)  # before the work
    staging = _staging(parent, path.name)
    swapped: tuple[Path, list[str]] | None = None
    try:
        try:
            fill(staging)
            if not (staging / MARKER).is_file():
                mark_complete(staging, {"kind": kind} if kind else {})
            with _parent_lock(parent):
                judged = check_output_target(out, force, kind, probe=False, within=within)
                if judged != path:
                    raise OutputError(
                        f"{shown}: now leads to another folder ({judged}) than when the run "
                        "started; run it again"
                    )
                if recheck is not None:
                    recheck()
                swapped = _swap_in(staging, path, shown)
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
        if swapped is not None:  # the previous result, out of its place (after the lock)
            _remove_old(swapped[0], path, swapped[1])
        elif staging.exists():
            shutil.rmtree(staging, ignore_errors=True)
    return shown


def _swap_in(staging: Path, path: Path, shown: Path) -> tuple[Path, list[str]] | None:
    """Put the complete result in ``staging`` at ``path``, keeping the user's files.
    Returns the previous result, swapped out, and the user's files carried over from it
    (to remove once the lock is released); None when nothing was swapped out."""
    if not path.exists():
        os.replace(staging, path)
        return None
    new = inventory(staging)
    if path.is_dir() and not any(path.iterdir()):  # a folder made for it: keeps its mode,
        _update_in_place(staging, path, new)  # owner, group and access lists
        return None
    files, empty = _user_entries(path)
    _refuse_conflicts(staging, new, files, empty, path, shown)
    if written_kind(path) is None or (path / LEDGER).is_file():
        _update_in_place(staging, path, new)  # the user's folder (--force): never moved
        return None
    _refuse_other_devices(path, [*files, *empty], shown)
    for name in files:
        _link(path / name, staging / name, _shown_under(shown, path, path / name))
    for name in empty:
        (staging / name).mkdir(parents=True, exist_ok=True)
    _keep_folder_stats(path, staging, [*files, *empty], shown)
    if _exchange(staging, path):  # one atomic step: staging now holds the old result
        return staging, files
    old = path.parent / temp_name(path.name, "old")
    os.replace(path, old)  # killed between these two: the next write puts ``old`` back
    os.replace(staging, path)
    return old, files


def _refuse_conflicts(
    staging: Path, new: list[str], files: list[str], empty: list[str], path: Path, shown: Path
) -> None:
    """Refuse, naming it, a user's file or folder where silkroute's would go: at one of
    its names, on the way to one (a file where it needs a folder; a link to a folder,
    which would lead silkroute's files out of the result), or inside a result of its own
    that it writes whole (``rep-2/`` of replications). Nothing has changed yet."""
    nested = [n for n in new if n.endswith("/")]
    for name in [*files, *empty]:
        places = [staging / name, *(staging / p for p in _prefixes(name))]
        here = path / name
        merged = places[0].is_dir() and here.is_dir() and not here.is_symlink()
        taken = _occupied(places[0]) and not merged
        inside = next((n for n in nested if name == n.rstrip("/") or name.startswith(n)), None)
        if inside is not None and name != inside.rstrip("/"):
            raise OutputError(
                f"{_shown_under(shown, path, here)}: a file of yours inside "
                f"{inside.rstrip('/')}/, which silkroute writes whole; move it out or "
                "choose another --out"
            )
        if inside or taken or any(_occupied(p) and not p.is_dir() for p in places[1:]):
            raise _in_the_way(_shown_under(shown, path, here))
    for name in new:
        for prefix in _prefixes(name.rstrip("/") + "/x"):
            if (path / prefix).is_symlink():
                raise _in_the_way(_shown_under(shown, path, path / prefix))


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


def _keep_folder_stats(path: Path, staging: Path, users: list[str], shown: Path) -> None:
    """Every folder that carries the user's files over keeps the mode, owner and times it
    had (the user's own folders, and silkroute's folders the user put files in), the top
    folder its mode and owner; refused, naming it, where the owner cannot be kept."""
    folders = {p for n in users for p in _prefixes(n)} | {
        n for n in users if (path / n).is_dir() and not (path / n).is_symlink()
    }
    for rel in sorted(folders, key=lambda r: -r.count("/")):  # deepest first: times last
        _copy_stats(
            path / rel, staging / rel, times=True, shown=_shown_under(shown, path, path / rel)
        )
    _copy_stats(path, staging, times=False, shown=str(shown))


def _copy_stats(source: Path, target: Path, times: bool, shown: str) -> None:
    info = os.lstat(source)
    now = os.lstat(target)
    if (info.st_uid, info.st_gid) != (now.st_uid, now.st_gid):
        try:
            os.chown(target, info.st_uid, info.st_gid, follow_symlinks=False)
        except OSError as exc:
            raise OutputError(
                f"{shown}: cannot keep this folder's owner while the result is replaced "
                f"({_reason(exc)}); move it out of the result folder or choose another --out"
            ) from None
    with contextlib.suppress(OSError):
        os.chmod(target, info.st_mode & 0o7777)
    if times:
        with contextlib.suppress(OSError):
            os.utime(target, ns=(info.st_atime_ns, info.st_mtime_ns), follow_symlinks=False)


def _update_in_place(staging: Path, path: Path, new: list[str]) -> None:
    """Replace silkroute's files in ``path`` by those in ``staging``, one by one (each in
    one step), leaving everything else there as it is. What can refuse is judged first;
    then the ledger names old and new files and the old marker goes, so a kill part-way
    leaves an unfinished result that silkroute knows as its own (the next write completes
    it); the marker comes last."""
    info = read_marker(staging) or {}
    kind = str(info.get("kind") or "") or None
    old = owned_files(path) if written_kind(path) is not None else set()
    for name in old & set(new):
        if name.endswith("/"):
            _ready_to_replace(path / name.rstrip("/"))
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


def _ready_to_replace(folder: Path) -> None:
    """A nested result of silkroute's about to be replaced whole: the temporary files a
    killed writer left in it go; one of a writer still at work there refuses."""
    if not folder.is_dir() or folder.is_symlink():
        return
    clean_leftovers(folder)
    busy = sorted(n for n in os.listdir(folder) if _LEFTOVER.match(n))
    if busy:
        raise OutputError(
            f"{folder}: another silkroute process is writing here ({busy[0]}); wait for it "
            "to finish, then run again"
        )


def _through_link(folder: Path, name: str) -> bool:
    """``folder/name`` is reached through a link (a folder on the way is a symlink)."""
    return any((folder / p).is_symlink() for p in _prefixes(name.rstrip("/") + "/x")[:-1]) or (
        name.endswith("/") and (folder / name.rstrip("/")).is_symlink()
    )


def _remove_owned(folder: Path, name: str) -> None:
    """Remove silkroute's ``name`` from ``folder``: a file, or a nested result of its own
    (``dir/``) but for any file of the user's inside it; then the folders that removal
    left empty, up to ``folder``. Nothing reached through a link is removed."""
    if _through_link(folder, name):
        return
    target = folder / name.rstrip("/")
    if name.endswith("/"):
        if target.is_dir():
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


def _remove_old(old: Path, path: Path, carried: list[str]) -> None:
    """Remove a previous result swapped out of its place: the user's files carried over
    are the same files in the new result (their second link here goes), the rest is
    silkroute's. A file the user put there since it was judged (in the moment between) is
    kept: the folder then stays, without its marker, renamed where it can be seen."""
    with contextlib.suppress(OSError):
        for name in carried:
            before, now = old / name, path / name
            if before.is_symlink() and now.is_symlink():
                same = os.readlink(before) == os.readlink(now)
            else:
                a, b = os.lstat(before), os.lstat(now)
                same = (a.st_dev, a.st_ino) == (b.st_dev, b.st_ino)
            if same:
                before.unlink()
        if not _user_entries(old)[0]:
            shutil.rmtree(old, ignore_errors=True)
            return
        for name in owned_files(old):
            _remove_owned(old, name)
        (old / MARKER).unlink(missing_ok=True)
        os.replace(old, old.parent / f"{path.name}-kept-{os.getpid()}")


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
