"""The animation of one finished run: trains moving on the corridor map, the queues at the
border crossings and the hub's yard over time, as one self-contained HTML page.

Everything comes from the run folder's own files: node coordinates, edge lengths and
speeds from the resolved config in ``manifest.json``; each train's route and departure
from ``trains.csv``; its arrival and departure at every node it was processed at from
``node_events.csv``; the yard level, gate queue and backlog per day from ``daily.csv``.
The page carries schedules, not frames: per train the (hour, km along its route) points
where it started or stopped moving, which the browser interpolates; per border node the
trains waiting at each hour. A year-long baseline stays a few hundred kilobytes.

Between two known points a train moves at a constant speed along its route's polyline
(edge lengths from the config, so a long edge takes longer than a short one). A train
still travelling when the run ended is carried on at its edges' speeds up to the next
node that processes trains, where it stops. Background trains (``bg-…`` in
``node_events.csv``) run between the nodes of their stream and feed the border queues.

:func:`animation_data` builds the data, :func:`write_animation` the page (through the
output guard: a file the user put at the target is refused, never replaced);
:mod:`silkroute_sim.outputs.animation_page` holds the page's markup, style and script.
"""

from __future__ import annotations

import itertools
import json
import math
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any

from silkroute_sim.config.errors import SilkrouteError
from silkroute_sim.outputs.animation_page import render_page
from silkroute_sim.outputs.inplace import check_page_target, claim
from silkroute_sim.outputs.storage import atomic_write_text, folder_kind, package_version
from silkroute_sim.outputs.tablefiles import floats_as_in_csv

if TYPE_CHECKING:
    import pandas as pd

ANIMATION_NAME = "animation.html"
#: the map's width in SVG units; its height follows the corridor's extent
MAP_WIDTH = 1000.0
#: Okabe–Ito, ordered for contrast on a light map (yellow last)
PALETTE = ("#0072B2", "#E69F00", "#009E73", "#D55E00", "#CC79A7", "#56B4E9", "#000000", "#F0E442")
BASEMAP = Path(__file__).parent / "data" / "countries.json"
#: the zoom on the nodes around the hub: within this radius (map units), drawn this wide,
#: when two of them are closer than CROWDED on the corridor map
ZOOM_RADIUS, ZOOM_WIDTH, CROWDED = 110.0, 400.0, 12.0
#: queue series are sampled at this step (hours)
QUEUE_STEP_H = 1.0


class AnimationError(SilkrouteError):
    """The folder cannot be animated (not a complete run, unreadable files)."""


@dataclass
class AnimationData:
    """What the page shows, plus one line per table the folder lacks."""

    data: dict[str, Any]
    missing: list[str] = field(default_factory=list)
    trains: int = 0


# --------------------------------------------------------------------------- reading


def _manifest(folder: Path) -> dict[str, Any]:
    path = folder / "manifest.json"
    try:
        data = json.loads(path.read_text(encoding="utf-8"))
    except (OSError, ValueError) as exc:
        raise AnimationError(f"{path}: cannot read the run's manifest ({exc})") from None
    config = data.get("config") if isinstance(data, dict) else None
    if not isinstance(config, dict) or not isinstance(config.get("corridor"), dict):
        raise AnimationError(f"{path}: config.corridor: missing; the map needs the corridor")
    return data


def _table(folder: Path, name: str) -> pd.DataFrame | None:
    """``name``.csv or ``name``.parquet of the run, or None when the folder has neither."""
    import pandas as pd

    for path, read in (
        (folder / f"{name}.parquet", lambda p: floats_as_in_csv(pd.read_parquet(p))),
        (folder / f"{name}.csv", pd.read_csv),
    ):
        if path.is_file():
            try:
                return read(path)
            except (OSError, ValueError) as exc:
                reason = " ".join(str(exc).split())
                raise AnimationError(
                    f"{path}: cannot read it as a table ({reason}); the result is damaged: "
                    "run it again"
                ) from None
    return None


