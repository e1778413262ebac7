"""``silkroute animate``: where the trains are, what the page carries, what is refused.

The page itself is opened in a real browser by ``tests/browser``."""

from __future__ import annotations

import itertools
import json
import os
import re
import shutil
from pathlib import Path

import pandas as pd
import pytest

from silkroute_sim.outputs.animation import animation_data
from silkroute_sim.outputs.guard import read_marker

from ..conftest import silkroute

#: long end-to-end or statistical tests: left out of ``pytest -m "not slow"``
pytestmark = pytest.mark.slow

SHORT = ("--days", "8", "--warmup-days", "2", "--seed", "4", "--no-plots")


@pytest.fixture(scope="module")
def run_folder(tmp_path_factory: pytest.TempPathFactory) -> Path:
    out = tmp_path_factory.mktemp("animate") / "run"
    proc = silkroute("run", "baseline", *SHORT, "--out", str(out))
    assert proc.returncode == 0, proc.stderr
    return out


def _embedded(page: Path) -> dict:
    text = page.read_text(encoding="utf-8")
    match = re.search(r'<script type="application/json" id="data">(.*?)</script>', text, re.S)
    assert match is not None
    return json.loads(match.group(1))


def _at(data: dict, train: list, hour: float) -> float:
    """The km along its route the page puts ``train`` at ``hour`` (linear between points)."""
    times, kms = train[2::2], train[3::2]
    for (t0, k0), (t1, k1) in itertools.pairwise(zip(times, kms, strict=True)):
        if t0 <= hour <= t1:
            return k0 if t1 == t0 else k0 + (k1 - k0) * (hour - t0) / (t1 - t0)
    raise AssertionError(f"hour {hour} outside {times[0]}..{times[-1]}")


def test_each_train_is_where_its_records_put_it(run_folder: Path) -> None:
    """A service train leaves the hub at its departure hour and is at each node between
    its arrival and its departure there (node_events.csv), at that node's km."""
    anim = animation_data(run_folder)
    data = anim.data
    trains = pd.read_csv(run_folder / "trains.csv")
    events = pd.read_csv(run_folder / "node_events.csv")
    departed = trains[trains["departed_h"].notna()]
    service = [t for t in data["trains"] if t[1] >= 0]
    assert anim.trains == len(service) == len(departed) > 5
    names = [n[0] for n in data["map"]["nodes"]]
    checked = 0
    for row, train in zip(departed.itertuples(), service, strict=True):
        times, kms = train[2::2], train[3::2]
        assert times == sorted(times) and kms == sorted(kms)
        assert times[0] == round(row.departed_h, 1) and kms[0] == 0
        ids, route_km = data["routes"][train[0]]
        assert [names[i] for i in ids] == row.route.split(">")
        stops = events[(events["train_id"] == row.train_id) & events["end_h"].notna()]
        for stop in stops.itertuples():
            node_km = round(route_km[ids.index(names.index(stop.node))])
            middle = round((stop.arrived_h + stop.end_h) / 2, 1)
            if round(stop.arrived_h, 1) <= middle <= round(stop.end_h, 1):
                assert _at(data, train, middle) == pytest.approx(node_km, abs=1)
                checked += 1
    assert checked > 20
    assert data["services"] and all(len(s) == 2 for s in data["services"])


def test_border_queues_count_the_trains_waiting(run_folder: Path) -> None:
    data = animation_data(run_folder).data
    events = pd.read_csv(run_folder / "node_events.csv")
    queues = data["queues"]
    names = [n[0] for n in data["map"]["nodes"]]
    assert "Małaszewicze" in [names[i] for i in queues["nodes"]]
    for j, node in enumerate(queues["nodes"]):
        at = events[events["node"] == names[node]]
        for hour in (30, 100, 170):
            start = at["start_h"].fillna(float("inf"))
            waiting = int(((at["arrived_h"] <= hour) & (start > hour)).sum())
            assert queues["waiting"][j][hour] == waiting
    assert len(data["hub"]["yard_teu_mean"]) == 8


def test_animate_writes_its_page_into_the_run_and_lists_it(run_folder: Path) -> None:
    proc = silkroute("animate", str(run_folder))
    assert proc.returncode == 0, proc.stderr
    page = run_folder / "animation.html"
    assert f"animation: {page}" in proc.stdout and proc.stderr == ""
    assert "animation.html" in read_marker(run_folder)["files"]
    text = page.read_text(encoding="utf-8")
    assert not re.search(r"""(src|href)=["'](?!#)""", text)  # nothing fetched
    assert "http://" not in text.replace("http://www.w3.org/2000/svg", "")
    assert "https://" not in text
    assert _embedded(page)["end_h"] == 8 * 24
    first = page.read_bytes()
    assert silkroute("animate", str(run_folder)).returncode == 0  # its own page: replaced
    assert page.read_bytes() == first  # the same run, the same page


