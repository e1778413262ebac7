"""Time at a node is booked where it is spent: a hold for a closure ahead is a node event
(not rail running), and trains still at a node when the run ends are written, censored."""

from __future__ import annotations

import copy
import math
from typing import Any

import pytest

from silkroute_sim.analysis.legs import transit_legs
from silkroute_sim.analysis.tables import Tables
from silkroute_sim.config.loader import validate_config
from silkroute_sim.model.simulate import RunResult, simulate

from ..conftest import tiny_raw


def _tiny(days: float, **disruptions: Any) -> dict[str, Any]:
    """tiny_raw with a box every 2.4 h: the first train leaves the hub at 5.1, reaches
    Border at 7.1 (customs 1 h, gauge change 0.5 h: it leaves at 8.6) and Term 2 h later."""
    raw = tiny_raw()
    raw["demand"]["arrivals"] = "deterministic"
    raw["simulation"]["days"] = days
    raw["simulation"]["warmup_days"] = 0
    raw["disruptions"] = disruptions
    return raw


def _run(raw: dict[str, Any]) -> RunResult:
    return simulate(validate_config(copy.deepcopy(raw)))


def test_a_hold_before_a_closed_terminal_is_a_node_event_not_rail_running() -> None:
    raw = _tiny(1.0, scheduled=[{"node": "Term", "effect": "close", "start": 5, "end": 12}])
    result = _run(raw)
    tables = Tables(result)
    ev = tables.node_events
    first = result.records.trains[0].train_id
    held = ev[(ev["train_id"] == first) & (ev["kind"] == "held")]
    assert len(held) == 1
    row = held.iloc[0]
    assert row["node"] == "Border"
    assert row["arrived_h"] == pytest.approx(8.6)  # after customs and gauge change
    assert row["start_h"] == pytest.approx(12.0) and row["end_h"] == pytest.approx(12.0)
    assert row["wait_h"] == pytest.approx(12.0 - 8.6)
    assert not row["censored"]
    train = tables.trains.set_index("train_id").loc[first]
    assert train["arrived_h"] == pytest.approx(14.0)
    assert train["corridor_wait_h"] == pytest.approx(12.0 - 8.6)  # no queue at Border
    # legs: 2 edges of 2 h are rail running; Border's 1.5 h and the 3.4 h hold are nodes
    ships = tables.shipments[tables.shipments["train_id"] == first]
    legs = transit_legs(ships, tables.trains, ev)
    assert legs["rail_running"].to_numpy() * 24 == pytest.approx([4.0] * len(ships))
    assert legs["corridor_nodes"].to_numpy() * 24 == pytest.approx([1.5 + 3.4] * len(ships))


def test_a_hold_at_the_hub_before_departure_stays_hub_dwell() -> None:
    raw = _tiny(1.0, scheduled=[{"node": "Border", "effect": "close", "start": 3, "end": 10}])
    ev = Tables(_run(raw)).node_events
    assert (ev["kind"] == "held").sum() == 0  # held on its loading track: not dispatched


def test_background_train_held_at_its_entry_node_is_recorded() -> None:
    raw = _tiny(3.0, scheduled=[{"node": "Border", "effect": "close", "start": 24, "end": 48}])
    raw["corridor"]["background"] = {
        "other": {"route": ["Border", "Term"], "trains_per_day": 6, "interarrival_cv": 0}
    }
    ev = Tables(_run(raw)).node_events
    held = ev[(ev["kind"] == "held") & ev["background"]]
    assert len(held) >= 5
    assert (held["node"] == "Border").all()
    assert (held["arrived_h"] >= 24).all() and (held["start_h"] == 48.0).all()


def test_a_train_still_processing_at_the_end_is_written_censored() -> None:
    result = _run(_tiny(8.0 / 24))  # ends at 8.0 h: the first train is at Border until 8.6
    ev = Tables(result).node_events
    first = result.records.trains[0].train_id
    rows = ev[ev["train_id"] == first]
    assert len(rows) == 1
    row = rows.iloc[0]
    assert row["node"] == "Border" and bool(row["censored"])
    assert row["arrived_h"] == pytest.approx(7.1) and row["start_h"] == pytest.approx(7.1)
    assert math.isnan(row["end_h"])
    assert row["wait_h"] == pytest.approx(0.0)


def test_a_train_still_queued_at_the_end_is_censored_with_its_wait_so_far() -> None:
    raw = _tiny(2.0)
    raw["corridor"]["background"] = {
        "other": {"route": ["Border", "Term"], "trains_per_day": 36, "interarrival_cv": 0}
    }
    result = _run(raw)
    ev = Tables(result).node_events
    censored = ev[ev["censored"]]
    queued = censored[censored["start_h"].isna()]
    assert len(queued) >= 5  # 36 a day, 24 a day served (customs 1 h on one track)
    assert queued["wait_h"].to_numpy() == pytest.approx((48.0 - queued["arrived_h"]).to_numpy())
    assert censored["end_h"].isna().all()
    assert not ev.loc[~ev["censored"], "end_h"].isna().any()


def test_a_border_overloaded_for_the_whole_run_is_warned_about() -> None:
    raw = _tiny(16.0)
    raw["corridor"]["background"] = {
        "other": {"route": ["Border", "Term"], "trains_per_day": 36, "interarrival_cv": 0}
    }
    warnings = _run(raw).records.warnings
    assert any(w.startswith("Border is saturated") for w in warnings), warnings
    assert any("censored" in w for w in warnings)


def test_a_short_run_of_a_filling_corridor_gets_no_saturation_warning() -> None:
    raw = _tiny(4.0)  # overloaded, but over four days a growing queue proves nothing
    raw["corridor"]["background"] = {
        "other": {"route": ["Border", "Term"], "trains_per_day": 36, "interarrival_cv": 0}
    }
    assert not any("saturated" in w for w in _run(raw).records.warnings)


def test_a_border_below_capacity_gets_no_saturation_warning() -> None:
    raw = _tiny(16.0)
    raw["corridor"]["background"] = {
        "other": {"route": ["Border", "Term"], "trains_per_day": 12, "interarrival_cv": 0}
    }
    assert not any("saturated" in w for w in _run(raw).records.warnings)
