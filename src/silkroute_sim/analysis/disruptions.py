"""Measures of each disruption: stranded trains, hub backlog, recovery, extra delay;
pure functions over a run's records and tables (imported by :mod:`metrics`).

**Recovery.** For each event the reference is the week before it starts (the days
available, at least one): the daily mean hub backlog (tonnes at the gate, in the yard and
on trains not yet gone), the tonnes dispatched per day, the stranded trains and, for a
node, the trains queueing there. Each is *back* on a day when it is within 10 % of its
reference — or within two standard deviations of the reference days, whichever is wider,
so normal day-to-day noise is not mistaken for a disruption (queues and stranded trains:
within half a train at least). Queues, backlog and stranded trains may be lower than
before; throughput must be within the band on both sides. ``recovery_h`` counts whole days
from the end of the disruption to the first day from which the three-day mean of every
measure is back (fewer days at the end of the run) *and stays back* for ``STAY_DAYS``
days (or to the end of the run, when fewer remain): a measure that dips into its band and
climbs out again has not recovered. Empty when that never happens in the run
(``recovery_status`` "not recovered") or when the event starts on the first day or ends
with the run ("no reference"); ``system_recovery_h`` and its status likewise.

**Affected shipments**: for a hub target, the boxes at the hub during the window; on the
corridor, the boxes on trains held by or rerouted around the event, or at the disrupted
node (edge) while the event lasted. Their extra door-to-door time is measured against
the mean door-to-door time to the same destination of the boxes that no scheduled or
weather disruption touched (breakdowns are part of normal operations) and that were not
in the system between the start of the event and its recovery.

**Extra cost and CO2e** (docs/costs.md): the affected boxes delivered in the run against
the same reference, per FEU and destination: what they paid more on the route (rail tariff,
border, gauge-change and handling fees of the route their train took: a reroute), in
holding (storage at the hub and the terminal, the train's holds on the corridor) and in
inventory carrying cost (longer door to door); ``extra_cost_share`` is their mean logistics
cost per FEU over the reference's, less 1; ``extra_cost_usd`` and ``extra_co2_kg`` the
totals over the affected boxes.
"""

from __future__ import annotations

import math
from collections import defaultdict
from collections.abc import Iterable
from dataclasses import dataclass

import numpy as np
import pandas as pd

from silkroute_sim.analysis.costs import HOLDING_PARTS, ROUTE_PARTS
from silkroute_sim.analysis.group_means import GroupMeans
from silkroute_sim.analysis.holding import (
    HOLD_COLUMNS,
    closed_members,
    hold_columns,
    hold_summary_rows,
    usual_routes,
)
from silkroute_sim.analysis.recovery import REFERENCE_DAYS, Signal, Step, Weighted, recovery
from silkroute_sim.analysis.sums import row_sum
from silkroute_sim.model.records import DisruptionWindow
from silkroute_sim.model.simulate import RunResult

NAN = math.nan
COLUMNS = [
    "id",
    "kind",
    "target",
    "effect",
    "start_h",
    "end_h",
    "duration_h",
    "stranded_trains_max",
    "stranded_background_trains_max",
    "queue_trains_max",
    "backlog_t_before",
    "backlog_t_max",
    "recovery_h",
    "system_recovery_h",
    "recovery_status",
    "system_recovery_status",
    "affected_shipments",
    "affected_delivered",
    "extra_door_to_door_d_mean",
]
#: disruptions.csv columns after :data:`COLUMNS`: what the event added in cost and CO2e
COST_COLUMNS = [
    "extra_cost_usd_per_feu_mean",
    "extra_reroute_usd_per_feu_mean",
    "extra_holding_usd_per_feu_mean",
    "extra_inventory_usd_per_feu_mean",
    "extra_cost_share",
    "extra_cost_usd",
    "extra_co2_kg_per_feu_mean",
    "extra_co2_kg",
]


