"""Verification and validation built in: does the model reproduce what is known?

Four groups of checks (:data:`GROUPS`), each check a row of data (:class:`Check`):
``analytic`` (the model reduced by config to textbook queues, against closed forms over
replications), ``little`` (Little's law between monitors and records on each sample
path), ``exact`` (a constant-time corridor known to the second, and the tonnage balance)
and ``published`` (the baseline against published figures, each with its source, band
and declared reasons for a miss).

The package, by concern:

- :mod:`.cases`: the scenarios (queue cases, the deterministic corridor) and the plans;
- :mod:`.estimators`: time-weighted levels and Little's law on one sample path;
- :mod:`.replications`: one replication of each kind, reduced to numbers;
- :mod:`.checks`: :class:`Check`, the analytic, Little and exact checks and their
  statistical tolerance;
- :mod:`.published`: the published targets (the data file ``published_targets.yaml``)
  and their check;
- :mod:`.run`: tasks through the one executor, :func:`run_verify`;
- :mod:`.render`: the CSV, Markdown and HTML reports and the manifest.
"""

from silkroute_sim.experiments.verify.cases import (
    DET,
    PAYLOAD_T,
    Plan,
    QueueCase,
    deterministic_expectations,
    deterministic_raw,
    make_plan,
    queue_raw,
)
from silkroute_sim.experiments.verify.checks import (
    CHECK_COLUMNS,
    EXPLAINED,
    FAIL,
    FAMILY_LEVEL,
    GROUPS,
    PARTS,
    PASS,
    Check,
    analytic_check,
    analytic_family,
    baseline_little_checks,
    deterministic_checks,
    exact_check,
    little_checks_queue,
    queue_checks,
)
from silkroute_sim.experiments.verify.estimators import (
    EXACT_REL_TOL,
    LittleSample,
    YardLittle,
    border_little,
    combined_level,
    empty_window,
    level_mean,
    overlap_sum,
    queue_little,
    yard_little,
)
from silkroute_sim.experiments.verify.published import (
    Target,
    load_targets,
    published_check,
    targets_from_data,
)
from silkroute_sim.experiments.verify.render import (
    GROUP_TITLES,
    checks_frame,
    estimate_text,
    report_markdown,
    target_text,
    write_verify,
)
from silkroute_sim.experiments.verify.replications import (
    baseline_replication,
    deterministic_replication,
    queue_replication,
)
from silkroute_sim.experiments.verify.run import (
    PART_ALIASES,
    Task,
    VerifyResult,
    build_checks,
    default_jobs,
    plan_tasks,
    run_task,
    run_tasks,
    run_verify,
)

__all__ = [
    "CHECK_COLUMNS",
    "DET",
    "EXACT_REL_TOL",
    "EXPLAINED",
    "FAIL",
    "FAMILY_LEVEL",
    "GROUPS",
    "GROUP_TITLES",
    "PARTS",
    "PART_ALIASES",
    "PASS",
    "PAYLOAD_T",
    "Check",
    "LittleSample",
    "Plan",
    "QueueCase",
    "Target",
    "Task",
    "VerifyResult",
    "YardLittle",
    "analytic_check",
    "analytic_family",
    "baseline_little_checks",
    "baseline_replication",
    "border_little",
    "build_checks",
    "checks_frame",
    "combined_level",
    "default_jobs",
    "deterministic_checks",
    "deterministic_expectations",
    "deterministic_raw",
    "deterministic_replication",
    "empty_window",
    "estimate_text",
    "exact_check",
    "level_mean",
    "little_checks_queue",
    "load_targets",
    "make_plan",
    "overlap_sum",
    "plan_tasks",
    "published_check",
    "queue_checks",
    "queue_little",
    "queue_raw",
    "queue_replication",
    "report_markdown",
    "run_task",
    "run_tasks",
    "run_verify",
    "target_text",
    "targets_from_data",
    "write_verify",
    "yard_little",
]
