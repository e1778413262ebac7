"""The corridor network: nodes with their processing, edges and background trains (the
``corridor`` section).
"""

from __future__ import annotations

import itertools
import math
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

from silkroute_sim.config.distributions import TimeDist
from silkroute_sim.config.ferry import FerryConfig
from silkroute_sim.config.fields import (
    FiniteFloat,
    Name,
    NonNegFloat,
    NonNegHours,
    PositiveFloat,
    PositiveHours,
    SpeedKmh,
    StrictModel,
    one_of,
    zero_hours,
)
from silkroute_sim.config.simulation import date_to_h

NodeKind = Literal["hub", "junction", "border", "terminal", "port"]
#: how an edge is crossed: by rail, or by a ship between two ports (a ferry line: its
#: ``ferry`` block, :mod:`silkroute_sim.config.ferry`)
EdgeMode = Literal["rail", "ferry"]
#: which way a train runs: towards Europe and Central Asia, or towards China
Direction = Literal["west", "east"]

#: the officially assigned ISO 3166-1 alpha-2 country codes (249)
ISO_COUNTRIES = frozenset(
    """AD AE AF AG AI AL AM AO AQ AR AS AT AU AW AX AZ BA BB BD BE BF BG BH BI BJ BL BM BN BO BQ
    BR BS BT BV BW BY BZ CA CC CD CF CG CH CI CK CL CM CN CO CR CU CV CW CX CY CZ DE DJ DK DM DO
    DZ EC EE EG EH ER ES ET FI FJ FK FM FO FR GA GB GD GE GF GG GH GI GL GM GN GP GQ GR GS GT GU
    GW GY HK HM HN HR HT HU ID IE IL IM IN IO IQ IR IS IT JE JM JO JP KE KG KH KI KM KN KP KR KW
    KY KZ LA LB LC LI LK LR LS LT LU LV LY MA MC MD ME MF MG MH MK ML MM MN MO MP MQ MR MS MT MU
    MV MW MX MY MZ NA NC NE NF NG NI NL NO NP NR NU NZ OM PA PE PF PG PH PK PL PM PN PR PS PT PW
    PY QA RE RO RS RU RW SA SB SC SD SE SG SH SI SJ SK SL SM SN SO SR SS ST SV SX SY SZ TC TD TF
    TG TH TJ TK TL TM TN TO TR TT TV TW TZ UA UG UM US UY UZ VA VC VE VG VI VN VU WF WS YE YT ZA
    ZM ZW""".split()  # noqa: SIM905 (a table of 249 codes reads best as one)
)


def _country_code(value: str) -> str:
    if value not in ISO_COUNTRIES:
        raise ValueError(
            f"{value!r} is not an ISO 3166-1 alpha-2 country code (two capital letters, "
            "e.g. CN, KZ, RU, BY, PL, DE)"
        )
    return value


#: a country as ISO 3166-1 alpha-2 (``CN``, ``KZ``): the national network of a node or
#: of the kilometres of an edge, which sets its rail tariff and its traction emissions
CountryCode = Annotated[str, AfterValidator(_country_code)]


def _dump_without_none(
    model: Any, handler: SerializerFunctionWrapHandler, keys: tuple[str, ...]
) -> dict[str, Any]:
    """``model``'s dump without ``keys`` left at None: optional fields added later keep the
    resolved config (and the hash) of configs written before them."""
    data: dict[str, Any] = handler(model)
    for key in keys:
        if data.get(key, 0) is None:
            del data[key]
    return data


class GaugeChangeConfig(StrictModel):
    """Transshipment between gauges: each box is lifted once; cranes work in parallel."""

    cranes: int = Field(ge=1, le=100)
    lift_time: TimeDist
    setup_time: TimeDist = Field(default_factory=zero_hours)


class ProcessingConfig(StrictModel):
    """What a train goes through at a node: parallel tracks, an optional daily
    capacity (trains/day, as a minimum headway between starts), border formalities
    and, where the gauge changes, transshipment."""

    tracks: int = Field(1, ge=1, le=1000)
    trains_per_day: PositiveFloat | None = Field(None, le=10_000)
    customs: TimeDist = Field(default_factory=zero_hours)
    gauge_change: GaugeChangeConfig | None = None


class HoldingConfig(StrictModel):
    """Room for trains at a node beyond its processing tracks: ``sidings`` where trains
    wait for a track or, done, for room at the next node (blocking after service)."""

    sidings: int = Field(ge=0, le=1000)


