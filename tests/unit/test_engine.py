"""The event engine and the dispatchers' lazy customs are exact stand-ins.

* :class:`Engine` must process the same events in the same order as SimPy's own
  ``Environment`` — ties, interrupts, failures, conditions and repeated ``run(until)``.
* Lazy customs (ready events only for units whose look can change something) must give
  the very same run as one ready event per unit (``tests/reference.py``).
* Trains (background and service) run as engine tasks must give the very same run as the
  same generators run as SimPy processes (``tests/reference.py``), disruptions included.
"""

from __future__ import annotations

import itertools
import math
import random
import struct
from typing import Any

import pandas as pd
import pytest
import simpy

import silkroute_sim.engine.resources as resources_module
import silkroute_sim.model.corridor as corridor_module
import silkroute_sim.model.hub as hub_module
import silkroute_sim.model.simulate as simulate_module
from silkroute_sim.analysis.tables import node_events_frame, shipments_frame, trains_frame
from silkroute_sim.buildinfo import compiled_modules
from silkroute_sim.config.loader import load_config, validate_config
from silkroute_sim.engine.pools import FastPool
from silkroute_sim.engine.resources import Clock, Engine, HeapClock, SlotClock, call_at
from silkroute_sim.model.simulate import simulate

from ..conftest import CONFIGS, tiny_raw
from ..reference import OneEventPerUnitDispatcher, as_process, as_process_from_here

# ---------------------------------------------------------------- engine vs SimPy


@pytest.fixture(params=["SlotClock", "HeapClock"])
def queue(request: pytest.FixtureRequest, monkeypatch: pytest.MonkeyPatch) -> str:
    """Engines made in the test use this queue (each build uses one; both must be SimPy)."""
    monkeypatch.setattr(resources_module, "CLOCK", getattr(resources_module, request.param))
    return str(request.param)


def _workload(env: simpy.Environment, seed: int, trace: list[tuple[float, str]]) -> None:
    """Processes, resources, interrupts, shared events, conditions and callbacks, with
    times on a 0.5 h grid so that many events tie."""
    rng = random.Random(seed)
    desk = simpy.Resource(env, capacity=2)
    pool = FastPool(env, 1)
    signal = env.event()
    workers: list[simpy.Process] = []

    def step() -> float:
        return rng.choice([0.0, 0.5, 1.0, 1.5])

    def worker(name: str):  # type: ignore[no-untyped-def]
        try:
            for i in range(rng.randint(2, 6)):
                yield env.timeout(step())
                trace.append((env.now, f"{name}.{i}"))
                if rng.random() < 0.5:
                    with desk.request() as req:
                        yield req
                        trace.append((env.now, f"{name}.desk"))
                        yield env.timeout(step())
                else:
                    with pool.request() as req:
                        yield req
                        trace.append((env.now, f"{name}.pool"))
                        yield env.timeout(step())
                if rng.random() < 0.2:
                    yield env.any_of([env.timeout(step()), signal])
                    trace.append((env.now, f"{name}.any"))
                if rng.random() < 0.2:
                    yield env.all_of([env.timeout(step()), env.timeout(step())])
                    trace.append((env.now, f"{name}.all"))
        except simpy.Interrupt as stop:
            trace.append((env.now, f"{name}.interrupted:{stop.cause}"))

    def chain(call: Any) -> None:
        trace.append((env.now, f"call.{call.arg}"))
        if call.arg < 12:
            call_at(env, step(), chain, call.arg + 1)

    def boss():  # type: ignore[no-untyped-def]
        for k in range(6):
            yield env.timeout(step() + 0.5)
            workers.append(env.process(worker(f"late{k}")))
            victim = rng.choice(workers)
            if victim.is_alive:
                victim.interrupt(k)
            if k == 3:
                signal.succeed("go")
        failing = env.event()
        failing.fail(RuntimeError("handled"))
        failing.defused = True  # a failure someone handled does not stop the run
        trace.append((env.now, "boss.done"))

    for k in range(5):
        workers.append(env.process(worker(f"w{k}")))
    env.process(boss())
    call_at(env, 0.0, chain, 0)


@pytest.mark.parametrize("seed", range(12))
def test_engine_runs_events_in_simpys_order(seed: int, queue: str) -> None:
    traces = []
    for env in (simpy.Environment(), Engine()):
        trace: list[tuple[float, str]] = []
        _workload(env, seed, trace)
        # repeated runs stop at the same places, also where ``now + (until - now)`` is
        # not ``until`` in floating point
        for until in (2.5, 3, 7.5, 9.2, 9.3000001, 40.0):
            env.run(until=until)
            trace.append((env.now, "stop"))
        traces.append((trace, next(env._eid)))  # type: ignore[attr-defined]
    assert traces[0] == traces[1]
    assert len(traces[0][0]) > 30


def test_engine_raises_failures_and_bad_until_like_simpy(queue: str) -> None:
    for env in (simpy.Environment(), Engine()):

        def broken(env: simpy.Environment = env):  # type: ignore[no-untyped-def]
            yield env.timeout(1)
            raise KeyError("boom")

        env.process(broken())
        with pytest.raises(KeyError, match="boom"):
            env.run(until=5)
        with pytest.raises(ValueError, match="greater than the current"):
            env.run(until=env.now)


