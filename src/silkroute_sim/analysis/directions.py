"""Both directions of the corridor: eastbound trains and the hub's box pool.

* Eastbound service trains are the trains of the inbound streams with an ``origin``
  (``Train.direction == "east"``); they are rows of ``trains.csv`` with ``direction`` =
  ``east``, and no westbound KPI counts them.
* A background stream is eastbound when its config says ``direction: east``, or, where it
  says nothing, when the last node of its route lies east of the first (longitude).
* ``eastbound_share:<node>``: the share of the trips through a border node (its first
  stage there, arriving in the observation window, as ``trains_per_day:<node>``) made by
  eastbound trains, service and background together; ``eastbound_share:<A>+<B>`` the
  same over the crossings from the hub's country into its neighbours (the far side:
  Dostyk and Altynkol in the shipped corridor).
* The box pool (``hub.box_pool``, :class:`silkroute_sim.model.inbound.BoxPool`): its
  level by day (``box_pool_teu`` in ``daily.csv``) and what came in, went out and was
  leased one-way over the window.

Everything here is written only where the scenario has eastbound traffic or a box pool:
other scenarios' tables are unchanged.
"""

from __future__ import annotations

import math

import numpy as np
import pandas as pd

from silkroute_sim.config.schema import BackgroundStreamConfig, ScenarioConfig
from silkroute_sim.engine.monitors import LevelMonitor, step_integrals
from silkroute_sim.model.simulate import RunResult

NAN = math.nan
Row = tuple[str, float, str]


def background_direction(cfg: ScenarioConfig, stream: BackgroundStreamConfig) -> str:
    """``west`` or ``east``: the stream's own, or east where its route ends east of where
    it starts (a route of one node, or due north or south: west)."""
    if stream.direction is not None:
        return stream.direction
    nodes = cfg.corridor.nodes
    return "east" if nodes[stream.route[-1]].lon > nodes[stream.route[0]].lon else "west"


def eastbound_background(cfg: ScenarioConfig) -> set[str]:
    """The names of the eastbound background streams."""
    return {
        name
        for name, stream in cfg.corridor.background.items()
        if background_direction(cfg, stream) == "east"
    }


def has_eastbound(cfg: ScenarioConfig) -> bool:
    """Whether the scenario has eastbound traffic (service or background trains)."""
    service = any(s.origin is not None for s in cfg.hub.inbound.values())
    return service or bool(eastbound_background(cfg))


def hub_crossings(cfg: ScenarioConfig) -> list[str]:
    """The border nodes with processing just beyond the hub's country: reached by an edge
    from a border node of the hub's country (Dostyk and Altynkol), in config order."""
    nodes = cfg.corridor.nodes
    home = nodes[cfg.hub.node].country
    if home is None:
        return []

    def border(name: str) -> bool:
        node = nodes[name]
        return node.kind == "border" and node.processing is not None

    near = {n for n in nodes if border(n) and nodes[n].country == home}
    far = set()
    for edge in cfg.corridor.edges:
        for a, b in ((edge.source, edge.target), (edge.target, edge.source)):
            if a in near and border(b) and nodes[b].country not in (None, home):
                far.add(b)
    return [n for n in nodes if n in far]


def eastbound_train_ids(result: RunResult) -> set[str]:
    """The ids of the run's eastbound trains, service and background."""
    east_bg = eastbound_background(result.config)
    ids = {t.train_id for t in result.records.inbound_trains if t.direction == "east"}
    background = result.records.background_trains
    east = np.isin(background.column("service"), sorted(east_bg))
    ids.update(background.column("train_id")[east].tolist())
    return ids


