"""Running an optimisation into its folder: the study, the final round and the files.

:func:`optimize` is the API behind ``silkroute optimize``. The folder is written in place
through the output guard, like a sweep's: ``study.db`` (Optuna's SQLite storage) is updated
as trials finish, so the same command resumes an interrupted optimisation and ends with
the same answer as an uninterrupted one; the tables, ``best.yaml``, the plots, the report
and the manifest are rebuilt at the end, and the completion marker is written last.
"""

from __future__ import annotations

import os
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pandas as pd

from silkroute_sim.experiments.executor import make_executor
from silkroute_sim.experiments.optimize.final import FinalResult, describe, finalize
from silkroute_sim.experiments.optimize.plan import OptimizePlan, plan_optimization
from silkroute_sim.experiments.optimize.study import (
    OptimizeError,
    ProgressFn,
    check_study,
    close_study,
    open_study,
    require_optuna,
    run_trials,
)
from silkroute_sim.experiments.optimize.tables import (
    candidates_frame,
    comparisons_frame,
    comparisons_report_table,
    objective_axis,
    report_table,
    trials_frame,
)
from silkroute_sim.outputs.inplace import claim, folder_lock, write_ledger
from silkroute_sim.outputs.optimize_folder import (
    STUDY_FILE,
    STUDY_FILES,
    answer_html,
    comparisons_html,
    drop_stale,
    replace_plots,
    write_config,
    write_manifest,
    write_optimize_report,
    write_table,
)
from silkroute_sim.outputs.storage import (
    MARKER,
    base_manifest,
    check_output_target,
    clean_leftovers,
    mark_complete,
    owned_files,
)

LOCK_FILE = ".optimize.lock"
#: what every optimisation writes at its top besides the study
RESULT_FILES = ("trials.csv", "candidates.csv", "comparisons.csv", "report.html", "manifest.json")
KIND = "optimize"


@dataclass
class OptimizeOutcome:
    """What :func:`optimize` did: the answer, the tables and the files written."""

    out: Path
    plan: OptimizePlan
    final: FinalResult
    trials: pd.DataFrame
    simulations: int
    wall_s: float
    executor: str
    best_files: list[Path] = field(default_factory=list)
    plots: list[Path] = field(default_factory=list)
    report: Path | None = None

    @property
    def best_params(self) -> dict[str, Any] | None:
        return None if self.final.best is None else self.final.best.params


def optimize(
    spec: str | os.PathLike[str] | OptimizePlan,
    out: str | os.PathLike[str] | None = None,
    *,
    workers: int | None = None,
    scheduler: str | None = None,
    trials: int | None = None,
    plots: bool = True,
    progress: ProgressFn | None = None,
    connect_timeout_s: float = 10.0,
) -> OptimizeOutcome:
    """Run (or resume) the optimisation ``spec`` into ``out`` (default
    ``results/<name>``) on ``workers`` local processes or the Dask cluster at
    ``scheduler``; ``trials`` replaces the spec's budget. Returns the answer."""
    started = time.perf_counter()
    require_optuna()  # before the folder is touched
    plan = spec if isinstance(spec, OptimizePlan) else plan_optimization(spec, trials=trials)
    if trials is not None:
        plan.trials = trials
    given = Path(out) if out is not None else Path("results") / plan.name
    resolved = check_output_target(given, kind=KIND)
    target = resolved if ".." in given.parts else given
    executor = make_executor(workers=workers, scheduler=scheduler, timeout_s=connect_timeout_s)
    try:
        target.mkdir(parents=True, exist_ok=True)
        with folder_lock(target, LOCK_FILE, "optimisation", OptimizeError):
            if STUDY_FILE in owned_files(target):
                check_study(target / STUDY_FILE, plan)
            write_ledger(target, owned_files(target) | {LOCK_FILE}, kind=KIND)
            (target / MARKER).unlink(missing_ok=True)
            clean_leftovers(target)
            claim(target, *STUDY_FILES, *RESULT_FILES)  # refused now, not after the work
            write_manifest(target, _manifest(plan, status="running"))
            study = open_study(target / STUDY_FILE, plan)
            try:
                simulations = run_trials(study, plan, executor, progress)
                final = finalize(study, plan, executor)
                simulations += final.simulations
                outcome = _finish(plan, study, final, target, executor.description, plots)
            finally:
                close_study(study)
    finally:
        executor.close()
    outcome.simulations = simulations
    outcome.wall_s = time.perf_counter() - started
    return outcome


def _manifest(plan: OptimizePlan, **extra: Any) -> dict[str, Any]:
    data = base_manifest()
    data.update(
        {
            "kind": KIND,
            "name": plan.name,
            "spec_file": str(plan.file),
            "scenarios": {s.name: str(s.base_path) for s in plan.scenarios},
            "variables": [v.path for v in plan.variables],
            "objectives": [o.name for o in plan.objectives],
            "constraints": [c.text for c in plan.constraints],
            "reps": plan.spec.reps,
            "final_reps": plan.spec.final.reps,
            "seed": plan.seed,
            "ci": float(plan.spec.ci),
            "trials": plan.trials,
            "batch": plan.spec.batch,
            "fingerprint": plan.fingerprint(),
            "study": (
                f"{STUDY_FILE}: the Optuna study (SQLite), updated in place as trials finish "
                "so that the same command resumes; every other file is rebuilt at the end"
            ),
            "spec": plan.raw,
        }
    )
    data.update(extra)
    return data


