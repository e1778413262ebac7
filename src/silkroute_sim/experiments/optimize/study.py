"""The Optuna study: stored in SQLite, asked and told in fixed batches, resumable.

Determinism is built in three ways. Trials are asked in batches of the spec's ``batch``
(never the number of workers), every trial of a batch before any is told, so what the
sampler sees when it proposes a trial depends only on the batches before. The sampler of
each trial is made afresh, seeded by the spec's seed and the trial's slot (its place in
the sequence), so a process that starts in the middle of a study proposes what an
uninterrupted one would have. And a trial left running by a killed process is run again
with the parameters it was given (one whose parameters were not all written is marked
abandoned and its slot asked again).

A candidate already simulated is not simulated again (its runs are in the study), and,
where the objective allows it (:func:`~.plan.prunable`), a candidate whose capacity cost
alone is at least the best feasible trial's objective (its upper confidence bound) is
skipped: it cannot be better.
"""

from __future__ import annotations

import importlib.util
import math
import warnings
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np

from silkroute_sim.config.errors import SilkrouteError
from silkroute_sim.experiments.executor import Executor
from silkroute_sim.experiments.optimize.evaluate import Judged, Runs, evaluate, judge, params_key
from silkroute_sim.experiments.optimize.plan import OptimizePlan, prunable

STUDY_NAME = "silkroute-optimize"
ABANDONED = "abandoned"


class OptimizeError(SilkrouteError):
    """An optimisation cannot proceed (another spec's study in the folder, …)."""


NEEDS_OPTUNA = "silkroute optimize needs optuna: pip install 'silkroute-sim[optimize]'"


def require_optuna() -> None:
    """Raise :class:`OptimizeError` (one line) when optuna, an optional extra, is not
    installed: checked before anything is written or simulated."""
    if importlib.util.find_spec("optuna") is None:
        raise OptimizeError(NEEDS_OPTUNA)


@dataclass(frozen=True)
class Progress:
    """After each run and each batch: trials told of the budget, simulations so far."""

    trials_done: int
    trials: int
    simulations: int
    best: float | None = None
    phase: str = "trials"


ProgressFn = Callable[[Progress], None]


def _mismatch(path: Path) -> OptimizeError:
    return OptimizeError(
        f"{path}: holds the study of another spec or other settings (variables, "
        "scenarios, objectives, constraints, reps, seed, batch or sampler); choose "
        "another --out, or remove the folder to start again"
    )


def check_study(path: Path, plan: OptimizePlan) -> None:
    """Refuse, before the folder is touched, a study of another spec at ``path`` (read
    with sqlite3 alone: nothing is created or migrated)."""
    import json
    import sqlite3

    if not path.is_file():
        return
    try:
        with sqlite3.connect(f"file:{path}?mode=ro", uri=True, timeout=30) as con:
            rows = con.execute(
                "SELECT value_json FROM study_user_attributes WHERE key = 'fingerprint'"
            ).fetchall()
    except sqlite3.Error:
        return  # not a study yet (killed while it was created): Optuna makes it
    if rows and json.loads(rows[0][0]) != plan.fingerprint():
        raise _mismatch(path)


def open_study(path: Path, plan: OptimizePlan) -> Any:
    """Create or load the study in the SQLite file ``path`` (refused when it holds the
    study of another spec or other settings)."""
    import optuna

    optuna.logging.set_verbosity(optuna.logging.WARNING)
    storage = optuna.storages.RDBStorage(
        f"sqlite:///{path}", engine_kwargs={"connect_args": {"timeout": 60}}
    )
    study = optuna.create_study(
        storage=storage,
        study_name=STUDY_NAME,
        directions=[o.direction for o in plan.objectives],
        load_if_exists=True,
        sampler=make_sampler(plan, 0),
    )
    stored = study.user_attrs.get("fingerprint")
    if stored is None:
        study.set_user_attr("fingerprint", plan.fingerprint())
    elif stored != plan.fingerprint():
        raise _mismatch(path)
    return study


