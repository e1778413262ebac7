"""The corridor network: nodes with their processing, edges and background trains (the
``corridor`` section).
"""

from __future__ import annotations

from typing import Literal

from pydantic import Field

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
