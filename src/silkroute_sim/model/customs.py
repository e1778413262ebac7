"""Export customs at the hub: every unit clears after a clearance time, and a share is
also held for inspection (times and share from ``hub.customs``)."""

from __future__ import annotations

from silkroute_sim.config.schema import CustomsConfig
from silkroute_sim.engine.rng import Streams


class Customs:
    """Export clearance samplers for one flow of units (boxes, or vehicles): every unit
    clears, a share is also held for inspection."""

    __slots__ = ("clearance", "inspect_u", "inspection", "probability")

    def __init__(self, streams: Streams, prefix: str, cfg: CustomsConfig) -> None:
        self.clearance = streams.sampler(f"{prefix}.clearance", cfg.clearance_time)
        self.inspection = streams.sampler(f"{prefix}.inspection", cfg.inspection_time)
        self.inspect_u = streams.uniform(f"{prefix}.inspect")
        self.probability = cfg.inspection_probability

    def hold_h(self) -> float:
        hold = self.clearance.draw()
        if self.probability > 0 and self.inspect_u.draw() < self.probability:
            hold += self.inspection.draw()
        return hold
