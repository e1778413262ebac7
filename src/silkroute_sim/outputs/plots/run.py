"""Figures for one run: the pictures a planner pastes into a report.

Imported lazily (matplotlib is heavy); every function writes one PNG and returns its path.
"""

from __future__ import annotations

import itertools
from collections import defaultdict
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from silkroute_sim.analysis.disruptions import windows_to_shade
from silkroute_sim.engine.monitors import step_integrals
from silkroute_sim.model.simulate import RunResult

DPI = 130
COLORS = [
    "#1f4e79",
    "#c0504d",
    "#4f8a3c",
    "#d08c1b",
    "#6a4c93",
    "#2a9d8f",
    "#8c564b",
    "#e377c2",
    "#7f7f7f",
    "#17becf",
]


def _plt() -> Any:
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    plt.rcParams.update(
        {
            "figure.figsize": (9, 4.8),
            "axes.grid": True,
            "grid.alpha": 0.3,
            "axes.spines.top": False,
            "axes.spines.right": False,
            "font.size": 10,
            "axes.titlesize": 12,
            "axes.titleweight": "bold",
            "svg.hashsalt": "silkroute",
        }
    )
    return plt


def _save(fig: Any, path: Path) -> Path:
    fig.tight_layout()
    fig.savefig(path, dpi=DPI, metadata={"Software": None})
    import matplotlib.pyplot as plt

    plt.close(fig)
    return path


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
    ax.bar(
        daily["day"],
        daily["tonnes_dispatched"],
        width=1.0,
        color=COLORS[0],
        alpha=0.35,
        label="dispatched (daily)",
    )
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
    ax.set(
        title=f"Hub throughput — {result.config.name}",
        xlabel="simulated day",
        ylabel="tonnes per day",
    )
    ax.set_xlim(0, len(daily))
    ax.legend(loc="lower right", fontsize=8, ncol=2)
    return _save(fig, path)


def yard_level(result: RunResult, path: Path) -> Path:
    plt = _plt()
    fig, ax = plt.subplots()
    times, levels = result.records.monitors["yard_teu"].arrays()
    _shade_warmup(ax, result.warmup_h / 24)
    _shade_disruptions(ax, result)
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
    sel = shipments[shipments["departed_h"] >= result.warmup_h]["hub_dwell_h"].dropna()
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
    sel = shipments[shipments["delivered_h"] >= result.warmup_h]
    data = [sel[sel["destination"] == d]["door_to_door_d"].dropna().to_numpy() for d in dests]
    labels = [f"{d}\n(n={len(v)})" for d, v in zip(dests, data, strict=False)]
    present = [(lab, v) for lab, v in zip(labels, data, strict=False) if len(v)]
    if present:
        ax.boxplot(
            [v for _, v in present],
            tick_labels=[lab for lab, _ in present],
            showfliers=False,
            patch_artist=True,
            boxprops={"facecolor": "#dbe7f3"},
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
) -> list[tuple[str, list[float], list[float]]]:
    """(service, times_d, km) per train: arrive/leave each node along its route."""
    graph = result.graph
    by_train: dict[str, list[tuple[str, float, float]]] = defaultdict(list)
    for tid, node, arr, end in zip(
        events["train_id"], events["node"], events["arrived_h"], events["end_h"], strict=False
    ):
        by_train[tid].append((node, arr, end))
    lines = []
    for train_id, service, route_text, departed in zip(
        trains["train_id"], trains["service"], trains["route"], trains["departed_h"], strict=True
    ):
        route = str(route_text).split(">")
        if len(route) < 2 or not np.isfinite(float(departed)):
            continue
        node_times: dict[str, tuple[float, float]] = {}
        for node, arr, end in by_train.get(str(train_id), []):
            a, e = node_times.get(node, (arr, end))
            node_times[node] = (min(a, arr), max(e, end))
        t, km = float(departed), 0.0
        xs, ys = [t / 24], [0.0]
        for u, v in itertools.pairwise(route):
            t += graph.edges[u, v]["run_h"]
            km += graph.edges[u, v]["km"]
            arr, end = node_times.get(v, (t, t))
            xs += [arr / 24, end / 24]
            ys += [km, km]
            t = max(t, end)
        lines.append((str(service), xs, ys))
    return lines


