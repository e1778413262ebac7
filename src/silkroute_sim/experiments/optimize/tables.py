"""The tables of an optimisation folder: every trial, the final candidates, the comparisons."""

from __future__ import annotations

import math
from typing import Any

import pandas as pd

from silkroute_sim.experiments.optimize.evaluate import judge
from silkroute_sim.experiments.optimize.final import FinalResult, money
from silkroute_sim.experiments.optimize.plan import SATURATED, OptimizePlan
from silkroute_sim.experiments.optimize.study import ABANDONED, trial_runs


def _state(trial: Any) -> str:
    return str(trial.state.name).lower()


def trials_frame(study: Any, plan: OptimizePlan) -> pd.DataFrame:
    """One row per trial (abandoned ones left out): its values, how it was evaluated,
    capacity cost, each objective's mean and interval, feasibility and each constraint's
    mean and interval end at each scenario."""
    rows: list[dict[str, Any]] = []
    kept = [t for t in study.get_trials(deepcopy=False) if not t.user_attrs.get(ABANDONED)]
    for slot, t in enumerate(kept):
        row: dict[str, Any] = {"trial": slot, "state": _state(t)}
        row["evaluated"] = t.user_attrs.get("evaluated", "")
        for var in plan.variables:
            row[var.path] = t.params.get(var.path)
        row["capacity_cost_usd_per_year"] = (
            plan.capacity_cost(t.params) if len(t.params) == len(plan.variables) else math.nan
        )
        runs = trial_runs(t)
        judged = judge(plan, t.params, runs) if runs else None
        for i, obj in enumerate(plan.objectives):
            mean, low, high = judged.objectives[i] if judged else (math.nan,) * 3
            row.update(
                {f"{obj.name}_mean": mean, f"{obj.name}_ci_low": low, f"{obj.name}_ci_high": high}
            )
        row["feasible"] = bool(judged.feasible) if judged else False
        for c in judged.constraints if judged else []:
            name = f"{c['kpi']}@{c['scenario']}"
            row[f"{name}_mean"] = c["mean"]
            row[f"{name}_{'ci_high' if c['upper'] else 'ci_low'}"] = c[
                "ci_high" if c["upper"] else "ci_low"
            ]
            row[f"{name}_met"] = c["met"]
        row["error"] = t.user_attrs.get("error", "")
        rows.append(row)
    return pd.DataFrame(rows)


def candidates_frame(plan: OptimizePlan, final: FinalResult) -> pd.DataFrame:
    """One row per final candidate, best first: values, replications, objectives with
    their intervals, and whether it meets every constraint."""
    rows = []
    for rank, cand in enumerate(final.candidates, start=1):
        row: dict[str, Any] = {"rank": rank, "trial": cand.trial}
        row.update({v.path: cand.params.get(v.path) for v in plan.variables})
        row["replications"] = len(cand.judged.seeds)
        row["capacity_cost_usd_per_year"] = cand.judged.capacity_cost
        for i, obj in enumerate(plan.objectives):
            mean, low, high = cand.judged.objectives[i]
            row.update(
                {f"{obj.name}_mean": mean, f"{obj.name}_ci_low": low, f"{obj.name}_ci_high": high}
            )
        row["feasible"] = cand.feasible
        for c in cand.judged.constraints:
            name = f"{c['kpi']}@{c['scenario']}"
            row[f"{name}_mean"] = c["mean"]
            row[f"{name}_{'ci_high' if c['upper'] else 'ci_low'}"] = c[
                "ci_high" if c["upper"] else "ci_low"
            ]
        row["error"] = cand.error or ""
        rows.append(row)
    return pd.DataFrame(rows)


def comparisons_frame(plan: OptimizePlan, final: FinalResult) -> pd.DataFrame:
    columns = [
        "trial",
        "objective",
        "diff",
        "ci_low",
        "ci_high",
        "n",
        "significant",
        "other_feasible",
    ]
    return pd.DataFrame(final.comparisons, columns=columns)


def report_table(plan: OptimizePlan, final: FinalResult) -> pd.DataFrame:
    """The report's candidates table, as text a planner reads."""
    level = f"{float(plan.spec.ci):.0%}"
    rows = []
    for rank, cand in enumerate(final.candidates, start=1):
        row: dict[str, Any] = {"rank": rank, "trial": cand.trial}
        row.update({v.path: str(cand.params.get(v.path)) for v in plan.variables})
        row["reps"] = len(cand.judged.seeds)
        for i, obj in enumerate(plan.objectives):
            mean, low, high = cand.judged.objectives[i]
            unit = " USD/yr" if obj.capacity_cost else ""
            row[f"{obj.name} ({level} CI)"] = f"{money(mean)}{unit} ({money(low)} to {money(high)})"
        for c in cand.judged.constraints:
            end = c["ci_high"] if c["upper"] else c["ci_low"]
            mark = "met" if c["met"] else "NOT met"
            text = f"{c['mean']:.4g} (to {end:.4g}) {mark}"
            if c["kpi"] == SATURATED:
                text = f"saturated in {c['mean']:.0%} of the replications: {mark}"
            row[f"{c['constraint']} @ {c['scenario']}"] = text
        row["verdict"] = (
            "meets every constraint" if cand.feasible else (cand.error or "fails a constraint")
        )
        rows.append(row)
    return pd.DataFrame(rows)