def hub_backlog(shipments: pd.DataFrame) -> Step:
    """Tonnes arrived at the gate and not yet departed on a train, over time."""
    arrived = shipments["arrived_h"].to_numpy(dtype=float)
    departed = shipments["departed_h"].to_numpy(dtype=float)
    tonnes = shipments["tonnes"].to_numpy(dtype=float)
    gone = np.isfinite(departed)
    times = np.concatenate(([0.0], arrived, departed[gone]))
    deltas = np.concatenate(([0.0], tonnes, -tonnes[gone]))
    order = np.argsort(times, kind="stable")
    times, levels = times[order], np.cumsum(deltas[order])
    last = np.append(times[1:] != times[:-1], True)  # the level after all changes at t
    return Step(times[last], levels[last])


# --------------------------------------------------------------------------- affected


class _Affected:
    """Which boxes each event touched, as row numbers of ``shipments`` (a long run has
    thousands of events: a mask each would take a byte per shipment per event)."""

    def __init__(
        self,
        shipments: pd.DataFrame,
        trains: pd.DataFrame,
        events: pd.DataFrame,
        hits: dict[str, set[str]],
    ) -> None:
        self.arrived = shipments["arrived_h"].to_numpy(dtype=float)
        self.departed = shipments["departed_h"].fillna(np.inf).to_numpy(dtype=float)
        codes, self.train_ids = pd.factorize(shipments["train_id"])
        self.train_codes = codes.astype(np.intp, copy=False)
        self.trains = trains
        self.routes = trains["route"].astype(str)
        self.events = events
        self.hits = hits
        self._nodes: dict[str, tuple[np.ndarray, np.ndarray, np.ndarray]] = {}

    def rows(self, window: DisruptionWindow, until_h: float, members: list[str]) -> np.ndarray:
        """The boxes the event touched between its start and ``until_h`` (its recovery, or
        the end of the run): at the hub during that time; on the corridor, on the trains
        it held or rerouted or that were at its nodes (``members``) or on its edges."""
        t0, t1 = window.start_h, max(until_h, window.end_h)
        if window.hub is not None:
            return np.flatnonzero((self.arrived < t1) & (self.departed >= t0))
        train_ids = set(self.hits.get(window.event_id, set()))
        for node in members:
            train_ids |= self._at_node(node, t0, t1)
        train_ids |= self._on_edges(window.edges, t0, t1)
        codes = self.train_ids.get_indexer(pd.Index(list(train_ids), dtype=object))
        on = np.zeros(len(self.train_ids) + 1, dtype=bool)  # the last: boxes on no train
        on[codes[codes >= 0]] = True
        return np.flatnonzero(on[self.train_codes])

    def _at_node(self, node: str, t0: float, t1: float) -> set[str]:
        if node not in self._nodes:
            here = self.events[self.events["node"] == node]
            left = here["end_h"].fillna(np.inf)  # censored: still there at the end of the run
            self._nodes[node] = (
                here["arrived_h"].to_numpy(dtype=float),
                left.to_numpy(dtype=float),
                here["train_id"].to_numpy(),
            )
        arrived, left, ids = self._nodes[node]
        return set(ids[(arrived < t1) & (left >= t0)])

    def _on_edges(self, pairs: Iterable[tuple[str, str]], t0: float, t1: float) -> set[str]:
        hops = [f"{a}>{b}" for a, b in pairs]
        if not hops:
            return set()
        trains = self.trains
        passes = self.routes.apply(lambda r: any(h in r for h in hops))
        arrived = trains["arrived_h"].fillna(np.inf)
        during = (trains["departed_h"] < t1) & (arrived >= t0)
        return set(trains.loc[passes & during, "train_id"])


#: the costs per FEU (:func:`cost_per_feu`) an event's boxes are compared on
_PER_FEU = ["cost", "reroute", "holding", "inventory", "co2"]


