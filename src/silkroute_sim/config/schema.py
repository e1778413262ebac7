"""Scenario configuration: pydantic models for every section.

Everything the model needs is validated here, once, at the boundary. Defaults live
in these models and nowhere else. Loading YAML (``extends:``, ``--set`` overrides)
is in :mod:`silkroute_sim.config.loader`; error formatting in :mod:`silkroute_sim.config.errors`.
"""

from __future__ import annotations

import hashlib
import json
import math
import types
from typing import Annotated, Literal, Union, get_args, get_origin

from pydantic import (
    AfterValidator,
    BaseModel,
    BeforeValidator,
    ConfigDict,
    Field,
    model_validator,
)

from silkroute_sim.config.distributions import Constant, Hours, QuantityDist, TimeDist
from silkroute_sim.config.units import parse_duration_h, parse_speed_kmh

NodeKind = Literal["hub", "junction", "border", "terminal"]
RoutePolicyKind = Literal["fixed", "shortest", "adaptive"]


def _finite(value: object) -> object:
    if isinstance(value, bool):
        raise ValueError("expected a number, not true/false")
    if isinstance(value, float) and not math.isfinite(value):
        raise ValueError("must be a finite number")
    return value


FiniteFloat = Annotated[float, BeforeValidator(_finite)]
PositiveFloat = Annotated[float, BeforeValidator(_finite), Field(gt=0)]
NonNegFloat = Annotated[float, BeforeValidator(_finite), Field(ge=0)]
Fraction = Annotated[float, BeforeValidator(_finite), Field(ge=0, le=1)]
SpeedKmh = Annotated[float, BeforeValidator(parse_speed_kmh), Field(gt=0)]
PositiveHours = Annotated[float, BeforeValidator(parse_duration_h), Field(gt=0)]
NonNegHours = Annotated[float, BeforeValidator(parse_duration_h), Field(ge=0)]
Name = Annotated[str, Field(min_length=1, max_length=200)]


def _time_of_day_h(value: object) -> float:
    """'06:30' → 6.5; durations ('6 h', 6.5) are accepted as hours after midnight."""
    if isinstance(value, str) and ":" in value:
        parts = value.strip().split(":")
        if len(parts) == 2 and all(p.strip().isdigit() for p in parts):
            hours, minutes = int(parts[0]), int(parts[1])
            if minutes < 60:
                return hours + minutes / 60
        raise ValueError("not a time of day; allowed: 'HH:MM' (quote it in YAML)")
    return parse_duration_h(value)


TimeOfDayH = Annotated[float, BeforeValidator(_time_of_day_h), Field(ge=0, lt=24)]


def _zero() -> Constant[Hours]:
    return Constant[Hours](value=0.0)


def _numeric_only(annotation: object) -> bool:
    """``int`` or ``float`` (possibly optional): a field where true/false is a mistake."""
    origin = get_origin(annotation)
    if origin is Annotated:
        return _numeric_only(get_args(annotation)[0])
    if origin is Union or origin is types.UnionType:
        args = [a for a in get_args(annotation) if a is not type(None)]
        return bool(args) and all(_numeric_only(a) for a in args)
    return annotation in (int, float)


class StrictModel(BaseModel):
    model_config = ConfigDict(extra="forbid", populate_by_name=True)

    @model_validator(mode="before")
    @classmethod
    def _no_bool_for_numbers(cls, data: object) -> object:
        """YAML reads yes/no/on/off as booleans; pydantic would take them as 1 and 0."""
        if isinstance(data, dict):
            for name, field in cls.model_fields.items():
                key = field.alias or name
                value = data.get(key, data.get(name))
                if isinstance(value, bool) and _numeric_only(field.annotation):
                    raise ValueError(f"{key}: expected a number, not true/false")
        return data


# --------------------------------------------------------------------------- simulation

#: shipments and trains one run may create by default (the 20-year baseline makes 1.6
#: million and peaks at about 4 GB of memory)
DEFAULT_MAX_ENTITIES = 5_000_000


