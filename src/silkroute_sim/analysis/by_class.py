"""Metrics by cargo class, wagon type, vehicle compound and inbound trains.

Pure functions over a run's tables (called from :mod:`silkroute_sim.analysis.tables`). KPIs are
measured over the observation window ``[warm-up, end]``; names carry the class (or the
class ``group``, e.g. all vehicle classes) and destination after colons:

* ``demand_t_per_day:<class>``, ``dispatched_t_per_day:<class>``,
  ``delivered_t_per_day:<class>`` (arrived at its terminal), and per destination
  ``delivered_t_per_day:<class>:<dest>``;
* ``demand_units_per_year:<class>``, ``delivered_units_per_year:<class>`` and
  ``delivered_units_per_year:<class>:<dest>`` (units counted in the window, × 365/days);
* ``export_value_usd_per_year:<class>`` (and ``:<dest>``) for classes with ``value_usd``:
  the value of the units delivered;
* ``delivered_unit_share:<class>`` for classes in a group: its share of the group's
  delivered units (e.g. heavy trucks among all vehicles);
* ``hub_dwell_h_mean:<class>``, ``door_to_door_d_median:<class>``;
* ``wagon_utilisation:<type>``: capacity taken over capacity offered on the trains that
  left in the window;
* ``compound_units_mean`` / ``_max``, ``ramp_utilisation`` (with a vehicle compound);
* ``inbound_trains_per_day``, ``inbound_boxes_per_day``, ``inbound_wait_h_mean``
  (arrival until a loading track), ``inbound_track_h_mean``, ``inbound_yard_teu_mean``
  (with inbound trains); eastbound trains and the box pool
  (:mod:`silkroute_sim.analysis.directions`).

A group is reported only when its name is not a class name (classes without a
``group`` form a group of their own, which would repeat the class rows).
"""

from __future__ import annotations

import math

import numpy as np
import pandas as pd

from silkroute_sim.analysis.directions import box_pool_daily, box_pool_rows, eastbound_rows
from silkroute_sim.config.cargo_rules import class_specs
from silkroute_sim.engine.monitors import step_integrals
from silkroute_sim.model.simulate import RunResult

NAN = math.nan
DAYS_PER_YEAR = 365.0
#: appended to shipments.csv (after the existing columns)
CLASS_SHIPMENT_COLUMNS = ["unit", "value_usd", "origin"]

Row = tuple[str, float, str]


def class_groups(result: RunResult) -> dict[str, list[str]]:
    """Report name → member classes: each class, then each named group."""
    specs = class_specs(result.config)
    out: dict[str, list[str]] = {name: [name] for name in specs}
    for name, spec in specs.items():
        if spec.group not in specs:
            out.setdefault(spec.group, []).append(name)
    return out


def valued_classes(result: RunResult) -> set[str]:
    return {n for n, c in result.config.demand.classes.items() if c.value_usd is not None}


