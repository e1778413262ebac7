"""The sweep plan: a spec → validated points → keyed runs, before anything runs.

Every point's config is built with the loader's dotted overrides and validated, so a bad
point is one error naming the spec file and the parameter, not a failed run an hour later.
Each run is keyed by the hash of its resolved config, whose ``simulation.seed`` is the
replication's seed (``seed + rep``): the key is also the ``config_hash`` in the run's
manifest.
"""

from __future__ import annotations

import copy
import difflib
import hashlib
import json
import os
from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import silkroute_sim.model.simulate as simulation
from silkroute_sim.analysis.tables import Tables
from silkroute_sim.config.errors import ConfigError
from silkroute_sim.config.loader import (
    apply_override,
    load_raw,
    parse_override,
    resolve_config_path,
    validate_config,
)
from silkroute_sim.config.schema import ScenarioConfig
from silkroute_sim.experiments.sweep.constraints import Constraint, keep_points, parse_constraint
from silkroute_sim.experiments.sweep.designs import design_points
from silkroute_sim.experiments.sweep.spec import (
    MAX_RUNS,
    MAX_SEED,
    Parameter,
    SweepSpec,
    cell_text,
    load_spec,
    parse_parameter,
    resolve_spec_path,
)


@dataclass(frozen=True)
class Point:
    """One parameter point: its values by path and its validated, resolved config."""

    index: int
    values: dict[str, Any]
    config: dict[str, Any]

    def describe(self) -> str:
        return ", ".join(f"{k}={cell_text(v)}" for k, v in self.values.items())


@dataclass(frozen=True)
class RunTask:
    """What a worker needs for one run: picklable, no file paths."""

    key: str
    point: int
    rep: int
    seed: int
    config: dict[str, Any]


@dataclass
class SweepPlan:
    """A validated sweep: every point's config checked, every run keyed."""

    file: Path
    spec: SweepSpec
    raw: dict[str, Any]
    name: str
    base_path: Path
    parameters: list[Parameter]
    constraints: list[Constraint]
    points: list[Point]
    runs: list[RunTask]
    seed: int
    outputs: list[str] | None
    overrides: list[str] = field(default_factory=list)
    excluded: int = 0
    duplicates: int = 0

    @property
    def param_paths(self) -> list[str]:
        return [p.path for p in self.parameters]

    @property
    def design(self) -> str:
        return self.spec.design.kind


def plan_sweep(
    spec_path: str | os.PathLike[str],
    overrides: Sequence[str] = (),
    *,
    days: float | None = None,
    warmup_days: float | None = None,
    reps: int | None = None,
    seed: int | None = None,
) -> SweepPlan:
    """Validate a sweep spec and every config it generates; key every run.

    ``overrides`` (``key.path=value``), ``days`` and ``warmup_days`` apply to the base
    scenario before the parameters; ``reps`` and ``seed`` replace the spec's.
    Raises :class:`ConfigError` naming the spec file and key path.
    """
    file_path = resolve_spec_path(spec_path)
    file = str(file_path)
    spec, raw = load_spec(file_path)
    if reps is not None:
        spec = spec.model_copy(update={"reps": reps})
    base_path = _resolve_base(file_path, spec.base)
    base, applied = _base_scenario(base_path, spec, overrides, days, warmup_days, file)
    params = [parse_parameter(str(k), v, file) for k, v in spec.parameters.items()]
    _check_paths(base, params, file)
    _refuse_swept_options(applied, params, file)
    base_cfg = _validate_base(base, base_path, spec, params, file, applied)
    seed = _sweep_seed(spec, seed, base_cfg, file)
    constraints = [parse_constraint(t, i, params, file) for i, t in enumerate(spec.constraints)]
    candidates = design_points(params, spec.design, seed, file)
    kept = keep_points(candidates, constraints, file)
    points, duplicates = _build_points(base, base_path, kept, [p.path for p in params], file)
    outputs = None if spec.outputs == "all" else list(spec.outputs)
    plan = SweepPlan(
        file=file_path,
        spec=spec,
        raw=raw,
        name=spec.name or file_path.stem,
        base_path=base_path,
        parameters=params,
        constraints=constraints,
        points=points,
        runs=_keyed_runs(points, spec.reps, seed, file),
        seed=seed,
        outputs=outputs,
        overrides=list(overrides),
        excluded=len(candidates) - len(kept),
        duplicates=duplicates,
    )
    if outputs is not None:
        _check_outputs(plan)
    return plan


