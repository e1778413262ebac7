"""Pure functions from a run's records to tidy DataFrames and KPIs.

Every KPI is measured over the observation window ``[warm-up, end]``; warm-up days
are cut first. A KPI with nothing to measure (no deliveries, say) is NaN and is
written as an empty cell, never as a silent 0.
"""

from __future__ import annotations

import math
from array import array
from collections.abc import Sequence

import numpy as np
import pandas as pd

from silkroute_sim.analysis.by_class import (
    CLASS_SHIPMENT_COLUMNS,
    class_daily_columns,
    class_summary_rows,
)
from silkroute_sim.analysis.costs import (
    COST_SHIPMENT_COLUMNS,
    SUMMARY_PARTS,
    charged_as,
    cost_parts,
    cost_summary_rows,
    train_cost_columns,
)
from silkroute_sim.analysis.disruptions import (
    PER_FEU_PARTS,
    cost_per_feu,
    disruptions_frame,
    summary_rows,
)
from silkroute_sim.analysis.holding import daily_held
from silkroute_sim.analysis.legs import LEGS, leg_columns
from silkroute_sim.analysis.modes import modes_table
from silkroute_sim.engine.monitors import step_integrals
from silkroute_sim.model.entities import TRAIN_TIME_FIELDS
from silkroute_sim.model.network import route_km
from silkroute_sim.model.shipment_log import TIME_FIELDS
from silkroute_sim.model.simulate import RunResult

NAN = math.nan

#: shipment attributes that go to shipments.csv as they are (floats)
SHIPMENT_FLOAT_ATTRS = ("teu", *TIME_FIELDS)
SHIPMENT_COLUMNS = [
    "shipment_id",
    "cargo_class",
    "destination",
    "service",
    "tonnes",
    *SHIPMENT_FLOAT_ATTRS,
    "train_id",
    "hub_dwell_h",
    "door_to_door_d",
    "customs_h",
    "terminal_dwell_h",
    *CLASS_SHIPMENT_COLUMNS,
    *COST_SHIPMENT_COLUMNS,  # added by Tables, from the run's cost parts
]
#: shipments.csv columns only that table shows (left out where it is not written)
NOT_IN_SUMMARY = (
    "shipment_id",
    "service",
    "yard_in_h",
    "ready_h",
    "loaded_h",
    "customs_h",
    "terminal_dwell_h",
    "unit",
    "origin",
)
TRAIN_COLUMNS = [
    "train_id",
    "service",
    "direction",
    "origin",
    "destination",
    "route",
    "km",
    "boxes",
    "teu",
    "tonnes",
    "load_factor",
    *TRAIN_TIME_FIELDS,
    "corridor_wait_h",
    "transit_d",
]  # then COST_TRAIN_COLUMNS, added by Tables from the run's cost parts
NODE_EVENT_COLUMNS = [
    "train_id",
    "node",
    "kind",
    "arrived_h",
    "start_h",
    "end_h",
    "wait_h",
    "background",
    "boxes",
    "censored",
]


#: from this many shipments (about three and a half simulated years of the baseline) a
#: run's long text columns stay Python strings (``object``): pandas' ``str`` type copies
#: them into Arrow buffers, about 100 MB more at ten years, from a memory pool that keeps
#: what it frees. Shorter runs take the Arrow columns, which compare faster (the tables
#: of a year: about 0.1 s less). The numbers and every file written are the same either
#: way; files get pandas' default text type (outputs/tablefiles.py).
OBJECT_TEXT_ROWS = 250_000


def _long_run(result: RunResult) -> bool:
    """Whether ``result``'s long text columns stay Python strings (:data:`OBJECT_TEXT_ROWS`)."""
    return len(result.records.shipments) >= OBJECT_TEXT_ROWS


def _kept_text(values: np.ndarray, keep_objects: bool) -> np.ndarray | pd.Series:
    """An ``object`` array as an ``object`` column where ``keep_objects`` (no copy); any
    other array, or with ``keep_objects`` false, as it is (pandas makes text ``str``)."""
    if keep_objects and values.dtype == object:
        return pd.Series(values, dtype=object, copy=False)
    return values