class NodeConfig(StrictModel):
    kind: NodeKind
    gauge_mm: int = Field(ge=500, le=2000)
    lat: FiniteFloat = Field(ge=-90, le=90)
    lon: FiniteFloat = Field(ge=-180, le=180)
    processing: ProcessingConfig | None = None
    terminal_dwell: TimeDist = Field(
        default_factory=zero_hours,
        description="at a terminal: from train arrival until the cargo is released",
    )
    country: CountryCode | None = Field(
        None, description="ISO 3166-1 alpha-2 code of the national network the node is on"
    )
    holding: HoldingConfig | None = Field(
        None,
        description="finite room for trains: the node holds its processing tracks plus "
        "these sidings (without it, any number of trains)",
    )

    @model_validator(mode="after")
    def _some_room(self) -> NodeConfig:
        if self.holding is not None and (self.room() or 0) < 1:
            raise ValueError(
                "holding: a node without processing tracks needs at least 1 siding "
                "(or no 'holding', for room without limit)"
            )
        return self

    def room(self) -> int | None:
        """Trains the node holds at once (tracks + sidings); None: no limit."""
        if self.holding is None:
            return None
        tracks = self.processing.tracks if self.processing is not None else 0
        return tracks + self.holding.sidings

    @model_serializer(mode="wrap")
    def _dump(self, handler: SerializerFunctionWrapHandler) -> dict[str, Any]:
        return _dump_without_none(self, handler, ("country", "holding"))


class EdgeConfig(StrictModel):
    source: Name = Field(alias="from")
    target: Name = Field(alias="to")
    km: PositiveFloat = Field(le=50_000)
    speed: SpeedKmh
    line_capacity_trains_per_day: PositiveFloat | None = Field(None, le=10_000)
    both_ways: bool = True
    countries: dict[CountryCode, PositiveFloat] | None = Field(
        None,
        max_length=20,
        description="km of the edge on each national network (summing to km); without it "
        "an edge between two countries is split half and half",
    )
    mode: EdgeMode = Field(
        "rail",
        description="'ferry': a sea leg between two ports, priced and emitted by the ferry "
        "tariff and factor of costs/emissions instead of the rail networks' (its ends are "
        "port calls), run by the ferry line of its 'ferry' block",
    )
    ferry: FerryConfig | None = Field(
        None,
        description="the ferry line of a mode: ferry edge: capacity, sailing rule, port and "
        "sea times, vessels, weather (docs/corridor.md, 'Ferries and ports')",
    )

    @model_validator(mode="after")
    def _ferry_block_on_ferry_edges(self) -> EdgeConfig:
        where = f"{self.source}–{self.target}"
        if self.mode == "rail" and self.ferry is not None:
            raise ValueError(
                f"{where} is a rail edge with a ferry block; give it mode: ferry, or remove 'ferry'"
            )
        if self.mode == "ferry" and self.ferry is None:
            raise ValueError(
                f"{where} has mode: ferry but no ferry block; add 'ferry' with its capacity "
                "(capacity_wagons or capacity_teu) and sailing rule (docs/corridor.md)"
            )
        if self.ferry is not None and self.ferry.vessels is not None and not self.both_ways:
            raise ValueError(
                f"{where}: ferry.vessels needs both_ways: true (a vessel comes back on the "
                "line the other way); leave vessels out for a one-way line"
            )
        return self

    @model_validator(mode="after")
    def _countries_sum_to_km(self) -> EdgeConfig:
        if self.countries is not None:
            total = sum(self.countries.values())
            if not math.isclose(total, self.km, rel_tol=1e-6, abs_tol=1e-6):
                raise ValueError(
                    f"countries of {self.source}–{self.target} sum to {total:g} km, "
                    f"not to the edge's km ({self.km:g})"
                )
        return self

    @model_serializer(mode="wrap")
    def _dump(self, handler: SerializerFunctionWrapHandler) -> dict[str, Any]:
        data = _dump_without_none(self, handler, ("countries", "ferry"))
        if data.get("mode") == "rail":  # the default: configs before it keep their hash
            del data["mode"]
        return data


def _day(hours: float) -> str:
    """``120 d``, or ``2884.5 h`` where the time is not whole days."""
    return f"{hours / 24:g} d" if hours % 24 == 0 else f"{hours:g} h"


class RatePeriod(StrictModel):
    """One period of a background stream's profile: from ``from`` until ``to`` the stream
    runs at ``factor`` times its ``trains_per_day``, or at an absolute ``trains_per_day``
    (0 pauses it). ``from`` and ``to`` are times from the start of the run (``120 d``) or
    calendar dates (``2020-11-01``, needing ``simulation.start_date``), resolved to hours at
    load: a ``from`` date at 00:00 of its day, a ``to`` date inclusive (24:00 of its day)."""

    start: NonNegHours = Field(alias="from")
    stop: PositiveHours = Field(alias="to")
    factor: NonNegFloat | None = Field(None, le=100)
    trains_per_day: NonNegFloat | None = Field(None, le=10_000)

    @field_validator("start", "stop", mode="before")
    @classmethod
    def _dates_to_hours(cls, value: object, info: ValidationInfo) -> object:
        return date_to_h(value, end=info.field_name == "stop")

    @model_validator(mode="after")
    def _one_rate(self) -> RatePeriod:
        one_of(self, "factor", "trains_per_day")
        if self.stop <= self.start:
            raise ValueError(
                f"'to' ({_day(self.stop)}) must be after 'from' ({_day(self.start)}), both "
                "counted from the start of the run"
            )
        return self

    @model_serializer(mode="wrap")
    def _dump(self, handler: SerializerFunctionWrapHandler) -> dict[str, Any]:
        return _dump_without_none(self, handler, ("factor", "trains_per_day"))


