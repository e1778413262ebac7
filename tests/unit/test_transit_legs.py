"""Door-to-door legs (analysis.legs.transit_legs) on hand-made tables: node hours up to
a shipment's stop, a hold at a node counted only for the stops after it, background,
censored and terminal rows left out, a train without events and a box without a train."""

from __future__ import annotations

import math

import numpy as np
import pandas as pd
import pytest

from silkroute_sim.analysis.legs import leg_columns, transit_legs


def _events() -> pd.DataFrame:
    rows = [  # train, node, kind, arrived, end, background, censored
        ("T1", "A", "processing", 10.0, 13.0, False, False),
        ("T1", "A", "held", 13.0, 20.0, False, False),  # after A: counts from B on
        ("T1", "B", "border", 25.0, 27.0, False, False),
        ("T1", "B", "border", 30.0, 31.0, False, False),  # a second stage at B adds up
        ("T1", "B", "border", 40.0, 90.0, True, False),  # background: left out
        ("T1", "C", "border", 50.0, 99.0, False, True),  # censored: left out
        ("T1", "C", "terminal", 60.0, 61.0, False, False),  # the stop itself: left out
    ]
    cols = ["train_id", "node", "kind", "arrived_h", "end_h", "background", "censored"]
    return pd.DataFrame(rows, columns=cols)


def test_node_hours_up_to_each_stop() -> None:
    trains = pd.DataFrame({"train_id": ["T1", "T2"], "route": ["H>A>B>C", "H>B"]})
    shipments = pd.DataFrame(
        {
            "train_id": ["T1", "T1", "T1", "T2", None],
            "destination": ["A", "B", "C", "B", "B"],
            "arrived_h": [0.0] * 5,
            "departed_h": [5.0] * 5,
            "terminal_arrived_h": [48.0] * 5,
            "delivered_h": [72.0] * 5,
        }
    )
    legs = transit_legs(shipments, trains, _events())
    assert legs["corridor_nodes"].tolist() == pytest.approx([3 / 24, 13 / 24, 13 / 24, 0, 0])
    assert legs["hub_dwell"].tolist() == pytest.approx([5 / 24] * 5)
    assert legs["rail_running"].tolist() == pytest.approx(
        [43 / 24 - x for x in legs["corridor_nodes"]]
    )
    assert legs["terminal_dwell"].tolist() == pytest.approx([1.0] * 5)
    assert not any(math.isnan(x) for x in legs["corridor_nodes"])


def _legs_by_dict(shipments: pd.DataFrame, trains: pd.DataFrame, events: pd.DataFrame) -> list:
    """The corridor hours of each shipment as a walk along each train's route over a
    dict of (train, node, held) sums gives them: what the numbered tables must equal."""
    ev = events[(events["kind"] != "terminal") & ~events["background"] & ~events["censored"]]
    hours = (
        (ev["end_h"] - ev["arrived_h"])
        .groupby([ev["train_id"], ev["node"], ev["kind"] == "held"])
        .sum()
    )
    by_key = dict(zip(hours.index, hours.tolist(), strict=True))
    route_of = dict(zip(trains["train_id"], trains["route"], strict=True))
    per_stop = {}
    for train_id, route in route_of.items():
        total = 0.0
        for node in route.split(">"):
            total += by_key.get((train_id, node, False), 0.0)
            per_stop[(train_id, node)] = total
            total += by_key.get((train_id, node, True), 0.0)
    pairs = zip(shipments["train_id"], shipments["destination"], strict=True)
    return [per_stop.get((t, d), 0.0) / 24 for t, d in pairs]


def test_node_hours_of_a_random_corridor_are_the_walk_over_a_dict_to_the_bit() -> None:
    """Routes through a node twice, events of trains not in the table and at nodes off a
    route, shipments to a node off their train's route or without a train, a mask of
    rows: the numbered tables give each shipment the same float as the walk."""
    rng = np.random.default_rng(7)
    nodes = [f"N{i}" for i in range(8)]
    routes = [">".join(rng.choice(nodes, size=rng.integers(2, 7))) for _ in range(30)]
    trains = pd.DataFrame({"train_id": [f"T{i}" for i in range(30)], "route": routes})
    n = 400
    kinds = rng.choice(["border", "processing", "held", "terminal"], size=n)
    arrived = rng.uniform(0, 100, size=n)
    events = pd.DataFrame(
        {
            "train_id": rng.choice([f"T{i}" for i in range(34)], size=n),  # T30..: unknown
            "node": rng.choice([*nodes, "X"], size=n),
            "kind": kinds,
            "arrived_h": arrived,
            "end_h": arrived + rng.exponential(5, size=n),
            "background": rng.random(n) < 0.1,
            "censored": rng.random(n) < 0.05,
        }
    )
    m = 300
    shipments = pd.DataFrame(
        {
            "train_id": rng.choice([*trains["train_id"], None], size=m),
            "destination": rng.choice(nodes, size=m),
            "arrived_h": rng.uniform(0, 5, size=m),
            "departed_h": rng.uniform(5, 10, size=m),
            "terminal_arrived_h": rng.uniform(50, 60, size=m),
            "delivered_h": rng.uniform(60, 70, size=m),
        }
    )
    legs = transit_legs(shipments, trains, events)
    assert legs["corridor_nodes"].tolist() == _legs_by_dict(shipments, trains, events)
    rows = rng.random(m) < 0.5
    masked = transit_legs(shipments, trains, events, rows=rows)
    assert masked["corridor_nodes"].tolist() == legs["corridor_nodes"][rows].tolist()
    assert list(masked.index) == list(shipments.index[rows])
    # the columns one at a time, as the summary reads them: the same as the frame's
    for name, values in leg_columns(shipments, trains, events, rows=rows):
        assert values.equals(masked[name])
