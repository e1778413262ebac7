"""Tasks: generators run as light processes, for behaviours the run repeats thousands of
times (a train's way along the corridor, an inbound box's dwell and collection).

A task's generator reads like a SimPy process and yields what it waits for:

* a number — wait that many hours (``yield edge.run_h``);
* a SimPy event — wait until it is processed, and get its value (``yield track``, with
  ``with pool.request() as track``); a failed event raises in the generator.

Events run in the order a SimPy process would give them: a wait of ``h`` hours is queued
where ``env.timeout(h)`` would be, a task started with :func:`spawn` takes its first
step where a new process would, and :meth:`Task.interrupt` throws ``simpy.Interrupt``
into the generator at the moment SimPy's ``Process.interrupt`` would. What a task saves
is the objects: no ``Timeout`` per wait, no ``Process`` event, no ``Initialize`` for
:func:`run_now`. While it runs, ``env.active_process`` is the task, so code that
remembers "whoever is working now" in order to interrupt it later works unchanged. A
finished task leaves no event behind: nothing can wait for a task to end.
"""

from __future__ import annotations

from collections.abc import Generator
from typing import Any

import simpy

from silkroute_sim.engine.clock import Call
from silkroute_sim.engine.resources import Engine

#: what a task's generator yields: hours to wait, or an event to wait for
TaskGen = Generator[Any, Any, None]


class Task:
    """One generator run on an :class:`Engine`'s clock (see the module's docstring)."""

    __slots__ = ("_wake_cb", "clock", "done", "env", "gen", "target", "wait_no")

    def __init__(self, env: Engine, gen: TaskGen) -> None:
        self.env = env
        self.clock = env.clock
        self.gen = gen
        self.done = False
        #: the event the task waits for, if it waits for one
        self.target: simpy.Event | None = None
        #: numbers the task's timed waits: an interrupted wait's wake-up is ignored
        self.wait_no = 0
        self._wake_cb = self._wake

    def _step(self, value: Any, error: BaseException | None = None) -> None:
        """Run the generator up to its next wait (SimPy's ``Process._resume``). An error
        that escapes the generator ends the run, as it does in a SimPy process."""
        env = self.env
        outer = env._active_proc
        env._active_proc = self  # type: ignore[assignment]
        gen = self.gen
        while True:
            try:
                if error is None:
                    # most resumes carry no value (a timed wait): next() is the
                    # iterator slot, a plain call where the generator is compiled
                    target = next(gen) if value is None else gen.send(value)
                else:
                    thrown, error = error, None
                    target = gen.throw(thrown)
            except StopIteration:
                self.done = True
                break
            kind = type(target)
            if kind is float or kind is int:
                if target < 0:
                    raise ValueError(f"a task cannot wait {target} hours")
                self.clock.at(target, self._wake_cb, None, self.wait_no)
                break
            if target.callbacks is not None:  # not processed yet: wait for it
                target.callbacks.append(self._on_event)
                self.target = target
                break
            if target._ok:  # processed already: go on at once
                value = target._value
            else:
                target._defused = True
                value, error = None, target._value
        env._active_proc = outer

    def _wake(self, call: Call) -> None:
        if call.token == self.wait_no:  # not a wait an interrupt cut short
            self._step(None)

    def _on_event(self, event: simpy.Event) -> None:
        self.target = None
        if event._ok:
            self._step(event._value)
        else:
            event._defused = True
            self._step(None, event._value)

    def interrupt(self, cause: Any = None) -> None:
        """Throw ``simpy.Interrupt(cause)`` into the task, as ``Process.interrupt`` does:
        first thing at the current time, unless the task has ended by then."""
        if self.done:
            raise RuntimeError(f"{self!r} has terminated and cannot be interrupted.")
        if self is self.env.active_process:
            raise RuntimeError("A process is not allowed to interrupt itself.")
        self.clock.start(self._interrupted, cause)

    def _interrupted(self, call: Call) -> None:
        if self.done:
            return
        self.wait_no += 1
        target = self.target
        if target is not None:
            assert target.callbacks is not None
            target.callbacks.remove(self._on_event)
            self.target = None
        self._step(None, simpy.Interrupt(call.arg))


def spawn(env: Engine, gen: TaskGen) -> Task:
    """Start ``gen`` as a task where a new SimPy process would start (its first step is
    the next thing to happen now, before the events already due)."""
    task = Task(env, gen)
    env.clock.start(_first_step, task)
    return task


def run_now(env: Engine, gen: TaskGen) -> Task:
    """Start ``gen`` as a task within the step running now (as ``yield from gen`` in a
    process would go on), and let it go on by itself when it first waits."""
    task = Task(env, gen)
    task._step(None)
    return task


def _first_step(call: Call) -> None:
    call.arg._step(None)