def class_summary_rows(
    result: RunResult, shipments: pd.DataFrame, trains: pd.DataFrame, events: pd.DataFrame
) -> list[Row]:
    """The KPI rows by class, group, destination, wagon type, compound and inbound (and
    by direction, from the node ``events`` table)."""
    w0, w1 = result.warmup_h, result.end_h
    days = (w1 - w0) / 24
    per_year = DAYS_PER_YEAR / days
    rows: list[Row] = []

    # boolean masks instead of window copies: a 10-year table is ~700,000 rows
    def window(col: str) -> np.ndarray:
        t = shipments[col].to_numpy()
        return (t >= w0) & (t < w1)

    in_arrived, in_departed = window("arrived_h"), window("departed_h")
    in_delivered, in_released = window("terminal_arrived_h"), window("delivered_h")
    cargo_class = shipments["cargo_class"]
    valued = valued_classes(result)
    groups = class_groups(result)
    dests = result.config.services_destinations()
    # one column at a time under a mask: no copy of several columns per group
    tonnes, value_usd = shipments["tonnes"], shipments["value_usd"]
    destination = shipments["destination"].to_numpy()
    for label, members in groups.items():
        in_group = cargo_class.isin(members).to_numpy()
        a, d, r = in_arrived & in_group, in_departed & in_group, in_delivered & in_group
        has_value = any(m in valued for m in members)
        rows.append((f"demand_t_per_day:{label}", tonnes[a].sum() / days, "t/day"))
        rows.append((f"dispatched_t_per_day:{label}", tonnes[d].sum() / days, "t/day"))
        rows.append((f"delivered_t_per_day:{label}", tonnes[r].sum() / days, "t/day"))
        rows.append((f"demand_units_per_year:{label}", int(a.sum()) * per_year, "units/yr"))
        rows.append((f"delivered_units_per_year:{label}", int(r.sum()) * per_year, "units/yr"))
        if has_value:
            value = value_usd[r].sum() * per_year
            rows.append((f"export_value_usd_per_year:{label}", value, "USD/yr"))
        rows.append((f"hub_dwell_h_mean:{label}", _mean(shipments["hub_dwell_h"][d]), "h"))
        rel = shipments["door_to_door_d"][in_released & in_group]
        rows.append((f"door_to_door_d_median:{label}", _median(rel), "d"))
        del rel
        class_dests = [
            dest
            for dest in dests
            if any(dest in result.config.demand.classes[m].destinations for m in members)
        ]
        for dest in class_dests:
            at = r & (destination == dest)
            rows.append((f"delivered_t_per_day:{label}:{dest}", tonnes[at].sum() / days, "t/day"))
            rows.append(
                (f"delivered_units_per_year:{label}:{dest}", int(at.sum()) * per_year, "units/yr")
            )
            if has_value:
                value = value_usd[at].sum() * per_year
                rows.append((f"export_value_usd_per_year:{label}:{dest}", value, "USD/yr"))
    for label, members in groups.items():
        if len(members) > 1 or label not in members:
            delivered_class = cargo_class[in_delivered]
            group_units = delivered_class.isin(members).sum()
            for member in members:  # none delivered: no share (not 0 / 0)
                count = (delivered_class == member).sum()
                share = count / group_units if group_units else NAN
                rows.append((f"delivered_unit_share:{member}", share, "fraction"))
    rows += _wagon_rows(result)
    rows += _compound_rows(result)
    rows += _inbound_rows(result)
    rows += eastbound_rows(result, events)  # both directions (directions.py)
    rows += box_pool_rows(result)
    return rows


def _wagon_rows(result: RunResult) -> list[Row]:
    w0, w1 = result.warmup_h, result.end_h
    offered: dict[str, float] = {}
    taken: dict[str, float] = {}
    for train in result.records.trains:
        if w0 <= train.departed_h < w1:
            for wtype, capacity in train.capacity.items():
                offered[wtype] = offered.get(wtype, 0.0) + capacity
                taken[wtype] = taken.get(wtype, 0.0) + train.used.get(wtype, 0.0)
    types = [t for t in result.config.wagon_types if t in offered]
    return [(f"wagon_utilisation:{t}", taken[t] / offered[t], "fraction") for t in types]


def _compound_rows(result: RunResult) -> list[Row]:
    compound = result.config.hub.compound
    mons = result.records.monitors
    if compound is None or "compound_units" not in mons:
        return []
    w0, w1 = result.warmup_h, result.end_h
    level = mons["compound_units"]
    return [
        ("compound_units_mean", level.mean(w0, w1), "vehicles"),
        ("compound_units_max", level.max(w0, w1), "vehicles"),
        ("compound_occupancy", level.mean(w0, w1) / compound.capacity_units, "fraction"),
        ("ramp_utilisation", mons["ramps_busy"].mean(w0, w1) / compound.ramps, "fraction"),
    ]


