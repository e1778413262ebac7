"""Layer 1: exact event timelines of tiny deterministic scenarios."""

from __future__ import annotations

import pytest

from silkroute_sim.analysis.tables import Tables
from silkroute_sim.config.loader import validate_config
from silkroute_sim.model.simulate import simulate

from ..conftest import tiny_raw


def _run(raw: dict, days: float = 0.5):
    raw["demand"]["arrivals"] = "deterministic"
    raw["simulation"]["days"] = days
    return simulate(validate_config(raw))


def test_two_boxes_one_crane_exact_timeline() -> None:
    # 100 t/day of 10 t boxes, evenly spaced: one box every 2.4 h.
    result = _run(tiny_raw())
    ships = result.records.shipments
    assert [s.arrived_h for s in ships[:2]] == pytest.approx([2.4, 4.8])
    # gate 0 h, one crane move of 0.1 h to the yard, no customs
    assert [s.yard_in_h for s in ships[:2]] == pytest.approx([2.5, 4.9])
    assert [s.ready_h for s in ships[:2]] == pytest.approx([2.5, 4.9])
    # train of 2 boxes (4 TEU) is full at 4.9; one crane loads both: 5.0, 5.1
    assert [s.loaded_h for s in ships[:2]] == pytest.approx([5.0, 5.1])
    train = result.records.trains[0]
    assert train.called_h == pytest.approx(4.9)
    assert train.departed_h == pytest.approx(5.1)
    # 100 km at 50 km/h -> Border at 7.1; customs 1 h, gauge change 2 lifts x 0.25 h
    events = [
        (e.node, e.kind, e.arrived_h, e.start_h, e.end_h)
        for e in result.records.node_events
        if e.train_id == train.train_id
    ]
    assert events == [
        ("Border", "customs", pytest.approx(7.1), pytest.approx(7.1), pytest.approx(8.1)),
        ("Border", "gauge_change", pytest.approx(8.1), pytest.approx(8.1), pytest.approx(8.6)),
        ("Term", "terminal", pytest.approx(10.6), pytest.approx(10.6), pytest.approx(10.6)),
    ]
    assert train.arrived_h == pytest.approx(10.6)
    assert [s.delivered_h for s in ships[:2]] == pytest.approx([10.6, 10.6])
    assert train.route == ["Hub", "Border", "Term"]


def test_crane_contention_delays_second_train() -> None:
    # Three boxes per train and slow moves: the gate move of box 4 waits behind loading.
    raw = tiny_raw()
    raw["services"]["term"]["capacity_teu"] = 6
    raw["hub"]["cranes"]["move_time"] = "2 h"
    result = _run(raw, days=1.0)
    ships = result.records.shipments
    # arrivals 2.4, 4.8, 7.2; unload moves 2.4-4.4, 4.8-6.8, 7.2-9.2
    assert [s.yard_in_h for s in ships[:3]] == pytest.approx([4.4, 6.8, 9.2])
    # The crane queue is FIFO over requests: train called at 9.2 loads box 1 9.2-11.2;
    # box 4 (arrived 9.6) asked before the loader's next request (11.2): unload 11.2-13.2;
    # box 2 loads 13.2-15.2; boxes 5 (12.0) and 6 (14.4) asked before the request for box 3
    # at 15.2: unloads 15.2-17.2 and 17.2-19.2; box 3 loads 19.2-21.2.
    assert [s.arrived_h for s in ships[3:6]] == pytest.approx([9.6, 12.0, 14.4])
    assert [s.yard_in_h for s in ships[3:6]] == pytest.approx([13.2, 17.2, 19.2])
    assert [s.loaded_h for s in ships[:3]] == pytest.approx([11.2, 15.2, 21.2])
    assert result.records.trains[0].departed_h == pytest.approx(21.2)


def test_tables_match_records() -> None:
    result = _run(tiny_raw(), days=1.0)
    tables = Tables(result)
    arrived = tables.trains[tables.trains["arrived_h"].notna()]
    assert len(arrived) >= 2
    assert list(arrived["route"]) == ["Hub>Border>Term"] * len(arrived)
    first = tables.shipments.iloc[0]
    assert first["hub_dwell_h"] == pytest.approx(5.1 - 2.4)
    assert first["door_to_door_d"] == pytest.approx((10.6 - 2.4) / 24)
    assert tables.node_events["wait_h"].min() >= 0
