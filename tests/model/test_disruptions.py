"""Disruptions: scheduled windows, breakdowns, weather, closures, rerouting, recovery."""

from __future__ import annotations

import copy
import math
from pathlib import Path
from typing import Any

import pandas as pd
import pytest
import simpy

from silkroute_sim.analysis.stats import mean_ci
from silkroute_sim.analysis.tables import Tables, kpis
from silkroute_sim.config.errors import ConfigError
from silkroute_sim.config.loader import load_config, validate_config
from silkroute_sim.engine.pools import UnitPool
from silkroute_sim.model.simulate import RunResult, simulate
from silkroute_sim.outputs.run_folder import write_run

from ..conftest import tiny_raw

# --------------------------------------------------------------------------- helpers


def _tiny(days: float = 0.5, **disruptions: Any) -> dict[str, Any]:
    """tiny_raw with evenly spaced arrivals (a box every 2.4 h) and ``disruptions``.

    Without disruptions: boxes reach the yard at 2.5 and 4.9, are loaded at 5.0 and 5.1,
    the train leaves at 5.1 and reaches Border at 7.1 (customs 1 h, gauge change 0.5 h).
    """
    raw = tiny_raw()
    raw["demand"]["arrivals"] = "deterministic"
    raw["simulation"]["days"] = days
    raw["disruptions"] = disruptions
    return raw


def _run(raw: dict[str, Any], seed: int | None = None) -> RunResult:
    return simulate(validate_config(copy.deepcopy(raw)), seed=seed)


def _border_events(result: RunResult, train_index: int) -> list[tuple[str, float, float, float]]:
    train = result.records.trains[train_index]
    return [
        (e.kind, e.arrived_h, e.start_h, e.end_h)
        for e in result.records.node_events
        if e.train_id == train.train_id and e.node == "Border" and e.kind != "held"
    ]


# --------------------------------------------------------------------------- unit pool


def _worker(env: simpy.Environment, pool: UnitPool, hours: float, log: dict[str, float], name: str):
    with pool.request() as req:
        yield req
        log[f"{name}.start"] = env.now
        lost = yield from pool.work(req, hours)
        log[f"{name}.end"] = env.now
        log[f"{name}.lost"] = lost


@pytest.mark.parametrize("resume", [True, False])
def test_a_breakdown_at_the_very_end_of_the_work_leaves_no_negative_time(resume: bool) -> None:
    """A unit failing at the instant its work ends (before the work's own wake-up) left
    -2.8e-17 h to do, and the resumed work asked for a negative delay."""
    env = simpy.Environment()
    pool = UnitPool(env, 1, resume=resume)
    log: dict[str, float] = {}

    def worker():
        yield env.timeout(0.1)
        yield from _worker(env, pool, 0.2, log, "a")

    def breakdown():
        yield env.timeout(0.1 + 0.2)  # the end of the work, to the bit
        pool.fail(0)
        yield env.timeout(0.5)
        pool.repair(0)

    env.process(breakdown())  # its wake-up comes before the work's, at the same time
    env.process(worker())
    env.run()
    assert log["a.start"] == 0.1
    assert log["a.end"] == pytest.approx(0.8 if resume else 1.0)


@pytest.mark.parametrize(("resume", "end", "lost"), [(True, 1.25, 0.25), (False, 1.65, 0.65)])
def test_unit_breaking_mid_task_resumes_or_redoes(resume: bool, end: float, lost: float) -> None:
    env = simpy.Environment()
    pool = UnitPool(env, 1, resume=resume)
    log: dict[str, float] = {}
    env.process(_worker(env, pool, 1.0, log, "a"))
    env.process(_worker(env, pool, 0.5, log, "b"))  # queued behind a

    def breakdown():
        yield env.timeout(0.4)
        pool.fail(0)
        yield env.timeout(0.25)
        pool.repair(0)

    env.process(breakdown())
    env.run()
    # a: 0.4 h done, broken 0.4-0.65, then the remaining 0.6 h (resume) or all 1.0 h (redo)
    assert log["a.end"] == pytest.approx(end)
    assert log["a.lost"] == pytest.approx(lost)
    assert log["b.start"] == pytest.approx(end)
    assert log["b.end"] == pytest.approx(end + 0.5)


