"""Ferry lines as batch servers (model/ferry.py): exact timelines on a tiny graph
(Hub -> PortA = ferry = PortB -> Term), batch-service queue formulas over replications,
and weather cancellations against their binomial confidence interval."""

from __future__ import annotations

import math
from typing import Any

import numpy as np
import pytest
from scipy import stats

from silkroute_sim.analysis.legs import transit_legs
from silkroute_sim.analysis.tables import Tables
from silkroute_sim.config.loader import validate_config
from silkroute_sim.model.network import build_graph
from silkroute_sim.model.records import NodeEvent
from silkroute_sim.model.simulate import RunResult, simulate

from ..conftest import tiny_raw

#: 99.9 % two-sided normal quantile: a check that fails by chance once in a thousand runs
Z = 3.29


def ferry_raw(ferry: dict[str, Any], days: float = 1.5, *, stream: dict | None = None) -> dict:
    """The tiny scenario with a sea leg: Hub -(100 km, 2 h)- PortA (customs 1 h) =40 km at
    20 km/h by ferry= PortB (customs 0.5 h) -(100 km, 2 h)- Term; deterministic arrivals,
    trains of 2 boxes. With ``stream``, the service goes Hub - Term directly instead, and a
    background stream crosses the sea from PortA (no processing there)."""
    raw = tiny_raw()
    raw["demand"]["arrivals"] = "deterministic"
    raw["simulation"]["days"] = days
    corridor = raw["corridor"]
    hub = corridor["nodes"]["Hub"]
    hub.pop("processing", None)
    corridor["nodes"] = {
        "Hub": hub,
        "PortA": {
            "kind": "port",
            "gauge_mm": 1435,
            "lat": 44.0,
            "lon": 80.0,
            "processing": {"tracks": 1, "customs": "1 h"},
        },
        "PortB": {
            "kind": "port",
            "gauge_mm": 1435,
            "lat": 44.0,
            "lon": 79.0,
            "processing": {"tracks": 1, "customs": "30 min"},
        },
        "Term": {"kind": "terminal", "gauge_mm": 1435, "lat": 44.0, "lon": 78.0},
    }
    sea = {"from": "PortA", "to": "PortB", "km": 40, "speed": 20, "mode": "ferry", "ferry": ferry}
    corridor["edges"] = [
        {"from": "Hub", "to": "PortA", "km": 100, "speed": 50},
        sea,
        {"from": "PortB", "to": "Term", "km": 100, "speed": 50},
    ]
    if stream is not None:
        del corridor["nodes"]["PortA"]["processing"]
        corridor["edges"][2] = {"from": "Hub", "to": "Term", "km": 100, "speed": 50}
        corridor["background"] = {"sea": {"route": ["PortA", "PortB"], **stream}}
    return raw


def _run(raw: dict, seed: int | None = None) -> RunResult:
    return simulate(validate_config(raw), seed)


def _rows(result: RunResult, kind: str, node: str = "PortA") -> list[NodeEvent]:
    return [e for e in result.records.node_events if e.kind == kind and e.node == node]


def _of(result: RunResult, train_id: str) -> list[tuple[str, str, float, float, float]]:
    return [
        (e.node, e.kind, round(e.arrived_h, 6), round(e.start_h, 6), round(e.end_h, 6))
        for e in result.records.node_events
        if e.train_id == train_id
    ]


# ------------------------------------------------------------------ exact timelines