class SimulationConfig(StrictModel):
    """Run length and randomness. ``days`` includes the warm-up."""

    days: PositiveFloat = Field(365.0, le=36_500)
    warmup_days: NonNegFloat = 30.0
    seed: int = Field(1, ge=0, le=2**63 - 1)
    start_month: int = Field(
        1, ge=1, le=12, description="calendar month of day 0 (day 0 is a Monday)"
    )
    max_entities: int = Field(
        DEFAULT_MAX_ENTITIES,
        ge=1,
        le=10**10,
        description="refuse a run expected to create more shipments and trains than this "
        "(they are all kept in memory); raise it on a machine with the memory",
    )

    @model_validator(mode="after")
    def _warmup_shorter_than_run(self) -> SimulationConfig:
        if self.warmup_days >= self.days:
            raise ValueError(
                f"warmup_days ({self.warmup_days:g}) must be shorter than days ({self.days:g}); "
                "lower it with --warmup-days or simulation.warmup_days"
            )
        return self


# --------------------------------------------------------------------------- wagons and demand

#: the built-in wagon type of container classes and of ``services.<name>.capacity_teu``
CONTAINER_WAGON = "container"


class WagonTypeConfig(StrictModel):
    """A kind of wagon. ``carries: teu``: a wagon takes ``teu_per_wagon`` TEU of boxes
    (a 40 ft container flat: 2 TEU); ``carries: units``: a wagon takes
    ``units_per_wagon`` units of the class on it (car carriers 8–10 cars)."""

    carries: Literal["teu", "units"] = "units"
    teu_per_wagon: PositiveFloat | None = Field(None, le=100)

    @model_validator(mode="after")
    def _teu_per_wagon(self) -> WagonTypeConfig:
        if self.carries == "teu" and self.teu_per_wagon is None:
            raise ValueError("a wagon type that carries teu needs teu_per_wagon (e.g. 2)")
        if self.carries == "units" and self.teu_per_wagon is not None:
            raise ValueError("teu_per_wagon applies to wagon types that carry teu")
        return self


def _default_wagon_types() -> dict[str, WagonTypeConfig]:
    return {CONTAINER_WAGON: WagonTypeConfig(carries="teu", teu_per_wagon=2.0)}


def _with_container_wagon(value: dict[str, WagonTypeConfig]) -> dict[str, WagonTypeConfig]:
    """The built-in container wagon is always there (a config may redefine it)."""
    if CONTAINER_WAGON in value:
        return value
    return {**_default_wagon_types(), **value}


class OriginConfig(StrictModel):
    """A named origin (e.g. a factory) of a units-based cargo class: it makes
    ``units_per_year`` of the class and sends ``export_share`` of them through the hub."""

    units_per_year: PositiveFloat = Field(le=100_000_000)
    export_share: Fraction = 1.0


class CargoClassConfig(StrictModel):
    """A class of cargo arriving at the hub gate, e.g. 40 ft containers (FEU) or heavy
    trucks. It arrives either as a ``share`` of ``demand.tonnes_per_day`` or as units
    per year from named ``origins`` (factories); it rides on one ``wagon_type``."""

    unit: Literal["box", "vehicle"] = "box"
    share: Fraction = 1.0
    origins: dict[Name, OriginConfig] | None = Field(
        None,
        min_length=1,
        max_length=1000,
        description="units-based arrivals from named origins instead of a share of tonnes",
    )
    group: Name | None = Field(
        None, description="a group whose classes are also reported together (e.g. vehicles)"
    )
    teu: PositiveFloat = Field(
        2.0, le=10, description="TEU per unit in the yard and on TEU wagons; a 40 ft box is 2 TEU"
    )
    payload_t: QuantityDist
    max_payload_t: PositiveFloat | None = Field(
        None, description="payloads above this are capped (e.g. 21 t cargo per FEU)"
    )
    value_usd: QuantityDist | None = Field(None, description="value of one unit (USD)")
    destinations: dict[Name, PositiveFloat] = Field(min_length=1, max_length=1000)
    wagon_type: Name = Field(CONTAINER_WAGON, description="the wagon type of wagon_types it needs")
    units_per_wagon: PositiveFloat | None = Field(
        None,
        le=1000,
        description="units one wagon takes, on wagon types that carry units (default 1)",
    )
    handling: Literal["crane", "ramp"] | None = Field(
        None, description="crane (yard, the default for boxes) or ramp (compound, for vehicles)"
    )

    @model_validator(mode="after")
    def _share_or_origins(self) -> CargoClassConfig:
        if self.origins is not None and "share" in self.model_fields_set:
            raise ValueError("give either 'share' (of tonnes_per_day) or 'origins', not both")
        return self

    @property
    def by_ramp(self) -> bool:
        """Loaded by ramp from the vehicle compound (not by crane from the yard)."""
        if self.handling is None:
            return self.unit == "vehicle"
        return self.handling == "ramp"

    def units_per_day(self) -> float:
        """Expected arrivals of a units-based class (0 for a share-of-tonnes class)."""
        if self.origins is None:
            return 0.0
        return sum(o.units_per_year * o.export_share for o in self.origins.values()) / 365