def test_idle_unit_breaking_leaves_the_pool_until_repaired() -> None:
    env = simpy.Environment()
    pool = UnitPool(env, 2)
    log: dict[str, float] = {}

    def late_worker():
        yield env.timeout(1.0)
        yield from _worker(env, pool, 1.0, log, "c")

    env.process(_worker(env, pool, 3.0, log, "a"))  # holds one unit 0-3
    env.process(late_worker())  # wants the other at 1.0: it broke at 0.5, back at 2.0

    def breakdown():
        yield env.timeout(0.5)
        pool.fail(1 - pool.unit_of[pool.users[0]])
        yield env.timeout(1.5)
        pool.repair(1 - pool.unit_of[pool.users[0]])

    env.process(breakdown())
    env.run()
    assert log["a.end"] == pytest.approx(3.0)
    assert log["c.start"] == pytest.approx(2.0)
    assert log["c.end"] == pytest.approx(3.0)


def test_capacity_cut_lets_work_in_hand_finish() -> None:
    env = simpy.Environment()
    pool = UnitPool(env, 2)
    log: dict[str, float] = {}

    def later(delay: float, hours: float, name: str):
        yield env.timeout(delay)
        yield from _worker(env, pool, hours, log, name)

    def cut():
        yield env.timeout(1.0)
        pool.set_limit(1)
        yield env.timeout(2.5)
        pool.set_limit(2)

    for name in ("a", "b"):
        env.process(_worker(env, pool, 2.0, log, name))
    env.process(later(0.5, 1.0, "c"))
    env.process(later(2.5, 1.0, "d"))
    env.process(later(2.6, 1.0, "e"))
    env.process(cut())
    env.run()
    assert log["a.end"] == log["b.end"] == pytest.approx(2.0)  # not cut short
    assert log["c.start"] == pytest.approx(2.0)  # one unit in service from 1.0
    assert log["d.start"] == pytest.approx(3.0)
    assert log["e.start"] == pytest.approx(3.5)  # the second unit is back at 3.5


# --------------------------------------------------------------------------- hub, exact


def test_no_disruption_timeline_is_the_reference() -> None:
    result = _run(_tiny())
    ships = result.records.shipments
    assert [s.yard_in_h for s in ships[:2]] == pytest.approx([2.5, 4.9])
    assert result.records.trains[0].departed_h == pytest.approx(5.1)
    assert result.disruptions is None


@pytest.mark.parametrize(("on_repair", "yard_in"), [("resume", 3.0), ("redo", 3.05)])
def test_crane_breakdown_mid_lift_exact_delay(on_repair: str, yard_in: float) -> None:
    # the only crane fails 2.45 h into the run, half-way through the first box's 0.1 h
    # lift (2.4-2.5), and is repaired after exactly 0.5 h (fixed times are written so: a
    # bare mtbf/mttr is an exponential mean)
    breakdown = {
        "hub": "cranes",
        "mtbf": {"dist": "constant", "value": "2.45 h"},
        "mttr": {"dist": "constant", "value": "0.5 h"},
        "on_repair": on_repair,
    }
    result = _run(_tiny(random={"breakdowns": [breakdown]}))
    ships = result.records.shipments
    assert ships[0].yard_in_h == pytest.approx(yard_in)  # 2.95 + 0.05 left, or + 0.1 anew
    assert ships[1].yard_in_h == pytest.approx(4.9)  # repaired before it arrived
    assert result.records.trains[0].departed_h == pytest.approx(5.1)
    assert result.disruptions is not None
    first = result.disruptions.windows[0]
    assert (first.kind, first.start_h, first.end_h) == ("breakdown", 2.45, pytest.approx(2.95))
    down = result.records.monitors["cranes_down"]
    assert down.integral(0, 12) == pytest.approx(0.5 * len(result.disruptions.windows))


def test_crane_breakdown_while_idle_delays_the_next_box_by_the_rest_of_the_repair() -> None:
    # fails idle at 4.5, repaired at 5.0: box 2 (arrived 4.8) waits 0.2 h, then every
    # later move of the first train shifts by 0.2 h
    breakdown = {
        "hub": "cranes",
        "mtbf": {"dist": "constant", "value": "4.5 h"},
        "mttr": {"dist": "constant", "value": "0.5 h"},
    }
    result = _run(_tiny(random={"breakdowns": [breakdown]}))
    ships = result.records.shipments
    assert ships[0].yard_in_h == pytest.approx(2.5)
    assert ships[1].yard_in_h == pytest.approx(5.1)
    assert [s.loaded_h for s in ships[:2]] == pytest.approx([5.2, 5.3])
    assert result.records.trains[0].departed_h == pytest.approx(5.3)


