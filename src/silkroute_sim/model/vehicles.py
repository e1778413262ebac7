"""The vehicle compound: vehicles through the gate, parked, cleared, driven on by ramp.

Vehicles (cargo classes handled by ``ramp``) never touch the TEU yard or a crane:

* At a gate lane a vehicle first reserves a parking place in the compound (a full
  compound blocks the lane, as a full yard does — nothing is dropped), then is checked
  in (``hub.gate.service_time``) and parks.
* Export customs as for boxes (``hub.customs``), on streams of its own.
* Each vehicle's check-in, customs and drive-on times are its own, drawn on arrival
  (:meth:`silkroute_sim.model.hub.UnitFlow.draw`), on the compound's streams.
* When its train is on a loading track, each vehicle holds one ramp of the hub's pool
  for ``drive_on_time`` (driving on, lashing); a train uses up to ``ramps_per_train``
  ramps at once, in parallel with the cranes loading its boxes. The parking place is
  freed when the vehicle is on the wagon.

For the conservation ledger the compound counts as hub storage (with the yard).
"""

from __future__ import annotations

from collections import deque
from collections.abc import Generator
from typing import Any, Protocol

import simpy

from silkroute_sim.config.schema import CompoundConfig, ScenarioConfig
from silkroute_sim.engine.pools import FastContainer, FastPool
from silkroute_sim.engine.rng import Streams
from silkroute_sim.model.customs import Customs
from silkroute_sim.model.entities import Shipment
from silkroute_sim.model.records import RunRecords

Proc = Generator[simpy.Event, Any, None]


class Compound:
    """Parking places, ramps and samplers of the vehicle compound."""

    def __init__(
        self,
        env: simpy.Environment,
        cfg: ScenarioConfig,
        compound: CompoundConfig,
        streams: Streams,
        records: RunRecords,
    ) -> None:
        customs = cfg.hub.customs
        self.env = env
        self.space = FastContainer(env, compound.capacity_units)
        self.ramps = FastPool(env, compound.ramps)
        self.ramps_per_train = compound.ramps_per_train
        self.gate_time = streams.sampler("hub.vehicles.gate", cfg.hub.gate.service_time)
        self.customs = Customs(streams, "hub.vehicles.customs", customs)
        self.drive_on = streams.sampler("hub.compound.drive_on", compound.drive_on_time)
        self.level = records.monitor("compound_units", "vehicles")
        self.ramps_busy = records.monitor("ramps_busy", "ramps")


class LedgerHub(Protocol):
    """What loading vehicles needs of the hub: its engine and its conservation ledger."""

    kg_yard: int
    kg_on_train: int

    @property
    def env(self) -> simpy.Environment: ...


def ramp_loaders(hub: LedgerHub, compound: Compound, units: list[Shipment]) -> list[simpy.Process]:
    """Processes that drive ``units`` onto their train, up to ``ramps_per_train`` at once."""
    pending = deque(units)
    count = min(compound.ramps_per_train, len(pending))
    return [hub.env.process(_drive_on(hub, compound, pending)) for _ in range(count)]


def _drive_on(hub: LedgerHub, compound: Compound, pending: deque[Shipment]) -> Proc:
    env = hub.env
    while pending:
        unit = pending.popleft()
        with compound.ramps.request() as ramp:
            yield ramp
            compound.ramps_busy.add(env.now, 1)
            yield env.timeout(unit.load_h)  # its own drive-on time, drawn on arrival
            compound.ramps_busy.add(env.now, -1)
        unit.loaded_h = env.now
        compound.space.get(1)  # immediate: the place was reserved at the gate
        compound.level.add(env.now, -1)
        hub.kg_yard -= unit.kg
        hub.kg_on_train += unit.kg