def check_run_folder(folder: Path) -> None:
    """Refuse, with one line, a folder that is not one complete run."""
    if not folder.is_dir():
        raise AnimationError(f"{folder}: no such folder")
    kind = folder_kind(folder)
    if kind == "run":
        return
    if kind == "replications":
        raise AnimationError(
            f"{folder}: is a replications folder; animate one of its runs, e.g. {folder}/rep-<seed>"
        )
    what = f"a {kind} folder" if kind else "not a complete silkroute run folder"
    raise AnimationError(f"{folder}: {what}; animate takes the folder of one finished run")


# --------------------------------------------------------------------------- the map


def _projection(nodes: Mapping[str, Mapping[str, Any]]) -> tuple[Any, list[float]]:
    """Equirectangular at the corridor's middle latitude, scaled to MAP_WIDTH; returns the
    projection and the map's [west, south, east, north] in degrees."""
    lons = [float(n["lon"]) for n in nodes.values()]
    lats = [float(n["lat"]) for n in nodes.values()]
    pad_lon = max(2.0, 0.05 * (max(lons) - min(lons)))
    pad_lat = max(2.0, 0.12 * (max(lats) - min(lats)))
    west, east = min(lons) - pad_lon, max(lons) + 1.6 * pad_lon  # room for the hub's bar
    south, north = min(lats) - pad_lat, max(lats) + pad_lat
    kx = math.cos(math.radians((south + north) / 2))
    scale = MAP_WIDTH / max((east - west) * kx, 1e-9)

    def project(lon: float, lat: float) -> tuple[float, float]:
        return round((lon - west) * kx * scale, 1), round((north - lat) * scale, 1)

    return project, [west, south, east, north]


def _basemap(project: Any, bbox: Sequence[float]) -> list[str]:
    """SVG path strings of the country borders inside the map (none when the package
    ships no basemap)."""
    try:
        countries = json.loads(BASEMAP.read_text(encoding="utf-8")).get("countries", [])
    except (OSError, ValueError, AttributeError):
        return []
    west, south, east, north = bbox
    paths = []
    for country in countries:
        rings = country.get("rings") or []
        parts = []
        for ring in rings:
            if not any(west - 5 <= x <= east + 5 and south - 5 <= y <= north + 5 for x, y in ring):
                continue
            points = [project(float(x), float(y)) for x, y in ring]
            parts.append("M" + "L".join(f"{x:g} {y:g}" for x, y in points) + "Z")
        if parts:
            paths.append("".join(parts))
    return paths


def _labels(nodes: list[list[Any]]) -> list[str]:
    """Where each node's label goes (e, w, n, s, ne, sw…): the first side whose box
    overlaps neither another label nor another node; junctions are labelled last."""
    char_w, height = 6.2, 11.0
    placed: list[tuple[float, float, float, float]] = []
    offsets = {
        "e": (7, -5),
        "w": (-7, -5),
        "n": (0, -16),
        "s": (0, 6),
        "ne": (5, -15),
        "sw": (-5, 5),
        "se": (5, 5),
        "nw": (-5, -15),
    }
    order = sorted(range(len(nodes)), key=lambda i: (nodes[i][1] == "junction", i))
    sides = ["e"] * len(nodes)
    for i in order:
        name, _, x, y = nodes[i]
        width = char_w * len(name)
        best, best_hits = "e", None
        for side, (dx, dy) in offsets.items():
            left = x + dx - (width if side in ("w", "sw", "nw") else 0)
            left -= width / 2 if side in ("n", "s") else 0
            box = (left, y + dy, left + width, y + dy + height)
            hits = sum(_overlap(box, other) for other in placed)
            hits += sum(
                _overlap(box, (n[2] - 4, n[3] - 4, n[2] + 4, n[3] + 4))
                for j, n in enumerate(nodes)
                if j != i
            )
            if best_hits is None or hits < best_hits:
                best, best_hits, best_box = side, hits, box
            if hits == 0:
                break
        sides[i] = best
        placed.append(best_box)
    return sides


def _overlap(a: tuple[float, ...], b: tuple[float, ...]) -> bool:
    return a[0] < b[2] and b[0] < a[2] and a[1] < b[3] and b[1] < a[3]


# --------------------------------------------------------------------------- the trains