def _text(values: Sequence[object], keep_objects: bool) -> np.ndarray | pd.Series:
    out = np.empty(len(values), dtype=object)
    out[:] = values
    return _kept_text(out, keep_objects)


def shipments_frame(result: RunResult, records: str = "full", take: bool = False) -> pd.DataFrame:
    """One row per shipment, from the run's shipment log (a 10-year run has ~700,000),
    one array per column, taken by the frame as it is (no copy into a block of
    columns). ``records="summary"`` (a run whose shipments table is not written) leaves
    out the columns of :data:`NOT_IN_SUMMARY`, which no KPI, daily column or figure
    reads: they are not read at all. ``take``: the log hands each column over as it is
    read (:meth:`~silkroute_sim.model.column_log.FinishedLog.take`), for a caller that
    frees the log next."""
    ships = result.records.shipments
    long_run = _long_run(result)
    read = ships.take if take else ships.column

    def wanted(name: str) -> bool:
        return records != "summary" or name not in NOT_IN_SUMMARY

    columns: dict[str, np.ndarray] = {}
    for name in ("shipment_id", "cargo_class", "destination", "service"):
        if wanted(name):
            columns[name] = read(name)
    columns["tonnes"] = read("kg") / 1000
    for attr in SHIPMENT_FLOAT_ATTRS:
        if wanted(attr):
            columns[attr] = read(attr)
    delivered = columns["delivered_h"]
    delivered[delivered > result.end_h] = NAN  # released after the horizon: not yet
    columns["train_id"] = read("train_id")
    columns["hub_dwell_h"] = columns["departed_h"] - columns["arrived_h"]
    columns["door_to_door_d"] = (delivered - columns["arrived_h"]) / 24
    # the unit's own customs hold and terminal dwell (drawn on arrival), once it has had them
    if wanted("customs_h"):
        yard_in = columns["yard_in_h"] if "yard_in_h" in columns else read("yard_in_h")
        columns["customs_h"] = np.where(np.isnan(yard_in), NAN, read("customs_h"))
    if wanted("terminal_dwell_h"):
        dwell = read("terminal_dwell_h")
        columns["terminal_dwell_h"] = np.where(np.isnan(delivered), NAN, dwell)
    df = pd.DataFrame({n: _kept_text(v, long_run) for n, v in columns.items()}, copy=False)
    del columns, delivered
    for column in CLASS_SHIPMENT_COLUMNS:
        if wanted(column):
            df[column] = _kept_text(read(column), long_run)
    return df


def trains_frame(result: RunResult) -> pd.DataFrame:
    """One row per service train: the hub's westbound trains (``direction`` ``west``),
    then the eastbound trains of the inbound streams with an origin (``east``: departed
    from the origin, arrived at the hub; opened, called, track and unloaded as in
    ``hub.inbound``; no cargo tonnes of ours, no load factor)."""
    rows = []
    east = [t for t in result.records.inbound_trains if t.direction == "east"]
    for t in (*result.records.trains, *east):
        arrived = t.arrived_h if t.arrived_h <= result.end_h else NAN
        rows.append(
            (
                t.train_id,
                t.service,
                t.direction,
                t.origin,
                t.destination,
                ">".join(t.route),
                route_km(result.graph, t.route),
                t.box_count,
                t.teu,
                t.kg / 1000 if t.direction == "west" else NAN,
                t.load_factor,
                t.opened_h,
                t.called_h,
                t.loading_start_h,
                t.loaded_h,
                t.formed_h,
                t.scheduled_h,
                t.departed_h,
                arrived,
                t.wait_h,
                (arrived - t.departed_h) / 24,
            )
        )
    return pd.DataFrame(rows, columns=TRAIN_COLUMNS)


