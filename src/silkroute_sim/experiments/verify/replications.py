"""One replication of each kind of verify run, reduced to a flat ``{name: number}`` dict:
a queue case measured from the monitors and the records, the deterministic corridor's
deviations from its exact timeline, and a baseline run's figures for the published
targets and its Little's-law checks. Plain data in and out, so they run in spawned
worker processes."""

from __future__ import annotations

import math
from collections.abc import Sequence
from typing import TYPE_CHECKING, Any

import numpy as np

from silkroute_sim.analysis.directions import eastbound_train_ids
from silkroute_sim.analysis.modes import modes_frame
from silkroute_sim.analysis.tables import Tables, kpis, node_events_frame, processing_nodes
from silkroute_sim.config.loader import load_config, validate_config
from silkroute_sim.experiments.verify.cases import (
    QueueCase,
    deterministic_expectations,
    deterministic_raw,
    queue_raw,
)
from silkroute_sim.experiments.verify.estimators import (
    border_little,
    combined_level,
    level_mean,
    queue_little,
    yard_little,
)
from silkroute_sim.model.simulate import RunResult, simulate

if TYPE_CHECKING:
    import pandas as pd


#: the columns of modes.csv a published target may read, as
#: ``modes:<mode>:<column>:<destination>:<cargo class>``
MODES_TARGET_COLUMNS = (
    "door_to_door_d_median",
    "freight_cost_usd_per_feu",
    "logistics_cost_usd_per_feu",
    "co2_kg_per_feu",
    "co2_g_per_tkm",
    "breakeven_usd_per_feu_day",
    "breakeven_value_usd_per_kg",
)


def modes_metrics(modes: pd.DataFrame) -> dict[str, float]:
    """The rows of a run's modal comparison (``modes.csv``) as flat metrics."""
    out: dict[str, float] = {}
    for row in modes.to_dict("records"):
        where = f"{row['destination']}:{row['cargo_class']}"
        for column in MODES_TARGET_COLUMNS:
            out[f"modes:{row['mode']}:{column}:{where}"] = float(row[column])
    return out


def _simulate_raw(raw: dict[str, Any], seed: int) -> RunResult:

    return simulate(validate_config(raw, f"<verify:{raw['name']}>"), seed=seed)


def queue_replication(
    case: QueueCase, seed: int, raw: dict[str, Any] | None = None
) -> dict[str, float]:
    """One replication of a queue case (its config ``raw``, default :func:`queue_raw`):
    the queue measured from the monitors and from the records, and sample-path Little."""
    result = _simulate_raw(queue_raw(case) if raw is None else raw, seed)
    mons = result.records.monitors
    if case.station == "cranes":
        ships = result.records.shipments
        arrived, done = ships.column("arrived_h"), ships.column("yard_in_h")
        times, levels = combined_level([mons["crane_queue"], mons["cranes_busy"]])
        sample = queue_little(times, levels, arrived, done, result.warmup_h, result.end_h)
        if sample is None:
            return {"failed": 1.0}
        q_times, q_levels = mons["crane_queue"].arrays()
        lq = level_mean(q_times, q_levels, sample.start_h, sample.end_h)
        b_times, b_levels = mons["cranes_busy"].arrays()
        busy = level_mean(b_times, b_levels, sample.start_h, sample.end_h)
        yard = yard_little(result)
        return {
            "lq": lq,
            "w_records": sample.mean_time,
            "utilisation": busy / case.c,
            "customers": float(sample.arrivals),
            "little_L": sample.level,
            "little_lamW": sample.lam_w,
            "little_rel_error": sample.rel_error,
            "yard_L": yard.level,
            "yard_upper": yard.upper,
            "yard_rel_error": abs(yard.level - yard.upper) / max(yard.upper, 1e-12),
        }
    events = node_events_frame(result)
    events = events[events["background"]]
    sample = border_little(result, events, "Border", guard_h=30.0 * case.mean_service_h)
    if sample is None:
        return {"failed": 1.0}
    at = events[(events["arrived_h"] >= sample.start_h) & (events["arrived_h"] < sample.end_h)]
    return {
        "lq": sample.level,
        "w_records": sample.mean_time,
        "p_wait": float((at["wait_h"] > 0).mean()),
        "customers": float(sample.arrivals),
        "little_L": sample.level,
        "little_lamW": sample.lam_w,
        "little_rel_error": sample.rel_error,
    }


