"""silkroute-sim: discrete-event simulation of rail freight through the Urumqi hub.

The Python API mirrors the CLI::

    from silkroute_sim import load_config, simulate, run_tables
    cfg = load_config("configs/baseline.yaml", days=120)
    result = simulate(cfg, seed=1)
    tables = run_tables(result)          # pandas DataFrames: summary, daily, trains, ...

Importing the package is cheap: pandas, matplotlib and dask load only when used.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from silkroute_sim._version import __version__

if TYPE_CHECKING:
    from silkroute_sim.analysis.tables import Tables
    from silkroute_sim.model.simulate import RunResult


def load_config(*args: Any, **kwargs: Any) -> Any:
    """Load and validate a scenario YAML (see :func:`silkroute_sim.config.loader.load_config`)."""
    from silkroute_sim.config.loader import load_config as _load

    return _load(*args, **kwargs)


def simulate(*args: Any, **kwargs: Any) -> RunResult:
    """Run one simulation (see :func:`silkroute_sim.model.simulate.simulate`)."""
    from silkroute_sim.model.simulate import simulate as _simulate

    return _simulate(*args, **kwargs)


def run_sweep(*args: Any, **kwargs: Any) -> Any:
    """Run a sweep spec locally or on Dask (see
    :func:`silkroute_sim.experiments.sweep.run_sweep`)."""
    from silkroute_sim.experiments.sweep import run_sweep as _run_sweep

    return _run_sweep(*args, **kwargs)


def run_tables(result: RunResult) -> Tables:
    """Tidy DataFrames (summary, daily, trains, shipments, node_events) of a run."""
    from silkroute_sim.analysis.tables import Tables

    return Tables(result)


__all__ = ["__version__", "load_config", "run_sweep", "run_tables", "simulate"]