def test_scheduled_crane_closure_and_slow_moves_exact() -> None:
    scheduled = [
        {"id": "cranes-off", "hub": "cranes", "effect": "close", "start": 2.0, "end": 3.0},
        {"id": "slow", "hub": "cranes", "effect": "processing_time", "factor": 2,
         "start": 4.0, "end": 6.0},
    ]  # fmt: skip
    result = _run(_tiny(scheduled=scheduled))
    ships = result.records.shipments
    assert ships[0].yard_in_h == pytest.approx(3.1)  # arrived 2.4, waits for 3.0
    assert ships[1].yard_in_h == pytest.approx(5.0)  # 4.8 + 2 x 0.1 h
    assert [s.loaded_h for s in ships[:2]] == pytest.approx([5.2, 5.4])
    assert result.records.trains[0].departed_h == pytest.approx(5.4)


def test_closed_gate_and_full_yard_block_without_losing_cargo() -> None:
    scheduled = [
        {"hub": "gate", "effect": "close", "start": 0, "end": 5.0},
        {"hub": "yard", "effect": "capacity", "teu": 2, "start": 0, "end": 12.0},
    ]
    result = _run(_tiny(days=1.0, scheduled=scheduled))
    ships = result.records.shipments
    # both boxes wait at the closed gate; then the 2-TEU yard takes one box at a time
    assert ships[0].yard_in_h == pytest.approx(5.1)
    assert math.isnan(ships[1].yard_in_h) or ships[1].yard_in_h >= 12.0
    assert result.ledger.conservation_error_t == 0
    assert result.ledger.gate_kg > 0


# --------------------------------------------------------------------------- composition


def test_overlapping_node_effects_compose_exactly() -> None:
    # Border: processing time x2 (0-30 h) and x1.5 (0-8 h) overlap -> x3 for the first train;
    # capacity 2 trains/day (absolute) during a x0.5 capacity cut -> one train per 24 h.
    scheduled = [
        {"node": "Border", "effect": "processing_time", "factor": 2, "start": 0, "end": 30},
        {"node": "Border", "effect": "processing_time", "factor": 1.5, "start": 0, "end": 8},
        {"node": "Border", "effect": "capacity", "trains_per_day": 2, "start": 0, "end": 40},
        {"node": "Border", "effect": "capacity", "factor": 0.5, "start": 0, "end": 40},
    ]
    result = _run(_tiny(days=2.0, scheduled=scheduled))
    assert result.records.trains[1].departed_h == pytest.approx(9.9)
    assert _border_events(result, 0) == [
        ("customs", pytest.approx(7.1), pytest.approx(7.1), pytest.approx(10.1)),
        ("gauge_change", pytest.approx(10.1), pytest.approx(10.1), pytest.approx(11.6)),
    ]
    # second train: arrives 11.9, next start 7.1 + 24 h; by then only the x2 window is over
    assert _border_events(result, 1) == [
        ("customs", pytest.approx(11.9), pytest.approx(31.1), pytest.approx(32.1)),
        ("gauge_change", pytest.approx(32.1), pytest.approx(32.1), pytest.approx(32.6)),
    ]


def test_overlapping_edge_speed_and_capacity_cuts_compose_exactly() -> None:
    # Hub-Border (2 h): speed x0.5 (0-20 h) and x0.5 (4-20 h) -> x0.25 for a train entering
    # at 5.1 (8 h run); a line capacity of 2 trains/day during both spaces entries by 12 h.
    edge = ["Hub", "Border"]
    scheduled = [
        {"edge": edge, "effect": "speed", "factor": 0.5, "start": 0, "end": 20},
        {"edge": edge, "effect": "speed", "factor": 0.5, "start": 4, "end": 20},
        {"edge": edge, "effect": "capacity", "trains_per_day": 2, "start": 0, "end": 20},
    ]
    result = _run(_tiny(days=2.0, scheduled=scheduled))
    first, second = _border_events(result, 0)[0], _border_events(result, 1)[0]
    assert first[1] == pytest.approx(5.1 + 8.0)
    # the second train leaves at 9.9 and may enter at 17.1: still x0.25 -> Border at 25.1
    assert result.records.trains[1].departed_h == pytest.approx(9.9)
    assert second[1] == pytest.approx(17.1 + 8.0)
    # a third train enters after both windows: the plain 2 h again
    third = _border_events(result, 2)[0]
    entered = max(result.records.trains[2].departed_h, 17.1 + 12.0)
    assert third[1] == pytest.approx(entered + 2.0)


