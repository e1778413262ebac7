"""A replication folder: the combined files at its top, and reading run and replication
folders back as :class:`~silkroute_sim.outputs.replication_result.ReplicationResult`.

Each ``rep-<seed>/`` below the top is a complete run folder
(:mod:`silkroute_sim.outputs.run_folder`).
"""

from __future__ import annotations

import json
import math
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from silkroute_sim.config.errors import SilkrouteError
from silkroute_sim.outputs.folder_report import folder_report
from silkroute_sim.outputs.plots.compare import replication_plots
from silkroute_sim.outputs.replication_result import ReplicationResult, RepOutput, collect
from silkroute_sim.outputs.storage import (
    MARKER,
    base_manifest,
    folder_kind,
    mark_complete,
    write_csv,
    write_json,
)
from silkroute_sim.outputs.summary_split import split_summary

# --------------------------------------------------------------------------- writing


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
    # the qualifier split into kpi, by, key, as in a run's summary.csv
    write_csv(split_summary(rr.summary, rr.config), folder / "summary.csv")
    write_csv(rr.long(), folder / "replications.csv")
    write_json(replication_manifest(rr), folder / "manifest.json")
    if plots:
        replication_plots(rr, folder / "plots")
        folder_report(folder)
    mark_complete(
        folder, {"kind": "replications", "config_hash": rr.config_hash, "reps": len(rr.reps)}
    )


# --------------------------------------------------------------------------- reading back


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


def _shipments(folder: Path, manifest: dict[str, Any]) -> pd.DataFrame | None:
    """The delivery times of a run's boxes (shipments.csv or .parquet), or None when the
    run was written without its per-shipment table."""
    columns = ["delivered_h", "door_to_door_d"]
    for name in ("shipments.parquet", "shipments.csv"):
        path = folder / name
        if path.is_file():
            if name.endswith(".parquet"):
                import pyarrow.parquet as pq

                return pq.read_table(path, columns=columns).to_pandas()
            return pd.read_csv(path, usecols=columns)
    if manifest.get("records") == "summary":
        return None
    raise FileNotFoundError(f"no shipments table in {folder}")


def load_run_folder(folder: Path) -> tuple[RepOutput, dict[str, Any]]:
    """One run's result folder as a :class:`RepOutput` (and its manifest)."""
    folder = Path(folder)
    manifest = _read_manifest(folder)
    try:
        summary = pd.read_csv(folder / "summary.csv")[["metric", "value", "unit"]]
        daily = pd.read_csv(folder / "daily.csv")
        ships = _shipments(folder, manifest)
    except (OSError, ValueError, KeyError) as exc:
        reason = " ".join(str(exc).split())
        raise SilkrouteError(
            f"{folder}: cannot read the run's tables ({reason}); the result is damaged: "
            "run it again"
        ) from None
    w0 = float(manifest.get("warmup_days", 0.0)) * 24
    w1 = float(manifest.get("simulated_days", math.inf)) * 24
    if ships is None:  # written with records="summary": no per-box door-to-door times
        d2d = np.empty(0)
    else:
        delivered = ships["delivered_h"]
        released = (delivered >= w0) & (delivered < w1)
        d2d = ships.loc[released, "door_to_door_d"].to_numpy(dtype=float)
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