class _References:
    """Each event's affected boxes against its reference boxes: untouched (``clean``) and
    not in the system while it lasted. Their mean door-to-door days (and costs per FEU)
    per destination come from one pass over the run's rows (:class:`GroupMeans`); the
    affected boxes are read as arrays, and pandas takes the means of what they add."""

    def __init__(
        self, shipments: pd.DataFrame, clean: np.ndarray, per_feu: pd.DataFrame | None
    ) -> None:
        values = shipments[["door_to_door_d"]]
        if per_feu is not None:
            if not per_feu.index.equals(values.index):  # row by row, as the shipments
                per_feu = per_feu.reindex(values.index)
            values = pd.concat([values, per_feu[_PER_FEU]], axis=1)
        self.groups = GroupMeans(shipments["destination"], values)
        self.codes = self.groups.codes  # each shipment's destination, as a code
        self.clean = clean
        self.delivered = shipments["delivered_h"].to_numpy(dtype=float)
        self.arrived = shipments["arrived_h"].to_numpy(dtype=float)
        self.d2d = values["door_to_door_d"].to_numpy(dtype=float)
        self.per_feu = None if per_feu is None else per_feu[[*_PER_FEU, "feu"]].to_numpy(float)

    def of(self, start_h: float, until_h: float) -> tuple[np.ndarray, np.ndarray]:
        """``(seen, means)`` by destination code (:meth:`GroupMeans.arrays`) of the clean
        boxes not in the system between ``start_h`` and ``until_h``."""
        outside = (self.delivered < start_h) | (self.arrived >= until_h)
        return self.groups.arrays(self.clean & outside)

    def extra_d2d(self, hit: np.ndarray, means: np.ndarray) -> tuple[int, float]:
        """How many of the boxes of ``hit`` (row numbers) were delivered, and their mean
        extra door-to-door days."""
        d2d = self.d2d[hit]
        with np.errstate(invalid="ignore"):  # inf - inf: NaN, as pandas has it
            extra = pd.Series(d2d - means[self.codes[hit], 0])
        delivered = int(np.count_nonzero(~np.isnan(d2d)))
        return delivered, float(extra.mean()) if extra.notna().any() else NAN

    def extra_costs(
        self, hit: np.ndarray, seen: np.ndarray, means: np.ndarray
    ) -> tuple[float, ...]:
        """The :data:`COST_COLUMNS` of one event: its boxes (``hit``, row numbers)
        delivered with a cost to a destination of its reference (``seen``) against the
        reference's mean costs per FEU there."""
        assert self.per_feu is not None
        hit = hit[seen[self.codes[hit]] & ~np.isnan(self.per_feu[hit, 0])]
        if not hit.size:
            return (NAN, NAN, NAN, NAN, NAN, 0.0, NAN, 0.0)
        mine = self.per_feu[hit]
        base = means[self.codes[hit], 1:]
        with np.errstate(invalid="ignore"):  # inf - inf: NaN, as pandas has it
            extra = mine[:, :-1] - base
        feu = mine[:, -1]
        cost, reroute, holding, inventory, co2 = (pd.Series(extra[:, k]) for k in range(5))
        base_cost = pd.Series(base[:, 0]).mean()
        share = float(pd.Series(mine[:, 0]).mean() / base_cost - 1) if base_cost else NAN
        return (
            float(cost.mean()),
            float(reroute.mean()),
            float(holding.mean()),
            float(inventory.mean()),
            share,
            float((cost * feu).sum()),
            float(co2.mean()),
            float((co2 * feu).sum()),
        )


#: the cost parts :func:`cost_per_feu` reads
PER_FEU_PARTS = (
    "feu",
    "is_box",
    *ROUTE_PARTS,
    *HOLDING_PARTS,
    "subsidy_usd",
    "logistics_cost_usd",
    "inventory_cost_usd",
    "co2_kg",
)


