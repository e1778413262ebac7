"""The Urumqi hub: gate → crane → yard → customs → train formation → dispatch.

Units: hours, kg (integer, so conservation is exact), TEU.

* Gate lanes are a resource. A truck at a lane first reserves yard space (a full
  yard blocks the lane — cargo is never dropped), then is checked in.
* One crane pool (FIFO) serves both truck → yard and yard → wagon moves.
* Customs: every box clears (``clearance_time``); a share is held for inspection.
* Ready boxes queue per service (FIFO). The service's dispatch policy decides when
  a train is called; the called train takes a loading track, is loaded by up to
  ``cranes_per_train`` cranes at a time, is formed (brake test, documents) and leaves.
* Vehicles (ramp-handled classes) park in the vehicle compound instead of the yard and
  are driven on by ramp (:mod:`silkroute_sim.model.vehicles`); inbound trains share the
  tracks, cranes and yard (:mod:`silkroute_sim.model.inbound`). A train is filled per wagon
  type (:class:`silkroute_sim.model.cargo.TrainCapacity`).
"""

from __future__ import annotations

import bisect
from collections import deque
from collections.abc import Callable, Generator, Sequence
from typing import TYPE_CHECKING, Any, Final

import simpy

from silkroute_sim.config.schema import (
    CustomsConfig,
    HybridPolicy,
    ScenarioConfig,
    SchedulePolicy,
    ServiceConfig,
)
from silkroute_sim.engine.resources import (
    NORMAL,
    Call,
    Engine,
    FastContainer,
    FastPool,
    insort,
    make_call,
)
from silkroute_sim.engine.rng import Sampler, Streams
from silkroute_sim.model.cargo import EPS, TrainCapacity, wagon_capacity
from silkroute_sim.model.entities import Shipment, Train
from silkroute_sim.model.inbound import Inbound
from silkroute_sim.model.records import LevelMonitor, RunRecords
from silkroute_sim.model.vehicles import Compound, ramp_loaders

if TYPE_CHECKING:  # disruptions swap these in (and import this module)
    from silkroute_sim.model.disruptions import AdjustableContainer, UnitPool

Proc = Generator[simpy.Event, Any, None]
#: margin of the lazy customs' quick tests, which add ready and held loads in another
#: order than the units arrive: far above rounding, far below any unit's size
SURE: Final = 1e-6
#: work on a held unit that a breakdown may interrupt; returns the hours lost
WorkFn = Callable[[simpy.Event, float], Generator[simpy.Event, Any, float]]
#: dispatchers keep units in customs off the event queue (see :class:`Dispatcher`);
#: False: one ready event per unit, the reference the tests compare with. A module
#: setting, read when a dispatcher is made (in the compiled build, a patched class
#: attribute would not reach compiled code)
LAZY_CUSTOMS = True
bisect_left: Final = bisect.bisect_left


class Customs:
    """Export clearance samplers for one flow of units (boxes, or vehicles): every unit
    clears, a share is also held for inspection."""

    __slots__ = ("clearance", "inspect_u", "inspection", "probability")

    def __init__(self, streams: Streams, prefix: str, cfg: CustomsConfig) -> None:
        self.clearance = streams.sampler(f"{prefix}.clearance", cfg.clearance_time)
        self.inspection = streams.sampler(f"{prefix}.inspection", cfg.inspection_time)
        self.inspect_u = streams.uniform(f"{prefix}.inspect")
        self.probability = cfg.inspection_probability

    def hold_h(self) -> float:
        hold = self.clearance.draw()
        if self.probability > 0 and self.inspect_u.draw() < self.probability:
            hold += self.inspection.draw()
        return hold