@pytest.mark.slow
def test_a_neutral_disruption_changes_nothing(tmp_path: Path) -> None:
    cfg = load_config("configs/baseline.yaml", days=20, warmup_days=5)
    plain = Tables(simulate(cfg))
    neutral = load_config(
        "configs/baseline.yaml",
        ["disruptions.scheduled=[{edge: [Urumqi, Jinghe], effect: speed, factor: 1, "
         "start: 1 d, duration: 10 d}]"],
        days=20,
        warmup_days=5,
    )  # fmt: skip
    hooked = Tables(simulate(neutral))
    pd.testing.assert_frame_equal(plain.shipments, hooked.shipments)
    pd.testing.assert_frame_equal(plain.node_events, hooked.node_events)
    assert hooked.disruptions is not None and len(hooked.disruptions) == 1


# --------------------------------------------------------------------------- closures


def test_fixed_route_train_is_held_at_the_hub_while_the_border_is_closed() -> None:
    raw = _tiny(days=1.0, scheduled=[{"node": "Border", "effect": "close", "start": 3, "end": 10}])
    result = _run(raw)
    train = result.records.trains[0]
    assert train.formed_h == pytest.approx(5.1)
    assert train.departed_h == pytest.approx(10.0)  # held on its loading track
    assert _border_events(result, 0)[0][1] == pytest.approx(12.0)
    stranded = result.records.monitors["stranded_trains"]
    assert stranded.integral(0, 12) == pytest.approx(10.0 - 5.1)


def test_train_waits_at_the_last_node_before_a_closed_terminal() -> None:
    raw = _tiny(days=1.0, scheduled=[{"node": "Term", "effect": "close", "start": 5, "end": 12}])
    result = _run(raw)
    train = result.records.trains[0]
    assert train.departed_h == pytest.approx(5.1)  # Border can hold it: it leaves
    assert _border_events(result, 0)[-1][3] == pytest.approx(8.6)
    assert train.arrived_h == pytest.approx(12.0 + 2.0)  # waited at Border until 12
    assert result.records.monitors["stranded_trains"].integral(0, 24) == pytest.approx(12 - 8.6)


def test_background_trains_obey_closures() -> None:
    raw = _tiny(days=3.0, scheduled=[{"node": "Border", "effect": "close", "start": 24, "end": 48}])
    raw["corridor"]["background"] = {
        "other": {"route": ["Border", "Term"], "trains_per_day": 6, "interarrival_cv": 0}
    }
    result = _run(raw)
    ev = Tables(result).node_events
    bg = ev[ev["background"] & (ev["node"] == "Border")]
    assert ((bg["start_h"] >= 24) & (bg["start_h"] < 48)).sum() == 0
    assert (bg["start_h"] >= 48).sum() >= 6  # held, then processed after the closure
    assert result.records.monitors["stranded_background_trains"].max(24, 48) >= 5


# --------------------------------------------------------------------------- baseline


KHORGOS = "disruptions.scheduled=[{id: khorgos, node: Khorgos, effect: close, start: 15 d, duration: 7 d}]"  # noqa: E501


@pytest.fixture(scope="module")
def khorgos_closed() -> tuple[Tables, Tables]:
    plain = Tables(simulate(load_config("configs/baseline.yaml", days=40, warmup_days=10)))
    closed = Tables(
        simulate(load_config("configs/baseline.yaml", [KHORGOS], days=40, warmup_days=10))
    )
    return plain, closed


@pytest.mark.slow
def test_khorgos_closure_sends_every_urumqi_train_via_alashankou(khorgos_closed) -> None:
    plain, closed = khorgos_closed
    start, end = 15 * 24.0, 22 * 24.0

    def window(trains: pd.DataFrame) -> pd.DataFrame:
        # the hub's trains reach the Jinghe branch ~8.3 h after leaving; give them the full
        # window (eastbound trains pass Khorgos towards the hub: not these)
        west = trains[trains["direction"] == "west"]
        return west[(west["departed_h"] >= start) & (west["departed_h"] < end - 9)]

    usual = window(plain.trains)
    assert usual["route"].str.contains("Khorgos").sum() >= 5  # the closure matters
    during = window(closed.trains)
    assert len(during) >= 15
    assert not during["route"].str.contains("Khorgos").any()
    assert during["route"].str.contains("Alashankou").all()
    ev = closed.node_events
    at_khorgos = ev[(ev["node"] == "Khorgos") & (ev["start_h"] >= start) & (ev["start_h"] < end)]
    assert at_khorgos.empty  # nothing processed while closed


