"""The corridor map: Urumqi's cargo flows on the lines, the mean wait at each node, over
country borders.

The borders are Natural Earth's 1:110m admin-0 countries (public domain), clipped to the
corridor and simplified by ``scripts/make_basemap.py`` into ``outputs/data/countries.json``,
which ships with the package: nothing is downloaded. The crowded border crossings (the
Xinjiang crossings, Brest / Małaszewicze) are drawn again, enlarged, in panels below the
map; the map marks their areas with lettered boxes instead of connector lines. Node labels
are placed by a small pass that tries eight positions around each node and keeps the first
that overlaps no label or node already placed (a leader line where none is free).
Imported lazily (matplotlib).
"""

from __future__ import annotations

import itertools
import json
import math
from collections import defaultdict
from functools import cache
from importlib import resources
from pathlib import Path
from typing import Any

import pandas as pd

from silkroute_sim.model.simulate import RunResult
from silkroute_sim.outputs.plots.style import BLUE, BORDER, LAND, SEA, WAITS, pyplot, save

#: the zoomed areas: (lon_min, lon_max, lat_min, lat_max), title
ZOOMS = (
    ((79.8, 83.4, 43.9, 45.6), "Xinjiang crossings"),
    ((22.9, 24.3, 51.85, 52.3), "Brest / Małaszewicze"),
)
#: label offsets tried around a node, in points (right first: the usual reading)
OFFSETS = ((7, -3), (7, 5), (-7, -3), (-7, 5), (0, 9), (0, -13), (9, -11), (-9, -11))


@cache
def countries() -> list[dict[str, Any]]:
    """The shipped basemap: ``name``, ``iso_a3`` and ``rings`` ([[lon, lat], …]) of each
    country near the corridor."""
    text = (
        resources.files("silkroute_sim.outputs")
        .joinpath("data/countries.json")
        .read_text(encoding="utf-8")
    )
    data: list[dict[str, Any]] = json.loads(text)["countries"]
    return data


def draw_basemap(ax: Any) -> None:
    """Land and country borders under whatever is drawn next (``zorder`` 0)."""
    from matplotlib.collections import PolyCollection

    rings = [ring for country in countries() for ring in country["rings"]]
    ax.add_collection(
        PolyCollection(rings, facecolors=LAND, edgecolors=BORDER, linewidths=0.5, zorder=0)
    )
    ax.set_facecolor(SEA)


def _flows(
    result: RunResult, shipments: pd.DataFrame, trains: pd.DataFrame
) -> dict[tuple[str, str], float]:
    """Tonnes carried per line (both directions together) over the run. Trains with no
    tonnes recorded (the inbound trains towards Urumqi carry no shipments of the run) add
    nothing, instead of making every line they run on unknown."""
    tonnes: dict[tuple[str, str], float] = defaultdict(float)
    unload = shipments.groupby(["train_id", "destination"])["tonnes"].sum().to_dict()
    for train_id, route_text, train_tonnes in zip(
        trains["train_id"], trains["route"], trains["tonnes"], strict=True
    ):
        onboard = float(train_tonnes)
        if not math.isfinite(onboard):
            continue
        for u, v in itertools.pairwise(str(route_text).split(">")):
            tonnes[(min(u, v), max(u, v))] += onboard
            onboard -= unload.get((train_id, v), 0.0)
    return tonnes


def _overlaps(box: Any, taken: list[Any]) -> bool:
    return any(box.overlaps(other) for other in taken)


#: an arrow's end stops this many pixels short of the node (``FancyArrowPatch``'s default
#: ``shrinkB`` of 2, in pixels until the patch is drawn)
ARROW_SHRINK_PX = 2.0


