"""The tables of an optimisation folder: every trial, the final candidates, the comparisons."""

from __future__ import annotations

import math
from typing import Any

import pandas as pd

from silkroute_sim.analysis.kpis import label as kpi_label
from silkroute_sim.analysis.kpis import lookup
from silkroute_sim.experiments.optimize.evaluate import judge
from silkroute_sim.experiments.optimize.final import FinalResult, money
from silkroute_sim.experiments.optimize.plan import SATURATED, OptimizePlan
from silkroute_sim.experiments.optimize.study import ABANDONED, trial_runs


def objective_axis(objective: Any) -> tuple[str, str]:
    """An objective's label for people and its unit. Weights are USD a year per unit of
    their KPI, so an objective is in USD/yr, except one made of KPIs of one unit, each
    at weight 1, with no capacity cost: then it is in their unit (``co2_t_per_year``
    alone is "CO2e", in t/yr)."""
    terms = objective.terms
    units = {entry.unit if entry else "" for entry in (lookup(t.kpi) for t in terms)}
    plain = not objective.capacity_cost and terms and all(t.weight == 1 for t in terms)
    if plain and len(units) == 1:
        unit = units.pop()
        if len(terms) == 1 and lookup(terms[0].kpi) is not None:
            return kpi_label(terms[0].kpi), unit
        return objective.name.replace("_", " "), unit
    return objective.name.replace("_", " "), "USD/yr"


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


def _constraint_header(plan: OptimizePlan, c: dict[str, Any]) -> str:
    """``hub dwell (95th percentile) ≤ 48 h`` (at a scenario when there are several)."""
    where = f" at {c['scenario']}" if len(plan.scenarios) > 1 else ""
    if c["kpi"] == SATURATED:
        return f"no saturation{where} (share of reps saturated)"
    entry = lookup(c["kpi"])
    unit = f" {entry.unit}" if entry is not None and entry.unit not in ("", "fraction") else ""
    sign = "≤" if c["upper"] else "≥"
    return f"{kpi_label(c['kpi'])} {sign} {c['limit']:g}{unit}{where}"


def _constraint_text(c: dict[str, Any]) -> str:
    mark = "met" if c["met"] else "NOT met"
    if c["kpi"] == SATURATED:
        return f"{c['mean']:.0%}: {mark}"
    end = c["ci_high"] if c["upper"] else c["ci_low"]
    return f"{c['mean']:.3g} (to {end:.3g}): {mark}"


def _objective_header(obj: Any, level: str) -> str:
    name, unit = objective_axis(obj)
    return f"{name}, {unit} ({level} CI)" if unit else f"{name} ({level} CI)"


def report_table(plan: OptimizePlan, final: FinalResult) -> pd.DataFrame:
    """The report's candidates table, as text a planner reads: labels with units."""
    level = f"{float(plan.spec.ci):.0%}"
    rows = []
    for cand in final.candidates:
        row: dict[str, Any] = {"trial": cand.trial}  # best first: the rows are the ranks
        row.update({_words(v.path): str(cand.params.get(v.path)) for v in plan.variables})
        row["reps"] = len(cand.judged.seeds)
        for i, obj in enumerate(plan.objectives):
            mean, low, high = cand.judged.objectives[i]
            row[_objective_header(obj, level)] = f"{money(mean)} ({money(low)} to {money(high)})"
        for c in cand.judged.constraints:
            row[_constraint_header(plan, c)] = _constraint_text(c)
        row["meets every constraint"] = "yes" if cand.feasible else (cand.error or "no")
        rows.append(row)
    return pd.DataFrame(rows)


def _words(path: str) -> str:
    """A config path as a header that wraps: ``hub.cranes.count`` → ``hub cranes count``
    (the report's facts list the paths)."""
    return path.replace(".", " ").replace("_", " ")


def comparisons_report_table(plan: OptimizePlan, final: FinalResult) -> pd.DataFrame:
    """The report's comparisons: each runner-up against the winner, in words and units."""
    level = f"{float(plan.spec.ci):.0%}"
    axes = {o.name: objective_axis(o) for o in plan.objectives}
    rows = []
    for c in final.comparisons:
        name, unit = axes.get(c["objective"], (c["objective"], ""))
        rows.append(
            {
                "runner-up (trial)": c["trial"],
                "objective": f"{name} ({unit})" if unit else name,
                "difference, runner-up − winner": money(c["diff"]),
                f"{level} CI of the difference": f"{money(c['ci_low'])} to {money(c['ci_high'])}",
                "paired replications": c["n"],
                "significant": "yes" if c["significant"] else "no",
                "runner-up meets the constraints": "yes" if c["other_feasible"] else "no",
            }
        )
    return pd.DataFrame(rows)
