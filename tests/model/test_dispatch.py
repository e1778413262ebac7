"""Each dispatch policy's defining behaviour, on the tiny scenario."""

from __future__ import annotations

import pytest

from silkroute_sim.config.loader import validate_config
from silkroute_sim.model.simulate import simulate

from ..conftest import tiny_raw


def _run(raw: dict, days: float):
    raw["simulation"]["days"] = days
    return simulate(validate_config(raw))


def test_full_train_never_leaves_part_loaded() -> None:
    raw = tiny_raw()
    raw["services"]["term"]["capacity_teu"] = 10  # 5 boxes
    raw["demand"]["classes"]["containers"]["payload_t"] = {"dist": "uniform", "low": 5, "high": 15}
    result = _run(raw, days=20)
    trains = result.records.trains
    assert len(trains) > 20
    assert all(t.teu == pytest.approx(10) for t in trains)
    assert all(t.box_count == 5 for t in trains)


def test_full_respects_tonnes_limit() -> None:
    raw = tiny_raw()
    raw["services"]["term"]["capacity_teu"] = 20  # 10 boxes of 10 t ...
    raw["services"]["term"]["max_tonnes"] = 35  # ... but only 3 boxes by weight
    result = _run(raw, days=10)
    assert all(t.box_count == 3 for t in result.records.trains)
    assert all(t.kg <= 35_000 for t in result.records.trains)


def test_schedule_train_leaves_at_its_times() -> None:
    raw = tiny_raw()
    raw["services"]["term"]["capacity_teu"] = 40
    raw["services"]["term"]["policy"] = {
        "kind": "schedule",
        "departures": ["06:00", "18:00"],
        "cutoff": "3 h",
    }
    result = _run(raw, days=10)
    trains = result.records.trains
    assert len(trains) >= 15
    for train in trains:
        hour = train.departed_h % 24
        assert hour == pytest.approx(6) or hour == pytest.approx(18)
        assert train.departed_h == pytest.approx(train.scheduled_h)
        assert train.called_h == pytest.approx(train.scheduled_h - 3)
        # only boxes ready at the cut-off travel
        aboard = [s for s in result.records.shipments if s.train_id == train.train_id]
        assert aboard and all(s.ready_h <= train.called_h + 1e-9 for s in aboard)


def test_schedule_cancels_empty_slots_and_respects_weekdays() -> None:
    raw = tiny_raw()
    raw["services"]["term"]["capacity_teu"] = 400
    raw["services"]["term"]["policy"] = {
        "kind": "schedule",
        "departures": ["12:00"],
        "weekdays": [0, 3],
        "cutoff": "1 h",
        "min_load": 0.5,
    }  # needs 100 boxes: 10 days of demand
    raw["hub"]["yard"]["capacity_teu"] = 1000  # room for them (a smaller yard is refused)
    result = _run(raw, days=28)
    assert result.records.trains, "slots with the minimum load leave"
    for train in result.records.trains:
        assert int(train.departed_h // 24) % 7 in (0, 3)
        assert train.teu >= 0.5 * 400 - 1e-9
    assert result.records.cancelled_slots, "slots below the minimum load are cancelled"


def test_hybrid_leaves_at_max_wait_with_min_load() -> None:
    raw = tiny_raw()
    raw["demand"]["arrivals"] = "deterministic"  # one box every 2.4 h
    raw["services"]["term"]["capacity_teu"] = 16  # 8 boxes: 19.2 h to fill
    raw["services"]["term"]["policy"] = {"kind": "hybrid", "max_wait": "10 h", "min_load": 0.5}
    result = _run(raw, days=10)
    trains = result.records.trains
    assert len(trains) > 5
    for train in trains:
        assert train.called_h == pytest.approx(train.opened_h + 10)
        assert train.teu >= 0.5 * 16
        assert train.teu < 16  # it left before it was full


def test_hybrid_waits_for_min_load_after_max_wait() -> None:
    raw = tiny_raw()
    raw["demand"]["arrivals"] = "deterministic"
    raw["services"]["term"]["capacity_teu"] = 40  # 20 boxes; min load 10 boxes = 21.6 h
    raw["services"]["term"]["policy"] = {"kind": "hybrid", "max_wait": "10 h", "min_load": 0.5}
    result = _run(raw, days=10)
    for train in result.records.trains:
        assert train.box_count == 10
        assert train.called_h > train.opened_h + 10
        aboard = [s for s in result.records.shipments if s.train_id == train.train_id]
        assert len(aboard) == 10  # called when its tenth box was ready
        assert train.called_h == pytest.approx(max(s.ready_h for s in aboard))


def test_hybrid_full_train_leaves_before_max_wait() -> None:
    raw = tiny_raw()
    raw["services"]["term"]["policy"] = {"kind": "hybrid", "max_wait": "100 h", "min_load": 0.5}
    result = _run(raw, days=5)
    for train in result.records.trains:
        assert train.box_count == 2
        assert train.called_h < train.opened_h + 100
