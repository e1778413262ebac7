"""Running a sweep: keyed runs on the executor, written atomically, resumable.

Runs are written to ``<out>/runs/<key>/`` atomically and skipped when complete, so a sweep
killed at any point finishes on rerun with every run present once. The top-level tables
are rebuilt from the run folders at the end, never appended to.

The worker function :func:`execute_run` receives the resolved config as a plain dict,
re-validates it, simulates and writes the run folder. Local workers (this process or a
local pool) share the sweep's disk: they write the folder into a hidden staging folder
under ``runs/`` and send back its path, and the sweep process moves the files into place
(a rename each, nothing copied or sent through a pipe). Dask workers may have no shared
disk: they send the folder's files back as bytes and the sweep process writes them. One
code path otherwise, :mod:`silkroute_sim.experiments.executor`.
"""

from __future__ import annotations

import copy
import functools
import os
import re
import socket
import tempfile
import time
import traceback
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any

import silkroute_sim.model.simulate as simulation
from silkroute_sim.config.errors import SilkrouteError, on_one_line
from silkroute_sim.config.loader import validate_config
from silkroute_sim.experiments.executor import (
    DaskExecutor,
    Executor,
    default_workers,
    make_executor,
    use_executor,
)
from silkroute_sim.experiments.sweep.collect import (
    FAILED_DIR,
    RUNS_DIR,
    SweepResults,
    collect_results,
    run_is_trusted,
)
from silkroute_sim.experiments.sweep.plan import RunTask, SweepPlan, plan_sweep, run_key, with_seed
from silkroute_sim.experiments.sweep.spec import SweepError
from silkroute_sim.outputs.inplace import (
    claim,
    disown,
    folder_lock,
    record,
    replace_plots_in_place,
    stale_plots,
    write_ledger,
)
from silkroute_sim.outputs.plots.sweep import sweep_plots
from silkroute_sim.outputs.run_folder import RECORDS, Records, write_run
from silkroute_sim.outputs.storage import (
    MARKER,
    base_manifest,
    check_output_target,
    clean_leftovers,
    is_complete,
    is_silkroute_folder,
    mark_complete,
    owned_files,
    remove_path,
    temp_name,
    write_csv,
    write_folder,
    write_json,
)
from silkroute_sim.outputs.sweep_report import write_sweep_report

if TYPE_CHECKING:
    import pandas as pd

LOCK_FILE = ".sweep.lock"
#: a worker's staging folder for a run (:func:`_write_staged`)
_STAGED = re.compile(r"^\.(?P<key>[0-9a-f]+)\.silkroute-tmp-\d+-[0-9a-f]{8}$")


# --------------------------------------------------------------------------- one run (worker)


@dataclass
class RunOutcome:
    """What a worker sends back: the run folder (its path on the shared disk, or its files
    as bytes), or the error."""

    key: str
    files: dict[str, bytes] | None
    error: str | None = None
    detail: str = ""
    wall_s: float = 0.0
    host: str = ""
    folder: str | None = None

    @property
    def ok(self) -> bool:
        return self.files is not None or self.folder is not None


def _one_line(exc: BaseException) -> str:
    text = str(exc) if isinstance(exc, SilkrouteError) else f"{type(exc).__name__}: {exc}"
    text = on_one_line(text)
    return text if len(text) <= 500 else text[:497] + "..."


def execute_run(task: RunTask, stage: str | None = None, records: str = "summary") -> RunOutcome:
    """Simulate one run and write its folder (``outputs.write_run``, no plots; ``records``:
    ``"summary"`` for the KPI and daily tables only, ``"full"`` for every table): under
    ``stage`` (a folder on the sweep's disk) when given, returning its path; else in a
    temporary folder, returning its files.

    Runs in a worker process (local pool or Dask): the config arrives as a plain dict and
    is validated again here. Errors come back as an outcome, never raised."""
    started = time.perf_counter()
    host = f"{socket.gethostname()}:{os.getpid()}"
    try:
        data = copy.deepcopy(with_seed(task.config, task.seed))
        cfg = validate_config(data, f"run {task.key}")
        resolved_key = run_key(cfg.resolved(), task.seed)
        if resolved_key != task.key:  # e.g. other defaults on a Dask worker
            raise SweepError(
                f"the worker resolved a different config (key {resolved_key}, expected "
                f"{task.key}); is the same silkroute-sim version installed on every worker?"
            )
        result = simulation.simulate(cfg)
        if stage is not None:
            folder = _write_staged(result, Path(stage), task.key, records)
            wall_s = time.perf_counter() - started
            return RunOutcome(task.key, None, wall_s=wall_s, host=host, folder=str(folder))
        with tempfile.TemporaryDirectory(prefix="silkroute-run-") as tmp:
            folder, _, _ = write_run(
                result, Path(tmp) / task.key, plots=False, records=_level(records), release=True
            )
            files = {
                p.relative_to(folder).as_posix(): p.read_bytes()
                for p in sorted(folder.rglob("*"))
                if p.is_file()
            }
        if MARKER not in files:
            raise SweepError("the run folder has no completion marker")
        return RunOutcome(task.key, files, wall_s=time.perf_counter() - started, host=host)
    except Exception as exc:
        return RunOutcome(
            task.key,
            None,
            error=_one_line(exc),
            detail=traceback.format_exc(limit=-8),
            wall_s=time.perf_counter() - started,
            host=host,
        )


