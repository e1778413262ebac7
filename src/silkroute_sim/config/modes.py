"""The same shipment by sea and by air (the ``modes`` section), for the modal comparison.

Filled in by the modal comparison (issue 22); see docs/costs.md.
"""

from __future__ import annotations

from silkroute_sim.config.fields import StrictModel


class ModesConfig(StrictModel):
    """Door-to-door time, cost and CO2 of the sea and air alternatives to rail."""
