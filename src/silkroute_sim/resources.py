"""Lean FIFO resources for the hot path.

SimPy's ``Resource`` and ``Container`` schedule an event for every request and every
release, even when a unit is free. Here a free unit is granted at once — the request
is returned already processed, so ``yield request`` continues in the same step — and a
release hands the unit straight to the first waiter (one event, as in SimPy) or
returns it to the pool (no event). Semantics are SimPy's: strict FIFO, units are
handed over in request order, a full container blocks later puts behind the first
one that does not fit. Disruptions swap these for adjustable SimPy-based pools
(:mod:`silkroute_sim.disruptions`) only where a disruption touches them.
"""

from __future__ import annotations

import contextlib
from collections import deque
from types import TracebackType

import simpy
from simpy.events import PENDING


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
        self.queue: deque[Grant] = deque()

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
        if self.queue:
            nxt = self.queue.popleft()  # the unit passes straight to the next in line
            nxt.granted = True
            nxt.succeed()
        else:
            self.count -= 1


class _Put(simpy.Event):
    __slots__ = ("amount",)

    def __init__(self, env: simpy.Environment, amount: float) -> None:
        self.env = env
        self.amount = amount
        self._value = PENDING
        self.callbacks = []


class FastContainer:
    """A level with a capacity (the yard, in TEU). ``put`` waits (FIFO) until it fits;
    ``get`` is immediate and is only used for amounts reserved by an earlier put."""

    __slots__ = ("_env", "_level", "capacity", "queue")

    def __init__(self, env: simpy.Environment, capacity: float) -> None:
        self._env = env
        self.capacity = capacity
        self._level = 0.0
        self.queue: deque[_Put] = deque()

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

    def get(self, amount: float) -> None:
        if amount > self._level + 1e-9:
            raise RuntimeError(f"yard get of {amount} TEU with only {self._level} TEU inside")
        self._level -= amount
        queue = self.queue
        while queue and self._level + queue[0].amount <= self.capacity:
            event = queue.popleft()
            self._level += event.amount
            event.succeed()
