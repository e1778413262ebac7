"""Reading results back into Python: a run, a comparison or a sweep folder as DataFrames.

:func:`load_run` returns the tables a run wrote (``summary``, ``daily``, ``daily_long``,
``trains``, ``shipments``, ``node_events``, ``disruptions`` and any other table its
manifest lists; ``daily_long``, written to Parquet folders, is derived from ``daily.csv``
in a CSV folder), from CSV or Parquet alike and in the dtypes they were written with, so
the tables equal those the run produced in memory (floats to the four decimals CSV
keeps). :func:`load_comparison` and :func:`load_sweep` read a comparison's and a sweep's
tables. A folder that is not a silkroute result, or not a finished one, is refused with
one line saying what it is.
"""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any

from silkroute_sim.config.errors import SilkrouteError
from silkroute_sim.outputs.guard import MARKER, folder_kind, is_complete, written_kind
from silkroute_sim.outputs.summary_split import daily_long
from silkroute_sim.outputs.tablefiles import read_table

if TYPE_CHECKING:
    import pandas as pd

_TABLE_SUFFIXES = (".csv", ".parquet")
_LOADER_OF = {
    "run": "load_run",
    "replications": "load_run on one of its rep-<seed> folders",
    "comparison": "load_comparison",
    "sweep": "load_sweep",
    "optimize": "pandas.read_csv on its trials.csv and candidates.csv",
}


class ResultError(SilkrouteError):
    """A folder that cannot be read back as the result asked for."""


# --------------------------------------------------------------------------- results


@dataclass
class RunData:
    """One run read back: its tables as DataFrames and its manifest.

    ``trains``, ``shipments`` and ``node_events`` are None for a run written with
    ``records="summary"``; ``disruptions`` is None when the scenario has none;
    ``daily_long`` is the daily table in long form (read, or derived from ``daily``).
    ``tables`` holds every table by name, these and any other."""

    folder: Path
    manifest: dict[str, Any]
    summary: pd.DataFrame
    daily: pd.DataFrame
    daily_long: pd.DataFrame | None = None
    trains: pd.DataFrame | None = None
    shipments: pd.DataFrame | None = None
    node_events: pd.DataFrame | None = None
    disruptions: pd.DataFrame | None = None
    tables: dict[str, pd.DataFrame] = field(default_factory=dict)

    @property
    def name(self) -> str:
        return str(self.manifest.get("name", self.folder.name))

    @property
    def seed(self) -> int | None:
        seed = self.manifest.get("seed")
        return int(seed) if isinstance(seed, int) else None

    @property
    def records(self) -> str:
        """``full`` or ``summary``: which tables the run wrote."""
        return str(self.manifest.get("records", "full"))

    @property
    def format(self) -> str:
        """``csv`` or ``parquet``: the format of its per-shipment and per-event tables."""
        return str(self.manifest.get("format", "csv"))

    def kpis(self) -> dict[str, float]:
        """Every KPI of ``summary.csv`` by metric name."""
        return dict(zip(self.summary["metric"], self.summary["value"].astype(float), strict=True))


@dataclass
class ComparisonData:
    """A comparison read back: ``comparison`` (one row per scenario and KPI, differences
    from the base with their intervals), ``replications`` (every replication's KPIs) and
    the manifest; ``runs`` holds each scenario's replication folder when the comparison
    kept them (``--keep-runs``), by scenario name."""

    folder: Path
    manifest: dict[str, Any]
    comparison: pd.DataFrame
    replications: pd.DataFrame
    runs: dict[str, Path] = field(default_factory=dict)

    @property
    def scenarios(self) -> list[str]:
        return [str(s.get("name")) for s in self.manifest.get("scenarios", [])]


@dataclass
class SweepData:
    """A sweep read back: ``runs`` (one row per run: its parameters, seed, status and
    KPIs), ``points`` (one row per point: means and intervals over its replications) and
    the manifest. :meth:`run` loads one run's folder."""

    folder: Path
    manifest: dict[str, Any]
    runs: pd.DataFrame
    points: pd.DataFrame

    def run(self, key: str) -> RunData:
        """The run ``key`` (a value of ``runs["run_key"]``) read back with :func:`load_run`."""
        return load_run(self.folder / "runs" / str(key))


# --------------------------------------------------------------------------- checks


