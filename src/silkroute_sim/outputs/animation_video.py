"""The animation as an MP4 video, where ffmpeg is installed.

The same data as the HTML page (:func:`silkroute_sim.outputs.animation.animation_data`),
drawn with matplotlib frame by frame and piped to ffmpeg (H.264, 1280×720, 24 frames a
second). A frame every ``step`` hours, with ``step`` chosen so that the video lasts about
20 seconds however long the run (at least one frame an hour). The video is written to a
temporary name beside the target and renamed when ffmpeg has finished, through the output
guard: a file the user put at the target is refused, not replaced.
"""

from __future__ import annotations

import contextlib
import math
import os
import shutil
import subprocess
from pathlib import Path
from typing import Any

from silkroute_sim.outputs.animation import AnimationData, AnimationError, animation_data
from silkroute_sim.outputs.guard import temp_name
from silkroute_sim.outputs.inplace import check_page_target, claim

FPS = 24
MAX_FRAMES = 480
SIZE = (1280, 720)


def ffmpeg_missing() -> str | None:
    """One line saying that ffmpeg is missing, or None when it is on PATH."""
    if shutil.which("ffmpeg"):
        return None
    return (
        "ffmpeg is not installed (not found on PATH), so no MP4 can be written; write the "
        "HTML animation instead (--out FILE.html) or install ffmpeg (apt-get install ffmpeg)"
    )


def _route_xy(route: list[Any], nodes: list[list[Any]], km: float) -> tuple[float, float]:
    ids, kms = route
    if km <= kms[0]:
        return float(nodes[ids[0]][2]), float(nodes[ids[0]][3])
    for i in range(len(kms) - 1):
        if km <= kms[i + 1]:
            span = kms[i + 1] - kms[i]
            f = (km - kms[i]) / span if span > 0 else 1.0
            (x0, y0), (x1, y1) = nodes[ids[i]][2:4], nodes[ids[i + 1]][2:4]
            return x0 + f * (x1 - x0), y0 + f * (y1 - y0)
    return float(nodes[ids[-1]][2]), float(nodes[ids[-1]][3])


def train_positions(data: dict[str, Any], t: float) -> list[tuple[float, float, int]]:
    """(x, y, service) of every train on the map at hour ``t`` (service -1: background);
    the page's script computes the same."""
    out = []
    nodes = data["map"]["nodes"]
    for tr in data["trains"]:
        times, kms = tr[2::2], tr[3::2]
        if not times or t < times[0] or t > times[-1]:
            continue
        hi = next(i for i, v in enumerate(times) if v >= t)
        lo = max(hi - 1, 0) if times[hi] > t else hi
        t0, t1, k0, k1 = times[lo], times[hi], kms[lo], kms[hi]
        km = k0 + (k1 - k0) * (t - t0) / (t1 - t0) if t1 > t0 else k1
        x, y = _route_xy(data["routes"][tr[0]], nodes, km)
        out.append((x, y, int(tr[1])))
    return out


def _static_map(ax: Any, data: dict[str, Any], zoom: dict[str, Any] | None = None) -> None:
    """Land, lines, nodes and labels on ``ax`` in the page's map units; with ``zoom``, the
    zoom's labels, their offsets shrunk by its magnification."""
    from matplotlib.patches import PathPatch
    from matplotlib.path import Path as MPath

    m = data["map"]
    for d in m["basemap"]:
        verts, codes = [], []
        for ring in d.strip("Z").split("ZM"):
            pts = [tuple(map(float, p.split())) for p in ring.lstrip("M").split("L")]
            verts += [*pts, pts[0]]
            codes += [MPath.MOVETO] + [MPath.LINETO] * (len(pts) - 1) + [MPath.CLOSEPOLY]
        ax.add_patch(PathPatch(MPath(verts, codes), fc="#fbfaf6", ec="#b9c2cb", lw=0.5))
    nodes = m["nodes"]
    for a, b in m["edges"]:
        ax.plot([nodes[a][2], nodes[b][2]], [nodes[a][3], nodes[b][3]], c="#8796a5", lw=1.2)
    style = {"hub": ("#0072B2", 60), "border": ("#ffffff", 30), "terminal": ("#1d2b3a", 30)}
    scale = zoom["k"] if zoom else 1.0
    sides = dict(zip(zoom["nodes"], zoom["labels"], strict=True)) if zoom else {}
    for i, ((name, kind, x, y), side) in enumerate(zip(nodes, m["labels"], strict=True)):
        side = sides.get(i, side)
        colour, size = style.get(kind, ("#8796a5", 10))
        ax.scatter([x], [y], s=size, c=colour, edgecolors="#1d2b3a", linewidths=0.6, zorder=4)
        dx = {"e": 7, "w": -7, "ne": 5, "se": 5, "nw": -5, "sw": -5}.get(side, 0) / scale
        dy = {"n": -9, "s": 13, "ne": -7, "nw": -7, "se": 12, "sw": 12}.get(side, 3) / scale
        ha = "left" if dx > 0 else "right" if dx < 0 else "center"
        junction = kind == "junction"
        ax.text(x + dx, y + dy, name, fontsize=6 if junction else 7, ha=ha, va="center",
                color="#5a6b7d" if junction else "#1d2b3a", zorder=5, clip_on=True)  # fmt: skip
    ax.set_xlim(0, m["width"])
    ax.set_ylim(m["height"], 0)
    ax.set_aspect("equal")
    ax.set_facecolor("#eef4f8")
    ax.set_xticks([])
    ax.set_yticks([])


