"""Figures for one run: the pictures a planner pastes into a report.

Imported lazily (matplotlib is heavy); every function writes one PNG and returns its path.
Colours come from :mod:`silkroute_sim.outputs.plots.style` (Okabe–Ito); the corridor map
is in :mod:`silkroute_sim.outputs.plots.corridor_map`.
"""

from __future__ import annotations

import contextlib
import gc
import itertools
from collections import defaultdict
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from silkroute_sim.analysis.disruptions import windows_to_shade
from silkroute_sim.analysis.group_means import text_positions
from silkroute_sim.engine.monitors import step_envelope, step_integrals
from silkroute_sim.model.simulate import RunResult
from silkroute_sim.outputs.forked import jobs_in_child
from silkroute_sim.outputs.plots.closure import closure_plot, has_closures
from silkroute_sim.outputs.plots.corridor_map import corridor_map
from silkroute_sim.outputs.plots.modes import PANELS, modes_plot
from silkroute_sim.outputs.plots.style import COLORS, TINT, pyplot, save

_plt = pyplot
_save = save


def _shade_warmup(ax: Any, warmup_d: float) -> None:
    if warmup_d > 0:
        ax.axvspan(0, warmup_d, color="0.85", alpha=0.6, lw=0, label="warm-up (excluded)")


def _shade_disruptions(ax: Any, result: RunResult) -> None:
    """Shaded bands over the scheduled and weather disruption windows."""
    for i, (start_h, end_h, _) in enumerate(windows_to_shade(result)):
        label = "disruption" if i == 0 else None
        ax.axvspan(start_h / 24, end_h / 24, color=COLORS[1], alpha=0.15, lw=0, label=label)


def throughput(daily: pd.DataFrame, result: RunResult, path: Path) -> Path:
    plt = _plt()
    fig, ax = plt.subplots()
    target = result.config.demand.tonnes_per_day
    _shade_warmup(ax, result.warmup_h / 24)
    _shade_disruptions(ax, result)
    ax.plot(
        daily["day"],
        daily["tonnes_dispatched"].rolling(7, min_periods=1).mean(),
        color=COLORS[0],
        lw=2,
        label="dispatched (7-day mean)",
    )
    ax.plot(
        daily["day"],
        daily["tonnes_arrived"].rolling(7, min_periods=1).mean(),
        color=COLORS[3],
        lw=1.5,
        ls="--",
        label="arrived at gate (7-day mean)",
    )
    ax.axhline(target, color=COLORS[1], lw=1.5, label=f"{target:,.0f} t/day demand")
    if abs(target - 3600) > 1:
        ax.axhline(3600, color="0.3", lw=1, ls=":", label="3,600 t/day stated capacity")
    # after the lines, as ax.bar's container was: the same place in the legend
    _day_bars(ax, daily["day"], daily["tonnes_dispatched"], "dispatched (daily)")
    ax.set(
        title=f"Hub throughput — {result.config.name}",
        xlabel="simulated day",
        ylabel="tonnes per day",
    )
    ax.set_xlim(0, len(daily))
    ax.legend(loc="lower right", fontsize=8, ncol=2)
    return _save(fig, path)


def _day_bars(ax: Any, days: pd.Series, values: pd.Series, label: str) -> None:
    """A bar per day (width one day, centred on it) as one collection: what ``ax.bar``
    draws, without an artist and a limits update per bar; the y axis starts at zero as
    bars make it."""
    from matplotlib.collections import PolyCollection

    x = days.to_numpy(dtype=float)
    y = values.to_numpy(dtype=float)
    ok = np.isfinite(x) & np.isfinite(y)
    x, y = x[ok], y[ok]
    zero = np.zeros_like(x)
    corners = [(x - 0.5, zero), (x - 0.5, y), (x + 0.5, y), (x + 0.5, zero)]
    verts = np.stack([np.column_stack(c) for c in corners], axis=1)
    bars = PolyCollection(
        list(verts), facecolors=COLORS[0], edgecolors="none", linewidths=0, alpha=0.35, label=label
    )
    bars.sticky_edges.y.append(0.0)
    ax.add_collection(bars)
    ax.autoscale_view()


