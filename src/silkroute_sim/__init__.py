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

__version__ = "0.1.0"

if TYPE_CHECKING:
    from .metrics import Tables
    from .model import RunResult


def load_config(*args: Any, **kwargs: Any) -> Any:
    """Load and validate a scenario YAML (see :func:`silkroute_sim.loader.load_config`)."""
    from .loader import load_config as _load

    return _load(*args, **kwargs)


def simulate(*args: Any, **kwargs: Any) -> RunResult:
    """Run one simulation (see :func:`silkroute_sim.model.simulate`)."""
    from .model import simulate as _simulate

    return _simulate(*args, **kwargs)


def run_sweep(*args: Any, **kwargs: Any) -> Any:
    """Run a sweep spec locally or on Dask (see :func:`silkroute_sim.sweep.run_sweep`)."""
    from .sweep import run_sweep as _run_sweep

    return _run_sweep(*args, **kwargs)


def run_tables(result: RunResult) -> Tables:
    """Tidy DataFrames (summary, daily, trains, shipments, node_events) of a run."""
    from .metrics import Tables

    return Tables(result)


__all__ = ["__version__", "load_config", "run_sweep", "run_tables", "simulate"]