def _best_configs(plan: OptimizePlan, final: FinalResult) -> list[tuple[str, dict[str, Any], str]]:
    """``best.yaml`` (the first scenario) and ``best-<scenario>.yaml`` for the others."""
    best = final.best
    if best is None:
        return []
    out = []
    for i, scen in enumerate(plan.scenarios):
        cfg: dict[str, Any] = plan.config(scen, best.params).resolved()
        cfg["name"] = f"{plan.name}-best" + ("" if i == 0 else f"-{scen.name}")
        cfg["simulation"]["seed"] = plan.seed  # `run --reps N` repeats the optimiser's seeds
        cfg["description"] = _best_description(plan, final, scen.name)
        name = "best.yaml" if i == 0 else f"best-{scen.name}.yaml"
        header = (
            f"The best configuration found by `silkroute optimize {plan.file}` "
            f"(trial {best.trial}), at the {scen.name} scenario.\n"
            f"Variables: {describe(best.params)}\n"
            f"{final.confidence}\n"
            "The full resolved config: it validates on its own. Its seed is the optimiser's: "
            f"`silkroute run {name} --reps {plan.spec.reps + plan.spec.final.reps}` repeats "
            "the replications that judged it (common random numbers); more reps add new seeds."
        )
        out.append((name, cfg, header))
    return out


def _best_description(plan: OptimizePlan, final: FinalResult, scenario: str) -> str:
    """What best.yaml is: the optimiser's answer for the spec (not the base's text)."""
    best = final.best
    assert best is not None
    fixed = ", ".join(f"{k} = {v}" for k, v in plan.spec.fixed.items())
    level = f"{float(plan.spec.ci):.0%}"
    constraints = "; ".join(c.text for c in plan.constraints)
    met = (
        f" It met every constraint ({constraints}) at every scenario with its {level} "
        f"confidence interval inside the limit, over {len(best.judged.seeds)} replications."
        if constraints
        else ""
    )
    return (
        f"The answer of silkroute optimize {plan.file.name} ({plan.name}) at the {scenario} "
        f"scenario: {describe(best.params)} (trial {best.trial})"
        + (f", with {fixed}." if fixed else ".")
        + met
    )


def _report_meta(plan: OptimizePlan, trials: pd.DataFrame) -> dict[str, Any]:
    """The report's small table: what was optimised, how, on what."""
    counts = trials["state"].value_counts().to_dict() if len(trials) else {}
    meta = {
        "optimisation": plan.name,
        "spec file": str(plan.file),
        "scenarios": ", ".join(s.name for s in plan.scenarios),
        "decision variables": ", ".join(v.path for v in plan.variables),
        "constraints": "; ".join(c.text for c in plan.constraints) or "none",
        "trials": f"{len(trials)} ({', '.join(f'{v} {k}' for k, v in sorted(counts.items()))})",
        "replications": f"{plan.spec.reps} per trial (seeds {plan.seed} to "
        f"{plan.seed + plan.spec.reps - 1}), {plan.spec.final.reps} more for the final round",
    }  # not what it ran on: the page is the same run serially or in parallel
    return {k: v for k, v in meta.items() if v}  # no empty row


def _finish(
    plan: OptimizePlan, study: Any, final: FinalResult, target: Path, executor: str, plots: bool
) -> OptimizeOutcome:
    trials = trials_frame(study, plan)
    write_table(target, "trials.csv", trials)
    candidates = candidates_frame(plan, final)
    write_table(target, "candidates.csv", candidates)
    comparisons = comparisons_frame(plan, final)
    write_table(target, "comparisons.csv", comparisons)
    configs = _best_configs(plan, final)
    drop_stale(target, [name for name, _, _ in configs])
    best_files = [write_config(target, name, cfg, header) for name, cfg, header in configs]
    names = [o.name for o in plan.objectives]
    directions = [o.direction for o in plan.objectives]
    axes = [objective_axis(o) for o in plan.objectives]
    figures = replace_plots(target, trials, names, directions, final.front, axes) if plots else []
    meta = _report_meta(plan, trials)
    notes = [
        "Capacity costs are annualised capex (capital recovery over the life at the rate) "
        "plus opex; see the spec for each figure and its source.",
        "KPIs are measured after the warm-up over the horizon of best.yaml "
        f"({plan.config(plan.scenarios[0], final.best.params).simulation.days:g} simulated days)."
        if final.best is not None
        else "No configuration met the constraints: no best.yaml.",
    ]
    report = write_optimize_report(
        target,
        f"Optimisation: {plan.name}",
        # the question (the spec's description, when it has one), then the answer
        " ".join([*plan.spec.description.split(), *final.confidence.split()]),
        report_table(plan, final),
        answer_html(
            "",
            configs[0][0] if configs else None,
            notes,
            plan.spec.reps + plan.spec.final.reps,
        )
        + comparisons_html(comparisons_report_table(plan, final), f"{float(plan.spec.ci):.0%}"),
        figures,
        meta,
    )
    manifest = _manifest(
        plan,
        status="complete",  # not what it ran on: the same folder serially or in parallel
        trials_in_study=len(trials),
        best=None
        if final.best is None
        else {"trial": final.best.trial, "params": final.best.params},
        confidence=final.confidence,
        final_seeds=final.seeds,
    )
    write_manifest(target, manifest)
    mark_complete(target, {"kind": KIND, "trials": len(trials)}, owned_files(target))
    return OptimizeOutcome(
        out=target,
        plan=plan,
        final=final,
        trials=trials,
        simulations=0,
        wall_s=0.0,
        executor=executor,
        best_files=best_files,
        plots=figures,
        report=report,
    )
