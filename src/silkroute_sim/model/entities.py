"""The things that move: shipments (a container or a vehicle) and trains."""

from __future__ import annotations

import math
from typing import Final

#: the time of an event that has not happened (yet)
NAN: Final = math.nan


class Shipment:
    """One unit of cargo (a box or a vehicle) from the hub gate to its destination terminal.

    Timestamps are simulation hours; NaN means "not yet". ``teu`` is its footprint in the
    yard (0 for a vehicle in the compound); ``size`` is the capacity it takes on its
    ``wagon_type`` (TEU on container wagons, a fraction of a wagon on wagons that carry
    units); ``ramp`` says it is driven on from the compound rather than craned.

    Its own service times (hours) are drawn when it arrives, in arrival order (see
    :meth:`silkroute_sim.model.hub.UnitFlow.draw`): ``gate_h`` (check-in), ``lift_in_h``
    (crane move truck → yard; 0 for a vehicle), ``load_h`` (crane move yard → wagon, or
    the drive on by ramp), ``customs_h`` (clearance and any inspection) and
    ``terminal_dwell_h`` (at its destination terminal). Arrivals do not depend on the
    hub, so with the same seed a unit gets the same draws in every scenario (common
    random numbers), whatever order the hub then serves it in.
    """

    __slots__ = (
        "arrived_h",
        "cargo_class",
        "customs_h",
        "delivered_h",
        "departed_h",
        "destination",
        "gate_h",
        "kg",
        "lift_in_h",
        "load_h",
        "loaded_h",
        "origin",
        "ramp",
        "ready_h",
        "service",
        "shipment_id",
        "size",
        "terminal_arrived_h",
        "terminal_dwell_h",
        "teu",
        "train_id",
        "unit",
        "value_usd",
        "wagon_type",
        "yard_in_h",
    )

    def __init__(
        self,
        shipment_id: int,
        cargo_class: str,
        destination: str,
        service: str,
        kg: int,
        teu: float,
        arrived_h: float,
        unit: str = "box",
        wagon_type: str = "container",
        size: float | None = None,
        ramp: bool = False,
        value_usd: float = NAN,
        origin: str = "",
    ) -> None:
        self.shipment_id = shipment_id
        self.cargo_class = cargo_class
        self.destination = destination
        self.service = service
        self.kg = kg
        self.teu = teu
        self.arrived_h = arrived_h
        self.unit = unit
        self.wagon_type = wagon_type
        self.size = teu if size is None else size
        self.ramp = ramp
        self.value_usd = value_usd
        self.origin = origin
        self.yard_in_h = NAN
        self.ready_h = NAN
        self.loaded_h = NAN
        self.departed_h = NAN
        self.terminal_arrived_h = NAN
        self.delivered_h = NAN
        self.train_id = ""
        self.gate_h = 0.0
        self.lift_in_h = 0.0
        self.load_h = 0.0
        self.customs_h = 0.0
        self.terminal_dwell_h = 0.0

    @property
    def tonnes(self) -> float:
        return self.kg / 1000


_NO_SHIPMENTS: Final[list[Shipment]] = []  # shared by background trains, never appended to
_NOTHING: Final[dict[str, float]] = {}  # shared by background trains, never changed


#: the moments of a train's way, in order (hours; NaN: not yet)
TRAIN_TIME_FIELDS = (
    "opened_h",
    "called_h",
    "loading_start_h",
    "loaded_h",
    "formed_h",
    "scheduled_h",
    "departed_h",
    "arrived_h",
)


class Train:
    """A train: an Urumqi service train carrying shipments (westbound from the hub, or
    eastbound to it from an inbound stream's origin), or a background train."""

    __slots__ = (
        "arrived_h",
        "background",
        "box_count",
        "called_h",
        "capacity",
        "capacity_teu",
        "departed_h",
        "direction",
        "formed_h",
        "kg",
        "load_factor",
        "loaded_h",
        "loading_start_h",
        "opened_h",
        "origin",
        "route",
        "scheduled_h",
        "service",
        "shipments",
        "stops",
        "teu",
        "train_id",
        "used",
        "wait_h",
    )

    def __init__(
        self,
        train_id: str,
        service: str,
        origin: str,
        stops: list[str],
        capacity_teu: float,
        *,
        background: bool = False,
    ) -> None:
        self.train_id = train_id
        self.service = service
        self.origin = origin
        self.stops = stops
        self.capacity_teu = capacity_teu
        self.background = background
        # a background train carries no shipments of ours: it shares empty containers
        # (never changed in place: ``add`` refuses, capacity and use are replaced whole)
        # instead of three of its own — 130,000 such trains in a 10-year run
        self.shipments: list[Shipment] = _NO_SHIPMENTS if background else []
        self.box_count = 0
        self.kg = 0
        self.teu = 0.0
        self.route: list[str] = [origin]
        self.opened_h = NAN
        self.called_h = NAN
        self.loading_start_h = NAN
        self.loaded_h = NAN
        self.formed_h = NAN
        self.scheduled_h = NAN
        self.departed_h = NAN
        self.arrived_h = NAN
        self.wait_h = 0.0
        #: "west" (from the hub, or a westbound background train) or "east" (to the hub:
        #: an inbound stream with an origin); background trains keep "west" here, their
        #: stream's direction is read from the config (analysis.directions)
        self.direction = "west"
        # by wagon type: capacity offered and taken (TEU, or wagons for unit wagons)
        self.capacity: dict[str, float] = _NOTHING if background else {}
        self.used: dict[str, float] = _NOTHING if background else {}
        self.load_factor = NAN

    @property
    def destination(self) -> str:
        return self.stops[-1]

    def add(self, shipment: Shipment) -> None:
        if self.background:
            raise ValueError(f"background train {self.train_id} carries no shipments")
        self.shipments.append(shipment)
        self.box_count += 1
        self.kg += shipment.kg
        self.teu += shipment.teu
