"""Run length, randomness and the memory guard: the ``simulation`` section."""

from __future__ import annotations

from pydantic import Field, model_validator

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
