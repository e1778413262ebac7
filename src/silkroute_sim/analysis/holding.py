"""What a closure did to the trains: rerouted (by which route), held (where, how many at
once), and the spill-back of finite holding. Pure functions over a run's records and
tables (read by :mod:`silkroute_sim.analysis.disruptions` and ``daily.csv``).

* **Usual route** of a service: its ``fixed`` node list, or the least expected time route
  from the hub through its stops with nothing closed (the route planned at load).
* **Rerouted** by a closure: a hub train on the corridor during the closure (departed
  before the closure's recovery, not arrived before it began) whose usual route passes a
  closed node or edge of the event, and whose route does not but reaches a node of the
  usual route beyond it (a train still waiting before the closure is not rerouted). Its
  route is named by its *crossings*: on the stretch where it leaves the usual route before
  the closure until it rejoins it, the nodes off the usual route that lie in another
  country than the node before them (borders crossed elsewhere): ``via <first>`` when
  there is one (``via Kuźnica``), ``via <first>–<last>`` when there are more (``via
  Kena–Braniewo``: Lithuania and Kaliningrad; ``via Kena–Białystok``: Lithuania); else
  ``via`` the first border node off the usual route, else its first node off it.
* **Held**: hub trains with a hold at a corridor node (a closure ahead, or no room at the
  next node) that began during the closure or its recovery, and hub trains that waited
  at the hub, formed, before leaving (on the loading track) and left in that time.
* **Held at once**: the maximum, over the closure and its recovery, of the trains held at
  each node (monitors ``held:<node>``: hub and background trains alike), and of their sum.
"""

from __future__ import annotations

import itertools
import math
from collections import Counter
from collections.abc import Iterable, Sequence

import networkx as nx
import numpy as np
import pandas as pd

from silkroute_sim.config.disruptions import ScheduledDisruption, WeatherDisruption
from silkroute_sim.config.schema import ScenarioConfig
from silkroute_sim.engine.monitors import LevelMonitor, step_integrals
from silkroute_sim.model.entities import Train
from silkroute_sim.model.network import shortest_path
from silkroute_sim.model.records import DisruptionWindow
from silkroute_sim.model.simulate import RunResult

NAN = math.nan
#: disruptions.csv columns after the recovery and cost columns: what a closure did to trains
HOLD_COLUMNS = [
    "rerouted_trains",
    "rerouted_by_route",
    "held_trains",
    "held_at_hub_trains",
    "held_trains_max",
    "held_max_by_node",
]
#: hours a formed train may wait at the hub for reasons that are not a hold (rounding)
EPS_H = 1e-6


def usual_routes(result: RunResult) -> dict[str, list[str]]:
    """Each service's route with nothing closed: its fixed nodes or its shortest route."""
    cfg = result.config
    out: dict[str, list[str]] = {}
    for name, service in cfg.services.items():
        if service.route.policy == "fixed" and service.route.nodes:
            out[name] = list(service.route.nodes)
        else:
            out[name] = shortest_path(result.graph, cfg.hub.node, list(service.stops))
    return out


def route_label(
    cfg: ScenarioConfig, usual: Sequence[str], route: Sequence[str], closed_at: int = 0
) -> str:
    """``via <node>[–<node>]``: where ``route`` crosses borders off ``usual`` (module docstring),
    looking at the stretch where it leaves ``usual`` before its node ``closed_at`` (the
    closed element) until it comes back to it after."""
    nodes = cfg.corridor.nodes
    on_usual = set(usual)
    before, after = set(usual[:closed_at]), set(usual[closed_at:])
    start = max((k for k, name in enumerate(route) if name in before), default=0)
    stop = next((k for k in range(start, len(route)) if route[k] in after), len(route))
    stretch = list(route[start : stop + 1])
    new = [(p, n) for p, n in itertools.pairwise(stretch) if n not in on_usual]
    crossings = [name for prev, name in new if nodes[name].country != nodes[prev].country]
    if crossings:
        first, last = crossings[0], crossings[-1]
        return f"via {first}" if first == last else f"via {first}–{last}"
    for _, name in new:
        if nodes[name].kind == "border":
            return f"via {name}"
    return f"via {new[0][1]}" if new else "usual"


def _closed_at(usual: Sequence[str], nodes: set[str], edges: set[tuple[str, str]]) -> int:
    """The index in ``usual`` of its first closed node (or closed edge's first node)."""
    for k, name in enumerate(usual):
        if name in nodes or (k + 1 < len(usual) and (name, usual[k + 1]) in edges):
            return k
    return len(usual)


