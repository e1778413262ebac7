"""A service's train by wagon type and the FIFO rule that fills it
(:class:`TrainCapacity`); the cargo facts it builds on are
:mod:`silkroute_sim.config.cargo_rules`."""

from __future__ import annotations

from collections.abc import Iterable, Mapping

from silkroute_sim.config.cargo_rules import EPS
from silkroute_sim.config.schema import WagonTypeConfig
from silkroute_sim.model.entities import Shipment

# --------------------------------------------------------------------------- filling trains


class TrainCapacity:
    """One service's train by wagon type, with its tonnes limit.

    Filling is FIFO within each wagon type: units are taken in ready order; once a
    unit does not fit its wagon type, that type is closed (later units of the type wait
    for the next train) while other types go on filling. A unit over the tonnes limit
    closes the train. The train is full when no ready unit fits any more and some are
    left over (a wagon type or the tonnes limit overflows), or when every wagon is used
    up; otherwise it could still take more.
    """

    def __init__(
        self,
        capacity: dict[str, float],
        wagon_types: Mapping[str, WagonTypeConfig],
        max_kg: int,
    ) -> None:
        self.capacity = capacity
        self.types = list(capacity)
        self.single = self.types[0] if len(self.types) == 1 else None
        self.per_wagon = {t: wagon_types[t].teu_per_wagon or 1.0 for t in self.types}
        self.wagons = sum(capacity[t] / self.per_wagon[t] for t in self.types)
        self.teu = sum(capacity[t] for t in self.types if wagon_types[t].carries == "teu")
        self.max_kg = max_kg

    def fill(self, ready: Iterable[Shipment]) -> tuple[list[int], bool]:
        """Positions in ``ready`` of the units one train takes, and whether it is full."""
        capacity = self.capacity
        used = dict.fromkeys(self.types, 0.0)
        closed: set[str] = set()
        kg = 0
        picked: list[int] = []
        for i, unit in enumerate(ready):
            wtype = unit.wagon_type
            if wtype in closed:
                continue
            if used[wtype] + unit.size > capacity[wtype] + EPS:
                closed.add(wtype)
                if len(closed) == len(self.types):
                    return picked, True
                continue
            if kg + unit.kg > self.max_kg:
                return picked, True
            used[wtype] += unit.size
            kg += unit.kg
            picked.append(i)
        full = bool(closed) or all(capacity[t] - used[t] < EPS for t in self.types)
        return picked, full

    def meets(self, load: Mapping[str, float], fraction: float) -> bool:
        """Whether ``load`` (capacity taken, by wagon type) is at least ``fraction`` of
        the train (of its wagons, when it has several types)."""
        if self.single is not None:
            return load[self.single] >= fraction * self.capacity[self.single] - EPS
        wagons = sum(
            min(load.get(t, 0.0), self.capacity[t]) / self.per_wagon[t] for t in self.types
        )
        return wagons >= fraction * self.wagons - EPS

    def load_factor(self, used: Mapping[str, float]) -> float:
        """Capacity taken over capacity offered (by wagons when there are several types)."""
        if self.single is not None:
            return used.get(self.single, 0.0) / self.capacity[self.single]
        return sum(used.get(t, 0.0) / self.per_wagon[t] for t in self.types) / self.wagons
