"""Cargo arriving at the hub gate.

Arrivals form a non-homogeneous Poisson process whose rate is constant within a day:
``rate(day) = base × weekday_factor × seasonal_factor`` (both factor lists are
normalised to mean 1, so ``tonnes_per_day`` is the long-run mean). Within a day the
gaps are exponential; at midnight the draw restarts at the new rate, which is exact
for a piecewise-constant rate because the exponential is memoryless.

Classes with a ``share`` split ``tonnes_per_day``: one arrival stream whose unit rate is
the sum over those classes of ``tonnes × share / mean payload``, each arrival drawing
its class. Classes with ``origins`` (factories) arrive as units: a second stream with
rate ``Σ units_per_year × export_share / 365`` per day, each arrival drawing its
(class, origin). Both follow the same weekday and seasonal factors.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from typing import Any, Final

import numpy as np

from silkroute_sim.config.cargo_rules import ClassSpec, class_specs
from silkroute_sim.config.distributions import Exponential
from silkroute_sim.config.schema import ScenarioConfig
from silkroute_sim.engine.resources import Call, Engine
from silkroute_sim.engine.rng import Sampler, Streams
from silkroute_sim.model.entities import NAN, Shipment

DAYS_PER_MONTH: Final = 365 / 12


def effective_mean_payload_t(payload: Any, cap: float | None) -> float:
    """Mean payload after capping at ``cap`` (numerical, deterministic, when capped)."""
    if cap is None:
        return float(payload.mean)
    draws = payload.sample(np.random.default_rng(12345), 200_000)
    return float(np.minimum(draws, cap).mean())


class Demand:
    """Generates shipments and hands each to ``receive``."""

    def __init__(
        self,
        cfg: ScenarioConfig,
        streams: Streams,
        service_of: Mapping[tuple[str, str], str],
    ) -> None:
        demand = cfg.demand
        self.start_month = cfg.simulation.start_month
        wk = np.asarray(demand.weekday_factors, dtype=float)
        se = np.asarray(demand.seasonal_factors, dtype=float)
        self.weekday = (wk / wk.mean()).tolist()
        self.seasonal = (se / se.mean()).tolist()
        specs = class_specs(cfg)
        self.class_names: list[str] = []  # classes with a share of tonnes_per_day
        unit_rates_per_h = []
        self.payload = []
        self.destination = []
        self.dest_names: list[list[str]] = []
        self.teu: list[float] = []
        self.cap_kg: list[int | None] = []
        self.spec: list[ClassSpec] = []
        self.value: list[Sampler | None] = []
        unit_sources: list[tuple[int, str]] = []  # (class index, origin) of units classes
        unit_source_rates: list[float] = []
        for name, cls in demand.classes.items():
            k = len(self.spec)
            if cls.origins is None:
                self.class_names.append(name)
                mean_t = effective_mean_payload_t(cls.payload_t, cls.max_payload_t)
                unit_rates_per_h.append(demand.tonnes_per_day * cls.share / mean_t / 24)
            else:
                for origin, source in cls.origins.items():
                    unit_sources.append((k, origin))
                    unit_source_rates.append(source.units_per_year * source.export_share)
            self.payload.append(streams.sampler(f"demand.{name}.payload", cls.payload_t))
            names = list(cls.destinations)
            self.dest_names.append(names)
            self.destination.append(
                streams.chooser(f"demand.{name}.destination", list(cls.destinations.values()))
            )
            self.teu.append(specs[name].teu)
            self.cap_kg.append(
                None if cls.max_payload_t is None else round(cls.max_payload_t * 1000)
            )
            self.spec.append(specs[name])
            self.value.append(
                None
                if cls.value_usd is None
                else streams.sampler(f"demand.{name}.value", cls.value_usd)
            )
        # class index of each share class, in the order of the demand.class draw
        self._share_index = [
            k for k, name in enumerate(demand.classes) if demand.classes[name].origins is None
        ]
        self.rate_per_h = float(sum(unit_rates_per_h))
        self.class_choice = streams.chooser("demand.class", unit_rates_per_h)
        self.gap = streams.sampler(
            "demand.arrivals",
            Exponential[float].model_validate({"dist": "exponential", "mean": 1.0}),
        )
        self.unit_sources = unit_sources
        self.units_rate_per_h = sum(unit_source_rates) / 365 / 24
        self.source_choice = streams.chooser("demand.units.source", unit_source_rates)
        self.units_gap = streams.sampler(
            "demand.units.arrivals",
            Exponential[float].model_validate({"dist": "exponential", "mean": 1.0}),
        )
        self.deterministic = demand.arrivals == "deterministic"
        self.service_of = service_of
        self._next_id = 0

    def factor(self, day: int) -> float:
        month = (self.start_month - 1 + int((day % 365) / DAYS_PER_MONTH)) % 12
        return self.weekday[day % 7] * self.seasonal[month]

    def make_shipment(self, now: float) -> Shipment:
        """The next arrival of the share-of-tonnes stream."""
        k = self._share_index[self.class_choice.draw() if len(self.class_names) > 1 else 0]
        return self._make(k, now, "")

    def make_unit(self, now: float) -> Shipment:
        """The next arrival of the units stream (factories)."""
        k, origin = self.unit_sources[
            self.source_choice.draw() if len(self.unit_sources) > 1 else 0
        ]
        return self._make(k, now, origin)

    def _make(self, k: int, now: float, origin: str) -> Shipment:
        kg = max(1, round(self.payload[k].draw() * 1000))
        cap = self.cap_kg[k]
        if cap is not None and kg > cap:
            kg = cap
        dest = self.dest_names[k][self.destination[k].draw()]
        spec = self.spec[k]
        value = self.value[k]
        self._next_id += 1
        return Shipment(
            self._next_id,
            spec.name,
            dest,
            self.service_of[(spec.name, dest)],
            kg,
            self.teu[k],
            now,
            spec.unit,  # positional: a keyword call costs twice as much, per arrival
            spec.wagon_type,
            spec.size,
            spec.ramp,
            NAN if value is None else value(),
            origin,
        )

    def start(self, env: Engine, receive: Callable[[Shipment], None]) -> None:
        """Start both arrival streams (units from factories, and the share of tonnes)."""
        if self.units_rate_per_h > 0:
            _Arrivals(self, env, self.units_rate_per_h, self.units_gap, self.make_unit, receive)
        if self.rate_per_h > 0:
            _Arrivals(self, env, self.rate_per_h, self.gap, self.make_shipment, receive)


class _Arrivals:
    """One arrival stream, run as a chain of engine callbacks: each arrival schedules the
    next, so there is no process to resume per arrival."""

    __slots__ = (
        "arrive",
        "clock",
        "day",
        "deterministic",
        "factor",
        "gap",
        "make",
        "rate",
        "rate_per_h",
        "receive",
        "t",
    )

    def __init__(
        self,
        demand: Demand,
        env: Engine,
        rate_per_h: float,
        gap: Sampler,
        make: Callable[[float], Shipment],
        receive: Callable[[Shipment], None],
    ) -> None:
        self.clock = env.clock
        self.arrive = self._arrive  # bound once: one callback per arrival
        self.factor = demand.factor
        self.deterministic = demand.deterministic
        self.rate_per_h = rate_per_h
        self.gap = gap
        self.make = make
        self.receive = receive
        self.t = self.clock.now
        self.day = -1
        self.rate = 0.0
        self._advance()

    def _advance(self) -> None:
        """Draw the next arrival time and schedule it (the rate is constant within a day;
        at midnight the draw restarts at the new day's rate)."""
        clock = self.clock
        t = self.t
        while True:
            day = int(t // 24)
            if day != self.day:  # the day's rate, once a day
                self.day = day
                self.rate = self.rate_per_h * self.factor(day)
            rate = self.rate
            day_end = (day + 1) * 24.0
            if rate <= 0:
                t = day_end
            else:
                t_next = t + (1.0 if self.deterministic else self.gap.draw()) / rate
                if t_next < day_end:
                    self.t = t_next
                    clock.at(t_next - clock.now, self.arrive)
                    return
                t = day_end
            if t - clock.now > 24.0:  # a whole day without arrivals: let the clock catch up,
                self.t = t  # so a tiny rate cannot spin past the end
                clock.at(t - clock.now, self._resume)
                return

    def _arrive(self, _call: Call) -> None:
        self.receive(self.make(self.t))
        self._advance()

    def _resume(self, _call: Call) -> None:
        self._advance()
