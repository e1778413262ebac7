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

from collections import deque
from collections.abc import Callable, Generator
from typing import Any

import simpy

from silkroute_sim.config.schema import (
    ScenarioConfig,
)
from silkroute_sim.engine.monitors import LevelMonitor
from silkroute_sim.engine.pools import (
    AdjustableContainer,
    FastContainer,
    FastPool,
    UnitPool,
    make_container,
    make_pool,
)
from silkroute_sim.engine.resources import (
    Call,
    Engine,
)
from silkroute_sim.engine.rng import Sampler, Streams
from silkroute_sim.engine.tasks import TaskGen, spawn
from silkroute_sim.model.customs import Customs
from silkroute_sim.model.dispatch import Dispatcher
from silkroute_sim.model.disrupted import DisruptedResources
from silkroute_sim.model.entities import Shipment, Train
from silkroute_sim.model.inbound import Inbound
from silkroute_sim.model.records import RunRecords
from silkroute_sim.model.vehicles import Compound, ramp_loaders

Proc = Generator[simpy.Event, Any, None]
#: work on a held unit that a breakdown may interrupt; returns the hours lost
WorkFn = Callable[[simpy.Event, float], Generator[Any, Any, float]]  # yields events or hours


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
        touched = DisruptedResources.of(cfg)
        self._build_resources(cfg, touched)
        self.use_cranes = hub.loading.use_cranes
        self.cranes_per_train = hub.loading.cranes_per_train
        self.gate_time = streams.sampler("hub.gate", hub.gate.service_time)
        self.move_time = streams.sampler("hub.crane.move", hub.cranes.move_time)
        self.load_time = streams.sampler("hub.crane.load", hub.cranes.move_time)
        self.customs = Customs(streams, "hub.customs", hub.customs)
        # a stream per service: its k-th train gets the k-th draw, however the trains of
        # other services interleave with it in a scenario
        self.formation = {
            name: streams.sampler(f"hub.formation.{name}", hub.loading.formation_time)
            for name in cfg.services
        }
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
        #: what a train does once it has left (runs along the corridor)
        self.on_departure: Callable[[Train], None] | None = None
        # disruption hooks (silkroute_sim.model.disruptions); neutral when none are configured
        self.gate_time_factor = 1.0
        self.move_time_factor = 1.0
        self.formation_time_factor = 1.0
        # crane moves that breakdowns can interrupt
        self.crane_work: WorkFn | None = None
        if touched.crane_breakdowns and isinstance(self.cranes, UnitPool):
            self.crane_work = self.cranes.work
        self.departure_hold: Callable[[Train], Proc] | None = None  # waits out closures
        # cargo classes: wagon types, the vehicle compound, inbound trains
        self.wagon_types = cfg.wagon_types
        self.departure_listeners: list[Callable[[Train], None]] = []
        self.compound = (
            None if hub.compound is None else Compound(env, cfg, hub.compound, streams, records)
        )
        self.inbound = None if not hub.inbound else Inbound(env, self, cfg, streams, records)
        # the per-unit callbacks, bound once for the whole run
        self._checked_in_cb = self._checked_in
        self._in_yard_cb = self.store_and_clear
        self._crane_done_cb = self._crane_done
        self._build_flows(cfg, streams)

    def _build_resources(self, cfg: ScenarioConfig, touched: DisruptedResources) -> None:
        """Gate lanes, cranes, the yard and loading tracks: lean FIFO pools, adjustable
        ones where the run's disruptions touch them."""
        env, hub = self.env, cfg.hub
        self.gate: FastPool | UnitPool = make_pool(
            env, hub.gate.lanes, adjustable="gate" in touched.hub
        )
        self.cranes: FastPool | UnitPool = make_pool(
            env,
            hub.cranes.count,
            adjustable="cranes" in touched.hub,
            resume=touched.resume.get("hub.cranes", True),
        )
        self.crane_count = hub.cranes.count
        self.yard: FastContainer | AdjustableContainer = make_container(
            env, hub.yard.capacity_teu, adjustable="yard" in touched.hub
        )
        self.tracks: FastPool | UnitPool = make_pool(
            env, hub.loading.tracks, adjustable="loading_tracks" in touched.hub
        )

    def _build_flows(self, cfg: ScenarioConfig, streams: Streams) -> None:
        """How boxes (through the yard) and vehicles (through the compound) go from the
        gate to ready: their stores, levels and the draws each unit takes on arrival."""
        dwell = terminal_dwell_samplers(cfg, streams)
        self.box_flow = UnitFlow(
            None,
            None,
            self.yard_level,
            self.gate_time,
            self.move_time,
            self.load_time,
            self.customs,
            dwell,
        )
        compound = self.compound
        self.vehicle_flow = (
            None
            if compound is None
            else UnitFlow(
                compound.space,
                1,
                compound.level,
                compound.gate_time,
                None,
                compound.drive_on,
                compound.customs,
                dwell,
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
    # no event object to build). Every time a unit takes is its own, drawn on arrival.

    def receive(self, unit: Shipment) -> None:
        """A truck with ``unit`` joins the gate queue (its own times drawn now)."""
        self.kg_arrived += unit.kg
        self.kg_gate += unit.kg
        self.records.shipments.arrive(unit)
        flow = self.vehicle_flow if unit.ramp and self.vehicle_flow is not None else self.box_flow
        flow.draw(unit)
        self.gate_queue.add(self.clock.now, 1)
        self.gate.acquire(lambda lane, _waited: self._at_lane(unit, flow, lane))

    def _at_lane(self, unit: Shipment, flow: UnitFlow, lane: Any) -> None:
        store = self.yard if flow.store is None else flow.store
        amount = unit.teu if flow.amount is None else flow.amount
        store.reserve(amount, lambda: self._check_in(unit, flow, amount, lane))

    def _check_in(self, unit: Shipment, flow: UnitFlow, amount: float, lane: Any) -> None:
        clock = self.clock
        flow.level.add(clock.now, amount)
        clock.at(unit.gate_h * self.gate_time_factor, self._checked_in_cb, (unit, flow), lane)

    def _checked_in(self, call: Call) -> None:
        unit: Shipment
        flow: UnitFlow
        unit, flow = call.arg
        self.gate.release_unit(call.token)
        self.gate_queue.add(self.clock.now, -1)
        if flow.craned:
            self.crane_job(self._in_yard_cb, unit, unit.lift_in_h)
        else:
            self.store_and_clear(unit)

    def store_and_clear(self, unit: Shipment) -> None:
        """``unit`` is now stored (yard or compound): clear customs (its own hold), then
        it is ready for its service's next train."""
        now = self.clock.now
        unit.yard_in_h = now
        self.kg_gate -= unit.kg
        self.kg_yard += unit.kg
        hold = unit.customs_h
        if hold > 0:
            self.dispatchers[unit.service].hold(unit, now + hold)
        else:
            self.dispatchers[unit.service].ready_now(unit)

    def crane_job(self, done: Callable[[Any], object], arg: Any, lift_h: float) -> None:
        """One crane move of ``lift_h`` hours (the unit's own, drawn before): wait for a
        free crane in the shared FIFO pool, lift, then call ``done(arg)``. Only a move
        that waits shows in the crane queue."""
        clock = self.clock

        def start(crane: Any, waited: bool) -> None:
            now = clock.now
            if waited:
                self.crane_queue.add(now, -1)
            self.cranes_busy.add(now, 1)
            move_h = lift_h * self.move_time_factor
            if self.crane_work is None:
                clock.at(move_h, self._crane_done_cb, (done, arg), crane)
            else:  # breakdowns may interrupt the move: a task that can be interrupted
                spawn(self.env, self._crane_work(crane, move_h, done, arg))

        if not self.cranes.acquire(start):
            self.crane_queue.add(clock.now, 1)

    def _crane_work(
        self, crane: Any, move_h: float, done: Callable[[Any], object], arg: Any
    ) -> TaskGen:
        assert self.crane_work is not None
        yield from self.crane_work(crane, move_h)
        self._crane_free(crane, done, arg)

    def _crane_done(self, call: Call) -> None:
        """A crane move ends: :meth:`_crane_free` (inline: once per move)."""
        done: Callable[[Any], object]
        done, arg = call.arg
        self.cranes_busy.add(self.clock.now, -1)
        self.cranes.release_unit(call.token)
        done(arg)

    def _crane_free(self, crane: Any, done: Callable[[Any], object], arg: Any) -> None:
        self.cranes_busy.add(self.clock.now, -1)
        self.cranes.release_unit(crane)
        done(arg)

    def crane_move(self, lift_h: float) -> Proc:
        """:meth:`crane_job` for a process: ``yield from hub.crane_move(lift_h)``."""
        lifted = self.env.event()
        self.crane_job(lifted.succeed, None, lift_h)
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
            formation = self.formation[train.service].draw() * self.formation_time_factor
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
            self.on_departure(train)

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

    def deliver(self, train: Train, stop: str) -> None:
        """The train reached terminal ``stop``: its boxes for ``stop`` leave the rail
        after their terminal dwell. Each box brings its own, drawn on arrival from the
        stop's ``terminal_dwell`` (common random numbers). Its record is then final and
        goes to the run's shipment log; the train keeps the boxes still aboard."""
        now = self.clock.now
        log = self.records.shipments
        aboard = []
        for box in train.shipments:
            if box.destination == stop:
                box.terminal_arrived_h = now
                box.delivered_h = now + box.terminal_dwell_h
                self.kg_on_train -= box.kg
                self.kg_delivered += box.kg
                log.done(box)  # its record is final: kept by column from here
            else:
                aboard.append(box)
        train.shipments = aboard


def terminal_dwell_samplers(cfg: ScenarioConfig, streams: Streams) -> dict[str, Sampler]:
    """A terminal-dwell sampler per destination of the demand, on a stream of its own
    (``shipment.<node>.terminal_dwell``) drawn once per unit, in arrival order."""
    destinations = {d for cls in cfg.demand.classes.values() for d in cls.destinations}
    return {
        dest: streams.sampler(
            f"shipment.{dest}.terminal_dwell", cfg.corridor.nodes[dest].terminal_dwell
        )
        for dest in sorted(destinations)
    }


class UnitFlow:
    """How one kind of unit goes from the gate to ready: the store that takes it
    (``None``: the hub's yard, looked up at use because disruptions may swap it), the
    amount it takes there (``None``: its TEU), the store's level monitor, and the
    samplers of each unit's own times: check-in, the crane move into the store (``None``:
    not craned), loading onto its wagon, customs, and the dwell at its terminal."""

    __slots__ = (
        "amount",
        "craned",
        "draw_customs",
        "draw_gate",
        "draw_lift_in",
        "draw_load",
        "draw_terminal_dwell",
        "level",
        "store",
    )

    def __init__(
        self,
        store: Any,
        amount: float | None,
        level: LevelMonitor,
        gate_time: Sampler,
        lift_in: Sampler | None,
        load: Sampler,
        customs: Customs,
        terminal_dwell: dict[str, Sampler],
    ) -> None:
        self.store = store
        self.amount = amount
        self.level = level
        self.craned = lift_in is not None
        # the draws, bound once (C-level callables where they can be)
        self.draw_gate = gate_time.draw
        self.draw_lift_in = None if lift_in is None else lift_in.draw
        self.draw_load = load.draw
        self.draw_customs = customs.hold_h
        self.draw_terminal_dwell = {dest: s.draw for dest, s in terminal_dwell.items()}

    def draw(self, unit: Shipment) -> None:
        """Draw ``unit``'s own times, once, on arrival. Arrivals are the same in every
        scenario run with the seed, so each unit gets the same times whatever order the
        hub serves it in: a scenario changes only what it changes (common random
        numbers). Each quantity has a stream of its own, used once per unit."""
        unit.gate_h = self.draw_gate()
        if self.draw_lift_in is not None:
            unit.lift_in_h = self.draw_lift_in()
        unit.load_h = self.draw_load()
        unit.customs_h = self.draw_customs()
        unit.terminal_dwell_h = self.draw_terminal_dwell[unit.destination]()


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
            box = self.pending.popleft()
            self.hub.crane_job(self.lifted, box, box.load_h)
            return
        self.active -= 1
        if not self.active:
            self.done.succeed()

    def _lifted(self, box: Shipment) -> None:
        self.hub._loaded(box)
        self._next()
