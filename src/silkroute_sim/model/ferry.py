"""Ferry lines on sea legs (edges with ``mode: ferry``): a batch server per direction.

* A train that reaches the departure port (after the port's own processing) puts its
  wagons, one box each, at the back of the line's queue. A sailing takes up to the
  vessel's capacity of wagons from the front, so a long train may be split over voyages;
  the train goes on from the far port once its last wagon is ashore (the latest landing
  of its voyages).
* Sailings follow the line's rule (:class:`silkroute_sim.config.ferry.SailingConfig`):
  a timetable (every N hours, or weekly departures) or when full (or ``max_wait`` after
  the voyage's first wagon began to wait). A voyage leaves ``loading`` after its sailing,
  is at sea for ``crossing`` (default: the edge's running time), and its wagons are ashore
  ``unloading`` after it berths; the vessel is then free at the far port.
* With a limited fleet (``vessels``), a sailing needs a vessel free at its port and waits
  for the next one to be free there.
* Weather cancels a sailing with the probability of its calendar month, and a closure of
  the sea leg or of either port (a disruption) cancels every sailing while it lasts; the
  wagons wait for the next sailing of the timetable, or on a when-full line for a new try
  ``retry_after`` later.

Records: each train's wait for its last wagon's sailing is its hold (``train.wait_h``, a
``ferry_wait`` node event at the departure port, censored if the run ends first); each
sailing and each cancelled sailing is a node event at the departure port (``sailing``:
arrived = scheduled, or when the voyage's first wagon began to wait; start = sailing;
end = the vessel leaves; boxes on board. ``sailing_cancelled`` (weather) or
``sailing_closed`` (a closure): boxes left waiting).
Draws come from named streams ``ferry.<from>.<to>.<what>``, so a ferry changes no
other draw.
"""

from __future__ import annotations

import datetime as dt
import heapq
import math
from collections import deque
from collections.abc import Callable, Mapping
from typing import Protocol

import simpy

from silkroute_sim.config.ferry import FerryConfig
from silkroute_sim.config.schema import ScenarioConfig, SimulationConfig
from silkroute_sim.engine.clock import Call
from silkroute_sim.engine.resources import Engine
from silkroute_sim.engine.rng import Sampler, Streams
from silkroute_sim.engine.tasks import TaskGen
from silkroute_sim.model.entities import Train
from silkroute_sim.model.records import RunRecords

#: the months of a run without a start date (as the demand's seasons count them)
DAYS_PER_MONTH = 365 / 12
#: a timetable's next sailing is the first one more than this after the last (hours)
_AFTER_H = 1e-6


class SeaLeg(Protocol):
    """What a line reads of its edge: the running time now (a slowed edge slows it)."""

    run_h: float


