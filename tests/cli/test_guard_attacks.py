"""The output guard against what an attacker tried (2026-12-07): a result's folder is
replaced without losing or altering anything of the user's — copies of results kept
inside it, the user's folders' modes and times, the user's own folder given with
--force, files that cannot be kept in place — and a page or a concurrent run never
takes the place of another result's files."""

from __future__ import annotations

import errno
import json
import os
import stat
from pathlib import Path

import pytest

import silkroute_sim.outputs.guard as guard
import silkroute_sim.outputs.storage as io
from silkroute_sim.outputs.inplace import check_page_target


def _fill(value: str, nested: str | None = None):  # type: ignore[no-untyped-def]
    def fill(folder: Path) -> None:
        for name in ("summary.csv", "daily.csv"):
            (folder / name).write_text(value)
        if nested is not None:  # a result of its own inside (replications' rep-<seed>/)
            (folder / nested).mkdir()
            (folder / nested / "summary.csv").write_text(value)
            io.mark_complete(folder / nested, {"kind": "run"})
        io.write_json({"silkroute_version": "test", "value": value}, folder / "manifest.json")
        io.mark_complete(folder, {"kind": "run"})

    return fill


def test_a_copy_of_a_result_kept_inside_one_keeps_its_marker(tmp_path: Path) -> None:
    out = tmp_path / "res"
    io.write_folder(out, _fill("old"))
    backup = out / "backup"
    backup.mkdir()
    for item in out.iterdir():  # the user's copy of the result, marker and all
        if item.is_file():
            (backup / item.name).write_bytes(item.read_bytes())
    io.write_folder(out, _fill("new"))
    assert (out / "summary.csv").read_text() == "new"
    assert io.is_complete(backup) and (backup / "summary.csv").read_text() == "old"


def test_the_users_folders_keep_their_mode_and_times(tmp_path: Path) -> None:
    out = tmp_path / "res"
    io.write_folder(out, _fill("old"))
    private = out / "private"
    private.mkdir()
    (private / "key.txt").write_text("secret")
    private.chmod(0o700)
    os.utime(private, ns=(1_000_000_000_000_000_000, 1_000_000_000_000_000_000))
    io.write_folder(out, _fill("new"))
    info = os.stat(private)
    assert stat.S_IMODE(info.st_mode) == 0o700
    assert info.st_mtime_ns == 1_000_000_000_000_000_000
    assert (private / "key.txt").read_text() == "secret"


def test_the_users_own_folder_is_written_in_place_every_time(tmp_path: Path) -> None:
    home = tmp_path / "home"
    (home / "docs").mkdir(parents=True)
    (home / "docs" / "a.txt").write_text("mine")
    (home / "docs").chmod(0o750)
    inode = os.stat(home).st_ino
    io.write_folder(home, _fill("one"), force=True)
    io.write_folder(home, _fill("two"), force=True)
    assert os.stat(home).st_ino == inode  # never swapped away
    assert stat.S_IMODE(os.stat(home / "docs").st_mode) == 0o750
    assert (home / "docs" / "a.txt").read_text() == "mine"
    assert (home / "summary.csv").read_text() == "two" and io.is_complete(home)


def test_a_users_folder_where_a_result_of_its_own_goes_is_refused_before_any_move(
    tmp_path: Path,
) -> None:
    home = tmp_path / "home"
    (home / "rep-2").mkdir(parents=True)
    (home / "rep-2" / "mine.txt").write_text("mine")
    with pytest.raises(io.OutputError, match=r"home/rep-2/mine.txt: a file of yours inside rep-2/"):
        io.write_folder(home, _fill("new", nested="rep-2"), force=True)
    assert sorted(p.name for p in home.iterdir()) == ["rep-2"]
    assert [p.name for p in (home / "rep-2").iterdir()] == ["mine.txt"]


