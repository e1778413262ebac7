"""The hub: gate, cranes, yard, customs, loading tracks, vehicle compound and inbound
trains (the ``hub`` section).
"""

from __future__ import annotations

from typing import Any

from pydantic import Field, SerializerFunctionWrapHandler, model_serializer, model_validator

from silkroute_sim.config.distributions import Constant, Hours, TimeDist
from silkroute_sim.config.fields import (
    Fraction,
    Name,
    NonNegFloat,
    PositiveFloat,
    StrictModel,
    one_of,
    zero_hours,
)


class GateConfig(StrictModel):
    lanes: int = Field(4, ge=1, le=1000)
    service_time: TimeDist = Field(default_factory=lambda: Constant[Hours](value=5 / 60))


class CraneConfig(StrictModel):
    """Handling equipment pool shared by truck unloading and wagon loading."""

    count: int = Field(ge=1, le=1000)
    move_time: TimeDist


class YardConfig(StrictModel):
    capacity_teu: PositiveFloat = Field(le=10_000_000)


class CustomsConfig(StrictModel):
    """Export clearance of each box at the hub; a share is held for inspection."""

    clearance_time: TimeDist = Field(default_factory=zero_hours)
    inspection_probability: Fraction = 0.0
    inspection_time: TimeDist = Field(default_factory=zero_hours)


class LoadingConfig(StrictModel):
    tracks: int = Field(ge=1, le=1000)
    use_cranes: bool = Field(
        True, description="load wagons with the crane pool (false: loading takes no crane time)"
    )
    cranes_per_train: int = Field(2, ge=1, le=100)
    formation_time: TimeDist = Field(default_factory=zero_hours)


class CompoundConfig(StrictModel):
    """The vehicle compound: vehicles (ramp-handled classes) pass the gate into a parking
    area of ``capacity_units`` (a full compound blocks the gate lane, like the yard) and
    are driven onto the wagons over ramps: each vehicle holds one ramp of the hub's pool
    for ``drive_on_time``; a train on its loading track uses up to ``ramps_per_train``."""

    capacity_units: int = Field(ge=1, le=10_000_000)
    ramps: int = Field(1, ge=1, le=1000)
    ramps_per_train: int = Field(1, ge=1, le=100)
    drive_on_time: TimeDist


class InboundStreamConfig(StrictModel):
    """Trains arriving at the hub (from Europe, from Central Asia). Each reserves yard
    space for its boxes, takes a loading track, and its boxes are craned wagon → yard
    (one move each, up to ``hub.loading.cranes_per_train`` cranes); each box waits
    ``dwell`` in the yard, then a second move puts it on a truck and frees the space.
    Arrivals: ``trains_per_day`` (renewal process, ``interarrival_cv``), or
    ``share_of_outbound`` inbound trains per departing train (of ``services``, default
    all), each arriving ``lag`` after that departure.

    With an ``origin`` (a corridor node), the stream's trains are eastbound service
    trains: each leaves ``origin`` at its arrival time (or ``lag`` after the westbound
    departure it answers) and runs the corridor to the hub like any train (node
    processing, borders, gauge changes, closures), and is unloaded on arrival. Of each
    train's boxes a ``loaded_share`` carries cargo, the rest are empties coming back
    (counted by ``hub.box_pool``)."""

    trains_per_day: PositiveFloat | None = Field(None, le=1000)
    share_of_outbound: PositiveFloat | None = Field(None, le=10)
    services: list[Name] | None = Field(None, min_length=1, max_length=1000)
    interarrival_cv: NonNegFloat = Field(1.0, le=10)
    lag: TimeDist = Field(default_factory=zero_hours)
    boxes: int = Field(45, ge=1, le=1000)
    teu_per_box: PositiveFloat = Field(2.0, le=10)
    dwell: TimeDist
    shunting_time: TimeDist = Field(
        default_factory=zero_hours,
        description="track time besides unloading (brake test, shunting)",
    )
    origin: Name | None = Field(
        None,
        description="corridor node the trains start from (eastbound trains); none: "
        "they appear at the hub",
    )
    loaded_share: Fraction = Field(
        1.0, description="share of each train's boxes that are loaded; the rest are empties"
    )
    use_cranes: bool = Field(
        True,
        description="crane the boxes with the hub's crane pool (false: other equipment "
        "unloads them while the train holds its track for shunting_time; no crane time)",
    )

    @model_serializer(mode="wrap")
    def _dump(self, handler: SerializerFunctionWrapHandler) -> dict[str, Any]:
        # keys added later, left at their defaults: configs before them keep their hash
        data: dict[str, Any] = handler(self)
        if data.get("origin", 0) is None:
            del data["origin"]
        if data.get("loaded_share") == 1.0:
            del data["loaded_share"]
        if data.get("use_cranes") is True:
            del data["use_cranes"]
        return data

    @model_validator(mode="after")
    def _rate_or_share(self) -> InboundStreamConfig:
        one_of(self, "trains_per_day", "share_of_outbound")
        if self.services is not None and self.share_of_outbound is None:
            raise ValueError("'services' applies to share_of_outbound only")
        return self


class BoxPoolConfig(StrictModel):
    """The hub's pool of empty containers (TEU). Empties come in on inbound trains (the
    boxes beyond each train's ``loaded_share``, when unloaded) and as loaded inbound boxes
    stripped after their yard dwell; each westbound departure takes the TEU of its boxes.
    When the pool has too few, the rest are leased one-way (counted, never refused)."""

    initial_teu: NonNegFloat = Field(0.0, le=10_000_000)


class HubConfig(StrictModel):
    node: Name = "Urumqi"
    gate: GateConfig = Field(default_factory=GateConfig)
    cranes: CraneConfig
    yard: YardConfig
    customs: CustomsConfig = Field(default_factory=CustomsConfig)
    loading: LoadingConfig
    compound: CompoundConfig | None = Field(
        None, description="vehicle compound; required when a class is handled by ramp"
    )
    inbound: dict[Name, InboundStreamConfig] = Field(default_factory=dict, max_length=100)
    box_pool: BoxPoolConfig | None = Field(
        None, description="track the empty containers at the hub (needs inbound streams)"
    )

    @model_validator(mode="after")
    def _pool_needs_inbound(self) -> HubConfig:
        if self.box_pool is not None and not self.inbound:
            raise ValueError("box_pool counts the boxes of inbound trains: give hub.inbound")
        return self

    @model_serializer(mode="wrap")
    def _dump(self, handler: SerializerFunctionWrapHandler) -> dict[str, Any]:
        data: dict[str, Any] = handler(self)
        if data.get("box_pool", 0) is None:  # added later: configs before it keep their hash
            del data["box_pool"]
        return data
