"""Replications: one scenario over seeds ``seed … seed+N-1``, with Student-t intervals.

Each replication is an independent run (its own seed, hence its own named random streams);
its KPIs are measured after the warm-up, as for a single run. Across replications every
KPI gets ``mean, ci_low, ci_high, n`` (:func:`silkroute_sim.analysis.stats.mean_ci`). Because the
streams are named per purpose (:mod:`silkroute_sim.engine.rng`), two scenarios run with the same
seeds see the same demand and the same background trains — common random numbers, which
:mod:`silkroute_sim.experiments.compare` turns into paired differences.

Replications run on an :class:`~silkroute_sim.experiments.executor.Executor` (in-process,
local processes or Dask); the worker is a top-level function of a :class:`Job` (the resolved
config as a plain dict and a seed), so it is spawn-safe, and the results are put back in
seed order, so a parallel run is byte-identical to a serial one. The data types and the
result folder are :mod:`silkroute_sim.outputs.replication_result` and
:mod:`silkroute_sim.outputs.replications_folder`.
"""

from __future__ import annotations

import time
from collections.abc import Callable, Sequence
from contextlib import closing
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from silkroute_sim.analysis.tables import Tables
from silkroute_sim.config.errors import SilkrouteError
from silkroute_sim.config.schema import ScenarioConfig
from silkroute_sim.config.simulation import MAX_SEED, check_seed
from silkroute_sim.experiments.executor import Executor, use_executor
from silkroute_sim.model.simulate import simulate
from silkroute_sim.outputs.replication_result import ReplicationResult, RepOutput, collect
from silkroute_sim.outputs.replications_folder import write_replication_files
from silkroute_sim.outputs.run_folder import Records, check_records, saturation_warning, write_run
from silkroute_sim.outputs.run_identity import config_identity, write_run_folder

#: progress callback: (replications done, replications in all)
RepProgress = Callable[[int, int], None]


# --------------------------------------------------------------------------- one replication


def replicate(
    config: dict[str, Any],
    seed: int,
    out: str | None = None,
    plots: bool = False,
    records: Records = "full",
    fmt: str = "csv",
) -> RepOutput:
    """Run the resolved ``config`` once with ``seed``; write its result folder to ``out``
    when given (at the ``records`` level, its big tables in ``fmt``). A top-level function
    of plain arguments: safe for spawned workers."""
    try:
        cfg = ScenarioConfig.model_validate(config)
        result = simulate(cfg, seed=seed)
        if out is not None:
            _, tables, warnings = write_run(
                result, Path(out), plots=plots, records=records, fmt=fmt, release=True
            )
        else:
            tables = Tables(result, release=True)
            warnings = list(result.records.warnings)
            extra = saturation_warning(result, tables)
            if extra:
                warnings.append(extra)
    except SilkrouteError as exc:  # rebuilt as the base class: subclasses may not unpickle
        raise SilkrouteError(str(exc)) from None
    ships = tables.shipments
    delivered = ships["delivered_h"]
    released = (delivered >= result.warmup_h) & (delivered < result.end_h)
    return RepOutput(
        seed=int(seed),
        summary=tables.summary,
        daily=tables.daily,
        door_to_door_d=ships.loc[released, "door_to_door_d"].to_numpy(dtype=float),
        wall_s=result.wall_s,
        events=result.events,
        warnings=warnings,
    )


@dataclass(frozen=True)
class Job:
    """One replication to run: a resolved config, a seed and where to write it (or not)."""

    config: dict[str, Any]
    seed: int
    out: str | None = None
    plots: bool = False
    records: Records = "full"
    fmt: str = "csv"


def _run_job(item: tuple[int, Job]) -> RepOutput:
    """The executor's worker: one numbered job (the number puts the results in order)."""
    _, job = item
    return replicate(job.config, job.seed, job.out, job.plots, job.records, job.fmt)


def run_jobs(
    jobs: Sequence[Job], executor: Executor, progress: RepProgress | None = None
) -> list[RepOutput]:
    """Run ``jobs`` on ``executor``; the results come back in the order of ``jobs``
    whatever order they finish in. The first job that fails stops the rest and its error
    is raised (a worker that died: an :class:`~.executor.ExecutorError`)."""
    total = len(jobs)
    results: list[RepOutput | None] = [None] * total
    done = 0
    with closing(executor.imap_unordered(_run_job, list(enumerate(jobs)))) as finished:
        for (index, _), result in finished:
            if isinstance(result, BaseException):
                raise result  # closing the iterator stops the jobs still running
            results[index] = result
            done += 1
            if progress is not None:
                progress(done, total)
    return [r for r in results if r is not None]


