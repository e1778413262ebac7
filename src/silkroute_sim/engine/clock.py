"""The engine's clock and event queue: the time, the events due, and the order they run
in (SimPy's: by time, then priority, then event id), with the model-facing API the
model's hot code calls directly: ``at`` (run a callback after a delay), ``start`` (run one
where a new process would start), and *moments* (a place in that order, taken now and
queued later or only compared with the present).
"""

from __future__ import annotations

import bisect
import heapq
from abc import ABC, abstractmethod
from collections.abc import Callable
from typing import Any, Final, Protocol

import simpy
import simpy.events
from simpy.core import Infinity, StopSimulation

#: the event loop's constants and library functions are ``Final``: the compiled build
#: reads them as C statics (literals: as constants) instead of looking them up in the
#: module's dict on every use
URGENT: Final = 0  #: SimPy's priorities (checked below)
NORMAL: Final = 1
heappush: Final = heapq.heappush
heappop: Final = heapq.heappop
insort: Final = bisect.insort
if (URGENT, NORMAL) != (simpy.events.URGENT, simpy.events.NORMAL):  # pragma: no cover
    raise ImportError("this SimPy orders events by other priorities than silkroute-sim")

#: a place in the order events run in: (time in hours, turn); see :meth:`Clock.moment`
Moment = tuple[float, int]


class Call:
    """A callback on the SimPy event queue: ``fn(call)`` runs when it is popped, with the
    argument and token it was scheduled with. :class:`Engine` calls ``fn`` directly;
    a plain ``simpy.Environment`` sees an already-triggered event with one callback."""

    __slots__ = ("arg", "eid", "fn", "priority", "t", "token")

    _ok = True
    _value = None
    arg: Any
    fn: Callable[[Call], object]
    token: Any
    #: its queue key, where the queue is a :class:`HeapClock`
    t: float
    priority: int
    eid: int

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


def make_call(fn: Callable[[Call], object], arg: Any = None, token: Any = None) -> Call:
    """A :class:`Call` of ``fn`` with ``arg`` and ``token`` (the pure-Python queue's
    ``at`` builds its own inline: three slot stores are cheaper than a call there)."""
    call = Call()  # no __init__, for the same reason
    call.fn = fn
    call.arg = arg
    call.token = token
    return call


class Processor(Protocol):
    """What a clock's run loop needs of its engine: process one SimPy event, and put a
    callback that stopped the run back on the queue."""

    def _process(self, event: Any) -> None: ...

    def _requeue_stopped(self, call: Call) -> None: ...


