"""Engine tasks run a generator in exactly the order a SimPy process would: starts,
timed waits, waits for events (already processed or not), interrupts, ties."""

from __future__ import annotations

from collections.abc import Callable, Generator
from typing import Any

import pytest
import simpy

from silkroute_sim.engine.pools import FastPool
from silkroute_sim.engine.resources import Engine
from silkroute_sim.engine.tasks import run_now, spawn

from ..reference import as_process, as_process_now

Starter = Callable[[Any, Generator[Any, Any, None]], Any]
Log = list[tuple[float, str, str]]


def _scenario(start: Starter, start_now: Starter) -> Log:
    """Three jobs share one unit; one is started inside a running process, one is
    interrupted while it works; a ticker and the interrupter tie with them in time."""
    env = Engine()
    log: Log = []
    pool = FastPool(env, 1)
    workers: dict[str, Any] = {}

    def job(name: str, hold: float) -> Generator[Any, Any, None]:
        log.append((env.now, name, "start"))
        with pool.request() as req:
            yield req
            log.append((env.now, name, "got the unit"))
            try:
                yield hold
                log.append((env.now, name, "done"))
            except simpy.Interrupt as stop:
                log.append((env.now, name, f"interrupted: {stop.cause}"))
        early = env.timeout(0, value="early")
        yield 1.0
        got = yield early  # processed meanwhile: goes on at once, with its value
        signal = env.event()
        signal.succeed("late")
        got += " " + (yield signal)  # triggered, not yet processed: waits for it
        log.append((env.now, name, f"end {got}"))

    def parent() -> Generator[simpy.Event, Any, None]:
        yield env.timeout(1)
        workers["c"] = start_now(env, job("c", 2.0))
        log.append((env.now, "parent", "started c"))
        yield env.timeout(0)
        log.append((env.now, "parent", "again"))

    def interrupter() -> Generator[simpy.Event, Any, None]:
        yield env.timeout(2)
        workers["a"].interrupt("breakdown")
        log.append((env.now, "interrupter", "hit a"))

    def ticker() -> Generator[simpy.Event, Any, None]:
        log.append((env.now, "tick", "start"))
        for _ in range(12):
            yield env.timeout(0.5)
            log.append((env.now, "tick", ""))

    workers["a"] = start(env, job("a", 3.0))
    workers["b"] = start(env, job("b", 1.0))
    env.process(parent())
    env.process(interrupter())
    env.process(ticker())
    env.run(until=10)
    return log


def test_tasks_run_in_the_order_of_simpy_processes() -> None:
    tasks = _scenario(spawn, run_now)
    processes = _scenario(as_process, as_process_now)
    assert tasks == processes
    assert (2.0, "a", "interrupted: breakdown") in tasks
    assert (3.0, "a", "end early late") in tasks
    assert any(who == "c" and what == "got the unit" for _, who, what in tasks)


def test_a_finished_task_cannot_be_interrupted() -> None:
    env = Engine()

    def short() -> Generator[Any, Any, None]:
        yield 1.0

    task = spawn(env, short())
    env.run(until=2)
    assert task.done
    with pytest.raises(RuntimeError, match="terminated"):
        task.interrupt()


def test_a_negative_wait_is_refused() -> None:
    env = Engine()

    def bad() -> Generator[Any, Any, None]:
        yield -1.0

    spawn(env, bad())
    with pytest.raises(ValueError, match="cannot wait -1"):
        env.run(until=1)