def _resolve_base(spec_file: Path, base: str) -> Path:
    local = spec_file.parent / base
    if local.is_file():
        return Path(os.path.normpath(local))
    found = resolve_config_path(base)
    if not found.is_file():
        raise ConfigError(str(spec_file), "base", "scenario file not found", base, has_value=True)
    return found


def _base_scenario(
    base_path: Path,
    spec: SweepSpec,
    overrides: Sequence[str],
    days: float | None,
    warmup_days: float | None,
    file: str,
) -> tuple[dict[str, Any], list[tuple[str, str]]]:
    """The base scenario's raw config with the spec's ``set:``, then ``--set``, ``--days``
    and ``--warmup-days`` applied (not validated yet), and what each option wrote:
    ``(option, dotted path)``."""
    applied: list[tuple[str, str]] = []
    base = load_raw(base_path)
    base.setdefault("name", base_path.stem)
    for key, value in spec.fixed.items():
        parts = key.split(".")
        if not key or any(not p for p in parts):
            raise ConfigError(file, f"set.{key}", "expected a dotted config path")
        try:
            apply_override(base, parts, value, file)
        except ConfigError as err:
            raise ConfigError(file, f"set.{err.path}", err.message) from None
    for text in overrides:
        parts, value = parse_override(text)
        option = f"--set {text}"
        applied.append((option, ".".join(apply_override(base, parts, value, option))))
    sim = base.get("simulation")
    if days is not None or warmup_days is not None:
        if not isinstance(sim, dict):
            sim = base["simulation"] = {}
        if days is not None:
            sim["days"] = days
            applied.append((f"--days {days:g}", "simulation.days"))
        if warmup_days is not None:
            sim["warmup_days"] = warmup_days
            applied.append((f"--warmup-days {warmup_days:g}", "simulation.warmup_days"))
    return base, applied


def _refuse_swept_options(
    applied: list[tuple[str, str]], params: list[Parameter], file: str
) -> None:
    """An option that writes a swept path would be replaced by every point's value,
    unchecked and without effect: refused, naming both."""
    for option, path in applied:
        swept = _owner(path, [p.path for p in params])
        if swept is not None:
            raise ConfigError(
                option,
                "",
                f"{swept} is a parameter of the sweep ({file}); each point sets it, so "
                "drop this option or the parameter",
            )


def _check_paths(base: dict[str, Any], params: list[Parameter], file: str) -> None:
    """Structural problems of a swept path (an index out of range, a value not a section)."""
    for p in params:
        try:
            apply_override(copy.deepcopy(base), p.path.split("."), None, file)
        except ConfigError as err:
            raise ConfigError(file, f"parameters.{p.path}", err.message) from None


def _owner(err_path: str, paths: Sequence[str]) -> str | None:
    """The swept/overridden path an error at ``err_path`` belongs to."""
    for path in sorted(paths, key=len, reverse=True):
        if err_path == path or err_path.startswith(path + ".") or path.startswith(err_path + "."):
            return path
    return None


def _validate_base(
    base: dict[str, Any],
    base_path: Path,
    spec: SweepSpec,
    params: list[Parameter],
    file: str,
    applied: Sequence[tuple[str, str]] = (),
) -> ScenarioConfig | None:
    """The base alone: its errors are reported against the option (``--set``, ``--days``)
    that wrote the key, the spec's ``set:`` or the base; None where the error is in a
    swept path (the points replace it)."""
    try:
        return validate_config(copy.deepcopy(base), str(base_path))
    except ConfigError as err:
        if _owner(err.path, [p.path for p in params]) is not None:
            return None
        for option, path in reversed(applied):  # the last option to write a key wins
            if _owner(err.path, [path]) is not None:
                raise ConfigError(
                    option, err.path, err.message, err.value, has_value=err.has_value
                ) from None
        fixed_owner = _owner(err.path, list(spec.fixed))
        if fixed_owner is not None:
            raise ConfigError(
                file,
                f"set.{fixed_owner}",
                f"makes an invalid config: {err.path}: {err.message}",
                err.value,
                has_value=err.has_value,
            ) from None
        raise


