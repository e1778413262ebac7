"""Replications: one scenario over seeds ``seed … seed+N-1``, with Student-t intervals.

Each replication is an independent run (its own seed, hence its own named random streams);
its KPIs are measured after the warm-up, as for a single run. Across replications every
KPI gets ``mean, ci_low, ci_high, n`` (:func:`silkroute_sim.analysis.stats.mean_ci`). Because the
streams are named per purpose (:mod:`silkroute_sim.engine.rng`), two scenarios run with the same
seeds see the same demand and the same background trains — common random numbers, which
:mod:`silkroute_sim.experiments.compare` turns into paired differences.

Replications run serially or in a process pool (``workers``); the worker is a top-level
function taking the resolved config as a plain dict and a seed, so it is spawn-safe, and
the results are gathered in seed order, so a parallel run is byte-identical to a serial one.
"""

from __future__ import annotations

import json
import math
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any

import numpy as np
import pandas as pd

from silkroute_sim.analysis.stats import ci_note, mean_ci
from silkroute_sim.analysis.warmup import (
    WarmupSuggestion,
    suggest_warmup,
    suggested_days,
    warmup_warning,
)
from silkroute_sim.config.errors import SilkrouteError
from silkroute_sim.outputs.storage import (
    MARKER,
    base_manifest,
    is_complete,
    mark_complete,
    write_csv,
    write_folder,
)
from silkroute_sim.outputs.storage import write_json as _write_json

if TYPE_CHECKING:
    from silkroute_sim.config.schema import ScenarioConfig

#: progress callback: (replications done, replications in all)
RepProgress = Callable[[int, int], None]
SUMMARY_COLUMNS = ["metric", "value", "unit", "mean", "ci_low", "ci_high", "n"]


@dataclass
class RepOutput:
    """What one replication hands back: small tables, not the whole event log."""

    seed: int
    summary: pd.DataFrame  # metric, value, unit (after the warm-up)
    daily: pd.DataFrame  # one row per simulated day, warm-up days included
    door_to_door_d: np.ndarray  # boxes released in the observation window
    wall_s: float = math.nan
    events: int = -1
    warnings: list[str] = field(default_factory=list)


@dataclass
class ReplicationResult:
    """N replications of one scenario and their combined summary."""

    name: str
    description: str
    config: dict[str, Any]  # the resolved config (JSON-able)
    config_hash: str
    days: float
    warmup_days: float
    ci: float
    reps: list[RepOutput]
    summary: pd.DataFrame  # metric, value, unit, mean, ci_low, ci_high, n
    warmup: list[WarmupSuggestion] = field(default_factory=list)
    warnings: list[str] = field(default_factory=list)
    wall_s: float = math.nan

    @property
    def seeds(self) -> list[int]:
        return [r.seed for r in self.reps]

    def values(self) -> pd.DataFrame:
        """KPI values wide: one row per seed, one column per metric."""
        rows = {
            r.seed: dict(zip(r.summary["metric"], r.summary["value"], strict=False))
            for r in self.reps
        }
        frame = pd.DataFrame.from_dict(rows, orient="index")
        frame.index.name = "seed"
        return frame.reindex(columns=list(self.summary["metric"]))

    def long(self) -> pd.DataFrame:
        """KPI values long: ``seed, metric, value, unit`` (one row per seed × metric)."""
        parts = [r.summary.assign(seed=r.seed) for r in self.reps]
        if not parts:
            return pd.DataFrame(columns=["seed", "metric", "value", "unit"])
        return pd.concat(parts, ignore_index=True)[["seed", "metric", "value", "unit"]]

    def warmup_suggestion(self) -> int | None:
        return suggested_days(self.warmup)


# --------------------------------------------------------------------------- one replication


