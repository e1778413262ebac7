"""Evaluating candidates: their runs on the executor, and the statistics that judge them.

A candidate (one value per decision variable) is simulated at every scenario with the same
seeds as every other candidate — common random numbers — so that two candidates differ
only by what they change. Its KPIs get Student-t intervals over the replications; a
constraint counts as met only when the interval's far end is on the right side of the
limit (``ci_high <= limit`` for ``<=``), and the objective is computed per replication so
that candidates can be compared by paired differences.
"""

from __future__ import annotations

import hashlib
import json
import math
from collections.abc import Callable, Sequence
from contextlib import closing
from dataclasses import dataclass, field
from typing import Any

import numpy as np

from silkroute_sim.analysis.kpis import HEADLINE
from silkroute_sim.analysis.stats import mean_ci, metric_ci
from silkroute_sim.config.errors import ConfigError, SilkrouteError
from silkroute_sim.experiments.executor import Executor
from silkroute_sim.experiments.optimize.plan import SATURATED, KpiConstraint, OptimizePlan
from silkroute_sim.experiments.replications import replicate
from silkroute_sim.experiments.sweep.collect import SATURATION_TEXT

#: KPI values of one run: {kpi: value}
RunKpis = dict[str, float]
#: a candidate's runs: {scenario: {seed: RunKpis}}
Runs = dict[str, dict[int, RunKpis]]


def params_key(params: dict[str, Any]) -> str:
    """A candidate's identity: its variable values as canonical JSON."""
    return json.dumps(params, sort_keys=True, separators=(",", ":"), default=str)


@dataclass(frozen=True)
class RunItem:
    """One simulation for a worker: picklable, no file paths."""

    key: str
    candidate: str
    scenario: str
    seed: int
    config: dict[str, Any]
    kpis: tuple[str, ...]


def run_one(item: RunItem) -> RunKpis:
    """Simulate one run and return the KPIs asked for (and whether the hub saturated).
    A top-level function of a picklable item: runs in local processes and on Dask."""
    out = replicate(item.config, item.seed)
    values = dict(zip(out.summary["metric"], out.summary["value"], strict=True))
    kpis = {k: float(values[k]) for k in item.kpis if k in values}
    kpis[SATURATED] = float(any(SATURATION_TEXT in w for w in out.warnings))
    return kpis


def _item_key(item: RunItem) -> str:
    return item.key


@dataclass
class Evaluated:
    """A candidate's runs, or why it could not be run."""

    runs: Runs = field(default_factory=dict)
    error: str | None = None
    simulations: int = 0


def evaluate(
    plan: OptimizePlan,
    candidates: Sequence[dict[str, Any]],
    seeds: Sequence[int],
    executor: Executor,
    on_run: Callable[[], None] | None = None,
) -> dict[str, Evaluated]:
    """Run every candidate at every scenario and seed, all on the executor together;
    results by :func:`params_key`. A candidate whose config is invalid or whose run fails
    gets its error (its other runs are dropped)."""
    kpis = tuple(dict.fromkeys([*plan.kpis, *HEADLINE]))
    results: dict[str, Evaluated] = {}
    items: list[RunItem] = []
    for params in candidates:
        key = params_key(params)
        if key in results:
            continue
        results[key] = Evaluated()
        try:
            configs = {s.name: plan.config(s, params).resolved() for s in plan.scenarios}
        except ConfigError as err:
            results[key].error = f"invalid config: {err.path}: {err.message}"
            continue
        digest = hashlib.sha256(key.encode()).hexdigest()[:12]
        for scen in plan.scenarios:
            for seed in seeds:
                run_key = f"{digest}-{scen.name}-{seed}"
                items.append(RunItem(run_key, key, scen.name, seed, configs[scen.name], kpis))
    with closing(executor.imap_unordered(run_one, items, key=_item_key)) as done:
        for item, result in done:
            entry = results[item.candidate]
            entry.simulations += 1
            if on_run is not None:
                on_run()
            if isinstance(result, BaseException):
                text = str(result) if isinstance(result, SilkrouteError) else repr(result)
                entry.error = entry.error or f"run failed (seed {item.seed}): {text[:300]}"
                continue
            entry.runs.setdefault(item.scenario, {})[item.seed] = result
    for entry in results.values():
        if entry.error is not None:
            entry.runs = {}
    return results


# --------------------------------------------------------------------------- statistics