def _trips(result: RunResult, events: pd.DataFrame) -> tuple[np.ndarray, np.ndarray]:
    """The node and whether eastbound, of each trip through a node (a train's first
    stage there, not a hold) arriving in the window, from the run's node events table
    (its censored rows, trains still at a node when the run ended, left out)."""
    w0, w1 = result.warmup_h, result.end_h
    arrived = events["arrived_h"].to_numpy(dtype=float)
    kinds = events["kind"].to_numpy(dtype=object)
    keep = (arrived >= w0) & (arrived < w1) & (kinds != "held")
    keep &= ~events["censored"].to_numpy(dtype=bool)
    ids = events["train_id"].to_numpy(dtype=object)[keep]
    nodes = events["node"].to_numpy(dtype=object)[keep]
    del arrived, kinds, keep
    # the first row of each (train, node): numbers for the pairs instead of a set of
    # tuples (a 10-year run has about 500,000 rows), each text numbered by hashing rather
    # than by sorting the texts (a sort of Python strings copies them around several
    # times); np.unique's index is the first
    train = pd.factorize(ids)[0]
    node = pd.factorize(nodes)[0]
    pair = train * (int(node.max(initial=0)) + 1) + node
    first = np.zeros(len(ids), dtype=bool)
    first[np.unique(pair, return_index=True)[1]] = True
    del train, node, pair
    east_ids = eastbound_train_ids(result)
    east = np.fromiter((i in east_ids for i in ids[first]), dtype=bool, count=int(first.sum()))
    return nodes[first], east


def eastbound_rows(result: RunResult, events: pd.DataFrame) -> list[Row]:
    """Eastbound trains per day and their running time (origin to hub, by origin), and
    the eastbound share of the trips at each border node and at the hub's crossings."""
    cfg = result.config
    if not has_eastbound(cfg):
        return []
    w0, w1 = result.warmup_h, result.end_h
    days = (w1 - w0) / 24
    east = [t for t in result.records.inbound_trains if t.direction == "east"]
    arrived = [t for t in east if w0 <= t.arrived_h < w1]
    rows: list[Row] = [("eastbound_trains_per_day", len(arrived) / days, "trains/day")]
    for origin in sorted({s.origin for s in cfg.hub.inbound.values() if s.origin is not None}):
        running = [t.arrived_h - t.departed_h for t in arrived if t.origin == origin]
        median = float(np.median(running)) if running else NAN
        rows.append((f"eastbound_running_h_median:{origin}", median, "h"))
    nodes, is_east = _trips(result, events)
    borders = [
        n for n, node in cfg.corridor.nodes.items() if node.kind == "border" and node.processing
    ]
    for node in borders:
        at = nodes == node
        share = float(is_east[at].mean()) if at.any() else NAN
        rows.append((f"eastbound_share:{node}", share, "fraction"))
    crossings = hub_crossings(cfg)
    if len(crossings) > 1:
        at = np.isin(nodes, crossings)
        share = float(is_east[at].mean()) if at.any() else NAN
        rows.append((f"eastbound_share:{'+'.join(crossings)}", share, "fraction"))
    return rows


def _at(mon: LevelMonitor, t: float) -> float:
    """The level of a step monitor at time ``t`` (after the changes at ``t``)."""
    times, levels = mon.arrays()
    i = int(np.searchsorted(times, t, side="right")) - 1
    return float(levels[max(i, 0)])


def box_pool_rows(result: RunResult) -> list[Row]:
    """The box pool over the window: mean and end level, and per day the empties that
    came in on trains, the loaded boxes back stripped, the boxes taken by westbound loads
    and those leased one-way."""
    mons = result.records.monitors
    if "box_pool_teu" not in mons:
        return []
    w0, w1 = result.warmup_h, result.end_h
    days = (w1 - w0) / 24
    rows: list[Row] = [
        ("box_pool_teu_mean", mons["box_pool_teu"].mean(w0, w1), "TEU"),
        ("box_pool_teu_end", _at(mons["box_pool_teu"], w1), "TEU"),
    ]
    for name in ("empties_in", "stripped_in", "out", "leased"):
        mon = mons[f"box_pool_{name}_teu"]
        per_day = (_at(mon, w1) - _at(mon, w0)) / days
        rows.append((f"box_pool_{name}_teu_per_day", per_day, "TEU/day"))
    return rows


def box_pool_daily(result: RunResult, edges: np.ndarray) -> dict[str, np.ndarray]:
    """``box_pool_teu``: the pool's daily mean level (TEU), where there is a pool."""
    mon = result.records.monitors.get("box_pool_teu")
    if mon is None:
        return {}
    times, levels = mon.arrays()
    return {"box_pool_teu": step_integrals(times, levels, edges) / np.diff(edges)}