def string_line(
    result: RunResult, events: pd.DataFrame, trains: pd.DataFrame, path: Path, sample: int
) -> Path:
    plt = _plt()
    fig, ax = plt.subplots(figsize=(10, 5.5))
    after = trains[trains["departed_h"] >= result.warmup_h]
    after = after.iloc[:sample]
    services = list(result.config.services)
    color = {s: COLORS[i % len(COLORS)] for i, s in enumerate(services)}
    seen: set[str] = set()
    for service, xs, ys in _train_timelines(result, events, after):
        ax.plot(xs, ys, color=color[service], lw=1, label=service if service not in seen else None)
        seen.add(service)
    ax.set(
        title=f"Time–distance diagram ({len(after)} trains after warm-up; flat = stopped)",
        xlabel="simulated day",
        ylabel="km from Urumqi",
    )
    if seen:
        ax.legend(fontsize=8, loc="upper left")
    return _save(fig, path)


def corridor_map(
    result: RunResult,
    shipments: pd.DataFrame,
    trains: pd.DataFrame,
    events: pd.DataFrame,
    path: Path,
) -> Path:
    plt = _plt()
    graph = result.graph
    fig, ax = plt.subplots(figsize=(11, 5.8))
    tonnes: dict[tuple[str, str], float] = defaultdict(float)
    unload = shipments.groupby(["train_id", "destination"])["tonnes"].sum().to_dict()
    for train_id, route_text, train_tonnes in zip(
        trains["train_id"], trains["route"], trains["tonnes"], strict=True
    ):
        route = str(route_text).split(">")
        onboard = float(train_tonnes)
        for u, v in itertools.pairwise(route):
            key = (min(u, v), max(u, v))
            tonnes[key] += onboard
            onboard -= unload.get((train_id, v), 0.0)
    days = max(result.end_h / 24, 1e-9)
    top = max(tonnes.values(), default=1.0) / days
    waits = (
        events[events["arrived_h"] >= result.warmup_h]
        .drop_duplicates(["train_id", "node"])
        .groupby("node")["wait_h"]
        .mean()
    )
    vmax = max([float(w) for w in waits] + [1.0])

    def draw(axis: Any, label_size: float, names: list[str]) -> Any:
        for u, v in sorted({(min(a, b), max(a, b)) for a, b in graph.edges}):
            x = [graph.nodes[u]["lon"], graph.nodes[v]["lon"]]
            y = [graph.nodes[u]["lat"], graph.nodes[v]["lat"]]
            flow = tonnes.get((u, v), 0.0) / days
            axis.plot(x, y, color="0.75", lw=1, zorder=1)
            if flow > 0:
                axis.plot(
                    x,
                    y,
                    color=COLORS[0],
                    lw=0.8 + 9 * flow / top,
                    alpha=0.75,
                    zorder=2,
                    solid_capstyle="round",
                )
        lon = [graph.nodes[n]["lon"] for n in names]
        lat = [graph.nodes[n]["lat"] for n in names]
        wait = [float(waits.get(n, 0.0)) for n in names]
        sc = axis.scatter(
            lon, lat, c=wait, cmap="YlOrRd", s=60, edgecolor="k", zorder=3, vmin=0, vmax=vmax
        )
        for n, x, y in zip(names, lon, lat, strict=True):
            # a border node's label goes on the side away from its partner across the line
            partners = [
                m
                for m in graph.successors(n)
                if graph.nodes[m]["kind"] == "border" and graph.nodes[n]["kind"] == "border"
            ]
            left = bool(partners) and x < graph.nodes[partners[0]]["lon"]
            axis.annotate(
                n,
                (x, y),
                textcoords="offset points",
                xytext=(-7, 2) if left else (7, -6),
                ha="right" if left else "left",
                fontsize=label_size,
            )
        return sc

    # the Xinjiang crossings and the Polish border sit close together: zoom them in insets
    zooms = [
        ((79.8, 83.4, 43.9, 45.6), "Xinjiang crossings"),
        ((22.9, 24.3, 51.85, 52.3), "Brest / Małaszewicze"),
    ]
    crowded = {
        n
        for n in graph.nodes
        for (x0, x1, y0, y1), _ in zooms
        if x0 <= graph.nodes[n]["lon"] <= x1 and y0 <= graph.nodes[n]["lat"] <= y1
    }
    main_labels = [n for n in graph.nodes if n not in crowded or graph.nodes[n]["kind"] == "hub"]
    sc = draw(ax, 8, list(graph.nodes))
    for text in list(ax.texts):
        if text.get_text() not in main_labels:
            text.remove()
    fig.colorbar(sc, ax=ax, label="mean wait at node (h), all trains", shrink=0.8)
    for i, ((x0, x1, y0, y1), title) in enumerate(zooms):
        inset = ax.inset_axes((0.02 + 0.30 * i, 0.02, 0.28, 0.36))
        draw(inset, 6.5, [n for n in graph.nodes if n in crowded])
        inset.set_xlim(x0, x1)
        inset.set_ylim(y0, y1)
        inset.set_xticks([])
        inset.set_yticks([])
        inset.set_title(title, fontsize=7.5)
        inset.grid(False)
        ax.indicate_inset_zoom(inset, edgecolor="0.5")
    for width, label in (
        (0.8 + 9 * 0.25, f"{top * 0.25:,.0f} t/day"),
        (0.8 + 9, f"{top:,.0f} t/day"),
    ):
        ax.plot([], [], color=COLORS[0], lw=width, label=label)
    ax.legend(title="Urumqi cargo carried", fontsize=8, loc="upper right")
    ax.set(
        title="Corridor: Urumqi cargo flows and mean waits at nodes",
        xlabel="longitude (°E)",
        ylabel="latitude (°N)",
    )
    ax.set_ylim(30, 58)
    return _save(fig, path)