class Clock(ABC):
    """An :class:`Engine`'s clock and event queue, kept in fields that the model's hot
    code reads directly (in the compiled build, as C fields instead of attribute look-ups
    on the SimPy environment).

    ``now`` is the time (a float, also where SimPy would keep an int), ``eid`` the next
    event id, ``processed`` the count of events processed (stop events not included).
    Events run in SimPy's order exactly: by time, then priority, then event id. Two
    queues keep that order, each the faster in its build: :class:`SlotClock` (pure
    Python) and :class:`HeapClock` (compiled); :data:`CLOCK` says which an engine uses.
    """

    __slots__ = ("eid", "now", "processed")

    def __init__(self, now: float = 0.0) -> None:
        self.now = float(now)
        self.eid = 0
        self.processed = 0

    def next_id(self) -> int:
        """Take the next event id (SimPy's ``next(env._eid)``)."""
        eid = self.eid
        self.eid = eid + 1
        return eid

    @abstractmethod
    def at(
        self,
        delay: float,
        fn: Callable[[Call], object],
        arg: Any = None,
        token: Any = None,
        priority: int = NORMAL,
    ) -> None:
        """:func:`call_at` on this clock: ``fn(call)`` after ``delay`` hours."""

    @abstractmethod
    def push(self, t: float, entry: Any) -> None:
        """Queue ``entry`` = ``(priority, event id, event)`` at time ``t``."""

    @abstractmethod
    def pop(self) -> Any:
        """Take the first event off the queue; the clock moves to its time."""

    @abstractmethod
    def empty(self) -> bool:
        """Whether no event is queued."""

    @abstractmethod
    def peek(self) -> float:
        """The time of the next event (infinity when none is queued)."""

    @abstractmethod
    def active(self) -> tuple[float, int, int, Any]:
        """The key ``(time, priority, event id, event)`` of the event being processed."""

    @abstractmethod
    def run(self, env: Processor, at: float) -> Any:
        """Process events up to the stop marker queued for time ``at`` (``Engine.run``):
        a :class:`Call` by a direct call, anything else as SimPy's ``step()`` would."""

    def start(self, fn: Callable[[Call], object], arg: Any = None) -> None:
        """Run ``fn(call)`` now, where a new process would start: before the events
        already due now that were not started this way."""
        self.at(0.0, fn, arg, None, URGENT)

    # -------------------------------------------------------------- moments
    #
    # A moment is a place in the order events run in: a time and, among the events due
    # then, a turn. A model that keeps many wake-ups pending (units in customs, say) takes
    # a moment for each when it learns of it, queues a wake-up only for those that could
    # change a decision, and asks whether the others have passed when it next looks.
    # Decisions then happen at the times, and in the order, of one event per wake-up.

    def moment(self, t: float) -> Moment:
        """The place an event scheduled now for time ``t`` (hours) would take: after
        every event already due at ``t``."""
        eid = self.eid  # :meth:`next_id`, inline: a moment per unit held in customs
        self.eid = eid + 1
        return (t, eid)

    def has_passed(self, moment: Moment) -> bool:
        """Whether a wake-up at ``moment`` would have run before the event running now."""
        now, priority, eid, _ = self.active()
        t, turn = moment
        return t < now or (t == now and (NORMAL, turn) < (priority, eid))

    def wake_at(self, moment: Moment, fn: Callable[[Call], object], arg: Any = None) -> None:
        """Run ``fn(call)`` (``call.arg`` = ``arg``) at exactly ``moment``."""
        self.push(moment[0], (NORMAL, moment[1], make_call(fn, arg)))

    def _queue_stop(self, at: float) -> _StopAt:
        stop = _StopAt()
        self.push(self.now + (at - self.now), (URGENT, self.next_id(), stop))
        return stop

    def spend(self, stop: _StopAt) -> None:
        """``stop`` stopped a run: as SimPy does with its ``until`` event, it goes back on
        the queue, first in line (priority -1) and with nothing left to do."""
        stop.spent = True
        self.push(self.now, (-1, self.next_id(), stop))


