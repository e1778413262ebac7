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

import math
from collections.abc import Callable, Generator, Mapping
from typing import Any

import numpy as np
import simpy

from .cargo import ClassSpec, class_specs
from .config import ScenarioConfig
from .distributions import Exponential
from .entities import Shipment
from .rng import Sampler, Streams

DAYS_PER_MONTH = 365 / 12


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
        k = self._share_index[self.class_choice() if len(self.class_names) > 1 else 0]
        return self._make(k, now, "")

    def make_unit(self, now: float) -> Shipment:
        """The next arrival of the units stream (factories)."""
        k, origin = self.unit_sources[self.source_choice() if len(self.unit_sources) > 1 else 0]
        return self._make(k, now, origin)

    def _make(self, k: int, now: float, origin: str) -> Shipment:
        kg = max(1, round(self.payload[k]() * 1000))
        cap = self.cap_kg[k]
        if cap is not None and kg > cap:
            kg = cap
        dest = self.dest_names[k][self.destination[k]()]
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
            unit=spec.unit,
            wagon_type=spec.wagon_type,
            size=spec.size,
            ramp=spec.ramp,
            value_usd=math.nan if value is None else value(),
            origin=origin,
        )

    def run(
        self, env: simpy.Environment, receive: Callable[[Shipment], None]
    ) -> Generator[simpy.Event, Any, None]:
        """Both arrival streams: units (factories) in a process of their own."""
        if self.units_rate_per_h > 0:
            env.process(
                self._arrivals(env, self.units_rate_per_h, self.units_gap, self.make_unit, receive)
            )
        if self.rate_per_h > 0:
            yield from self._arrivals(env, self.rate_per_h, self.gap, self.make_shipment, receive)

    def _arrivals(
        self,
        env: simpy.Environment,
        rate_per_h: float,
        gap: Sampler,
        make: Callable[[float], Shipment],
        receive: Callable[[Shipment], None],
    ) -> Generator[simpy.Event, Any, None]:
        t = env.now
        while True:
            day = int(t // 24)
            rate = rate_per_h * self.factor(day)
            day_end = (day + 1) * 24.0
            if rate <= 0:
                t = day_end
            else:
                t_next = t + (1.0 if self.deterministic else gap()) / rate
                if t_next < day_end:
                    t = t_next
                    yield env.timeout(t - env.now)
                    receive(make(t))
                    continue
                t = day_end
            if t - env.now > 24.0:  # a whole day without arrivals: let the clock catch up,
                yield env.timeout(t - env.now)  # so a tiny rate cannot spin past the end
