"""Scenario comparisons with common random numbers.

Every scenario is run over the same seeds. Because the random streams are named per purpose
(:mod:`silkroute_sim.engine.rng`), replication ``k`` of every scenario sees the same trucks at the
gate, the same payloads and destinations, and the same background trains at the borders;
only what the scenarios change differs. The difference of a KPI between a scenario and the
first one (the base) is therefore measured per seed, and its interval is the Student-t
interval of those paired differences — much tighter than the unpaired (Welch) interval of
independent runs, because the shared randomness cancels. Scenarios that do not share seeds
(finished runs made with different seeds) fall back to Welch's interval; the ``method``
column says which was used.

A difference is *significant* when its interval excludes 0.
"""

from __future__ import annotations

import math
import time
from collections.abc import Sequence
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from silkroute_sim.analysis.stats import mean_ci, welch_diff_ci
from silkroute_sim.config.errors import SilkrouteError
from silkroute_sim.config.schema import ScenarioConfig
from silkroute_sim.experiments.executor import Executor, use_executor
from silkroute_sim.experiments.replications import (
    Job,
    RepProgress,
    check_ci,
    check_seed_list,
    default_seeds,
    run_jobs,
)
from silkroute_sim.outputs.comparison_folder import Comparison, write_comparison_files
from silkroute_sim.outputs.replication_result import ReplicationResult, collect
from silkroute_sim.outputs.storage import write_folder

COMPARISON_COLUMNS = [
    "scenario",
    "metric",
    "unit",
    "mean",
    "ci_low",
    "ci_high",
    "n",
    "diff",
    "diff_ci_low",
    "diff_ci_high",
    "diff_pct",
    "method",
    "significant",
]


def paired_difference(
    base: ReplicationResult, other: ReplicationResult, metric: str, ci: float = 0.95
) -> tuple[float, float, float, int, str]:
    """(diff, ci_low, ci_high, n, method): ``other − base`` for ``metric``.

    Paired over the seeds both share (at least 2 of them), else Welch's unpaired interval.
    """
    b = base.values()
    o = other.values()
    if metric not in b.columns or metric not in o.columns:
        return math.nan, math.nan, math.nan, 0, ""
    common = [s for s in o.index if s in set(b.index)]
    if len(common) >= 2:
        d = o.loc[common, metric].to_numpy(dtype=float) - b.loc[common, metric].to_numpy(
            dtype=float
        )
        mean, low, high, n = mean_ci(d, ci)
        return mean, low, high, n, "paired"
    diff, low, high, _df = welch_diff_ci(b[metric].to_numpy(), o[metric].to_numpy(), ci)
    n = int(np.isfinite(b[metric].to_numpy(dtype=float)).sum()) + int(
        np.isfinite(o[metric].to_numpy(dtype=float)).sum()
    )
    return diff, low, high, n, "welch"


def unpaired_difference(
    base: ReplicationResult, other: ReplicationResult, metric: str, ci: float = 0.95
) -> tuple[float, float, float]:
    """(diff, ci_low, ci_high) of ``other − base`` ignoring any pairing (Welch)."""
    b = base.values()
    o = other.values()
    diff, low, high, _df = welch_diff_ci(b[metric].to_numpy(), o[metric].to_numpy(), ci)
    return diff, low, high


def _significant(low: float, high: float) -> bool | None:
    if not (math.isfinite(low) and math.isfinite(high)):
        return None
    return bool(low > 0 or high < 0)


def comparison_frame(results: Sequence[ReplicationResult], ci: float = 0.95) -> pd.DataFrame:
    """One row per scenario × metric: the scenario's mean and interval, and its difference
    from the first scenario with the (paired) interval and whether it is significant."""
    if not results:
        return pd.DataFrame(columns=COMPARISON_COLUMNS)
    base = results[0]
    metrics: dict[str, str] = {}
    for rr in results:
        for metric, unit in zip(rr.summary["metric"], rr.summary["unit"], strict=False):
            metrics.setdefault(metric, unit)
    base_mean = dict(zip(base.summary["metric"], base.summary["mean"], strict=False))
    rows: list[dict[str, Any]] = []
    for i, rr in enumerate(results):
        stats = rr.summary.set_index("metric")
        for metric, unit in metrics.items():
            row: dict[str, Any] = {"scenario": rr.name, "metric": metric, "unit": unit}
            if metric in stats.index:
                s = stats.loc[metric]
                row.update(mean=s["mean"], ci_low=s["ci_low"], ci_high=s["ci_high"], n=int(s["n"]))
            else:
                row.update(mean=math.nan, ci_low=math.nan, ci_high=math.nan, n=0)
            if i == 0:
                row.update(
                    diff=math.nan,
                    diff_ci_low=math.nan,
                    diff_ci_high=math.nan,
                    diff_pct=math.nan,
                    method="",
                    significant=None,
                )
            else:
                diff, low, high, _n, method = paired_difference(base, rr, metric, ci)
                ref = base_mean.get(metric, math.nan)
                pct = 100 * diff / abs(ref) if math.isfinite(ref) and ref != 0 else math.nan
                row.update(
                    diff=diff,
                    diff_ci_low=low,
                    diff_ci_high=high,
                    diff_pct=pct,
                    method=method,
                    significant=_significant(low, high),
                )
            rows.append(row)
    frame = pd.DataFrame(rows, columns=COMPARISON_COLUMNS)
    frame["significant"] = frame["significant"].astype("boolean")
    return frame