def deterministic_replication(seed: int, raw: dict[str, Any] | None = None) -> dict[str, float]:
    """Deviations of the deterministic corridor's timeline (``raw``, default
    :func:`deterministic_raw`) from the exact values of :func:`deterministic_expectations`."""
    result = _simulate_raw(deterministic_raw() if raw is None else raw, seed)
    exp = deterministic_expectations()
    trains = [t for t in result.records.trains if t.arrived_h == t.arrived_h]
    ships = [s for s in result.records.shipments if s.departed_h == s.departed_h]
    events = result.records.node_events

    def worst(values: list[float], expected: float) -> float:
        return max((abs(v - expected) for v in values), default=math.nan)

    gauge = [e.end_h - e.start_h for e in events if e.kind == "gauge_change"]
    customs = [e.end_h - e.start_h for e in events if e.kind == "customs"]
    waits = [e.start_h - e.arrived_h for e in events if e.kind in ("customs", "gauge_change")]
    dwell = [s.delivered_h - s.terminal_arrived_h for s in ships if s.delivered_h == s.delivered_h]
    return {
        "trains": float(len(trains)),
        "transit_mean_h": float(np.mean([t.arrived_h - t.departed_h for t in trains])),
        "transit_dev": worst([t.arrived_h - t.departed_h for t in trains], exp["transit_h"]),
        "gate_to_yard_dev": worst(
            [s.yard_in_h - s.arrived_h for s in ships], exp["gate_to_yard_h"]
        ),
        "clearance_dev": worst([s.ready_h - s.yard_in_h for s in ships], exp["clearance_h"]),
        "call_to_departure_dev": worst(
            [t.departed_h - t.called_h for t in trains], exp["call_to_departure_h"]
        ),
        "customs_dev": worst(customs, exp["customs_h"]),
        "gauge_change_dev": worst(gauge, exp["gauge_change_h"]),
        "border_wait_dev": worst(waits, 0.0),
        "dwell_dev": worst(dwell, exp["dwell_h"]),
        "conservation_error_t": abs(result.ledger.conservation_error_t),
    }


def baseline_replication(
    days: float, warmup_days: float, seed: int, overrides: Sequence[str] = ()
) -> dict[str, float]:
    """One baseline run (changed by ``--set``-style ``overrides``, for tests) reduced to
    the numbers the validation targets and the baseline Little checks need (everything
    measured after the warm-up), the modal comparison's rows included."""
    cfg = load_config(None, overrides, days=days, warmup_days=warmup_days)
    result = simulate(cfg, seed=seed)
    tables = Tables(result)
    out: dict[str, float] = {
        k: float(v) for k, v in kpis(tables.summary).items() if isinstance(v, int | float)
    }
    w0, w1 = result.warmup_h, result.end_h
    ships = tables.shipments
    trains = tables.trains[tables.trains["direction"] == "west"]  # the hub's own trains
    trains_w = trains[(trains["departed_h"] >= w0) & (trains["departed_h"] < w1)]
    out["boxes_per_train"] = float(trains_w["boxes"].mean())
    out["hub_dwell_d_mean"] = out.get("hub_dwell_h_mean", math.nan) / 24.0
    arrived_w = ships[(ships["terminal_arrived_h"] >= w0) & (ships["terminal_arrived_h"] < w1)]
    for dest in cfg.services_destinations():
        sel = arrived_w[arrived_w["destination"] == dest]
        transit = (sel["terminal_arrived_h"] - sel["departed_h"]) / 24.0
        out[f"transit_d:{dest}"] = float(transit.mean()) if len(sel) else math.nan

    ev = tables.node_events
    ev_w = ev[(ev["arrived_h"] >= w0) & (ev["arrived_h"] < w1)]
    # processing and time at a node: the published figures are westbound; a gauge change
    # happens at a node in one direction only, so it counts every train
    west_ev = ev_w[~ev_w["train_id"].isin(eastbound_train_ids(result))]
    per_train = west_ev.assign(proc=west_ev["end_h"] - west_ev["start_h"]).groupby(
        ["node", "train_id"]
    )
    agg = per_train.agg(
        proc=("proc", "sum"), first=("arrived_h", "min"), last=("end_h", "max")
    ).reset_index()
    for node in cfg.corridor.nodes:
        gc = ev_w[(ev_w["node"] == node) & (ev_w["kind"] == "gauge_change")]
        dur_min = (gc["end_h"] - gc["start_h"]) * 60.0
        out[f"gauge_change_min:{node}"] = float(dur_min.mean()) if len(gc) else math.nan
        out[f"gauge_change_min_39:{node}"] = (
            float((dur_min * 39.0 / gc["boxes"]).mean()) if len(gc) else math.nan
        )
        at = agg[agg["node"] == node]
        out[f"processing_h:{node}"] = float(at["proc"].mean()) if len(at) else math.nan
        out[f"time_at_node_h:{node}"] = (
            float((at["last"] - at["first"]).mean()) if len(at) else math.nan
        )
    both = agg[agg["node"].isin(["Brest", "Małaszewicze"])].groupby("train_id")
    pair = both.agg(proc=("proc", "sum"), nodes=("node", "nunique"))
    pair = pair[pair["nodes"] == 2]
    out["processing_h:Brest+Małaszewicze"] = float(pair["proc"].mean()) if len(pair) else math.nan
    out["trains_per_day:Alashankou+Khorgos"] = out.get(
        "trains_per_day:Alashankou", math.nan
    ) + out.get("trains_per_day:Khorgos", math.nan)

    yard = yard_little(result)
    out["little:yard:L"] = yard.level
    out["little:yard:lower"] = yard.lower
    out["little:yard:upper"] = yard.upper
    out["little:yard:inside"] = float(yard.inside)
    borders = [n for n in processing_nodes(result) if cfg.corridor.nodes[n].kind == "border"]
    for node in borders:
        sample = border_little(result, ev, node)
        if sample is None:
            out[f"little:{node}:missing"] = 1.0
            continue
        out[f"little:{node}:L"] = sample.level
        out[f"little:{node}:lamW"] = sample.lam_w
        out[f"little:{node}:rel_error"] = sample.rel_error
        out[f"little:{node}:window_d"] = sample.window_h / 24.0
    out["conservation_error_t"] = abs(result.ledger.conservation_error_t)
    out.update(modes_metrics(modes_frame(result, tables.shipments)))
    return out