#: a level series of more than four times this many points (a year of the yard has about
#: 180,000) is drawn as its envelope over this many slices of the run: the lowest and the
#: highest level in each, a quarter of a pixel or less wide at the report's size, which
#: is what a line through every point covers (at a fraction of its memory: ten years of
#: the yard, 1.8 million points, took about 230 MB to draw)
ENVELOPE_SLICES = 4000


def yard_level(result: RunResult, path: Path) -> Path:
    plt = _plt()
    fig, ax = plt.subplots()
    times, levels = result.records.monitors["yard_teu"].arrays()
    _shade_warmup(ax, result.warmup_h / 24)
    _shade_disruptions(ax, result)
    if len(times) > 4 * ENVELOPE_SLICES:  # the same picture, from a few thousand points
        edges, low, high = step_envelope(times, levels, 0.0, result.end_h, ENVELOPE_SLICES)
        low, high = np.append(low, low[-1]), np.append(high, high[-1])
        ax.fill_between(edges / 24, low, high, step="post", color=COLORS[0], lw=0.8)
        ax.plot([], [], color=COLORS[0], lw=0.8, label="yard occupancy")  # a line in the key
    else:
        ax.step(times / 24, levels, where="post", color=COLORS[0], lw=0.8, label="yard occupancy")
    cap = result.config.hub.yard.capacity_teu
    ax.axhline(cap, color=COLORS[1], lw=1.5, ls="--", label=f"capacity {cap:,.0f} TEU")
    ax.set(title="Yard occupancy", xlabel="simulated day", ylabel="TEU in yard (incl. reserved)")
    ax.set_xlim(0, result.end_h / 24)
    ax.set_ylim(0, cap * 1.08)
    ax.legend(loc="upper right", fontsize=8)
    return _save(fig, path)


def dwell_histogram(shipments: pd.DataFrame, result: RunResult, path: Path) -> Path:
    plt = _plt()
    fig, ax = plt.subplots()
    sel = shipments.loc[shipments["departed_h"] >= result.warmup_h, "hub_dwell_h"].dropna()
    if len(sel):
        ax.hist(sel, bins=60, color=COLORS[0], alpha=0.8)
        for q, ls in ((0.5, "-"), (0.95, "--")):
            v = float(sel.quantile(q))
            ax.axvline(v, color=COLORS[1], ls=ls, lw=1.5, label=f"p{int(q * 100)} = {v:.1f} h")
        ax.legend(fontsize=8)
    else:
        ax.text(
            0.5, 0.5, "no departures in the observation window", ha="center", transform=ax.transAxes
        )
    ax.set(
        title="Hub dwell per box (gate arrival → train departure)", xlabel="hours", ylabel="boxes"
    )
    return _save(fig, path)


def door_to_door(shipments: pd.DataFrame, result: RunResult, path: Path) -> Path:
    plt = _plt()
    fig, ax = plt.subplots()
    dests = result.config.services_destinations()
    sel = shipments.loc[
        shipments["delivered_h"] >= result.warmup_h, ["destination", "door_to_door_d"]
    ]
    data = [sel[sel["destination"] == d]["door_to_door_d"].dropna().to_numpy() for d in dests]
    labels = [f"{d}\n(n={len(v)})" for d, v in zip(dests, data, strict=False)]
    present = [(lab, v) for lab, v in zip(labels, data, strict=False) if len(v)]
    if present:
        ax.boxplot(
            [v for _, v in present],
            tick_labels=[lab for lab, _ in present],
            showfliers=False,
            patch_artist=True,
            boxprops={"facecolor": TINT},
            medianprops={"color": COLORS[1]},
        )
    ax.set(
        title="Door-to-door time by destination (hub gate → released at terminal)", ylabel="days"
    )
    return _save(fig, path)