def test_engine_stops_where_simpy_stops_in_floating_point(queue: str) -> None:
    # SimPy puts its stop event at now + (until - now), which is 185.23899999999998 here:
    # a timeout due at 49.2 + (185.239 - 49.2) = 185.239 must not run
    results = []
    for env in (simpy.Environment(), Engine()):
        env.run(until=49.2)
        fired: list[float] = []
        timeout = env.timeout(185.239 - 49.2)
        timeout.callbacks.append(lambda _e, env=env, fired=fired: fired.append(env.now))
        env.run(until=185.239)
        results.append((env.now, fired, type(env.now)))
        env.run(until=200)
        results.append((env.now, fired, type(env.now)))
    assert results[:2] == results[2:]


def test_engine_after_a_failed_run_and_a_stop_inside_a_callback_is_simpy(queue: str) -> None:
    traces = []
    for env in (simpy.Environment(), Engine()):
        trace: list[tuple[float, str]] = []

        def broken(env: simpy.Environment = env):  # type: ignore[no-untyped-def]
            yield env.timeout(1)
            raise KeyError("boom")

        def ticker(env: simpy.Environment = env, trace: list = trace):  # type: ignore[no-untyped-def]
            while True:
                yield env.timeout(0.75)
                trace.append((env.now, "tick"))

        def stopper(call: Any, env: simpy.Environment = env) -> None:
            raise simpy.core.StopSimulation("stopped")

        env.process(broken())
        env.process(ticker())
        with pytest.raises(KeyError):
            env.run(until=5)
        trace.append((env.now, f"after failure: {env.run(until=6)!r}"))  # left-over stop
        call_at(env, 0.5, stopper)
        trace.append((env.now, f"stopped: {env.run(until=8)!r}"))
        env.run(until=9)
        traces.append((trace, next(env._eid)))  # type: ignore[attr-defined]
    assert traces[0] == traces[1]


def test_engine_keeps_active_current_in_every_form_of_run(queue: str) -> None:
    env = Engine()
    seen: list[bool] = []
    for delay in (1, 2, 3):
        timeout = env.timeout(delay)
        timeout.callbacks.append(lambda e, env=env: seen.append(env.active[3] is e))
    env.run(until=env.timeout(1.5))  # until an event
    env.step()
    env.run()  # until the queue is empty
    # three timeouts, the ``until`` timeout, and that one again: SimPy puts it back on
    # the queue (emptied) when it stops a run
    assert env.processed == 5
    for delay in (1, 2):  # and the loop of ``run(until=<time>)``, for a Call and an event
        call_at(env, delay, lambda call, env=env: seen.append(env.active[3] is call))
        timeout = env.timeout(delay + 0.5)
        timeout.callbacks.append(lambda e, env=env: seen.append(env.active[3] is e))
    env.run(until=env.now + 3)
    assert seen == [True] * 7


def test_engine_keeps_simpys_other_run_forms(queue: str) -> None:
    env = Engine()
    done = env.timeout(3, value="v")
    assert env.run(until=done) == "v"
    env.timeout(2)
    env.run()  # until the queue is empty
    assert env.now == 5


@pytest.mark.parametrize("kind", [SlotClock, HeapClock])
def test_clock_pops_in_simpys_key_order_with_ties_priorities_and_reserved_ids(
    kind: type[Clock],
) -> None:
    """Both queues (pure Python's heap of distinct times with a slot per time, the
    compiled build's heap of nodes) give SimPy's order (time, priority, event id)
    whatever order the entries come in: many at one time, urgent ones among normal ones,
    ids taken earlier and queued later (lazy customs), entries queued at the time being
    processed."""
    from heapq import heappop, heappush

    rng = random.Random(3)
    clock = kind()
    reference: list[tuple[float, int, int, str]] = []
    reserved: list[tuple[float, int, int]] = []
    popped: list[tuple[float, int, int, str]] = []
    expected: list[tuple[float, int, int, str]] = []
    for round_ in range(400):
        for _ in range(rng.randint(0, 4)):
            t = clock.now + rng.choice((0.0, 0.0, 0.25, 0.5, 1.0, rng.random()))
            priority = rng.choice((0, 1, 1, 1, -1 if rng.random() < 0.05 else 1))
            eid = clock.next_id()
            if rng.random() < 0.3:  # reserved now, queued later
                reserved.append((t, priority, eid))
                continue
            label = f"e{eid}"
            clock.push(t, (priority, eid, label))
            heappush(reference, (t, priority, eid, label))
        while reserved and rng.random() < 0.5:
            t, priority, eid = reserved.pop(rng.randrange(len(reserved)))
            t = max(t, clock.now)
            clock.push(t, (priority, eid, f"e{eid}"))
            heappush(reference, (t, priority, eid, f"e{eid}"))
        if reference and (rng.random() < 0.6 or round_ > 380):
            expected.append(heappop(reference))
            label = clock.pop()
            assert clock.now == expected[-1][0]
            popped.append(clock.active())
            assert clock.peek() == (reference[0][0] if reference else math.inf)
    while reference:
        expected.append(heappop(reference))
        label = clock.pop()
        popped.append(clock.active())
        assert popped[-1][3] == label
    assert popped == expected
    assert len(popped) > 500
    assert sum(1 for a, b in itertools.pairwise(popped) if a[0] == b[0]) > 200  # many ties
    assert clock.empty() and clock.peek() == math.inf


