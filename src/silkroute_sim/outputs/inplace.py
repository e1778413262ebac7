"""Writing inside a folder in place, through the output guard (:mod:`.guard`).

A sweep's folder is written file by file so that it can be resumed; a report page is added
to a finished result. Each file is *claimed* first: a file the user put there is never
written over (the write is refused, naming it), and what silkroute writes is recorded in
the folder's marker or ledger, so that a later run knows it as silkroute's.
"""

from __future__ import annotations

import os
import sys
from collections.abc import Callable, Iterable, Iterator, Sequence
from contextlib import contextmanager
from pathlib import Path

from silkroute_sim.outputs.guard import (
    _LEFTOVER,
    LEDGER,
    OutputError,
    _in_the_way,
    _prefixes,
    _read_json,
    _safe_relative,
    listed_files,
    mark_complete,
    owned_files,
    read_marker,
    remove_path,
    temp_name,
    write_ledger,
    written_kind,
)

_REPORT_SIGNATURE = "<footer><p>Written by silkroute-sim"


def _in_staging(folder: Path) -> bool:
    """``folder`` is (inside) a staging folder: everything there is silkroute's."""
    for item in (folder, *folder.parents):
        match = _LEFTOVER.match(item.name)
        if match is not None and match["kind"] == "tmp":
            return True
    return False


def claim(folder: Path, *names: str) -> Path:
    """Make ``folder/name`` silkroute's, for each of ``names``, before writing it in place
    (a sweep's tables, a report page): refused, naming the first file the user put in the
    way, before anything is recorded; otherwise recorded in the folder's marker or ledger.
    Returns the path of the last name (the one to write, when there is one)."""
    folder = Path(folder)
    targets = [_checked(folder, name) for name in names]
    if not _in_staging(folder):
        owned = owned_files(folder)
        record(folder, [n for n in names if n not in owned])
    return targets[-1]


#: what a page of a result is written as: ``report --out``, ``animate --out``
PAGE_SUFFIXES = (".html", ".htm", ".mp4")


def check_page_target(source: Path, out: Path) -> None:
    """Refuse, before any work, a page of the result in ``source`` written to ``out``
    where it would take another file's place: a name that is not a page (``.html``,
    ``.mp4``: a result's tables, manifest or figures are never written over by a page),
    or a place inside another result of silkroute's (its files are its own; a page
    there would be taken for one of them)."""
    out = Path(out)
    if out.suffix.lower() not in PAGE_SUFFIXES:
        raise OutputError(
            f"{out}: a page is written to a file ending in .html (.mp4 for a video); "
            "choose another --out"
        )
    if not out.parent.is_dir():
        raise OutputError(f"{out.parent}: no such folder; create it or choose another --out")
    parent = Path(os.path.realpath(out.parent))
    home = Path(os.path.realpath(source))
    for folder in (parent, *parent.parents):  # the folder itself, or one it is inside
        kind = written_kind(folder)
        if kind is not None and folder != home and folder not in home.parents:
            raise OutputError(
                f"{out}: {folder} holds another result of silkroute's (a {kind}); write "
                f"the page outside it, or into {source}"
            )


def _checked(folder: Path, name: str) -> Path:
    rel = _safe_relative(name)
    if rel is None:
        raise OutputError(f"{folder}/{name}: not a plain file name inside the folder")
    target = folder / rel.rstrip("/")
    if _in_staging(folder):
        return target
    if rel in owned_files(folder):
        if any((folder / p).is_symlink() for p in _prefixes(rel)):
            raise _in_the_way(str(folder / _prefixes(rel)[0]))
        return target
    exists = target.exists() or target.is_symlink()
    if exists and not _standalone_report(folder, rel):
        raise _in_the_way(str(target))
    for prefix in _prefixes(rel):
        above = folder / prefix
        if above.is_symlink() or (above.exists() and not above.is_dir()):
            raise _in_the_way(str(above))  # a link could lead our files out of the folder
    return target


def _standalone_report(folder: Path, rel: str) -> bool:
    """A report page silkroute wrote (its footer says so) where ``report --out`` put it: in
    a folder that is not a result (results list their pages)."""
    if not rel.endswith(".html") or read_marker(folder) is not None:
        return False
    return not (folder / LEDGER).exists() and _our_report(folder / rel)


def _our_report(path: Path) -> bool:
    """A report page silkroute wrote (its footer says so)."""
    if path.is_symlink() or not path.is_file():
        return False
    try:
        with open(path, encoding="utf-8", errors="replace") as fh:
            return _REPORT_SIGNATURE in fh.read(4_000_000)
    except OSError:
        return False


def record(folder: Path, names: list[str]) -> None:
    """Add ``names`` to what the folder's marker and ledger say silkroute owns."""
    if not names:
        return
    info = read_marker(folder)
    if info is not None:
        listed = listed_files(info) or []
        data = {k: v for k, v in info.items() if k != "files"}
        mark_complete(folder, data, [*listed, *names])
    ledger = _read_json(folder / LEDGER)
    if ledger is not None:  # a folder without either is the user's: nothing to record
        write_ledger(folder, [*(listed_files(ledger) or []), *names])


def disown(folder: Path, names: Iterable[str]) -> None:
    """Remove silkroute's files ``names`` from ``folder`` and from its ledger and marker
    (names it does not own are left alone)."""
    folder = Path(folder)
    owned = owned_files(folder)
    gone = [n for n in names if n in owned]
    for name in gone:
        remove_path(folder / name.rstrip("/"))
    if not gone:
        return
    ledger = _read_json(folder / LEDGER)
    if ledger is not None:
        write_ledger(folder, set(listed_files(ledger) or []) - set(gone))
    info = read_marker(folder)
    if info is not None:
        data = {k: v for k, v in info.items() if k != "files"}
        mark_complete(folder, data, set(listed_files(info) or []) - set(gone))


@contextmanager
def folder_lock(
    out: Path, name: str, what: str, busy: Callable[[str], Exception]
) -> Iterator[None]:
    """One ``what`` (a sweep, an optimisation) writing a folder at a time: an advisory
    lock on ``out/name`` that the kernel drops if the process is killed; ``busy(message)``
    is raised when another process holds it."""
    if sys.platform == "win32":  # pragma: no cover
        yield
        return
    import fcntl

    fd = os.open(out / name, os.O_RDWR | os.O_CREAT, 0o644)
    try:
        try:
            fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except OSError:
            raise busy(f"{out}: another {what} is writing to this folder") from None
        yield
    finally:
        os.close(fd)


def stale_plots(folder: Path) -> list[str]:
    """The plots silkroute wrote into ``folder/plots/`` before (the user's stay out)."""
    return [n for n in owned_files(folder) if n.startswith("plots/")]


def replace_plots_in_place(
    folder: Path, draw: Callable[[Path], Sequence[Path | None]]
) -> list[Path]:
    """``draw`` the figures into a staging folder, then move each into ``folder/plots/``:
    claimed first, so a user's file of that name refuses the move before any is made;
    silkroute's plots that were not drawn again go, the user's own stay."""
    stale = stale_plots(folder)
    staging = folder / temp_name("plots")
    staging.mkdir()
    try:
        figures = [p for p in draw(staging) if p is not None]
        names = [f"plots/{p.name}" for p in figures]
        if names:
            claim(folder, *names)
        disown(folder, [n for n in stale if n not in names])
        (folder / "plots").mkdir(exist_ok=True)
        for figure in figures:
            os.replace(figure, folder / "plots" / figure.name)
    finally:
        remove_path(staging)
    return [folder / "plots" / p.name for p in figures]