def test_a_train_bigger_than_a_voyage_is_split_over_two_sailings_of_the_timetable() -> None:
    """A vessel every 6 h from 0 h carries one wagon; loading 1 h, crossing 40 km at 20
    km/h = 2 h, unloading 1 h. The first train (2 boxes) leaves the hub at 5.1 h, is at
    PortA at 7.1, cleared at 8.1, and waits: one wagon sails at 12 (ashore 16), the other
    at 18 (ashore 22); the train goes on at 22, PortB 22-22.5, Term at 24.5."""
    raw = ferry_raw(
        {"capacity_wagons": 1, "sailing": {"every": "6 h"}, "loading": "1 h", "unloading": "1 h"}
    )
    result = _run(raw)
    train = result.records.trains[0]
    assert train.departed_h == pytest.approx(5.1)
    assert _of(result, train.train_id) == [
        ("PortA", "customs", 7.1, 7.1, 8.1),
        ("PortA", "ferry_wait", 8.1, 18.0, 19.0),
        ("PortB", "customs", 22.0, 22.0, 22.5),
        ("Term", "terminal", 24.5, 24.5, 24.5),
    ]
    assert train.wait_h == pytest.approx(18.0 - 8.1)
    assert train.arrived_h == pytest.approx(24.5)
    assert train.route == ["Hub", "PortA", "PortB", "Term"]
    sailings = [(e.start_h, e.end_h, e.boxes) for e in _rows(result, "sailing")]
    assert sailings[:5] == [(0, 1, 0), (6, 7, 0), (12, 13, 1), (18, 19, 1), (24, 25, 1)]
    assert [e.train_id for e in _rows(result, "sailing")][:2] == [
        "ferry:PortA>PortB:00001",
        "ferry:PortA>PortB:00002",
    ]
    # the return line sails on the same timetable, empty
    assert [(e.start_h, e.boxes) for e in _rows(result, "sailing", "PortB")][:3] == [
        (0, 0),
        (6, 0),
        (12, 0),
    ]
    # the tables: the wait is a corridor-node leg of the box, not rail running
    tables = Tables(result)
    ev = tables.node_events
    wait = ev[(ev["train_id"] == train.train_id) & (ev["kind"] == "ferry_wait")]
    assert wait["wait_h"].tolist() == pytest.approx([9.9])
    trains = tables.trains.set_index("train_id")
    assert trains.loc[train.train_id, "corridor_wait_h"] == pytest.approx(9.9)
    # its boxes: corridor nodes PortA 1 h + ferry wait and loading 8.1-19 + PortB 0.5 h =
    # 12.4 h; running 7 h (2 h to PortA, 2 h at sea, 1 h unloading, 2 h to Term)
    ships = tables.shipments
    legs = transit_legs(ships[ships["train_id"] == train.train_id], tables.trains, ev)
    assert (legs["corridor_nodes"] * 24).tolist() == pytest.approx([12.4, 12.4])
    assert (legs["rail_running"] * 24).tolist() == pytest.approx([7.0, 7.0])


def test_a_when_full_ferry_sails_when_its_wagons_are_there_or_at_its_max_wait() -> None:
    """Trains of 2 wagons are cleared at PortA at 8.1, 12.9, 17.7, 22.5, 27.3 h. Capacity 3:
    train 2 fills the first voyage at 12.9 (train 1 and one wagon of train 2), train 3 the
    second at 17.7 (the wagon left behind, whose clock began at 12.9, and train 3)."""
    raw = ferry_raw({"capacity_wagons": 3, "sailing": {"when_full": True, "max_wait": "5 h"}})
    result = _run(raw)
    trains = result.records.trains
    cleared = [e.end_h for e in _rows(result, "customs")]
    assert cleared[:5] == pytest.approx([8.1 + 4.8 * k for k in range(5)])
    sailings = [(e.arrived_h, e.start_h, e.boxes) for e in _rows(result, "sailing")]
    assert sailings[:3] == [
        pytest.approx((8.1, 12.9, 3)),
        pytest.approx((12.9, 17.7, 3)),
        pytest.approx((22.5, 27.3, 3)),
    ]
    waits = {e.train_id: (e.arrived_h, e.start_h) for e in _rows(result, "ferry_wait")}
    assert waits[trains[0].train_id] == pytest.approx((8.1, 12.9))
    assert waits[trains[1].train_id] == pytest.approx((12.9, 17.7))
    assert waits[trains[2].train_id] == pytest.approx((17.7, 17.7))
    # no wagon waits at PortB: the return line never sails
    assert _rows(result, "sailing", "PortB") == []
    # capacity 5, max wait 6 h: two trains' wagons are there when the wait is up
    raw = ferry_raw({"capacity_wagons": 5, "sailing": {"when_full": True, "max_wait": "6 h"}})
    sailings = [(e.arrived_h, e.start_h, e.boxes) for e in _rows(_run(raw), "sailing")]
    assert sailings[:2] == [pytest.approx((8.1, 14.1, 4)), pytest.approx((17.7, 23.7, 4))]


def test_one_vessel_shuttles_between_the_ports() -> None:
    """One vessel, a sailing every hour: it leaves PortA at 0 (loading 1 h, at sea 2 h,
    unloading 1 h: free at PortB at 4), sails back at 4 (free at PortA at 8), and so on:
    the timetable's hours without a vessel are skipped, a late vessel sails at once."""
    raw = ferry_raw(
        {
            "capacity_wagons": 10,
            "sailing": {"every": "1 h"},
            "loading": "1 h",
            "unloading": "1 h",
            "vessels": 1,
        }
    )
    result = _run(raw, seed=1)
    assert [e.start_h for e in _rows(result, "sailing")][:4] == [0, 8, 16, 24]
    assert [e.start_h for e in _rows(result, "sailing", "PortB")][:3] == [4, 12, 20]
    first = result.records.trains[0]  # cleared at PortA at 8.1: the vessel is back at 8
    assert _of(result, first.train_id)[1] == ("PortA", "ferry_wait", 8.1, 16.0, 17.0)


