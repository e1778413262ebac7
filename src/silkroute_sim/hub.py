"""The Urumqi hub: gate → crane → yard → customs → train formation → dispatch.

Units: hours, kg (integer, so conservation is exact), TEU.

* Gate lanes are a resource. A truck at a lane first reserves yard space (a full
  yard blocks the lane — cargo is never dropped), then is checked in.
* One crane pool (FIFO) serves both truck → yard and yard → wagon moves.
* Customs: every box clears (``clearance_time``); a share is held for inspection.
* Ready boxes queue per service (FIFO). The service's dispatch policy decides when
  a train is called; the called train takes a loading track, is loaded by up to
  ``cranes_per_train`` cranes at a time, is formed (brake test, documents) and leaves.
"""

from __future__ import annotations

from collections import deque
from collections.abc import Callable, Generator
from typing import Any

import simpy

from .config import HybridPolicy, ScenarioConfig, SchedulePolicy, ServiceConfig
from .entities import Shipment, Train
from .records import RunRecords
from .rng import Sampler, Streams

Proc = Generator[simpy.Event, Any, None]
#: work on a held unit that a breakdown may interrupt; returns the hours lost
WorkFn = Callable[[simpy.Event, float], Generator[simpy.Event, Any, float]]


class Hub:
    """Resources and state of the hub, and the box-level processes."""

    def __init__(
        self, env: simpy.Environment, cfg: ScenarioConfig, streams: Streams, records: RunRecords
    ) -> None:
        hub = cfg.hub
        self.env = env
        self.node = hub.node
        self.records = records
        self.gate = simpy.Resource(env, hub.gate.lanes)
        self.cranes = simpy.Resource(env, hub.cranes.count)
        self.crane_count = hub.cranes.count
        self.yard = simpy.Container(env, capacity=hub.yard.capacity_teu, init=0)
        self.tracks = simpy.Resource(env, hub.loading.tracks)
        self.use_cranes = hub.loading.use_cranes
        self.cranes_per_train = hub.loading.cranes_per_train
        self.gate_time = streams.sampler("hub.gate", hub.gate.service_time)
        self.move_time = streams.sampler("hub.crane.move", hub.cranes.move_time)
        self.clearance = streams.sampler("hub.customs.clearance", hub.customs.clearance_time)
        self.inspection = streams.sampler("hub.customs.inspection", hub.customs.inspection_time)
        self.inspect_u = streams.uniform("hub.customs.inspect")
        self.inspection_p = hub.customs.inspection_probability
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
        # disruption hooks (silkroute_sim.disruptions); neutral when none are configured
        self.gate_time_factor = 1.0
        self.move_time_factor = 1.0
        self.formation_time_factor = 1.0
        self.crane_work: WorkFn | None = None  # crane moves that breakdowns can interrupt
        self.departure_hold: Callable[[Train], Proc] | None = None  # waits out closures

    # ------------------------------------------------------------------ boxes

    def receive(self, box: Shipment) -> None:
        """A truck with ``box`` joins the gate queue."""
        self.kg_arrived += box.kg
        self.kg_gate += box.kg
        self.records.shipments.append(box)
        self.env.process(self.handle_box(box))

    def handle_box(self, box: Shipment) -> Proc:
        env = self.env
        self.gate_queue.add(env.now, 1)
        with self.gate.request() as lane:
            yield lane
            yield self.yard.put(box.teu)  # a full yard blocks the gate lane
            self.yard_level.set(env.now, self.yard.level)
            yield env.timeout(self.gate_time() * self.gate_time_factor)
        self.gate_queue.add(env.now, -1)
        yield from self.crane_move()
        box.yard_in_h = env.now
        self.kg_gate -= box.kg
        self.kg_yard += box.kg
        hold = self.clearance()
        if self.inspection_p > 0 and self.inspect_u() < self.inspection_p:
            hold += self.inspection()
        if hold > 0:
            yield env.timeout(hold)
        box.ready_h = env.now
        self.dispatchers[box.service].add_ready(box)

    def crane_move(self) -> Proc:
        """One crane move: wait for a free crane in the shared pool, then lift."""
        env = self.env
        self.crane_queue.add(env.now, 1)
        with self.cranes.request() as crane:
            yield crane
            self.crane_queue.add(env.now, -1)
            self.cranes_busy.add(env.now, 1)
            move_h = self.move_time() * self.move_time_factor
            if self.crane_work is None:
                yield env.timeout(move_h)
            else:
                yield from self.crane_work(crane, move_h)
            self.cranes_busy.add(env.now, -1)

    # ------------------------------------------------------------------ trains

    def form_train(self, train: Train) -> Proc:
        """Take a loading track, load the train's boxes, form it, then leave."""
        env = self.env
        with self.tracks.request() as track:
            yield track
            self.tracks_busy.add(env.now, 1)
            train.loading_start_h = env.now
            if self.use_cranes:
                pending = deque(train.shipments)
                loaders = [
                    env.process(self._loader(pending))
                    for _ in range(min(self.cranes_per_train, len(pending)))
                ]
                yield env.all_of(loaders)
            else:
                for box in train.shipments:
                    self._loaded(box)
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

    def _loader(self, pending: deque[Shipment]) -> Proc:
        while pending:
            box = pending.popleft()
            yield from self.crane_move()
            self._loaded(box)

    def _loaded(self, box: Shipment) -> None:
        box.loaded_h = self.env.now
        self.yard.get(box.teu)  # always immediate: the box's space was reserved at the gate
        self.yard_level.set(self.env.now, self.yard.level)
        self.kg_yard -= box.kg
        self.kg_on_train += box.kg

    def depart(self, train: Train) -> None:
        now = self.env.now
        train.departed_h = now
        self.kg_departed += train.kg
        for box in train.shipments:
            box.departed_h = now
        self.records.trains.append(train)

    def deliver(self, train: Train, stop: str, dwell: Sampler) -> None:
        """The train reached terminal ``stop``: its boxes for ``stop`` leave the rail."""
        now = self.env.now
        for box in train.shipments:
            if box.destination == stop:
                box.terminal_arrived_h = now
                box.delivered_h = now + dwell()
                self.kg_on_train -= box.kg
                self.kg_delivered += box.kg

    def backlog_kg(self) -> int:
        """Cargo that has arrived but not left the hub (gate, yard, trains not departed)."""
        return self.kg_arrived - self.kg_departed