def cost_per_feu(parts: pd.DataFrame) -> pd.DataFrame:
    """Per delivered box and FEU: logistics cost, its route, holding and inventory parts
    (USD) and CO2e (kg); NaN for units and for shipments not delivered."""
    feu = parts["feu"].where(parts["is_box"])
    route = row_sum(parts, ROUTE_PARTS) - parts["subsidy_usd"]
    return pd.DataFrame(
        {
            "cost": parts["logistics_cost_usd"] / feu,
            "reroute": route / feu,
            "holding": row_sum(parts, HOLDING_PARTS) / feu,
            "inventory": parts["inventory_cost_usd"] / feu,
            "co2": parts["co2_kg"] / feu,
            "feu": feu,
        }
    )


# --------------------------------------------------------------------------- tables


def _local_nodes(window: DisruptionWindow, members: list[str]) -> list[str]:
    """The nodes whose queues show the disrupted element (``members``: its nodes)."""
    if members:
        return members
    return sorted({name for pair in window.edges for name in pair})


@dataclass(frozen=True)
class _RunLevels:
    """The run-wide levels that recovery and the table rows read: hub backlog (t),
    stranded trains, node queues (trains) and the tonnes dispatched (at their departures)."""

    backlog: Step
    stranded: Step
    stranded_background: Step
    queues: dict[str, Step]
    dispatched: Weighted
    members: dict[str, list[str]]  # the nodes each event acts on, by event id

    @classmethod
    def of(cls, result: RunResult, shipments: pd.DataFrame) -> _RunLevels:
        mons = result.records.monitors
        departed = shipments["departed_h"].to_numpy(dtype=float)
        gone = np.isfinite(departed)
        return cls(
            backlog=hub_backlog(shipments),
            stranded=Step.of(mons["stranded_trains"]),
            stranded_background=Step.of(mons["stranded_background_trains"]),
            queues={
                name: Step.of(mons[f"queue:{name}"])
                for name in result.config.corridor.nodes
                if f"queue:{name}" in mons
            },
            dispatched=Weighted(departed[gone], shipments["tonnes"].to_numpy(dtype=float)[gone]),
            members={
                w.event_id: closed_members(result.config, w)
                for w in (result.disruptions.windows if result.disruptions else [])
            },
        )

    def local_queues(self, window: DisruptionWindow) -> dict[str, Step]:
        """The queues of the disrupted element's own nodes (those that have one)."""
        nodes = _local_nodes(window, self.members.get(window.event_id, []))
        return {name: self.queues[name] for name in nodes if name in self.queues}

    def hub_signals(self) -> list[Signal]:
        return [
            Signal("backlog_t", self.backlog, floor=1.0),
            Signal("dispatched_t", np.empty(0), floor=1.0, two_sided=True),
            Signal("stranded_trains", self.stranded, floor=0.5),
        ]

    def local_signals(self, window: DisruptionWindow) -> list[Signal]:
        """The hub's signals and the queues at the disrupted element itself."""
        return self.hub_signals() + [
            Signal(f"queue:{name}", queue, floor=0.5)
            for name, queue in self.local_queues(window).items()
        ]

    def system_signals(self) -> list[Signal]:
        """The hub's signals, background trains stranded and every node's queue."""
        return [
            *self.hub_signals(),
            Signal("stranded_background_trains", self.stranded_background, floor=0.5),
            *(Signal(f"queue:{name}", queue, floor=0.5) for name, queue in self.queues.items()),
        ]


@dataclass(frozen=True)
class _Recovery:
    here: float  # recovery_h
    system: float  # system_recovery_h
    until: float  # when the disrupted element is back (the end of the run if never)
    here_status: str
    system_status: str


def _recovery(levels: _RunLevels, window: DisruptionWindow, run_end_h: float) -> _Recovery:
    """Local and system recovery of ``window``, and when it ends, within the run."""
    t0, t1 = window.start_h, window.end_h
    here, here_status = recovery(levels.local_signals(window), levels.dispatched, t0, t1, run_end_h)
    system, system_status = recovery(levels.system_signals(), levels.dispatched, t0, t1, run_end_h)
    until = t1 + here if here == here else run_end_h
    return _Recovery(here, system, min(max(until, t1), run_end_h), here_status, system_status)


