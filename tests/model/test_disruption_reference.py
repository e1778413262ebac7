"""The disruption table's affected boxes, their extra door-to-door time and their extra
cost per FEU are what the plain pandas definition gives, to the last bit: each event's
boxes selected by masks over the shipments table, the reference means taken by
``groupby(...).mean()`` of a copy of the reference rows (the code these measures were
first written as, kept here as the reference)."""

from __future__ import annotations

import math

import numpy as np
import pandas as pd
import pytest

from silkroute_sim.analysis.disruptions import COST_COLUMNS, cost_per_feu
from silkroute_sim.analysis.holding import closed_members
from silkroute_sim.analysis.tables import Tables
from silkroute_sim.config.loader import load_config
from silkroute_sim.model.simulate import simulate

pytestmark = pytest.mark.slow

DISRUPTIONS = (
    "disruptions={scheduled: ["
    "{id: khorgos, node: Khorgos, effect: close, start: 20 d, duration: 3 d},"
    "{id: slow, edge: [Dostyk, Aktogay], effect: speed, factor: 0.5, start: 15 d, duration: 3 d},"
    "{id: cranes, hub: cranes, effect: capacity, cranes: 2, start: 30 d, duration: 1 d}],"
    "random: {breakdowns: [{hub: cranes, mtbf: 60 h, mttr: 2 h},"
    "{node: Dostyk, mtbf: 150 h, mttr: 6 h}]}}"
)


def _masks(tables: Tables, window, until: float) -> pd.Series:
    """The boxes one event touched (the plain definition)."""
    result, ships, events = tables._result, tables.shipments, tables.node_events
    t0, t1 = window.start_h, max(until, window.end_h)
    if window.hub is not None:
        return (ships["arrived_h"] < t1) & (ships["departed_h"].fillna(np.inf) >= t0)
    ids = {train for train, event in result.disruptions.hits if event == window.event_id}
    left = events["end_h"].fillna(np.inf)
    for node in closed_members(result.config, window):
        at = events[(events["node"] == node) & (events["arrived_h"] < t1) & (left >= t0)]
        ids |= set(at["train_id"])
    trains = tables.trains[tables.trains["direction"] == "west"]
    hops = [f"{a}>{b}" for a, b in window.edges]
    if hops:
        passes = trains["route"].astype(str).apply(lambda r: any(h in r for h in hops))
        during = (trains["departed_h"] < t1) & (trains["arrived_h"].fillna(np.inf) >= t0)
        ids |= set(trains.loc[passes & during, "train_id"])
    return ships["train_id"].isin(ids)


def _reference_rows(tables: Tables) -> list[tuple[object, ...]]:
    result, ships = tables._result, tables.shipments
    frame = tables.disruptions
    windows = [w for w in result.disruptions.windows if w.start_h < result.end_h]
    untils = []
    for window, here in zip(windows, frame["recovery_h"], strict=True):
        until = window.end_h + here if here == here else result.end_h
        untils.append(min(max(until, window.end_h), result.end_h))
    masks = [_masks(tables, w, u) for w, u in zip(windows, untils, strict=True)]
    touched = pd.Series(False, index=ships.index)
    for window, mask in zip(windows, masks, strict=True):
        if window.kind != "breakdown":
            touched |= mask
    clean = ~touched & (ships["arrived_h"] >= result.warmup_h)
    per_feu = cost_per_feu(tables.cost_parts)
    columns = ["cost", "reroute", "holding", "inventory", "co2"]
    rows = []
    for window, until, mask in zip(windows, untils, masks, strict=True):
        outside = (ships["delivered_h"] < window.start_h) | (ships["arrived_h"] >= until)
        reference = clean & outside
        d2d = ships.loc[reference].groupby("destination")["door_to_door_d"].mean()
        hit = ships.loc[mask]
        extra = hit["door_to_door_d"] - hit["destination"].map(d2d).astype(float)
        ref = per_feu[reference].groupby(ships["destination"][reference])[columns].mean()
        priced = mask & per_feu["cost"].notna() & ships["destination"].isin(ref.index)
        mine = per_feu.loc[priced, columns]
        base = ref.reindex(ships["destination"][priced]).set_axis(mine.index)
        gap = mine - base
        feu = per_feu.loc[priced, "feu"]
        none = not priced.any()
        share = mine["cost"].mean() / base["cost"].mean() - 1 if base["cost"].mean() else math.nan
        costs = (
            (math.nan,) * 5 + (0.0, math.nan, 0.0)
            if none
            else (
                *(float(gap[c].mean()) for c in columns[:4]),
                float(share),
                float((gap["cost"] * feu).sum()),
                float(gap["co2"].mean()),
                float((gap["co2"] * feu).sum()),
            )
        )
        mean_extra = float(extra.mean()) if extra.notna().any() else math.nan
        rows.append((int(mask.sum()), int(hit["door_to_door_d"].notna().sum()), mean_extra, *costs))
    return rows


def test_affected_boxes_and_their_extra_time_and_cost_are_the_plain_definition() -> None:
    cfg = load_config("configs/baseline.yaml", [DISRUPTIONS], days=60, warmup_days=10)
    tables = Tables(simulate(cfg))
    frame = tables.disruptions
    assert set(frame["kind"]) >= {"breakdown", "scheduled"}
    assert (frame["affected_shipments"] > 0).sum() > 10
    names = ["affected_shipments", "affected_delivered", "extra_door_to_door_d_mean"]
    ours = list(frame[names + COST_COLUMNS].itertuples(index=False, name=None))
    expected = _reference_rows(tables)
    assert len(ours) == len(expected)
    for got, want in zip(ours, expected, strict=True):
        assert np.array_equal(
            np.array(got, dtype=float), np.array(want, dtype=float), equal_nan=True
        )
