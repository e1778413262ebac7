"""Run length, randomness and the memory guard: the ``simulation`` section."""

from __future__ import annotations

import datetime as dt
from typing import Any

from pydantic import Field, SerializerFunctionWrapHandler, model_serializer, model_validator

from silkroute_sim.config.fields import NonNegFloat, PositiveFloat, StrictModel

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
    start_date: dt.date | None = Field(
        None,
        description="calendar date of day 0 (YYYY-MM-DD); dates in the config (a subsidy's "
        "end) are counted from it. Sets start_month when that is not given",
    )
    max_entities: int = Field(
        DEFAULT_MAX_ENTITIES,
        ge=1,
        le=10**10,
        description="refuse a run expected to create more shipments and trains than this "
        "(they are all kept in memory); raise it on a machine with the memory",
    )

    @model_validator(mode="before")
    @classmethod
    def _month_of_start_date(cls, data: Any) -> Any:
        """``start_month`` follows ``start_date`` unless it is given; given, they agree."""
        if not isinstance(data, dict) or data.get("start_date") is None:
            return data
        try:
            day0 = dt.date.fromisoformat(str(data["start_date"]))
        except ValueError:
            return data  # the field's own check words the error
        month = data.get("start_month")
        if month is None:
            return {**data, "start_month": day0.month}
        if month != day0.month:
            raise ValueError(
                f"start_month ({month}) is not the month of start_date ({day0.isoformat()}); "
                "give one of them, or both agreeing"
            )
        return data

    @model_serializer(mode="wrap")
    def _dump(self, handler: SerializerFunctionWrapHandler) -> dict[str, Any]:
        data: dict[str, Any] = handler(self)
        if data.get("start_date", 0) is None:
            del data["start_date"]  # keeps the hash of configs written before it
        return data

    def date_h(self, date: dt.date) -> float:
        """Simulation hours from day 0 to the start of ``date`` (needs ``start_date``)."""
        if self.start_date is None:
            raise ValueError("a calendar date needs simulation.start_date")
        return (date - self.start_date).days * 24.0

    @model_validator(mode="after")
    def _warmup_shorter_than_run(self) -> SimulationConfig:
        if self.warmup_days >= self.days:
            raise ValueError(
                f"warmup_days ({self.warmup_days:g}) must be shorter than days ({self.days:g}); "
                "lower it with --warmup-days or simulation.warmup_days"
            )
        return self