def node_events_frame(result: RunResult) -> pd.DataFrame:
    """One row per train and stage at a node; then, flagged ``censored``, the trains still
    at a node when the run ended (queued, processing or held for a closure): their
    ``end_h`` is empty, ``start_h`` too if they had not started, and ``wait_h`` is the
    wait until the end of the run (a lower bound)."""
    log = result.records.node_events  # stored by column already
    still = list(result.records.open_visits.values())
    long_run = _long_run(result)

    def floats(column: array[float], more: int) -> np.ndarray:
        return np.concatenate(
            [np.array(column, dtype=float), [float(v[more]) for v in still]]  # type: ignore[arg-type]
        )

    arrived = floats(log.arrived_h, 3)
    start = floats(log.start_h, 4)
    end = np.concatenate([np.array(log.end_h, dtype=float), np.full(len(still), NAN)])
    waited_to = np.where(np.isnan(start), result.end_h, start)
    return pd.DataFrame(
        {
            "train_id": _text(list(log.train_id) + [str(v[0]) for v in still], long_run),
            "node": _text(list(log.node) + [str(v[1]) for v in still], long_run),
            "kind": _text(list(log.kind) + [str(v[2]) for v in still], long_run),
            "arrived_h": arrived,
            "start_h": start,
            "end_h": end,
            "wait_h": waited_to - arrived,
            "background": np.concatenate(
                [np.array(log.background, dtype=bool), [bool(v[5]) for v in still]]
            ).astype(bool),
            "boxes": np.concatenate(
                [np.array(log.boxes, dtype=np.int64), [int(v[6]) for v in still]]  # type: ignore[call-overload]
            ).astype(np.int64),
            "censored": np.arange(len(arrived)) >= len(log),
        },
        columns=NODE_EVENT_COLUMNS,
    )


def processing_nodes(result: RunResult) -> list[str]:
    return [
        name for name in result.config.corridor.nodes if f"queue:{name}" in result.records.monitors
    ]


