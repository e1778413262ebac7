"""Which run a result folder holds, and where a run goes when no ``--out`` is given.

A run is identified by its scenario's name, its config hash (which covers the days, the
warm-up, the seed in the config and every ``--set``) and its seeds. A result folder is
never replaced by a *different* run without ``force``: rerunning the same command replaces
its own result; another config, seed or horizon goes to a folder of its own
(:func:`default_folder`), and an explicit ``--out`` that holds another run is refused with
one line saying what to do (:func:`check_run_target`).
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any

from silkroute_sim.outputs.guard import (
    FAMILY,
    OutputError,
    check_output_target,
    read_marker,
    written_kind,
)
from silkroute_sim.outputs.replace import write_folder

if TYPE_CHECKING:
    from silkroute_sim.config.schema import ScenarioConfig

#: kinds of result that hold runs of one scenario (the ``run`` family of the guard)
RUN_KINDS = ("run", "replications")


@dataclass(frozen=True)
class RunIdentity:
    """What makes two runs the same run: scenario name, config hash and seeds.

    ``days`` and ``warmup_days`` are for saying which run it is (the hash covers them)."""

    kind: str
    name: str
    config_hash: str
    seeds: tuple[int, ...]
    days: float | None = None
    warmup_days: float | None = None

    def same_run(self, other: RunIdentity) -> bool:
        return (self.kind, self.name, self.config_hash, self.seeds) == (
            other.kind,
            other.name,
            other.config_hash,
            other.seeds,
        )

    def describe(self) -> str:
        """``baseline, 365 days (30 warm-up), seed 7`` or ``…, seeds 7…16``."""
        parts = [self.name]
        if self.days is not None:
            warm = f" ({self.warmup_days:g} warm-up)" if self.warmup_days is not None else ""
            parts.append(f"{self.days:g} days{warm}")
        if len(self.seeds) == 1:
            parts.append(f"seed {self.seeds[0]}")
        elif self.seeds:
            parts.append(f"{len(self.seeds)} replications, seeds {self.seeds[0]}…{self.seeds[-1]}")
        if self.kind not in RUN_KINDS:
            parts.append(self.kind)
        return ", ".join(parts)

    def short(self) -> str:
        """Eight hex digits that tell this run from another of the same name."""
        text = json.dumps([self.kind, self.config_hash, list(self.seeds)])
        return hashlib.sha256(text.encode()).hexdigest()[:8]


def _number(value: Any) -> float | None:
    return float(value) if isinstance(value, int | float) and not isinstance(value, bool) else None


def folder_identity(folder: Path) -> RunIdentity | None:
    """The run a silkroute result folder holds, from its manifest (None when the folder
    is not silkroute's, or its manifest does not say which run it holds)."""
    folder = Path(folder)
    kind = written_kind(folder)
    if kind is None:
        return None
    try:
        manifest = json.loads((folder / "manifest.json").read_text(encoding="utf-8"))
    except (OSError, ValueError):
        manifest = None
    if not isinstance(manifest, dict):
        manifest = {}
    marker = read_marker(folder) or {}
    config_hash = manifest.get("config_hash") or marker.get("config_hash")
    seeds = manifest.get("seeds")
    if not isinstance(seeds, list):
        seed = manifest.get("seed", marker.get("seed"))
        seeds = [seed] if isinstance(seed, int) else []
    if not config_hash or not seeds:
        return None
    return RunIdentity(
        kind=str(manifest.get("kind") or kind),
        name=str(manifest.get("name", "")),
        config_hash=str(config_hash),
        seeds=tuple(int(s) for s in seeds if isinstance(s, int)),
        days=_number(manifest.get("simulated_days")),
        warmup_days=_number(manifest.get("warmup_days")),
    )


def other_run(folder: Path, identity: RunIdentity) -> RunIdentity | bool:
    """What stands in the way of writing ``identity`` to ``folder``: the other run's
    identity (True when silkroute wrote a run there that says not which); False when the
    folder is absent, empty, holds the same run, or holds no run of silkroute's (a
    user's folder or another kind of result, which the output guard judges)."""
    folder = Path(folder)
    if not folder.is_dir() or not any(folder.iterdir()):
        return False
    kind = written_kind(folder)
    if kind is None or FAMILY.get(kind, kind) != FAMILY.get(identity.kind, identity.kind):
        return False
    theirs = folder_identity(folder)
    if theirs is None:
        return True
    return False if theirs.same_run(identity) else theirs


def config_identity(cfg: ScenarioConfig, reps: int | None = None) -> RunIdentity:
    """The identity of running ``cfg`` once (``reps`` None) or ``reps`` replications
    (seeds ``seed``, ``seed + 1`` …)."""
    seed = cfg.simulation.seed
    return RunIdentity(
        kind="run" if reps is None else "replications",
        name=cfg.name,
        config_hash=cfg.config_hash(),
        seeds=(seed,) if reps is None else tuple(seed + i for i in range(reps)),
        days=cfg.simulation.days,
        warmup_days=cfg.simulation.warmup_days,
    )


def check_run_target(
    out: Path | str, identity: RunIdentity, force: bool = False, probe: bool = True
) -> Path:
    """The output guard's checks (:func:`~.guard.check_output_target`), and without
    ``force`` a refusal when ``out`` holds a different run. Returns the resolved folder."""
    path = check_output_target(out, force, identity.kind, probe)
    if not force:
        theirs = other_run(path, identity)
        if theirs is not False:
            what = ""
            if isinstance(theirs, RunIdentity):
                shape = ""  # say it where only that differs: one run against replications
                if theirs.kind != identity.kind:
                    shape = "a single run: " if theirs.kind == "run" else "replications: "
                what = f" ({shape}{theirs.describe()})"
            raise OutputError(
                f"{out}: holds another run{what}; pass --force to replace it or choose "
                "another --out"
            )
    return path


def _free(folder: Path) -> bool:
    return not folder.exists() or (folder.is_dir() and not any(folder.iterdir()))


def candidates(
    root: Path,
    identity: RunIdentity,
    *,
    warmup_given: bool = False,
    varied: bool = False,
) -> list[Path]:
    """The folders a run may go to without ``--out``, in order of preference:
    ``<root>/<name>``; ``<name>-<days>d[-warmup<w>d]-seed<seed>[-reps<n>]`` (with the
    run's short hash when ``--set`` varied the config); the same with the short hash."""
    name = identity.name
    parts = [name]
    if identity.days is not None:
        parts.append(f"{identity.days:g}d")
    if warmup_given and identity.warmup_days is not None:
        parts.append(f"warmup{identity.warmup_days:g}d")
    if identity.seeds:
        parts.append(f"seed{identity.seeds[0]}")
    if len(identity.seeds) > 1 or identity.kind == "replications":
        parts.append(f"reps{len(identity.seeds)}")
    described = "-".join(parts)
    hashed = f"{described}-{identity.short()}"
    names = [name, hashed if varied else described, hashed]
    return [Path(root) / n for n in dict.fromkeys(names)]


def default_folder(
    root: Path,
    identity: RunIdentity,
    *,
    force: bool = False,
    warmup_given: bool = False,
    varied: bool = False,
) -> Path:
    """Where a run goes without ``--out``: the candidate (:func:`candidates`) that holds
    this very run (so a rerun replaces its own result), else the first free one; with
    ``force``, ``<root>/<name>`` unless this run is already elsewhere. Refuses, with one
    line, when every candidate holds something else."""
    options = candidates(root, identity, warmup_given=warmup_given, varied=varied)
    for folder in options:
        theirs = folder_identity(folder) if folder.is_dir() else None
        if theirs is not None and theirs.same_run(identity):
            return folder
    if force:
        return options[0]
    for folder in options:
        if _free(folder):
            return folder
    shown = ", ".join(str(f) for f in options)
    raise OutputError(
        f"{shown}: each holds another result; choose --out or pass --force to replace {options[0]}"
    )


def write_run_folder(
    out: Path | str, fill: Callable[[Path], None], identity: RunIdentity, force: bool = False
) -> Path:
    """:func:`~.replace.write_folder` for a run or replications: ``out`` is judged again
    as the result goes in (another run may have come first while this one worked)."""
    return write_folder(
        Path(out),
        fill,
        force=force,
        kind=identity.kind,
        recheck=lambda: check_run_target(out, identity, force, probe=False),
    )
