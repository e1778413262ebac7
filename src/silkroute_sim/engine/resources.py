"""The engine: a ``simpy.Environment`` whose time and queue live on a :class:`Clock`.

SimPy's events and processes run on it unchanged, in SimPy's order; the model's hot code
schedules plain callbacks through ``env.clock`` (:mod:`silkroute_sim.engine.clock`), and
``call_at`` does the same on any SimPy environment.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any, Final

import simpy
from simpy.core import EmptySchedule, EventPriority, StopSimulation

from silkroute_sim.engine.clock import (
    NORMAL,
    URGENT,
    Call,
    Clock,
    HeapClock,
    Moment,
    SlotClock,
    _Ids,
    _no_op,
    _StopAt,
    heappush,
    insort,
    make_call,
)

__all__ = [
    "CLOCK",
    "NORMAL",
    "URGENT",
    "Call",
    "Clock",
    "Engine",
    "HeapClock",
    "Moment",
    "SlotClock",
    "call_at",
    "insort",
    "make_call",
]


def call_at(
    env: simpy.Environment,
    delay: float,
    fn: Callable[[Call], object],
    arg: Any = None,
    token: Any = None,
    priority: int = NORMAL,
) -> None:
    """Run ``fn(call)`` after ``delay`` hours (``call.arg``, ``call.token`` as given).

    One engine event, ordered like a ``Timeout`` scheduled at this moment (same priority,
    same event-id counter), at a fraction of the cost: no ``Event.__init__``, no process.
    ``priority=URGENT`` orders it like the event that starts a new SimPy process. On an
    :class:`Engine` this is ``env.clock.at(...)``, which the model's hot code calls
    directly; a plain ``simpy.Environment`` gets the same event on its own queue.
    """
    if isinstance(env, Engine):
        env.clock.at(delay, fn, arg, token, priority)
        return
    queue: list[Any] = env._queue
    heappush(queue, (env._now + delay, priority, next(env._eid), make_call(fn, arg, token)))


#: whether this module runs compiled (an extension module, not a ``.py`` file)
COMPILED: Final = not __file__.endswith((".py", ".pyc"))
#: the queue an :class:`Engine` makes, the faster in this build (a module setting, read
#: when an engine is made: the tests run each build's engine with the other queue too)
CLOCK: type[Clock] = HeapClock if COMPILED else SlotClock


class Engine(simpy.Environment):
    """A ``simpy.Environment`` that processes the same events in the same order as
    SimPy's own (same stop event at ``now + (until - now)`` with urgent priority, same
    failure handling, same event ids), faster.

    Its time and queue live in ``clock`` (a :class:`Clock`), which the model's hot code
    uses directly. SimPy's events and processes schedule through :meth:`schedule` as
    always; only code that pushes onto SimPy's private ``_queue`` would not work here
    (reading it raises). Times are floats, also where SimPy would keep an int.

    ``run(until=<time>)`` steps the queue in one loop with a direct call for each
    :class:`Call`. ``active`` is the key ``(time, priority, event id, event)`` of the
    event being processed, in every form of ``run`` and in ``step``: whoever keeps events
    off the queue (the dispatchers' lazy customs) uses it to tell which of them would
    already have run. ``processed`` counts the events processed (stop events not
    included)."""

    def __init__(self, initial_time: float = 0) -> None:
        self.clock: Clock = CLOCK(initial_time)
        super().__init__(initial_time)

    # SimPy's own fields, on the clock
    @property
    def _now(self) -> float:
        return self.clock.now

    @_now.setter
    def _now(self, value: float) -> None:
        self.clock.now = float(value)

    @property  # type: ignore[override]
    def _eid(self) -> _Ids:
        return _Ids(self.clock)

    @_eid.setter
    def _eid(self, _value: Any) -> None:
        pass  # SimPy's __init__ sets a fresh counter: the clock's starts at 0 too

    @property
    def _queue(self) -> list[Any]:
        raise AttributeError(
            "an Engine keeps its events in .clock, not in SimPy's _queue: schedule with "
            "env.schedule(), an event or process, or silkroute_sim.engine.resources.call_at()"
        )

    @_queue.setter
    def _queue(self, _value: Any) -> None:
        pass  # SimPy's __init__ sets an empty list: the clock's queue starts empty

    @property
    def now(self) -> float:
        return self.clock.now

    @property
    def active(self) -> tuple[float, int, int, Any]:
        return self.clock.active()

    @property
    def processed(self) -> int:
        return self.clock.processed

    def schedule(self, event: simpy.Event, priority: int = NORMAL, delay: Any = 0) -> None:
        clock = self.clock
        clock.push(clock.now + delay, (priority, clock.next_id(), event))

    def peek(self) -> float:
        return self.clock.peek()

    def step(self) -> None:
        """SimPy's ``step()``, keeping ``active`` current."""
        clock = self.clock
        if clock.empty():
            raise EmptySchedule
        event = clock.pop()
        if type(event) is not _StopAt:
            clock.processed += 1
        self._process(event)

    def _process(self, event: Any) -> None:
        """The body of SimPy's ``step()`` for one popped event."""
        if type(event) is Call:
            try:
                event.fn(event)
            except StopSimulation:
                self._requeue_stopped(event)
                raise
            return
        if type(event) is _StopAt:
            if event.spent:
                return
            # left by a run() that ended with an exception: it stops this run or step, as
            # SimPy's left-over ``until`` event does
            self.clock.spend(event)
            raise StopSimulation(None)
        callbacks, event.callbacks = event.callbacks, None
        try:
            for callback in callbacks:
                callback(event)
        except StopSimulation:
            event.callbacks = callbacks[callbacks.index(callback) + 1 :]
            self.schedule(event, EventPriority(-1))
            raise
        if not event._ok and not hasattr(event, "_defused"):
            error = type(event._value)(*event._value.args)
            error.__cause__ = event._value
            raise error

    def _requeue_stopped(self, call: Call) -> None:
        """A Call's callback raised StopSimulation: as SimPy, the event goes back on the
        queue (first in line, with nothing left to run)."""
        call.fn = _no_op
        self.schedule(call, EventPriority(-1))  # type: ignore[arg-type]

    def run(self, until: Any = None) -> Any:
        if until is None or isinstance(until, simpy.Event):
            return super().run(until)  # steps with step(): ``active`` stays current
        at = until if isinstance(until, int) else float(until)
        if at <= self.clock.now:
            raise ValueError(f"until ({at}) must be greater than the current simulation time")
        return self.clock.run(self, at)