def close_study(study: Any) -> None:
    """Close the study's database connections (the SQLite file stays)."""
    storage = getattr(study._storage, "_backend", study._storage)
    engine = getattr(storage, "engine", None)
    if engine is not None:
        engine.dispose()


def distributions(plan: OptimizePlan) -> dict[str, Any]:
    """Each variable as an Optuna distribution."""
    from optuna.distributions import (
        CategoricalDistribution,
        FloatDistribution,
        IntDistribution,
    )

    out: dict[str, Any] = {}
    for var in plan.variables:
        spec = var.spec
        if var.labels:
            out[var.path] = CategoricalDistribution(list(var.labels))
        elif var.kind == "int":
            step = int(spec.step) if spec.step is not None else 1
            out[var.path] = IntDistribution(int(spec.low), int(spec.high), log=spec.log, step=step)  # type: ignore[arg-type]
        else:
            out[var.path] = FloatDistribution(
                float(spec.low),  # type: ignore[arg-type]
                float(spec.high),  # type: ignore[arg-type]
                log=spec.log,
                step=None if spec.step is None else float(spec.step),
            )
    return out


def _slot_seed(seed: int, slot: int) -> int:
    return int(np.random.SeedSequence([seed % 2**63, slot]).generate_state(1)[0])


def _violations(trial: Any) -> list[float]:
    values = trial.user_attrs.get("violations")
    count = int(trial.user_attrs.get("n_constraints", 1))
    return [float(v) for v in values] if values is not None else [1.0] * count


