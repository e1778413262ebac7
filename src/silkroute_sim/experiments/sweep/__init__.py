"""Sweeps: a YAML spec → validated points → keyed runs → ``runs.csv`` and ``points.csv``.

- :mod:`.spec`: the spec's models, loading, and each swept parameter's values or distribution
- :mod:`.designs`: grid, zip and Latin hypercube points
- :mod:`.constraints`: the expressions that drop points
- :mod:`.plan`: every point's config validated, every run keyed (:func:`plan_sweep`)
- :mod:`.run`: the runs on the executor, stored atomically and resumably (:func:`run_sweep`)
- :mod:`.collect`: the tables rebuilt from the run folders (:func:`collect_results`)

The plots and the report page of a sweep folder are drawn by ``outputs`` from its tables.
"""

from silkroute_sim.experiments.sweep.collect import (
    FAILED_DIR,
    RUNS_DIR,
    SweepResults,
    collect_results,
)
from silkroute_sim.experiments.sweep.plan import (
    Point,
    RunTask,
    SweepPlan,
    plan_sweep,
    run_key,
)
from silkroute_sim.experiments.sweep.run import (
    Progress,
    RunOutcome,
    SweepOutcome,
    execute_run,
    pending_runs,
    run_sweep,
)
from silkroute_sim.experiments.sweep.spec import (
    DEFAULT_OUTPUTS,
    Parameter,
    SweepError,
    SweepSpec,
    cell_text,
    load_spec,
    resolve_spec_path,
)

#: the name cli/sweep.py imports for a parameter value's table cell
_cell = cell_text

__all__ = [
    "DEFAULT_OUTPUTS",
    "FAILED_DIR",
    "RUNS_DIR",
    "Parameter",
    "Point",
    "Progress",
    "RunOutcome",
    "RunTask",
    "SweepError",
    "SweepOutcome",
    "SweepPlan",
    "SweepResults",
    "SweepSpec",
    "cell_text",
    "collect_results",
    "execute_run",
    "load_spec",
    "pending_runs",
    "plan_sweep",
    "resolve_spec_path",
    "run_key",
    "run_sweep",
]
