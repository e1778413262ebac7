"""Disruptions: scheduled windows, random weather and equipment breakdowns that close,
slow or cut capacity (the ``disruptions`` section).
"""

from __future__ import annotations

from typing import Annotated, Any, Literal

from pydantic import (
    AfterValidator,
    Field,
    SerializerFunctionWrapHandler,
    ValidationInfo,
    field_validator,
    model_serializer,
    model_validator,
)

from silkroute_sim.config.corridor import CorridorConfig, CountryCode
from silkroute_sim.config.distributions import MeanTimeDist, TimeDist
from silkroute_sim.config.fields import (
    Name,
    NonNegFloat,
    NonNegHours,
    PositiveFloat,
    PositiveHours,
    StrictModel,
    check_name,
    one_of,
)
from silkroute_sim.config.simulation import date_to_h

HubResource = Literal["cranes", "gate", "loading_tracks", "yard"]
EffectKind = Literal["close", "capacity", "speed", "processing_time"]
#: absolute capacity keys of effect 'capacity' (which apply depends on the target)
CAPACITY_KEYS = ("tracks", "trains_per_day", "cranes", "lanes", "teu")
#: a disruption id: a name (it qualifies metric names, ``recovery_h:<id>``)
EventId = Annotated[str, Field(min_length=1, max_length=100), AfterValidator(check_name)]


_TARGETS = ("node", "nodes", "country_border", "edge", "hub")


class DisruptionTarget(StrictModel):
    """Where a disruption acts: exactly one of a corridor ``node``, a group of ``nodes``
    (one event acting on each: every crossing of a border), a ``country_border``
    ``[A, B]`` (every node of country A with an edge to a node of country B, found in the
    corridor graph when the run starts), an ``edge`` ``[from, to]`` (both directions
    unless ``directed``) or a ``hub`` resource."""

    node: Name | None = None
    nodes: list[Name] | None = Field(None, min_length=1, max_length=1000)
    country_border: list[CountryCode] | None = Field(None, min_length=2, max_length=2)
    edge: list[Name] | None = Field(None, min_length=2, max_length=2)
    directed: bool = False
    hub: HubResource | None = None

    @model_validator(mode="after")
    def _one_target(self) -> DisruptionTarget:
        given = [key for key in _TARGETS if getattr(self, key) is not None]
        if len(given) != 1:
            got = f" (got {', '.join(given)})" if given else ""
            raise ValueError(
                f"give exactly one target: node, nodes, country_border, edge or hub{got}"
            )
        if self.directed and self.edge is None:
            raise ValueError("'directed' applies to an edge target only")
        if self.country_border is not None and self.country_border[0] == self.country_border[1]:
            raise ValueError("country_border names two different countries, e.g. [PL, BY]")
        if self.nodes is not None and len(set(self.nodes)) != len(self.nodes):
            raise ValueError("nodes lists a node twice")
        return self

    def members(self, corridor: CorridorConfig) -> list[str]:
        """The nodes of a group target, in the corridor's order (``nodes`` as listed;
        ``country_border [A, B]``: every node of country A with an edge, either way, to
        a node of country B); a ``node`` alone; none for an edge or the hub."""
        if self.nodes is not None:
            return list(self.nodes)
        if self.country_border is not None:
            side, other = self.country_border
            nodes = corridor.nodes
            found: set[str] = set()
            for edge in corridor.edges:
                for a, b in ((edge.source, edge.target), (edge.target, edge.source)):
                    if (
                        a in nodes
                        and b in nodes
                        and nodes[a].country == side
                        and nodes[b].country == other
                    ):
                        found.add(a)
            return [name for name in nodes if name in found]
        return [self.node] if self.node is not None else []

    def is_group(self) -> bool:
        """Whether the target is a group of nodes (``nodes`` or ``country_border``)."""
        return self.nodes is not None or self.country_border is not None

    def target_label(self) -> str:
        """``Khorgos``, ``Brest+Grodno``, ``PL|BY``, ``Dostyk<->Aktogay``,
        ``Dostyk->Aktogay`` or ``hub.cranes``."""
        if self.edge is not None:
            return f"{self.edge[0]}{'->' if self.directed else '<->'}{self.edge[1]}"
        if self.nodes is not None:
            return "+".join(self.nodes)
        if self.country_border is not None:
            return "|".join(self.country_border)
        return self.node if self.node is not None else f"hub.{self.hub}"

    @model_serializer(mode="wrap")
    def _dump(self, handler: SerializerFunctionWrapHandler) -> dict[str, Any]:
        data: dict[str, Any] = handler(self)
        for key in ("nodes", "country_border"):  # left out when not given: hashes hold
            if data.get(key, 0) is None:
                del data[key]
        return data


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
    ``duration`` or an ``end``. ``start`` and ``end`` may be calendar dates
    (``2025-09-12``, needing ``simulation.start_date``): they are resolved to hours at load,
    a start at 00:00 of its day, an end inclusive (24:00 of its day)."""

    id: EventId | None = None
    start: NonNegHours
    duration: PositiveHours | None = None
    end: PositiveHours | None = None

    @field_validator("start", "end", mode="before")
    @classmethod
    def _dates_to_hours(cls, value: object, info: ValidationInfo) -> object:
        return date_to_h(value, end=info.field_name == "end")

    @model_validator(mode="after")
    def _window(self) -> ScheduledDisruption:
        one_of(self, "duration", "end")
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
#: ``mtbf`` / ``mttr``: a bare value is an exponential mean (the reliability convention)
PositiveMeanTimeDist = Annotated[MeanTimeDist, AfterValidator(_positive_mean)]


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
    is repaired after ``mttr``, each unit from its own random streams. A bare value is
    the mean of an exponential (``mtbf: 400 h``); a fixed time is written as a
    distribution (``{dist: constant, value: 400 h}``). The work in hand is resumed or
    redone (``on_repair``)."""

    id: EventId | None = None
    mtbf: PositiveMeanTimeDist
    mttr: PositiveMeanTimeDist
    on_repair: Literal["resume", "redo"] = "resume"

    @model_validator(mode="after")
    def _equipment(self) -> BreakdownConfig:
        if self.edge is not None or self.is_group():
            raise ValueError(
                "breakdowns apply to 'hub: cranes' or to one node's tracks, not edges or groups"
            )
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