def replicate(
    config: dict[str, Any], seed: int, out: str | None = None, plots: bool = False
) -> RepOutput:
    """Run the resolved ``config`` once with ``seed``; write its result folder to ``out``
    when given. A top-level function of plain arguments: safe for spawned workers."""
    from silkroute_sim.analysis.tables import Tables
    from silkroute_sim.config.schema import ScenarioConfig
    from silkroute_sim.model.simulate import simulate
    from silkroute_sim.outputs.run_folder import saturation_warning, write_run

    try:
        cfg = ScenarioConfig.model_validate(config)
        result = simulate(cfg, seed=seed)
        if out is not None:
            _, tables, warnings = write_run(result, Path(out), plots=plots)
        else:
            tables = Tables(result)
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


def run_jobs(
    jobs: Sequence[Job], workers: int = 1, progress: RepProgress | None = None
) -> list[RepOutput]:
    """Run ``jobs`` serially (``workers`` ≤ 1) or in a spawned process pool; results come
    back in the order of ``jobs`` whatever order they finish in."""
    total = len(jobs)
    if workers <= 1 or total <= 1:
        outputs = []
        for i, job in enumerate(jobs):
            outputs.append(replicate(job.config, job.seed, job.out, job.plots))
            if progress is not None:
                progress(i + 1, total)
        return outputs
    import multiprocessing
    from concurrent.futures import FIRST_EXCEPTION, ProcessPoolExecutor, wait
    from concurrent.futures.process import BrokenProcessPool

    ctx = multiprocessing.get_context("spawn")
    results: list[RepOutput | None] = [None] * total
    with ProcessPoolExecutor(max_workers=min(workers, total), mp_context=ctx) as pool:
        futures = {
            pool.submit(replicate, job.config, job.seed, job.out, job.plots): i
            for i, job in enumerate(jobs)
        }
        pending = set(futures)
        done_count = 0
        try:
            while pending:
                done, pending = wait(pending, return_when=FIRST_EXCEPTION)
                for fut in done:
                    results[futures[fut]] = fut.result()  # re-raises a worker's error
                    done_count += 1
                    if progress is not None:
                        progress(done_count, total)
        except BrokenProcessPool:
            raise SilkrouteError(
                "a worker process died (out of memory? in a Python script, call this under "
                "'if __name__ == \"__main__\":' — spawned workers import the script again)"
            ) from None
        except BaseException:
            for fut in pending:
                fut.cancel()
            raise
    return [r for r in results if r is not None]


# --------------------------------------------------------------------------- combining


def combine_summaries(summaries: Sequence[pd.DataFrame], ci: float = 0.95) -> pd.DataFrame:
    """``metric, value, unit, mean, ci_low, ci_high, n`` over replications (``value`` is the
    mean). Metrics keep the order of their first appearance."""
    order: dict[str, str] = {}
    values: dict[str, list[float]] = {}
    for frame in summaries:
        for metric, value, unit in zip(
            frame["metric"], frame["value"], frame["unit"], strict=False
        ):
            order.setdefault(metric, unit)
            values.setdefault(metric, []).append(float(value))
    rows = []
    for metric, unit in order.items():
        mean, low, high, n = mean_ci(values[metric], ci)
        rows.append((metric, mean, unit, mean, low, high, n))
    return pd.DataFrame(rows, columns=SUMMARY_COLUMNS)


def check_ci(ci: float) -> float:
    if not (isinstance(ci, int | float) and 0 < ci < 1):
        raise SilkrouteError(f"confidence level must be between 0 and 1, e.g. 0.95 (got {ci!r})")
    return float(ci)


def default_seeds(cfg: ScenarioConfig, reps: int) -> list[int]:
    if reps < 1:
        raise SilkrouteError(f"--reps must be at least 1 (got {reps})")
    return [cfg.simulation.seed + i for i in range(reps)]


