"""Lean FIFO resources for the hot path.

SimPy's ``Resource`` and ``Container`` schedule an event for every request and every
release, even when a unit is free. Here a free unit is granted at once — the request
is returned already processed, so ``yield request`` continues in the same step — and a
release hands the unit straight to the first waiter (one event, as in SimPy) or
returns it to the pool (no event). Semantics are SimPy's: strict FIFO, units are
handed over in request order, a full container blocks later puts behind the first
one that does not fit. Disruptions swap these for adjustable SimPy-based pools
(:mod:`silkroute_sim.disruptions`) only where a disruption touches them.

Besides SimPy-style requests, both take *jobs* — plain callables — for the hub's
callback-driven box flow: ``pool.acquire(job)`` runs ``job(token, waited)`` as soon as a
unit is free (at once, or inside the release that frees it; FIFO together with
``request()``), and ``pool.release_unit(token)`` gives the unit back. ``call_at``
schedules a callback on the SimPy engine without building a ``Timeout`` or a process.
"""

from __future__ import annotations

import contextlib
from collections import deque
from collections.abc import Callable
from heapq import heappop, heappush
from types import TracebackType
from typing import Any

import simpy
from simpy.core import EmptySchedule, EventPriority, StopSimulation
from simpy.events import NORMAL, PENDING, URGENT

#: a pool job: called with (token to release the unit with, whether it had to wait)
Job = Callable[[Any, bool], None]


class Call:
    """A callback on the SimPy event queue: ``fn(call)`` runs when it is popped, with the
    argument and token it was scheduled with. :class:`Engine` calls ``fn`` directly;
    a plain ``simpy.Environment`` sees an already-triggered event with one callback."""

    __slots__ = ("arg", "fn", "token")

    _ok = True
    _value = None
    arg: Any
    fn: Callable[[Call], object]
    token: Any

    @property
    def callbacks(self) -> list[Callable[[Call], object]] | None:
        fn = self.fn
        return None if fn is None else [] if fn is _no_op else [fn]

    @callbacks.setter
    def callbacks(self, value: list[Callable[[Call], object]] | None) -> None:
        # SimPy's step() marks the event processed (None), or after a StopSimulation
        # keeps the callbacks that have not run (none: a Call has only one)
        self.fn = None if value is None else value[0] if value else _no_op  # type: ignore[assignment]