def closed_members(cfg: ScenarioConfig, window: DisruptionWindow) -> list[str]:
    """The nodes a window closes or cuts: its node, or its group's nodes (looked up by
    the event's id: a weather event's is ``<id>#<n>``)."""
    if window.node is not None:
        return [window.node]
    base_id = window.event_id.split("#", 1)[0]
    section = cfg.disruptions
    specs: list[ScheduledDisruption | WeatherDisruption] = [
        *section.scheduled,
        *section.random.weather,
    ]
    for spec in specs:
        if spec.id == base_id and spec.is_group():
            return spec.members(cfg.corridor)
    return []


def _passes(route: Sequence[str], nodes: set[str], edges: set[tuple[str, str]]) -> bool:
    return any(n in nodes for n in route) or any(p in edges for p in itertools.pairwise(route))


def reroutes(
    result: RunResult, window: DisruptionWindow, until_h: float, usual: dict[str, list[str]]
) -> Counter[str]:
    """Hub trains rerouted around ``window`` (on the corridor between its start and
    ``until_h``), counted by route label."""
    cfg = result.config
    nodes = set(closed_members(cfg, window))
    edges = set(window.edges)
    counts: Counter[str] = Counter()
    if not nodes and not edges:
        return counts
    for train in _hub_trains(result):
        arrived = train.arrived_h if train.arrived_h == train.arrived_h else math.inf
        if train.departed_h >= until_h or arrived < window.start_h:
            continue
        base = usual.get(train.service)
        if base is None or not _passes(base, nodes, edges) or _passes(train.route, nodes, edges):
            continue
        at = _closed_at(base, nodes, edges)
        beyond = set(base[at + 1 :]) - nodes
        if not any(name in beyond for name in train.route):
            continue  # not round the closure (yet): waiting before it, or gone elsewhere
        counts[route_label(cfg, base, train.route, at)] += 1
    return counts


def _hub_trains(result: RunResult) -> Iterable[Train]:
    services = result.config.services
    return (t for t in result.records.trains if t.service in services and not t.background)


def held_trains(result: RunResult, events: pd.DataFrame, t0: float, t1: float) -> tuple[int, int]:
    """``(held, held at the hub)``: hub trains held at a corridor node from a time in
    ``[t0, t1)``, or at the hub and leaving in ``(t0, t1]``; the first includes the
    second."""
    ids = {t.train_id for t in _hub_trains(result)}
    held = events[(events["kind"] == "held") & ~events["background"]]
    held = held[(held["arrived_h"] >= t0) & (held["arrived_h"] < t1)]
    at_nodes = set(held["train_id"]) & ids
    at_hub = set()
    for train in _hub_trains(result):
        scheduled = train.scheduled_h if train.scheduled_h == train.scheduled_h else 0.0
        ready = max(train.formed_h, scheduled)
        if t0 < train.departed_h <= t1 and train.departed_h - ready > EPS_H:
            at_hub.add(train.train_id)
    return len(at_nodes | at_hub), len(at_hub)


def held_monitors(result: RunResult) -> dict[str, LevelMonitor]:
    """The ``held:<node>`` monitors of the run by node (empty without a route guard)."""
    return {
        name[5:]: mon for name, mon in result.records.monitors.items() if name.startswith("held:")
    }


def _max_in(mon: LevelMonitor, t0: float, t1: float) -> float:
    times, levels = mon.arrays()
    start = max(int(np.searchsorted(times, t0, side="right")) - 1, 0)
    stop = int(np.searchsorted(times, t1, side="right"))
    window = levels[start : max(stop, start + 1)]
    return float(window.max()) if window.size else 0.0


def total_held(monitors: Iterable[LevelMonitor]) -> tuple[np.ndarray, np.ndarray]:
    """Trains held at all nodes together, as one ``(times, levels)`` step series."""
    series = [m.arrays() for m in monitors]
    if not series:
        return np.zeros(1), np.zeros(1)
    times = np.unique(np.concatenate([t for t, _ in series]))
    levels = np.zeros_like(times)
    for t, lv in series:
        idx = np.searchsorted(t, times, side="right") - 1
        levels = levels + np.where(idx < 0, 0.0, lv[np.clip(idx, 0, len(lv) - 1)])
    return times, levels