def _level(records: str) -> Records:
    """What each run of a sweep writes: ``summary`` (the sweep's default: the KPI, daily
    and per cargo class tables, under 0.1 MB for 90 days) or ``full`` (every table)."""
    if records not in RECORDS:
        raise SweepError(f"records must be one of {', '.join(RECORDS)} (got {records!r})")
    return "full" if records == "full" else "summary"


def _write_staged(result: simulation.RunResult, stage: Path, key: str, records: str) -> Path:
    """Write the run folder as ``stage/.<key>.silkroute-tmp-<pid>-<hex>/<key>/``: a name the output
    guard knows as a staging folder of this (worker) process, removed by the next sweep
    if the process dies before the sweep moves the files into place."""
    holder = stage / temp_name(key)
    holder.mkdir()
    try:
        folder, _, _ = write_run(
            result, holder / key, plots=False, records=_level(records), release=True
        )
        if not (folder / MARKER).is_file():
            raise SweepError("the run folder has no completion marker")
    except BaseException:
        remove_path(holder)
        raise
    return holder / key


# --------------------------------------------------------------------------- output folder


def _clean_leftovers(out: Path, keys: set[str]) -> int:
    """Remove staging folders and temporary files left by a killed sweep (only ours: the
    guard's names, of processes that are gone), and every worker's staging folder of a
    run of this plan (``runs/.<key>.silkroute-tmp-<pid>-<hex>``): the sweep's lock is held and none
    is handed out, so such a folder is left by a killed run, even where its worker has
    not been reaped yet and still looks alive."""
    removed = sum(clean_leftovers(folder) for folder in (out, out / RUNS_DIR, out / FAILED_DIR))
    runs = out / RUNS_DIR
    if runs.is_dir():
        for item in runs.iterdir():
            match = _STAGED.match(item.name)
            if match is not None and match["key"] in keys:
                remove_path(item)
                removed += 1
    return removed


def _take_over(out: Path) -> None:
    """Start writing the sweep folder in place: what silkroute owns there (the marker's
    list, which is removed until the sweep is complete again) goes to the ledger."""
    write_ledger(out, owned_files(out) | {LOCK_FILE}, kind="sweep")
    (out / MARKER).unlink(missing_ok=True)


def _sweep_manifest(plan: SweepPlan, **extra: Any) -> dict[str, Any]:
    data = base_manifest()
    data.update(
        {
            "kind": "sweep",
            "name": plan.name,
            "spec_file": str(plan.file),
            "base": str(plan.base_path),
            "overrides": plan.overrides,
            "design": plan.design,
            "parameters": plan.param_paths,
            "reps": plan.spec.reps,
            "seed": plan.seed,
            "outputs": plan.outputs or "all",
            "points": [{"point": p.index, "values": p.values} for p in plan.points],
            "runs": len(plan.runs),
            "excluded_by_constraints": plan.excluded,
            "duplicate_points_dropped": plan.duplicates,
            "spec": plan.raw,
        }
    )
    data.update(extra)
    return data


def pending_runs(plan: SweepPlan, out: Path) -> list[RunTask]:
    """Runs of ``plan`` without their complete folder under ``out`` (failed ones included,
    and a folder whose manifest has another config hash or seed than its key)."""
    return [t for t in plan.runs if not run_is_trusted(out / RUNS_DIR / t.key, t)]