@dataclass
class Judged:
    """A candidate's statistics: objective per replication and its interval, each
    constraint's interval at each scenario and whether it is met."""

    capacity_cost: float
    seeds: list[int]
    objective_reps: list[list[float]]  # per objective, per seed
    objectives: list[tuple[float, float, float]]  # per objective: mean, low, high
    constraints: list[dict[str, Any]]
    kpis: dict[str, dict[str, tuple[float, float, float]]]  # scenario → kpi → mean, low, high

    @property
    def feasible(self) -> bool:
        return all(c["met"] for c in self.constraints)

    @property
    def violations(self) -> list[float]:
        """One value per constraint and scenario: ≤ 0 when met (Optuna's convention)."""
        return [float(c["violation"]) for c in self.constraints]


def _value(plan: OptimizePlan, runs: Runs, kpi: str, scenario: str | None, seed: int) -> float:
    """A KPI at one seed: at ``scenario``, or the scenarios' weighted mean."""
    if scenario is not None:
        return runs[scenario][seed].get(kpi, math.nan)
    total = sum(s.weight for s in plan.scenarios)
    return sum(s.weight * runs[s.name][seed].get(kpi, math.nan) for s in plan.scenarios) / total


def judge(plan: OptimizePlan, params: dict[str, Any], runs: Runs) -> Judged:
    """The statistics of a candidate from its runs (seeds common to every scenario)."""
    ci = float(plan.spec.ci)
    seeds = sorted(set.intersection(*(set(runs[s.name]) for s in plan.scenarios)))
    cap = plan.capacity_cost(params)
    reps: list[list[float]] = []
    stats: list[tuple[float, float, float]] = []
    for obj in plan.objectives:
        values = [
            (cap if obj.capacity_cost else 0.0)
            + sum(t.weight * _value(plan, runs, t.kpi, t.scenario, s) for t in obj.terms)
            for s in seeds
        ]
        reps.append(values)
        mean, low, high, _ = mean_ci(values, ci)
        stats.append((mean, low, high))
    kpis: dict[str, dict[str, tuple[float, float, float]]] = {}
    for scen in plan.scenarios:
        names = sorted({k for s in seeds for k in runs[scen.name][s]})
        kpis[scen.name] = {}
        for k in names:
            mean, low, high, _ = metric_ci(
                k, [runs[scen.name][s].get(k, math.nan) for s in seeds], ci
            )
            kpis[scen.name][k] = (mean, low, high)
    constraints = [
        _judge_constraint(c, scen, kpis[scen].get(c.kpi, (math.nan,) * 3))
        for c in plan.constraints
        for scen in c.scenarios
    ]
    return Judged(cap, seeds, reps, stats, constraints, kpis)


def _judge_constraint(
    c: KpiConstraint, scenario: str, interval: tuple[float, float, float]
) -> dict[str, Any]:
    mean, low, high = interval
    if c.kpi == SATURATED and math.isfinite(mean) and mean == 0:
        low = high = 0.0  # saturated in no replication
    bound = high if c.upper else low
    scale = max(abs(c.limit), 1.0)
    if math.isfinite(bound):
        violation = (bound - c.limit) / scale if c.upper else (c.limit - bound) / scale
    else:
        violation = 1.0  # no interval: not shown to be met
    return {
        "constraint": c.text,
        "scenario": scenario,
        "kpi": c.kpi,
        "limit": c.limit,
        "upper": c.upper,
        "mean": mean,
        "ci_low": low,
        "ci_high": high,
        "met": bool(violation <= 0),
        "violation": float(violation),
    }


def paired_objective_difference(
    a: Judged, b: Judged, objective: int, ci: float
) -> tuple[float, float, float, int]:
    """``b − a`` of one objective, paired over the seeds both ran (common random numbers):
    (mean, ci_low, ci_high, n) by :func:`silkroute_sim.analysis.stats.mean_ci`."""
    common = [s for s in a.seeds if s in set(b.seeds)]
    ia = {s: i for i, s in enumerate(a.seeds)}
    ib = {s: i for i, s in enumerate(b.seeds)}
    diffs = np.array(
        [b.objective_reps[objective][ib[s]] - a.objective_reps[objective][ia[s]] for s in common]
    )
    mean, low, high, n = mean_ci(diffs, ci)
    if n >= 2 and float(np.ptp(diffs)) == 0.0:
        low = high = mean  # the same difference at every seed (a capacity cost alone)
    return mean, low, high, n