class DemandConfig(StrictModel):
    """Cargo arriving at the hub: a Poisson process modulated by weekday and season."""

    tonnes_per_day: PositiveFloat = Field(le=10_000_000)
    arrivals: Literal["poisson", "deterministic"] = Field(
        "poisson", description="poisson, or evenly spaced (for exact-timeline checks)"
    )
    weekday_factors: list[Annotated[NonNegFloat, Field(le=1e6)]] = Field(
        default_factory=lambda: [1.0] * 7, min_length=7, max_length=7
    )
    seasonal_factors: list[Annotated[NonNegFloat, Field(le=1e6)]] = Field(
        default_factory=lambda: [1.0] * 12, min_length=12, max_length=12
    )
    classes: dict[Name, CargoClassConfig] = Field(min_length=1, max_length=100)

    @model_validator(mode="after")
    def _factors_and_shares(self) -> DemandConfig:
        if sum(self.weekday_factors) <= 0:
            raise ValueError("weekday_factors must not all be 0")
        if sum(self.seasonal_factors) <= 0:
            raise ValueError("seasonal_factors must not all be 0")
        shares = [c.share for c in self.classes.values() if c.origins is None]
        total = sum(shares)
        if shares and abs(total - 1.0) > 1e-6:  # units-based classes (origins) are apart
            raise ValueError(f"class shares must sum to 1 (they sum to {total:g})")
        return self


# --------------------------------------------------------------------------- hub


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

    clearance_time: TimeDist = Field(default_factory=_zero)
    inspection_probability: Fraction = 0.0
    inspection_time: TimeDist = Field(default_factory=_zero)


