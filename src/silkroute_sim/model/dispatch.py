"""Dispatch: the ready units of one train service and its dispatch policy.

A unit that has cleared customs is *ready* and queues (FIFO per wagon type) for a train of
its service. The policy decides when a train is called: ``full`` (when a train is full),
``hybrid`` (full, or when the oldest unit has waited ``max_wait`` and the train is at least
``min_load`` full) or ``schedule`` (a timetable, with a cut-off and a minimum load). A
called train is handed to the hub to be loaded and formed.
"""

from __future__ import annotations

import bisect
from collections import deque
from collections.abc import Generator, Sequence
from typing import Any, Final, Protocol

import simpy

from silkroute_sim.config.cargo_rules import EPS, wagon_capacity
from silkroute_sim.config.schema import HybridPolicy, SchedulePolicy, ServiceConfig
from silkroute_sim.engine.resources import Call, Engine, Moment, insort
from silkroute_sim.model.cargo import TrainCapacity
from silkroute_sim.model.entities import Shipment, Train
from silkroute_sim.model.records import RunRecords

Proc = Generator[simpy.Event, Any, None]
#: margin of the quick tests of units in customs, which add ready and held loads in
#: another order than the units arrive: far above rounding, far below any unit's size
SURE: Final = 1e-6
bisect_left: Final = bisect.bisect_left


class TrainFormer(Protocol):
    """What a dispatcher needs of the hub: where trains start, the run's records, the
    wagon types, and a process that loads and forms a called train."""

    node: str
    records: RunRecords
    wagon_types: Any

    def form_train(self, train: Train) -> Proc: ...


