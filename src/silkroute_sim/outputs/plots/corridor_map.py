"""The corridor map: Urumqi's cargo flows on the lines, the mean wait at each node, over
country borders.

The borders are Natural Earth's 1:110m admin-0 countries (public domain), clipped to the
corridor and simplified by ``scripts/make_basemap.py`` into ``outputs/data/countries.json``,
which ships with the package: nothing is downloaded. The crowded border crossings (the
Node labels are placed by a small pass that tries eight positions around each node and
keeps the first that overlaps no label or node already placed (a leader line where none is
free); a label that finds no free spot is not drawn. The nodes whose labels were left out
are grouped by where they lie (:func:`choose_insets`, from the corridor's geography, so
any corridor gets its own), and each group's area is drawn again, enlarged, in a lettered
panel below the map, every node there labelled; the map marks the panels' areas with
lettered boxes. (For the baseline: the Xinjiang crossings, the Belarus–Poland–Baltic
border region, the Caucasus.)
Imported lazily (matplotlib).
"""

from __future__ import annotations

import itertools
import json
import math
from collections import Counter, defaultdict
from collections.abc import Collection
from dataclasses import dataclass, field
from functools import cache
from importlib import resources
from pathlib import Path
from typing import Any

import pandas as pd

from silkroute_sim.model.simulate import RunResult
from silkroute_sim.outputs.plots.map_layout import Spot, find_spots
from silkroute_sim.outputs.plots.style import BLUE, BORDER, LAND, SEA, WAITS, pyplot, save


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

    ax.add_collection(
        PolyCollection(_rings(), facecolors=LAND, edgecolors=BORDER, linewidths=0.5, zorder=0)
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
        for key, v in _legs(str(route_text)):
            tonnes[key] += onboard
            onboard -= unload.get((train_id, v), 0.0)
    return tonnes


@cache
def _legs(route_text: str) -> tuple[tuple[tuple[str, str], str], ...]:
    """A route's lines in order: each as (the line's two ends sorted, the end it runs to);
    worked out once per route (the trains of a run share a few)."""
    return tuple(((min(u, v), max(u, v)), v) for u, v in itertools.pairwise(route_text.split(">")))


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


def annotate_spots(ax: Any, spots: dict[str, Spot], size: float) -> dict[str, Any]:
    """The labels of :func:`~silkroute_sim.outputs.plots.map_layout.find_spots` drawn, in
    the order they were placed; returns the texts drawn, by name."""
    return {
        name: _annotate(ax, name, xy, size, dx, dy, arrow)
        for name, (xy, dx, dy, arrow) in spots.items()
    }


def _draw_lines(
    ax: Any, graph: Any, tonnes: dict[tuple[str, str], float], days: float, top: float
) -> None:
    """Every line of the corridor: its width by Urumqi's tonnes per day on it (``top``:
    the most), dashed where it carries none."""
    from matplotlib.collections import LineCollection

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


def _draw_nodes(ax: Any, graph: Any, waits: pd.Series, vmax: float, names: list[str]) -> Any:
    """The nodes ``names``, coloured by their mean wait."""
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
    _limits(ax, (min(lons) - pad, max(lons) + pad, min(lats) - pad * 0.6, max(lats) + pad * 0.6))


def _limits(ax: Any, box: tuple[float, float, float, float]) -> None:
    x0, x1, y0, y1 = box
    ax.set(xlim=(x0, x1), ylim=(y0, y1))
    ax.set_aspect(1 / math.cos(math.radians((y0 + y1) / 2)), adjustable="box")


@dataclass(frozen=True)
class Inset:
    """An area of the map drawn again, enlarged, in a panel below it:
    ``box`` = (lon_min, lon_max, lat_min, lat_max); ``names``: the nodes labelled there
    (those in the box, less those labelled in a closer inset)."""

    box: tuple[float, float, float, float]
    title: str
    names: tuple[str, ...]

    @property  # width over height on the map
    def aspect(self) -> float:
        x0, x1, y0, y1 = self.box
        return (x1 - x0) * math.cos(math.radians((y0 + y1) / 2)) / (y1 - y0)


#: nodes whose labels were left out closer than this (degrees, longitude scaled by the
#: cosine of the latitude) share an inset
CLUSTER_DEG = 3.0
#: at most this many insets (the closest clusters merge beyond it)
MAX_INSETS = 4
#: the panels' row: its width and height in inches (what the figure's layout leaves for
#: it, titles aside), shared by the insets side by side; an inset's shape on the map is its
#: panel's, within :data:`INSET_ASPECT`, so the panels have one height
INSET_ROW_IN = (8.9, 2.25)
INSET_ASPECT = (0.7, 2.6)
#: the label sizes tried in an inset, largest first, until every label there finds a spot
INSET_SIZES = (7.5, 6.5, 5.8)
#: an inset's letter at its box's top left corner on the map
MARK_STYLE: dict[str, Any] = dict(textcoords="offset points", ha="right", fontsize=9, zorder=5)
#: the labels' size on the map (points)
MAP_SIZE = 8.0
#: the offsets tried on the map (times :data:`OFFSETS`)
MAP_SCALES = (1.0, 2.4, 3.6, 4.8)
#: the offsets tried in an inset (times :data:`OFFSETS`): leader lines reach further there
INSET_SCALES = (1.0, 2.4, 3.6, 4.8, 6.0)
#: a label left out moves its node into an inset, and the map is laid out again: at most
#: this many layouts
MAX_LAYOUTS = 5


def _clusters(points: dict[str, tuple[float, float]], gap: float) -> list[list[str]]:
    """Single-linkage groups of the named (lon, lat) points, ``gap`` degrees apart at
    most (longitude scaled by the cosine of the latitude), each in name order."""
    names = sorted(points)
    group = {n: i for i, n in enumerate(names)}
    for a, b in itertools.combinations(names, 2):
        if _map_dist(points[a], points[b]) <= gap and group[a] != group[b]:
            old, new = group[b], group[a]
            group = {n: new if g == old else g for n, g in group.items()}
    return [[n for n in names if group[n] == g] for g in dict.fromkeys(group[n] for n in names)]


@cache
def _rings() -> list[Any]:
    """Every country's rings as arrays, read once (the basemap of every axes)."""
    import numpy as np

    return [np.asarray(ring, dtype=float) for country in countries() for ring in country["rings"]]


@cache
def _borders() -> list[tuple[str, list[Any]]]:
    """Each country's name and rings as matplotlib paths, built once."""
    from matplotlib.path import Path as MplPath

    return [(str(c["name"]), [MplPath(ring) for ring in c["rings"]]) for c in countries()]


@cache
def _country_of(lon: float, lat: float) -> str | None:
    for name, paths in _borders():
        if any(path.contains_point((lon, lat)) for path in paths):
            return name
    return None


def _inset_box(
    points: list[tuple[float, float]], aspect: float
) -> tuple[float, float, float, float]:
    """A box round the points, padded, its width over its height on the map ``aspect``."""
    lons, lats = [p[0] for p in points], [p[1] for p in points]
    x0, x1, y0, y1 = min(lons), max(lons), min(lats), max(lats)
    scale = math.cos(math.radians((y0 + y1) / 2))
    pad = max(0.4, 0.15 * max((x1 - x0) * scale, y1 - y0))
    x0, x1, y0, y1 = x0 - pad / scale, x1 + pad / scale, y0 - pad, y1 + pad
    width, height = (x1 - x0) * scale, y1 - y0
    if width < aspect * height:
        grow = (aspect * height - width) / 2 / scale
        x0, x1 = x0 - grow, x1 + grow
    else:
        grow = (width / aspect - height) / 2
        y0, y1 = y0 - grow, y1 + grow
    return (x0, x1, y0, y1)


def choose_insets(
    graph: Any, left_out: set[str], deep: Collection[str] = frozenset()
) -> list[Inset]:
    """Insets for the nodes whose labels found no spot on the map (``left_out``): one per
    cluster of them (:data:`CLUSTER_DEG`; widened until there are at most
    :data:`MAX_INSETS`), and a closer one per cluster of the nodes whose labels found no
    spot in those (``deep``, a quarter of the distance); all of one shape (their panels
    side by side fill the row), each titled with the countries of the nodes it holds,
    west to east."""
    groups = _groups(graph, left_out, CLUSTER_DEG)
    close = _groups(graph, deep, CLUSTER_DEG / 4)
    width, height = INSET_ROW_IN
    low, high = INSET_ASPECT
    # each panel's width (its shape, the row's height being one) by how many nodes it holds
    weights = []
    for group in groups + close:
        rough = _inset_box([_lonlat(graph, n) for n in group], 1.0)
        weights.append(math.sqrt(sum(_in(rough, *_lonlat(graph, n)) for n in graph.nodes)))
    aspects = [min(max(width * w / sum(weights) / height, low), high) for w in weights]
    close_boxes = [
        _inset_box([_lonlat(graph, n) for n in group], aspect)
        for group, aspect in zip(close, aspects[len(groups) :], strict=True)
    ]
    insets = []
    for group, aspect in zip(groups + close, aspects, strict=True):
        box = _inset_box([_lonlat(graph, n) for n in group], aspect)
        inside = [n for n in graph.nodes if _in(box, *_lonlat(graph, n))]
        if group not in close:
            inside = [n for n in inside if not any(_in(b, *_lonlat(graph, n)) for b in close_boxes)]
        counts = Counter(c for n in inside if (c := _country_of(*_lonlat(graph, n))))
        top = sorted(counts, key=lambda c: (-counts[c], c))[:2]
        title = " / ".join(sorted(top)) or ", ".join(sorted(group)[:2])
        insets.append(Inset(box, title, tuple(inside)))
    return sorted(insets, key=lambda inset: (inset.box[0], inset.box[2]))


def _groups(graph: Any, names: Collection[str], gap: float) -> list[list[str]]:
    """:func:`_clusters` of ``names`` (``gap`` widened to :data:`MAX_INSETS` at most)."""
    points = {n: _lonlat(graph, n) for n in names}
    groups = _clusters(points, gap)
    while len(groups) > MAX_INSETS:
        gap *= 1.5
        groups = _clusters(points, gap)
    near = gap / 3  # the nodes this close to a group's are shown with it
    return [
        sorted(
            n
            for n in graph.nodes
            if n in group or any(_map_dist(_lonlat(graph, n), points[m]) <= near for m in group)
        )
        for group in groups
    ]


def _map_dist(a: tuple[float, float], b: tuple[float, float]) -> float:
    """Degrees apart on the map (longitude scaled by the cosine of the latitude)."""
    scale = math.cos(math.radians((a[1] + b[1]) / 2))
    return math.hypot((a[0] - b[0]) * scale, a[1] - b[1])


def corridor_map(
    result: RunResult,
    shipments: pd.DataFrame,
    trains: pd.DataFrame,
    events: pd.DataFrame,
    path: Path,
) -> Path:
    """The corridor over country borders: line width ∝ Urumqi's tonnes per day on it, node
    colour = the mean wait of a train there (all trains, after the warm-up); each node
    labelled on the map or, where no spot is free, in an inset (:func:`choose_insets`)."""
    return save(draw_corridor_map(result, shipments, trains, events).figure, path)


@dataclass
class MapLayout:
    """A corridor map drawn: the map, its labels, the insets, their axes and labels (while
    it is laid out, the labels' spots (:func:`find_spots`); once chosen, their texts)."""

    figure: Any
    ax: Any
    labels: dict[str, Any]
    insets: list[Inset]
    panels: list[Any]
    panel_labels: list[dict[str, Any]]
    left_out: set[str]
    panel_sizes: list[float] = field(default_factory=list)

    def draw_labels(self) -> None:
        """The labels' texts drawn at their spots, the map's at :data:`MAP_SIZE`."""
        self.labels = annotate_spots(self.ax, self.labels, MAP_SIZE)
        self.panel_labels = [
            annotate_spots(panel, spots, size)
            for panel, spots, size in zip(
                self.panels, self.panel_labels, self.panel_sizes, strict=True
            )
        ]

    @property  # the nodes labelled in an inset
    def inset_labelled(self) -> set[str]:
        return {name for labels in self.panel_labels for name in labels}

    @property
    def unlabelled(self) -> set[str]:
        """The nodes labelled neither on the map nor in an inset."""
        return self.left_out - self.inset_labelled


def draw_corridor_map(
    result: RunResult, shipments: pd.DataFrame, trains: pd.DataFrame, events: pd.DataFrame
) -> MapLayout:
    """Lay the map out, moving the nodes whose labels find no spot into insets, until
    every label finds one (at most :data:`MAX_LAYOUTS` layouts; the one with the fewest
    nodes labelled nowhere, then the fewest left out of an inset, then of insets)."""
    plt = pyplot()
    tonnes = _flows(result, shipments, trains)
    after = events[events["arrived_h"] >= result.warmup_h].drop_duplicates(["train_id", "node"])
    waits = after.groupby("node")["wait_h"].mean()
    left_out: set[str] = set()
    deep: set[str] = set()
    insets: list[Inset] = []
    tried: list[tuple[tuple[int, int, int, int], MapLayout]] = []
    for attempt in range(MAX_LAYOUTS):
        layout = _layout(result, tonnes, waits, left_out, insets)
        dropped = set(result.graph.nodes) - set(layout.labels) - left_out
        failed = {n for inset in insets for n in inset.names} - layout.inset_labelled
        nowhere = len(dropped | layout.unlabelled)
        tried.append(((nowhere, len(failed), len(insets), attempt), layout))
        if not (dropped or failed):
            break
        left_out |= dropped
        if not dropped:
            deep |= failed
        insets = choose_insets(result.graph, left_out, deep)
    best = min(tried, key=lambda t: t[0])[1]
    # what the layouts tried do not depend on (all of it under the labels, within the
    # axes: their layout is the same without), drawn on the one kept only
    days, top = _scale(result, tonnes)
    for axis in (best.ax, *best.panels):
        draw_basemap(axis)
        _draw_lines(axis, result.graph, tonnes, days, top)
    best.draw_labels()
    for _, other in tried:
        if other is not best:
            plt.close(other.figure)
    return best


def _scale(result: RunResult, tonnes: dict[tuple[str, str], float]) -> tuple[float, float]:
    """The run's days and the most tonnes per day on a line (the lines' widths)."""
    days = max(result.end_h / 24, 1e-9)
    return days, max(tonnes.values(), default=1.0) / days or 1.0


def _layout(
    result: RunResult,
    tonnes: dict[tuple[str, str], float],
    waits: pd.Series,
    left_out: set[str],
    insets: list[Inset],
) -> MapLayout:
    """The map with the nodes in ``left_out`` unlabelled on it and ``insets`` below, its
    labels' spots found (the basemap and the lines are drawn once a layout is chosen)."""
    from matplotlib.patches import Rectangle

    plt = pyplot()
    graph = result.graph
    rows = 2 if insets else 1
    fig = plt.figure(figsize=(11, 6.6 if insets else 4.2))
    grid = fig.add_gridspec(rows, 2, height_ratios=(1.45, 1)[:rows], width_ratios=(1, 0.0125))
    ax = fig.add_subplot(grid[0, 0])
    cax = fig.add_subplot(grid[0, 1])
    panels = []
    if insets:
        row = grid[1, 0].subgridspec(1, len(insets), width_ratios=[i.aspect for i in insets])
        panels = [fig.add_subplot(row[0, i]) for i in range(len(insets))]
    top = _scale(result, tonnes)[1]
    vmax = max([float(w) for w in waits] + [1.0])
    nodes = list(graph.nodes)
    for axis in (ax, *panels):
        axis.grid(False)
    sc = _draw_nodes(ax, graph, waits, vmax, nodes)
    _frame(ax, [graph.nodes[n]["lon"] for n in nodes], [graph.nodes[n]["lat"] for n in nodes], 3)
    marks = []
    for letter, inset, panel in zip("ABCDEFGH", insets, panels, strict=False):
        x0, x1, y0, y1 = inset.box
        ax.add_patch(Rectangle((x0, y0), x1 - x0, y1 - y0, fill=False, ec="0.2", lw=1, zorder=4))
        mark = ax.annotate(letter, (x0, y1), xytext=(-2, 3), weight="bold", **MARK_STYLE)
        marks.append(mark)
        inside = [n for n in nodes if _in(inset.box, *_lonlat(graph, n))]
        _draw_nodes(panel, graph, waits, vmax, inside)
        _limits(panel, inset.box)
        panel.set(xticks=[], yticks=[])
        panel.set_title(f"{letter}: {inset.title}", fontsize=9)
    fig.colorbar(sc, cax=cax, label="mean wait at node (h)\nall trains, after the warm-up")
    for width, label in ((0.8 + 9 * 0.25, f"{top * 0.25:,.0f} t/day"), (9.8, f"{top:,.0f} t/day")):
        ax.plot([], [], color=BLUE, lw=width, label=label)
    ax.plot([], [], color="0.45", lw=0.9, ls=(0, (3, 2)), label="no Urumqi cargo")
    legend = ax.legend(title="Urumqi cargo carried", fontsize=8, loc="upper right", framealpha=0.9)
    ax.set(
        title="Corridor: Urumqi cargo flows and mean waits at nodes",
        xlabel="longitude (°E)",
        ylabel="latitude (°N)",
    )
    fig.text(0.01, 0.005, "Borders: Natural Earth 1:110m (public domain).", fontsize=7, color="0.4")
    fig.tight_layout()
    _settle(fig)
    renderer = fig.canvas.get_renderer()
    shown = [n for n in nodes if n not in left_out]
    shown.sort(key=lambda n: graph.nodes[n]["kind"] != "hub")  # the hub's label first
    labels = find_spots(
        ax,
        shown,
        *_coordinates(graph, shown),
        MAP_SIZE,
        avoid=[_lonlat(graph, n) for n in nodes if n in left_out],
        keep_clear=[item.get_window_extent(renderer) for item in (legend, *marks)],
        scales=MAP_SCALES,
    )
    placed = [
        _label_inset(panel, graph, inset) for inset, panel in zip(insets, panels, strict=True)
    ]
    panel_labels = [spots for spots, _ in placed]
    sizes = [size for _, size in placed]
    return MapLayout(fig, ax, labels, insets, panels, panel_labels, set(left_out), sizes)


def _label_inset(panel: Any, graph: Any, inset: Inset) -> tuple[dict[str, Spot], float]:
    """The inset's nodes labelled at the largest of :data:`INSET_SIZES` where all fit (the
    ones left out placed first on a second and third try at each size)."""
    inside = sorted(inset.names, key=lambda n: graph.nodes[n]["kind"] != "hub")
    avoid = [_lonlat(graph, n) for n in graph.nodes if n not in inset.names]
    labels: dict[str, Spot] = {}
    size = INSET_SIZES[0]
    for size, _ in itertools.product(INSET_SIZES, range(3)):
        labels = find_spots(
            panel,
            inside,
            *_coordinates(graph, inside),
            size,
            avoid=avoid,
            scales=INSET_SCALES,
        )
        if len(labels) == len(inside):
            break
        inside = [n for n in inside if n not in labels] + [n for n in inside if n in labels]
    return labels, size


def _settle(fig: Any) -> None:
    """Fix where each axes sits (its aspect applied) before labels are placed in pixels."""
    for axes in fig.axes:
        axes.apply_aspect()


def _coordinates(graph: Any, names: list[str]) -> tuple[list[Any], list[Any]]:
    """The longitudes and the latitudes of ``names``, as the config gives them."""
    return [graph.nodes[n]["lon"] for n in names], [graph.nodes[n]["lat"] for n in names]


def _lonlat(graph: Any, node: str) -> tuple[float, float]:
    return float(graph.nodes[node]["lon"]), float(graph.nodes[node]["lat"])