@dataclass
class _Network:
    names: list[str]
    index: dict[str, int]
    kinds: dict[str, str]
    legs: dict[tuple[str, str], tuple[float, float]]  # (km, speed km/h)
    routes: dict[tuple[str, ...], int] = field(default_factory=dict)

    def route(self, nodes: Sequence[str]) -> tuple[int, list[float]]:
        """The route's index in the page's list and the km of each of its nodes."""
        key = tuple(nodes)
        km = [0.0]
        for a, b in itertools.pairwise(key):
            km.append(km[-1] + self.legs.get((a, b), (0.0, 1.0))[0])
        if key not in self.routes:
            self.routes[key] = len(self.routes)
        return self.routes[key], km

    def speed(self, a: str, b: str) -> float:
        return max(self.legs.get((a, b), (0.0, 45.0))[1], 1e-6)


def _network(corridor: Mapping[str, Any]) -> _Network:
    nodes = corridor["nodes"]
    names = list(nodes)
    legs: dict[tuple[str, str], tuple[float, float]] = {}
    for edge in corridor.get("edges") or []:
        leg = (float(edge["km"]), float(edge.get("speed") or 45.0))
        legs[(edge["from"], edge["to"])] = leg
        if edge.get("both_ways", True):
            legs.setdefault((edge["to"], edge["from"]), leg)
    kinds = {name: str(nodes[name].get("kind", "junction")) for name in names}
    return _Network(names, {n: i for i, n in enumerate(names)}, kinds, legs)


def _stops(events: pd.DataFrame) -> dict[str, dict[str, tuple[float, float]]]:
    """Per train, per node: (first arrival, last end); end NaN while it is still there
    when the run ended. In node order of the events (a train's route order)."""
    grouped = (
        events.assign(open=events["end_h"].isna())
        .groupby(["train_id", "node"], sort=False)
        .agg(arrived=("arrived_h", "min"), end=("end_h", "max"), open=("open", "any"))
    )
    out: dict[str, dict[str, tuple[float, float]]] = {}
    keys = grouped.index.tolist()
    columns = (grouped["arrived"].tolist(), grouped["end"].tolist(), grouped["open"].tolist())
    for (train_id, node), arrived, end, still in zip(keys, *columns, strict=True):
        out.setdefault(str(train_id), {})[str(node)] = (
            float(arrived),
            math.nan if still else float(end),
        )
    return out


def _schedule(
    net: _Network,
    route: Sequence[str],
    start: tuple[float, float] | None,
    stops: Mapping[str, tuple[float, float]],
    end_h: float,
    arrived_h: float = math.nan,
) -> list[float]:
    """[t0, km0, t1, km1, …]: the hours a train starts or stops moving and where.
    ``start`` (hour, km) is the departure from the first node, None for a train seen first
    at a node of its route; ``arrived_h`` its arrival at the last node, where known."""
    _, km = net.route(route)
    points: list[tuple[float, float]] = [start] if start else []
    last = -1
    for i, node in enumerate(route):
        if node not in stops:
            continue
        arrived, left = stops[node]
        points.append((arrived, km[i]))
        last = i
        if math.isnan(left):  # still there when the run ended
            points.append((end_h, km[i]))
            return _flat(points)
        points.append((left, km[i]))
    if last == len(route) - 1 or not points:
        return _flat(points)
    if math.isfinite(arrived_h):
        points.append((arrived_h, km[-1]))
        return _flat(points)
    t = points[-1][0]
    for i in range(max(last, 0), len(route) - 1):  # still moving at the end: carry it on
        t += (km[i + 1] - km[i]) / net.speed(route[i], route[i + 1])
        if t >= end_h or net.kinds.get(route[i + 1]) != "junction":
            points.append((max(t, end_h), km[i + 1]))
            break
        points.append((t, km[i + 1]))
    return _flat(points)


def _flat(points: Sequence[tuple[float, float]]) -> list[float]:
    """The points as one flat list, to a tenth of an hour and a kilometre, without the
    repeats (a zero-length stop): the page stays small for a year of trains."""
    out: list[float] = []
    for t, km in points:
        point = (round(t, 1), round(km))
        if out[-2:] != list(point):
            out.extend(point)
    return out


