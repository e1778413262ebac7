"""The corridor network: nodes with their processing, edges and background trains (the
``corridor`` section).
"""

from __future__ import annotations

import math
from typing import Annotated, Any, Literal

from pydantic import (
    AfterValidator,
    Field,
    SerializerFunctionWrapHandler,
    model_serializer,
    model_validator,
)

from silkroute_sim.config.distributions import TimeDist
from silkroute_sim.config.fields import (
    FiniteFloat,
    Name,
    NonNegFloat,
    PositiveFloat,
    SpeedKmh,
    StrictModel,
    zero_hours,
)

NodeKind = Literal["hub", "junction", "border", "terminal"]

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

    @model_serializer(mode="wrap")
    def _dump(self, handler: SerializerFunctionWrapHandler) -> dict[str, Any]:
        return _dump_without_none(self, handler, ("country",))


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
        return _dump_without_none(self, handler, ("countries",))


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