def make_sampler(plan: OptimizePlan, slot: int) -> Any:
    """The sampler for the trial in ``slot``: TPE (one objective), NSGA-II (several) or
    random, seeded by the spec's seed and the slot; constraints through Optuna's
    ``constraints_func`` (a value ≤ 0 per constraint and scenario when it is met)."""
    import optuna

    spec = plan.spec.sampler
    kind = spec.kind if spec.kind != "auto" else ("nsga2" if plan.multi else "tpe")
    seed = _slot_seed(plan.seed, slot)
    cons = _violations if plan.constraints else None
    if kind == "random":
        return optuna.samplers.RandomSampler(seed=seed)
    # Optuna marks multivariate TPE experimental and, from 5.0, constraints_func
    # deprecated in favour of Trial.set_constraint, which ask-and-tell with trials run
    # elsewhere cannot call before the sampler needs the values: both warnings silenced
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        if kind == "nsga2":
            population = spec.population or max(4, plan.spec.batch)
            return optuna.samplers.NSGAIISampler(
                population_size=population, seed=seed, constraints_func=cons
            )
        startup = spec.startup_trials or max(plan.spec.batch, min(10, plan.trials // 4))
        return optuna.samplers.TPESampler(
            n_startup_trials=startup,
            multivariate=True,
            seed=seed,
            constraints_func=cons,
            constant_liar=True,
            warn_independent_sampling=False,
        )


def _slots(study: Any) -> list[Any]:
    """The trials that hold a slot (all but the abandoned), in order."""
    return [t for t in study.get_trials(deepcopy=False) if not t.user_attrs.get(ABANDONED)]


def _abandon_partial(study: Any, dists: dict[str, Any]) -> None:
    """A trial left running without all its parameters: marked abandoned, failed."""
    from optuna.trial import TrialState

    for t in study.get_trials(deepcopy=False, states=(TrialState.RUNNING,)):
        if set(t.params) != set(dists):
            study._storage.set_trial_user_attr(t._trial_id, ABANDONED, True)
            study.tell(t.number, state=TrialState.FAIL, skip_if_finished=True)


def run_trials(
    study: Any,
    plan: OptimizePlan,
    executor: Executor,
    progress: ProgressFn | None = None,
) -> int:
    """Ask, run and tell batches until the study holds ``plan.trials`` finished slots.
    Returns the simulations run by this call."""
    from optuna.trial import TrialState

    dists = distributions(plan)
    _abandon_partial(study, dists)
    size = plan.spec.batch
    simulations = 0
    while True:
        slots = _slots(study)
        first_open = next((i for i, t in enumerate(slots) if t.state == TrialState.RUNNING), None)
        start = (first_open if first_open is not None else len(slots)) // size * size
        if first_open is None and len(slots) >= plan.trials:
            return simulations
        end = max(min(start + size, plan.trials), min(len(slots), start + size))
        for slot in range(len(slots), end):
            study.sampler = make_sampler(plan, slot)
            study.ask(dists)
        batch = _slots(study)[start:end]
        before = [t for t in _slots(study)[:start] if t.state.is_finished()]
        simulations += _run_batch(
            study, plan, executor, batch, before, start, progress, simulations
        )
        if progress is not None:
            done = sum(t.state.is_finished() for t in _slots(study))
            progress(Progress(done, plan.trials, simulations, _best_value(study, plan)))


def _run_batch(
    study: Any,
    plan: OptimizePlan,
    executor: Executor,
    batch: list[Any],
    before: list[Any],
    start: int,
    progress: ProgressFn | None,
    simulations_before: int,
) -> int:
    """Evaluate the unfinished trials of a batch and tell them, in trial order."""
    open_trials = [t for t in batch if not t.state.is_finished()]
    cache = {
        params_key(t.params): t.user_attrs["runs"]
        for t in before
        if "runs" in t.user_attrs and t.user_attrs.get("error") is None
    }
    bound = _incumbent_bound(before, plan) if prunable(plan) else math.inf
    failed = _failed_points(before, plan)
    plans: dict[int, str] = {}
    todo: list[dict[str, Any]] = []
    for t in open_trials:
        key = params_key(t.params)
        below = next((n for n, p in failed if _no_more(plan, t.params, p)), None)
        if key in cache:
            plans[t.number] = "duplicate"
        elif plan.capacity_cost(t.params) >= bound:
            plans[t.number] = "skipped"
        elif below is not None:
            plans[t.number] = f"assumed infeasible: no more capacity than trial {below}"
        else:
            plans[t.number] = "simulated"
            todo.append(dict(t.params))
    count = [0]

    def on_run() -> None:
        count[0] += 1
        if progress is not None:
            done = sum(x.state.is_finished() for x in before)
            progress(Progress(done, plan.trials, simulations_before + count[0], None, "runs"))

    fresh = evaluate(plan, todo, plan.seeds, executor, on_run)
    for t in open_trials:
        slot = start + batch.index(t)
        _tell(study, plan, t, plans[t.number], cache, fresh, bound, slot)
    return count[0]


def _failed_points(before: list[Any], plan: OptimizePlan) -> list[tuple[int, dict[str, Any]]]:
    """Trials that failed a constraint, where some variables are ``monotone``."""
    from optuna.trial import TrialState

    if not any(v.spec.monotone for v in plan.variables):
        return []
    return [
        (slot_of(t), t.params)
        for t in before
        if t.state == TrialState.COMPLETE and not t.user_attrs.get("feasible", True)
    ]


def _no_more(plan: OptimizePlan, params: dict[str, Any], failed: dict[str, Any]) -> bool:
    """``params`` has no more of each monotone variable than ``failed`` and the same value
    of every other one: it would fail the same constraint (more capacity never helps less)."""
    for var in plan.variables:
        mine, theirs = params[var.path], failed[var.path]
        if var.spec.monotone:
            if mine > theirs:
                return False
        elif mine != theirs:
            return False
    return True


def _incumbent_bound(before: list[Any], plan: OptimizePlan) -> float:
    """The upper confidence bound of the best feasible trial's objective (inf if none)."""
    from optuna.trial import TrialState

    highs = [
        float(t.user_attrs["objective_ci_high"][0])
        for t in before
        if t.state == TrialState.COMPLETE and t.user_attrs.get("feasible")
    ]
    highs = [h for h in highs if math.isfinite(h)]
    return min(highs) if highs else math.inf


def _tell(
    study: Any,
    plan: OptimizePlan,
    trial: Any,
    how: str,
    cache: dict[str, Any],
    fresh: dict[str, Any],
    bound: float,
    slot: int,
) -> None:
    from optuna.trial import TrialState

    storage, tid = study._storage, trial._trial_id
    key = params_key(trial.params)
    n_cons = sum(len(c.scenarios) for c in plan.constraints)
    storage.set_trial_user_attr(tid, "n_constraints", max(n_cons, 1))
    storage.set_trial_user_attr(tid, "slot", slot)
    storage.set_trial_user_attr(tid, "capacity_cost", plan.capacity_cost(trial.params))
    study.sampler = make_sampler(plan, slot)
    if how == "skipped" or how.startswith("assumed"):
        text = (
            f"skipped: capacity cost alone reaches the best feasible objective ({bound:,.0f})"
            if how == "skipped"
            else f"skipped: {how}"
        )
        storage.set_trial_user_attr(tid, "evaluated", text)
        study.tell(trial.number, state=TrialState.PRUNED)
        return
    entry = fresh.get(key)
    if how == "simulated" and entry is not None and entry.error is not None:
        storage.set_trial_user_attr(tid, "evaluated", "failed")
        storage.set_trial_user_attr(tid, "error", entry.error)
        study.tell(trial.number, state=TrialState.FAIL)
        return
    raw_runs = cache[key] if how == "duplicate" else store_runs(entry.runs)  # type: ignore[union-attr]
    judged = judge(plan, trial.params, load_runs(raw_runs))
    _store_judged(storage, tid, judged, raw_runs, how)
    values = [m for m, _, _ in judged.objectives]
    empty = [o.name for o, v in zip(plan.objectives, values, strict=True) if not math.isfinite(v)]
    if empty:
        storage.set_trial_user_attr(
            tid,
            "error",
            f"the objective {', '.join(empty)} has no value (nothing to measure in the "
            "observation window: lengthen simulation.days)",
        )
        study.tell(trial.number, state=TrialState.FAIL)
        return
    study.tell(trial.number, values)


def store_runs(runs: Runs) -> dict[str, dict[str, dict[str, float | None]]]:
    """Runs as JSON (seeds as text; NaN as None)."""
    return {
        scen: {
            str(seed): {k: (v if math.isfinite(v) else None) for k, v in kpis.items()}
            for seed, kpis in by_seed.items()
        }
        for scen, by_seed in runs.items()
    }


def load_runs(raw: dict[str, Any]) -> Runs:
    """Runs as the study stored them, back as numbers (None as NaN)."""
    return {
        scen: {
            int(seed): {k: (math.nan if v is None else float(v)) for k, v in kpis.items()}
            for seed, kpis in by_seed.items()
        }
        for scen, by_seed in raw.items()
    }


def slot_of(trial: Any) -> int:
    """A trial's place in the sequence (its number less the abandoned trials before it):
    what trials.csv and the report call its number, the same in a resumed study."""
    return int(trial.user_attrs.get("slot", trial.number))


def trial_runs(trial: Any) -> Runs | None:
    """A finished trial's runs as stored in the study (None when it has none)."""
    raw = trial.user_attrs.get("runs")
    return None if raw is None else load_runs(raw)


def _store_judged(storage: Any, tid: int, judged: Judged, raw_runs: Any, how: str) -> None:
    def clean(x: float) -> float | None:
        return float(x) if math.isfinite(x) else None

    storage.set_trial_user_attr(tid, "evaluated", how)
    storage.set_trial_user_attr(tid, "runs", raw_runs)
    storage.set_trial_user_attr(tid, "feasible", judged.feasible)
    storage.set_trial_user_attr(tid, "violations", judged.violations or [0.0])
    storage.set_trial_user_attr(
        tid, "objective_ci_low", [clean(lo) for _, lo, _ in judged.objectives]
    )
    storage.set_trial_user_attr(
        tid, "objective_ci_high", [clean(hi) for _, _, hi in judged.objectives]
    )


def _best_value(study: Any, plan: OptimizePlan) -> float | None:
    """The best feasible first objective so far (for the progress line)."""
    from optuna.trial import TrialState

    sign = 1.0 if plan.objectives[0].direction == "minimize" else -1.0
    values = [
        t.values[0]
        for t in study.get_trials(deepcopy=False, states=(TrialState.COMPLETE,))
        if t.user_attrs.get("feasible")
    ]
    return min(values, key=lambda v: sign * v) if values else None