def border_queues(result: RunResult, path: Path) -> Path:
    plt = _plt()
    fig, ax = plt.subplots()
    nodes = [
        n
        for n, c in result.config.corridor.nodes.items()
        if c.kind == "border" and f"queue:{n}" in result.records.monitors
    ]
    _shade_warmup(ax, result.warmup_h / 24)
    _shade_disruptions(ax, result)
    edges = np.arange(0, result.end_h + 24, 24.0)
    for i, node in enumerate(nodes):
        times, levels = result.records.monitors[f"queue:{node}"].arrays()
        daily = step_integrals(times, levels, edges) / 24
        ax.plot(edges[:-1] / 24, daily, color=COLORS[i % len(COLORS)], lw=1.3, label=node)
    ax.set(
        title="Border queues (trains waiting, daily mean; incl. background trains)",
        xlabel="simulated day",
        ylabel="trains waiting",
    )
    ax.legend(fontsize=8, ncol=3)
    return _save(fig, path)


def _train_timelines(
    result: RunResult, events: pd.DataFrame, trains: pd.DataFrame
) -> list[tuple[str, list[float], list[float], list[tuple[str, float]]]]:
    """(service, times_d, km, stations) per train: arrive/leave each node along its route;
    ``stations`` are the (node, km from Urumqi) it passes. A node a train stopped at more
    than once spans its first arrival to its last end; a node without an event is passed
    at the running time from the previous one."""
    graph = result.graph
    ids = trains["train_id"].astype(str)
    mine = events[events["train_id"].isin(ids.tolist())]  # a few trains: no copy of all ids
    spans = (
        mine.assign(train_id=mine["train_id"].astype(str), node=mine["node"].astype(str))
        .groupby(["train_id", "node"], sort=False)
        .agg(arr=("arrived_h", "min"), end=("end_h", "max"))
    )
    spans_at = zip(spans["arr"].tolist(), spans["end"].tolist(), strict=True)
    node_times: dict[tuple[str, str], tuple[float, float]] = dict(
        zip(spans.index, spans_at, strict=True)
    )
    lines = []
    for train_id, service, route_text, departed in zip(
        ids.tolist(),
        trains["service"].astype(str).tolist(),
        trains["route"].astype(str).tolist(),
        trains["departed_h"].to_numpy(dtype=float).tolist(),
        strict=True,
    ):
        route = route_text.split(">")
        if len(route) < 2 or not np.isfinite(departed):
            continue
        t, km = departed, 0.0
        xs, ys = [t / 24], [0.0]
        stations = [(route[0], 0.0)]
        for u, v in itertools.pairwise(route):
            t += graph.edges[u, v]["run_h"]
            km += graph.edges[u, v]["km"]
            arr, end = node_times.get((train_id, v), (t, t))
            xs += [arr / 24, end / 24]
            ys += [km, km]
            stations.append((v, km))
            t = max(t, end)
        lines.append((service, xs, ys, stations))
    return lines


def station_ticks(stations: list[tuple[str, float]], min_gap_km: float) -> list[tuple[float, str]]:
    """Ticks of the distance axis: each (node, km) once, nodes closer than ``min_gap_km``
    sharing one tick (``Dostyk / Alashankou``) so no two names print over each other."""
    unique = sorted({(round(km, 1), node) for node, km in stations})
    groups: list[list[tuple[float, str]]] = []
    for km, node in unique:
        if groups and km - groups[-1][0][0] < min_gap_km:
            if node not in [n for _, n in groups[-1]]:
                groups[-1].append((km, node))
        else:
            groups.append([(km, node)])
    return [
        (sum(k for k, _ in g) / len(g), " / ".join(dict.fromkeys(n for _, n in g))) for g in groups
    ]