def label_box(
    extent: tuple[float, float, float, float],
    anchor: tuple[float, float],
    offset_px: tuple[float, float],
    arrow: bool,
) -> Any:
    """The window extent (pixels) of a node label placed ``offset_px`` from the node at
    ``anchor``, worked out from the label's ``extent`` (x0, y0, width, height relative to
    its own position, as laid out left-aligned and centred vertically) instead of asking
    the renderer again: aligned right of the offset where it points right, left of it
    where it points left, centred where straight up or down; with ``arrow``, the leader
    line to the node included (it runs from the label's centre to the node, stopping
    :data:`ARROW_SHRINK_PX` short). What ``Annotation.get_window_extent`` gives for the
    same label (test), without the artists."""
    from matplotlib.transforms import Bbox

    x0, y0, width, height = extent
    dx, dy = offset_px
    shift = 0.0 if dx > 0 else width if dx < 0 else width / 2
    left, bottom = anchor[0] + dx + x0 - shift, anchor[1] + dy + y0
    box = Bbox.from_bounds(left, bottom, width, height)
    if not arrow:
        return box
    cx, cy = left + width / 2, bottom + height / 2
    gap = math.hypot(cx - anchor[0], cy - anchor[1])
    if gap <= ARROW_SHRINK_PX:
        return box
    ex = anchor[0] + (cx - anchor[0]) * ARROW_SHRINK_PX / gap
    ey = anchor[1] + (cy - anchor[1]) * ARROW_SHRINK_PX / gap
    return Bbox.union([box, Bbox.from_extents(ex, ey, ex, ey)])


def label_extent(
    fig: Any, renderer: Any, name: str, size: float
) -> tuple[float, float, float, float]:
    """(x0, y0, width, height) in pixels of ``name`` laid out left-aligned and centred
    vertically on its position, relative to that position: one text measured, not drawn."""
    from matplotlib.text import Text
    from matplotlib.transforms import IdentityTransform

    probe = Text(0.0, 0.0, name, fontsize=size, ha="left", va="center")
    probe.set_figure(fig)
    probe.set_transform(IdentityTransform())
    box = probe.get_window_extent(renderer)
    return (box.x0, box.y0, box.width, box.height)


def _annotate(
    ax: Any, name: str, xy: tuple[float, float], size: float, dx: float, dy: float, arrow: bool
) -> Any:
    return ax.annotate(
        name,
        xy,
        textcoords="offset points",
        xytext=(dx, dy),
        ha="left" if dx > 0 else "right" if dx < 0 else "center",
        va="center",
        fontsize=size,
        zorder=5,
        bbox={"boxstyle": "round,pad=0.15", "fc": "white", "ec": "none", "alpha": 0.7},
        arrowprops={"arrowstyle": "-", "color": "0.4", "lw": 0.6} if arrow else None,
    )


def place_labels(ax: Any, names: list[str], lon: list[float], lat: list[float], size: float) -> Any:
    """Label the nodes without overprinting: per node the first of :data:`OFFSETS` whose
    text overlaps no label or node marker placed so far (and stays inside the axes); a
    leader line to a free spot further out where none of them is free. Returns the texts.

    Each name is measured once (one text laid out by the renderer); the box of every
    position tried is worked out from that (:func:`label_box`), and only the label kept is
    drawn."""
    from matplotlib.transforms import Bbox

    fig = ax.figure
    renderer = fig.canvas.get_renderer()
    to_px = ax.transData
    pt = renderer.points_to_pixels(1.0)
    anchors = [tuple(to_px.transform((x, y))) for x, y in zip(lon, lat, strict=True)]
    markers = [Bbox.from_extents(px - 5, py - 5, px + 5, py + 5) for px, py in anchors]
    frame = ax.get_window_extent(renderer)
    taken: list[Any] = []
    texts = []
    for i, (name, x, y) in enumerate(zip(names, lon, lat, strict=True)):
        others = markers[:i] + markers[i + 1 :]
        anchor = anchors[i]
        extent = label_extent(fig, renderer, name, size)
        chosen = None
        for scale, (dx, dy) in itertools.product((1.0, 2.4, 3.6), OFFSETS):
            offset = (dx * scale * pt, dy * scale * pt)
            box = label_box(extent, anchor, offset, arrow=scale > 1).expanded(1.04, 1.08)
            inside = frame.contains(box.x0, box.y0) and frame.contains(box.x1, box.y1)
            if inside and not _overlaps(box, taken + others):
                text = _annotate(ax, name, (x, y), size, dx * scale, dy * scale, scale > 1)
                chosen = (text, box)
                break
        if chosen is None:  # nothing free: the first position, a label may touch another
            dx, dy = OFFSETS[0]
            text = ax.annotate(
                name, (x, y), textcoords="offset points", xytext=(dx, dy), fontsize=size, zorder=5
            )
            chosen = (text, text.get_window_extent(renderer))
        texts.append(chosen[0])
        taken.append(chosen[1])
    return texts