def _inbound_rows(result: RunResult) -> list[Row]:
    if not result.config.hub.inbound:
        return []
    w0, w1 = result.warmup_h, result.end_h
    days = (w1 - w0) / 24
    arrived = [t for t in result.records.inbound_trains if w0 <= t.opened_h < w1]
    waits = [t.loading_start_h - t.opened_h for t in arrived if t.loading_start_h <= w1]
    # loaded_h: unloaded, the track free (an eastbound train's departed_h is at its origin)
    on_track = [t.loaded_h - t.loading_start_h for t in arrived if t.loaded_h <= w1]
    return [
        ("inbound_trains_per_day", len(arrived) / days, "trains/day"),
        ("inbound_boxes_per_day", sum(t.box_count for t in arrived) / days, "boxes/day"),
        ("inbound_wait_h_mean", float(np.mean(waits)) if waits else NAN, "h"),
        ("inbound_track_h_mean", float(np.mean(on_track)) if on_track else NAN, "h"),
        ("inbound_yard_teu_mean", result.records.monitors["inbound_yard_teu"].mean(w0, w1), "TEU"),
    ]


def class_daily_columns(
    result: RunResult, shipments: pd.DataFrame, trains: pd.DataFrame, edges: np.ndarray
) -> dict[str, np.ndarray]:
    """Daily columns by class (and group): tonnes arrived, dispatched, delivered, units
    delivered, value delivered; compound level; inbound trains and boxes."""
    days = len(edges) - 1
    widths = np.diff(edges)
    end = result.end_h

    def per_day(times: pd.Series, weights: pd.Series | None = None) -> np.ndarray:
        t = times.to_numpy(dtype=float)
        ok = np.isfinite(t) & (t < end)
        idx = (t[ok] // 24).astype(int)
        w = None if weights is None else weights.to_numpy(dtype=float)[ok]
        return np.bincount(idx, weights=w, minlength=days)[:days]

    out: dict[str, np.ndarray] = {}
    valued = valued_classes(result)
    for label, members in class_groups(result).items():
        sel = shipments[shipments["cargo_class"].isin(members)]
        out[f"tonnes_arrived:{label}"] = per_day(sel["arrived_h"], sel["tonnes"])
        out[f"tonnes_dispatched:{label}"] = per_day(sel["departed_h"], sel["tonnes"])
        out[f"tonnes_delivered:{label}"] = per_day(sel["terminal_arrived_h"], sel["tonnes"])
        out[f"units_delivered:{label}"] = per_day(sel["terminal_arrived_h"]).astype(int)
        if any(m in valued for m in members):
            value = sel["value_usd"].fillna(0.0)
            out[f"value_delivered_usd:{label}"] = per_day(sel["terminal_arrived_h"], value)
    mons = result.records.monitors
    if "compound_units" in mons:
        times, levels = mons["compound_units"].arrays()
        out["compound_units_mean"] = step_integrals(times, levels, edges) / widths
        out["compound_units_max"] = _daily_max(times, levels, edges)
    if result.config.hub.inbound:
        inbound = result.records.inbound_trains
        arrived = pd.Series([t.opened_h for t in inbound], dtype=float)
        boxes = pd.Series([float(t.box_count) for t in inbound], dtype=float)
        out["inbound_trains"] = per_day(arrived).astype(int)
        out["inbound_boxes"] = per_day(arrived, boxes).astype(int)
    out.update(box_pool_daily(result, edges))
    return out


def _daily_max(times: np.ndarray, levels: np.ndarray, edges: np.ndarray) -> np.ndarray:
    starts = np.maximum(np.searchsorted(times, edges[:-1], side="right") - 1, 0)
    stops = np.searchsorted(times, edges[1:], side="left")
    return np.array(
        [levels[a : max(b, a + 1)].max() for a, b in zip(starts, stops, strict=True)], dtype=float
    )


def _mean(values: pd.Series) -> float:
    v = values.dropna()
    return float(v.mean()) if len(v) else NAN


def _median(values: pd.Series) -> float:
    v = values.dropna()
    return float(v.median()) if len(v) else NAN