def test_animate_refuses_what_it_may_not_write_or_read(run_folder: Path, tmp_path: Path) -> None:
    mine = tmp_path / "mine.html"
    mine.write_text("my notes", encoding="utf-8")
    proc = silkroute("animate", str(run_folder), "--out", str(mine))
    assert proc.returncode == 2 and mine.read_text(encoding="utf-8") == "my notes"
    assert proc.stderr.count("\n") == 1 and "not written by silkroute" in proc.stderr
    proc = silkroute("animate", str(tmp_path))
    assert proc.returncode == 2
    assert proc.stderr == f"error: {tmp_path}: not a complete silkroute run folder; animate " \
        "takes the folder of one finished run\n"  # fmt: skip
    proc = silkroute("animate", str(run_folder), "--out", str(tmp_path / "a.gif"))
    assert proc.returncode == 2 and "must end in .html or .mp4" in proc.stderr
    assert not (tmp_path / "a.gif").exists()


def test_a_summary_only_run_says_what_is_missing(tmp_path: Path) -> None:
    out = tmp_path / "summary-only"
    proc = silkroute("run", "baseline", *SHORT, "--records", "summary", "--out", str(out))
    assert proc.returncode == 0, proc.stderr
    proc = silkroute("animate", str(out), "--out", str(tmp_path / "a.html"))
    assert proc.returncode == 0, proc.stderr
    assert proc.stderr.count("\n") == 1
    assert "has no trains.csv, node_events.csv" in proc.stderr
    assert "records=summary" in proc.stderr
    data = _embedded(tmp_path / "a.html")
    assert data["trains"] == [] and data["queues"]["daily"] is True
    assert len(data["queues"]["waiting"][0]) == 8


def test_the_page_is_the_same_whichever_format_the_run_was_written_in(
    run_folder: Path, tmp_path: Path
) -> None:
    out = tmp_path / "parquet"
    proc = silkroute("run", "baseline", *SHORT, "--format", "parquet", "--out", str(out))
    assert proc.returncode == 0, proc.stderr
    pages = []
    for folder in (run_folder, out):
        page = tmp_path / f"{folder.name}.html"
        assert silkroute("animate", str(folder), "--out", str(page)).returncode == 0
        pages.append(page.read_bytes())
    assert pages[0] == pages[1]


def test_a_moved_table_is_said_to_be_missing_not_summary_only(
    run_folder: Path, tmp_path: Path
) -> None:
    copy = tmp_path / "copy"
    shutil.copytree(run_folder, copy)
    (copy / "trains.csv").unlink()
    proc = silkroute("animate", str(copy), "--out", str(tmp_path / "a.html"))
    assert proc.returncode == 0, proc.stderr
    assert "has no trains.csv (the run wrote it; it has been moved or deleted since)" in (
        proc.stderr
    )


def test_a_closure_is_drawn_while_it_lasts(tmp_path: Path) -> None:
    """The Khorgos closure, moved to day 3 of an 8-day run: the page marks Khorgos from
    hour 72 to the end of the run (the closure would last to hour 240)."""
    out = tmp_path / "closed"
    closure = "disruptions.scheduled.0.start=3d"
    proc = silkroute("run", "khorgos-closed-7d", *SHORT, "--set", closure, "--out", str(out))
    assert proc.returncode == 0, proc.stderr
    data = animation_data(out).data
    names = [n[0] for n in data["map"]["nodes"]]
    assert data["disruptions"] == [[names.index("Khorgos"), -1, "Khorgos: close", 72.0, 192.0]]


def test_mp4_without_ffmpeg_is_one_line(
    run_folder: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    folders = os.environ.get("PATH", "").split(os.pathsep)
    monkeypatch.setenv(
        "PATH", os.pathsep.join(p for p in folders if not (Path(p) / "ffmpeg").exists())
    )
    proc = silkroute("animate", str(run_folder), "--out", str(tmp_path / "a.mp4"))
    assert proc.returncode == 2
    assert proc.stderr.startswith("error: ffmpeg is not installed")
    assert proc.stderr.count("\n") == 1
    assert not (tmp_path / "a.mp4").exists()


@pytest.mark.skipif(shutil.which("ffmpeg") is None, reason="ffmpeg is not installed")
def test_mp4_where_ffmpeg_is_installed(tmp_path: Path) -> None:
    out = tmp_path / "run"
    proc = silkroute(
        "run", "baseline", "--days", "1.5", "--warmup-days", "0.5", "--no-plots", "--out", str(out)
    )
    assert proc.returncode == 0, proc.stderr
    proc = silkroute("animate", str(out), "--out", str(tmp_path / "a.mp4"))
    assert proc.returncode == 0, proc.stderr
    head = (tmp_path / "a.mp4").read_bytes()[:12]
    assert head[4:8] == b"ftyp"
    assert [p.name for p in tmp_path.iterdir() if p.name.startswith(".")] == []