def _background_segments(
    events: pd.DataFrame, km_of: dict[str, list[float]], t0_h: float, t1_h: float, lane_km: float
) -> list[list[tuple[float, float]]]:
    """Background trains at the shared nodes: arrival to end of processing, at the node's
    distance(s) from Urumqi, within [t0_h, t1_h]; trains there at the same time stacked
    ``lane_km`` apart, so the band's depth is the number of them."""
    if "background" not in events:
        return []
    bg = events[(events["background"].astype(bool)) & (events["end_h"] >= t0_h)]
    bg = bg[bg["arrived_h"] <= t1_h].sort_values(["node", "arrived_h"], kind="stable")
    segments = []
    lanes: dict[str, list[float]] = defaultdict(list)  # per node: when each lane frees
    for node, arr, end in zip(bg["node"], bg["arrived_h"], bg["end_h"], strict=True):
        free = lanes[str(node)]
        lane = next((i for i, t in enumerate(free) if t <= arr), len(free))
        if lane == len(free):
            free.append(end)
        free[lane] = end
        for km in km_of.get(str(node), []):
            y = km - lane * lane_km
            segments.append([(arr / 24, y), (end / 24, y)])
    return segments


def string_line(
    result: RunResult,
    events: pd.DataFrame,
    trains: pd.DataFrame,
    path: Path,
    sample: int,
    background: bool = False,
) -> Path:
    """Time–distance diagram of the first ``sample`` trains after the warm-up, the stations
    named on the right-hand distance axis; with ``background``, the background trains held
    at the shared border crossings as grey bars (arrival to end of processing)."""
    from matplotlib.collections import LineCollection

    plt = _plt()
    fig, ax = plt.subplots(figsize=(10.5, 6))
    after = trains[trains["departed_h"] >= result.warmup_h]
    if "direction" in after:  # the hub's own trains, away from it (distance from Urumqi)
        after = after[after["direction"] == "west"]
    after = after.iloc[:sample]
    services = list(result.config.services)
    color = {s: COLORS[i % len(COLORS)] for i, s in enumerate(services)}
    seen: set[str] = set()
    stations: list[tuple[str, float]] = []
    t0, t1 = np.inf, -np.inf
    for service, xs, ys, passed in _train_timelines(result, events, after):
        ax.plot(xs, ys, color=color[service], lw=1, label=service if service not in seen else None)
        seen.add(service)
        stations += passed
        t0, t1 = min(t0, xs[0]), max(t1, xs[-1])
    if background and stations:
        km_of: dict[str, list[float]] = defaultdict(list)
        for node, km in set(stations):
            km_of[node].append(km)
        top = max(km for _, km in stations)
        segments = _background_segments(events, km_of, t0 * 24, t1 * 24, top / 300)
        if segments:
            ax.add_collection(LineCollection(segments, colors="0.5", linewidths=0.8, zorder=0))
            ax.plot([], [], color="0.5", lw=0.8, label="background trains held at nodes")
    if stations:
        top = max(km for _, km in stations)
        ticks = station_ticks(stations, min_gap_km=top / 45)
        for km, _ in ticks:
            ax.axhline(km, color="0.85", lw=0.6, zorder=0)
        right = ax.twinx()
        right.set_ylim(ax.get_ylim())
        right.set_yticks([km for km, _ in ticks], [name for _, name in ticks], fontsize=7.5)
        right.grid(False)
        right.spines["right"].set_visible(True)
    ax.set(
        title=f"Time–distance diagram ({len(after)} trains after warm-up; flat = stopped)",
        xlabel="simulated day",
        ylabel="km from Urumqi",
    )
    if seen:
        ax.legend(fontsize=8, loc="upper left")
    return _save(fig, path)


