"""Pools of identical units (gate lanes, cranes, tracks) and containers (the yard, in TEU).

Two kinds of each, chosen when the model is built:

* Lean FIFO pools (:class:`FastPool`, :class:`FastContainer`). SimPy's ``Resource`` and
  ``Container`` schedule an event for every request and every release, even when a unit is
  free. Here a free unit is granted at once — the request is returned already processed,
  so ``yield request`` continues in the same step — and a release hands the unit straight
  to the first waiter (one event, as in SimPy) or returns it to the pool (no event).
  Semantics are SimPy's: strict FIFO, units handed over in request order, a full
  container blocks later puts behind the first one that does not fit.
* Adjustable pools (:class:`UnitPool`, :class:`AdjustableContainer`), SimPy-based, for the
  resources that disruptions touch: their capacity can be cut and restored while units
  are held, and a pool's units can break down one by one.

Besides SimPy-style requests, pools take *jobs* — plain callables — for callback-driven
flows: ``pool.acquire(job)`` runs ``job(token, waited)`` as soon as a unit is free (at
once, or inside the release that frees it; FIFO together with ``request()``), and
``pool.release_unit(token)`` gives the unit back.
"""

from __future__ import annotations

import contextlib
from collections import deque
from collections.abc import Callable, Generator
from types import TracebackType
from typing import Any

import simpy
from simpy.events import PENDING
from simpy.resources.container import ContainerPut
from simpy.resources.resource import Release, Request

#: a pool job: called with (token to release the unit with, whether it had to wait)
Job = Callable[[Any, bool], None]


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
        if not self.queue:
            self.count -= 1
            return
        nxt = self.queue.popleft()
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


class UnitPool(simpy.Resource):
    """A FIFO pool of identical units (cranes, tracks, lanes) whose number in service can
    change while units are held, and whose units can break down one by one.

    ``limit`` is the number of units in service; a cut below the number in use takes
    units out as they are released. Each unit has an identity so a breakdown hits one
    unit: if it is idle it leaves the pool until repaired; if it is working, the holder
    (inside :meth:`work`) stops until the repair and then resumes or redoes its task.
    """

    def __init__(self, env: simpy.Environment, units: int, *, resume: bool = True) -> None:
        super().__init__(env, units)
        self.units = units
        self.limit = units
        self.resume = resume
        self.free: list[int] = list(range(units - 1, -1, -1))
        self.unit_of: dict[simpy.Event, int] = {}
        self.held_by: list[Request | None] = [None] * units
        self.down: list[bool] = [False] * units
        self.repaired: list[simpy.Event | None] = [None] * units
        #: the process or task working with each unit (a breakdown interrupts it)
        self.working: list[Any] = [None] * units

    @property
    def capacity(self) -> int:
        return self.limit

    def set_limit(self, limit: int) -> None:
        raised = limit > self.limit
        self.limit = limit
        if raised:
            self._trigger_put(None)

    def acquire(self, job: Job) -> bool:
        """:meth:`FastPool.acquire` on this pool: ``job(request, waited)`` runs when the
        request is granted; the request is the token for :meth:`release_unit`."""
        req = self.request()
        waited = not req.triggered
        req.callbacks.append(lambda _event: job(req, waited))
        return not waited

    def release_unit(self, token: Any) -> None:
        self.release(token)

    def _do_put(self, event: Request) -> bool | None:  # type: ignore[override]
        if len(self.users) < self.limit and self.free:
            unit = self.free.pop()
            self.unit_of[event] = unit
            self.held_by[unit] = event
            self.users.append(event)
            event.usage_since = self._env.now
            event.succeed()
            return True  # FIFO: keep granting while units are free
        return None

    def _do_get(self, event: Release) -> None:
        request = event.request
        if isinstance(request, Request) and request in self.unit_of:
            self.users.remove(request)
            unit = self.unit_of.pop(request)
            self.held_by[unit] = None
            if not self.down[unit]:
                self.free.append(unit)
        event.succeed()

    # -------------------------------------------------------------- breakdowns

    def fail(self, unit: int) -> None:
        self.down[unit] = True
        self.repaired[unit] = self._env.event()
        if self.held_by[unit] is None:
            self.free.remove(unit)
        else:
            worker = self.working[unit]
            if worker is not None:
                worker.interrupt("breakdown")

    def repair(self, unit: int) -> None:
        self.down[unit] = False
        repaired = self.repaired[unit]
        self.repaired[unit] = None
        if repaired is not None:
            repaired.succeed()
        if self.held_by[unit] is None:
            self.free.append(unit)
            self._trigger_put(None)

    def work(self, request: simpy.Event, duration_h: float) -> Generator[Any, Any, float]:
        """Work ``duration_h`` on the unit granted to ``request``; returns the hours lost
        to breakdowns. Run it with ``yield from`` in a SimPy process or an engine task
        (a breakdown interrupts either)."""
        env = self._env
        unit = self.unit_of[request]
        started = env.now
        remaining = duration_h
        # a task (engine.tasks) waits for a number of hours where a process waits for a
        # timeout: the same place in the queue, without the Timeout object
        active = env.active_process
        in_task = active is not None and not isinstance(active, simpy.Process)
        while True:
            repaired = self.repaired[unit]
            if repaired is not None:
                yield repaired
            self.working[unit] = env.active_process
            began = env.now
            try:
                yield remaining if in_task else env.timeout(remaining)
            except simpy.Interrupt:
                self.working[unit] = None
                # (a breakdown at the very end of the work leaves no time, not less)
                left = max(0.0, remaining - (env.now - began))
                remaining = left if self.resume else duration_h
                continue
            self.working[unit] = None
            return env.now - started - duration_h


class AdjustableContainer(simpy.Container):
    """A container (the yard, in TEU) whose usable capacity can be cut and restored.
    Nothing already inside is removed; puts wait until they fit under the limit."""

    def __init__(self, env: simpy.Environment, capacity: float) -> None:
        super().__init__(env, capacity=capacity, init=0)
        self.limit = capacity

    def set_limit(self, limit: float) -> None:
        raised = limit > self.limit
        self.limit = limit
        if raised:
            self._trigger_put(None)

    def reserve(self, amount: float, job: Callable[[], None]) -> None:
        """:meth:`FastContainer.reserve` on this container."""
        put = self.put(amount)
        put.callbacks.append(lambda _event: job())

    def _do_put(self, event: ContainerPut) -> bool | None:
        level = self.level
        if self.limit - level >= event.amount:
            # SimPy's own field; mypyc cannot compile a write to an attribute a SimPy base
            # class declares, so it is set by name
            setattr(self, "_level", level + event.amount)  # noqa: B010
            event.succeed()
            return True
        return None


def make_pool(
    env: simpy.Environment, units: int, *, adjustable: bool = False, resume: bool = True
) -> FastPool | UnitPool:
    """A pool of ``units``: lean, or adjustable where disruptions will touch it (``resume``:
    after a repair, a broken-down holder resumes its task rather than redoing it)."""
    if adjustable:
        return UnitPool(env, units, resume=resume)
    return FastPool(env, units)


def make_container(
    env: simpy.Environment, capacity: float, *, adjustable: bool = False
) -> FastContainer | AdjustableContainer:
    """A container of ``capacity``: lean, or adjustable where disruptions will touch it."""
    if adjustable:
        return AdjustableContainer(env, capacity)
    return FastContainer(env, capacity)