def _draw_network(
    ax: Any,
    result: RunResult,
    tonnes: dict[tuple[str, str], float],
    days: float,
    top: float,
    waits: pd.Series,
    vmax: float,
    names: list[str],
) -> Any:
    from matplotlib.collections import LineCollection

    graph = result.graph
    idle, used, widths = [], [], []
    for u, v in sorted({(min(a, b), max(a, b)) for a, b in graph.edges}):
        line = [(graph.nodes[u]["lon"], graph.nodes[u]["lat"])]
        line.append((graph.nodes[v]["lon"], graph.nodes[v]["lat"]))
        flow = tonnes.get((u, v), 0.0) / days
        if flow <= 0:
            idle.append(line)
        else:
            used.append(line)
            widths.append(0.8 + 9 * flow / top)
    # one collection each (a line per edge, in the same order) instead of an artist per edge
    ax.add_collection(
        LineCollection(idle, colors="0.45", linewidths=0.9, linestyles=(0, (3, 2)), zorder=1),
        autolim=False,
    )
    ax.add_collection(
        LineCollection(used, colors=BLUE, linewidths=widths, alpha=0.7, zorder=2, capstyle="round"),
        autolim=False,
    )
    lon = [graph.nodes[n]["lon"] for n in names]
    lat = [graph.nodes[n]["lat"] for n in names]
    wait = [float(waits.get(n, 0.0)) for n in names]
    return ax.scatter(
        lon, lat, c=wait, cmap=WAITS, s=55, edgecolor="k", lw=0.8, zorder=3, vmin=0, vmax=vmax
    )


def _in(box: tuple[float, float, float, float], lon: float, lat: float) -> bool:
    x0, x1, y0, y1 = box
    return x0 <= lon <= x1 and y0 <= lat <= y1


def _frame(ax: Any, lons: list[float], lats: list[float], pad: float) -> None:
    """Limits around the points with an aspect that keeps the map's shape at its latitude."""
    x0, x1 = min(lons) - pad, max(lons) + pad
    y0, y1 = min(lats) - pad * 0.6, max(lats) + pad * 0.6
    ax.set_xlim(x0, x1)
    ax.set_ylim(y0, y1)
    ax.set_aspect(1 / math.cos(math.radians((y0 + y1) / 2)), adjustable="box")


