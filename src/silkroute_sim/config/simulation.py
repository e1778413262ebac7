"""Run length, randomness and the memory guard: the ``simulation`` section."""

from __future__ import annotations

import datetime as dt
import math
import re
from contextvars import ContextVar
from typing import Any

from pydantic import Field, SerializerFunctionWrapHandler, model_serializer, model_validator

from silkroute_sim.config.fields import NonNegFloat, PositiveFloat, StrictModel

#: shipments and trains one run may create by default (the 20-year baseline makes 1.6
#: million and peaks at about 4 GB of memory)
DEFAULT_MAX_ENTITIES = 5_000_000

#: the ``simulation`` section of the scenario being validated: a scenario validates its
#: sections in order, ``simulation`` first, so the calendar dates of later sections
#: (disruption windows, background-stream profiles) resolve against its ``start_date``
_ISO_DATE = re.compile(r"\d{4}-\d{2}-\d{2}")
_RUN: ContextVar[SimulationConfig | None] = ContextVar("silkroute_run", default=None)


def date_to_h(value: object, *, end: bool = False) -> object:
    """A calendar date in a config as simulation hours, resolved once at load against the
    scenario's ``simulation.start_date``; any other value is returned unchanged.

    A date as a start is 00:00 of that day; as an ``end`` it is inclusive, so the window
    ends at 24:00 of that day (``end: 2025-09-25`` closes at midnight after the 25th). The
    date must be a day of the run; ``2025-09-12`` written as text (JSON, ``--set``) is a date
    too. Raises ValueError, worded for the one-line error."""
    if isinstance(value, str) and _ISO_DATE.fullmatch(value.strip()):
        try:
            value = dt.date.fromisoformat(value.strip())
        except ValueError as exc:
            raise ValueError(f"{value!r} is not a valid date ({exc})") from None
    if not isinstance(value, dt.date):
        return value
    if isinstance(value, dt.datetime):
        raise ValueError(f"give a date without a time of day, e.g. {value.date().isoformat()}")
    sim = _RUN.get()
    if sim is None or sim.start_date is None:
        raise ValueError(
            f"a calendar date ({value.isoformat()}) needs simulation.start_date (the date of "
            "day 0); add it, or give a time from the start of the run such as 30 d"
        )
    first = sim.start_date
    last = first + dt.timedelta(days=math.ceil(sim.days) - 1)
    if not first <= value <= last:
        raise ValueError(
            f"{value.isoformat()} is outside the run ({first.isoformat()} to "
            f"{last.isoformat()}: simulation.start_date and {sim.days:g} days); give a date "
            "within it, or move start_date or days"
        )
    return sim.date_h(value) + (24.0 if end else 0.0)


#: the largest seed (numpy's seed sequences take any; the manifests keep it as a 64-bit
#: integer)
MAX_SEED = 2**63 - 1


def check_seed(value: object, what: str = "seed") -> int:
    """``value`` as a seed, or a one-line :class:`ValueError` naming ``what``: a whole
    number (not a bool, not a float) from 0 to :data:`MAX_SEED`."""
    if isinstance(value, bool) or not isinstance(value, int):
        raise ValueError(f"{what}: a seed is a whole number from 0 to {MAX_SEED} (got {value!r})")
    if not 0 <= value <= MAX_SEED:
        raise ValueError(f"{what}: a seed is from 0 to {MAX_SEED} (got {value})")
    return value


#: days of calendar a run needs after its last day (ferry timetables look ahead)
CALENDAR_MARGIN_DAYS = 366


class SimulationConfig(StrictModel):
    """Run length and randomness. ``days`` includes the warm-up."""

    days: PositiveFloat = Field(365.0, le=36_500)
    warmup_days: NonNegFloat = 30.0
    seed: int = Field(1, ge=0, le=MAX_SEED)
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
        _RUN.set(None)  # until this section is valid, no calendar (not the last scenario's)
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
        if self.start_date is not None:  # the run's calendar (and a year after) must exist
            room = (dt.date.max - self.start_date).days - CALENDAR_MARGIN_DAYS
            if self.days > room:
                latest = dt.date.max - dt.timedelta(
                    days=math.ceil(self.days) + CALENDAR_MARGIN_DAYS
                )
                raise ValueError(
                    f"start_date ({self.start_date.isoformat()}) with {self.days:g} days runs "
                    f"past the calendar's last date ({dt.date.max.isoformat()}); give a "
                    f"start_date on or before {latest.isoformat()}"
                )
        _RUN.set(self)  # the calendar of the sections validated after this one
        return self