def exports_by_class(shipments: pd.DataFrame, result: RunResult, path: Path) -> Path:
    """Delivered cargo per destination, stacked by cargo class: tonnes per day (left) and
    units per year (right; one bar per kind of unit, so boxes and vehicles never stack),
    over the observation window. Classes with a value show it in the legend."""
    plt = _plt()
    fig, (ax_t, ax_u) = plt.subplots(1, 2, figsize=(12, 5))
    w0, w1 = result.warmup_h, result.end_h
    days = (w1 - w0) / 24
    t = shipments["terminal_arrived_h"]
    sel = shipments[(t >= w0) & (t < w1)]
    classes = list(result.config.demand.classes)
    dests = result.config.services_destinations()
    units = list(dict.fromkeys(result.config.demand.classes[c].unit for c in classes))
    x = np.arange(len(dests))
    width = 0.8 / len(units)
    bottom_t = np.zeros(len(dests))
    bottom_u = {unit: np.zeros(len(dests)) for unit in units}
    for i, name in enumerate(classes):
        mine = sel[sel["cargo_class"] == name]
        tonnes = mine.groupby("destination")["tonnes"].sum().reindex(dests, fill_value=0.0)
        count = mine.groupby("destination").size().reindex(dests, fill_value=0)
        unit = result.config.demand.classes[name].unit
        label = f"{name} ({_plural(unit)})"
        if result.config.demand.classes[name].value_usd is not None:
            label += f", USD {mine['value_usd'].sum() * 365 / days / 1e6:,.0f} M/yr"
        color = COLORS[i % len(COLORS)]
        ax_t.bar(x, tonnes.to_numpy() / days, 0.8, bottom=bottom_t, color=color, label=label)
        bottom_t += tonnes.to_numpy() / days
        offset = (units.index(unit) - (len(units) - 1) / 2) * width
        per_year = count.to_numpy() * 365 / days
        ax_u.bar(x + offset, per_year, width, bottom=bottom_u[unit], color=color)
        bottom_u[unit] += per_year
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


def all_run_plots(result: RunResult, tables: Any, folder: Path) -> list[Path]:
    folder.mkdir(parents=True, exist_ok=True)
    return [
        throughput(tables.daily, result, folder / "throughput.png"),
        yard_level(result, folder / "yard_level.png"),
        dwell_histogram(tables.shipments, result, folder / "hub_dwell.png"),
        door_to_door(tables.shipments, result, folder / "door_to_door.png"),
        border_queues(result, folder / "border_queues.png"),
        string_line(
            result,
            tables.node_events,
            tables.trains,
            folder / "string_line.png",
            result.config.outputs.string_line_trains,
        ),
        corridor_map(
            result, tables.shipments, tables.trains, tables.node_events, folder / "corridor_map.png"
        ),
        exports_by_class(tables.shipments, result, folder / "exports_by_class.png"),
    ]