@pytest.mark.slow
def test_khorgos_closure_raises_waits_on_the_alashankou_crossing(khorgos_closed) -> None:
    plain, closed = khorgos_closed
    start, end = 15 * 24.0, 22 * 24.0 + 48

    def crossing_wait(tables: Tables) -> float:
        ev = tables.node_events
        sel = ev[
            ev["node"].isin(["Alashankou", "Dostyk"])
            & (ev["arrived_h"] >= start)
            & (ev["arrived_h"] < end)
        ].drop_duplicates(["train_id", "node"])
        return float(sel.groupby("train_id")["wait_h"].sum().mean())

    assert crossing_wait(closed) > crossing_wait(plain) + 1.0


@pytest.mark.slow
def test_khorgos_closure_reports_a_finite_recovery(khorgos_closed) -> None:
    _, closed = khorgos_closed
    k = kpis(closed.summary)
    assert 0 <= k["recovery_h:khorgos"] < 18 * 24
    assert k["recovery_h:khorgos"] % 24 == 0  # whole days after the end of the window
    row = closed.disruptions.set_index("id").loc["khorgos"]
    assert row["start_h"] == 360 and row["end_h"] == 528
    assert row["affected_shipments"] > 0
    # background trains for Khorgos were held outside the model during the closure
    assert row["stranded_background_trains_max"] >= 50
    assert k["conservation_error_t"] == 0


@pytest.mark.slow
def test_both_crossings_closed_strand_trains_and_fill_the_yard() -> None:
    closures = (
        "disruptions.scheduled=["
        "{id: khorgos, node: Khorgos, effect: close, start: 15 d, duration: 5 d},"
        "{id: alashankou, node: Alashankou, effect: close, start: 15 d, duration: 5 d}]"
    )
    # a 1,500 TEU yard (baseline 2,000) so that it fills within the 5-day window
    cfg = load_config(
        # 50 days: recovery must last a week to count (it comes 8 days after the closures)
        "configs/baseline.yaml",
        [closures, "hub.yard.capacity_teu=1500"],
        days=50,
        warmup_days=10,
    )
    result = simulate(cfg)
    tables = Tables(result)
    k = kpis(tables.summary)
    start, end = 15 * 24.0, 20 * 24.0
    mons = result.records.monitors
    # every loading track holds a train that cannot leave, and more wait on the corridor
    assert k["stranded_trains_max:khorgos"] >= cfg.hub.loading.tracks
    trains = tables.trains
    departed = trains.loc[trains["direction"] == "west", "departed_h"]  # from the hub
    assert ((departed > start + 12) & (departed < end)).sum() == 0
    # the yard fills to capacity and the gate blocks: trucks queue, nothing is lost
    assert mons["yard_teu"].max(start, end) >= 1500 - 2
    normal_queue = mons["gate_queue"].mean(10 * 24.0, start)
    assert mons["gate_queue"].max(start, end + 24) > normal_queue + 5
    row = tables.disruptions.set_index("id").loc["khorgos"]
    assert row["backlog_t_max"] > 3 * row["backlog_t_before"]
    assert k["conservation_error_t"] == 0
    ledger = result.ledger
    assert ledger.gate_kg + ledger.yard_kg + ledger.on_train_kg + ledger.delivered_kg == (
        ledger.arrived_kg
    )
    assert math.isfinite(k["recovery_h:khorgos"])
    assert row["recovery_status"] == "recovered"


# --------------------------------------------------------------------------- weather


def _weather_raw(rates: list[float], days: float, demand: float = 100) -> dict[str, Any]:
    raw = _tiny(
        days=days,
        random={
            "weather": [
                {"id": "gales", "node": "Border", "events_per_month": rates, "duration": "6 h"}
            ]
        },
    )
    raw["demand"]["tonnes_per_day"] = demand
    raw["outputs"] = {"plots": False}
    return raw