def test_a_file_that_cannot_stay_in_place_refuses_the_write(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    out = tmp_path / "res"
    io.write_folder(out, _fill("old"))
    (out / "notes.txt").write_text("mine")

    def no_link(*args: object, **kwargs: object) -> None:
        raise OSError(errno.EPERM, "Operation not permitted")

    monkeypatch.setattr(guard.os, "link", no_link)
    with pytest.raises(io.OutputError, match=r"res/notes.txt: cannot keep this file in place"):
        io.write_folder(out, _fill("new"))
    assert (out / "summary.csv").read_text() == "old" and io.is_complete(out)
    assert (out / "notes.txt").read_text() == "mine"
    assert sorted(p.name for p in tmp_path.iterdir()) == ["res"]


def test_an_old_folder_keeps_every_file_but_the_names_silkroute_writes(tmp_path: Path) -> None:
    out = tmp_path / "old"
    (out / "plots").mkdir(parents=True)
    for name in ("summary.csv", "notes.md", "data.csv", "draft.html", "plots/mine.png"):
        (out / name).write_text("x")
    (out / "plots" / "throughput.png").write_text("x")
    (out / "manifest.json").write_text(json.dumps({"silkroute_version": "0.1"}))
    io.mark_complete(out, {"kind": "run"})  # then made as an older version made it:
    marker = json.loads((out / guard.MARKER).read_text())
    del marker["files"]  # a marker that lists no files
    (out / guard.MARKER).write_text(json.dumps(marker))
    assert io.owned_files(out) == {"summary.csv", "manifest.json", "plots/throughput.png"}
    io.write_folder(out, _fill("new"))
    for name in ("notes.md", "data.csv", "draft.html", "plots/mine.png"):
        assert (out / name).read_text() == "x"
    assert not (out / "plots" / "throughput.png").exists()


def test_the_target_is_judged_again_as_the_result_goes_in(tmp_path: Path) -> None:
    out = tmp_path / "res"
    io.write_folder(out, _fill("first"))

    def another_run_came_first() -> None:
        raise io.OutputError(f"{out}: holds another run; pass --force to replace it")

    with pytest.raises(io.OutputError, match="holds another run"):
        io.write_folder(out, _fill("second"), recheck=another_run_came_first)
    assert (out / "summary.csv").read_text() == "first"
    assert sorted(p.name for p in tmp_path.iterdir()) == ["res"]


@pytest.mark.parametrize(
    ("out", "message"),
    [
        ("a/summary.csv", "a page is written to a file ending in .html"),
        ("a/manifest.json", "a page is written to a file ending in .html"),
        ("b/report.html", "holds another result of silkroute's"),
        ("b/extra.html", "holds another result of silkroute's"),
        ("nowhere/r.html", "nowhere: no such folder; create it"),
    ],
)
def test_a_page_never_takes_another_files_place(tmp_path: Path, out: str, message: str) -> None:
    for name in ("a", "b"):
        io.write_folder(tmp_path / name, _fill(name))
    with pytest.raises(io.OutputError, match=message):
        check_page_target(tmp_path / "a", tmp_path / out)
    check_page_target(tmp_path / "a", tmp_path / "a" / "report.html")  # its own page
    check_page_target(tmp_path / "a", tmp_path / "elsewhere.html")


def test_a_users_file_named_like_an_old_temporary_file_is_kept(tmp_path: Path) -> None:
    mine = [tmp_path / ".res.tmp-99999-abcdef12", tmp_path / ".res.old-99999-abcdef12"]
    for path in mine:
        path.write_text("mine")
    io.write_folder(tmp_path / "res", _fill("new"))
    assert io.clean_leftovers(tmp_path) == 0
    assert all(path.read_text() == "mine" for path in mine)


@pytest.mark.parametrize("force", [False, True])
def test_a_result_inside_another_is_never_replaced_on_its_own(tmp_path: Path, force: bool) -> None:
    out = tmp_path / "reps"
    io.write_folder(out, _fill("old", nested="rep-1"))
    with pytest.raises(io.OutputError, match=r"reps/rep-1: is part of the run in .*reps"):
        io.write_folder(out / "rep-1", _fill("new"), force=force)
    assert (out / "rep-1" / "summary.csv").read_text() == "old"


def test_replacing_a_result_with_the_users_files_leaves_nothing_beside_it(tmp_path: Path) -> None:
    out = tmp_path / "res"
    io.write_folder(out, _fill("old"))
    (out / "notes.md").write_text("mine")
    inode = os.stat(out / "notes.md").st_ino
    for value in ("new", "newer"):
        io.write_folder(out, _fill(value))
    assert sorted(p.name for p in tmp_path.iterdir()) == ["res"]  # no old copy kept
    assert os.stat(out / "notes.md").st_ino == inode and os.stat(out / "notes.md").st_nlink == 1


def _with_plots(value: str):  # type: ignore[no-untyped-def]
    def fill(folder: Path) -> None:
        (folder / "plots").mkdir()
        (folder / "plots" / "throughput.png").write_text(value)
        _fill(value)(folder)

    return fill


@pytest.mark.parametrize("force", [False, True])
def test_a_link_where_silkroute_writes_a_folder_is_refused(tmp_path: Path, force: bool) -> None:
    figures = tmp_path / "figures"
    figures.mkdir()
    (figures / "throughput.png").write_text("USER FIGURE")
    out = tmp_path / "res"
    if force:  # the user's own folder, written in place
        out.mkdir()
        (out / "mine.txt").write_text("m")
    io.write_folder(out, _with_plots("one"), force=force)
    io.remove_path(out / "plots")
    (out / "plots").symlink_to(figures)
    with pytest.raises(io.OutputError, match=r"res/plots: not written by silkroute"):
        io.write_folder(out, _with_plots("two"), force=force)
    io.write_folder(out, _fill("three"), force=force)  # no plots: nothing removed through it
    assert (figures / "throughput.png").read_text() == "USER FIGURE"


def test_a_folder_of_the_users_that_the_result_writes_into_keeps_its_mode(tmp_path: Path) -> None:
    out = tmp_path / "res"
    io.write_folder(out, _fill("old"))
    (out / "plots").mkdir()
    (out / "plots" / "secret.png").write_text("s")
    (out / "plots").chmod(0o700)
    io.write_folder(out, _with_plots("new"))
    assert stat.S_IMODE(os.stat(out / "plots").st_mode) == 0o700
    assert (out / "plots" / "secret.png").read_text() == "s"


def test_an_empty_folder_made_for_the_result_keeps_its_mode(tmp_path: Path) -> None:
    out = tmp_path / "team"
    out.mkdir()
    out.chmod(0o2770)
    io.write_folder(out, _fill("one"))
    io.write_folder(out, _fill("two"))
    assert stat.S_IMODE(os.stat(out).st_mode) == 0o2770
    assert (out / "summary.csv").read_text() == "two" and io.is_complete(out)


def test_a_result_part_of_one_further_up_is_refused(tmp_path: Path) -> None:
    whole = tmp_path / "cmp"

    def comparison(folder: Path) -> None:  # as compare --keep-runs: runs/<name>/rep-<seed>/
        (folder / "runs" / "base" / "rep-1").mkdir(parents=True)
        _fill("run")(folder / "runs" / "base" / "rep-1")
        io.mark_complete(folder, {"kind": "comparison"}, ["runs/base/rep-1/"])

    io.write_folder(whole, comparison, kind="comparison")
    with pytest.raises(io.OutputError, match="is part of the comparison"):
        io.write_folder(whole / "runs" / "base" / "rep-1", _fill("x"), force=True)


def test_a_page_inside_a_folder_of_another_result_is_refused(tmp_path: Path) -> None:
    for name in ("a", "b"):
        io.write_folder(tmp_path / name, _fill(name))
    (tmp_path / "b" / "plots").mkdir()
    with pytest.raises(io.OutputError, match="holds another result of silkroute's"):
        check_page_target(tmp_path / "a", tmp_path / "b" / "plots" / "page.html")
    io.write_folder(tmp_path / "reps", _fill("r", nested="rep-1"))  # a replication's own page
    check_page_target(tmp_path / "reps" / "rep-1", tmp_path / "reps" / "rep-1" / "report.html")


def test_a_users_file_named_like_the_marker_is_in_the_way(tmp_path: Path) -> None:
    home = tmp_path / "home"
    home.mkdir()
    (home / guard.MARKER).write_text("my notes, not JSON")
    (home / "summary.csv").write_text("mine")
    with pytest.raises(io.OutputError, match=r"home/.silkroute-complete: not written by"):
        io.write_folder(home, _fill("one"), force=True)
    assert (home / "summary.csv").read_text() == "mine"


def test_a_killed_writers_file_inside_a_nested_result_does_not_stop_the_next(
    tmp_path: Path,
) -> None:
    home = tmp_path / "home"
    home.mkdir()
    (home / "mine.txt").write_text("m")
    io.write_folder(home, _fill("one", nested="rep-1"), force=True)
    (home / "rep-1" / ".summary.csv.silkroute-tmp-999999-abcdef01").write_text("x")
    io.write_folder(home, _fill("two", nested="rep-1"), force=True)
    assert (home / "rep-1" / "summary.csv").read_text() == "two" and io.is_complete(home)


def test_a_result_parked_by_an_older_version_is_put_back_never_removed(tmp_path: Path) -> None:
    parked = tmp_path / ".res.old-999999-abcdef12"  # a writer of yesterday killed mid-swap
    io.write_folder(parked, _fill("finished"))
    lookalike = tmp_path / ".other.old-999999-abcdef12"
    lookalike.write_text("a file of the user's")
    io.clean_leftovers(tmp_path)
    assert (tmp_path / "res" / "summary.csv").read_text() == "finished"
    assert lookalike.read_text() == "a file of the user's"