def daily_frame(result: RunResult, shipments: pd.DataFrame, trains: pd.DataFrame) -> pd.DataFrame:
    """One row per simulated day (the warm-up days included, flagged)."""
    days = math.ceil(result.end_h / 24 - 1e-9)
    edges = np.arange(days + 1, dtype=float) * 24.0
    edges[-1] = min(edges[-1], result.end_h)
    widths = np.diff(edges)

    def per_day(times: pd.Series, weights: pd.Series | None = None) -> np.ndarray:
        t = times.to_numpy(dtype=float)
        ok = np.isfinite(t) & (t < result.end_h)
        idx = (t[ok] // 24).astype(int)
        w = None if weights is None else weights.to_numpy(dtype=float)[ok]
        return np.bincount(idx, weights=w, minlength=days)[:days]

    out = pd.DataFrame({"day": np.arange(days)})
    out["warmup"] = edges[:-1] < result.warmup_h
    out["tonnes_arrived"] = per_day(shipments["arrived_h"], shipments["tonnes"])
    out["tonnes_dispatched"] = per_day(shipments["departed_h"], shipments["tonnes"])
    out["tonnes_delivered"] = per_day(shipments["terminal_arrived_h"], shipments["tonnes"])
    out["trains_dispatched"] = per_day(trains["departed_h"]).astype(int)
    out["backlog_t"] = np.cumsum(out["tonnes_arrived"] - out["tonnes_dispatched"])
    mons = result.records.monitors
    for name, column, scale in (
        ("yard_teu", "yard_teu_mean", 1.0),
        ("gate_queue", "gate_queue_mean", 1.0),
        ("cranes_busy", "crane_utilisation", 1.0 / result.cranes),
        ("loading_tracks_busy", "loading_tracks_busy_mean", 1.0),
    ):
        times, levels = mons[name].arrays()
        out[column] = step_integrals(times, levels, edges) / widths * scale
    out["yard_teu_max"] = _daily_max(*mons["yard_teu"].arrays(), edges)
    more: dict[str, np.ndarray] = {}  # added at once: a column at a time fragments the frame
    for node in processing_nodes(result):
        times, levels = mons[f"queue:{node}"].arrays()
        more[f"border_queue_mean:{node}"] = step_integrals(times, levels, edges) / widths
    # by cargo class, compound, inbound (class_metrics); trains held at the hub and per
    # country (closures, holding)
    more.update(class_daily_columns(result, shipments, trains, edges))
    more.update(daily_held(result, edges))
    return pd.concat([out, pd.DataFrame(more, index=out.index)], axis=1)


def _daily_max(times: np.ndarray, levels: np.ndarray, edges: np.ndarray) -> np.ndarray:
    out = np.empty(len(edges) - 1)
    starts = np.searchsorted(times, edges[:-1], side="right") - 1
    stops = np.searchsorted(times, edges[1:], side="left")
    for i, (a, b) in enumerate(zip(starts, stops, strict=False)):
        a = max(int(a), 0)
        out[i] = levels[a : max(int(b), a + 1)].max()
    return out


def train_running_h(result: RunResult, trains: pd.DataFrame, events: pd.DataFrame) -> pd.DataFrame:
    """Running time of each hub service train to each of its stops (``destination``,
    ``running_h``): from departure at the hub to arrival at the stop, every node on the
    way included, for the arrivals after the warm-up (a stop that is not the train's
    terminal counts at the train's arrival there)."""
    at_stop = events.loc[
        (events["kind"] == "terminal") & ~events["background"] & ~events["censored"],
        ["train_id", "node", "arrived_h"],
    ]
    at_stop = at_stop[
        (at_stop["arrived_h"] >= result.warmup_h) & (at_stop["arrived_h"] < result.end_h)
    ]
    hub = trains.loc[trains["origin"] == result.config.hub.node, ["train_id", "departed_h"]]
    joined = at_stop.merge(hub, on="train_id", how="inner")
    return pd.DataFrame(
        {
            "destination": joined["node"].to_numpy(),
            "running_h": (joined["arrived_h"] - joined["departed_h"]).to_numpy(),
        }
    )


def _q(values: pd.Series, q: float) -> float:
    v = values.dropna()
    return float(v.quantile(q)) if len(v) else NAN


def running_time_rows(
    result: RunResult, trains: pd.DataFrame, events: pd.DataFrame
) -> list[tuple[str, float, str]]:
    """``train_running_h_median:<stop>`` and ``train_running_h_p90:<stop>`` for each stop
    of the services (:func:`train_running_h`)."""
    running = train_running_h(result, trains, events)
    rows = []
    for dest in result.config.services_destinations():
        at = running[running["destination"] == dest]["running_h"]
        rows.append((f"train_running_h_median:{dest}", _q(at, 0.5), "h"))
        rows.append((f"train_running_h_p90:{dest}", _q(at, 0.9), "h"))
    return rows


def _mean(values: pd.Series) -> float:
    v = values.dropna()
    return float(v.mean()) if len(v) else NAN


def _border_rows(
    result: RunResult, trains: pd.DataFrame, events: pd.DataFrame, window: tuple[float, float]
) -> list[tuple[str, float, str]]:
    """Each border crossing's waits, queue and trains a day (all trains, and the hub's own
    westbound trains: ``trains`` holds only those), counted at the first stage of each
    train's visit that arrived in the window."""
    w0, w1 = window
    days = (w1 - w0) / 24
    mons = result.records.monitors
    rows: list[tuple[str, float, str]] = []
    not_a_train = ["held", "sailing", "sailing_cancelled", "sailing_closed"]  # holds; voyages
    arrived = events["arrived_h"]
    queued = (arrived >= w0) & (arrived < w1) & ~events["kind"].isin(not_a_train)
    queued &= ~events["censored"]
    ev = events.loc[queued, ["train_id", "node", "wait_h", "background"]]
    first_stage = ev.drop_duplicates(["train_id", "node"], keep="first")
    urumqi = first_stage["train_id"].isin(trains["train_id"])  # not background, not eastbound
    border_nodes = [
        n for n in processing_nodes(result) if result.config.corridor.nodes[n].kind == "border"
    ]
    # each node by number (one pass over the texts: a train's first stages are few, so
    # this costs less than a comparison of every row per border), each border's rows
    # picked by it
    codes, names = pd.factorize(first_stage["node"])
    number = {name: k for k, name in enumerate(names)}
    waits = first_stage["wait_h"].to_numpy(dtype=float)
    ours_too = urumqi.to_numpy(dtype=bool)
    for node in border_nodes:
        here = codes == number.get(node, -1)
        at = waits[here]
        ours = waits[here & ours_too]
        rows.append((f"border_wait_h_mean:{node}", _mean(pd.Series(at)), "h"))
        rows.append((f"urumqi_border_wait_h_mean:{node}", _mean(pd.Series(ours)), "h"))
        rows.append((f"border_queue_mean:{node}", mons[f"queue:{node}"].mean(w0, w1), "trains"))
        rows.append((f"trains_per_day:{node}", len(at) / days, "trains/day"))
        rows.append((f"urumqi_trains_per_day:{node}", len(ours) / days, "trains/day"))
    return rows


def summary_frame(
    result: RunResult,
    shipments: pd.DataFrame,
    trains: pd.DataFrame,
    events: pd.DataFrame,
) -> pd.DataFrame:
    """KPIs as ``metric, value, unit`` rows."""
    w0, w1 = result.warmup_h, result.end_h
    days = (w1 - w0) / 24
    rows: list[tuple[str, float, str]] = []

    def add(metric: str, value: float, unit: str) -> None:
        rows.append((metric, value, unit))

    def in_window(col: pd.Series) -> pd.Series:
        return (col >= w0) & (col < w1)

    # one column at a time under a mask: a 10-year shipments table is large
    tonnes = shipments["tonnes"]
    departed = in_window(shipments["departed_h"]).to_numpy()
    dwell = shipments["hub_dwell_h"][departed]
    released = in_window(shipments["delivered_h"]).to_numpy()
    door_to_door = shipments["door_to_door_d"][released]
    trains_w = trains[in_window(trains["departed_h"])]
    mons = result.records.monitors

    add("demand_t_per_day", tonnes[in_window(shipments["arrived_h"])].sum() / days, "t/day")
    add("dispatched_t_per_day", tonnes[departed].sum() / days, "t/day")
    delivered_rail = in_window(shipments["terminal_arrived_h"])
    add("delivered_t_per_day", tonnes[delivered_rail].sum() / days, "t/day")
    add("trains_dispatched_per_day", len(trains_w) / days, "trains/day")
    add("train_load_factor_mean", _mean(trains_w["load_factor"]), "fraction")
    add("train_tonnes_mean", _mean(trains_w["tonnes"]), "t")
    add("hub_dwell_h_mean", _mean(dwell), "h")
    add("hub_dwell_h_p95", _q(dwell, 0.95), "h")
    add("yard_teu_mean", mons["yard_teu"].mean(w0, w1), "TEU")
    add("yard_teu_max", mons["yard_teu"].max(w0, w1), "TEU")
    add("gate_queue_mean", mons["gate_queue"].mean(w0, w1), "trucks")
    add("crane_utilisation", mons["cranes_busy"].mean(w0, w1) / result.cranes, "fraction")
    add("loading_tracks_busy_mean", mons["loading_tracks_busy"].mean(w0, w1), "tracks")
    add("door_to_door_d_mean", _mean(door_to_door), "d")
    add("door_to_door_d_median", _q(door_to_door, 0.5), "d")
    add("door_to_door_d_p90", _q(door_to_door, 0.9), "d")
    del departed, dwell, delivered_rail  # long runs: keep few copies alive at once
    stops = result.config.services_destinations()
    legs = leg_columns(shipments, trains, events, rows=released)
    destination = next(legs)[1].to_numpy()
    at_stop = {dest: destination == dest for dest in stops}
    del destination
    leg_means: dict[tuple[str, str], float] = {}
    for leg, values in legs:  # each leg column reduced, then freed, before the next is made
        for dest, here in at_stop.items():
            leg_means[(leg, dest)] = _mean(values[here])
        del values
    for dest in stops:  # the columns read, not the rows
        sel = door_to_door[at_stop[dest]]
        add(f"door_to_door_d_median:{dest}", _q(sel, 0.5), "d")
        add(f"door_to_door_d_p90:{dest}", _q(sel, 0.9), "d")
        for leg in LEGS:
            add(f"{leg}_d_mean:{dest}", leg_means[(leg, dest)], "d")
    del released, door_to_door, at_stop, legs
    rows += _border_rows(result, trains, events, (w0, w1))
    add("backlog_t_end", (result.ledger.arrived_kg - result.ledger.departed_kg) / 1000, "t")
    add("conservation_error_t", result.ledger.conservation_error_t, "t")
    rows += class_summary_rows(result, shipments, trains, events)  # by cargo class (class_metrics)
    return pd.DataFrame(rows, columns=["metric", "value", "unit"])


def kpis(summary: pd.DataFrame) -> dict[str, float]:
    return dict(zip(summary["metric"], summary["value"], strict=False))


class Tables:
    """All tables of one run, built once.

    ``records="summary"`` (for a run folder that does not write ``shipments.csv``)
    leaves out the shipment columns only that table shows. The cost parts of each
    shipment (:func:`~silkroute_sim.analysis.costs.cost_parts`) are summed into the
    shipments' and trains' cost columns, the summary's cost rows and the disruptions'
    extra costs as the tables are built, then released (a 10-year run holds about 14 MB
    of them per simulated year); :attr:`cost_parts` builds them again when asked.

    ``release=True`` (for a caller that keeps no result: ``silkroute run``, a sweep's
    runs) frees the run's shipment and node event logs once the tables hold what they
    read from them: a 10-year run's logs take about 130 MB, which the KPIs' working
    copies would otherwise sit on top of. The result's other records (monitors, trains)
    stay; :attr:`cost_parts` can no longer be built."""

    def __init__(self, result: RunResult, records: str = "full", release: bool = False) -> None:
        self._result = result
        self._cost_parts: pd.DataFrame | None = None
        self.node_events = node_events_frame(result)
        if release:  # the tables read nothing more of the node events log
            result.records.release("node_events")
        charged = charged_as(result)  # what cost_parts reads of the shipment log
        #: ``records="summary"``: without the shipments' :data:`NOT_IN_SUMMARY` columns
        self.shipments = shipments_frame(result, records, take=release)
        if release:  # nor of the shipment log
            result.records.release("shipments")
        self.trains = trains_frame(result)
        needed = {*COST_SHIPMENT_COLUMNS, *SUMMARY_PARTS}
        if result.disruptions is not None:  # the disruptions' extra costs
            needed |= set(PER_FEU_PARTS)
        parts = cost_parts(
            result, self.shipments, self.trains, self.node_events, keep=needed, charged=charged
        )
        del charged
        for column in COST_SHIPMENT_COLUMNS:
            self.shipments[column] = parts[column]
        ids = self.shipments["train_id"]
        for column, values in train_cost_columns(self.trains, parts, ids).items():
            self.trains[column] = values
        per_feu = cost_per_feu(parts) if result.disruptions is not None else None
        for column in [c for c in parts.columns if c not in SUMMARY_PARTS]:
            del parts[column]  # each part is its own array: freed here
        cost_rows = cost_summary_rows(result, self.shipments, parts)
        del parts
        # the hub's KPIs count westbound trains; eastbound ones have their own (directions)
        west = self.trains
        if (west["direction"] == "east").any():
            west = west[west["direction"] == "west"].reset_index(drop=True)
        self.daily = daily_frame(result, self.shipments, west)
        self.summary = summary_frame(result, self.shipments, west, self.node_events)
        running = pd.DataFrame(
            running_time_rows(result, west, self.node_events),
            columns=self.summary.columns,
        )
        costs = pd.DataFrame(cost_rows, columns=self.summary.columns)
        self.summary = pd.concat([self.summary, running, costs], ignore_index=True)
        #: one row per disruption event; None when the scenario has no disruptions
        self.disruptions = disruptions_frame(
            result, self.shipments, west, self.node_events, per_feu=per_feu
        )
        del per_feu
        if self.disruptions is not None:
            rows = pd.DataFrame(
                summary_rows(result, self.disruptions), columns=self.summary.columns
            )
            self.summary = pd.concat([self.summary, rows], ignore_index=True)
        #: rail against sea and air per destination and class (``modes.csv``); None when
        #: the config compares no alternative
        self.modes = modes_table(result, self.shipments)

    @property
    def cost_parts(self) -> pd.DataFrame:
        """Every cost and CO2e part of each shipment (analysis/costs.py), built on first
        use (the tables themselves do not keep them)."""
        if self._cost_parts is None:
            self._cost_parts = cost_parts(
                self._result, self.shipments, self.trains, self.node_events
            )
        return self._cost_parts