class BackgroundRoute(StrictModel):
    """Another way a background stream's trains take, and the share of them that do."""

    route: list[Name] = Field(min_length=1, max_length=100)
    share: PositiveFloat = Field(lt=1)


class BackgroundStreamConfig(StrictModel):
    """Trains from other origins entering the corridor at ``route[0]``; they share
    processing capacity with Urumqi's trains and leave the model after the route. An
    optional ``profile`` changes the rate over periods of the run (surges, pauses); outside
    its periods the stream runs at ``trains_per_day``."""

    route: list[Name] = Field(min_length=1, max_length=100)
    trains_per_day: PositiveFloat = Field(le=10_000)
    interarrival_cv: NonNegFloat = Field(1.0, le=10)
    boxes: int = Field(45, ge=1, le=1000)
    profile: list[RatePeriod] | None = Field(None, min_length=1, max_length=1000)
    direction: Direction | None = Field(
        None,
        description="'west' or 'east'; without it, east where the route's last node lies "
        "east of its first (by longitude)",
    )
    alternatives: list[BackgroundRoute] | None = Field(
        None,
        min_length=1,
        max_length=20,
        description="other routes with the share of trains on each (drawn per train on a "
        "stream of its own); 'route' takes the rest",
    )
    replan: bool = Field(
        False,
        description="a train whose route ahead is closed or full takes another of the "
        "stream's routes (entry) or re-plans around the closure at branching nodes",
    )

    @model_validator(mode="after")
    def _shares_below_one(self) -> BackgroundStreamConfig:
        total = sum(alt.share for alt in self.alternatives or ())
        if total >= 1 - 1e-9:
            raise ValueError(
                f"the alternatives' shares sum to {total:g}; they must leave 'route' a share "
                "(sum below 1)"
            )
        return self

    def routes_and_shares(self) -> list[tuple[list[str], float]]:
        """Every route of the stream with its share of trains, ``route`` first."""
        alts = self.alternatives or []
        rest = 1.0 - sum(alt.share for alt in alts)
        return [(list(self.route), rest)] + [(list(alt.route), alt.share) for alt in alts]

    @model_validator(mode="after")
    def _periods_apart(self) -> BackgroundStreamConfig:
        periods = sorted(self.profile or (), key=lambda p: p.start)
        for before, after in itertools.pairwise(periods):
            if after.start < before.stop:
                raise ValueError(
                    f"profile periods overlap: {_day(before.start)}–{_day(before.stop)} and "
                    f"{_day(after.start)}–{_day(after.stop)} from the start of the run; give "
                    "each time one rate"
                )
        return self

    def rate_segments(self) -> list[tuple[float, float, float]]:
        """The profile as ``(from_h, to_h, multiplier of trains_per_day)``, in time order."""
        out = []
        for period in sorted(self.profile or (), key=lambda p: p.start):
            rate = period.factor
            if rate is None:
                rate = (period.trains_per_day or 0.0) / self.trains_per_day
            out.append((period.start, period.stop, rate))
        return out

    def mean_trains_per_day(self, end_h: float) -> float:
        """The stream's expected trains per day over a run of ``end_h`` hours."""
        extra_h = 0.0  # hours of base rate the profile adds (or takes away) in the run
        for start, stop, rate in self.rate_segments():
            overlap = max(0.0, min(stop, end_h) - start)
            extra_h += overlap * (rate - 1.0)
        return self.trains_per_day * (1.0 + extra_h / end_h) if end_h > 0 else 0.0

    @model_serializer(mode="wrap")
    def _dump(self, handler: SerializerFunctionWrapHandler) -> dict[str, Any]:
        data = _dump_without_none(self, handler, ("profile", "alternatives", "direction"))
        if data.get("replan") is False:  # the default: configs before it keep their hash
            del data["replan"]
        return data


class CorridorConfig(StrictModel):
    nodes: dict[Name, NodeConfig] = Field(min_length=1, max_length=10_000)
    edges: list[EdgeConfig] = Field(min_length=1, max_length=100_000)
    background: dict[Name, BackgroundStreamConfig] = Field(default_factory=dict)