def _sweep_seed(
    spec: SweepSpec, seed: int | None, base_cfg: ScenarioConfig | None, file: str
) -> int:
    """The first replication's seed: the caller's, the spec's, or the base scenario's."""
    if seed is None:
        seed = spec.seed
    if seed is None:
        seed = base_cfg.simulation.seed if base_cfg is not None else 1
    if seed + spec.reps - 1 > MAX_SEED:
        raise ConfigError(
            file, "seed", f"seed + reps - 1 must be <= {MAX_SEED}", seed, has_value=True
        )
    return seed


def _build_points(
    base: dict[str, Any],
    base_path: Path,
    kept: list[dict[str, Any]],
    param_paths: list[str],
    file: str,
) -> tuple[list[Point], int]:
    """Validate every point's config; points whose configs resolve alike are kept once.
    Returns the points and the number of duplicates dropped."""
    points: list[Point] = []
    seen: set[str] = set()
    duplicates = 0
    for n, values in enumerate(kept):
        cfg = _point_config(base, base_path, n, values, param_paths, file)
        identity = cfg.config_hash()
        if identity in seen:
            duplicates += 1
            continue
        seen.add(identity)
        points.append(Point(len(points), values, cfg.resolved()))
    return points, duplicates


def _point_config(
    base: dict[str, Any],
    base_path: Path,
    n: int,
    values: dict[str, Any],
    param_paths: list[str],
    file: str,
) -> ScenarioConfig:
    data = copy.deepcopy(base)
    for path, value in values.items():
        apply_override(data, path.split("."), copy.deepcopy(value), file)
    try:
        return validate_config(data, str(base_path))
    except ConfigError as err:
        desc = ", ".join(f"{k}={cell_text(v)}" for k, v in values.items())
        owner = _owner(err.path, param_paths)
        message = f"point {n} ({desc}) makes an invalid config: {err.path}: {err.message}"
        if owner is None:
            raise ConfigError(
                file, "parameters", message, err.value, has_value=err.has_value
            ) from None
        raise ConfigError(
            file,
            f"parameters.{owner}",
            message,
            values[owner] if err.path == owner or not err.has_value else err.value,
            has_value=True,
        ) from None


def _keyed_runs(points: list[Point], reps: int, seed: int, file: str) -> list[RunTask]:
    total = len(points) * reps
    if total > MAX_RUNS:
        raise ConfigError(
            file, "reps", f"{total:,} runs; at most {MAX_RUNS:,}", reps, has_value=True
        )
    return [
        RunTask(run_key(pt.config, seed + r), pt.index, r, seed + r, pt.config)
        for pt in points
        for r in range(reps)
    ]


def with_seed(config: dict[str, Any], seed: int) -> dict[str, Any]:
    """``config`` with ``simulation.seed`` replaced (a shallow copy: the rest is shared)."""
    return {**config, "simulation": {**config["simulation"], "seed": seed}}


def run_key(config: dict[str, Any], seed: int) -> str:
    """The run's key: the hash of its resolved config with ``simulation.seed`` set, computed
    as ``ScenarioConfig.config_hash`` does, so it equals ``config_hash`` in the run's
    manifest.json (a test checks that they agree)."""
    canonical = json.dumps(with_seed(config, seed), sort_keys=True, separators=(",", ":"))
    return hashlib.sha256(canonical.encode()).hexdigest()[:16]


def _check_outputs(plan: SweepPlan) -> None:
    """Outputs must be KPI names: probe the first point with a one-day run."""
    data = copy.deepcopy(plan.points[0].config)
    data["simulation"].update({"days": 1.0, "warmup_days": 0.0})
    try:
        known = list(Tables(simulation.simulate(validate_config(data))).summary["metric"])
    except Exception:  # the real runs will report it, row by row
        return
    assert plan.outputs is not None
    for i, name in enumerate(plan.outputs):
        if name not in known:
            hint = difflib.get_close_matches(name, known, n=1, cutoff=0.6)
            did = f" (did you mean {hint[0]!r}?)" if hint else ""
            plain = [k for k in known if ":" not in k]
            per_node = sorted({k.split(":", 1)[0] for k in known if ":" in k})
            also = f"; per destination or node: {', '.join(k + ':<name>' for k in per_node)}"
            raise ConfigError(
                str(plan.file),
                f"outputs.{i}",
                f"unknown KPI{did}; KPIs: {', '.join(plain)}{also if per_node else ''}",
                name,
                has_value=True,
            )