class SlotClock(Clock):
    """The queue for pure Python. SimPy keeps one heap of ``(time, priority, event id,
    event)`` tuples; every push and pop compares tuples, a few hundred CPU instructions
    each. Here the heap ``times`` holds only the distinct times (floats compare in a few
    dozen, in C), and ``slots`` maps each time to its entry ``(priority, event id,
    event)`` or, where several events share a time, to their list in (priority, event
    id) order. ``entry`` is the entry of the event being processed."""

    __slots__ = ("entry", "slots", "times")

    def __init__(self, now: float = 0.0) -> None:
        super().__init__(now)
        self.times: list[Any] = []  # heap of the distinct times with queued events
        self.slots: dict[Any, Any] = {}  # time -> entry, or sorted list of entries
        #: ``Any``, not a tuple type: the compiled build would copy a typed tuple into a
        #: new object at each use, and the queue tells entries apart by identity
        self.entry: Any = (URGENT, -1, None)

    def at(
        self,
        delay: float,
        fn: Callable[[Call], object],
        arg: Any = None,
        token: Any = None,
        priority: int = NORMAL,
    ) -> None:
        call = Call()  # no __init__: three slot stores are cheaper than a call
        call.fn = fn
        call.arg = arg
        call.token = token
        eid = self.eid
        self.eid = eid + 1
        # ``Any``, as in :meth:`push`: one object each, told apart by identity below
        entry: Any = (priority, eid, call)
        key: Any = self.now + delay  # :meth:`push`, inline: the most frequent way onto the queue
        slots = self.slots
        if slots.setdefault(key, entry) is entry:
            heappush(self.times, key)
        else:
            _join(slots, key, entry)

    def push(self, t: float, entry: Any) -> None:
        key: Any = t  # one float object: the heap's and the dict's key
        slots = self.slots
        if slots.setdefault(key, entry) is entry:  # the first event at this time (the rule)
            heappush(self.times, key)
        else:
            _join(slots, key, entry)

    def pop(self) -> Any:
        times = self.times
        t = times[0]
        slots = self.slots
        entry = slots[t]  # (not ``pop``: the compiled build calls that as a Python method)
        del slots[t]
        if type(entry) is tuple:
            heappop(times)
        else:
            entry = self._first_of(t, entry)
        self.now = t
        self.entry = entry
        return entry[2]

    def _first_of(self, t: Any, entries: list[Any]) -> Any:
        """The first of several events at time ``t``; the others stay queued."""
        first = entries.pop(0)
        if entries:
            self.slots[t] = entries
        else:
            heappop(self.times)
        return first

    def empty(self) -> bool:
        return not self.times

    def peek(self) -> float:
        return float(self.times[0]) if self.times else Infinity

    def active(self) -> tuple[float, int, int, Any]:
        priority, eid, event = self.entry
        return (self.now, priority, eid, event)

    def run(self, env: Processor, at: float) -> Any:
        stop = self._queue_stop(at)
        processed = 0
        event: Any = None
        times = self.times
        slots = self.slots
        try:
            while True:  # the stop marker stays queued until it is reached: never empty
                t = times[0]  # :meth:`pop`, inline: once per event
                entry = slots[t]
                del slots[t]
                if type(entry) is tuple:
                    heappop(times)
                else:
                    entry = self._first_of(t, entry)
                self.now = t
                self.entry = entry
                event = entry[2]
                if type(event) is Call:
                    processed += 1
                    event.fn(event)
                elif event is stop:
                    self.spend(stop)
                    return None
                else:
                    if type(event) is not _StopAt:
                        processed += 1
                    env._process(event)
        except StopSimulation as exc:
            if type(event) is Call:
                env._requeue_stopped(event)
            return exc.args[0]
        finally:
            self.processed += processed


def _holds_event(_node: Call) -> None:
    """The ``fn`` of a :class:`HeapClock` node that holds another event (in ``arg``)."""


#: (``Final``: a C static in the compiled build, compared by address)
HOLDS_EVENT: Final = _holds_event


class HeapClock(Clock):
    """The queue for the compiled build: a binary heap of :class:`Call` objects, each
    with its key (``t``, ``priority``, ``eid``) in C fields that the heap compares
    directly, without tuples, float objects or a dict. Another event (a SimPy event or
    process, a stop marker) rides in a node of its own (``fn`` :data:`HOLDS_EVENT`,
    ``arg`` the event). In pure Python every comparison would be a Python call:
    :class:`SlotClock` is faster there."""

    __slots__ = ("current", "heap")

    def __init__(self, now: float = 0.0) -> None:
        super().__init__(now)
        self.heap: list[Call] = []
        self.current = _node(HOLDS_EVENT, None, None, self.now, URGENT, -1)  # being processed

    def at(
        self,
        delay: float,
        fn: Callable[[Call], object],
        arg: Any = None,
        token: Any = None,
        priority: int = NORMAL,
    ) -> None:
        _heap_push(self.heap, _node(fn, arg, token, self.now + delay, priority, self.next_id()))

    def push(self, t: float, entry: Any) -> None:
        # a node of its own, also for a Call (one queued again keeps its old key intact,
        # and ``active`` that of the node being processed)
        _heap_push(self.heap, _node(HOLDS_EVENT, entry[2], None, t, entry[0], entry[1]))

    def pop(self) -> Any:
        node = _heap_pop(self.heap)
        self.now = node.t
        self.current = node
        return node.arg if node.fn is HOLDS_EVENT else node

    def empty(self) -> bool:
        return not self.heap

    def peek(self) -> float:
        return self.heap[0].t if self.heap else Infinity

    def active(self) -> tuple[float, int, int, Any]:
        node = self.current
        event = node.arg if node.fn is HOLDS_EVENT else node
        return (self.now, node.priority, node.eid, event)

    def run(self, env: Processor, at: float) -> Any:
        stop = self._queue_stop(at)
        heap = self.heap
        processed = 0
        node: Call | None = None
        try:
            while True:  # the stop marker stays queued until it is reached
                node = _heap_pop(heap)
                self.now = node.t
                self.current = node
                fn = node.fn
                if fn is not HOLDS_EVENT:
                    processed += 1
                    fn(node)
                    continue
                event = node.arg
                if event is stop:
                    self.spend(stop)
                    return None
                if type(event) is not _StopAt:
                    processed += 1
                env._process(event)
        except StopSimulation as exc:
            if node is not None and node.fn is not HOLDS_EVENT:
                env._requeue_stopped(node)
            return exc.args[0]
        finally:
            self.processed += processed