def _trains_hit(hits: Iterable[tuple[str, str]]) -> dict[str, set[str]]:
    """Train ids held or rerouted by each event, from ``(train_id, event_id)`` pairs."""
    by_event: dict[str, set[str]] = defaultdict(set)
    for train_id, event_id in hits:
        by_event[event_id].add(train_id)
    return by_event


def _untouched(
    windows: list[DisruptionWindow],
    affected: list[np.ndarray],
    shipments: pd.DataFrame,
    warmup_h: float,
) -> np.ndarray:
    """Boxes after the warm-up that no scheduled or weather event touched (breakdowns
    are normal operations): the reference for extra door-to-door time."""
    touched = np.zeros(len(shipments), dtype=bool)
    for window, rows in zip(windows, affected, strict=True):
        if window.kind != "breakdown":
            touched[rows] = True
    return ~touched & (shipments["arrived_h"].to_numpy(dtype=float) >= warmup_h)


def _backlog_before(backlog: Step, start_h: float) -> float:
    """Mean hub backlog (t) over the reference days before ``start_h`` (NaN on day 0)."""
    ref_t0 = max(start_h - 24.0 * REFERENCE_DAYS, 0.0)
    if start_h <= ref_t0:
        return NAN
    return float(backlog.daily_means(np.array([ref_t0, start_h]))[0])


def _event_row(
    window: DisruptionWindow,
    recovery: _Recovery,
    hit: np.ndarray,
    levels: _RunLevels,
    references: _References,
) -> tuple[object, ...]:
    """One row of :data:`COLUMNS` (and :data:`COST_COLUMNS` where the references have
    costs per FEU) for ``window``."""
    until = recovery.until
    t0 = window.start_h
    local_queues = levels.local_queues(window).values()
    seen, means = references.of(t0, until)
    delivered, extra_d2d = references.extra_d2d(hit, means)
    return (
        window.event_id,
        window.kind,
        window.target,
        window.effect,
        t0,
        window.end_h,
        window.end_h - t0,
        levels.stranded.max(t0, until),
        levels.stranded_background.max(t0, until),
        max((q.max(t0, until) for q in local_queues), default=NAN),
        _backlog_before(levels.backlog, t0),
        levels.backlog.max(t0, until),
        recovery.here,
        recovery.system,
        recovery.here_status,
        recovery.system_status,
        len(hit),
        delivered,
        extra_d2d,
    ) + (() if references.per_feu is None else references.extra_costs(hit, seen, means))


def disruptions_frame(
    result: RunResult,
    shipments: pd.DataFrame,
    trains: pd.DataFrame,
    events: pd.DataFrame,
    costs: pd.DataFrame | None = None,
    per_feu: pd.DataFrame | None = None,
) -> pd.DataFrame | None:
    """One row per realised disruption event (None when the scenario has none); with
    ``costs`` (the cost parts of :func:`~silkroute_sim.analysis.costs.cost_parts`) or
    their ``per_feu`` (:func:`cost_per_feu`), the extra cost and CO2e too."""
    log = result.disruptions
    if log is None:
        return None
    windows = [w for w in log.windows if w.start_h < result.end_h]
    levels = _RunLevels.of(result, shipments)
    recoveries = [_recovery(levels, window, result.end_h) for window in windows]
    touched = _Affected(shipments, trains, events, _trains_hit(log.hits))
    affected = [
        touched.rows(window, rec.until, levels.members[window.event_id])
        for window, rec in zip(windows, recoveries, strict=True)
    ]
    clean = _untouched(windows, affected, shipments, result.warmup_h)
    per_feu = cost_per_feu(costs) if costs is not None else per_feu
    references = _References(shipments, clean, per_feu)
    usual = usual_routes(result)  # breakdowns are normal operations: no holds counted
    rows = [
        _event_row(window, rec, hit, levels, references)
        + hold_columns(result, window, rec.until, events, usual, window.kind)
        for window, rec, hit in zip(windows, recoveries, affected, strict=True)
    ]
    columns = COLUMNS if per_feu is None else COLUMNS + COST_COLUMNS
    return pd.DataFrame(rows, columns=columns + HOLD_COLUMNS)