def test_engine_keeps_its_queue_on_the_clock_and_says_so(queue: str) -> None:
    env = Engine()
    assert env.now == 0.0 and isinstance(env.now, float)
    env.timeout(2)
    assert env.peek() == 2.0
    ids = [next(env._eid), next(env._eid)]  # type: ignore[attr-defined]
    assert ids == [1, 2]  # the timeout took id 0
    assert env.clock.next_id() == 3
    with pytest.raises(AttributeError, match=r"keeps its events in \.clock"):
        env._queue  # noqa: B018  # type: ignore[attr-defined]
    env.run()
    assert env.now == 2.0 and env.processed == 1


def test_engine_after_a_run_peeks_and_steps_like_simpy(queue: str) -> None:
    """SimPy puts its emptied ``until`` event back on the queue (first in line) when it
    stops a run: ``peek`` then gives the stop time and ``step`` processes nothing there."""
    seen = []
    for env in (simpy.Environment(), Engine()):
        trace: list[tuple[str, float]] = []
        env.timeout(7)
        env.timeout(3.5)
        env.run(until=3.5)  # stops before the timeout due at 3.5
        for _ in range(3):
            trace.append(("peek", env.peek()))
            env.step()
            trace.append(("now", env.now))
        env.run(until=10)
        trace.append(("peek", env.peek()))
        seen.append((trace, next(env._eid)))  # type: ignore[attr-defined]
    assert seen[0] == seen[1]
    assert seen[0][0][:4] == [("peek", 3.5), ("now", 3.5), ("peek", 3.5), ("now", 3.5)]


# ---------------------------------------------------------------- lazy customs


def _customs_raw(policy: dict[str, Any], clearance: Any, inspection: Any) -> dict[str, Any]:
    raw = tiny_raw()
    raw["simulation"]["days"] = 12
    raw["demand"]["tonnes_per_day"] = 400
    raw["services"]["term"]["capacity_teu"] = 12
    raw["services"]["term"]["policy"] = policy
    raw["hub"]["customs"] = {
        "clearance_time": clearance,
        "inspection_probability": 0.3,
        "inspection_time": inspection,
    }
    return raw


def _tied(policy: dict[str, Any]) -> dict[str, Any]:
    """Every time a multiple of 0.25 h, exact in binary: a box every 0.5 h, 15-minute
    lifts, 1 h clearance, 2 h inspections. Ready events tie with timers, timetable
    calls and each other at the same instants, in every order the queue can give."""
    raw = _customs_raw(policy, "1 h", "2 h")
    raw["demand"]["arrivals"] = "deterministic"
    raw["demand"]["tonnes_per_day"] = 480  # 48 boxes of 10 t a day
    raw["hub"]["cranes"]["move_time"] = "15 min"
    raw["services"]["term"]["capacity_teu"] = 40  # timers, not full trains, call most
    return raw


def _cleared_at_once(policy: dict[str, Any]) -> dict[str, Any]:
    """:func:`_tied` with no clearance time: a unit not inspected is ready the instant it
    is in the yard, tying exactly with ready events of held units, which the dispatcher
    must then release by their queue keys (``Engine.active``)."""
    raw = _tied(policy)
    raw["hub"]["customs"]["clearance_time"] = "0 h"
    return raw


CASES = {
    "hybrid-tied": _tied({"kind": "hybrid", "max_wait": "3 h", "min_load": 0.1}),
    "hybrid-cleared-at-once": _cleared_at_once(
        {"kind": "hybrid", "max_wait": "3 h", "min_load": 0.1}
    ),
    "full-cleared-at-once": _cleared_at_once({"kind": "full"}),
    "schedule-tied": _tied(
        {"kind": "schedule", "departures": [6, 18], "cutoff": "45 min", "min_load": 0.1}
    ),
    # constant times: ready events tie with each other and with timers and timetable
    "hybrid-constant": _customs_raw(
        {"kind": "hybrid", "max_wait": "3 h", "min_load": 0.5}, "1 h", "2 h"
    ),
    "hybrid-random": _customs_raw(
        {"kind": "hybrid", "max_wait": "5 h", "min_load": 0.7},
        {"dist": "exponential", "mean": "2 h"},
        {"dist": "gamma", "mean": "6 h", "cv": 0.8},
    ),
    "full-random": _customs_raw({"kind": "full"}, {"dist": "exponential", "mean": "3 h"}, "4 h"),
    "schedule-constant": _customs_raw(
        {"kind": "schedule", "departures": [6, 18], "cutoff": "1 h", "min_load": 0.2},
        "1 h",
        "5 h",
    ),
}


#: the reference dispatcher subclasses the model's: a compiled class cannot be subclassed
#: from Python, so these tests run on the pure-Python build
needs_pure_dispatch = pytest.mark.skipif(
    "model.dispatch" in compiled_modules(),
    reason="the reference dispatcher subclasses the compiled one; the pure build runs this",
)


def _both(cfg: Any, monkeypatch: pytest.MonkeyPatch) -> tuple[Any, Any]:
    """The run with the model's dispatcher, and with the one-event-per-unit reference."""
    lazy = simulate(cfg)
    with monkeypatch.context() as patch:
        patch.setattr(simulate_module, "Dispatcher", OneEventPerUnitDispatcher)
        eager = simulate(cfg)
    return lazy, eager