class LoadingConfig(StrictModel):
    tracks: int = Field(ge=1, le=1000)
    use_cranes: bool = Field(
        True, description="load wagons with the crane pool (false: loading takes no crane time)"
    )
    cranes_per_train: int = Field(2, ge=1, le=100)
    formation_time: TimeDist = Field(default_factory=_zero)


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
    all), each arriving ``lag`` after that departure."""

    trains_per_day: PositiveFloat | None = Field(None, le=1000)
    share_of_outbound: PositiveFloat | None = Field(None, le=10)
    services: list[Name] | None = Field(None, min_length=1, max_length=1000)
    interarrival_cv: NonNegFloat = Field(1.0, le=10)
    lag: TimeDist = Field(default_factory=_zero)
    boxes: int = Field(45, ge=1, le=1000)
    teu_per_box: PositiveFloat = Field(2.0, le=10)
    dwell: TimeDist
    shunting_time: TimeDist = Field(
        default_factory=_zero, description="track time besides unloading (brake test, shunting)"
    )

    @model_validator(mode="after")
    def _rate_or_share(self) -> InboundStreamConfig:
        if (self.trains_per_day is None) == (self.share_of_outbound is None):
            raise ValueError("give either trains_per_day or share_of_outbound (not both)")
        if self.services is not None and self.share_of_outbound is None:
            raise ValueError("'services' applies to share_of_outbound only")
        return self


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


# --------------------------------------------------------------------------- services


class FullPolicy(StrictModel):
    """Call the train when the ready cargo fills it; it never leaves part-loaded."""

    kind: Literal["full"]


class SchedulePolicy(StrictModel):
    """Timetabled departures. At ``departure - cutoff`` the ready cargo is taken
    (up to capacity) and loaded; the train leaves at its time (late only if loading
    overruns). A slot with less than ``min_load`` of capacity is cancelled."""

    kind: Literal["schedule"]
    departures: list[TimeOfDayH] = Field(min_length=1, max_length=96)
    weekdays: list[Annotated[int, Field(ge=0, le=6)]] = Field(
        default_factory=lambda: list(range(7)), min_length=1, max_length=7
    )
    cutoff: PositiveHours = Field(6.0, le=7 * 24)
    min_load: Fraction = 0.0


class HybridPolicy(StrictModel):
    """Leave when full, or once the oldest ready box has waited ``max_wait`` and the
    ready load is at least ``min_load`` of capacity."""

    kind: Literal["hybrid"]
    max_wait: PositiveHours
    min_load: Fraction = 0.5


DispatchPolicy = Annotated[
    Union[FullPolicy, SchedulePolicy, HybridPolicy],  # noqa: UP007
    Field(discriminator="kind"),
]


class RouteConfig(StrictModel):
    policy: RoutePolicyKind = "shortest"
    nodes: list[Name] | None = Field(
        None, description="for policy 'fixed': the node list from the hub to the last stop"
    )

    @model_validator(mode="after")
    def _fixed_needs_nodes(self) -> RouteConfig:
        if self.policy == "fixed" and not self.nodes:
            raise ValueError("policy 'fixed' needs 'nodes', the list of nodes to travel")
        return self


class ServiceConfig(StrictModel):
    """A train service from the hub calling at one or more terminals in order.

    Its train has ``capacity_teu`` of container wagons and/or ``wagons`` of other types
    (a count per wagon type). It carries the cargo ``classes`` listed, or by default every
    class bound for its stops that no service lists explicitly."""

    stops: list[Name] = Field(min_length=1, max_length=50)
    capacity_teu: PositiveFloat | None = Field(
        None, le=1000, description="TEU on container wagons (same as wagons.container × 2)"
    )
    wagons: dict[Name, Annotated[int, Field(ge=1, le=1000)]] = Field(
        default_factory=dict, max_length=100
    )
    classes: list[Name] | None = Field(None, min_length=1, max_length=100)
    max_tonnes: PositiveFloat = Field(1300.0, le=100_000)
    policy: DispatchPolicy
    route: RouteConfig = Field(default_factory=RouteConfig)

    @model_validator(mode="after")
    def _some_capacity(self) -> ServiceConfig:
        if self.capacity_teu is None and not self.wagons:
            raise ValueError("give the train's capacity: capacity_teu and/or wagons")
        if self.capacity_teu is not None and CONTAINER_WAGON in self.wagons:
            raise ValueError(
                f"give capacity_teu or wagons.{CONTAINER_WAGON}, not both (they are the same)"
            )
        return self


# --------------------------------------------------------------------------- corridor


class GaugeChangeConfig(StrictModel):
    """Transshipment between gauges: each box is lifted once; cranes work in parallel."""

    cranes: int = Field(ge=1, le=100)
    lift_time: TimeDist
    setup_time: TimeDist = Field(default_factory=_zero)


class ProcessingConfig(StrictModel):
    """What a train goes through at a node: parallel tracks, an optional daily
    capacity (trains/day, as a minimum headway between starts), border formalities
    and, where the gauge changes, transshipment."""

    tracks: int = Field(1, ge=1, le=1000)
    trains_per_day: PositiveFloat | None = Field(None, le=10_000)
    customs: TimeDist = Field(default_factory=_zero)
    gauge_change: GaugeChangeConfig | None = None


class NodeConfig(StrictModel):
    kind: NodeKind
    gauge_mm: int = Field(ge=500, le=2000)
    lat: FiniteFloat = Field(ge=-90, le=90)
    lon: FiniteFloat = Field(ge=-180, le=180)
    processing: ProcessingConfig | None = None
    terminal_dwell: TimeDist = Field(
        default_factory=_zero,
        description="at a terminal: from train arrival until the cargo is released",
    )


class EdgeConfig(StrictModel):
    source: Name = Field(alias="from")
    target: Name = Field(alias="to")
    km: PositiveFloat = Field(le=50_000)
    speed: SpeedKmh
    line_capacity_trains_per_day: PositiveFloat | None = Field(None, le=10_000)
    both_ways: bool = True


class BackgroundStreamConfig(StrictModel):
    """Trains from other origins entering the corridor at ``route[0]``; they share
    processing capacity with Urumqi's trains and leave the model after the route."""

    route: list[Name] = Field(min_length=1, max_length=100)
    trains_per_day: PositiveFloat = Field(le=10_000)
    interarrival_cv: NonNegFloat = Field(1.0, le=10)
    boxes: int = Field(45, ge=1, le=1000)