class Hub:
    """Resources and state of the hub, and the box-level processes."""

    def __init__(
        self, env: Engine, cfg: ScenarioConfig, streams: Streams, records: RunRecords
    ) -> None:
        hub = cfg.hub
        self.env = env
        self.clock = env.clock
        self.node = hub.node
        self.records = records
        # lean FIFO pools; disruptions swap in adjustable ones where they need them
        # typed as the pair of kinds they can be: the compiled build then calls a lean
        # pool's methods directly (a union dispatches on the type), others as Python does
        self.gate: FastPool | UnitPool = FastPool(env, hub.gate.lanes)
        self.cranes: FastPool | UnitPool = FastPool(env, hub.cranes.count)
        self.crane_count = hub.cranes.count
        self.yard: FastContainer | AdjustableContainer = FastContainer(env, hub.yard.capacity_teu)
        self.tracks: FastPool | UnitPool = FastPool(env, hub.loading.tracks)
        self.use_cranes = hub.loading.use_cranes
        self.cranes_per_train = hub.loading.cranes_per_train
        self.gate_time = streams.sampler("hub.gate", hub.gate.service_time)
        self.move_time = streams.sampler("hub.crane.move", hub.cranes.move_time)
        self.customs = Customs(streams, "hub.customs", hub.customs)
        self.formation = streams.sampler("hub.formation", hub.loading.formation_time)
        # time-weighted levels
        self.gate_queue = records.monitor("gate_queue", "trucks")
        self.yard_level = records.monitor("yard_teu", "TEU")
        self.cranes_busy = records.monitor("cranes_busy", "cranes")
        self.crane_queue = records.monitor("crane_queue", "moves")
        self.tracks_busy = records.monitor("loading_tracks_busy", "tracks")
        # conservation ledger, integer kg by state
        self.kg_arrived = 0
        self.kg_gate = 0
        self.kg_yard = 0
        self.kg_on_train = 0
        self.kg_delivered = 0
        self.kg_departed = 0
        self.dispatchers: dict[str, Dispatcher] = {}
        self.on_departure: Callable[[Train], Proc] | None = None
        # disruption hooks (silkroute_sim.model.disruptions); neutral when none are configured
        self.gate_time_factor = 1.0
        self.move_time_factor = 1.0
        self.formation_time_factor = 1.0
        self.crane_work: WorkFn | None = None  # crane moves that breakdowns can interrupt
        self.departure_hold: Callable[[Train], Proc] | None = None  # waits out closures
        # cargo classes: wagon types, the vehicle compound, inbound trains
        self.wagon_types = cfg.wagon_types
        self.departure_listeners: list[Callable[[Train], None]] = []
        self.compound = (
            None if hub.compound is None else Compound(env, cfg, hub.compound, streams, records)
        )
        self.inbound = None if not hub.inbound else Inbound(env, self, cfg, streams, records)
        # the per-unit callbacks, bound once (the compiled build builds a bound method
        # with a generic attribute look-up at every ``self.method`` it passes on)
        self._checked_in_cb = self._checked_in
        self._in_yard_cb = self._in_yard
        self._crane_done_cb = self._crane_done
        self.box_flow = UnitFlow(None, None, self.yard_level, self.gate_time, True, self.customs)
        compound = self.compound
        self.vehicle_flow = (
            None
            if compound is None
            else UnitFlow(
                compound.space, 1, compound.level, compound.gate_time, False, compound.customs
            )
        )

    # ------------------------------------------------------------------ boxes
    #
    # A unit's way from the gate queue to ready is a chain of engine callbacks (no
    # process per unit): gate lane → space in its store (a full store blocks the lane)
    # → check-in → [crane move into the yard] → customs → ready. Pools hand a freed unit
    # straight to the next job in line, so only the timed steps cost an engine event.
    # These per-unit callbacks read the engine's clock (``clock.now``, ``clock.at``)
    # rather than the ``now`` property and SimPy's ``timeout`` (one call less per read,
    # no event object to build).

    def receive(self, unit: Shipment) -> None:
        """A truck with ``unit`` joins the gate queue."""
        self.kg_arrived += unit.kg
        self.kg_gate += unit.kg
        self.records.shipments.append(unit)
        flow = self.vehicle_flow if unit.ramp and self.vehicle_flow is not None else self.box_flow
        self.gate_queue.add(self.clock.now, 1)
        self.gate.acquire(lambda lane, _waited: self._at_lane(unit, flow, lane))

    def _at_lane(self, unit: Shipment, flow: UnitFlow, lane: Any) -> None:
        store = self.yard if flow.store is None else flow.store
        amount = unit.teu if flow.amount is None else flow.amount
        store.reserve(amount, lambda: self._check_in(unit, flow, amount, lane))

    def _check_in(self, unit: Shipment, flow: UnitFlow, amount: float, lane: Any) -> None:
        clock = self.clock
        flow.level.add(clock.now, amount)
        clock.at(
            flow.gate_time.draw() * self.gate_time_factor, self._checked_in_cb, (unit, flow), lane
        )

    def _checked_in(self, call: Call) -> None:
        unit: Shipment
        flow: UnitFlow  # typed: the compiled build reads its fields directly
        unit, flow = call.arg
        self.gate.release_unit(call.token)
        self.gate_queue.add(self.clock.now, -1)
        if flow.craned:
            self.crane_job(self._in_yard_cb, unit)
        else:
            self.store_and_clear(unit, flow.customs)

    def _in_yard(self, box: Shipment) -> None:
        self.store_and_clear(box, self.customs)

    def store_and_clear(self, unit: Shipment, customs: Customs) -> None:
        """``unit`` is now stored (yard or compound): clear customs, then it is ready for
        its service's next train."""
        now = self.clock.now
        unit.yard_in_h = now
        self.kg_gate -= unit.kg
        self.kg_yard += unit.kg
        hold = customs.hold_h()
        if hold > 0:
            self.dispatchers[unit.service].hold(unit, now + hold)
        else:
            self.dispatchers[unit.service].ready_now(unit)

    def crane_job(
        self, done: Callable[[Any], object], arg: Any, move_time: Sampler | None = None
    ) -> None:
        """One crane move: wait for a free crane in the shared FIFO pool, lift, then call
        ``done(arg)``. ``move_time``: a sampler of its own (inbound boxes), else
        ``hub.crane.move``. Only a move that waits shows in the crane queue."""
        clock = self.clock
        draw = (move_time or self.move_time).draw

        def start(crane: Any, waited: bool) -> None:
            now = clock.now
            if waited:
                self.crane_queue.add(now, -1)
            self.cranes_busy.add(now, 1)
            move_h = draw() * self.move_time_factor
            if self.crane_work is None:
                clock.at(move_h, self._crane_done_cb, (done, arg), crane)
            else:  # breakdowns may interrupt the move: a process that can be interrupted
                self.env.process(self._crane_work(crane, move_h, done, arg))

        if not self.cranes.acquire(start):
            self.crane_queue.add(clock.now, 1)

    def _crane_work(
        self, crane: Any, move_h: float, done: Callable[[Any], object], arg: Any
    ) -> Proc:
        assert self.crane_work is not None
        yield from self.crane_work(crane, move_h)
        self._crane_free(crane, done, arg)

    def _crane_done(self, call: Call) -> None:
        done: Callable[[Any], object]
        done, arg = call.arg
        self._crane_free(call.token, done, arg)

    def _crane_free(self, crane: Any, done: Callable[[Any], object], arg: Any) -> None:
        self.cranes_busy.add(self.clock.now, -1)
        self.cranes.release_unit(crane)
        done(arg)

    def crane_move(self, move_time: Sampler | None = None) -> Proc:
        """:meth:`crane_job` for a process: ``yield from hub.crane_move()``."""
        lifted = self.env.event()
        self.crane_job(lifted.succeed, None, move_time)
        yield lifted

    # ------------------------------------------------------------------ trains

    def form_train(self, train: Train) -> Proc:
        """Take a loading track, load the train's boxes, form it, then leave."""
        env = self.env
        with self.tracks.request() as track:
            yield track
            self.tracks_busy.add(env.now, 1)
            train.loading_start_h = env.now
            boxes = [s for s in train.shipments if not s.ramp]  # by crane; vehicles by ramp
            loaders: list[simpy.Event] = []
            if self.use_cranes:
                if boxes:
                    loaders.append(_Loading(self, boxes).done)
            else:
                for box in boxes:
                    self._loaded(box)
            if self.compound is not None and len(boxes) < len(train.shipments):
                vehicles = [s for s in train.shipments if s.ramp]
                loaders += ramp_loaders(self, self.compound, vehicles)
            if loaders:
                yield env.all_of(loaders)
            train.loaded_h = env.now
            formation = self.formation() * self.formation_time_factor
            if formation > 0:
                yield env.timeout(formation)
            train.formed_h = env.now
            if train.scheduled_h == train.scheduled_h and env.now < train.scheduled_h:
                yield env.timeout(train.scheduled_h - env.now)
            if self.departure_hold is not None:
                yield from self.departure_hold(train)
            self.tracks_busy.add(env.now, -1)
        self.depart(train)
        if self.on_departure is not None:
            yield from self.on_departure(train)

    def _loaded(self, box: Shipment) -> None:
        now = self.clock.now
        box.loaded_h = now
        self.yard.get(box.teu)  # always immediate: the box's space was reserved at the gate
        self.yard_level.add(now, -box.teu)
        self.kg_yard -= box.kg
        self.kg_on_train += box.kg

    def depart(self, train: Train) -> None:
        now = self.clock.now
        train.departed_h = now
        self.kg_departed += train.kg
        for box in train.shipments:
            box.departed_h = now
        self.records.trains.append(train)
        for listener in self.departure_listeners:  # e.g. return trains (inbound)
            listener(train)

    def deliver(self, train: Train, stop: str, dwell: Sampler) -> None:
        """The train reached terminal ``stop``: its boxes for ``stop`` leave the rail."""
        now = self.clock.now
        for box in train.shipments:
            if box.destination == stop:
                box.terminal_arrived_h = now
                box.delivered_h = now + dwell()
                self.kg_on_train -= box.kg
                self.kg_delivered += box.kg