class Dispatcher:
    """Ready boxes of one service and its dispatch policy."""

    def __init__(self, env: simpy.Environment, hub: Hub, name: str, service: ServiceConfig) -> None:
        self.env = env
        self.hub = hub
        self.name = name
        self.service = service
        self.policy = service.policy
        self.capacity_teu = service.capacity_teu
        self.max_kg = round(service.max_tonnes * 1000)
        self.ready: deque[Shipment] = deque()
        self.ready_teu = 0.0
        self.trains_called = 0
        self._timer_for: Shipment | None = None
        if isinstance(self.policy, SchedulePolicy):
            env.process(self._timetable(self.policy))

    # -------------------------------------------------------------- filling

    def _fill(self) -> tuple[int, bool]:
        """How many ready boxes (FIFO) fit one train, and whether that train is full."""
        teu = 0.0
        kg = 0
        for count, box in enumerate(self.ready):
            if teu + box.teu > self.capacity_teu + 1e-9 or kg + box.kg > self.max_kg:
                return count, True
            teu += box.teu
            kg += box.kg
        full = self.capacity_teu - teu < 1e-9
        return len(self.ready), full

    def add_ready(self, box: Shipment) -> None:
        self.ready.append(box)
        self.ready_teu += box.teu
        if not isinstance(self.policy, SchedulePolicy):
            self.check()

    def check(self) -> None:
        """Call trains while the policy says so (full/hybrid)."""
        policy = self.policy
        while self.ready:
            count, full = self._fill()
            if full:
                self.call(count)
                continue
            if isinstance(policy, HybridPolicy):
                oldest = self.ready[0]
                due = oldest.ready_h + policy.max_wait
                if self.env.now >= due - 1e-9:
                    if self.ready_teu >= policy.min_load * self.capacity_teu - 1e-9:
                        self.call(count)
                        continue
                elif self._timer_for is not oldest:
                    self._timer_for = oldest
                    timer = self.env.timeout(due - self.env.now)
                    timer.callbacks.append(lambda _ev: self.check())
            return

    def call(self, count: int, scheduled_h: float | None = None) -> Train:
        """Call a train for the first ``count`` ready boxes and start forming it."""
        self.trains_called += 1
        train = Train(
            f"{self.name}-{self.trains_called:05d}",
            self.name,
            self.hub.node,
            list(self.service.stops),
            self.capacity_teu,
        )
        train.opened_h = self.ready[0].ready_h
        train.called_h = self.env.now
        if scheduled_h is not None:
            train.scheduled_h = scheduled_h
        for _ in range(count):
            box = self.ready.popleft()
            self.ready_teu -= box.teu
            box.train_id = train.train_id
            train.add(box)
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
                    call_at = slot - policy.cutoff
                    if call_at < env.now:
                        continue
                    yield env.timeout(call_at - env.now)
                    count, _ = self._fill()
                    load = sum(b.teu for _, b in zip(range(count), self.ready, strict=False))
                    if count == 0 or load < policy.min_load * self.capacity_teu - 1e-9:
                        self.hub.records.cancelled_slots.append((self.name, slot))
                        continue
                    self.call(count, scheduled_h=slot)
            day += 1