class Dispatcher:
    """Ready units of one service and its dispatch policy.

    **Lazy customs.** A unit in customs becomes ready at a known time, and the policy
    looks at the ready units each time one becomes ready. Most of those looks change
    nothing: the train cannot be full yet, no hybrid deadline has passed, and the
    oldest unit stays the oldest. So units in customs wait in ``held`` (sorted by the
    queue key their ready event would have had), and only the first one whose look
    *could* change something — call a train, start a hybrid timer — gets its event,
    with exactly that key (``_settle``). The others join ``ready`` in order, each with
    the ready time it would have had, when that event or any other reader of the
    ready units (a timer, an immediately cleared unit, the timetable, the end of the
    run) comes first. The decisions, their times and their order are those of one
    event per unit (``tests/reference.py`` keeps that one-event-per-unit dispatcher,
    and the tests compare the two). Each held unit takes its *moment* in the engine's
    event order when it enters customs (:meth:`~silkroute_sim.engine.resources.Clock.moment`),
    which is why a dispatcher needs the run's :class:`~silkroute_sim.engine.resources.Engine`.
    """

    def __init__(self, env: Engine, hub: TrainFormer, name: str, service: ServiceConfig) -> None:
        self.env = env
        self.clock = env.clock
        self.hub = hub
        self.name = name
        self.service = service
        self.policy = service.policy
        self.max_kg = round(service.max_tonnes * 1000)
        capacity = wagon_capacity(hub.wagon_types, service)
        self.capacity = TrainCapacity(capacity, hub.wagon_types, self.max_kg)
        self.capacity_teu = self.capacity.teu
        #: (wagon type, load below which a train of that type surely has room left)
        self._room = [(t, c - EPS) for t, c in self.capacity.capacity.items()]
        self.ready: deque[Shipment] = deque()
        self.ready_load = dict.fromkeys(capacity, 0.0)  # by wagon type (TEU, or wagons)
        self.ready_kg = 0
        self.trains_called = 0
        self._timer_for: Shipment | None = None
        #: (moment it is ready, unit) of units still in customs, in the order they clear
        self.held: list[tuple[Moment, Shipment]] = []
        self.held_load = dict.fromkeys(capacity, 0.0)
        self.held_kg = 0
        self._wakes: set[Moment] = set()  # held units with a wake-up queued
        self._first: Moment | None = None  # the moment of the first unit that matters
        self._calm = False  # see _first_that_matters
        self._due = float("inf")  # hybrid: ready times from here on look after the deadline
        self._room_of = dict(self._room)
        self._hybrid = self.policy if isinstance(self.policy, HybridPolicy) else None
        self._looks = not isinstance(self.policy, SchedulePolicy)  # looks at each ready unit
        if isinstance(self.policy, SchedulePolicy):
            env.process(self._timetable(self.policy))

    # -------------------------------------------------------------- filling

    def _fill(self) -> tuple[Sequence[int], bool]:
        """Which ready units (FIFO per wagon type) fit one train, and whether it is full."""
        if self.ready_kg <= self.max_kg:
            load = self.ready_load
            for wagon_type, room in self._room:
                if load[wagon_type] >= room:
                    break
            else:
                return range(len(self.ready)), False  # everything fits and room is left
        return self.capacity.fill(self.ready)

    def add_ready(self, box: Shipment) -> None:
        self.ready.append(box)
        self.ready_load[box.wagon_type] += box.size
        self.ready_kg += box.kg
        if self._looks:
            self.check()

    # -------------------------------------------------------------- customs (lazy)

    def hold(self, unit: Shipment, ready_h: float) -> None:
        """``unit`` clears customs at ``ready_h`` (its place among the events due then is
        taken now)."""
        moment = self.clock.moment(ready_h)
        entry = (moment, unit)
        held = self.held
        if not held or entry > held[-1]:
            held.append(entry)
        else:
            insort(held, entry)
        wagon_type = unit.wagon_type
        self.held_load[wagon_type] += unit.size
        self.held_kg += unit.kg
        if not self._looks:
            return
        first = self._first
        if first is None:
            if (
                self._calm  # nothing mattered, and this unit changes none of the reasons
                and ready_h < self._due
                and self.ready_kg + self.held_kg <= self.max_kg
                and self.ready_load[wagon_type] + self.held_load[wagon_type]
                < self._room_of[wagon_type] - SURE
            ):
                return
            self._settle()
        elif moment < first:
            self._settle()

    def ready_now(self, unit: Shipment) -> None:
        """``unit`` is ready at once (no customs hold)."""
        self._catch_up()
        unit.ready_h = self.clock.now
        self.add_ready(unit)
        self._settle()

    def _release(self, n: int) -> None:
        """The first ``n`` held units become ready (their looks would change nothing)."""
        held = self.held
        ready = self.ready
        for (ready_h, _), unit in held[:n]:
            unit.ready_h = ready_h
            ready.append(unit)
            size = unit.size
            self.ready_load[unit.wagon_type] += size
            self.held_load[unit.wagon_type] -= size
            self.ready_kg += unit.kg
            self.held_kg -= unit.kg
        del held[:n]

    def _catch_up(self) -> None:
        """Release the held units whose moments have passed (they would have cleared
        before whatever is happening now)."""
        n = 0
        has_passed = self.clock.has_passed
        for moment, _ in self.held:
            if has_passed(moment):
                n += 1
            else:
                break
        if n:
            self._release(n)

    def _first_that_matters(self) -> tuple[Moment, Shipment] | None:
        """The first held unit whose look at the ready units could call a train or start
        a hybrid timer (``None``: none could, as things stand). Sets ``_calm`` when no
        unit matters for reasons :meth:`hold` can check for a newcomer in O(1)."""
        self._calm = False
        ready = self.ready
        hybrid = self._hybrid
        due = float("inf")
        if hybrid is not None and ready:
            due = ready[0].ready_h + hybrid.max_wait - 1e-9  # as ``check`` compares
        self._due = due
        load = self.ready_load
        kg = self.ready_kg
        max_kg = self.max_kg
        room_of = self._room_of
        ready_ok = kg <= max_kg and all(load[w] < room for w, room in self._room)
        held = self.held
        if not held:
            self._calm = ready_ok and (hybrid is None or bool(ready))
            return None
        if hybrid is not None and not ready:  # the first becomes the oldest: starts a timer
            return held[0]
        if not ready_ok:
            return held[0]  # the ready units alone may already fill a train
        if held[-1][0][0] < due and kg + self.held_kg <= max_kg:
            held_load = self.held_load
            if all(load[w] + held_load[w] < room - SURE for w, room in self._room):
                self._calm = True
                return None  # even with all of them, every unit fits with room left
        load = dict(load)
        for entry in held:
            (ready_h, _), unit = entry
            if ready_h >= due:
                return entry
            kg += unit.kg
            wagon_type = unit.wagon_type
            load[wagon_type] += unit.size
            if kg > max_kg or load[wagon_type] >= room_of[wagon_type]:
                return entry
        return None

    def _settle(self) -> None:
        """Make sure the first held unit that matters has a wake-up queued at its moment."""
        if not self._looks:  # the timetable reads held units itself
            return
        entry = self._first_that_matters()
        if entry is None:
            self._first = None
            return
        moment = self._first = entry[0]
        if moment not in self._wakes:
            self._wake_up_at(entry)

    def _wake_up_at(self, entry: tuple[Moment, Shipment]) -> None:
        """Queue a wake-up for a held unit at the moment it clears customs."""
        self._wakes.add(entry[0])
        self.clock.wake_at(entry[0], self._woken_up, entry)

    def _woken_up(self, call: Call) -> None:
        """A held unit clears customs: it joins the ready units, in its turn."""
        moment, unit = call.arg
        self._wakes.discard(moment)
        held = self.held
        if not held or held[0][0] > moment:  # released by a reader that came first
            self._settle()
            return
        self._release(bisect_left(held, (moment,)))
        del held[0]
        unit.ready_h = moment[0]
        self.held_load[unit.wagon_type] -= unit.size
        self.held_kg -= unit.kg
        self.add_ready(unit)
        self._settle()

    def finish(self, end_h: float) -> None:
        """End of the run: units that cleared before ``end_h`` are ready."""
        n = bisect_left(self.held, ((end_h,),))
        if n:
            self._release(n)

    def check(self) -> None:
        """Call trains while the policy says so (full/hybrid)."""
        policy = self.policy
        while self.ready:
            picked, full = self._fill()
            if not picked:  # the first unit fits no train (over max_tonnes): it waits
                return
            if full:
                self.call(picked)
                continue
            if isinstance(policy, HybridPolicy):
                oldest = self.ready[0]
                due = oldest.ready_h + policy.max_wait
                if self.clock.now >= due - 1e-9:
                    if self.capacity.meets(self.ready_load, policy.min_load):
                        self.call(picked)
                        continue
                elif self._timer_for is not oldest:
                    self._timer_for = oldest
                    timer = self.env.timeout(due - self.clock.now)
                    timer.callbacks.append(self._on_timer)
            return

    def _on_timer(self, _event: simpy.Event) -> None:
        self._catch_up()
        self.check()
        self._settle()

    def call(self, picked: Sequence[int], scheduled_h: float | None = None) -> Train:
        """Call a train for the ready units at positions ``picked`` and start forming it."""
        self.trains_called += 1
        train = Train(
            f"{self.name}-{self.trains_called:05d}",
            self.name,
            self.hub.node,
            list(self.service.stops),
            self.capacity_teu,
        )
        train.opened_h = self.ready[picked[0]].ready_h
        train.called_h = self.clock.now
        if scheduled_h is not None:
            train.scheduled_h = scheduled_h
        if picked[-1] == len(picked) - 1:  # a FIFO prefix (always, with one wagon type)
            boxes = [self.ready.popleft() for _ in picked]
        else:
            chosen = set(picked)
            boxes = [b for i, b in enumerate(self.ready) if i in chosen]
            self.ready = deque(b for i, b in enumerate(self.ready) if i not in chosen)
        used = dict.fromkeys(self.ready_load, 0.0)
        for box in boxes:
            self.ready_load[box.wagon_type] -= box.size
            self.ready_kg -= box.kg
            used[box.wagon_type] += box.size
            box.train_id = train.train_id
            train.add(box)
        train.capacity = dict(self.capacity.capacity)
        train.used = used
        train.load_factor = self.capacity.load_factor(used)
        self.env.process(self.hub.form_train(train))
        return train

    # -------------------------------------------------------------- timetable

    def _timetable(self, policy: SchedulePolicy) -> Proc:
        env = self.env
        departures = sorted(policy.departures)
        weekdays = set(policy.weekdays)
        day = 0
        while True:
            if day % 7 in weekdays:
                for dep in departures:
                    slot = day * 24.0 + dep
                    call_h = slot - policy.cutoff
                    if call_h < env.now:
                        continue
                    yield env.timeout(call_h - env.now)
                    self._catch_up()
                    picked, _ = self._fill()
                    load = dict.fromkeys(self.ready_load, 0.0)
                    for i in picked:
                        load[self.ready[i].wagon_type] += self.ready[i].size
                    if not picked or not self.capacity.meets(load, policy.min_load):
                        self.hub.records.cancelled_slots.append((self.name, slot))
                        continue
                    self.call(picked, scheduled_h=slot)
            day += 1