class CorridorConfig(StrictModel):
    nodes: dict[Name, NodeConfig] = Field(min_length=1, max_length=10_000)
    edges: list[EdgeConfig] = Field(min_length=1, max_length=100_000)
    background: dict[Name, BackgroundStreamConfig] = Field(default_factory=dict)


# --------------------------------------------------------------------------- disruptions

HubResource = Literal["cranes", "gate", "loading_tracks", "yard"]
EffectKind = Literal["close", "capacity", "speed", "processing_time"]
#: absolute capacity keys of effect 'capacity' (which apply depends on the target)
CAPACITY_KEYS = ("tracks", "trains_per_day", "cranes", "lanes", "teu")
EventId = Annotated[str, Field(min_length=1, max_length=100, pattern=r"^[\w.\-]+$")]


class DisruptionTarget(StrictModel):
    """Where a disruption acts: exactly one of a corridor ``node``, an ``edge``
    ``[from, to]`` (both directions unless ``directed``) or a ``hub`` resource."""

    node: Name | None = None
    edge: list[Name] | None = Field(None, min_length=2, max_length=2)
    directed: bool = False
    hub: HubResource | None = None

    @model_validator(mode="after")
    def _one_target(self) -> DisruptionTarget:
        given = [key for key in ("node", "edge", "hub") if getattr(self, key) is not None]
        if len(given) != 1:
            got = f" (got {', '.join(given)})" if given else ""
            raise ValueError(f"give exactly one target: node, edge or hub{got}")
        if self.directed and self.edge is None:
            raise ValueError("'directed' applies to an edge target only")
        return self

    def target_label(self) -> str:
        """``Khorgos``, ``Dostyk<->Aktogay``, ``Dostyk->Aktogay`` or ``hub.cranes``."""
        if self.edge is not None:
            return f"{self.edge[0]}{'->' if self.directed else '<->'}{self.edge[1]}"
        return self.node if self.node is not None else f"hub.{self.hub}"


class DisruptionEffect(DisruptionTarget):
    """What a disruption does while it lasts. ``close``: nothing enters or is processed;
    ``capacity``: a ``factor`` on the target's capacity, or an absolute number
    (``tracks``, ``trains_per_day``, ``cranes``, ``lanes``, ``teu``); ``speed``: a
    ``factor`` on an edge's speed; ``processing_time``: a ``factor`` on service times."""

    effect: EffectKind
    factor: PositiveFloat | None = Field(None, le=100)
    tracks: int | None = Field(None, ge=1, le=1000)
    trains_per_day: PositiveFloat | None = Field(None, le=10_000)
    cranes: int | None = Field(None, ge=1, le=1000)
    lanes: int | None = Field(None, ge=1, le=1000)
    teu: PositiveFloat | None = Field(None, le=10_000_000)

    @model_validator(mode="after")
    def _effect_parameters(self) -> DisruptionEffect:
        absolute = [key for key in CAPACITY_KEYS if getattr(self, key) is not None]
        if self.effect == "close":
            if self.factor is not None or absolute:
                raise ValueError("effect 'close' takes no factor or capacity value")
        elif self.effect == "capacity":
            if (self.factor is not None) + len(absolute) != 1:
                raise ValueError(
                    "effect 'capacity' needs exactly one of: factor, " + ", ".join(CAPACITY_KEYS)
                )
        elif self.factor is None or absolute:
            raise ValueError(f"effect {self.effect!r} needs a factor (only), e.g. factor: 0.5")
        return self

    def absolute_capacity(self) -> tuple[str, float] | None:
        """``(key, value)`` of an absolute capacity, or None."""
        for key in CAPACITY_KEYS:
            value = getattr(self, key)
            if value is not None:
                return key, float(value)
        return None