def month_of(sim: SimulationConfig) -> Callable[[float], int]:
    """The calendar month (0 = January) of a time of the run: by ``start_date``'s
    calendar, or with no date, day 0 is the first of ``start_month`` and months are
    365/12 days (as the demand's seasons)."""
    day0 = sim.start_date
    if day0 is not None:
        return lambda t: (day0 + dt.timedelta(days=int(t // 24))).month - 1
    first = sim.start_month - 1
    return lambda t: (first + int(((t / 24) % 365) / DAYS_PER_MONTH)) % 12


def week_offset_h(sim: SimulationConfig) -> float:
    """Hours from Monday 00:00 to day 0 (its weekday: ``start_date``'s, or Monday)."""
    return 0.0 if sim.start_date is None else sim.start_date.weekday() * 24.0


class Fleet:
    """The vessels of one line: when each is free at each of its two ports."""

    __slots__ = ("free", "waiting")

    def __init__(self, source: str, target: str, vessels: int) -> None:
        #: per port, a heap of the times its vessels are (or will be) free there
        self.free: dict[str, list[float]] = {
            source: [0.0] * math.ceil(vessels / 2),
            target: [0.0] * (vessels // 2),
        }
        #: per port, the line that waits there for a vessel
        self.waiting: dict[str, FerryLine] = {}

    def next_free(self, port: str) -> float | None:
        """When the next vessel is free at ``port`` (None: none is on its way there)."""
        heap = self.free[port]
        return heap[0] if heap else None

    def take(self, port: str) -> None:
        heapq.heappop(self.free[port])

    def arrive(self, port: str, free_h: float) -> None:
        """A vessel that sailed for ``port`` is free there at ``free_h``."""
        heapq.heappush(self.free[port], free_h)
        line = self.waiting.get(port)
        if line is not None:
            line.vessel_due(free_h)


class _Boarding:
    """A train in a line's queue: its wagons not yet sailed, and when the sailed ones land."""

    __slots__ = ("done", "joined_h", "key", "landed_h", "left", "train")

    def __init__(self, train: Train, wagons: int, joined_h: float, key: int, done: simpy.Event):
        self.train = train
        self.left = wagons
        self.joined_h = joined_h
        self.key = key
        self.landed_h = joined_h
        self.done = done


class FerryLine:
    """One direction of a ferry line: the queue of wagons at ``source`` and its sailings."""

    def __init__(
        self,
        env: Engine,
        source: str,
        target: str,
        cfg: FerryConfig,
        sim: SimulationConfig,
        streams: Streams,
        records: RunRecords,
        leg: SeaLeg,
        fleet: Fleet | None,
    ) -> None:
        self.env = env
        self.clock = env.clock
        self.source = source
        self.target = target
        self.rule = cfg.sailing
        self.capacity = cfg.wagons
        self.records = records
        self.leg = leg
        self.fleet = fleet
        name = f"ferry.{source}.{target}"
        self.loading = streams.sampler(f"{name}.loading", cfg.loading)
        self.unloading = streams.sampler(f"{name}.unloading", cfg.unloading)
        self.crossing: Sampler | None = (
            None if cfg.crossing is None else streams.sampler(f"{name}.crossing", cfg.crossing)
        )
        self.cancel = cfg.cancel_by_month
        self.weather = streams.uniform(f"{name}.weather") if self.cancel else None
        self.month = month_of(sim)
        self.week_offset_h = week_offset_h(sim)
        self.queue: deque[_Boarding] = deque()
        self.waiting_wagons = 0
        self.sailings = 0
        self.awaiting_vessel = False
        self.retry_pending = False  # a when-full line after a cancelled sailing
        self.scheduled_h = 0.0  # the sailing due: its slot, or its first wagon's wait
        self.turn = 0  # numbers the when-full line's voyages: a stale deadline is ignored
        #: whether a closure (a disruption of the sea leg or of either port) stops sailings
        #: now; set by the corridor, which knows the closures
        self.closed: Callable[[], bool] | None = None

    def start(self) -> None:
        """A timetable line books its first sailing; a when-full line waits for wagons."""
        if not self.rule.when_full:
            self._book_slot(self.rule.slots_after(self.clock.now, self.week_offset_h))

    # -------------------------------------------------------------- trains

    def cross(self, train: Train) -> TaskGen:
        """``train`` at the departure port: its wagons wait for sailings; it goes on from
        the far port when the last of them is ashore."""
        landed_h = yield self.board(train)
        yield landed_h - self.clock.now

    def board(self, train: Train) -> simpy.Event:
        """``train``'s wagons join the queue; the event succeeds when the last of them
        sails, with the time they are all ashore."""
        now = self.clock.now
        key = self.records.open_visit(train, self.source, "ferry_wait", now)
        done = self.env.event()
        wagons = max(train.box_count, 1)
        self.queue.append(_Boarding(train, wagons, now, key, done))
        self.waiting_wagons += wagons
        if self.rule.when_full:
            if self.waiting_wagons == wagons:  # the voyage's first wagon begins to wait
                self._start_voyage_clock()
            self._when_full()
        return done

    # -------------------------------------------------------------- timetable

    def _book_slot(self, slot_h: float) -> None:
        self.scheduled_h = slot_h
        self.clock.at(slot_h - self.clock.now, self._slot_due)

    def _slot_due(self, _call: Call) -> None:
        if self._vessel_ready():
            self._timetable_sailing()

    def _timetable_sailing(self) -> None:
        self._sail()  # cancelled or not, the next sailing is the timetable's next
        self._book_slot(self.rule.slots_after(self.clock.now + _AFTER_H, self.week_offset_h))

    # -------------------------------------------------------------- when full

    def _start_voyage_clock(self) -> None:
        now = self.clock.now
        self.scheduled_h = now
        self.turn += 1
        if self.rule.max_wait is not None:
            self.clock.at(self.rule.max_wait, self._deadline, None, self.turn)

    def _deadline(self, call: Call) -> None:
        if call.token == self.turn:
            self._when_full()

    def _retry(self, _call: Call) -> None:
        self.retry_pending = False
        self._when_full()

    def _when_full(self) -> None:
        """Sail while a voyage is full or its max wait is up (and a vessel is free)."""
        while self.waiting_wagons > 0 and not (self.awaiting_vessel or self.retry_pending):
            max_wait = self.rule.max_wait
            due = max_wait is not None and self.clock.now >= self.scheduled_h + max_wait
            if self.waiting_wagons < self.capacity and not due:
                return
            if not self._vessel_ready():
                return
            if not self._sail():
                self.retry_pending = True
                self.clock.at(self.rule.retry_after, self._retry)
                return
            if self.waiting_wagons > 0:  # those left behind count from this sailing
                self._start_voyage_clock()

    # -------------------------------------------------------------- vessels

    def _vessel_ready(self) -> bool:
        """Whether a vessel is free at the port now; if not, the line waits for one."""
        fleet = self.fleet
        if fleet is None:
            return True
        free_h = fleet.next_free(self.source)
        if free_h is not None and free_h <= self.clock.now:
            return True
        self.awaiting_vessel = True
        fleet.waiting[self.source] = self
        if free_h is not None:
            self.vessel_due(free_h)
        return False

    def vessel_due(self, free_h: float) -> None:
        """A vessel will be free at the port at ``free_h``: look again then."""
        self.clock.at(max(free_h - self.clock.now, 0.0), self._vessel_in)

    def _vessel_in(self, _call: Call) -> None:
        fleet = self.fleet
        assert fleet is not None
        free_h = fleet.next_free(self.source)
        if not self.awaiting_vessel or free_h is None or free_h > self.clock.now:
            return  # a stale look, or another vessel is nearer
        self.awaiting_vessel = False
        del fleet.waiting[self.source]
        if self.rule.when_full:
            self._when_full()
        else:
            self._timetable_sailing()

    # -------------------------------------------------------------- sailing

    def _sail(self) -> bool:
        """The sailing due now: weather may cancel it (False); else a vessel takes up to
        its capacity of wagons from the front of the queue."""
        now = self.clock.now
        self.sailings += 1
        sailing_id = f"ferry:{self.source}>{self.target}:{self.sailings:05d}"
        events = self.records.node_events
        weather = self._weather_cancels(now)  # drawn even when closed: the draws stay paired
        closed = self.closed is not None and self.closed()
        if weather or closed:
            events.add(
                sailing_id,
                self.source,
                "sailing_closed" if closed else "sailing_cancelled",
                self.scheduled_h,
                now,
                now,
                False,
                self.waiting_wagons,
            )
            return False
        if self.fleet is not None:
            self.fleet.take(self.source)
        departs_h = now + self.loading()
        at_sea_h = self.leg.run_h if self.crossing is None else self.crossing()
        landed_h = departs_h + at_sea_h + self.unloading()
        if self.fleet is not None:
            self.fleet.arrive(self.target, landed_h)
        on_board = self._embark(now, departs_h, landed_h)
        events.add(
            sailing_id, self.source, "sailing", self.scheduled_h, now, departs_h, False, on_board
        )
        return True

    def _weather_cancels(self, now: float) -> bool:
        """One draw per sailing against the probability of its month."""
        if self.weather is None or self.cancel is None:
            return False
        return self.weather() < self.cancel[self.month(now)]

    def _embark(self, now: float, departs_h: float, landed_h: float) -> int:
        """Up to a vessel's capacity of wagons from the front of the queue board the
        voyage; a train whose last wagon sails ends its hold. Returns the wagons."""
        room = self.capacity
        queue = self.queue
        while queue and room > 0:
            boarding = queue[0]
            wagons = min(room, boarding.left)
            room -= wagons
            boarding.left -= wagons
            self.waiting_wagons -= wagons
            boarding.landed_h = max(boarding.landed_h, landed_h)
            if boarding.left > 0:
                break
            queue.popleft()
            train = boarding.train
            del self.records.open_visits[boarding.key]
            train.wait_h += now - boarding.joined_h
            self.records.node_events.add(
                train.train_id,
                self.source,
                "ferry_wait",
                boarding.joined_h,
                now,
                departs_h,
                train.background,
                train.box_count,
            )
            boarding.done.succeed(boarding.landed_h)
        return self.capacity - room


def ferry_lines(
    env: Engine,
    cfg: ScenarioConfig,
    streams: Streams,
    records: RunRecords,
    legs: Mapping[tuple[str, str], SeaLeg],
) -> dict[tuple[str, str], FerryLine]:
    """The ferry line of each direction of each ``mode: ferry`` edge, started (none, and
    nothing scheduled, in a corridor without ferries). ``legs``: the edges' live state."""
    lines: dict[tuple[str, str], FerryLine] = {}
    for edge in cfg.corridor.edges:
        ferry = edge.ferry
        if ferry is None:
            continue
        fleet = None if ferry.vessels is None else Fleet(edge.source, edge.target, ferry.vessels)
        pairs = [(edge.source, edge.target)]
        if edge.both_ways:
            pairs.append((edge.target, edge.source))
        for u, v in pairs:
            line = FerryLine(env, u, v, ferry, cfg.simulation, streams, records, legs[u, v], fleet)
            lines[u, v] = line
    for line in lines.values():
        line.start()
    return lines
