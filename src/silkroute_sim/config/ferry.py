"""A ferry line on a sea leg (an edge with ``mode: ferry``): the ``ferry`` block of the edge.

A ferry is a batch server per direction: wagons wait in the departure port in arrival
order, and a sailing takes up to the vessel's capacity of them. The block says how much a
vessel carries, when it sails (a timetable, or when full), how long loading, the crossing
and unloading take, how many vessels there are, and how often weather cancels a sailing
in each calendar month (docs/corridor.md, "Ferries and ports")::

    ferry:
      capacity_wagons: 50            # or capacity_teu: 100 (a wagon carries one box, <= 2 TEU)
      sailing: {when_full: true, max_wait: 3 d}   # or {every: 24 h, first: 6 h}
                                                  # or {weekly: [Mon 08:00, Thu 20:00]}
      loading: 10 h                  # from the sailing until the vessel leaves the berth
      crossing: {dist: lognormal, mean: 20 h, cv: 0.2}   # default: the edge's km / speed
      unloading: 10 h                # from berthing until the last wagon is ashore
      vessels: 4                     # default: a vessel for every sailing
      cancel_by_month: [0.1, 0.1, 0.05, 0, 0, 0, 0, 0, 0.05, 0.1, 0.5, 0.5]
"""

from __future__ import annotations

import math
import re
from typing import Any

from pydantic import (
    Field,
    SerializerFunctionWrapHandler,
    field_validator,
    model_serializer,
    model_validator,
)

from silkroute_sim.config.distributions import TimeDist
from silkroute_sim.config.fields import (
    Fraction,
    NonNegHours,
    PositiveFloat,
    PositiveHours,
    StrictModel,
    one_of,
    zero_hours,
)

#: TEU a wagon's slot on a vessel takes: a ferry wagon carries one box of up to 2 TEU
TEU_PER_WAGON = 2.0
WEEKDAYS = ("Mon", "Tue", "Wed", "Thu", "Fri", "Sat", "Sun")
_WEEKLY = re.compile(r"\s*([A-Za-z]{3})\s+(\d{1,2}):(\d{2})\s*")
_WEEK_H = 7 * 24.0


def week_hour(text: str) -> float:
    """``'Thu 20:00'`` → hours after Monday 00:00 (80.0). Raises ValueError, worded for
    the one-line error."""
    match = _WEEKLY.fullmatch(text) if isinstance(text, str) else None
    day = match[1].capitalize() if match else ""
    if match is None or day not in WEEKDAYS or int(match[2]) > 23 or int(match[3]) > 59:
        raise ValueError(
            f"{text!r} is not a weekly departure; allowed: a weekday and a time of day, "
            "e.g. 'Mon 08:00' or 'Thu 20:30' (Mon Tue Wed Thu Fri Sat Sun)"
        )
    return WEEKDAYS.index(day) * 24.0 + int(match[2]) + int(match[3]) / 60


class SailingConfig(StrictModel):
    """When a vessel sails, one of three rules:

    * ``every`` (with ``first``, the first sailing after the start of the run): a
      timetable at a fixed interval;
    * ``weekly``: departures on weekdays and times (``Mon 08:00``); the weekdays of
      ``simulation.start_date``'s calendar, or with no date, day 0 is a Monday;
    * ``when_full: true``: no timetable, the vessel sails when its capacity of wagons is
      waiting, or ``max_wait`` after the first wagon of the voyage began to wait (for the
      wagons a sailing left behind, from that sailing), whichever is first.

    A sailing that weather cancels leaves its wagons waiting: for the next sailing of
    the timetable, or on a when-full line a new try ``retry_after`` later."""

    #: at most a sailing an hour (a crossing takes hours; a shorter interval only makes
    #: events, each a sailing with nothing aboard)
    every: PositiveHours | None = Field(None, ge=1.0, le=24 * 366)
    first: NonNegHours = Field(0.0, le=24 * 366)
    weekly: list[str] | None = Field(None, min_length=1, max_length=100)
    when_full: bool = False
    max_wait: PositiveHours | None = Field(None, le=24 * 366)
    retry_after: PositiveHours = Field(24.0, ge=1.0, le=24 * 366)

    @field_validator("weekly")
    @classmethod
    def _weekly_times(cls, value: list[str] | None) -> list[str] | None:
        for text in value or ():
            week_hour(text)
        return value

    @model_validator(mode="after")
    def _one_rule(self) -> SailingConfig:
        rules = [k for k in ("every", "weekly") if getattr(self, k) is not None]
        rules += ["when_full"] if self.when_full else []
        if len(rules) != 1:
            given = ", ".join(rules) if rules else "none"
            raise ValueError(
                "give one sailing rule: every (a timetable, with first), weekly (weekdays "
                f"and times) or when_full: true (given: {given})"
            )
        fields = self.model_fields_set
        if "first" in fields and self.every is None:
            raise ValueError("first goes with every (the first sailing of the timetable)")
        for key in ("max_wait", "retry_after"):
            if key in fields and not self.when_full:
                raise ValueError(f"{key} goes with when_full: true")
        return self

    def slots_after(self, t: float, week_offset_h: float = 0.0) -> float:
        """The first timetable sailing at or after ``t`` (hours from day 0); a weekly
        timetable reads its weekdays ``week_offset_h`` hours after Monday 00:00 at day 0."""
        if self.every is not None:
            if t <= self.first:
                return self.first
            return self.first + math.ceil((t - self.first) / self.every - 1e-9) * self.every
        assert self.weekly is not None
        hours = sorted(week_hour(text) for text in self.weekly)
        week_start = math.floor((t + week_offset_h) / _WEEK_H) * _WEEK_H - week_offset_h
        for week in (week_start, week_start + _WEEK_H):
            for h in hours:
                if week + h >= t - 1e-9:
                    return max(week + h, t)
        raise AssertionError("a weekly timetable has a sailing every week")

    def mean_interval_h(self) -> float:
        """Mean hours between two timetable sailings (0 for a when-full line)."""
        if self.every is not None:
            return self.every
        if self.weekly is not None:
            return _WEEK_H / len(set(self.weekly))
        return 0.0

    def mean_wait_h(self) -> float:
        """Mean wait for the next sailing of a wagon arriving at a random time: half the
        interval of a regular timetable, ``sum(gap²) / (2 · week)`` of a weekly one; on a
        when-full line half of ``max_wait`` (the fill time depends on the traffic)."""
        if self.every is not None:
            return self.every / 2
        if self.weekly is not None:
            hours = sorted({week_hour(text) for text in self.weekly})
            gaps = [b - a for a, b in zip(hours, [*hours[1:], hours[0] + _WEEK_H], strict=True)]
            return sum(g * g for g in gaps) / (2 * _WEEK_H)
        return (self.max_wait or 0.0) / 2

    @model_serializer(mode="wrap")
    def _dump(self, handler: SerializerFunctionWrapHandler) -> dict[str, Any]:
        data: dict[str, Any] = handler(self)
        if self.every is None:
            for key in ("every", "first"):
                data.pop(key, None)
        if self.weekly is None:
            data.pop("weekly", None)
        if not self.when_full:
            for key in ("when_full", "max_wait", "retry_after"):
                data.pop(key, None)
        elif self.max_wait is None:
            data.pop("max_wait", None)
        return data