class UnitFlow:
    """How one kind of unit goes from the gate to ready: the store that takes it
    (``None``: the hub's yard, looked up at use because disruptions may swap it), the
    amount it takes there (``None``: its TEU), the store's level monitor, the check-in
    time, whether a crane lifts it into the store, and the customs that clear it."""

    __slots__ = ("amount", "craned", "customs", "gate_time", "level", "store")

    def __init__(
        self,
        store: Any,
        amount: float | None,
        level: LevelMonitor,
        gate_time: Sampler,
        craned: bool,
        customs: Customs,
    ) -> None:
        self.store = store
        self.amount = amount
        self.level = level
        self.gate_time = gate_time
        self.craned = craned
        self.customs = customs


class _Loading:
    """A train's boxes going from the yard onto its wagons, up to ``cranes_per_train``
    moves at a time (each in the shared crane queue); ``done`` fires after the last."""

    __slots__ = ("active", "done", "hub", "lifted", "pending")

    def __init__(self, hub: Hub, boxes: list[Shipment]) -> None:
        self.hub = hub
        self.pending = deque(boxes)
        self.lifted = self._lifted  # bound once (see Hub.__init__)
        self.done = hub.env.event()
        self.active = min(hub.cranes_per_train, len(boxes))
        for _ in range(self.active):
            self._next()

    def _next(self) -> None:
        if self.pending:
            self.hub.crane_job(self.lifted, self.pending.popleft())
            return
        self.active -= 1
        if not self.active:
            self.done.succeed()

    def _lifted(self, box: Shipment) -> None:
        self.hub._loaded(box)
        self._next()


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
    event per unit. With ``LAZY_CUSTOMS = False`` every held unit gets its event, as
    the reference the tests compare with. A dispatcher needs the run's
    :class:`~silkroute_sim.engine.resources.Engine`: its clock says which event is running.
    """

    def __init__(self, env: Engine, hub: Hub, name: str, service: ServiceConfig) -> None:
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
        self._lazy = LAZY_CUSTOMS
        #: (ready time, event id, unit) of units still in customs, in queue order
        self.held: list[tuple[float, int, Shipment]] = []
        self.held_load = dict.fromkeys(capacity, 0.0)
        self.held_kg = 0
        self._wakes: set[int] = set()  # event ids of held units with a queued event
        self._first: tuple[float, int] | None = None  # key of the first unit that matters
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
        """``unit`` clears customs at ``ready_h`` (its ready event's key is taken now)."""
        eid = self.clock.next_id()
        entry = (ready_h, eid, unit)
        held = self.held
        if not held or entry > held[-1]:
            held.append(entry)
        else:
            insort(held, entry)
        wagon_type = unit.wagon_type
        self.held_load[wagon_type] += unit.size
        self.held_kg += unit.kg
        if not self._lazy:
            self._queue_ready_event(entry)
            return
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
        elif (ready_h, eid) < first:
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
        for ready_h, _, unit in held[:n]:
            unit.ready_h = ready_h
            ready.append(unit)
            size = unit.size
            self.ready_load[unit.wagon_type] += size
            self.held_load[unit.wagon_type] -= size
            self.ready_kg += unit.kg
            self.held_kg -= unit.kg
        del held[:n]

    def _catch_up(self) -> None:
        """Release the held units whose ready events come before the event now running."""
        held = self.held
        if not held or not self._lazy:  # not lazy: their own events released them
            return
        now, priority, eid, _ = self.clock.active()
        n = 0
        for ready_h, held_eid, _ in held:
            if ready_h < now or (ready_h == now and (NORMAL, held_eid) < (priority, eid)):
                n += 1
            else:
                break
        if n:
            self._release(n)

    def _first_that_matters(self) -> tuple[float, int, Shipment] | None:
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
        if held[-1][0] < due and kg + self.held_kg <= max_kg:
            held_load = self.held_load
            if all(load[w] + held_load[w] < room - SURE for w, room in self._room):
                self._calm = True
                return None  # even with all of them, every unit fits with room left
        load = dict(load)
        for entry in held:
            ready_h, _, unit = entry
            if ready_h >= due:
                return entry
            kg += unit.kg
            wagon_type = unit.wagon_type
            load[wagon_type] += unit.size
            if kg > max_kg or load[wagon_type] >= room_of[wagon_type]:
                return entry
        return None

    def _settle(self) -> None:
        """Make sure the first held unit that matters has its ready event queued."""
        if not self._lazy or not self._looks:  # the timetable reads held units itself
            return
        entry = self._first_that_matters()
        if entry is None:
            self._first = None
            return
        self._first = entry[:2]
        if entry[1] not in self._wakes:
            self._queue_ready_event(entry)

    def _queue_ready_event(self, entry: tuple[float, int, Shipment]) -> None:
        """Put the held unit's ready event on the queue, with the key it was given."""
        ready_h, eid, _ = entry
        self._wakes.add(eid)
        self.clock.push(ready_h, (NORMAL, eid, make_call(self._woken_up, entry)))

    def _woken_up(self, call: Call) -> None:
        entry = call.arg
        ready_h, eid, unit = entry
        self._wakes.discard(eid)
        held = self.held
        if not held or held[0][:2] > (ready_h, eid):  # released by a reader that came first
            self._settle()
            return
        self._release(bisect_left(held, (ready_h, eid)))
        del held[0]
        unit.ready_h = ready_h
        self.held_load[unit.wagon_type] -= unit.size
        self.held_kg -= unit.kg
        self.add_ready(unit)
        self._settle()

    def finish(self, end_h: float) -> None:
        """End of the run: units that cleared before ``end_h`` are ready."""
        n = bisect_left(self.held, (end_h,))
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
