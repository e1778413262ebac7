"""Costs and emissions of moving a box (the ``costs`` and ``emissions`` sections).

Filled in by the cost model (issue 22); see docs/costs.md.
"""

from __future__ import annotations

from silkroute_sim.config.fields import StrictModel


class CostsConfig(StrictModel):
    """What the shipper pays the carriers, by segment, and the cost of time."""


class EmissionsConfig(StrictModel):
    """Well-to-wheel CO2e factors by segment, GLEC style."""
