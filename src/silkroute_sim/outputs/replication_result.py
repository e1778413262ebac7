"""The replications of one scenario as data: what each replication hands back
(:class:`RepOutput`) and their combination (:class:`ReplicationResult`, built by
:func:`collect`), whether the replications were just run
(:mod:`silkroute_sim.experiments.replications`) or are read back from a folder
(:mod:`silkroute_sim.outputs.replications_folder`).
"""

from __future__ import annotations

import hashlib
import json
import math
from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

import numpy as np
import pandas as pd

from silkroute_sim.analysis.stats import ci_note, metric_ci
from silkroute_sim.analysis.warmup import (
    WarmupSuggestion,
    suggest_warmup,
    suggested_days,
    warmup_warning,
)

if TYPE_CHECKING:
    from silkroute_sim.config.schema import ScenarioConfig

SUMMARY_COLUMNS = ["metric", "value", "unit", "mean", "ci_low", "ci_high", "n"]


@dataclass
class RepOutput:
    """What one replication hands back: small tables, not the whole event log."""

    seed: int
    summary: pd.DataFrame  # metric, value, unit (after the warm-up)
    daily: pd.DataFrame  # one row per simulated day, warm-up days included
    door_to_door_d: np.ndarray  # boxes released in the observation window
    wall_s: float = math.nan
    events: int = -1
    warnings: list[str] = field(default_factory=list)


@dataclass
class ReplicationResult:
    """N replications of one scenario and their combined summary."""

    name: str
    description: str
    config: dict[str, Any]  # the resolved config (JSON-able)
    config_hash: str
    days: float
    warmup_days: float
    ci: float
    reps: list[RepOutput]
    summary: pd.DataFrame  # metric, value, unit, mean, ci_low, ci_high, n
    warmup: list[WarmupSuggestion] = field(default_factory=list)
    warnings: list[str] = field(default_factory=list)
    wall_s: float = math.nan

    @property
    def seeds(self) -> list[int]:
        return [r.seed for r in self.reps]

    def values(self) -> pd.DataFrame:
        """KPI values wide: one row per seed, one column per metric."""
        rows = {
            r.seed: dict(zip(r.summary["metric"], r.summary["value"], strict=False))
            for r in self.reps
        }
        frame = pd.DataFrame.from_dict(rows, orient="index")
        frame.index.name = "seed"
        return frame.reindex(columns=list(self.summary["metric"]))

    def long(self) -> pd.DataFrame:
        """KPI values long: ``seed, metric, value, unit`` (one row per seed × metric)."""
        parts = [r.summary.assign(seed=r.seed) for r in self.reps]
        if not parts:
            return pd.DataFrame(columns=["seed", "metric", "value", "unit"])
        return pd.concat(parts, ignore_index=True)[["seed", "metric", "value", "unit"]]

    def warmup_suggestion(self) -> int | None:
        return suggested_days(self.warmup)


# --------------------------------------------------------------------------- combining


def combine_summaries(summaries: Sequence[pd.DataFrame], ci: float = 0.95) -> pd.DataFrame:
    """``metric, value, unit, mean, ci_low, ci_high, n`` over replications (``value`` is the
    mean). Metrics keep the order of their first appearance."""
    order: dict[str, str] = {}
    values: dict[str, list[float]] = {}
    for frame in summaries:
        for metric, value, unit in zip(
            frame["metric"], frame["value"], frame["unit"], strict=False
        ):
            order.setdefault(metric, unit)
            values.setdefault(metric, []).append(float(value))
    rows = []
    for metric, unit in order.items():
        mean, low, high, n = metric_ci(metric, values[metric], ci)
        rows.append((metric, mean, unit, mean, low, high, n))
    return pd.DataFrame(rows, columns=SUMMARY_COLUMNS)


def collect(
    cfg: ScenarioConfig | dict[str, Any],
    outputs: list[RepOutput],
    ci: float,
    wall_s: float = math.nan,
) -> ReplicationResult:
    """Combine the replications of one scenario (from memory or from disk)."""
    data = cfg if isinstance(cfg, dict) else cfg.resolved()
    raw_sim = data.get("simulation")
    sim: dict[str, Any] = raw_sim if isinstance(raw_sim, dict) else {}
    warmup_days = float(sim.get("warmup_days", math.nan))
    suggestions = suggest_warmup([o.daily for o in outputs])
    warnings: list[str] = []
    for o in outputs:
        warnings.extend(f"seed {o.seed}: {w}" for w in o.warnings)
    note = warmup_warning(suggestions, warmup_days) if math.isfinite(warmup_days) else None
    if note:
        warnings.append(note)
    note = ci_note(len(outputs))  # say so, rather than leave the interval columns empty
    if note:
        warnings.append(note)
    return ReplicationResult(
        name=str(data.get("name", "scenario")),
        description=str(data.get("description", "")),
        config=data,
        config_hash=cfg.config_hash() if not isinstance(cfg, dict) else _hash_of(data),
        days=float(sim.get("days", math.nan)),
        warmup_days=warmup_days,
        ci=ci,
        reps=outputs,
        summary=combine_summaries([o.summary for o in outputs], ci),
        warmup=suggestions,
        warnings=warnings,
        wall_s=wall_s,
    )


def _hash_of(data: dict[str, Any]) -> str:
    canonical = json.dumps(data, sort_keys=True, separators=(",", ":"))
    return hashlib.sha256(canonical.encode()).hexdigest()[:16]