def test_a_cancelled_sailing_leaves_its_wagons_for_the_next_one_by_calendar_month() -> None:
    """Every sailing in January is cancelled: a run from 2025-01-30 sails first on February
    1st (hour 48); the first train waits from 8.1 h until then."""
    cancel = [1.0] + [0.0] * 11
    raw = ferry_raw(
        {"capacity_wagons": 10, "sailing": {"every": "12 h"}, "cancel_by_month": cancel},
        days=3,
    )
    raw["simulation"]["start_date"] = "2025-01-30"
    result = _run(raw)
    cancelled = [e.start_h for e in _rows(result, "sailing_cancelled")]
    assert cancelled == [0, 12, 24, 36]
    assert [e.boxes for e in _rows(result, "sailing_cancelled")] == [0, 2, 8, 12]
    assert [e.start_h for e in _rows(result, "sailing")][:2] == [48, 60]
    first = result.records.trains[0]
    assert _of(result, first.train_id)[1] == ("PortA", "ferry_wait", 8.1, 48.0, 48.0)
    # without a date, day 0 is January 1st (simulation.start_month 1): a month of no sailing
    del raw["simulation"]["start_date"]
    result = _run(raw)
    assert _rows(result, "sailing") == []
    assert len(_rows(result, "sailing_cancelled")) == 6


def test_a_closure_of_the_sea_leg_stops_its_sailings_until_it_ends() -> None:
    """The sea leg is closed from 10 h to 28 h: the first train, in the queue since 8.1 h,
    sails neither at 12, 18 nor 24 (each a ``sailing_closed`` row with its boxes left
    waiting) but at 30; without the closure it sails at 12. The weather draws stay paired
    (one per sailing, closed or not)."""
    raw = ferry_raw({"capacity_wagons": 10, "sailing": {"every": "6 h"}}, days=2)
    first = _run(raw).records.trains[0]
    assert _of(_run(raw), first.train_id)[1] == ("PortA", "ferry_wait", 8.1, 12.0, 12.0)
    raw["disruptions"] = {
        "scheduled": [
            {
                "id": "storm",
                "edge": ["PortA", "PortB"],
                "effect": "close",
                "start": "10 h",
                "duration": "18 h",
            }
        ]
    }
    result = _run(raw)
    assert [e.start_h for e in _rows(result, "sailing_closed")] == [12.0, 18.0, 24.0]
    assert all(e.boxes >= 2 for e in _rows(result, "sailing_closed"))
    assert [e.start_h for e in _rows(result, "sailing")][:3] == [0.0, 6.0, 30.0]
    assert _of(result, first.train_id)[1] == ("PortA", "ferry_wait", 8.1, 30.0, 30.0)
    # the return line's sailings are closed too (an edge closure closes both directions)
    assert [e.start_h for e in _rows(result, "sailing_closed", "PortB")] == [12.0, 18.0, 24.0]


def test_a_weekly_timetable_reads_the_weekdays_of_the_start_date() -> None:
    """Sailings on Wednesdays 06:00: day 0 is a Monday without a date, a Tuesday from
    2025-01-07."""
    raw = ferry_raw({"capacity_wagons": 10, "sailing": {"weekly": ["Wed 06:00"]}}, days=9)
    assert [e.start_h for e in _rows(_run(raw), "sailing")] == [54.0]
    raw["simulation"]["start_date"] = "2025-01-07"
    assert [e.start_h for e in _rows(_run(raw), "sailing")] == [30.0, 198.0]


def test_a_train_still_waiting_for_a_ferry_at_the_end_is_censored() -> None:
    raw = ferry_raw({"capacity_wagons": 10, "sailing": {"when_full": True}}, days=1)
    ev = Tables(_run(raw)).node_events
    waiting = ev[ev["kind"] == "ferry_wait"]
    assert len(waiting) >= 3 and waiting["censored"].all()
    assert waiting["wait_h"].iloc[0] == pytest.approx(24.0 - 8.1)


# ------------------------------------------------------------------ batch-service formulas


def _mean_ci(values: list[float]) -> tuple[float, float]:
    """The mean over replications and the half-width of its 99 % Student-t interval."""
    arr = np.asarray(values, dtype=float)
    t = float(stats.t.ppf(0.995, len(arr) - 1))
    return float(arr.mean()), t * float(arr.std(ddof=1)) / math.sqrt(len(arr))