def _service_trains(
    net: _Network, trains: pd.DataFrame, events: pd.DataFrame, end_h: float
) -> tuple[list[list[Any]], list[str]]:
    """One row per departed service train: [route, service, t0, km0, …]."""
    services = sorted(str(s) for s in trains["service"].dropna().unique())
    service_index = {s: i for i, s in enumerate(services)}
    by_train = _stops(events)
    rows = []
    columns = (
        trains["train_id"].astype(str).tolist(),
        trains["service"].astype(str).tolist(),
        trains["route"].tolist(),
        trains["departed_h"].astype(float).tolist(),
        trains["arrived_h"].astype(float).tolist(),
    )
    for train_id, service, route_text, departed_h, arrived_h in zip(*columns, strict=True):
        if not isinstance(route_text, str) or not math.isfinite(departed_h):
            continue
        route = route_text.split(">")
        if any(node not in net.index for node in route):
            continue
        stops = by_train.get(train_id, {})
        points = _schedule(net, route, (departed_h, 0.0), stops, end_h, arrived_h)
        rows.append([net.route(route)[0], service_index[service], *points])
    return rows, services


def _background_trains(
    net: _Network, events: pd.DataFrame, streams: Mapping[str, Any], end_h: float
) -> list[list[Any]]:
    """One row per background train: [route, -1, t0, km0, …]."""
    rows = []
    for train_id, stops in _stops(events).items():
        stream = train_id.removeprefix("bg-").rsplit("-", 1)[0]
        config = streams.get(stream) or {}
        route = [str(n) for n in config.get("route") or list(stops)]
        if any(node not in net.index for node in route):
            continue
        points = _schedule(net, route, None, stops, end_h)
        if points:
            rows.append([net.route(route)[0], -1, *points])
    return rows


# --------------------------------------------------------------------------- queues, yard


#: node events of a ferry's voyages (not trains at the port)
VOYAGES = ("sailing", "sailing_cancelled", "sailing_closed")


def _queues(net: _Network, events: pd.DataFrame, end_h: float) -> dict[str, Any]:
    """Per node that makes trains wait (a border, or any node where one waited): the
    trains waiting and the trains being processed at every QUEUE_STEP_H."""
    import numpy as np

    hours = np.arange(0.0, end_h + QUEUE_STEP_H / 2, QUEUE_STEP_H)
    nodes, waiting, served = [], [], []
    for name in net.names:
        at = events[(events["node"] == name) & ~events["kind"].isin(VOYAGES)]
        if at.empty or (net.kinds[name] != "border" and not (at["wait_h"] > 0).any()):
            continue
        arrived = np.sort(at["arrived_h"].to_numpy(dtype=float))
        start = np.sort(at["start_h"].fillna(np.inf).to_numpy(dtype=float))
        end = np.sort(at["end_h"].fillna(np.inf).to_numpy(dtype=float))
        n_arrived = np.searchsorted(arrived, hours, side="right")
        n_started = np.searchsorted(start, hours, side="right")
        n_ended = np.searchsorted(end, hours, side="right")
        nodes.append(net.index[name])
        waiting.append([int(v) for v in n_arrived - n_started])
        served.append([int(v) for v in n_started - n_ended])
    return {
        "step_h": QUEUE_STEP_H,
        "daily": False,
        "nodes": nodes,
        "waiting": waiting,
        "served": served,
    }


def _daily_queues(net: _Network, daily: pd.DataFrame | None) -> dict[str, Any]:
    """Without node_events.csv: the mean number of trains queueing at each border per
    day, from daily.csv's ``border_queue_mean:<node>`` columns."""
    prefix = "border_queue_mean:"
    nodes, waiting = [], []
    for column in daily.columns if daily is not None else ():
        name = str(column).removeprefix(prefix)
        if not str(column).startswith(prefix) or name not in net.index:
            continue
        assert daily is not None
        series = [round(float(v), 1) for v in daily[column].fillna(0.0)]
        if net.kinds[name] == "border" or any(series):
            nodes.append(net.index[name])
            waiting.append(series)
    return {"step_h": 24.0, "daily": True, "nodes": nodes, "waiting": waiting, "served": None}