class FerryConfig(StrictModel):
    """A ferry line between the two ports of a ``mode: ferry`` edge (both directions
    where the edge is ``both_ways``): capacity, sailing rule, port and sea times, vessels,
    weather. See the module's docstring for an example."""

    capacity_wagons: int | None = Field(
        None, ge=1, le=10_000, description="wagons a vessel carries (one box each)"
    )
    capacity_teu: PositiveFloat | None = Field(
        None,
        le=100_000,
        description="TEU a vessel carries: a wagon with its box takes 2 TEU of it",
    )
    sailing: SailingConfig
    loading: TimeDist = Field(
        default_factory=zero_hours,
        description="from the sailing (boarding closes) until the vessel leaves the berth",
    )
    crossing: TimeDist | None = Field(
        None, description="time at sea; default: the edge's km / speed"
    )
    unloading: TimeDist = Field(
        default_factory=zero_hours,
        description="from berthing until the last wagon is ashore; then the vessel is free",
    )
    vessels: int | None = Field(
        None,
        ge=1,
        le=1000,
        description="vessels on the line, half starting at each port (the odd one at "
        "'from'); a vessel that sailed A→B sails next from B. Default: one for every sailing",
    )
    cancel_by_month: list[Fraction] | None = Field(
        None,
        description="probability that weather cancels a sailing, January to December (the "
        "month of simulation.start_date's calendar; without it day 0 is the first of "
        "simulation.start_month)",
    )

    @field_validator("cancel_by_month")
    @classmethod
    def _twelve_months(cls, value: list[float] | None) -> list[float] | None:
        if value is not None and len(value) != 12:
            raise ValueError(
                f"give 12 probabilities, January to December (got {len(value)} values)"
            )
        return value

    @model_validator(mode="after")
    def _one_capacity(self) -> FerryConfig:
        one_of(self, "capacity_wagons", "capacity_teu")
        if self.wagons < 1:
            raise ValueError(
                f"capacity_teu ({self.capacity_teu:g}) holds no wagon: a wagon with its box "
                f"takes {TEU_PER_WAGON:g} TEU"
            )
        return self

    @property
    def wagons(self) -> int:
        """Wagons a vessel carries."""
        if self.capacity_wagons is not None:
            return self.capacity_wagons
        return int((self.capacity_teu or 0.0) // TEU_PER_WAGON + 1e-9)

    def mean_cancel(self) -> float:
        """The mean of the monthly cancellation probabilities."""
        months = self.cancel_by_month or [0.0]
        return sum(months) / len(months)

    def expected_h(self, run_h: float) -> float:
        """Expected hours from joining the queue to landing, for routing: the mean wait for
        a sailing (:meth:`SailingConfig.mean_wait_h`, its interval stretched where the fleet's
        round trips are longer, plus the sailings weather cancels), then loading, crossing
        (``run_h``: the edge's km / speed, unless ``crossing`` is given) and unloading."""
        crossing = run_h if self.crossing is None else self.crossing.mean
        voyage = self.loading.mean + crossing + self.unloading.mean
        rule = self.sailing
        wait, interval = rule.mean_wait_h(), rule.mean_interval_h()
        if self.vessels is not None and interval > 0:
            # each direction sails once per vessel per round trip at most
            stretch = max(1.0, 2 * voyage / self.vessels / interval)
            wait, interval = wait * stretch, interval * stretch
        cancel = min(self.mean_cancel(), 0.99)
        again = interval if interval > 0 else rule.retry_after
        return wait + again * cancel / (1 - cancel) + voyage

    @model_serializer(mode="wrap")
    def _dump(self, handler: SerializerFunctionWrapHandler) -> dict[str, Any]:
        data: dict[str, Any] = handler(self)
        for key in ("capacity_wagons", "capacity_teu", "crossing", "vessels", "cancel_by_month"):
            if data.get(key, 0) is None:
                del data[key]
        return data