def _no_op(_call: Call) -> None:
    """What is left of a :class:`Call` whose callback stopped the run."""


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
    ``priority=URGENT`` orders it like the event that starts a new SimPy process.
    """
    call = Call()  # no __init__: three slot stores are cheaper than a call
    call.fn = fn
    call.arg = arg
    call.token = token
    queue: list[Any] = env._queue
    heappush(queue, (env._now + delay, priority, next(env._eid), call))


class _StopAt:
    """The marker :meth:`Engine.run` schedules where SimPy schedules its ``until`` event."""

    __slots__ = ()


class Engine(simpy.Environment):
    """A ``simpy.Environment`` that processes the same events in the same order as
    SimPy's own (same stop event at ``now + (until - now)`` with urgent priority, same
    failure handling, same event ids), faster: ``run(until=<time>)`` steps the queue in
    one loop with a direct call for each :class:`Call`.

    ``active`` is the queue entry ``(time, priority, event id, event)`` being processed,
    in every form of ``run`` and in ``step``: whoever keeps events off the queue (the
    dispatchers' lazy customs) uses it to tell which of them would already have run.
    ``processed`` counts the events processed (stop events not included)."""

    def __init__(self, initial_time: float = 0) -> None:
        super().__init__(initial_time)
        self.active: tuple[float, int, int, Any] = (self._now, URGENT, -1, None)
        self.processed = 0

    def step(self) -> None:
        """SimPy's ``step()``, keeping ``active`` current."""
        queue: list[Any] = self._queue
        try:
            key = heappop(queue)
        except IndexError:
            raise EmptySchedule from None
        self._now, _, _, event = self.active = key
        if type(event) is not _StopAt:
            self.processed += 1
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
        if type(event) is _StopAt:  # left by a run() that ended with an exception: it
            next(self._eid)  # stops this run, as SimPy's left-over ``until`` event does
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
        if at <= self._now:
            raise ValueError(f"until ({at}) must be greater than the current simulation time")
        queue: list[Any] = self._queue
        stop = _StopAt()
        heappush(queue, (self._now + (at - self._now), URGENT, next(self._eid), stop))
        call = Call
        processed = 0
        try:
            while True:
                try:
                    key = heappop(queue)
                except IndexError:  # cannot happen while the stop marker is queued
                    raise RuntimeError("event queue emptied before the stop event") from None
                self._now, _, _, event = self.active = key
                if type(event) is call:
                    processed += 1
                    event.fn(event)
                elif event is stop:
                    next(self._eid)  # SimPy re-queues its (emptied) stop event
                    return None
                else:
                    processed += type(event) is not _StopAt
                    self._process(event)
        except StopSimulation as exc:
            if type(event) is call:
                self._requeue_stopped(event)
            return exc.args[0]
        finally:
            self.processed += processed


class Grant(simpy.Event):
    """A request for one unit of a :class:`FastPool`; use it as ``with pool.request()
    as req: yield req``. Leaving the block releases the unit (or withdraws the request)."""

    __slots__ = ("granted", "pool")

    def __init__(self, env: simpy.Environment, pool: FastPool) -> None:
        self.env = env
        self.pool = pool
        self.granted = False
        self._value = PENDING
        self.callbacks = []

    def __enter__(self) -> Grant:
        return self

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        self.pool.release(self)


class FastPool:
    """``capacity`` identical units (gate lanes, cranes, tracks) served FIFO."""

    __slots__ = ("_env", "capacity", "count", "queue")

    def __init__(self, env: simpy.Environment, capacity: int) -> None:
        self._env = env
        self.capacity = capacity
        self.count = 0  # units in use
        self.queue: deque[Grant | Job] = deque()

    def acquire(self, job: Job) -> bool:
        """Run ``job(None, waited)`` once a unit is free; True if it ran at once."""
        if self.count < self.capacity:
            self.count += 1
            job(None, False)
            return True
        self.queue.append(job)
        return False

    def release_unit(self, token: Any = None) -> None:
        """Give back a unit taken by :meth:`acquire`: the next in line gets it now."""
        if self.queue:
            self._hand_over(self.queue.popleft())
        else:
            self.count -= 1

    @staticmethod
    def _hand_over(nxt: Grant | Job) -> None:
        if type(nxt) is Grant:
            nxt.granted = True
            nxt.succeed()  # a process resumes (one engine event, as in SimPy)
        else:
            nxt(None, True)  # type: ignore[operator]  # a job: runs now

    def request(self) -> Grant:
        req = Grant(self._env, self)
        if self.count < self.capacity:
            self.count += 1
            req.granted = True
            req._ok = True
            req._value = None
            req.callbacks = None  # type: ignore[assignment]  # processed: requester goes on
        else:
            self.queue.append(req)
        return req

    def release(self, req: Grant) -> None:
        if not req.granted:  # withdrawn while waiting (e.g. an interrupt)
            with contextlib.suppress(ValueError):
                self.queue.remove(req)
            return
        req.granted = False
        self.release_unit()  # the unit passes straight to the next in line


class _Put(simpy.Event):
    __slots__ = ("amount",)

    def __init__(self, env: simpy.Environment, amount: float) -> None:
        self.env = env
        self.amount = amount
        self._value = PENDING
        self.callbacks = []


class _Reserve:
    """A job waiting in a container's put queue."""

    __slots__ = ("amount", "job")

    def __init__(self, amount: float, job: Callable[[], None]) -> None:
        self.amount = amount
        self.job = job


class FastContainer:
    """A level with a capacity (the yard, in TEU). ``put`` waits (FIFO) until it fits;
    ``get`` is immediate and is only used for amounts reserved by an earlier put."""

    __slots__ = ("_env", "_level", "capacity", "queue")

    def __init__(self, env: simpy.Environment, capacity: float) -> None:
        self._env = env
        self.capacity = capacity
        self._level = 0.0
        self.queue: deque[_Put | _Reserve] = deque()

    @property
    def level(self) -> float:
        return self._level

    def put(self, amount: float) -> _Put:
        event = _Put(self._env, amount)
        if not self.queue and self._level + amount <= self.capacity:
            self._level += amount
            event._ok = True
            event._value = None
            event.callbacks = None  # type: ignore[assignment]
        else:
            self.queue.append(event)
        return event

    def reserve(self, amount: float, job: Callable[[], None]) -> None:
        """Run ``job()`` once ``amount`` is put (now if it fits and nobody waits)."""
        if not self.queue and self._level + amount <= self.capacity:
            self._level += amount
            job()
        else:
            self.queue.append(_Reserve(amount, job))

    def get(self, amount: float) -> None:
        if amount > self._level + 1e-9:
            raise RuntimeError(f"yard get of {amount} TEU with only {self._level} TEU inside")
        self._level -= amount
        queue = self.queue
        while queue and self._level + queue[0].amount <= self.capacity:
            waiting = queue.popleft()
            self._level += waiting.amount
            if type(waiting) is _Put:
                waiting.succeed()
            else:
                waiting.job()  # type: ignore[union-attr]