def collect(
    cfg: ScenarioConfig | dict[str, Any],
    outputs: list[RepOutput],
    ci: float,
    wall_s: float = math.nan,
) -> ReplicationResult:
    """Combine the replications of one scenario (from memory or from disk)."""
    data = cfg if isinstance(cfg, dict) else cfg.resolved()
    raw_sim = data.get("simulation")
    sim: dict[str, Any] = raw_sim if isinstance(raw_sim, dict) else {}
    warmup_days = float(sim.get("warmup_days", math.nan))
    suggestions = suggest_warmup([o.daily for o in outputs])
    warnings: list[str] = []
    for o in outputs:
        warnings.extend(f"seed {o.seed}: {w}" for w in o.warnings)
    note = warmup_warning(suggestions, warmup_days) if math.isfinite(warmup_days) else None
    if note:
        warnings.append(note)
    note = ci_note(len(outputs))  # say so, rather than leave the interval columns empty
    if note:
        warnings.append(note)
    return ReplicationResult(
        name=str(data.get("name", "scenario")),
        description=str(data.get("description", "")),
        config=data,
        config_hash=cfg.config_hash() if not isinstance(cfg, dict) else _hash_of(data),
        days=float(sim.get("days", math.nan)),
        warmup_days=warmup_days,
        ci=ci,
        reps=outputs,
        summary=combine_summaries([o.summary for o in outputs], ci),
        warmup=suggestions,
        warnings=warnings,
        wall_s=wall_s,
    )


def _hash_of(data: dict[str, Any]) -> str:
    import hashlib

    canonical = json.dumps(data, sort_keys=True, separators=(",", ":"))
    return hashlib.sha256(canonical.encode()).hexdigest()[:16]


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
) -> ReplicationResult:
    """Run ``cfg`` with seeds ``seed … seed+reps-1`` (or ``seeds``), ``workers`` at a time.

    With ``rep_root`` each replication's complete result folder is written to
    ``rep_root/rep-<seed>/`` (with plots and report when ``plots``)."""
    ci = check_ci(ci)
    seed_list = list(seeds) if seeds is not None else default_seeds(cfg, reps)
    started = time.perf_counter()
    data = cfg.resolved()
    jobs = [
        Job(data, s, None if rep_root is None else str(Path(rep_root) / f"rep-{s}"), plots)
        for s in seed_list
    ]
    outputs = run_jobs(jobs, workers, progress)
    return collect(cfg, outputs, ci, time.perf_counter() - started)


# --------------------------------------------------------------------------- result folders


def replication_manifest(rr: ReplicationResult) -> dict[str, Any]:
    data = base_manifest()
    data.update(
        {
            "kind": "replications",
            "name": rr.name,
            "description": rr.description,
            "config_hash": rr.config_hash,
            "seed": rr.seeds[0] if rr.seeds else None,
            "seeds": rr.seeds,
            "reps": len(rr.reps),
            "ci": rr.ci,
            "simulated_days": rr.days,
            "warmup_days": rr.warmup_days,
            "warmup_check": [s.as_dict() for s in rr.warmup],
            "warmup_suggested_days": rr.warmup_suggestion(),
            "wall_s": round(rr.wall_s, 3) if math.isfinite(rr.wall_s) else None,
            "events": int(sum(max(r.events, 0) for r in rr.reps)),
            "warnings": rr.warnings,
            "files": ["summary.csv", "replications.csv", "manifest.json"]
            + [f"rep-{s}/" for s in rr.seeds],
            "config": rr.config,
        }
    )
    return data


def write_replication_files(rr: ReplicationResult, folder: Path, plots: bool = True) -> None:
    """The top level of a replication folder: combined ``summary.csv``, every replication's
    KPIs in ``replications.csv``, ``manifest.json``, and with ``plots`` the overlay plots
    and ``report.html``; the completion marker last."""
    write_csv(rr.summary, folder / "summary.csv")
    write_csv(rr.long(), folder / "replications.csv")
    _write_json(replication_manifest(rr), folder / "manifest.json")
    if plots:
        from silkroute_sim.outputs.plots.compare import replication_plots
        from silkroute_sim.outputs.report import folder_report

        replication_plots(rr, folder / "plots")
        folder_report(folder)
    mark_complete(
        folder, {"kind": "replications", "config_hash": rr.config_hash, "reps": len(rr.reps)}
    )


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
) -> tuple[Path, ReplicationResult]:
    """Run the replications into ``out`` atomically: ``out/rep-<seed>/`` per replication
    (complete, as a single run) and the combined files at the top."""
    holder: list[ReplicationResult] = []

    def fill(folder: Path) -> None:
        rr = run_replications(cfg, reps, workers, ci, progress, rep_root=folder, plots=plots)
        write_replication_files(rr, folder, plots)
        holder.append(rr)

    folder = write_folder(Path(out), fill, force=force)
    return folder, holder[0]