def compare_results(results: Sequence[ReplicationResult], ci: float = 0.95) -> Comparison:
    """Compare finished replications (in memory or read back from their folders)."""
    ci = check_ci(ci)
    if len(results) < 2:
        raise SilkrouteError("a comparison needs at least two scenarios")
    named = _unique_names(list(results))
    warnings = []
    base = named[0]
    base_seeds = set(base.seeds)
    for rr in named[1:]:
        if (rr.days, rr.warmup_days) != (base.days, base.warmup_days):
            warnings.append(
                f"{rr.name}: ran {rr.days:g} days ({rr.warmup_days:g} warm-up), {base.name} "
                f"{base.days:g} days ({base.warmup_days:g} warm-up); their KPIs cover "
                "different windows, so the differences mix the horizon with the scenario"
            )
        shared = len(base_seeds & set(rr.seeds))
        if shared < 2:
            what = "no seed" if not shared else "only 1 seed"
            warnings.append(
                f"{rr.name}: shares {what} with {base.name} (a paired interval needs 2 "
                "replications or more on common seeds); its differences use Welch's "
                "unpaired interval (no common random numbers)"
            )
    return Comparison(named, ci, comparison_frame(named, ci), warnings=warnings)


def _unique_names(results: list[ReplicationResult]) -> list[ReplicationResult]:
    seen: dict[str, int] = {}
    out = []
    for rr in results:
        count = seen.get(rr.name, 0) + 1
        seen[rr.name] = count
        if count > 1:
            rr.name = f"{rr.name}-{count}"
        out.append(rr)
    return out


def compare_configs(
    configs: Sequence[ScenarioConfig],
    reps: int,
    workers: int = 1,
    ci: float = 0.95,
    progress: RepProgress | None = None,
    *,
    seeds: Sequence[int] | None = None,
    runs_root: Path | None = None,
    executor: Executor | None = None,
) -> Comparison:
    """Run every config over the same seeds (the first config's ``seed … seed+reps-1``),
    ``workers`` at a time (or on ``executor``), and compare them. With ``runs_root`` each
    scenario's replication folders are written to ``runs_root/<name>/rep-<seed>/``."""
    ci = check_ci(ci)
    if isinstance(configs, ScenarioConfig | str) or not isinstance(configs, Sequence):
        raise SilkrouteError("configs: a list of scenarios (load_config(...)) to compare")
    others = [type(c).__name__ for c in configs if not isinstance(c, ScenarioConfig)]
    if others:
        raise SilkrouteError(f"configs: expected scenarios (load_config(...)), got {others[0]}")
    if len(configs) < 2:
        raise SilkrouteError("a comparison needs at least two scenarios")
    seed_list = check_seed_list(seeds) if seeds is not None else default_seeds(configs[0], reps)
    names = _dedupe([c.name for c in configs])
    started = time.perf_counter()
    jobs: list[Job] = []
    datas = []
    for cfg, name in zip(configs, names, strict=True):
        data = cfg.resolved()
        data["name"] = name
        datas.append(data)
        for seed in seed_list:
            out = None if runs_root is None else str(Path(runs_root) / name / f"rep-{seed}")
            jobs.append(Job(data, seed, out, False))
    with use_executor(executor, workers, len(jobs)) as runner:
        outputs = run_jobs(jobs, runner, progress)
    wall = time.perf_counter() - started
    k = len(seed_list)
    results = [
        collect(data, outputs[i * k : (i + 1) * k], ci, wall) for i, data in enumerate(datas)
    ]
    for cfg, rr in zip(configs, results, strict=True):
        rr.config_hash = cfg.config_hash()
    comparison = compare_results(results, ci)
    comparison.wall_s = wall
    return comparison


def _dedupe(names: list[str]) -> list[str]:
    seen: dict[str, int] = {}
    out = []
    for name in names:
        seen[name] = seen.get(name, 0) + 1
        out.append(name if seen[name] == 1 else f"{name}-{seen[name]}")
    return out


def write_comparison(
    configs: Sequence[ScenarioConfig],
    out: Path,
    reps: int,
    *,
    workers: int = 1,
    ci: float = 0.95,
    plots: bool = True,
    keep_runs: bool = False,
    force: bool = False,
    progress: RepProgress | None = None,
    executor: Executor | None = None,
) -> tuple[Path, Comparison]:
    """Run and compare ``configs`` into the folder ``out``, atomically."""
    holder: list[Comparison] = []

    def fill(folder: Path) -> None:
        comparison = compare_configs(
            configs,
            reps,
            workers,
            ci,
            progress,
            runs_root=folder / "runs" if keep_runs else None,
            executor=executor,
        )
        write_comparison_files(comparison, folder, plots, runs=keep_runs)
        holder.append(comparison)

    folder = write_folder(Path(out), fill, force=force, kind="comparison")
    return folder, holder[0]