def _store_run(out: Path, task: RunTask, outcome: RunOutcome) -> None:
    """Put a finished run's folder in place: its files moved from the worker's staging
    folder on this disk, or written from the bytes a remote worker sent."""
    files = outcome.files or {}
    written = Path(outcome.folder) if outcome.folder is not None else None

    def fill(folder: Path) -> None:
        if written is not None:
            for source in sorted(written.rglob("*")):
                target = folder / source.relative_to(written)
                if source.is_dir():
                    target.mkdir(parents=True, exist_ok=True)
                elif source.name != MARKER or source.parent != written:
                    os.replace(source, target)
            os.replace(written / MARKER, folder / MARKER)  # last: the folder is complete
            return
        for name, data in files.items():
            if name == MARKER:
                continue
            target = folder / name
            target.parent.mkdir(parents=True, exist_ok=True)
            target.write_bytes(data)
        (folder / MARKER).write_bytes(files[MARKER])  # last: the folder is complete

    name = f"{RUNS_DIR}/{task.key}/"
    if is_silkroute_folder(out / RUNS_DIR / task.key):  # ours, another run's: replaced
        record(out, [name])
    else:
        claim(out, name)
    try:
        write_folder(out / RUNS_DIR / task.key, fill, kind="run", within=out)
    finally:
        if written is not None:
            remove_path(written.parent)
    disown(out, [f"{FAILED_DIR}/{task.key}.json"])


def _store_failure(out: Path, task: RunTask, error: str, detail: str, host: str) -> None:
    (out / FAILED_DIR).mkdir(exist_ok=True)
    record = {
        "run_key": task.key,
        "point": task.point,
        "rep": task.rep,
        "seed": task.seed,
        "error": error,
        "worker": host,
        "traceback": detail,
    }
    write_json(record, claim(out, f"{FAILED_DIR}/{task.key}.json"))


def _stale_runs(plan: SweepPlan, out: Path) -> int:
    """Complete run folders the plan does not name (left by an earlier spec)."""
    known = {t.key for t in plan.runs}
    return sum(
        1
        for d in (out / RUNS_DIR).iterdir()
        if not d.name.startswith(".") and d.name not in known and is_complete(d)
    )


# --------------------------------------------------------------------------- running a sweep


@dataclass(frozen=True)
class Progress:
    """Counts after each finished run (for progress bars)."""

    total: int
    done_before: int
    done: int
    failed: int
    task: RunTask | None = None
    error: str | None = None


ProgressFn = Callable[[Progress], None]


@dataclass
class SweepOutcome:
    """What :func:`run_sweep` did and the resulting tables."""

    out: Path
    plan: SweepPlan
    results: SweepResults
    done_before: int
    ran: int
    failed: int
    wall_s: float
    executor: str
    plots: list[Path] = field(default_factory=list)
    report: Path | None = None
    stale_runs: int = 0

    @property
    def runs(self) -> pd.DataFrame:
        return self.results.runs

    @property
    def points(self) -> pd.DataFrame:
        return self.results.points


def run_sweep(
    spec: str | os.PathLike[str] | SweepPlan,
    out: str | os.PathLike[str] | None = None,
    *,
    workers: int | None = None,
    scheduler: str | None = None,
    plots: bool = True,
    progress: ProgressFn | None = None,
    connect_timeout_s: float = 10.0,
    records: str = "summary",
) -> SweepOutcome:
    """Run (or finish) a sweep into ``out`` (default ``results/<sweep name>``).

    Complete runs are skipped; failed ones are retried. ``workers`` local processes (default:
    the CPU cores; 1 runs in this process), or the Dask cluster at ``scheduler``. Each run
    folder holds ``records`` (``summary`` by default, ``full`` for every table); the
    level is not part of a run's key, so a complete run is kept as it is.
    Returns the tables; ``failed`` counts runs that are not ok."""
    started = time.perf_counter()
    _level(records)
    plan = spec if isinstance(spec, SweepPlan) else plan_sweep(spec)
    given = Path(out) if out is not None else Path("results") / plan.name
    resolved = check_output_target(given, kind="sweep")
    target = resolved if ".." in given.parts else given  # messages name the user's --out
    with _executor(workers, scheduler, connect_timeout_s, len(plan.runs)) as executor:
        target.mkdir(parents=True, exist_ok=True)
        with folder_lock(target, LOCK_FILE, "sweep", SweepError):
            _take_over(target)
            _clean_leftovers(target, {t.key for t in plan.runs})
            (target / RUNS_DIR).mkdir(exist_ok=True)
            running = _sweep_manifest(plan, status="running", records=records)
            write_json(running, claim(target, "manifest.json"))
            done_before, ran = _run_pending(plan, target, executor, progress, records)
            outcome = _finish(
                plan, target, executor.description, plots, started, (done_before, ran), records
            )
    outcome.wall_s = time.perf_counter() - started
    return outcome


