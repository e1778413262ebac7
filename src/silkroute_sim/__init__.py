"""silkroute-sim: discrete-event simulation of rail freight through the Urumqi hub.

The Python API mirrors the CLI::

    from silkroute_sim import load_config, simulate, run_tables, load_run
    cfg = load_config("baseline", days=120)      # a packaged scenario by name, or a YAML path
    result = simulate(cfg, seed=1)
    tables = run_tables(result)          # pandas DataFrames: summary, daily, trains, ...
    run = load_run("results/baseline")   # a result folder read back (CSV or Parquet)

Importing the package is cheap: each function below imports what it needs when called,
so pandas, matplotlib and dask load only when used.
"""

from __future__ import annotations

import os
from collections.abc import Callable, Iterable
from pathlib import Path
from typing import TYPE_CHECKING, Any

from silkroute_sim._version import __version__

if TYPE_CHECKING:
    from silkroute_sim.analysis.tables import Tables
    from silkroute_sim.config.schema import ScenarioConfig
    from silkroute_sim.experiments.sweep.plan import SweepPlan
    from silkroute_sim.experiments.sweep.run import SweepOutcome
    from silkroute_sim.model.simulate import RunResult
    from silkroute_sim.outputs.loaders import ComparisonData, RunData, SweepData


def load_config(
    path: str | os.PathLike[str] | None = None,
    overrides: Iterable[str] = (),
    *,
    days: float | None = None,
    warmup_days: float | None = None,
    seed: int | None = None,
) -> ScenarioConfig:
    """Load, merge (``extends``), override and validate a scenario.

    ``path`` is a YAML file or a packaged scenario's name (``"baseline"``,
    ``"khorgos-closed-7d"``; None: the baseline), so it works from any folder.
    ``overrides`` are ``KEY.PATH=VALUE`` texts as given to ``--set``; ``days``,
    ``warmup_days`` and ``seed`` replace the ``simulation`` values. Raises
    :class:`silkroute_sim.config.errors.ConfigError` with one line naming the file, the
    key path, the value and what is allowed."""
    from silkroute_sim.config.loader import load_config as _load

    return _load(path, overrides, days=days, warmup_days=warmup_days, seed=seed)


def simulate(
    cfg: ScenarioConfig,
    seed: int | None = None,
    progress: Callable[[float, float], None] | None = None,
) -> RunResult:
    """Run the scenario ``cfg`` once with ``seed`` (default: ``cfg.simulation.seed``).

    ``progress(day, days)`` is called as simulated days pass. Returns the run's records
    (no file is written; see :func:`run_tables` for its tables)."""
    from silkroute_sim.model.simulate import simulate as _simulate

    return _simulate(cfg, seed, progress)


def run_tables(result: RunResult) -> Tables:
    """Tidy DataFrames of a run: ``summary`` (``metric, value, unit``), ``daily``,
    ``trains``, ``shipments``, ``node_events`` and ``disruptions`` (None without any),
    each built once."""
    from silkroute_sim.analysis.tables import Tables

    return Tables(result)


def run_sweep(
    spec: str | os.PathLike[str] | SweepPlan,
    out: str | os.PathLike[str] | None = None,
    *,
    workers: int | None = None,
    plots: bool = True,
    **options: Any,
) -> SweepOutcome:
    """Run (or finish) the sweep ``spec`` (a sweep YAML or a planned sweep) into ``out``
    (default ``results/<sweep name>``), on ``workers`` local processes (default: one per
    CPU core). Complete runs are kept, so rerunning finishes an interrupted sweep.
    ``options`` are those of :func:`silkroute_sim.experiments.sweep.run.run_sweep`
    (``scheduler`` for a Dask cluster, ``progress``, ``records``, …). Read the result
    back with :func:`load_sweep`."""
    from silkroute_sim.experiments.sweep.run import run_sweep as _run_sweep

    return _run_sweep(spec, out, workers=workers, plots=plots, **options)


def load_run(folder: str | os.PathLike[str] | Path) -> RunData:
    """Read a run's result folder (written by ``silkroute run``) back: ``summary``,
    ``daily``, ``daily_long``, ``trains``, ``shipments``, ``node_events``,
    ``disruptions`` as DataFrames in the dtypes they were written with (CSV or Parquet
    alike; None for a table the run did not write), and ``manifest``. A folder that is
    not a finished run is refused with one line saying what it is."""
    from silkroute_sim.outputs.loaders import load_run as _load_run

    return _load_run(Path(folder))


def load_comparison(folder: str | os.PathLike[str] | Path) -> ComparisonData:
    """Read a comparison's result folder (written by ``silkroute compare``) back:
    ``comparison`` (per scenario and KPI, the difference from the base with its
    interval), ``replications`` (every replication's KPIs) and ``manifest``."""
    from silkroute_sim.outputs.loaders import load_comparison as _load_comparison

    return _load_comparison(Path(folder))


def load_sweep(folder: str | os.PathLike[str] | Path) -> SweepData:
    """Read a sweep's result folder (written by ``silkroute sweep``) back: ``runs``
    (one row per run), ``points`` (means and intervals per point) and ``manifest``;
    ``.run(key)`` loads one run's folder with :func:`load_run`."""
    from silkroute_sim.outputs.loaders import load_sweep as _load_sweep

    return _load_sweep(Path(folder))


__all__ = [
    "__version__",
    "load_comparison",
    "load_config",
    "load_run",
    "load_sweep",
    "run_sweep",
    "run_tables",
    "simulate",
]