def test_weather_follows_its_months_and_rate() -> None:
    years = 4
    rates = [6.0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 3.0]  # gales in January and December only
    result = _run(_weather_raw(rates, days=365 * years, demand=20))
    assert result.disruptions is not None
    starts = [w.start_h for w in result.disruptions.windows if w.kind == "weather"]
    month_h = 365 / 12 * 24
    months = {int((t % (365 * 24)) // month_h) for t in starts}
    assert months <= {0, 11}
    expected = 9.0 * years  # Poisson: the count lies within 3.3 sd of its mean (p > 0.999)
    assert abs(len(starts) - expected) <= 3.3 * math.sqrt(expected)
    assert all(w.end_h - w.start_h == pytest.approx(6.0) for w in result.disruptions.windows)


def test_weather_draws_are_common_random_numbers_across_scenarios() -> None:
    rates = [2.0] * 12
    low = _run(_weather_raw(rates, days=200, demand=50))
    high = _run(_weather_raw(rates, days=200, demand=150))
    assert low.disruptions is not None and high.disruptions is not None
    assert low.disruptions.windows == high.disruptions.windows
    other_seed = _run(_weather_raw(rates, days=200, demand=50), seed=99)
    assert other_seed.disruptions is not None
    assert other_seed.disruptions.windows != low.disruptions.windows


@pytest.mark.slow
def test_crane_availability_matches_mtbf_and_mttr() -> None:
    # long-run share of cranes down = MTTR / (MTBF + MTTR) for an alternating renewal process
    mtbf, mttr = 20.0, 5.0
    raw = _tiny(
        days=120,
        random={
            "breakdowns": [
                {
                    "hub": "cranes",
                    "mtbf": {"dist": "exponential", "mean": mtbf},
                    "mttr": {"dist": "gamma", "mean": mttr, "cv": 0.5},
                }
            ]
        },
    )
    raw["hub"]["cranes"]["count"] = 3
    raw["simulation"]["warmup_days"] = 0
    shares = []
    for seed in range(8):
        result = _run(raw, seed=seed)
        shares.append(result.records.monitors["cranes_down"].mean(0, result.end_h) / 3)
    mean, low, high, _ = mean_ci(shares, level=0.99)
    assert low <= mttr / (mtbf + mttr) <= high, (mean, low, high)


# --------------------------------------------------------------------------- outputs, config


@pytest.mark.slow
def test_result_folder_has_disruptions_csv_and_summary_rows(tmp_path: Path) -> None:
    raw = _tiny(days=2.0, scheduled=[{"id": "shut", "node": "Border", "effect": "close",
                                      "start": 10, "duration": 6}])  # fmt: skip
    raw["outputs"] = {"plots": True}
    result = _run(raw)
    folder, _, _ = write_run(result, tmp_path / "run", plots=True)
    frame = pd.read_csv(folder / "disruptions.csv")
    assert list(frame["id"]) == ["shut"]
    for column in (
        "target",
        "effect",
        "start_h",
        "end_h",
        "stranded_trains_max",
        "backlog_t_max",
        "recovery_h",
        "affected_shipments",
        "extra_door_to_door_d_mean",
    ):
        assert column in frame.columns
    summary = pd.read_csv(folder / "summary.csv")
    assert {"recovery_h:shut", "stranded_trains_max", "backlog_t_max:shut"} <= set(
        summary["metric"]
    )
    assert (folder / "plots" / "throughput.png").stat().st_size > 0
    plain_folder, _, _ = write_run(_run(_tiny()), tmp_path / "plain", plots=False)
    assert not (plain_folder / "disruptions.csv").exists()


@pytest.mark.slow
@pytest.mark.parametrize(
    ("event", "path", "text"),
    [
        ({"node": "Khorgas", "effect": "close"}, "disruptions.scheduled.0.node", "did you mean"),
        ({"edge": ["Dostyk", "Almaty"], "effect": "close"},
         "disruptions.scheduled.0.edge", "no edge"),
        ({"node": "Jinghe", "effect": "capacity", "factor": 0.5},
         "disruptions.scheduled.0.effect", "only 'close'"),
        ({"node": "Khorgos", "effect": "speed", "factor": 0.5},
         "disruptions.scheduled.0.effect", "applies to edges"),
        ({"hub": "gate", "effect": "capacity", "tracks": 2},
         "disruptions.scheduled.0.tracks", "lanes"),
        ({"node": "Khorgos", "hub": "cranes", "effect": "close"},
         "disruptions.scheduled.0", "exactly one target"),
        ({"node": "Khorgos", "effect": "capacity"}, "disruptions.scheduled.0", "exactly one of"),
    ],
)  # fmt: skip
def test_bad_disruptions_get_one_line_errors(event: dict, path: str, text: str) -> None:
    cfg = load_config("configs/baseline.yaml").resolved()
    cfg["disruptions"] = {"scheduled": [{**event, "start": "1 d", "duration": "2 d"}]}
    with pytest.raises(ConfigError) as info:
        validate_config(cfg, "s.yaml")
    message = str(info.value)
    assert message.startswith(f"s.yaml: {path}:"), message
    assert text in message
    assert "\n" not in message
