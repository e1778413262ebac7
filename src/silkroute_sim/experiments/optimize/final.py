"""The answer: the best candidates re-run with more replications and compared pairwise.

The ``final.top_k`` best feasible trials (a Pareto front's members where there are several
objectives) are run again on ``final.reps`` further seeds — the same seeds for every
candidate, so they stay on common random numbers — and judged on all their replications.
The winner is the best candidate that still meets every constraint; it is compared with
each other candidate by the paired difference of the objective, whose interval says
whether the ranking can be trusted.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field
from typing import Any

from silkroute_sim.experiments.executor import Executor
from silkroute_sim.experiments.optimize.evaluate import (
    Evaluated,
    Judged,
    evaluate,
    judge,
    paired_objective_difference,
    params_key,
)
from silkroute_sim.experiments.optimize.plan import SATURATED, OptimizePlan
from silkroute_sim.experiments.optimize.study import (
    load_runs,
    slot_of,
    store_runs,
    trial_runs,
)

#: the study's attribute keeping the final round's runs, so a finished study rerun
#: reuses them instead of simulating them again
FINAL_RUNS = "final_runs"


@dataclass
class Candidate:
    """One candidate of the final round: its trial, values and statistics."""

    trial: int
    params: dict[str, Any]
    judged: Judged
    error: str | None = None

    @property
    def feasible(self) -> bool:
        return self.error is None and self.judged.feasible


@dataclass
class FinalResult:
    """The final round: candidates ranked (feasible first), the winner, comparisons."""

    candidates: list[Candidate]
    best: Candidate | None
    comparisons: list[dict[str, Any]] = field(default_factory=list)
    confidence: str = ""
    simulations: int = 0
    seeds: list[int] = field(default_factory=list)
    #: candidates whose final runs came from the study (an earlier run of the same spec)
    reused: int = 0
    front: list[int] = field(default_factory=list)


def _sign(plan: OptimizePlan, i: int = 0) -> float:
    return 1.0 if plan.objectives[i].direction == "minimize" else -1.0


def _dominates(a: list[float], b: list[float], signs: list[float]) -> bool:
    pa = [s * x for s, x in zip(signs, a, strict=True)]
    pb = [s * x for s, x in zip(signs, b, strict=True)]
    return all(x <= y for x, y in zip(pa, pb, strict=True)) and pa != pb


def _shortlist(study: Any, plan: OptimizePlan) -> tuple[list[Any], list[int]]:
    """The feasible trials to re-run (one per candidate, best first) and, with several
    objectives, the trial numbers of the feasible Pareto front."""
    from optuna.trial import TrialState

    feasible = [
        t
        for t in study.get_trials(deepcopy=False, states=(TrialState.COMPLETE,))
        if t.user_attrs.get("feasible") and t.user_attrs.get("runs") is not None
    ]
    unique: dict[str, Any] = {}
    for t in sorted(feasible, key=lambda t: (_sign(plan) * t.values[0], slot_of(t))):
        unique.setdefault(params_key(t.params), t)
    ranked = list(unique.values())
    front: list[int] = []
    if plan.multi:
        signs = [_sign(plan, i) for i in range(len(plan.objectives))]
        ranked = [
            t for t in ranked if not any(_dominates(o.values, t.values, signs) for o in ranked)
        ]
        front = [slot_of(t) for t in ranked]
    return ranked[: plan.spec.final.top_k], front


def finalize(study: Any, plan: OptimizePlan, executor: Executor) -> FinalResult:
    """Re-run the shortlist on the final seeds, judge it on every replication, pick the
    winner and compare it with the others."""
    shortlist, front = _shortlist(study, plan)
    if not shortlist:
        return FinalResult([], None, confidence=_none_feasible(study, plan), front=front)
    first = plan.seed + plan.spec.reps
    seeds = [first + i for i in range(plan.spec.final.reps)]
    extra, reused = _final_runs(study, plan, [dict(t.params) for t in shortlist], seeds, executor)
    candidates: list[Candidate] = []
    for t in shortlist:
        runs = trial_runs(t) or {}
        more = extra.get(params_key(t.params))
        error = more.error if more is not None else None
        if more is not None and error is None:
            for scen, by_seed in more.runs.items():
                runs.setdefault(scen, {}).update(by_seed)
        candidates.append(Candidate(slot_of(t), dict(t.params), judge(plan, t.params, runs), error))
    candidates.sort(key=lambda c: (not c.feasible, _sign(plan) * c.judged.objectives[0][0]))
    best = candidates[0] if candidates[0].feasible else None
    simulations = sum(e.simulations for e in extra.values())
    result = FinalResult(candidates, best, simulations=simulations, seeds=seeds, front=front)
    result.reused = reused
    if best is not None:
        result.comparisons = _compare(plan, best, candidates)
    result.confidence = _statement(plan, result)
    return result


def _final_runs(
    study: Any,
    plan: OptimizePlan,
    shortlist: list[dict[str, Any]],
    seeds: list[int],
    executor: Executor,
) -> tuple[dict[str, Evaluated], int]:
    """The final round's runs of each shortlisted candidate: those an earlier run of this
    study stored (same candidate, same seeds: the same numbers, since the spec's
    fingerprint is checked) are reused; the others are simulated and stored. Returns the
    runs by :func:`params_key` and how many candidates were reused."""
    if not seeds:
        return {}, 0
    stored: dict[str, Any] = dict(study.user_attrs.get(FINAL_RUNS) or {})
    done: dict[str, Evaluated] = {}
    for params in shortlist:
        entry = stored.get(params_key(params))
        if entry is not None and entry.get("seeds") == seeds:
            done[params_key(params)] = Evaluated(load_runs(entry["runs"]))
    todo = [p for p in shortlist if params_key(p) not in done]
    fresh = evaluate(plan, todo, seeds, executor) if todo else {}
    for key, more in fresh.items():
        if more.error is None:  # an error may be passing (a lost worker): tried again
            stored[key] = {"seeds": seeds, "runs": store_runs(more.runs)}
    if any(more.error is None for more in fresh.values()):
        study.set_user_attr(FINAL_RUNS, stored)
    return {**done, **fresh}, len(done)


def _compare(
    plan: OptimizePlan, best: Candidate, candidates: list[Candidate]
) -> list[dict[str, Any]]:
    """The winner against each other candidate: ``other − winner`` of each objective,
    paired over the seeds they share, with its interval and whether it excludes 0."""
    ci = float(plan.spec.ci)
    rows = []
    for other in candidates:
        if other is best or other.error is not None:
            continue
        for i, obj in enumerate(plan.objectives):
            diff, low, high, n = paired_objective_difference(best.judged, other.judged, i, ci)
            rows.append(
                {
                    "trial": other.trial,
                    "objective": obj.name,
                    "diff": diff,
                    "ci_low": low,
                    "ci_high": high,
                    "n": n,
                    "significant": bool(
                        math.isfinite(low) and math.isfinite(high) and (low > 0 or high < 0)
                    ),
                    "other_feasible": other.feasible,
                }
            )
    return rows


def money(x: float) -> str:
    """A yearly amount in words a planner reads: 5.2 M USD."""
    if not math.isfinite(x):
        return "—"
    if abs(x) >= 1e6:
        return f"{x / 1e6:,.2f} M"
    if abs(x) >= 1e3:
        return f"{x / 1e3:,.1f} k"
    return f"{x:,.3g}"


def describe(params: dict[str, Any]) -> str:
    return ", ".join(f"{k} = {v}" for k, v in params.items())


def _statement(plan: OptimizePlan, result: FinalResult) -> str:
    best = result.best
    level = f"{float(plan.spec.ci):.0%}"
    if best is None:
        return (
            "None of the best candidates still met every constraint once re-run with more "
            "replications: no answer can be given with confidence; add trials or widen "
            "the variables' bounds."
        )
    if plan.multi:
        parts_front = (
            f"The feasible Pareto front has {len(result.front)} trade-offs between "
            f"{', '.join(o.name for o in plan.objectives)} (candidates.csv, plots/pareto.png); "
            f"the one best on {plan.objectives[0].name} is shown."
        )
    obj = plan.objectives[0]
    mean, low, high = best.judged.objectives[0]
    n = len(best.judged.seeds)
    parts = [
        f"Best: {describe(best.params)}; {obj.name} {money(mean)} "
        f"({level} CI {money(low)} to {money(high)}) over {n} replications."
    ]
    if plan.constraints:
        shown = [c for c in best.judged.constraints if c["kpi"] != SATURATED]
        worst = max(shown or best.judged.constraints, key=lambda c: c["violation"])
        side = "ci_high" if worst["upper"] else "ci_low"
        parts.append(
            f"It meets every constraint at every scenario with its {level} confidence "
            f"interval inside the limit (closest: {worst['constraint']} at {worst['scenario']}: "
            f"mean {worst['mean']:.4g}, interval end {worst[side]:.4g})."
        )
    if plan.multi:
        parts.append(parts_front)
    first = [c for c in result.comparisons if c["objective"] == obj.name]
    if not first:
        parts.append("No other candidate was left to compare it with.")
        return " ".join(parts)
    runner = first[0]
    worse = "more" if obj.direction == "minimize" else "less"
    if runner["significant"]:
        parts.append(
            f"The runner-up (trial {runner['trial']}) has {money(abs(runner['diff']))} {worse} "
            f"{obj.name} ({level} CI of the paired difference {money(runner['ci_low'])} to "
            f"{money(runner['ci_high'])}): the ranking holds at {level} confidence."
        )
    else:
        parts.append(
            f"The runner-up (trial {runner['trial']}) differs by {money(runner['diff'])} "
            f"({level} CI {money(runner['ci_low'])} to {money(runner['ci_high'])}), which is "
            f"not significant at {level}: treat the two as equally good."
        )
    return " ".join(parts)


def _none_feasible(study: Any, plan: OptimizePlan) -> str:
    finished = [t for t in study.get_trials(deepcopy=False) if t.state.is_finished()]
    done = len(finished)
    failed = [t for t in finished if t.state.name == "FAIL"]
    if failed and len(failed) == done:  # none was judged: say why, not "no constraint met"
        errors: dict[str, int] = {}
        for t in failed:
            error = str(t.user_attrs.get("error") or "the run failed")
            errors[error] = errors.get(error, 0) + 1
        why = "; ".join(f"{e} ({n} trials)" if n > 1 else e for e, n in errors.items())
        return (
            f"All {done} trials failed, so none could be judged: {why}. Fix that and run "
            "again (trials.csv lists each trial's error)."
        )
    return (
        f"No trial of {done} met every constraint with confidence (each KPI's "
        f"{float(plan.spec.ci):.0%} interval inside its limit): add trials, replications, "
        "or widen the variables' bounds."
    )
