"""A comparison's result folder: :class:`Comparison` (scenarios side by side, the first
the base of every difference) and its files: ``comparison.csv``, ``replications.csv``,
``manifest.json``, plots and ``report.html``.

The comparison itself (paired differences over common random numbers) is computed in
:mod:`silkroute_sim.experiments.compare`.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pandas as pd

from silkroute_sim.outputs.folder_report import folder_report
from silkroute_sim.outputs.plots.compare import comparison_plots
from silkroute_sim.outputs.replication_result import ReplicationResult
from silkroute_sim.outputs.replications_folder import write_replication_files
from silkroute_sim.outputs.storage import (
    base_manifest,
    mark_complete,
    write_csv,
    write_folder,
    write_json,
)


@dataclass
class Comparison:
    """Scenarios side by side; the first is the base of every difference."""

    scenarios: list[ReplicationResult]
    ci: float
    table: pd.DataFrame
    wall_s: float = math.nan
    warnings: list[str] = field(default_factory=list)

    @property
    def base(self) -> ReplicationResult:
        return self.scenarios[0]

    @property
    def names(self) -> list[str]:
        return [s.name for s in self.scenarios]

    def row(self, scenario: str, metric: str) -> pd.Series:
        """The comparison row of one scenario and metric."""
        sel = self.table[(self.table["scenario"] == scenario) & (self.table["metric"] == metric)]
        if sel.empty:
            raise KeyError(f"{scenario}: {metric}")
        return sel.iloc[0]


def comparison_manifest(comparison: Comparison) -> dict[str, Any]:
    data = base_manifest()
    data.update(
        {
            "kind": "comparison",
            "name": " vs ".join(comparison.names),
            "base": comparison.base.name,
            "ci": comparison.ci,
            "paired": all(m in ("", "paired") for m in comparison.table["method"]),
            "warnings": comparison.warnings
            + [f"{rr.name}: {w}" for rr in comparison.scenarios for w in rr.warnings],
            "files": ["comparison.csv", "replications.csv", "manifest.json"],
            "scenarios": [
                {
                    "name": rr.name,
                    "description": rr.description,
                    "config_hash": rr.config_hash,
                    "seeds": rr.seeds,
                    "simulated_days": rr.days,
                    "warmup_days": rr.warmup_days,
                    "warmup_suggested_days": rr.warmup_suggestion(),
                    "config": rr.config,
                }
                for rr in comparison.scenarios
            ],
        }
    )
    return data


def replications_long(comparison: Comparison) -> pd.DataFrame:
    """Every replication's KPIs of every scenario: ``scenario, seed, metric, value, unit``."""
    parts = [rr.long().assign(scenario=rr.name) for rr in comparison.scenarios]
    frame = pd.concat(parts, ignore_index=True)
    return frame[["scenario", "seed", "metric", "value", "unit"]]


def write_comparison_files(
    comparison: Comparison, folder: Path, plots: bool = True, runs: bool = False
) -> None:
    """``comparison.csv``, ``replications.csv``, ``manifest.json``, and with ``plots`` the
    comparison plots and ``report.html``. With ``runs``, each scenario's folder under
    ``runs/`` gets its combined replication files too."""
    if runs:
        for rr in comparison.scenarios:
            write_replication_files(rr, folder / "runs" / rr.name, plots)
    write_csv(comparison.table, folder / "comparison.csv")
    write_csv(replications_long(comparison), folder / "replications.csv")
    write_json(comparison_manifest(comparison), folder / "manifest.json")
    if plots:
        comparison_plots(comparison.scenarios, folder / "plots")
        folder_report(folder)
    mark_complete(folder, {"kind": "comparison", "scenarios": comparison.names})


def write_comparison_of_results(
    comparison: Comparison, out: Path, *, plots: bool = True, force: bool = False
) -> Path:
    """Write the comparison of finished runs (read back from their folders)."""
    return write_folder(
        Path(out),
        lambda folder: write_comparison_files(comparison, folder, plots),
        force=force,
        kind="comparison",
    )