# --------------------------------------------------------------------------- reading back


def folder_kind(folder: Path) -> str | None:
    """``run``, ``replications``, ``comparison`` … from the completion marker (None if the
    folder is not a complete silkroute result)."""
    folder = Path(folder)
    if not is_complete(folder):
        return None
    try:
        info = json.loads((folder / MARKER).read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return None
    kind = info.get("kind") if isinstance(info, dict) else None
    return str(kind) if kind else None


def _read_manifest(folder: Path) -> dict[str, Any]:
    try:
        data = json.loads((folder / "manifest.json").read_text(encoding="utf-8"))
    except FileNotFoundError:
        raise SilkrouteError(f"{folder}: no manifest.json; not a silkroute result folder") from None
    except (OSError, ValueError) as exc:
        raise SilkrouteError(f"{folder}/manifest.json: cannot read it ({exc})") from None
    if not isinstance(data, dict):
        raise SilkrouteError(f"{folder}/manifest.json: not a silkroute manifest")
    return data


def load_run_folder(folder: Path) -> tuple[RepOutput, dict[str, Any]]:
    """One run's result folder as a :class:`RepOutput` (and its manifest)."""
    folder = Path(folder)
    manifest = _read_manifest(folder)
    try:
        summary = pd.read_csv(folder / "summary.csv")[["metric", "value", "unit"]]
        daily = pd.read_csv(folder / "daily.csv")
        ships = pd.read_csv(folder / "shipments.csv", usecols=["delivered_h", "door_to_door_d"])
    except (OSError, ValueError, KeyError) as exc:
        raise SilkrouteError(f"{folder}: cannot read the run's tables ({exc})") from None
    w0 = float(manifest.get("warmup_days", 0.0)) * 24
    w1 = float(manifest.get("simulated_days", math.inf)) * 24
    delivered = ships["delivered_h"]
    d2d = ships.loc[(delivered >= w0) & (delivered < w1), "door_to_door_d"].to_numpy(dtype=float)
    summary["unit"] = summary["unit"].fillna("")
    return (
        RepOutput(
            seed=int(manifest.get("seed", 0)),
            summary=summary,
            daily=daily,
            door_to_door_d=d2d,
            wall_s=float(manifest.get("wall_s") or math.nan),
            events=int(manifest.get("events", -1)),
            warnings=list(manifest.get("warnings", [])),
        ),
        manifest,
    )


def load_replications(folder: Path, ci: float = 0.95) -> ReplicationResult:
    """A finished run folder or replication folder, read back as a
    :class:`ReplicationResult` (a single run is one replication)."""
    folder = Path(folder)
    kind = folder_kind(folder)
    if kind is None:
        raise SilkrouteError(
            f"{folder}: not a complete silkroute result folder (no {MARKER}); "
            "pass folders written by 'silkroute run'"
        )
    if kind == "run":
        output, manifest = load_run_folder(folder)
        return collect(
            manifest.get("config") or {"name": manifest.get("name", folder.name)}, [output], ci
        )
    if kind == "replications":
        manifest = _read_manifest(folder)
        seeds = manifest.get("seeds") or []
        outputs = []
        for seed in seeds:
            rep = folder / f"rep-{seed}"
            if folder_kind(rep) != "run":
                raise SilkrouteError(f"{rep}: replication folder missing or incomplete")
            outputs.append(load_run_folder(rep)[0])
        config = manifest.get("config") or {"name": manifest.get("name", folder.name)}
        return collect(config, outputs, ci, float(manifest.get("wall_s") or math.nan))
    raise SilkrouteError(
        f"{folder}: is a {kind} folder; pass the folders of runs or replications "
        "(a comparison made with --keep-runs has them under runs/)"
    )