class ScheduledDisruption(DisruptionEffect):
    """A planned window: ``start`` (from the start of the run, warm-up included) and a
    ``duration`` or an ``end``."""

    id: EventId | None = None
    start: NonNegHours
    duration: PositiveHours | None = None
    end: PositiveHours | None = None

    @model_validator(mode="after")
    def _window(self) -> ScheduledDisruption:
        if (self.duration is None) == (self.end is None):
            raise ValueError("give either 'duration' or 'end' (not both)")
        if self.end is not None and self.end <= self.start:
            raise ValueError(f"end ({self.end:g} h) must be after start ({self.start:g} h)")
        return self

    @property
    def end_h(self) -> float:
        return self.end if self.end is not None else self.start + (self.duration or 0.0)


def _positive_mean(value: TimeDist) -> TimeDist:
    if value.mean <= 0:
        raise ValueError("must have a positive mean")
    return value


PositiveTimeDist = Annotated[TimeDist, AfterValidator(_positive_mean)]


class WeatherDisruption(DisruptionEffect):
    """Random weather events (e.g. gales closing a pass): a Poisson process whose rate
    is ``events_per_month`` (12 values, Jan..Dec), each lasting a random ``duration``."""

    id: EventId | None = None
    effect: EffectKind = "close"
    events_per_month: list[NonNegFloat] = Field(min_length=12, max_length=12)
    duration: PositiveTimeDist


class BreakdownConfig(DisruptionTarget):
    """Random failures of each unit of equipment: every hub crane (``hub: cranes``) or
    every processing track of a ``node`` fails after an up time drawn from ``mtbf`` and
    is repaired after ``mttr``. The work in hand is resumed or redone (``on_repair``)."""

    id: EventId | None = None
    mtbf: PositiveTimeDist
    mttr: PositiveTimeDist
    on_repair: Literal["resume", "redo"] = "resume"

    @model_validator(mode="after")
    def _equipment(self) -> BreakdownConfig:
        if self.edge is not None:
            raise ValueError("breakdowns apply to 'hub: cranes' or to a node's tracks, not edges")
        if self.hub is not None and self.hub != "cranes":
            raise ValueError(f"breakdowns apply to hub cranes only (got hub: {self.hub})")
        return self


class RandomDisruptions(StrictModel):
    breakdowns: list[BreakdownConfig] = Field(default_factory=list, max_length=1000)
    weather: list[WeatherDisruption] = Field(default_factory=list, max_length=1000)


class DisruptionsConfig(StrictModel):
    """Scheduled windows and random processes that close, slow or cut capacity.
    Events without an ``id`` get one from their target and effect."""

    scheduled: list[ScheduledDisruption] = Field(default_factory=list, max_length=10_000)
    random: RandomDisruptions = Field(default_factory=RandomDisruptions)

    @model_validator(mode="after")
    def _ids(self) -> DisruptionsConfig:
        items: list[tuple[str, ScheduledDisruption | WeatherDisruption | BreakdownConfig]] = [
            *((event.effect, event) for event in self.scheduled),
            *(("weather", event) for event in self.random.weather),
            *(("breakdowns", event) for event in self.random.breakdowns),
        ]
        seen: set[str] = set()
        for _, item in items:
            if item.id is not None:
                if item.id in seen:
                    raise ValueError(f"duplicate disruption id {item.id!r}")
                seen.add(item.id)
        for kind, item in items:
            if item.id is None:
                label = item.target_label().replace("<->", "-").replace("->", "-to-") + f"-{kind}"
                stem = "".join(ch if ch.isalnum() or ch in "._-" else "-" for ch in label)
                candidate, n = stem, 1
                while candidate in seen:
                    n += 1
                    candidate = f"{stem}-{n}"
                item.id = candidate
                seen.add(candidate)
        return self

    def any(self) -> bool:
        return bool(self.scheduled or self.random.breakdowns or self.random.weather)


# --------------------------------------------------------------------------- outputs


class OutputConfig(StrictModel):
    plots: bool = True
    string_line_trains: int = Field(40, ge=0, le=10_000)


