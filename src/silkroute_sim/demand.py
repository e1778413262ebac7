"""Cargo arriving at the hub gate.

Arrivals form a non-homogeneous Poisson process whose rate is constant within a day:
``rate(day) = base × weekday_factor × seasonal_factor`` (both factor lists are
normalised to mean 1, so ``tonnes_per_day`` is the long-run mean). Within a day the
gaps are exponential; at midnight the draw restarts at the new rate, which is exact
for a piecewise-constant rate because the exponential is memoryless.
"""

from __future__ import annotations

from collections.abc import Callable, Generator
from typing import Any

import numpy as np
import simpy

from .config import ScenarioConfig
from .distributions import Exponential
from .entities import Shipment
from .rng import Streams

DAYS_PER_MONTH = 365 / 12


def effective_mean_payload_t(payload: Any, cap: float | None) -> float:
    """Mean payload after capping at ``cap`` (numerical, deterministic, when capped)."""
    if cap is None:
        return float(payload.mean)
    draws = payload.sample(np.random.default_rng(12345), 200_000)
    return float(np.minimum(draws, cap).mean())


class Demand:
    """Generates shipments and hands each to ``receive``."""

    def __init__(self, cfg: ScenarioConfig, streams: Streams, service_of: dict[str, str]) -> None:
        demand = cfg.demand
        self.start_month = cfg.simulation.start_month
        wk = np.asarray(demand.weekday_factors, dtype=float)
        se = np.asarray(demand.seasonal_factors, dtype=float)
        self.weekday = (wk / wk.mean()).tolist()
        self.seasonal = (se / se.mean()).tolist()
        self.class_names = list(demand.classes)
        unit_rates_per_h = []
        self.payload = []
        self.destination = []
        self.dest_names: list[list[str]] = []
        self.teu: list[float] = []
        self.cap_kg: list[int | None] = []
        for name, cls in demand.classes.items():
            mean_t = effective_mean_payload_t(cls.payload_t, cls.max_payload_t)
            unit_rates_per_h.append(demand.tonnes_per_day * cls.share / mean_t / 24)
            self.payload.append(streams.sampler(f"demand.{name}.payload", cls.payload_t))
            names = list(cls.destinations)
            self.dest_names.append(names)
            self.destination.append(
                streams.chooser(f"demand.{name}.destination", list(cls.destinations.values()))
            )
            self.teu.append(cls.teu)
            self.cap_kg.append(
                None if cls.max_payload_t is None else round(cls.max_payload_t * 1000)
            )
        self.rate_per_h = float(sum(unit_rates_per_h))
        self.class_choice = streams.chooser("demand.class", unit_rates_per_h)
        self.gap = streams.sampler(
            "demand.arrivals",
            Exponential[float].model_validate({"dist": "exponential", "mean": 1.0}),
        )
        self.deterministic = demand.arrivals == "deterministic"
        self.service_of = service_of
        self._next_id = 0

    def factor(self, day: int) -> float:
        month = (self.start_month - 1 + int((day % 365) / DAYS_PER_MONTH)) % 12
        return self.weekday[day % 7] * self.seasonal[month]

    def expected_units_per_h(self) -> float:
        return self.rate_per_h

    def make_shipment(self, now: float) -> Shipment:
        k = self.class_choice() if len(self.class_names) > 1 else 0
        kg = max(1, round(self.payload[k]() * 1000))
        cap = self.cap_kg[k]
        if cap is not None and kg > cap:
            kg = cap
        dest = self.dest_names[k][self.destination[k]()]
        self._next_id += 1
        return Shipment(
            self._next_id, self.class_names[k], dest, self.service_of[dest], kg, self.teu[k], now
        )

    def run(
        self, env: simpy.Environment, receive: Callable[[Shipment], None]
    ) -> Generator[simpy.Event, Any, None]:
        t = env.now
        gap = self.gap
        while True:
            day = int(t // 24)
            rate = self.rate_per_h * self.factor(day)
            day_end = (day + 1) * 24.0
            if rate <= 0:
                t = day_end
                continue
            t_next = t + (1.0 if self.deterministic else gap()) / rate
            if t_next >= day_end:
                t = day_end
                continue
            t = t_next
            yield env.timeout(t - env.now)
            receive(self.make_shipment(t))