def _hub(daily: pd.DataFrame | None, config: Mapping[str, Any]) -> dict[str, Any] | None:
    """The hub's day by day: yard TEU (mean and max), gate queue, backlog; None without
    daily.csv or its columns."""
    columns = ("yard_teu_mean", "yard_teu_max", "gate_queue_mean", "backlog_t")
    if daily is None or any(c not in daily.columns for c in columns):
        return None
    hub = config.get("hub") or {}
    capacity = (hub.get("yard") or {}).get("capacity_teu")
    series = {c: [round(float(v), 1) for v in daily[c].fillna(0.0)] for c in columns}
    return {
        "node": str(hub.get("node") or ""),
        "capacity_teu": float(capacity) if capacity else None,
        **series,
    }


def _disruptions(net: _Network, table: pd.DataFrame | None, end_h: float) -> list[list[Any]]:
    """[node, other node or -1, label, start_h, end_h] per disruption window of the run
    (disruptions.csv) whose target is on the map: a node, an edge (``A<->B``, ``A->B``)
    or the hub's equipment (``hub.cranes``: drawn at the hub)."""
    if table is None or table.empty:
        return []
    hub = next((i for i, name in enumerate(net.names) if net.kinds[name] == "hub"), -1)
    out = []
    for target, effect, start, end in zip(
        table["target"].astype(str),
        table["effect"].astype(str),
        table["start_h"].astype(float),
        table["end_h"].astype(float),
        strict=True,
    ):
        ends = [n for n in target.replace("<->", "->").split("->") if n]
        if len(ends) == 2 and all(n in net.index for n in ends):
            a, b = net.index[ends[0]], net.index[ends[1]]
        elif target in net.index:
            a, b = net.index[target], -1
        elif target.startswith("hub.") and hub >= 0:
            a, b = hub, -1
        else:
            continue
        stop = min(end, end_h) if math.isfinite(end) else end_h
        out.append([a, b, f"{target}: {effect}", round(start, 1), round(stop, 1)])
    return out


# --------------------------------------------------------------------------- the page's data


def _map(net: _Network, corridor: Mapping[str, Any]) -> dict[str, Any]:
    project, bbox = _projection(corridor["nodes"])
    nodes = [
        [name, net.kinds[name], *project(float(n["lon"]), float(n["lat"]))]
        for name, n in corridor["nodes"].items()
    ]
    _, height = project(bbox[0], bbox[1])
    seen: set[tuple[str, str]] = set()
    edges = []
    for edge in corridor.get("edges") or []:
        a, b = str(edge["from"]), str(edge["to"])
        if (b, a) not in seen and a in net.index and b in net.index:
            seen.add((a, b))
            edges.append([net.index[a], net.index[b]])
    return {
        "width": MAP_WIDTH,
        "height": height,
        "nodes": nodes,
        "labels": _labels(nodes),
        "edges": edges,
        "basemap": _basemap(project, bbox),
        "zoom": _zoom(nodes, net.index.get(_hub_node(corridor), 0)),
    }


def _hub_node(corridor: Mapping[str, Any]) -> str:
    kinds = {name: node.get("kind") for name, node in corridor["nodes"].items()}
    return next((name for name, kind in kinds.items() if kind == "hub"), next(iter(kinds)))


def _zoom(nodes: list[list[Any]], hub: int) -> dict[str, Any] | None:
    """The nodes within ZOOM_RADIUS of the hub, magnified to ZOOM_WIDTH, when two of them
    are closer than CROWDED on the corridor map (None otherwise)."""
    hx, hy = nodes[hub][2], nodes[hub][3]
    near = [i for i, n in enumerate(nodes) if math.hypot(n[2] - hx, n[3] - hy) <= ZOOM_RADIUS]
    closest = min(
        (math.hypot(nodes[a][2] - nodes[b][2], nodes[a][3] - nodes[b][3])
         for a, b in itertools.combinations(near, 2)),
        default=math.inf,
    )  # fmt: skip
    if closest >= CROWDED:
        return None
    xs, ys = [nodes[i][2] for i in near], [nodes[i][3] for i in near]
    pad = 0.15 * max(max(xs) - min(xs), max(ys) - min(ys), 1.0)
    x0, x1 = min(xs) - pad, max(xs) + 1.5 * pad  # room for the hub's bar and labels
    y0, y1 = min(ys) - 2 * pad, max(ys) + pad  # and for the queue bars above the nodes
    if (y1 - y0) < 0.55 * (x1 - x0):
        grow = (0.55 * (x1 - x0) - (y1 - y0)) / 2
        y0, y1 = y0 - grow, y1 + grow
    k = ZOOM_WIDTH / (x1 - x0)
    inside = [i for i, n in enumerate(nodes) if x0 <= n[2] <= x1 and y0 <= n[3] <= y1]
    zoomed = [[nodes[i][0], nodes[i][1], (nodes[i][2] - x0) * k, (nodes[i][3] - y0) * k]
              for i in inside]  # fmt: skip
    return {
        "x0": round(x0, 1),
        "y0": round(y0, 1),
        "k": round(k, 3),
        "width": ZOOM_WIDTH,
        "height": round((y1 - y0) * k, 1),
        "nodes": inside,
        "labels": _labels(zoomed),
    }