# --------------------------------------------------------------------------- replications


def check_ci(ci: float) -> float:
    if not (isinstance(ci, int | float) and 0 < ci < 1):
        raise SilkrouteError(f"confidence level must be between 0 and 1, e.g. 0.95 (got {ci!r})")
    return float(ci)


def default_seeds(cfg: ScenarioConfig, reps: int) -> list[int]:
    _check_scenario(cfg, "run_replications")
    if isinstance(reps, bool) or not isinstance(reps, int) or reps < 1:
        raise SilkrouteError(f"reps: the number of replications, at least 1 (got {reps!r})")
    seed = cfg.simulation.seed
    if seed + reps - 1 > MAX_SEED:
        raise SilkrouteError(
            f"{reps} replications from seed {seed} would run past the largest seed "
            f"({MAX_SEED}); choose a seed at most {MAX_SEED - reps + 1}"
        )
    return [seed + i for i in range(reps)]


def _check_scenario(cfg: object, what: str) -> None:
    if not isinstance(cfg, ScenarioConfig):
        raise SilkrouteError(
            f"{what}: expected a scenario (load_config(...)), got {type(cfg).__name__}"
        )


def check_seed_list(seeds: Sequence[int]) -> list[int]:
    """The seeds of replications: whole numbers in range, at least one, none twice (a seed
    run twice would count one replication as two and narrow the interval falsely)."""
    if isinstance(seeds, str | bytes) or not isinstance(seeds, Sequence | range):
        raise SilkrouteError(f"seeds: a list of seeds (got {type(seeds).__name__})")
    try:
        out = [check_seed(s, "seeds") for s in seeds]
    except ValueError as exc:
        raise SilkrouteError(str(exc)) from None
    if not out:
        raise SilkrouteError("seeds: give at least one seed")
    twice = sorted({s for s in out if out.count(s) > 1})
    if twice:
        raise SilkrouteError(f"seeds: {twice[0]} is given twice; each replication needs its own")
    return out


def run_replications(
    cfg: ScenarioConfig,
    reps: int,
    workers: int = 1,
    ci: float = 0.95,
    progress: RepProgress | None = None,
    *,
    seeds: Sequence[int] | None = None,
    rep_root: Path | None = None,
    plots: bool = False,
    executor: Executor | None = None,
    records: Records = "full",
    fmt: str = "csv",
) -> ReplicationResult:
    """Run ``cfg`` with seeds ``seed … seed+reps-1`` (or ``seeds``), ``workers`` at a time
    (or on ``executor``, which stays open for the caller's next batch).

    With ``rep_root`` each replication's complete result folder is written to
    ``rep_root/rep-<seed>/`` (with plots and report when ``plots``; ``records`` and
    ``fmt`` as for a single run)."""
    ci = check_ci(ci)
    check_records(records, fmt)
    _check_scenario(cfg, "run_replications")
    seed_list = check_seed_list(seeds) if seeds is not None else default_seeds(cfg, reps)
    started = time.perf_counter()
    data = cfg.resolved()
    jobs = [
        Job(
            data,
            s,
            None if rep_root is None else str(Path(rep_root) / f"rep-{s}"),
            plots,
            records,
            fmt,
        )
        for s in seed_list
    ]
    with use_executor(executor, workers, len(jobs)) as runner:
        outputs = run_jobs(jobs, runner, progress)
    return collect(cfg, outputs, ci, time.perf_counter() - started)


def write_replications(
    cfg: ScenarioConfig,
    out: Path,
    reps: int,
    *,
    workers: int = 1,
    ci: float = 0.95,
    plots: bool = True,
    force: bool = False,
    progress: RepProgress | None = None,
    executor: Executor | None = None,
    records: Records = "full",
    fmt: str = "csv",
) -> tuple[Path, ReplicationResult]:
    """Run the replications into ``out`` atomically: ``out/rep-<seed>/`` per replication
    (complete, as a single run) and the combined files at the top."""
    holder: list[ReplicationResult] = []

    def fill(folder: Path) -> None:
        rr = run_replications(
            cfg,
            reps,
            workers,
            ci,
            progress,
            rep_root=folder,
            plots=plots,
            executor=executor,
            records=records,
            fmt=fmt,
        )
        write_replication_files(rr, folder, plots)
        holder.append(rr)

    folder = write_run_folder(out, fill, config_identity(cfg, reps), force)
    return folder, holder[0]