def exports_by_class(shipments: pd.DataFrame, result: RunResult, path: Path) -> Path:
    """Delivered cargo per destination, stacked by cargo class: tonnes per day (left) and
    units per year (right; one bar per kind of unit, so boxes and vehicles never stack),
    over the observation window. Classes with a value show it in the legend."""
    plt = _plt()
    fig, (ax_t, ax_u) = plt.subplots(1, 2, figsize=(12, 5))
    w0, w1 = result.warmup_h, result.end_h
    days = (w1 - w0) / 24
    t = shipments["terminal_arrived_h"].to_numpy()
    in_window = (t >= w0) & (t < w1)
    del t
    classes = list(result.config.demand.classes)
    dests = result.config.services_destinations()
    # a long run's column of texts compared and numbered, not copied or hashed per class;
    # grouped by those numbers (categories: no table of keys) as a groupby sums, in row order
    cargo = shipments["cargo_class"].to_numpy()[in_window]
    stop = text_positions(
        pd.Index(dests, dtype=object), shipments["destination"].to_numpy()[in_window]
    )
    tonnes_in = shipments["tonnes"].to_numpy()[in_window]
    value_in = shipments["value_usd"].to_numpy()[in_window]
    del in_window
    units = list(dict.fromkeys(result.config.demand.classes[c].unit for c in classes))
    x = np.arange(len(dests))
    width = 0.8 / len(units)
    bottom_t = np.zeros(len(dests))
    bottom_u = {unit: np.zeros(len(dests)) for unit in units}
    for i, name in enumerate(classes):
        mine = cargo == name
        at = stop[mine]
        known = at >= 0
        groups = pd.Categorical.from_codes(at[known], categories=pd.RangeIndex(len(dests)))
        tonnes = pd.Series(tonnes_in[mine][known]).groupby(groups, observed=False).sum()
        count = pd.Series(np.bincount(at[known], minlength=len(dests)))
        unit = result.config.demand.classes[name].unit
        label = f"{name} ({_plural(unit)})"
        if result.config.demand.classes[name].value_usd is not None:
            label += f", USD {pd.Series(value_in[mine]).sum() * 365 / days / 1e6:,.0f} M/yr"
        color = COLORS[i % len(COLORS)]
        ax_t.bar(x, tonnes.to_numpy() / days, 0.8, bottom=bottom_t, color=color, label=label)
        bottom_t += tonnes.to_numpy() / days
        offset = (units.index(unit) - (len(units) - 1) / 2) * width
        per_year = count.to_numpy() * 365 / days
        ax_u.bar(x + offset, per_year, width, bottom=bottom_u[unit], color=color)
        bottom_u[unit] += per_year
    del cargo, stop, tonnes_in, value_in  # not kept while the figure is rendered
    for ax, title, ylabel in (
        (ax_t, "Delivered tonnes by destination and class", "tonnes per day"),
        (ax_u, "Delivered units by destination and class", "units per year"),
    ):
        ax.set_xticks(x, dests, rotation=30, ha="right")
        ax.set(title=title, ylabel=ylabel)
        ax.set_ylim(0, max(ax.get_ylim()[1], 1.0) * 1.3)  # room for the legend
    if len(units) > 1:
        ax_u.set_xlabel("bars side by side: " + " | ".join(_plural(u) for u in units))
    ax_t.legend(fontsize=8, loc="upper right")
    return _save(fig, path)


def _plural(unit: str) -> str:
    return unit + ("es" if unit.endswith(("x", "s")) else "s")


#: the shipment columns the figures of a run read (a run folder at ``records="summary"``,
#: whose shipments table is not written, keeps only these once its KPIs are computed);
#: replications read ``delivered_h`` and ``door_to_door_d`` from those tables too
#: (``experiments.replications.replicate``)
FIGURE_SHIPMENT_COLUMNS = frozenset(
    {
        "cargo_class",
        "destination",
        "tonnes",
        "teu",
        "feu",
        "value_usd",
        "train_id",
        "departed_h",
        "terminal_arrived_h",
        "delivered_h",
        "hub_dwell_h",
        "door_to_door_d",
        *(panel[1] for panel in PANELS),
    }
)

#: the figures (file stems) to start with, longest first (CPU seconds of a baseline year,
#: each drawn warm: the corridor map, laid out until every label has a place, 0.63; the
#: modal comparison 0.49; string line and border queues about 0.2; any other 0.1–0.2),
#: so that the two processes that share them (:func:`run_plots_beside`) end close together
LONGEST_FIGURES = ("corridor_map", "modes", "closure", "string_line", "border_queues")