def hold_columns(
    result: RunResult,
    window: DisruptionWindow,
    until_h: float,
    events: pd.DataFrame,
    usual: dict[str, list[str]],
    kind: str = "scheduled",
) -> tuple[object, ...]:
    """The :data:`HOLD_COLUMNS` of one event (``until_h``: its recovery, or the end);
    none counted for a breakdown (normal operations)."""
    if kind == "breakdown":
        return (0, "", 0, 0, NAN, "")
    t0, t1 = window.start_h, max(until_h, window.end_h)
    counts = reroutes(result, window, t1, usual)
    held, at_hub = held_trains(result, events, t0, t1)
    monitors = held_monitors(result)
    by_node = {name: _max_in(mon, t0, t1) for name, mon in monitors.items()}
    busy = sorted(((v, n) for n, v in by_node.items() if v > 0), key=lambda x: (-x[0], x[1]))
    total_max = NAN
    if monitors:
        times, levels = total_held(monitors.values())
        start = max(int(np.searchsorted(times, t0, side="right")) - 1, 0)
        stop = int(np.searchsorted(times, t1, side="right"))
        total_max = float(levels[start : max(stop, start + 1)].max(initial=0.0))
    return (
        sum(counts.values()),
        "; ".join(f"{label}: {n}" for label, n in sorted(counts.items(), key=lambda x: -x[1])),
        held,
        at_hub,
        total_max,
        "; ".join(f"{name}: {v:g}" for v, name in busy),
    )


def alternative_labels(result: RunResult, window: DisruptionWindow) -> list[str]:
    """The route each service would take around ``window`` with nothing else closed (the
    labels its summary rows always carry, so replications share them)."""
    cfg = result.config
    nodes = set(closed_members(cfg, window))
    edges = set(window.edges)
    usual = usual_routes(result)
    labels: list[str] = []
    for name, service in cfg.services.items():
        base = usual[name]
        if not _passes(base, nodes, edges):
            continue

        def weight(u: str, v: str, data: dict[str, float]) -> float | None:
            return None if v in nodes or (u, v) in edges else data["expected_h"]

        try:
            alt = shortest_path(
                result.graph,
                cfg.hub.node,
                list(service.stops),
                weight,  # type: ignore[arg-type]  # None hides an edge
            )
        except (nx.NetworkXNoPath, nx.NodeNotFound):
            continue
        label = route_label(cfg, base, alt, _closed_at(base, nodes, edges))
        if label not in labels:
            labels.append(label)
    return labels


def hold_summary_rows(result: RunResult, eid: str, row: pd.Series) -> list[tuple[str, float, str]]:
    """``summary.csv`` rows of one scheduled event (its ``disruptions.csv`` ``row``):
    trains rerouted, in all and by route (each service's alternative always, so
    replications share those rows; a route some replications never took has fewer
    values), and held (anywhere, at the hub, the most at once)."""
    rows = [
        (f"rerouted_trains:{eid}", float(row["rerouted_trains"]), "trains"),
        (f"held_trains:{eid}", float(row["held_trains"]), "trains"),
        (f"held_at_hub_trains:{eid}", float(row["held_at_hub_trains"]), "trains"),
        (f"held_trains_max:{eid}", float(row["held_trains_max"]), "trains"),
    ]
    log = result.disruptions
    window = next((w for w in log.windows if w.event_id == eid), None) if log else None
    seen = dict(_pairs(str(row["rerouted_by_route"])))
    labels = alternative_labels(result, window) if window is not None else []
    for label in dict.fromkeys([*labels, *seen]):
        rows.append((f"rerouted_trains:{eid}:{label}", float(seen.get(label, 0)), "trains"))
    return rows


def _pairs(text: str) -> list[tuple[str, int]]:
    """``via A: 3; via B: 1`` as ``[("via A", 3), ("via B", 1)]``."""
    out = []
    for part in filter(None, text.split("; ")):
        label, _, count = part.rpartition(": ")
        out.append((label, int(float(count))))
    return out


def daily_held(result: RunResult, edges: np.ndarray) -> dict[str, np.ndarray]:
    """``daily.csv`` columns: mean trains held per day at the hub (``held_trains_mean:
    hub``) and in each country's nodes (``held_trains_mean:<CC>``); none without a route
    guard (no disruptions, no finite holding)."""
    monitors = held_monitors(result)
    if not monitors:
        return {}
    nodes = result.config.corridor.nodes
    hub = result.config.hub.node
    widths = np.diff(edges)
    groups: dict[str, list[LevelMonitor]] = {"hub": [monitors[hub]]} if hub in monitors else {}
    for name, mon in monitors.items():
        if name != hub:
            groups.setdefault(nodes[name].country or name, []).append(mon)
    out = {}
    for key in ["hub", *sorted(k for k in groups if k != "hub")]:
        total = np.zeros(len(edges) - 1)
        for mon in groups[key]:
            times, levels = mon.arrays()
            total += step_integrals(times, levels, edges) / widths
        out[f"held_trains_mean:{key}"] = total
    return out
