"""Train services from the hub: stops, capacity, dispatch policy and route (the
``services`` section).
"""

from __future__ import annotations

from typing import Annotated, Any, Literal, Union

from pydantic import Field, SerializerFunctionWrapHandler, model_serializer, model_validator

from silkroute_sim.config.cargo import CONTAINER_WAGON
from silkroute_sim.config.fields import (
    Fraction,
    Name,
    PositiveFloat,
    PositiveHours,
    StrictModel,
    TimeOfDayH,
)

RoutePolicyKind = Literal["fixed", "shortest", "adaptive"]
#: what a service's formed trains do when the corridor ahead is closed or full:
#: ``proceed`` — leave and wait before the closure (at the last node that can hold them);
#: ``hold`` — wait at the hub, on the loading track, while every route the service may take
#: is closed somewhere ahead; ``reroute`` — as ``hold``, and plan around closed and full
#: nodes at the hub and at every branching node (whatever the route policy)
WhenBlocked = Literal["proceed", "hold", "reroute"]


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
    when_blocked: WhenBlocked = Field(
        "proceed",
        description="what formed trains do when the corridor ahead is closed or full: "
        "proceed (wait before the closure), hold (wait at the hub while every route is "
        "closed) or reroute (hold, and plan around closed and full nodes)",
    )

    @model_validator(mode="after")
    def _some_capacity(self) -> ServiceConfig:
        if self.capacity_teu is None and not self.wagons:
            raise ValueError("give the train's capacity: capacity_teu and/or wagons")
        if self.capacity_teu is not None and CONTAINER_WAGON in self.wagons:
            raise ValueError(
                f"give capacity_teu or wagons.{CONTAINER_WAGON}, not both (they are the same)"
            )
        return self

    @model_serializer(mode="wrap")
    def _dump(self, handler: SerializerFunctionWrapHandler) -> dict[str, Any]:
        data: dict[str, Any] = handler(self)
        if data.get("when_blocked") == "proceed":  # the default: older configs keep their hash
            del data["when_blocked"]
        return data