def summary_rows(result: RunResult, frame: pd.DataFrame) -> list[tuple[str, float, str]]:
    """KPI rows for ``summary.csv``: overall, per scheduled event and per random process."""
    w0, w1 = result.warmup_h, result.end_h
    mons = result.records.monitors
    rows: list[tuple[str, float, str]] = [
        ("stranded_trains_max", mons["stranded_trains"].max(w0, w1), "trains"),
        ("stranded_trains_mean", mons["stranded_trains"].mean(w0, w1), "trains"),
        (
            "stranded_background_trains_max",
            mons["stranded_background_trains"].max(w0, w1),
            "trains",
        ),
    ]
    cfg = result.config.disruptions
    by_id = frame.set_index("id")
    for event in cfg.scheduled:
        eid = event.id or ""
        if eid not in by_id.index:
            continue
        row = by_id.loc[eid]
        for column, unit in (
            ("recovery_h", "h"),
            ("system_recovery_h", "h"),
            ("stranded_trains_max", "trains"),
            ("backlog_t_max", "t"),
            ("affected_shipments", "boxes"),
            ("extra_door_to_door_d_mean", "d"),
            ("extra_cost_usd_per_feu_mean", "USD/FEU"),
            # where the extra cost comes from, so replications give each part its CI
            ("extra_reroute_usd_per_feu_mean", "USD/FEU"),
            ("extra_holding_usd_per_feu_mean", "USD/FEU"),
            ("extra_inventory_usd_per_feu_mean", "USD/FEU"),
            ("extra_cost_share", "fraction"),
            ("extra_cost_usd", "USD"),
            ("extra_co2_kg_per_feu_mean", "kg/FEU"),
            ("extra_co2_kg", "kg"),
        ):
            if column in row.index:
                rows.append((f"{column}:{eid}", float(row[column]), unit))
        rows += hold_summary_rows(result, eid, row)
    random_groups = [(w.id or "", "weather") for w in cfg.random.weather]
    random_groups += [(b.id or "", "breakdown") for b in cfg.random.breakdowns]
    for gid, kind in random_groups:
        sel = frame[frame["id"].str.startswith(f"{gid}#") & (frame["kind"] == kind)]
        in_window = sel[(sel["start_h"] < w1) & (sel["end_h"] > w0)]
        hours = (in_window["end_h"].clip(upper=w1) - in_window["start_h"].clip(lower=w0)).sum()
        rows.append((f"{kind}_events:{gid}", float(len(in_window)), "events"))
        rows.append((f"{kind}_hours:{gid}", float(hours), "h"))
        if kind == "weather":
            rows.append((f"recovery_h_max:{gid}", _max(in_window["recovery_h"]), "h"))
            rows.append(
                (f"stranded_trains_max:{gid}", _max(in_window["stranded_trains_max"]), "trains")
            )
    if "cranes_down" in mons:
        rows.append(("cranes_down_mean", mons["cranes_down"].mean(w0, w1), "cranes"))
    return rows


def _max(values: pd.Series) -> float:
    v = values.dropna()
    return float(v.max()) if len(v) else NAN


def windows_to_shade(result: RunResult) -> list[tuple[float, float, str]]:
    """(start_h, end_h, label) of the scheduled and weather windows, for plots."""
    log = result.disruptions
    if log is None:
        return []
    return [
        (w.start_h, min(w.end_h, result.end_h), w.event_id)
        for w in log.windows
        if w.kind != "breakdown" and w.start_h < result.end_h
    ]