def corridor_map(
    result: RunResult,
    shipments: pd.DataFrame,
    trains: pd.DataFrame,
    events: pd.DataFrame,
    path: Path,
) -> Path:
    """The corridor over country borders: line width ∝ Urumqi's tonnes per day on it,
    node colour = the mean wait of a train there (all trains, after the warm-up); the
    crowded crossings enlarged in lettered panels below."""
    from matplotlib.patches import Rectangle

    plt = pyplot()
    graph = result.graph
    fig = plt.figure(figsize=(11, 6.6))
    grid = fig.add_gridspec(2, 3, height_ratios=(1.45, 1), width_ratios=(1, 1, 0.025))
    ax = fig.add_subplot(grid[0, :2])
    cax = fig.add_subplot(grid[0, 2])
    panels = [fig.add_subplot(grid[1, i]) for i in range(2)]
    tonnes = _flows(result, shipments, trains)
    days = max(result.end_h / 24, 1e-9)
    top = max(tonnes.values(), default=1.0) / days or 1.0
    after = events[events["arrived_h"] >= result.warmup_h].drop_duplicates(["train_id", "node"])
    waits = after.groupby("node")["wait_h"].mean()
    vmax = max([float(w) for w in waits] + [1.0])
    nodes = list(graph.nodes)
    crowded = {n for n in nodes for box, _ in ZOOMS if _in(box, *_lonlat(graph, n))}
    for axis in (ax, *panels):
        draw_basemap(axis)
        axis.grid(False)
    sc = _draw_network(ax, result, tonnes, days, top, waits, vmax, nodes)
    _frame(ax, [graph.nodes[n]["lon"] for n in nodes], [graph.nodes[n]["lat"] for n in nodes], 3)
    fig.tight_layout()
    _settle(fig)
    shown = [n for n in nodes if n not in crowded or graph.nodes[n]["kind"] == "hub"]
    shown.sort(key=lambda n: graph.nodes[n]["kind"] != "hub")  # the hub's label first
    place_labels(
        ax, shown, [graph.nodes[n]["lon"] for n in shown], [graph.nodes[n]["lat"] for n in shown], 8
    )
    for letter, ((x0, x1, y0, y1), title), panel in zip("AB", ZOOMS, panels, strict=True):
        ax.add_patch(Rectangle((x0, y0), x1 - x0, y1 - y0, fill=False, ec="0.2", lw=1, zorder=4))
        ax.annotate(
            letter,
            (x0, y1),
            textcoords="offset points",
            xytext=(-2, 3),
            ha="right",
            fontsize=9,
            weight="bold",
            zorder=5,
        )
        inside = [n for n in nodes if _in((x0, x1, y0, y1), *_lonlat(graph, n))]
        _draw_network(panel, result, tonnes, days, top, waits, vmax, inside)
        panel.set_xlim(x0, x1)
        panel.set_ylim(y0, y1)
        panel.set_aspect(1 / math.cos(math.radians((y0 + y1) / 2)), adjustable="box")
        panel.set_xticks([])
        panel.set_yticks([])
        panel.set_title(f"{letter}: {title}", fontsize=9)
    _settle(fig)
    for ((x0, x1, y0, y1), _), panel in zip(ZOOMS, panels, strict=True):
        inside = [n for n in nodes if _in((x0, x1, y0, y1), *_lonlat(graph, n))]
        place_labels(
            panel,
            inside,
            [graph.nodes[n]["lon"] for n in inside],
            [graph.nodes[n]["lat"] for n in inside],
            7.5,
        )
    fig.colorbar(sc, cax=cax, label="mean wait at node (h)\nall trains, after the warm-up")
    for width, label in ((0.8 + 9 * 0.25, f"{top * 0.25:,.0f} t/day"), (9.8, f"{top:,.0f} t/day")):
        ax.plot([], [], color=BLUE, lw=width, label=label)
    ax.plot([], [], color="0.45", lw=0.9, ls=(0, (3, 2)), label="no Urumqi cargo")
    ax.legend(title="Urumqi cargo carried", fontsize=8, loc="upper right", framealpha=0.9)
    ax.set(
        title="Corridor: Urumqi cargo flows and mean waits at nodes",
        xlabel="longitude (°E)",
        ylabel="latitude (°N)",
    )
    fig.text(
        0.01,
        0.005,
        "Borders: Natural Earth 1:110m (public domain).",
        fontsize=7,
        color="0.4",
    )
    return save(fig, path)


def _settle(fig: Any) -> None:
    """Fix where each axes sits (its aspect applied) before labels are placed in pixels:
    what a full draw would settle, without rasterising the map."""
    for axes in fig.axes:
        axes.apply_aspect()


def _lonlat(graph: Any, node: str) -> tuple[float, float]:
    return float(graph.nodes[node]["lon"]), float(graph.nodes[node]["lat"])