def _background_waits(result: RunResult) -> list[float]:
    return [e.start_h - e.arrived_h for e in _rows(result, "ferry_wait") if e.background]


def test_poisson_trains_wait_half_the_interval_of_a_timetable() -> None:
    """Poisson arrivals of trains at a timetable with room for all: the wait for the next
    sailing is uniform on (0, interval), mean interval / 2 (a batch server with fixed
    cycle; PASTA). 10 replications of 40 days, 8 trains/day, a sailing every 10 h."""
    raw = ferry_raw(
        {"capacity_wagons": 1000, "sailing": {"every": "10 h", "first": "3 h"}},
        days=40,
        stream={"trains_per_day": 8, "boxes": 20},
    )
    raw["simulation"]["warmup_days"] = 0
    means = []
    for seed in range(1, 11):
        waits = _background_waits(_run(raw, seed))
        assert len(waits) > 250
        means.append(float(np.mean(waits)))
    mean, half = _mean_ci(means)
    assert abs(mean - 5.0) <= half + 0.05, (mean, half)
    assert half < 0.6  # the check has power


def test_a_when_full_ferry_waits_the_fill_time_of_poisson_trains() -> None:
    """A vessel of k = 4 trains' wagons sails when full (no max wait): in each voyage the
    j-th train waits for the k - j trains after it, (k - j) / lam on average, so the mean
    wait is (k - 1) / (2 lam) (the fill time of a batch of Poisson arrivals)."""
    lam = 12 / 24  # trains per hour
    raw = ferry_raw(
        {"capacity_wagons": 80, "sailing": {"when_full": True}},
        days=40,
        stream={"trains_per_day": 12, "boxes": 20},
    )
    means = []
    for seed in range(1, 11):
        waits = _background_waits(_run(raw, seed))
        assert len(waits) > 400
        means.append(float(np.mean(waits)))
    mean, half = _mean_ci(means)
    expected = (4 - 1) / (2 * lam)  # 3 h
    assert abs(mean - expected) <= half + 0.05, (mean, half, expected)
    assert half < 0.6


def test_weather_cancels_its_share_of_sailings_and_the_wait_grows_by_the_formula() -> None:
    """Cancel probability p = 0.3 in every month: the share of cancelled sailings is within
    its binomial 99.9 % interval, and a train's mean wait for a sailing that goes is
    interval / 2 + interval * p / (1 - p) (geometric number of cancelled sailings); 8
    replications of 40 days."""
    p, interval = 0.3, 10.0
    raw = ferry_raw(
        {"capacity_wagons": 1000, "sailing": {"every": "10 h"}, "cancel_by_month": [p] * 12},
        days=40,
        stream={"trains_per_day": 8, "boxes": 20},
    )
    tries = cancelled = 0
    means = []
    for seed in range(1, 9):
        result = _run(raw, seed)
        for node in ("PortA", "PortB"):
            cancelled += len(_rows(result, "sailing_cancelled", node))
            tries += len(_rows(result, "sailing", node)) + len(
                _rows(result, "sailing_cancelled", node)
            )
        means.append(float(np.mean(_background_waits(result))))
    share = cancelled / tries
    assert tries == 8 * 2 * 96  # every 10 h over 40 days, both directions
    assert abs(share - p) <= Z * math.sqrt(p * (1 - p) / tries), share
    mean, half = _mean_ci(means)
    expected = interval / 2 + interval * p / (1 - p)
    assert abs(mean - expected) <= half + 0.1, (mean, half, expected)


def test_routing_counts_the_wait_for_a_sailing() -> None:
    """The graph's expected time of a sea leg: mean wait (interval / 2, more with
    cancellations), loading, crossing, unloading and the far port's processing."""
    raw = ferry_raw(
        {
            "capacity_wagons": 10,
            "sailing": {"every": "24 h"},
            "loading": "3 h",
            "unloading": "5 h",
            "cancel_by_month": [0.5] * 12,
        }
    )
    graph = build_graph(validate_config(raw).corridor)
    # 12 h + 24 h x 0.5 / 0.5 (cancellations) + 3 + 2 (40 km at 20 km/h) + 5 + PortB 0.5
    assert graph.edges["PortA", "PortB"]["expected_h"] == pytest.approx(12 + 24 + 10 + 0.5)
    assert graph.edges["PortA", "PortB"]["run_h"] == pytest.approx(2.0)
    assert graph.edges["Hub", "PortA"]["expected_h"] == pytest.approx(2.0 + 1.0)
