"""Running the suite: the plan's replications as tasks of plain data, run through the one
executor (:mod:`silkroute_sim.experiments.executor`), gathered in seed order and turned
into checks (:func:`run_verify`)."""

from __future__ import annotations

import os
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from datetime import datetime, timezone
from typing import Any

from silkroute_sim.config.errors import SilkrouteError
from silkroute_sim.config.loader import load_config
from silkroute_sim.config.schema import ScenarioConfig
from silkroute_sim.experiments.executor import default_workers, make_executor
from silkroute_sim.experiments.verify.cases import Plan, QueueCase, make_plan
from silkroute_sim.experiments.verify.checks import (
    EXPLAINED,
    FAIL,
    PARTS,
    PASS,
    Check,
    analytic_family,
    baseline_little_checks,
    deterministic_checks,
    little_checks_queue,
    queue_checks,
)
from silkroute_sim.experiments.verify.published import load_targets, published_check
from silkroute_sim.experiments.verify.replications import (
    baseline_replication,
    deterministic_replication,
    queue_replication,
)

#: ``part`` names that an older command line may still pass, and what they mean now
PART_ALIASES = {"validation": "published"}

Progress = Callable[[int, int], None]


@dataclass(frozen=True)
class Task:
    kind: str  # "queue", "deterministic", "baseline"
    key: str
    seed: int
    case: QueueCase | None = None
    days: float = 0.0
    warmup_days: float = 0.0
    cost: float = 1.0  # rough relative run time, for scheduling the longest first


def run_task(task: Task) -> tuple[str, int, dict[str, float]]:
    """Run one task; a top-level function of plain data (safe in spawned workers)."""
    try:
        if task.kind == "queue":
            assert task.case is not None
            values = queue_replication(task.case, task.seed)
        elif task.kind == "deterministic":
            values = deterministic_replication(task.seed)
        elif task.kind == "baseline":
            values = baseline_replication(task.days, task.warmup_days, task.seed)
        else:
            raise ValueError(f"unknown task kind {task.kind!r}")
    except SilkrouteError as exc:  # subclasses may not unpickle in the parent
        raise SilkrouteError(str(exc)) from None
    return task.key, task.seed, values


def task_name(task: Task) -> str:
    """A task's name among the others of its run (the executor's key for it)."""
    return f"{task.key}-{task.seed}"


def normalise_part(part: str) -> str:
    """``part`` checked against :data:`PARTS` (an alias of :data:`PART_ALIASES` is
    translated)."""
    part = PART_ALIASES.get(part, part)
    if part not in PARTS:
        raise SilkrouteError(f"part must be one of {', '.join(PARTS)} (got {part!r})")
    return part


def plan_tasks(plan: Plan, seed: int, part: str = "all") -> list[Task]:
    """The replications ``part`` of ``plan`` needs, longest first."""
    part = normalise_part(part)
    tasks: list[Task] = []
    if part in ("all", "verification"):
        for case in plan.cases:
            cost = (case.customers + case.warmup_h() * case.lam) / 20_000
            tasks += [
                Task("queue", case.name, seed + r, case=case, cost=cost) for r in range(plan.reps)
            ]
        tasks.append(Task("deterministic", "deterministic", seed, cost=0.5))
    if part in ("all", "published"):
        tasks += [
            Task(
                "baseline",
                "baseline",
                seed + r,
                days=plan.baseline_days,
                warmup_days=plan.baseline_warmup_days,
                cost=plan.baseline_days / 60,
            )
            for r in range(plan.baseline_reps)
        ]
    return sorted(tasks, key=lambda t: -t.cost)


def run_tasks(
    tasks: Sequence[Task], workers: int = 1, progress: Progress | None = None
) -> dict[str, list[dict[str, float]]]:
    """Run ``tasks`` through the executor with ``workers`` processes (1: in this process);
    values grouped by key, in seed order (so a parallel run gives the same table as a
    serial one). The first task that fails stops the run with its error."""
    gathered: list[tuple[str, int, dict[str, float]]] = []
    total = len(tasks)
    with make_executor(max(1, min(workers, total))) as executor:
        outcomes = executor.imap_unordered(run_task, tasks, key=task_name)
        for done, (_task, outcome) in enumerate(outcomes, start=1):
            if isinstance(outcome, BaseException):
                raise outcome
            gathered.append(outcome)
            if progress is not None:
                progress(done, total)
    grouped: dict[str, list[dict[str, float]]] = {}
    for key, _seed, values in sorted(gathered, key=lambda g: (g[0], g[1])):
        grouped.setdefault(key, []).append(values)
    return grouped


@dataclass
class VerifyResult:
    plan: Plan
    seed: int
    part: str
    checks: list[Check]
    wall_s: float
    workers: int
    started: str = ""
    extra: dict[str, Any] = field(default_factory=dict)

    @property
    def failed(self) -> list[Check]:
        return [c for c in self.checks if c.status == FAIL]

    @property
    def ok(self) -> bool:
        return not self.failed

    def counts(self) -> dict[str, int]:
        return {s: sum(1 for c in self.checks if c.status == s) for s in (PASS, EXPLAINED, FAIL)}


def build_checks(
    plan: Plan, grouped: dict[str, list[dict[str, float]]], cfg: ScenarioConfig | None = None
) -> list[Check]:
    """The checks of the replications in ``grouped``, group by group (:data:`GROUPS`)."""
    checks: list[Check] = []
    family = analytic_family(plan)
    little: list[Check] = []
    for case in plan.cases:
        reps = grouped.get(case.name)
        if not reps:
            continue
        checks += queue_checks(case, reps, family)
        if not any(r.get("failed") for r in reps):
            little += little_checks_queue(case, reps)
    exact: list[Check] = []
    if "deterministic" in grouped:
        exact += deterministic_checks(grouped["deterministic"])
    published: list[Check] = []
    if "baseline" in grouped:
        reps = grouped["baseline"]
        base = baseline_little_checks(reps)
        little += [c for c in base if c.group == "little"]
        exact += [c for c in base if c.group == "exact"]
        published = [published_check(t, reps, cfg) for t in load_targets()]
    return checks + little + exact + published


def run_verify(
    quick: bool = True,
    *,
    seed: int = 1,
    workers: int = 1,
    reps: int | None = None,
    part: str = "all",
    progress: Progress | None = None,
    jobs: int | None = None,
) -> VerifyResult:
    """Run the verification suite (``part``: all, verification or published) with
    ``workers`` processes at once (0: one per usable core). ``jobs`` is the former name
    of ``workers``, still accepted from the command line until it passes ``workers``."""
    if jobs is not None:
        workers = jobs
    part = normalise_part(part)
    if reps is not None and reps < 2:
        raise SilkrouteError(f"--reps must be at least 2 for a confidence interval (got {reps})")
    if workers < 0:
        raise SilkrouteError(f"--workers must be at least 1, or 0 for one per core (got {workers})")
    workers = workers or default_workers()
    plan = make_plan(quick, reps)
    started = datetime.now(timezone.utc).strftime("%Y-%m-%d %H:%M UTC")
    t0 = time.perf_counter()
    grouped = run_tasks(plan_tasks(plan, seed, part), workers, progress)
    cfg = load_config(None) if "baseline" in grouped else None
    checks = build_checks(plan, grouped, cfg)
    return VerifyResult(plan, seed, part, checks, time.perf_counter() - t0, workers, started)


def default_jobs() -> int:
    """The command line's default process count (the CPUs, at most 8): kept for
    ``cli/verify.py`` until it passes ``workers=0`` (one per usable core) instead."""
    return max(1, min(os.cpu_count() or 1, 8))