def _finished(folder: Path | str, expected: str) -> tuple[Path, dict[str, Any]]:
    """``folder`` as a finished result of kind ``expected`` and its manifest, or a
    one-line :class:`ResultError` saying what the folder is instead."""
    path = Path(folder)
    if not path.is_dir():
        what = "does not exist" if not path.exists() else "is not a folder"
        raise ResultError(f"{path}: {what}; pass a result folder written by silkroute")
    kind = written_kind(path)
    if kind is None:
        raise ResultError(
            f"{path}: not a silkroute result folder (no {MARKER} and no manifest.json)"
        )
    if not is_complete(path):
        raise ResultError(
            f"{path}: an unfinished {kind} result (no {MARKER}): it was interrupted or is "
            "still being written; rerun the command that writes it"
        )
    kind = folder_kind(path) or kind
    if kind != expected:
        article = "an" if kind[:1] in "aeiou" else "a"
        raise ResultError(
            f"{path}: is {article} {kind} folder; read it with {_LOADER_OF.get(kind, kind)}"
        )
    try:
        manifest = json.loads((path / "manifest.json").read_text(encoding="utf-8"))
    except (OSError, ValueError) as exc:
        raise ResultError(f"{path}/manifest.json: cannot read it ({exc})") from None
    if not isinstance(manifest, dict):
        raise ResultError(f"{path}/manifest.json: not a silkroute manifest")
    return path, manifest


def _read(path: Path, dtypes: dict[str, str] | None = None) -> pd.DataFrame:
    if not path.is_file():
        raise ResultError(f"{path}: missing; the result is incomplete (rerun the command)")
    try:
        return read_table(path, dtypes)
    except (OSError, ValueError, TypeError, KeyError) as exc:
        raise ResultError(f"{path}: cannot read it ({' '.join(str(exc).split())})") from None


def _run_tables(folder: Path, manifest: dict[str, Any]) -> dict[str, tuple[str, dict[str, str]]]:
    """Each table of a run folder: its file and dtypes, from the manifest's ``tables``
    (or, for a folder written before the manifest had them, from its table files)."""
    listed = manifest.get("tables")
    if isinstance(listed, dict) and listed:
        return {
            str(name): (str(info["file"]), dict(info.get("dtypes") or {}))
            for name, info in listed.items()
            if isinstance(info, dict) and info.get("file")
        }
    files = manifest.get("files")
    names = files if isinstance(files, list) else [p.name for p in folder.iterdir()]
    return {
        Path(f).stem: (str(f), {})
        for f in sorted(str(n) for n in names)
        if Path(f).suffix in _TABLE_SUFFIXES and "/" not in f
    }


# --------------------------------------------------------------------------- loaders


def load_run(folder: Path | str) -> RunData:
    """Read a run's result folder back: every table it wrote, as DataFrames in the dtypes
    they were written with (CSV or Parquet alike), and its manifest.

    >>> run = load_run("results/baseline")             # doctest: +SKIP
    >>> run.summary.set_index("metric").loc["hub_dwell_h_mean", "value"]  # doctest: +SKIP
    """
    path, manifest = _finished(folder, "run")
    frames = {
        name: _read(path / file, dtypes)
        for name, (file, dtypes) in _run_tables(path, manifest).items()
    }
    for name in ("summary", "daily"):
        if name not in frames:
            raise ResultError(f"{path}: has no {name} table; the result is incomplete")
    if "daily_long" not in frames and isinstance(manifest.get("config"), dict):
        frames["daily_long"] = daily_long(frames["daily"], manifest["config"])  # CSV folders
    return RunData(
        folder=path,
        manifest=manifest,
        summary=frames["summary"],
        daily=frames["daily"],
        daily_long=frames.get("daily_long"),
        trains=frames.get("trains"),
        shipments=frames.get("shipments"),
        node_events=frames.get("node_events"),
        disruptions=frames.get("disruptions"),
        tables=frames,
    )


def load_comparison(folder: Path | str) -> ComparisonData:
    """Read a comparison's result folder back (written by ``silkroute compare``)."""
    path, manifest = _finished(folder, "comparison")
    runs = {}
    for scenario in manifest.get("scenarios", []):
        name = str(scenario.get("name", "")) if isinstance(scenario, dict) else ""
        kept = path / "runs" / name
        if name and is_complete(kept):
            runs[name] = kept
    return ComparisonData(
        folder=path,
        manifest=manifest,
        comparison=_read(path / "comparison.csv"),
        replications=_read(path / "replications.csv"),
        runs=runs,
    )


def load_sweep(folder: Path | str) -> SweepData:
    """Read a sweep's result folder back (written by ``silkroute sweep``)."""
    path, manifest = _finished(folder, "sweep")
    return SweepData(
        folder=path,
        manifest=manifest,
        runs=_read(path / "runs.csv"),
        points=_read(path / "points.csv"),
    )