def _assert_same_run(lazy: Any, eager: Any) -> None:
    pd.testing.assert_frame_equal(shipments_frame(lazy), shipments_frame(eager), check_exact=True)
    pd.testing.assert_frame_equal(trains_frame(lazy), trains_frame(eager), check_exact=True)
    assert lazy.ledger == eager.ledger


@needs_pure_dispatch
@pytest.mark.parametrize("case", sorted(CASES))
def test_lazy_customs_give_the_same_run_as_one_event_per_unit(
    case: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    lazy, eager = _both(validate_config(CASES[case]), monkeypatch)
    _assert_same_run(lazy, eager)
    assert len(lazy.records.trains) >= 5
    assert lazy.events <= eager.events


class _EventDrivenEngine(Engine):
    """An Engine driven through SimPy's own loop: ``run(until=<event>)``."""

    def run(self, until: Any = None) -> Any:
        if until is not None and not isinstance(until, simpy.Event):
            stop = self.timeout(float(until) - self.now)
            return super().run(until=stop)
        return super().run(until)


@needs_pure_dispatch
@pytest.mark.parametrize("case", ["hybrid-tied", "hybrid-random", "schedule-tied"])
@pytest.mark.skipif(
    "engine.resources" in compiled_modules(),
    reason="a compiled Engine cannot be subclassed here; the pure-Python build runs this",
)
def test_lazy_customs_hold_in_every_form_of_run(case: str, monkeypatch: pytest.MonkeyPatch) -> None:
    import silkroute_sim.model.simulate as model

    monkeypatch.setattr(model, "Engine", _EventDrivenEngine)
    lazy, eager = _both(validate_config(CASES[case]), monkeypatch)
    _assert_same_run(lazy, eager)


@pytest.mark.slow
@needs_pure_dispatch
@pytest.mark.parametrize("config", ["baseline", "scenarios/auto-exports"])
def test_lazy_customs_on_shipped_scenarios(config: str, monkeypatch: pytest.MonkeyPatch) -> None:
    path = "baseline" if config == "baseline" else str(CONFIGS / f"{config}.yaml")
    cfg = load_config(path, days=25, warmup_days=5)
    lazy, eager = _both(cfg, monkeypatch)
    _assert_same_run(lazy, eager)
    # most ready events were never needed
    assert lazy.events < eager.events - len(lazy.records.shipments) // 2


# ---------------------------------------------------------------- background trains


def _background_raw(cv: float, customs: Any) -> dict[str, Any]:
    """Background trains through the tiny corridor's gauge-change border (2 tracks,
    formalities ``customs``), competing with the hub's trains. ``cv = 0``: a train every
    3 h exactly from each stream, and the 3 h edge from the hub makes the two streams
    reach the border at the same instants — the order of same-time events decides who
    draws which formalities, and (constant formalities) who books which start slot."""
    raw = tiny_raw()
    raw["simulation"]["days"] = 8
    raw["demand"]["tonnes_per_day"] = 300
    border = raw["corridor"]["nodes"]["Border"]["processing"]
    border["tracks"] = 2
    border["customs"] = customs
    border["trains_per_day"] = 24  # starts at least 1 h apart
    raw["corridor"]["edges"][0]["km"] = 150  # Hub -> Border: 3 h
    raw["corridor"]["background"] = {
        "east": {
            "route": ["Hub", "Border", "Term"],
            "trains_per_day": 8,
            "boxes": 8,
            "interarrival_cv": cv,
        },
        "short": {
            "route": ["Border", "Term"],
            "trains_per_day": 8,
            "boxes": 4,
            "interarrival_cv": cv,
        },
    }
    return raw


#: the reference replaces the corridor's task starters: compiled callers would not see it
needs_pure_corridor = pytest.mark.skipif(
    "model.corridor" in compiled_modules(),
    reason="compiled callers do not see a patched function; the pure build runs this",
)


def _both_corridors(cfg: Any, monkeypatch: pytest.MonkeyPatch) -> tuple[Any, Any]:
    """The run with trains as engine tasks, and the reference: the same generators run
    as SimPy processes (timeouts, Initialize events, Process interrupts)."""
    tasks = simulate(cfg)
    with monkeypatch.context() as patch:
        patch.setattr(corridor_module, "run_now", as_process_from_here)
        processes = simulate(cfg)
    return tasks, processes


def _background_rows(result: Any) -> list[tuple[Any, ...]]:
    def same(h: float) -> float | None:  # NaN (not arrived) equals NaN here
        return None if math.isnan(h) else h

    return [
        (t.train_id, same(t.departed_h), same(t.arrived_h), t.wait_h, tuple(t.route))
        for t in result.records.background_trains
    ]


@needs_pure_corridor
@pytest.mark.parametrize(
    ("cv", "customs"),
    [
        (0.0, {"dist": "exponential", "mean": "2 h"}),
        (0.0, "2 h"),
        (0.0, "3 h"),
        (1.0, {"dist": "exponential", "mean": "2 h"}),
        (0.5, {"dist": "gamma", "mean": "1 h", "cv": 0.5}),
    ],
)
def test_train_tasks_give_the_same_run_as_processes(
    cv: float, customs: Any, monkeypatch: pytest.MonkeyPatch
) -> None:
    raw = _background_raw(cv, customs)
    tasks, processes = _both_corridors(validate_config(raw), monkeypatch)
    _assert_same_run(tasks, processes)
    pd.testing.assert_frame_equal(
        node_events_frame(tasks), node_events_frame(processes), check_exact=True
    )
    assert _background_rows(tasks) == _background_rows(processes)
    assert sum(t.wait_h > 0 for t in tasks.records.background_trains) >= 5  # they queue
    border = tasks.records.monitors["queue:Border"]
    assert border.arrays()[1].max() >= 2


@needs_pure_corridor
def test_train_tasks_on_the_baseline(monkeypatch: pytest.MonkeyPatch) -> None:
    cfg = load_config("baseline", days=20, warmup_days=5)
    tasks, processes = _both_corridors(cfg, monkeypatch)
    _assert_same_run(tasks, processes)
    pd.testing.assert_frame_equal(
        node_events_frame(tasks), node_events_frame(processes), check_exact=True
    )
    assert _background_rows(tasks) == _background_rows(processes)
    assert len(tasks.records.background_trains) > 500


@needs_pure_corridor
@pytest.mark.parametrize("on_repair", ["resume", "redo"])
def test_train_tasks_under_breakdowns_and_closures_give_the_same_run_as_processes(
    on_repair: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Border tracks break down under the trains working on them (an interrupt into the
    task) and the border closes for a day (trains wait, then go on): as processes."""
    raw = _background_raw(1.0, {"dist": "exponential", "mean": "2 h"})
    raw["disruptions"] = {
        "scheduled": [{"id": "shut", "node": "Border", "effect": "close", "start": 60, "end": 84}],
        "random": {
            "breakdowns": [
                {
                    "node": "Border",
                    "mtbf": {"dist": "exponential", "mean": "12 h"},
                    "mttr": {"dist": "exponential", "mean": "2 h"},
                    "on_repair": on_repair,
                }
            ]
        },
    }
    tasks, processes = _both_corridors(validate_config(raw), monkeypatch)
    _assert_same_run(tasks, processes)
    pd.testing.assert_frame_equal(
        node_events_frame(tasks), node_events_frame(processes), check_exact=True
    )
    assert _background_rows(tasks) == _background_rows(processes)
    assert tasks.disruptions is not None
    broke = [w for w in tasks.disruptions.windows if w.kind == "breakdown"]
    assert len(broke) >= 5  # the tracks did break down, under way
    assert tasks.disruptions.hits  # and the closure held trains


def _branch_stop_raw() -> dict[str, Any]:
    """An adaptive service whose first stop, A, is a branching node 10 h from the hub:
    the queues at the two borders beyond it (one also used by background trains) change
    while a train is on its way, so re-planning at A changes paths."""
    raw = tiny_raw()
    raw["simulation"]["days"] = 20
    raw["demand"]["tonnes_per_day"] = 400
    raw["demand"]["classes"]["containers"]["destinations"] = {"A": 0.5, "T": 0.5}

    def border(lon: float) -> dict[str, Any]:
        customs = {"dist": "exponential", "mean": "4 h"}
        return {
            "kind": "border",
            "gauge_mm": 1435,
            "lat": 45.0,
            "lon": lon,
            "processing": {"tracks": 1, "customs": customs},
        }

    hub = dict(raw["corridor"]["nodes"]["Hub"], gauge_mm=1435)
    raw["corridor"]["nodes"] = {
        "Hub": hub,
        "A": {"kind": "terminal", "gauge_mm": 1435, "lat": 44.0, "lon": 84.0},
        "B1": border(82.0),
        "B2": border(81.0),
        "T": {"kind": "terminal", "gauge_mm": 1435, "lat": 46.0, "lon": 78.0},
    }
    raw["corridor"]["edges"] = [
        {"from": "Hub", "to": "A", "km": 500, "speed": 50},
        {"from": "A", "to": "B1", "km": 100, "speed": 50},
        {"from": "A", "to": "B2", "km": 150, "speed": 50},
        {"from": "B1", "to": "T", "km": 100, "speed": 50},
        {"from": "B2", "to": "T", "km": 100, "speed": 50},
    ]
    raw["corridor"]["background"] = {
        "b1": {"route": ["B1", "T"], "trains_per_day": 5, "boxes": 4, "interarrival_cv": 1.0}
    }
    raw["services"] = {
        "t": {
            "stops": ["A", "T"],
            "capacity_teu": 8,
            "max_tonnes": 1000,
            "policy": {"kind": "full"},
            "route": {"policy": "adaptive"},
        }
    }
    return raw


@needs_pure_corridor
def test_train_tasks_deliver_and_replan_at_a_stop_as_processes_do(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """A service train delivers at a stop that is also a branching node, then plans its
    way on from there: the task must do both, in that order, as the process."""
    plan = corridor_module.Corridor.plan
    ways_on: list[str] = []  # the next node of each plan made at the stop

    def watched(self: Any, train: Any, start: str, stops: list[str]) -> list[str]:
        path = plan(self, train, start, stops)
        if start == "A":
            ways_on.append(path[1])
        return path

    monkeypatch.setattr(corridor_module.Corridor, "plan", watched)
    tasks, processes = _both_corridors(validate_config(_branch_stop_raw()), monkeypatch)
    _assert_same_run(tasks, processes)
    pd.testing.assert_frame_equal(
        node_events_frame(tasks), node_events_frame(processes), check_exact=True
    )
    routes = {">".join(t.route) for t in tasks.records.trains}
    assert {"Hub>A>B1>T", "Hub>A>B2>T"} <= routes  # both ways on are taken
    delivered_at_a = [s for s in tasks.records.shipments if s.destination == "A"]
    assert any(s.delivered_h == s.delivered_h for s in delivered_at_a)
    assert len(ways_on) > 50 and set(ways_on) == {"B1", "B2"}  # plans at A differ


# ---------------------------------------------------------------- end of a run


def test_a_runs_records_go_with_its_result_not_with_the_model_cycles() -> None:
    """The model's objects reference each other in cycles that only the cyclic garbage
    collector frees; the records a result holds must not wait for it (a sweep worker
    would carry every finished run until the next full collection)."""
    import gc
    import inspect

    cfg = validate_config(CASES["hybrid-random"])
    enabled = gc.isenabled()
    gc.disable()
    try:
        result = simulate(cfg)
        shipments = result.records.shipments
        assert shipments and result.records.monitors["yard_teu"].levels.size > 1
        del result
        held_by = [r for r in gc.get_referrers(shipments) if not inspect.isframe(r)]
        assert held_by == []  # only this test's variable: freed with the result
    finally:
        if enabled:
            gc.enable()


def test_a_frozen_monitor_keeps_the_series_and_the_old_one_says_where_it_went() -> None:
    from silkroute_sim.engine.monitors import LevelMonitor

    live = LevelMonitor("yard_teu", "TEU")
    for t, change in ((1.0, 2.0), (1.0, 1.0), (3.0, -2.0)):
        live.add(t, change)
    done = live.frozen()
    assert done.times.tolist() == [0.0, 1.0, 3.0] and done.levels.tolist() == [0.0, 3.0, 1.0]
    with pytest.raises(RuntimeError, match="handed its series over"):
        live.arrays()


def test_a_frozen_monitor_keeps_levels_in_the_narrowest_exact_type_and_reads_doubles(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """Counts are kept as two-byte whole numbers, halves in single precision, thirds as
    doubles; a series whose levels outgrow its type mid-run (reduced in many batches)
    widens what it kept. Every level and integral reads back to the last bit."""
    import random

    import numpy as np

    from silkroute_sim.engine import monitors
    from silkroute_sim.engine.monitors import LevelMonitor

    monkeypatch.setattr(monitors, "REDUCE_AT", 64)  # many batches: widening mid-run
    rng = random.Random(7)
    steps = {
        "queue": [1.0, -1.0, 2.0, -2.0],
        "halves": [0.5, -0.5, 1.0],
        "pool": [0.1, -0.1, 1 / 3, 2.0],  # not exact in 4 bytes
        "growing": [1.0, 2.0, 500.0],  # past 32,767 after a few hundred changes
    }
    mons = {name: LevelMonitor(name, "x") for name in steps}
    t = 0.0
    for i in range(2000):
        t += rng.expovariate(1.0)
        for name, choices in steps.items():
            mons[name].add(t, rng.choice(choices))
        if i % 50 == 0:
            for mon in mons.values():
                mon.compact()
    expected = {m.name: (m.times.tolist(), m.levels.tolist()) for m in mons.values()}
    areas = {m.name: m.integral(10.0, 900.0) for m in mons.values()}
    assert max(expected["growing"][1]) > 32_767
    kept = {}
    for monitor in mons.values():
        done = monitor.frozen()
        kept[done.name] = done._cache[2].dtype  # type: ignore[index]
        times, levels = done.arrays()
        assert levels.dtype == np.float64 and not levels.flags.writeable
        assert (times.tolist(), levels.tolist()) == expected[done.name]  # to the last bit
        assert done.integral(10.0, 900.0) == areas[done.name]  # the same float
        assert done.max(0.0, t + 1.0) == max(expected[done.name][1])
    assert kept == {
        "queue": np.int16,
        "halves": np.float32,
        "pool": np.float64,
        "growing": np.float32,
    }


def test_level_type_keeps_the_sign_of_zero_and_refuses_what_does_not_fit() -> None:
    import numpy as np

    from silkroute_sim.engine.monitors import level_type

    assert level_type(np.array([0.0, 3.0, -32_768.0, 32_767.0])) == "h"
    assert level_type(np.array([-0.0, 3.0])) == "f"  # -0.0 is no whole number of its own
    assert level_type(np.array([32_768.0])) == "f"
    assert level_type(np.array([np.nan])) == "f"  # NaN, bit for bit
    assert level_type(np.array([np.inf])) == "f"
    assert level_type(np.array([1.0]), at_least="f") == "f"
    assert level_type(np.array([1 / 3]), at_least="h") == "d"


# ---------------------------------------------------------------- slices of a run


def _monitor_series(result: Any) -> dict[str, tuple[list[float], list[float]]]:
    return {
        name: (mon.times.tolist(), mon.levels.tolist())
        for name, mon in result.records.monitors.items()
    }


SLICED = {
    "hybrid-tied": CASES["hybrid-tied"],
    "schedule-tied": CASES["schedule-tied"],
    # a background train every 3 h exactly: some arrive at the very instant a slice ends
    "background-on-the-hour": _background_raw(0.0, "2 h"),
}


@pytest.mark.slow
@pytest.mark.parametrize("case", [*sorted(SLICED), "scenarios/khorgos-closed-7d"])
def test_stopping_between_slices_changes_nothing(
    case: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    """``simulate`` stops the engine every ``SLICE_DAYS`` (progress, compacting the
    monitors). The run must be the same as in one go, with stops at odd instants, and
    with every monitor compacted at every stop."""
    import silkroute_sim.model.simulate as model

    if case in SLICED:
        cfg = validate_config(SLICED[case])
    else:  # disruptions: the closure (days 60-67), reroutes, guarded trains as processes
        cfg = load_config(str(CONFIGS / f"{case}.yaml"), days=70, warmup_days=5)
    monkeypatch.setattr(model, "SLICE_DAYS", float("inf"))
    whole = simulate(cfg)
    for slice_days in (1.0, 0.37):
        monkeypatch.setattr(model, "SLICE_DAYS", slice_days)
        sliced = simulate(cfg)
        _assert_same_run(sliced, whole)
        pd.testing.assert_frame_equal(
            node_events_frame(sliced), node_events_frame(whole), check_exact=True
        )
        assert _background_rows(sliced) == _background_rows(whole)
        assert _monitor_series(sliced) == _monitor_series(whole)
        assert sliced.events == whole.events
    if case not in SLICED:
        assert whole.disruptions is not None and whole.disruptions.hits  # it did close
    if case == "background-on-the-hour":
        arrivals = [t.departed_h for t in whole.records.background_trains]
        assert sum(t % 24.0 == 0.0 for t in arrivals) >= 5  # trains at the stops' instants


def _step_series(t0: float, level0: float, changes: list[tuple[float, float]]) -> tuple:
    """The step series by hand: levels added up in order, the last level at each time."""
    times, levels = [t0], [level0]
    for t, change in changes:
        level = levels[-1] + float(change)
        if t == times[-1]:
            levels[-1] = level
        else:
            times.append(t)
            levels.append(level)
    return times, levels


def test_a_compacted_monitor_gives_the_step_series_of_its_changes() -> None:
    import numpy as np

    from silkroute_sim.engine.monitors import LevelMonitor

    rng = random.Random(7)
    monitor = LevelMonitor("q", "units")
    assert monitor.times.tolist() == [0.0] and monitor.levels.tolist() == [0.0]
    monitor.compact()  # nothing yet: nothing changes
    changes: list[tuple[float, float]] = []
    t = 0.0
    for i in range(5000):
        t += rng.choice((0.0, 0.25, rng.random()))
        change = rng.choice((1, -1, True, 2.0, -0.5, np.float64(0.1), np.int64(3), rng.random()))
        monitor.add(t, change)
        changes.append((t, change))
        if rng.random() < 0.01 or i == 2500:
            monitor.compact()
            monitor.compact()  # nothing new: no change
        if i == 4000:  # reads and a set() between compactions, then more changes
            assert (monitor.times.tolist(), monitor.levels.tolist()) == _step_series(
                0.0, 0.0, changes
            )
            level = monitor.level
            monitor.set(t, 7.5)
            changes.append((t, 7.5 - level))
    expected = _step_series(0.0, 0.0, changes)
    assert (monitor.times.tolist(), monitor.levels.tolist()) == expected
    done = monitor.frozen()
    assert (done.times.tolist(), done.levels.tolist()) == expected


def test_a_long_run_monitor_reduces_its_changes_in_batches_to_the_same_series() -> None:
    """Past REDUCE_AT packed changes a monitor folds them into its step series: batches
    that end and start at one instant, counts kept in single precision until a level
    that needs doubles comes, give the series of every change added up in one go."""
    from silkroute_sim.engine.monitors import REDUCE_AT, LevelMonitor

    rng = random.Random(11)
    counts, mixed = LevelMonitor("q", "units", 0.0, 2.0), LevelMonitor("pool", "TEU", 0.0, 1.0)
    changes: list[tuple[float, float]] = []
    t = 0.0
    for i in range(3 * REDUCE_AT + 123):
        t += rng.choice((0.0, 0.0, 0.5, rng.random()))
        changes.append((t, rng.choice((1.0, -1.0, 2.0))))
        counts.add(*changes[-1])
        mixed.add(t, changes[-1][1] if i < 2 * REDUCE_AT else 0.1)  # doubles from here
        if i % 997 == 0 or i == REDUCE_AT - 1:
            counts.compact()
            mixed.compact()
        assert len(counts.stamps_done) < REDUCE_AT  # reduced as it goes
    expected = _step_series(0.0, 2.0, changes)
    assert (counts.times.tolist(), counts.levels.tolist()) == expected
    tail = [(t, c if i < 2 * REDUCE_AT else 0.1) for i, (t, c) in enumerate(changes)]
    expected_mixed = _step_series(0.0, 1.0, tail)
    assert (mixed.times.tolist(), mixed.levels.tolist()) == expected_mixed
    done = counts.frozen(), mixed.frozen()
    assert [d._cache[2].dtype.name for d in done] == ["float32", "float64"]  # type: ignore[index]
    assert (done[1].times.tolist(), done[1].levels.tolist()) == expected_mixed


def test_a_frozen_monitor_freezes_again_and_refuses_changes_in_words() -> None:
    from silkroute_sim.engine.monitors import REDUCE_AT, LevelMonitor

    live = LevelMonitor("q", "units", 0.0, 0.3)  # a first level not exact in 4 bytes
    for t, change in ((1.0, 2.0), (1.0, 1.0), (3.0, -2.0)):
        live.add(t, change)
    done = live.frozen()
    again = done.frozen()
    assert (again.times.tolist(), again.levels.tolist()) == (
        done.times.tolist(),
        done.levels.tolist(),
    )
    with pytest.raises(RuntimeError, match="handed its series over"):
        live.frozen()
    for i in range(REDUCE_AT):  # enough to reduce, were it live
        done.add(4.0 + i, 1.0)
    done.compact()
    with pytest.raises(RuntimeError, match="changed after its run ended"):
        done.arrays()


def test_a_monitor_refuses_a_value_that_is_no_number_and_stays_whole() -> None:
    from silkroute_sim.engine.monitors import LevelMonitor

    monitor = LevelMonitor("q", "units")
    monitor.add(1.0, 2)
    monitor.compact()
    with pytest.raises((TypeError, struct.error), match="float"):
        monitor.add(2.0, None)  # type: ignore[arg-type]  # the compiled build refuses it here
        monitor.compact()  # the pure-Python build, when it is packed
    assert len(monitor.stamps_done) == len(monitor.deltas_done) == 1


def test_the_node_event_log_gives_its_rows_across_compactions() -> None:
    from silkroute_sim.model.records import NodeEvent, NodeEventLog

    rng = random.Random(5)
    log = NodeEventLog()
    rows: list[NodeEvent] = []
    for i in range(3000):
        row = NodeEvent(
            f"t{i % 17}", rng.choice("ABC"), rng.choice(("customs", "gauge_change")),
            rng.random() * 100, rng.random() * 100, rng.random() * 100,
            rng.random() < 0.3, rng.randint(0, 90),
        )  # fmt: skip
        log.append(row)
        rows.append(row)
        if rng.random() < 0.01:
            log.compact()
            assert log.pending == 0
        if i in (10, 1500):  # reading compacts first and sees every row
            assert list(log) == rows and log[i] == row and log.pending == 0
    assert log.pending > 0
    assert len(log) == len(rows)
    assert list(log.boxes) == [r.boxes for r in rows]  # a column read compacts first
    assert log.pending == 0
    assert list(log) == rows


def test_the_node_event_log_refuses_a_value_that_is_no_number_and_stays_whole() -> None:
    from silkroute_sim.model.records import NodeEventLog

    log = NodeEventLog()
    log.add("t", "A", "customs", 1.0, 2.0, 3.0, False, 4)
    log.compact()
    with pytest.raises((TypeError, struct.error)):
        log.add("t", "A", "customs", 1.0, None, 3.0, False, 4)  # type: ignore[arg-type]
        log.compact()  # the pure-Python build refuses it when it is packed
    # every array as it was: no column grew without the others
    columns = (log._arrived_h, log._start_h, log._end_h, log._background, log._boxes)
    assert [len(c) for c in columns] == [1] * 5


@pytest.mark.slow
@pytest.mark.parametrize("case", ["baseline", "hybrid-tied", "schedule-tied"])
def test_both_queues_give_the_same_run(case: str, monkeypatch: pytest.MonkeyPatch) -> None:
    """The compiled build's queue (HeapClock) and pure Python's (SlotClock) run the model
    alike, on the baseline and where many events tie (0.25 h grid)."""
    cfg = (
        load_config("baseline", days=20, warmup_days=0)
        if case == "baseline"
        else validate_config(CASES[case])
    )
    runs = []
    for kind in (resources_module.SlotClock, resources_module.HeapClock):
        monkeypatch.setattr(resources_module, "CLOCK", kind)
        runs.append(simulate(cfg))
    slot, heap = runs
    _assert_same_run(slot, heap)
    pd.testing.assert_frame_equal(node_events_frame(slot), node_events_frame(heap))
    assert slot.events == heap.events > 1000


#: the reference replaces the hub's task starter: compiled callers would not see it
needs_pure_hub = pytest.mark.skipif(
    "model.hub" in compiled_modules(),
    reason="compiled callers do not see a patched function; the pure build runs this",
)


@needs_pure_hub
@pytest.mark.slow
@pytest.mark.parametrize("on_repair", ["resume", "redo"])
def test_crane_moves_under_breakdowns_as_tasks_give_the_same_run_as_processes(
    on_repair: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Cranes break down under the moves they work on (an interrupt into the move's
    task): the run is the one the same moves give as SimPy processes."""
    breakdowns = (
        "disruptions={random: {breakdowns: "
        f"[{{hub: cranes, mtbf: 12 h, mttr: 2 h, on_repair: {on_repair}}}]}}}}"
    )
    cfg = load_config("baseline", [breakdowns], days=15, warmup_days=3)
    tasks = simulate(cfg)
    with monkeypatch.context() as patch:
        patch.setattr(hub_module, "spawn", as_process)
        processes = simulate(cfg)
    _assert_same_run(tasks, processes)
    pd.testing.assert_frame_equal(
        node_events_frame(tasks), node_events_frame(processes), check_exact=True
    )
    assert tasks.disruptions is not None
    assert sum(w.kind == "breakdown" for w in tasks.disruptions.windows) >= 20
    assert processes.events > tasks.events  # each process ended with an event of its own
