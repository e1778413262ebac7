"""Reference implementations that only the tests need: the plain way of doing what the
model does in a faster way, for differential tests (same run, event for event)."""

from __future__ import annotations

from silkroute_sim.model.dispatch import Dispatcher
from silkroute_sim.model.entities import Shipment


class OneEventPerUnitDispatcher(Dispatcher):
    """A dispatcher that queues a wake-up for every unit in customs, at its moment, and
    lets each look at the ready units when it clears: what :class:`Dispatcher` does
    lazily, for only the units whose look could change a decision."""

    def hold(self, unit: Shipment, ready_h: float) -> None:
        moment = self.clock.moment(ready_h)
        entry = (moment, unit)
        self.held.append(entry)
        self.held.sort(key=lambda e: e[0])
        self.held_load[unit.wagon_type] += unit.size
        self.held_kg += unit.kg
        self._wake_up_at(entry)

    def _catch_up(self) -> None:
        """Nothing to catch up: every unit's own wake-up releases it."""

    def _settle(self) -> None:
        """Nothing to settle: every unit has its wake-up queued."""