def _layout(fig: Any, data: dict[str, Any]) -> list[Any]:
    """The corridor map across the top, the zoom on the hub below it on the left (where
    the page has one), the service legend on the right; returns the map axes."""
    from matplotlib.lines import Line2D

    ax = fig.add_axes((0.01, 0.36, 0.98, 0.56))
    _static_map(ax, data)
    axes = [ax]
    zoom = data["map"].get("zoom")
    if zoom:
        axz = fig.add_axes((0.01, 0.02, 0.40, 0.32))
        _static_map(axz, data, zoom)
        axz.set_xlim(zoom["x0"], zoom["x0"] + zoom["width"] / zoom["k"])
        axz.set_ylim(zoom["y0"] + zoom["height"] / zoom["k"], zoom["y0"])
        axes.append(axz)
    handles = [
        Line2D([], [], marker="o", ls="", color=colour, label=name)
        for name, colour in data["services"]
    ]
    handles.append(Line2D([], [], marker="o", ls="", color="#9aa5b1", label="background train"))
    fig.legend(handles=handles, loc="lower right", ncol=2, fontsize=9, frameon=False)
    return axes


def _frames(data: dict[str, Any], out: Any) -> None:
    """Draw every frame and write its RGBA bytes to ``out`` (ffmpeg's stdin)."""
    from matplotlib.backends.backend_agg import FigureCanvasAgg
    from matplotlib.figure import Figure

    fig = Figure(figsize=(SIZE[0] / 100, SIZE[1] / 100), dpi=100)
    canvas = FigureCanvasAgg(fig)
    axes = _layout(fig, data)
    colours = [c for _, c in data["services"]]
    trains = [a.scatter([], [], s=22, zorder=6, edgecolors="white", lw=0.5) for a in axes]
    nodes, q = data["map"]["nodes"], data["queues"]
    title = fig.text(0.01, 0.95, "", fontsize=13, fontweight="bold", color="#1d2b3a")
    status = fig.text(0.44, 0.32, "", fontsize=10, color="#1d2b3a", va="top", family="monospace")
    step = max(1.0, math.ceil(data["end_h"] / MAX_FRAMES))
    hub = data["hub"]
    for k in range(int(data["end_h"] // step) + 1):
        t = k * step
        pos = train_positions(data, t)
        for scatter in trains:
            scatter.set_offsets([(x, y) for x, y, _ in pos] or [(math.nan, math.nan)])
            scatter.set_facecolor([colours[s] if s >= 0 else "#9aa5b1" for *_, s in pos] or "w")
            scatter.set_sizes([26 if s >= 0 else 10 for *_, s in pos] or [0])
        at = int(t // q["step_h"]) if q["daily"] else round(t / q["step_h"])
        j = min(at, len(q["waiting"][0]) - 1) if q["nodes"] else 0
        lines = [f"{'trains waiting at':<18}"]
        for i, waiting in zip(q["nodes"], q["waiting"], strict=True):
            lines.append(f"  {nodes[i][0]:<16}{waiting[j]:>5.3g}")
        if hub is not None:
            day = min(int(t // 24), len(hub["yard_teu_mean"]) - 1)
            lines.append(f"{'yard (TEU)':<18}{hub['yard_teu_mean'][day]:>5,.0f}")
        lines.append(f"{'trains moving':<18}{sum(1 for p in pos if p[2] >= 0):>5}")
        status.set_text("\n".join(lines))
        title.set_text(f"{data['name']}: day {t / 24:.1f}")
        canvas.draw()
        out.write(memoryview(canvas.buffer_rgba()))


def write_video(folder: Path, out: Path) -> tuple[Path, AnimationData]:
    """Render the run in ``folder`` to the MP4 file ``out``."""
    check_page_target(Path(folder), out)
    anim = animation_data(Path(folder))
    target = claim(out.parent, out.name)
    tmp = target.with_name(temp_name(target.name))
    command = [
        "ffmpeg", "-loglevel", "error", "-y", "-f", "rawvideo", "-pix_fmt", "rgba",
        "-s", f"{SIZE[0]}x{SIZE[1]}", "-r", str(FPS), "-i", "-", "-c:v", "libx264",
        "-pix_fmt", "yuv420p", "-f", "mp4", str(tmp),
    ]  # fmt: skip
    try:
        with subprocess.Popen(command, stdin=subprocess.PIPE, stderr=subprocess.PIPE) as proc:
            assert proc.stdin is not None
            try:
                _frames(anim.data, proc.stdin)
            except BrokenPipeError:  # ffmpeg stopped early: its own message says why
                pass
            finally:
                with contextlib.suppress(BrokenPipeError):
                    proc.stdin.close()
            error = proc.stderr.read().decode(errors="replace") if proc.stderr else ""
        if proc.returncode != 0:
            raise AnimationError(f"{out}: ffmpeg failed: {' '.join(error.split())[:300]}")
        os.replace(tmp, target)
    finally:
        tmp.unlink(missing_ok=True)
    return out, anim