@contextmanager
def _executor(
    workers: int | None, scheduler: str | None, timeout_s: float, runs: int
) -> Iterator[Executor]:
    """The Dask cluster at ``scheduler`` (closed after the sweep), or ``workers`` local
    processes (default: one per core, no more than the runs): the Python session's
    shared pool, kept for its next sweep or replications."""
    if scheduler:
        with make_executor(scheduler=scheduler, timeout_s=timeout_s) as dask:
            yield dask
        return
    count = default_workers() if workers is None else workers
    if count < 1:
        raise SweepError(f"--workers must be at least 1 (got {count})")
    with use_executor(None, count, runs) as local:
        yield local


def _run_pending(
    plan: SweepPlan,
    target: Path,
    executor: Executor,
    progress: ProgressFn | None,
    records: str = "summary",
) -> tuple[int, int]:
    """Run every run without a complete folder, storing each as it finishes (its folder,
    or its failure record). Returns the runs complete before and the runs tried now."""
    todo = pending_runs(plan, target)
    done_before = len(plan.runs) - len(todo)
    done = failed = 0
    if progress is not None:
        progress(Progress(len(plan.runs), done_before, 0, 0))
    # local workers share this disk: they write into runs/ and only a path comes back
    stage = None if isinstance(executor, DaskExecutor) else str((target / RUNS_DIR).resolve())
    work = functools.partial(execute_run, stage=stage, records=records)
    for task, result in executor.imap_unordered(work, todo, key=_task_key):
        error: str | None
        if isinstance(result, BaseException):
            error = _one_line(result)
            _store_failure(target, task, error, repr(result), "")
        elif not result.ok:
            error = result.error or "failed"
            _store_failure(target, task, error, result.detail, result.host)
        else:
            error = None
            _store_run(target, task, result)
        done += error is None
        failed += error is not None
        if progress is not None:
            progress(Progress(len(plan.runs), done_before, done, failed, task, error))
    return done_before, done + failed


def _finish(
    plan: SweepPlan,
    target: Path,
    executor: str,
    plots: bool,
    started: float,
    counts: tuple[int, int],
    records: str,
) -> SweepOutcome:
    """Rebuild the tables, plots, manifest and report from the run folders, and mark the
    folder complete when every run is ok. ``counts``: the runs complete before, and the
    runs tried now."""
    done_before, ran = counts
    _clean_leftovers(target, {t.key for t in plan.runs})  # runs killed during this sweep
    results = collect_results(plan, target)
    write_csv(results.runs, claim(target, "runs.csv"))
    write_csv(results.points, claim(target, "points.csv"))
    stale = _stale_runs(plan, target)
    figures = _replace_plots(plan, results, target, plots)
    n_failed = int((results.runs["status"] != "ok").sum())
    manifest = _sweep_manifest(
        plan,
        status="complete" if n_failed == 0 else "incomplete",  # not how it ran (executor,
        failed=n_failed,  # time, runs resumed): the folder is the same whichever way
        stale_runs=stale,
        kpis=results.kpis,
        units=results.units,
        records=records,
    )
    write_json(manifest, claim(target, "manifest.json"))
    report = write_sweep_report(target)
    if n_failed == 0:
        mark_complete(target, {"kind": "sweep", "runs": len(plan.runs)}, owned_files(target))
    return SweepOutcome(
        out=target,
        plan=plan,
        results=results,
        done_before=done_before,
        ran=ran,
        failed=n_failed,
        wall_s=time.perf_counter() - started,
        executor=executor,
        plots=figures,
        report=report,
        stale_runs=stale,
    )


def _replace_plots(plan: SweepPlan, results: SweepResults, target: Path, plots: bool) -> list[Path]:
    """Draw the plots into a staging folder, then move each into ``plots/`` (refused,
    before any is moved, where the user has a file of that name); silkroute's plots drawn
    from older tables go, the user's own stay."""
    if not plots:
        disown(target, stale_plots(target))
        return []
    return replace_plots_in_place(
        target,
        lambda staging: sweep_plots(
            results.points, plan.param_paths, results.kpis, results.units, plan.design, staging
        ),
    )


def _task_key(task: RunTask) -> str:
    return task.key