def all_run_plots(result: RunResult, tables: Any, folder: Path) -> list[Path]:
    """Every figure of one run into ``folder`` (:func:`run_plots_beside` with nothing
    else to do meanwhile)."""
    with run_plots_beside(result, tables, folder) as paths:
        pass
    return paths


@contextlib.contextmanager
def run_plots_beside(result: RunResult, tables: Any, folder: Path) -> Iterator[list[Path]]:
    """Every figure of one run into ``folder``: a forked child starts on them while the
    block runs, and this process takes those left once the block is done
    (:func:`outputs.forked.jobs_in_child`: each figure is drawn once, by whichever
    process is free, the longest first; where no child can be forked, all are drawn
    here after the block). The list it yields holds the figures' paths, in report order,
    once the block is left. matplotlib is imported before the fork (half a second of
    CPU, paid once instead of by both processes). The objects that exist when drawing
    starts (the run's records and tables) are set aside from the garbage collector
    meanwhile (``gc.freeze``): the figures make enough objects to start a full
    collection, which would otherwise walk all of them for nothing."""
    folder.mkdir(parents=True, exist_ok=True)
    paths: list[Path] = []
    with _collector_spared():
        figures = _figures(result, tables, folder)
        first = {stem: rank for rank, stem in enumerate(LONGEST_FIGURES)}
        jobs = [
            draw for path, draw in sorted(figures, key=lambda f: first.get(f[0].stem, len(first)))
        ]
        pyplot()  # loaded once, here: a child inherits it
        with jobs_in_child(jobs):
            yield paths
        paths += [path for path, _ in figures]


@contextlib.contextmanager
def _collector_spared() -> Iterator[None]:
    """``gc.freeze`` for the block, unless the caller has frozen objects already (then
    nothing is changed, so their freeze is not undone)."""
    if gc.get_freeze_count():
        yield
        return
    gc.freeze()
    try:
        yield
    finally:
        gc.unfreeze()


def _figures(result: RunResult, tables: Any, folder: Path) -> list[tuple[Path, Callable[[], Path]]]:
    """Each figure of one run: the file it writes and how it is drawn, in report order."""
    out = result.config.outputs
    figures: list[tuple[Path, Callable[[], Path]]] = [
        (
            folder / "throughput.png",
            lambda: throughput(tables.daily, result, folder / "throughput.png"),
        ),
        (folder / "yard_level.png", lambda: yard_level(result, folder / "yard_level.png")),
        (
            folder / "hub_dwell.png",
            lambda: dwell_histogram(tables.shipments, result, folder / "hub_dwell.png"),
        ),
        (
            folder / "door_to_door.png",
            lambda: door_to_door(tables.shipments, result, folder / "door_to_door.png"),
        ),
        (folder / "border_queues.png", lambda: border_queues(result, folder / "border_queues.png")),
        (
            folder / "string_line.png",
            lambda: string_line(
                result,
                tables.node_events,
                tables.trains,
                folder / "string_line.png",
                out.string_line_trains,
                background=out.string_line_background,
            ),
        ),
        (
            folder / "corridor_map.png",
            lambda: corridor_map(
                result,
                tables.shipments,
                tables.trains,
                tables.node_events,
                folder / "corridor_map.png",
            ),
        ),
        (
            folder / "exports_by_class.png",
            lambda: exports_by_class(tables.shipments, result, folder / "exports_by_class.png"),
        ),
    ]
    if tables.modes is not None:
        figures.append(
            (
                folder / "modes.png",
                lambda: modes_plot(
                    tables.modes, tables.shipments, folder / "modes.png", result.warmup_h
                ),
            )
        )
    if has_closures(result):  # trains held by node and the yard over the closure
        figures.append(
            (folder / "closure.png", lambda: closure_plot(result, folder / "closure.png"))
        )
    return figures