def _node(
    fn: Callable[[Call], object], arg: Any, token: Any, t: float, priority: int, eid: int
) -> Call:
    """A :class:`HeapClock` node: a :class:`Call` with its queue key."""
    node = make_call(fn, arg, token)
    node.t = t
    node.priority = priority
    node.eid = eid
    return node


def _before(a: Call, b: Call) -> bool:
    """Whether ``a`` runs before ``b``: SimPy's key (time, priority, event id). The heap
    compares times inline and calls this only for a tie."""
    if a.t != b.t:
        return a.t < b.t
    if a.priority != b.priority:
        return a.priority < b.priority
    return a.eid < b.eid


def _heap_push(heap: list[Call], node: Call) -> None:
    """heapq's ``heappush`` with :func:`_before` for ``<``."""
    heap.append(node)
    _sift_up(heap, node, len(heap) - 1)


def _heap_pop(heap: list[Call]) -> Call:
    """heapq's ``heappop`` with :func:`_before` for ``<`` (an empty heap: IndexError)."""
    last = heap.pop()
    if not heap:
        return last
    first = heap[0]
    # heapq's way: move the smaller child up to a leaf, then sift ``last`` up from there
    end = len(heap)
    pos = 0
    child = 1
    while child < end:
        right = child + 1
        if right < end:
            a = heap[child]
            b = heap[right]
            if b.t < a.t or (b.t == a.t and not _before(a, b)):
                child = right
        heap[pos] = heap[child]
        pos = child
        child = 2 * pos + 1
    _sift_up(heap, last, pos)
    return first


def _sift_up(heap: list[Call], node: Call, pos: int) -> None:
    """Put ``node`` at ``pos`` or above, moving later-running parents down (heapq's
    ``_siftdown``)."""
    t = node.t
    while pos > 0:
        parent_pos = (pos - 1) >> 1
        parent = heap[parent_pos]
        if t > parent.t or (t == parent.t and not _before(node, parent)):
            break
        heap[pos] = parent
        pos = parent_pos
    heap[pos] = node


def _join(slots: dict[Any, Any], t: Any, entry: Any) -> None:
    """``entry`` joins the events already queued at time ``t``, in (priority, event id)
    order (event ids are unique, so the events themselves are never compared)."""
    there = slots[t]
    if type(there) is tuple:
        slots[t] = [there, entry] if there < entry else [entry, there]
    elif entry > there[-1]:
        there.append(entry)
    else:
        insort(there, entry)


class _Ids:
    """``Engine._eid``: SimPy's event-id counter (``next(env._eid)``), on the clock."""

    __slots__ = ("clock",)

    def __init__(self, clock: Clock) -> None:
        self.clock = clock

    def __iter__(self) -> _Ids:
        return self

    def __next__(self) -> Any:  # Any: mypyc's iterator slot wants an object (not int)
        return self.clock.next_id()


class _StopAt:
    """The marker :meth:`Engine.run` schedules where SimPy schedules its ``until`` event.
    Reached, it stops the run and goes back on the queue ``spent`` (:meth:`Clock.spend`),
    where it does nothing, as SimPy's emptied ``until`` event. One left queued by a run
    that ended with an exception stops the next run or step that reaches it."""

    __slots__ = ("spent",)

    def __init__(self) -> None:
        self.spent = False