def animation_data(folder: Path) -> AnimationData:
    """Read a finished run folder into the page's data (see the module's docstring)."""
    folder = Path(folder)
    check_run_folder(folder)
    manifest = _manifest(folder)
    config = manifest["config"]
    corridor = config["corridor"]
    net = _network(corridor)
    end_h = float(manifest.get("simulated_days") or config["simulation"]["days"]) * 24
    trains, events, daily = (_table(folder, n) for n in ("trains", "node_events", "daily"))
    missing = [f"{n}.csv" for n, t in (("trains", trains), ("node_events", events)) if t is None]
    rows: list[list[Any]] = []
    services: list[str] = []
    if trains is not None and events is not None:
        service_events = events[~events["background"].astype(bool)]
        rows, services = _service_trains(net, trains, service_events, end_h)
    n_service = len(rows)
    if events is not None:
        background = events[events["background"].astype(bool)]
        rows += _background_trains(net, background, corridor.get("background") or {}, end_h)
        queues = _queues(net, events, end_h)
    else:
        queues = _daily_queues(net, daily)
    hub = _hub(daily, config)
    if hub is None:
        missing.append("daily.csv")
    routes = sorted(net.routes.items(), key=lambda item: item[1])
    data = {
        "name": str(manifest.get("name") or folder.name),
        "seed": manifest.get("seed"),
        "end_h": end_h,
        "warmup_h": float(manifest.get("warmup_days") or 0.0) * 24,
        "start_month": int(config.get("simulation", {}).get("start_month") or 1),
        "map": _map(net, corridor),
        "routes": [[[net.index[n] for n in key], net.route(key)[1]] for key, _ in routes],
        "services": [[s, PALETTE[i % len(PALETTE)]] for i, s in enumerate(services)],
        "trains": rows,
        "queues": queues,
        "hub": hub,
        "disruptions": _disruptions(net, _table(folder, "disruptions"), end_h),
        "missing": missing,
        "version": package_version(),
    }
    return AnimationData(data, missing, n_service)


def missing_line(folder: Path, missing: Sequence[str]) -> str | None:
    """One line saying what the animation leaves out, and why."""
    if not missing:
        return None
    what = []
    if "trains.csv" in missing or "node_events.csv" in missing:
        what.append("no trains move")
    if "node_events.csv" in missing:
        what.append("border queues as daily means from daily.csv")
    if "daily.csv" in missing:
        what.append("no yard level")
    records = _manifest(folder).get("records", "full")
    why = (
        "a run written with records=summary keeps only the summary tables"
        if records == "summary"
        else "the run wrote it; it has been moved or deleted since"
    )
    return f"{folder}: has no {', '.join(missing)} ({why}): {', '.join(what)} in the animation"


def write_animation(folder: Path, out: Path | None = None) -> tuple[Path, AnimationData]:
    """Write the animation page of the run in ``folder`` to ``out`` (default
    ``folder/animation.html``); a file the user put at ``out`` is refused, not replaced."""
    folder = Path(folder)
    if out is not None:
        check_page_target(folder, Path(out))
    anim = animation_data(folder)
    out = Path(out) if out is not None else folder / ANIMATION_NAME
    page = render_page(anim.data, missing_line(folder, anim.missing))
    target = claim(out.parent, out.name)
    atomic_write_text(target, page)
    return out, anim
