"""Capacity optimisation: the cheapest configuration that meets a service level.

- :mod:`.spec`: the spec's models and loading
- :mod:`.plan`: the spec validated (scenarios, variables, objectives, constraints, KPIs)
- :mod:`.evaluate`: candidates run on the executor with common random numbers, and judged
- :mod:`.study`: the Optuna study in SQLite, asked and told in deterministic batches
- :mod:`.final`: the best candidates re-run and compared pairwise; the answer
- :mod:`.tables`: trials.csv, candidates.csv and comparisons.csv
- :mod:`.run`: :func:`optimize`, the folder written through the output guard
"""

from silkroute_sim.experiments.optimize.plan import OptimizePlan, plan_optimization
from silkroute_sim.experiments.optimize.run import OptimizeOutcome, optimize
from silkroute_sim.experiments.optimize.study import OptimizeError, Progress, require_optuna

__all__ = [
    "OptimizeError",
    "OptimizeOutcome",
    "OptimizePlan",
    "Progress",
    "optimize",
    "plan_optimization",
    "require_optuna",
]
