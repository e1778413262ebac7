"""Reference implementations that only the tests need: the plain way of doing what the
model does in a faster way, for differential tests (same run, event for event)."""

from __future__ import annotations

from collections.abc import Generator
from typing import Any

import simpy
from simpy.events import PENDING

from silkroute_sim.model.dispatch import Dispatcher
from silkroute_sim.model.entities import Shipment


class OneEventPerUnitDispatcher(Dispatcher):
    """A dispatcher that queues a wake-up for every unit in customs, at its moment, and
    lets each look at the ready units when it clears: what :class:`Dispatcher` does
    lazily, for only the units whose look could change a decision."""

    def hold(self, unit: Shipment, ready_h: float) -> None:
        moment = self.clock.moment(ready_h)
        entry = (moment, unit)
        self.held.append(entry)
        self.held.sort(key=lambda e: e[0])
        self.held_load[unit.wagon_type] += unit.size
        self.held_kg += unit.kg
        self._wake_up_at(entry)

    def _catch_up(self) -> None:
        """Nothing to catch up: every unit's own wake-up releases it."""

    def _settle(self) -> None:
        """Nothing to settle: every unit has its wake-up queued."""


# ---------------------------------------------------------------- tasks as processes


def _as_process_body(env: simpy.Environment, gen: Generator[Any, Any, None]) -> Any:
    """A task's generator driven by a SimPy process: numbers become timeouts, and an
    interrupt of the process goes on into the generator."""
    value: Any = None
    error: BaseException | None = None
    while True:
        try:
            target = gen.send(value) if error is None else gen.throw(error)
        except StopIteration:
            return
        error = None
        if isinstance(target, (int, float)):
            target = env.timeout(target)
        try:
            value = yield target
        except BaseException as exc:  # an interrupt (or a failed event): into the task
            value, error = None, exc


def as_process(env: simpy.Environment, gen: Generator[Any, Any, None]) -> simpy.Process:
    """What :func:`silkroute_sim.engine.tasks.spawn` does, as a SimPy process."""
    return env.process(_as_process_body(env, gen))


class _Started(simpy.Event):
    """An event already processed, with no value: what a process's first step gets."""

    def __init__(self, env: simpy.Environment) -> None:
        self.env = env
        self.callbacks = None
        self._ok = True
        self._value = None


class _ProcessNow(simpy.Process):
    """A SimPy process whose first step runs at once, inside the step that makes it (as
    ``yield from`` in a running process goes on), instead of on an Initialize event."""

    def __init__(self, env: simpy.Environment, generator: Generator[Any, Any, Any]) -> None:
        self.env = env
        self.callbacks = []
        self._value = PENDING
        self._generator = generator
        self._target = None  # type: ignore[assignment]
        outer = env.active_process
        self._resume(_Started(env))
        env._active_proc = outer


def as_process_now(env: simpy.Environment, gen: Generator[Any, Any, None]) -> simpy.Process:
    """What :func:`silkroute_sim.engine.tasks.run_now` does, as a SimPy process."""
    return _ProcessNow(env, _as_process_body(env, gen))


def as_process_from_here(env: simpy.Environment, gen: Generator[Any, Any, None]) -> Any:
    """What :func:`silkroute_sim.engine.tasks.run_now` stands for where the model calls
    it: inside a running process (a train leaving the hub), the process going on with
    ``yield from``; from a plain callback (a background train arriving), a new process."""
    if env.active_process is not None:
        return as_process_now(env, gen)
    return as_process(env, gen)