# --------------------------------------------------------------------------- scenario

#: cargo-class, service and hub keys left out of the resolved config while at their
#: default, so configs written before they existed keep their hash (and their sweep runs)
_CLASS_DEFAULTS: dict[str, object] = {
    "origins": None,
    "group": None,
    "value_usd": None,
    "wagon_type": CONTAINER_WAGON,
    "units_per_wagon": None,
    "handling": None,
}
_SERVICE_DEFAULTS: dict[str, object] = {"wagons": {}, "classes": None}
_HUB_DEFAULTS: dict[str, object] = {"compound": None, "inbound": {}}


def _drop_default_cargo_keys(data: dict[str, object]) -> None:
    def drop(section: object, defaults: dict[str, object]) -> None:
        if isinstance(section, dict):
            for key, default in defaults.items():
                if key in section and section[key] == default:
                    del section[key]

    demand = data.get("demand")
    if isinstance(demand, dict) and isinstance(demand.get("classes"), dict):
        for cls in demand["classes"].values():
            drop(cls, _CLASS_DEFAULTS)
            if isinstance(cls, dict) and cls.get("origins") is not None:
                cls.pop("share", None)  # units-based: no share of tonnes
    services = data.get("services")
    if isinstance(services, dict):
        for service in services.values():
            drop(service, _SERVICE_DEFAULTS)
    drop(data.get("hub"), _HUB_DEFAULTS)
    default_wagons = {
        name: wagon.model_dump(mode="json") for name, wagon in _default_wagon_types().items()
    }
    drop(data, {"wagon_types": default_wagons})


class ScenarioConfig(StrictModel):
    name: Annotated[str, Field(min_length=1, max_length=100, pattern=r"^[\w.\-]+$")] = "scenario"
    description: str = ""
    simulation: SimulationConfig = Field(default_factory=SimulationConfig)
    demand: DemandConfig
    hub: HubConfig
    services: dict[Name, ServiceConfig] = Field(min_length=1, max_length=1000)
    corridor: CorridorConfig
    outputs: OutputConfig = Field(default_factory=OutputConfig)
    disruptions: DisruptionsConfig = Field(default_factory=DisruptionsConfig)
    wagon_types: Annotated[dict[Name, WagonTypeConfig], AfterValidator(_with_container_wagon)] = (
        Field(default_factory=_default_wagon_types, max_length=100)
    )

    def services_destinations(self) -> list[str]:
        """Every terminal a service calls at, in service order (each once)."""
        stops = [stop for service in self.services.values() for stop in service.stops]
        return list(dict.fromkeys(stops))

    def resolved(self) -> dict[str, object]:
        """The fully resolved config as plain JSON-able data (units: hours, km/h)."""
        data = self.model_dump(mode="json", by_alias=True)
        if not self.disruptions.any():  # keeps the hash of configs without disruptions
            data.pop("disruptions", None)
        sim = data.get("simulation")
        if isinstance(sim, dict) and sim.get("max_entities") == DEFAULT_MAX_ENTITIES:
            del sim["max_entities"]  # a memory guard at its default: keeps older hashes
        _drop_default_cargo_keys(data)
        return data

    def config_hash(self) -> str:
        canonical = json.dumps(self.resolved(), sort_keys=True, separators=(",", ":"))
        return hashlib.sha256(canonical.encode()).hexdigest()[:16]


__all__ = [
    "CONTAINER_WAGON",
    "BackgroundStreamConfig",
    "BreakdownConfig",
    "CargoClassConfig",
    "CompoundConfig",
    "CorridorConfig",
    "DemandConfig",
    "DisruptionEffect",
    "DisruptionTarget",
    "DisruptionsConfig",
    "EdgeConfig",
    "FullPolicy",
    "Hours",
    "HubConfig",
    "HybridPolicy",
    "InboundStreamConfig",
    "NodeConfig",
    "OriginConfig",
    "ProcessingConfig",
    "ScenarioConfig",
    "SchedulePolicy",
    "ScheduledDisruption",
    "ServiceConfig",
    "SimulationConfig",
    "WagonTypeConfig",
    "WeatherDisruption",
]
