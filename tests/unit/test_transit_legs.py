"""Door-to-door legs (analysis.tables.transit_legs) on hand-made tables: node hours up to
a shipment's stop, a hold at a node counted only for the stops after it, background,
censored and terminal rows left out, a train without events and a box without a train."""

from __future__ import annotations

import math

import pandas as pd
import pytest

from silkroute_sim.analysis.tables import transit_legs


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
