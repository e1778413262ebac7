"""Sweeps: a YAML spec → validated points → keyed runs → ``runs.csv`` and ``points.csv``.

A sweep spec names a ``base`` scenario, the ``parameters`` to vary (dotted config paths
with value lists, ``{from, to, step}`` ranges or distributions), a ``design`` (``grid``,
``zip`` or a Latin hypercube ``{kind: lhs, n}``), ``reps`` and a ``seed``. Every point's
config is built with the loader's dotted overrides and validated before anything runs.

Each run is keyed by the hash of its resolved config, whose ``simulation.seed`` is the
replication's seed (``seed + rep``): the key is also the ``config_hash`` in the run's
manifest. Runs are written to ``<out>/runs/<key>/`` atomically and skipped when complete,
so a sweep killed at any point finishes on rerun with every run present once. The
top-level tables are rebuilt from the run folders at the end, never appended to.

The worker function :func:`execute_run` receives the resolved config as a plain dict,
re-validates it, simulates, and returns the run folder's files; the sweep process writes
them. So a local process pool and a Dask cluster (no shared disk needed) share one path.
"""

from __future__ import annotations

import ast
import copy
import difflib
import itertools
import json
import math
import os
import re
import socket
import statistics
import sys
import tempfile
import time
import traceback
from collections.abc import Callable, Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Annotated, Any, Literal

from pydantic import BaseModel, BeforeValidator, Field, ValidationError

from silkroute_sim.config.errors import ConfigError, SilkrouteError, from_validation_error
from silkroute_sim.config.schema import StrictModel

if TYPE_CHECKING:
    import pandas as pd

    from silkroute_sim.config.schema import ScenarioConfig

#: KPIs collected when a spec gives no ``outputs:``
DEFAULT_OUTPUTS: tuple[str, ...] = (
    "demand_t_per_day",
    "dispatched_t_per_day",
    "delivered_t_per_day",
    "trains_dispatched_per_day",
    "train_load_factor_mean",
    "hub_dwell_h_mean",
    "hub_dwell_h_p95",
    "yard_teu_mean",
    "crane_utilisation",
    "door_to_door_d_median",
    "backlog_t_end",
    "conservation_error_t",
)
MAX_POINTS = 100_000
MAX_RUNS = 1_000_000
MAX_SEED = 2**63 - 1
CI_LEVEL = 0.95
RUNS_DIR = "runs"
FAILED_DIR = "failed"
LOCK_FILE = ".sweep.lock"
#: the run warning (outputs.saturation_warning) counted in points.csv's saturated_share
SATURATION_TEXT = "the hub is saturated"


class SweepError(SilkrouteError):
    """A sweep cannot proceed (output folder in use or not a sweep folder)."""


# --------------------------------------------------------------------------- spec models


def _number(value: object) -> object:
    if isinstance(value, bool) or not isinstance(value, int | float):
        raise ValueError("must be a number")
    if isinstance(value, float) and not math.isfinite(value):
        raise ValueError("must be a finite number")
    return value


Number = Annotated[int | float, BeforeValidator(_number)]
Digits = Annotated[int, Field(ge=0, le=12)]


class RangeSpec(StrictModel):
    """``{from, to, step}`` (``to`` included when the steps land on it) or ``{from, to, num}``."""

    start: Number = Field(alias="from")
    to: Number
    step: Number | None = None
    num: int | None = Field(None, ge=1, le=MAX_POINTS)


class UniformDist(StrictModel):
    dist: Literal["uniform"]
    low: Number
    high: Number
    round: Digits | None = None


class LogUniformDist(StrictModel):
    dist: Literal["loguniform"]
    low: Annotated[Number, Field(gt=0)]
    high: Number
    round: Digits | None = None


class IntegerDist(StrictModel):
    """Whole numbers from ``low`` to ``high``, both included, equally likely."""

    dist: Literal["integer"]
    low: int
    high: int


class TriangularDist(StrictModel):
    dist: Literal["triangular"]
    low: Number
    mode: Number
    high: Number
    round: Digits | None = None


class NormalDist(StrictModel):
    dist: Literal["normal"]
    mean: Number
    sd: Annotated[Number, Field(gt=0)]
    round: Digits | None = None


class ChoiceDist(StrictModel):
    dist: Literal["choice"]
    values: list[Any] = Field(min_length=1, max_length=MAX_POINTS)


DIST_MODELS: dict[str, type[StrictModel]] = {
    "uniform": UniformDist,
    "loguniform": LogUniformDist,
    "integer": IntegerDist,
    "triangular": TriangularDist,
    "normal": NormalDist,
    "choice": ChoiceDist,
}
DistSpec = UniformDist | LogUniformDist | IntegerDist | TriangularDist | NormalDist | ChoiceDist


def _design(value: object) -> object:
    return {"kind": value} if isinstance(value, str) else value


class DesignSpec(StrictModel):
    """``grid`` (every combination), ``zip`` (i-th with i-th) or ``lhs`` (Latin hypercube)."""

    kind: Literal["grid", "zip", "lhs"] = "grid"
    n: int | None = Field(None, ge=1, le=MAX_POINTS, description="points of a Latin hypercube")
    seed: int | None = Field(None, ge=0, le=MAX_SEED, description="default: the sweep's seed")


class SweepSpec(StrictModel):
    name: Annotated[str, Field(min_length=1, max_length=100, pattern=r"^[\w.\-]+$")] | None = None
    description: str = ""
    base: str = Field(min_length=1, description="scenario file (relative to the spec) or name")
    fixed: dict[str, Any] = Field(default_factory=dict, alias="set")
    parameters: dict[str, Any] = Field(min_length=1, max_length=64)
    design: Annotated[DesignSpec, BeforeValidator(_design)] = Field(default_factory=DesignSpec)
    reps: int = Field(1, ge=1, le=10_000)
    seed: int | None = Field(None, ge=0, le=MAX_SEED)
    constraints: list[str] = Field(default_factory=list, max_length=100)
    outputs: list[str] | Literal["all"] = Field(
        default_factory=lambda: list(DEFAULT_OUTPUTS), min_length=1
    )


# --------------------------------------------------------------------------- parameters


@dataclass(frozen=True)
class Parameter:
    """One swept config path: discrete ``values`` (a list or a range) or a distribution."""

    path: str
    values: tuple[Any, ...] = ()
    dist: DistSpec | None = None

    @property
    def short(self) -> str:
        return self.path.rsplit(".", 1)[-1]

    def at_quantiles(self, u: Sequence[float]) -> list[Any]:
        """Values at quantiles ``u`` in [0, 1) (Latin hypercube columns)."""
        if self.dist is None or isinstance(self.dist, ChoiceDist):
            choices = self.values if self.dist is None else tuple(self.dist.values)
            return [choices[min(int(q * len(choices)), len(choices) - 1)] for q in u]
        d = self.dist
        if isinstance(d, IntegerDist):
            span = d.high - d.low + 1
            return [d.low + min(int(q * span), span - 1) for q in u]
        out: list[float] = []
        for q in u:
            if isinstance(d, UniformDist):
                x = d.low + q * (d.high - d.low)
            elif isinstance(d, LogUniformDist):
                x = math.exp(math.log(d.low) + q * (math.log(d.high) - math.log(d.low)))
            elif isinstance(d, TriangularDist):
                width = d.high - d.low
                cut = (d.mode - d.low) / width
                if q < cut:
                    x = d.low + math.sqrt(q * width * (d.mode - d.low))
                else:
                    x = d.high - math.sqrt((1 - q) * width * (d.high - d.mode))
            else:
                x = statistics.NormalDist(d.mean, d.sd).inv_cdf(min(max(q, 1e-12), 1 - 1e-12))
            out.append(x)
        digits = getattr(d, "round", None)
        if digits == 0:
            return [round(x) for x in out]
        if digits is not None:
            return [round(x, digits) for x in out]
        return [_tidy(x) for x in out]


def _tidy(x: float) -> float:
    """Drop float noise (0.30000000000000004 → 0.3): 12 significant digits."""
    return float(f"{x:.12g}")


def _prefixed(err: ConfigError, file: str, prefix: str) -> ConfigError:
    path = ".".join(p for p in (prefix, err.path) if p)
    return ConfigError(file, path, err.message, err.value, has_value=err.has_value)


def _validate_model(model: type[BaseModel], data: Any, file: str, prefix: str) -> Any:
    try:
        return model.model_validate(data)
    except ValidationError as exc:
        raise _prefixed(from_validation_error(exc, None, data, model), file, prefix) from None


def _range_values(spec: RangeSpec, file: str, where: str) -> tuple[Any, ...]:
    start, stop = spec.start, spec.to
    if (spec.step is None) == (spec.num is None):
        raise ConfigError(file, where, "give either step or num (not both)")
    if spec.num is not None:
        if spec.num == 1:
            return (start,)
        width = (stop - start) / (spec.num - 1)
        values = [_tidy(start + i * width) for i in range(spec.num)]
        if all(float(v).is_integer() for v in values) and isinstance(start, int):
            return tuple(int(v) for v in values)
        return tuple(values)
    step = spec.step
    assert step is not None
    if step == 0 or (stop - start) * step < 0:
        sign = "positive" if stop >= start else "negative"
        raise ConfigError(
            file,
            f"{where}.step",
            f"must be {sign} to go from {start} to {stop}",
            step,
            has_value=True,
        )
    count = math.floor((stop - start) / step + 1e-9) + 1
    if count > MAX_POINTS:
        raise ConfigError(
            file, where, f"range has {count} values; at most {MAX_POINTS} are allowed"
        )
    if all(isinstance(v, int) for v in (start, stop, step)):
        return tuple(range(int(start), int(start) + count * int(step), int(step)))
    return tuple(_tidy(start + i * step) for i in range(count))


def parse_parameter(path: str, raw: Any, file: str) -> Parameter:
    """One entry of ``parameters:``: a list, a scalar, ``{from, to, step}`` or ``{dist: …}``."""
    where = f"parameters.{path}"
    parts = path.split(".")
    if not path or any(not p.strip() for p in parts):
        raise ConfigError(file, where, "expected a dotted config path, e.g. hub.cranes.count")
    if path in ("simulation.seed", "name"):
        raise ConfigError(
            file, where, f"{path} cannot be swept: seeds come from the spec's seed and reps"
        )
    if isinstance(raw, list):
        if not raw:
            raise ConfigError(file, where, "the list of values is empty")
        if len(raw) > MAX_POINTS:
            raise ConfigError(file, where, f"at most {MAX_POINTS} values are allowed")
        return Parameter(path, values=tuple(raw))
    if isinstance(raw, dict):
        if "dist" in raw:
            kind = raw["dist"]
            model = DIST_MODELS.get(kind) if isinstance(kind, str) else None
            if model is None:
                raise ConfigError(
                    file,
                    f"{where}.dist",
                    f"unknown distribution; allowed: {', '.join(DIST_MODELS)}",
                    kind,
                    has_value=True,
                )
            dist = _validate_model(model, raw, file, where)
            _check_dist(dist, file, where)
            return Parameter(path, dist=dist)
        if "from" in raw or "to" in raw:
            spec = _validate_model(RangeSpec, raw, file, where)
            return Parameter(path, values=_range_values(spec, file, where))
        raise ConfigError(
            file,
            where,
            "expected a list of values, {from, to, step}, {from, to, num} or {dist: ...}; "
            "to sweep over mappings, put them in a list",
        )
    return Parameter(path, values=(raw,))


def _check_dist(dist: DistSpec, file: str, where: str) -> None:
    if isinstance(dist, UniformDist | LogUniformDist | IntegerDist) and dist.high <= dist.low:
        raise ConfigError(file, f"{where}.high", "must be above low", dist.high, has_value=True)
    if isinstance(dist, TriangularDist) and not dist.low <= dist.mode <= dist.high:
        raise ConfigError(
            file, f"{where}.mode", "must lie between low and high", dist.mode, has_value=True
        )
    if isinstance(dist, TriangularDist) and dist.high <= dist.low:
        raise ConfigError(file, f"{where}.high", "must be above low", dist.high, has_value=True)


# --------------------------------------------------------------------------- constraints

_STRING = re.compile(r"""('(?:[^'\\]|\\.)*'|"(?:[^"\\]|\\.)*")""")
_ALLOWED_NODES: tuple[type[ast.AST], ...] = (
    ast.Expression,
    ast.BoolOp,
    ast.And,
    ast.Or,
    ast.UnaryOp,
    ast.Not,
    ast.USub,
    ast.UAdd,
    ast.BinOp,
    ast.Add,
    ast.Sub,
    ast.Mult,
    ast.Div,
    ast.FloorDiv,
    ast.Mod,
    ast.Compare,
    ast.Eq,
    ast.NotEq,
    ast.Lt,
    ast.LtE,
    ast.Gt,
    ast.GtE,
    ast.In,
    ast.NotIn,
    ast.Constant,
    ast.Name,
    ast.Load,
    ast.Tuple,
    ast.List,
    ast.IfExp,
)


@dataclass(frozen=True)
class Constraint:
    """A boolean expression over parameter paths; points where it is false are skipped.

    Paths are written as in ``parameters:`` (``demand.tonnes_per_day``), or by their last
    segment when that is unambiguous (``tonnes_per_day``). Comparisons, ``and``/``or``/
    ``not``, arithmetic and ``in`` are allowed; nothing else (no calls, no attributes).
    """

    text: str
    index: int
    code: Any
    names: dict[str, str]

    def __call__(self, values: dict[str, Any]) -> bool:
        scope = {name: values[path] for name, path in self.names.items()}
        return bool(eval(self.code, {"__builtins__": {}}, scope))


def parse_constraint(text: str, index: int, params: Sequence[Parameter], file: str) -> Constraint:
    where = f"constraints.{index}"
    aliases: dict[str, str] = {p.path: p.path for p in params}
    shorts = [p.short for p in params]
    for p in params:
        if shorts.count(p.short) == 1 and p.short not in aliases:
            aliases[p.short] = p.path
    names: dict[str, str] = {}
    placeholder_of: dict[str, str] = {}
    for i, alias in enumerate(sorted(aliases, key=len, reverse=True)):
        placeholder_of[alias] = f"__p{i}"
    pattern = re.compile(
        r"(?<![\w.])("
        + "|".join(re.escape(a) for a in sorted(aliases, key=len, reverse=True))
        + r")(?![\w.])"
    )

    def substitute(segment: str) -> str:
        def repl(match: re.Match[str]) -> str:
            alias = match.group(1)
            names[placeholder_of[alias]] = aliases[alias]
            return placeholder_of[alias]

        return pattern.sub(repl, segment)

    pieces = _STRING.split(text)
    expr = "".join(p if i % 2 else substitute(p) for i, p in enumerate(pieces))
    try:
        tree = ast.parse(expr.strip(), mode="eval")
    except SyntaxError as exc:
        raise ConfigError(
            file, where, f"not a valid expression ({exc.msg})", text, has_value=True
        ) from None
    for node in ast.walk(tree):
        if not isinstance(node, _ALLOWED_NODES):
            raise ConfigError(
                file,
                where,
                f"{type(node).__name__} is not allowed; use comparisons, and/or/not, "
                "arithmetic and parameter paths",
                text,
                has_value=True,
            )
        if isinstance(node, ast.Name) and node.id not in names:
            raise ConfigError(
                file,
                where,
                f"unknown name {node.id!r}; use a parameter path: "
                + ", ".join(p.path for p in params),
                text,
                has_value=True,
            )
    return Constraint(text, index, compile(tree, f"<{where}>", "eval"), names)


# --------------------------------------------------------------------------- plan


@dataclass(frozen=True)
class Point:
    """One parameter point: its values by path and its validated, resolved config."""

    index: int
    values: dict[str, Any]
    config: dict[str, Any]

    def describe(self) -> str:
        return ", ".join(f"{k}={_cell(v)}" for k, v in self.values.items())


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


def _cell(value: Any) -> str:
    if isinstance(value, dict | list):
        return json.dumps(value, ensure_ascii=False, separators=(",", ":"))
    return str(value)


def _owner(err_path: str, paths: Sequence[str]) -> str | None:
    """The swept/overridden path an error at ``err_path`` belongs to."""
    for path in sorted(paths, key=len, reverse=True):
        if err_path == path or err_path.startswith(path + ".") or path.startswith(err_path + "."):
            return path
    return None


def _resolve_base(spec_file: Path, base: str) -> Path:
    from silkroute_sim.config.loader import resolve_config_path

    local = spec_file.parent / base
    if local.is_file():
        return Path(os.path.normpath(local))
    found = resolve_config_path(base)
    if not found.is_file():
        raise ConfigError(str(spec_file), "base", "scenario file not found", base, has_value=True)
    return found


def _design_points(
    params: list[Parameter], design: DesignSpec, seed: int, file: str
) -> list[dict[str, Any]]:
    if design.kind != "lhs":
        for p in params:
            if p.dist is not None:
                raise ConfigError(
                    file,
                    f"parameters.{p.path}",
                    f"a distribution needs design lhs; with {design.kind} give a list or "
                    "{from, to, step}",
                )
        if design.n is not None:
            raise ConfigError(file, "design.n", f"only for design lhs (this is {design.kind})")
    if design.kind == "grid":
        total = math.prod(len(p.values) for p in params)
        if total > MAX_POINTS:
            raise ConfigError(
                file, "parameters", f"the grid has {total:,} points; at most {MAX_POINTS:,}"
            )
        return [
            dict(zip((p.path for p in params), combo, strict=True))
            for combo in itertools.product(*(p.values for p in params))
        ]
    if design.kind == "zip":
        length = len(params[0].values)
        for p in params[1:]:
            if len(p.values) != length:
                raise ConfigError(
                    file,
                    f"parameters.{p.path}",
                    f"design zip needs equally long value lists: {len(p.values)} values here, "
                    f"{length} for {params[0].path}",
                )
        return [{p.path: p.values[i] for p in params} for i in range(length)]
    if design.n is None:
        raise ConfigError(file, "design.n", "required for design lhs (the number of points)")
    import numpy as np

    rng = np.random.default_rng(design.seed if design.seed is not None else seed)
    n = design.n
    columns: dict[str, list[Any]] = {}
    for p in params:
        u = (rng.permutation(n) + rng.random(n)) / n
        columns[p.path] = p.at_quantiles([float(q) for q in u])
    return [{path: columns[path][i] for path in columns} for i in range(n)]


def resolve_spec_path(name: str | os.PathLike[str]) -> Path:
    """A path as given, or a packaged sweep by name (``capacity`` → configs/sweeps/)."""
    from silkroute_sim.config.loader import configs_dir

    path = Path(name)
    if path.exists():
        return path
    for folder in (configs_dir() / "sweeps", configs_dir()):
        for candidate in (folder / path, folder / path.with_suffix(".yaml")):
            if candidate.is_file():
                return candidate
    return path


def load_spec(path: Path) -> tuple[SweepSpec, dict[str, Any]]:
    """Read and validate a sweep spec (one-line errors naming the key path)."""
    from silkroute_sim.config.loader import read_yaml

    raw = read_yaml(path)
    allowed = [f.alias or name for name, f in SweepSpec.model_fields.items()]
    for key in raw:  # before "missing" errors: a misspelt key explains a missing one
        if key not in allowed:
            hint = difflib.get_close_matches(str(key), allowed, n=1, cutoff=0.6)
            did = f" (did you mean {hint[0]!r}?)" if hint else ""
            raise ConfigError(
                str(path), str(key), f"unknown key {key!r}{did}; allowed keys: {', '.join(allowed)}"
            )
    try:
        spec = SweepSpec.model_validate(raw)
    except ValidationError as exc:
        raise from_validation_error(exc, str(path), raw, SweepSpec) from None
    return spec, raw


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
    from silkroute_sim.config.loader import (
        apply_override,
        load_raw,
        parse_override,
        validate_config,
    )

    file_path = resolve_spec_path(spec_path)
    file = str(file_path)
    spec, raw = load_spec(file_path)
    if reps is not None:
        spec = spec.model_copy(update={"reps": reps})
    base_path = _resolve_base(file_path, spec.base)
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
        apply_override(base, parts, value, "--set")
    sim = base.get("simulation")
    if days is not None or warmup_days is not None:
        if not isinstance(sim, dict):
            sim = base["simulation"] = {}
        if days is not None:
            sim["days"] = days
        if warmup_days is not None:
            sim["warmup_days"] = warmup_days

    params = [parse_parameter(str(k), v, file) for k, v in spec.parameters.items()]
    param_paths = [p.path for p in params]
    for p in params:  # structural problems (index out of range, a value not a section)
        try:
            apply_override(copy.deepcopy(base), p.path.split("."), None, file)
        except ConfigError as err:
            raise ConfigError(file, f"parameters.{p.path}", err.message) from None
    # the base alone: its errors are reported against the base or the spec's set:
    try:
        base_cfg: ScenarioConfig | None = validate_config(copy.deepcopy(base), str(base_path))
    except ConfigError as err:
        base_cfg = None
        if _owner(err.path, param_paths) is None:
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
    if seed is None:
        seed = spec.seed
    if seed is None:
        seed = base_cfg.simulation.seed if base_cfg is not None else 1
    if seed + spec.reps - 1 > MAX_SEED:
        raise ConfigError(
            file, "seed", f"seed + reps - 1 must be <= {MAX_SEED}", seed, has_value=True
        )
    constraints = [parse_constraint(t, i, params, file) for i, t in enumerate(spec.constraints)]

    candidates = _design_points(params, spec.design, seed, file)
    kept: list[dict[str, Any]] = []
    for values in candidates:
        ok = True
        for c in constraints:
            try:
                ok = c(values)
            except Exception as exc:  # a type error in the user's expression
                desc = ", ".join(f"{k}={_cell(v)}" for k, v in values.items())
                raise ConfigError(
                    file,
                    f"constraints.{c.index}",
                    f"cannot evaluate at ({desc}): {type(exc).__name__}: {exc}",
                    c.text,
                    has_value=True,
                ) from None
            if not ok:
                break
        if ok:
            kept.append(values)
    if not kept:
        raise ConfigError(file, "constraints", f"exclude all {len(candidates)} points")

    points: list[Point] = []
    seen: set[str] = set()
    duplicates = 0
    for n, values in enumerate(kept):
        data = copy.deepcopy(base)
        for path, value in values.items():
            apply_override(data, path.split("."), copy.deepcopy(value), file)
        try:
            cfg = validate_config(data, str(base_path))
        except ConfigError as err:
            desc = ", ".join(f"{k}={_cell(v)}" for k, v in values.items())
            owner = _owner(err.path, param_paths)
            if owner is None:
                raise ConfigError(
                    file,
                    "parameters",
                    f"point {n} ({desc}) makes an invalid config: {err.path}: {err.message}",
                    err.value,
                    has_value=err.has_value,
                ) from None
            raise ConfigError(
                file,
                f"parameters.{owner}",
                f"point {n} ({desc}) makes an invalid config: {err.path}: {err.message}",
                values[owner] if err.path == owner or not err.has_value else err.value,
                has_value=True,
            ) from None
        resolved = cfg.resolved()
        identity = cfg.config_hash()
        if identity in seen:
            duplicates += 1
            continue
        seen.add(identity)
        points.append(Point(len(points), values, resolved))

    total = len(points) * spec.reps
    if total > MAX_RUNS:
        raise ConfigError(
            file, "reps", f"{total:,} runs; at most {MAX_RUNS:,}", spec.reps, has_value=True
        )
    runs = [
        RunTask(run_key(pt.config, seed + r), pt.index, r, seed + r, pt.config)
        for pt in points
        for r in range(spec.reps)
    ]
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
        runs=runs,
        seed=seed,
        outputs=outputs,
        overrides=list(overrides),
        excluded=len(candidates) - len(kept),
        duplicates=duplicates,
    )
    if outputs is not None:
        _check_outputs(plan)
    return plan


def _with_seed(config: dict[str, Any], seed: int) -> dict[str, Any]:
    return {**config, "simulation": {**config["simulation"], "seed": seed}}


def run_key(config: dict[str, Any], seed: int) -> str:
    """The run's key: the hash of its resolved config with ``simulation.seed`` set, computed
    as ``ScenarioConfig.config_hash`` does, so it equals ``config_hash`` in the run's
    manifest.json (a test checks that they agree)."""
    import hashlib

    canonical = json.dumps(_with_seed(config, seed), sort_keys=True, separators=(",", ":"))
    return hashlib.sha256(canonical.encode()).hexdigest()[:16]


def _check_outputs(plan: SweepPlan) -> None:
    """Outputs must be KPI names: probe the first point with a one-day run."""
    from silkroute_sim.analysis.tables import Tables
    from silkroute_sim.config.loader import validate_config
    from silkroute_sim.model.simulate import simulate

    data = copy.deepcopy(plan.points[0].config)
    data["simulation"].update({"days": 1.0, "warmup_days": 0.0})
    try:
        known = list(Tables(simulate(validate_config(data))).summary["metric"])
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


# --------------------------------------------------------------------------- one run (worker)


@dataclass
class RunOutcome:
    """What a worker sends back: the run folder's files, or the error."""

    key: str
    files: dict[str, bytes] | None
    error: str | None = None
    detail: str = ""
    wall_s: float = 0.0
    host: str = ""


def _one_line(exc: BaseException) -> str:
    text = str(exc) if isinstance(exc, SilkrouteError) else f"{type(exc).__name__}: {exc}"
    text = " ".join(text.split())
    return text if len(text) <= 500 else text[:497] + "..."


def execute_run(task: RunTask) -> RunOutcome:
    """Simulate one run and return its folder's files (written by ``outputs.write_run``).

    Runs in a worker process (local pool or Dask): the config arrives as a plain dict and
    is validated again here. Errors come back as an outcome, never raised."""
    from silkroute_sim.config.loader import validate_config
    from silkroute_sim.model.simulate import simulate
    from silkroute_sim.outputs.run_folder import write_run
    from silkroute_sim.outputs.storage import MARKER

    started = time.perf_counter()
    host = f"{socket.gethostname()}:{os.getpid()}"
    try:
        data = copy.deepcopy(_with_seed(task.config, task.seed))
        cfg = validate_config(data, f"run {task.key}")
        resolved_key = run_key(cfg.resolved(), task.seed)
        if resolved_key != task.key:  # e.g. other defaults on a Dask worker
            raise SweepError(
                f"the worker resolved a different config (key {resolved_key}, expected "
                f"{task.key}); is the same silkroute-sim version installed on every worker?"
            )
        result = simulate(cfg)
        with tempfile.TemporaryDirectory(prefix="silkroute-run-") as tmp:
            folder, _, _ = write_run(result, Path(tmp) / task.key, plots=False)
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


# --------------------------------------------------------------------------- output folder


def _check_sweep_folder(out: Path) -> None:
    from silkroute_sim.outputs.storage import MARKER, check_output_target

    check_output_target(out)
    manifest = out / "manifest.json"
    if not out.is_dir() or not any(out.iterdir()):
        return
    kind = None
    if manifest.is_file():
        try:
            kind = json.loads(manifest.read_text(encoding="utf-8")).get("kind")
        except (OSError, ValueError, AttributeError):
            kind = None
    if kind != "sweep":
        what = "a run folder" if (out / MARKER).is_file() else "not a sweep folder"
        raise SweepError(f"{out}: is {what}; choose another --out")


@contextmanager
def _locked(out: Path) -> Iterator[None]:
    """One sweep process per folder: an advisory lock the kernel drops if we are killed."""
    if sys.platform == "win32":  # pragma: no cover
        yield
        return
    import fcntl

    fd = os.open(out / LOCK_FILE, os.O_RDWR | os.O_CREAT, 0o644)
    try:
        try:
            fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except OSError:
            raise SweepError(f"{out}: another sweep is writing to this folder") from None
        yield
    finally:
        os.close(fd)


def _clean_leftovers(out: Path) -> int:
    """Remove staging folders and temporary files left by a killed sweep."""
    from silkroute_sim.outputs.storage import remove_path

    removed = 0
    for folder in (out, out / RUNS_DIR, out / FAILED_DIR):
        if not folder.is_dir():
            continue
        for item in folder.iterdir():
            if item.name.startswith(".") and (".tmp-" in item.name or ".old-" in item.name):
                remove_path(item)
                removed += 1
    return removed


def _sweep_manifest(plan: SweepPlan, **extra: Any) -> dict[str, Any]:
    from silkroute_sim.outputs.storage import base_manifest

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


# --------------------------------------------------------------------------- results


@dataclass
class SweepResults:
    """The tables of a sweep, rebuilt from its run folders."""

    runs: pd.DataFrame
    points: pd.DataFrame
    kpis: list[str]
    units: dict[str, str]


def _param_column(values: list[Any]) -> list[Any]:
    return [_cell(v) if isinstance(v, dict | list) else v for v in values]


def collect_results(plan: SweepPlan, out: Path) -> SweepResults:
    """Build ``runs.csv`` and ``points.csv`` rows from the complete run folders and the
    failure records; a run is present at most once because rows come from the plan."""
    import pandas as pd

    from silkroute_sim.analysis.stats import mean_ci
    from silkroute_sim.outputs.storage import is_complete

    kpi_rows: dict[str, dict[str, float]] = {}
    units: dict[str, str] = {}
    order: list[str] = []
    rows: list[dict[str, Any]] = []
    for task in plan.runs:
        folder = out / RUNS_DIR / task.key
        row: dict[str, Any] = {"run_key": task.key, "point": task.point, "rep": task.rep}
        for path, value in plan.points[task.point].values.items():
            row[path] = value
        row["seed"] = task.seed
        if is_complete(folder):
            summary = pd.read_csv(folder / "summary.csv", keep_default_na=True)
            values = dict(zip(summary["metric"], summary["value"].astype(float), strict=False))
            for metric, unit in zip(summary["metric"], summary["unit"], strict=False):
                if metric not in units:
                    units[metric] = str(unit)
                    order.append(metric)
            kpi_rows[task.key] = values
            warnings = _read_warnings(folder)
            row.update(status="ok", error="", warnings=" | ".join(warnings))
        else:
            failure = out / FAILED_DIR / f"{task.key}.json"
            if failure.is_file():
                try:
                    error = str(json.loads(failure.read_text(encoding="utf-8"))["error"])
                except (OSError, ValueError, KeyError):
                    error = "failed (unreadable failure record)"
                row.update(status="failed", error=error, warnings="")
            else:
                row.update(status="missing", error="not run yet", warnings="")
        rows.append(row)
    kpis = list(plan.outputs) if plan.outputs is not None else order
    for row in rows:
        values = kpi_rows.get(row["run_key"], {})
        for k in kpis:
            row[k] = values.get(k, math.nan)
    columns = [
        "run_key",
        "point",
        "rep",
        *plan.param_paths,
        "seed",
        "status",
        "error",
        *kpis,
        "warnings",
    ]
    runs = pd.DataFrame(rows, columns=columns)
    for path in plan.param_paths:
        runs[path] = _param_column(list(runs[path]))
    runs = runs.sort_values("run_key", kind="stable").reset_index(drop=True)

    point_rows: list[dict[str, Any]] = []
    by_point = {p: g for p, g in runs.groupby("point", sort=True)}
    for pt in plan.points:
        group = by_point.get(pt.index, runs.iloc[0:0])
        ok = group[group["status"] == "ok"]
        prow: dict[str, Any] = {"point": pt.index}
        for path, value in pt.values.items():
            prow[path] = value
        prow["n"] = len(ok)
        prow["n_failed"] = int((group["status"] == "failed").sum())
        saturated = ok["warnings"].astype(str).str.contains(SATURATION_TEXT, regex=False)
        prow["saturated_share"] = float(saturated.mean()) if len(ok) else math.nan
        for k in kpis:
            mean, low, high, _ = mean_ci(ok[k].to_numpy(dtype=float), CI_LEVEL)
            prow[f"{k}_mean"] = mean
            prow[f"{k}_ci_low"] = low
            prow[f"{k}_ci_high"] = high
        point_rows.append(prow)
    points = pd.DataFrame(point_rows)
    for path in plan.param_paths:
        points[path] = _param_column(list(points[path]))
    return SweepResults(runs, points, kpis, {k: units.get(k, "") for k in kpis})


def _read_warnings(folder: Path) -> list[str]:
    try:
        data = json.loads((folder / "manifest.json").read_text(encoding="utf-8"))
        return [str(w) for w in data.get("warnings", [])]
    except (OSError, ValueError, AttributeError):
        return []


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


def pending_runs(plan: SweepPlan, out: Path) -> list[RunTask]:
    """Runs of ``plan`` without a complete folder under ``out`` (failed ones included)."""
    from silkroute_sim.outputs.storage import is_complete

    return [t for t in plan.runs if not is_complete(out / RUNS_DIR / t.key)]


def _store_run(out: Path, task: RunTask, outcome: RunOutcome) -> None:
    from silkroute_sim.outputs.storage import MARKER, write_folder

    files = outcome.files or {}

    def fill(folder: Path) -> None:
        for name, data in files.items():
            if name == MARKER:
                continue
            target = folder / name
            target.parent.mkdir(parents=True, exist_ok=True)
            target.write_bytes(data)
        (folder / MARKER).write_bytes(files[MARKER])  # last: the folder is complete

    write_folder(out / RUNS_DIR / task.key, fill)
    (out / FAILED_DIR / f"{task.key}.json").unlink(missing_ok=True)


def _store_failure(out: Path, task: RunTask, error: str, detail: str, host: str) -> None:
    from silkroute_sim.outputs.storage import write_json

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
    write_json(record, out / FAILED_DIR / f"{task.key}.json")


def run_sweep(
    spec: str | os.PathLike[str] | SweepPlan,
    out: str | os.PathLike[str] | None = None,
    *,
    workers: int | None = None,
    scheduler: str | None = None,
    plots: bool = True,
    progress: ProgressFn | None = None,
    connect_timeout_s: float = 10.0,
) -> SweepOutcome:
    """Run (or finish) a sweep into ``out`` (default ``results/<sweep name>``).

    Complete runs are skipped; failed ones are retried. ``workers`` local processes (default:
    the CPU cores; 1 runs in this process), or the Dask cluster at ``scheduler``. Returns
    the tables; ``failed`` counts runs that are not ok."""
    from silkroute_sim.experiments.executor import make_executor
    from silkroute_sim.outputs.storage import MARKER, is_complete, write_csv, write_json

    started = time.perf_counter()
    plan = spec if isinstance(spec, SweepPlan) else plan_sweep(spec)
    target = Path(out) if out is not None else Path("results") / plan.name
    _check_sweep_folder(target)
    executor = make_executor(workers=workers, scheduler=scheduler, timeout_s=connect_timeout_s)
    try:
        target.mkdir(parents=True, exist_ok=True)
        with _locked(target):
            _clean_leftovers(target)
            (target / MARKER).unlink(missing_ok=True)
            (target / RUNS_DIR).mkdir(exist_ok=True)
            write_json(_sweep_manifest(plan, status="running"), target / "manifest.json")
            todo = pending_runs(plan, target)
            done_before = len(plan.runs) - len(todo)
            done = failed = 0
            if progress is not None:
                progress(Progress(len(plan.runs), done_before, 0, 0))
            for task, result in executor.imap_unordered(execute_run, todo, key=_task_key):
                error: str | None
                if isinstance(result, BaseException):
                    error = _one_line(result)
                    _store_failure(target, task, error, repr(result), "")
                elif result.files is None:
                    error = result.error or "failed"
                    _store_failure(target, task, error, result.detail, result.host)
                else:
                    error = None
                    _store_run(target, task, result)
                done += error is None
                failed += error is not None
                if progress is not None:
                    progress(Progress(len(plan.runs), done_before, done, failed, task, error))
            results = collect_results(plan, target)
            write_csv(results.runs, target / "runs.csv")
            write_csv(results.points, target / "points.csv")
            known = {t.key for t in plan.runs}
            stale = sum(
                1
                for d in (target / RUNS_DIR).iterdir()
                if not d.name.startswith(".") and d.name not in known and is_complete(d)
            )
            figures: list[Path] = []
            for old in (target / "plots").glob("*.png"):  # drawn from older tables
                old.unlink()
            if plots:
                from silkroute_sim.outputs.plots.sweep import sweep_plots

                figures = sweep_plots(plan, results, target / "plots")
            n_failed = int((results.runs["status"] != "ok").sum())
            wall = time.perf_counter() - started
            write_json(
                _sweep_manifest(
                    plan,
                    status="complete" if n_failed == 0 else "incomplete",
                    executor=executor.description,
                    wall_s=round(wall, 3),
                    ran=done + failed,
                    failed=n_failed,
                    stale_runs=stale,
                    kpis=results.kpis,
                    units=results.units,
                ),
                target / "manifest.json",
            )
            report = write_sweep_report(target)
            if n_failed == 0:
                from silkroute_sim.outputs.storage import mark_complete

                mark_complete(target, {"kind": "sweep", "runs": len(plan.runs)})
    finally:
        executor.close()
    return SweepOutcome(
        out=target,
        plan=plan,
        results=results,
        done_before=done_before,
        ran=done + failed,
        failed=n_failed,
        wall_s=time.perf_counter() - started,
        executor=executor.description,
        plots=figures,
        report=report,
        stale_runs=stale,
    )


def _task_key(task: RunTask) -> str:
    return task.key


def write_sweep_report(folder: str | os.PathLike[str]) -> Path | None:
    """Write ``report.html`` of a finished sweep folder from its files: the points table
    (mean and CI of each KPI, from points.csv), the run counts (runs.csv), the sweep's
    description (manifest.json) and every plot in plots/. Uses the report module's
    ``write_report``; returns None where that is not available."""
    try:
        from silkroute_sim.outputs.report import write_report
    except ImportError:  # pragma: no cover - the report module ships with the package
        return None
    import pandas as pd

    folder = Path(folder)
    try:
        manifest = json.loads((folder / "manifest.json").read_text(encoding="utf-8"))
        points = pd.read_csv(folder / "points.csv")
        runs = pd.read_csv(folder / "runs.csv", usecols=["status"])
    except (OSError, ValueError, KeyError) as exc:
        raise SweepError(f"{folder}: cannot build the sweep report ({exc})") from None
    params: list[str] = list(manifest.get("parameters", []))
    units: dict[str, str] = dict(manifest.get("units", {}))
    kpis = [
        k
        for k in manifest.get("kpis", [])
        if all(f"{k}_{part}" in points for part in ("mean", "ci_low", "ci_high"))
    ]
    table = pd.DataFrame({"point": points["point"]})
    for path in params:
        table[path] = points[path].astype(str)
    table["runs ok"] = points["n"]
    if bool((points["n_failed"] > 0).any()):
        table["failed"] = points["n_failed"]
    if bool((points["saturated_share"] > 0).any()):
        table["saturated"] = points["saturated_share"].map(
            lambda v: "" if not math.isfinite(v) else f"{v:.0%}"
        )
    for kpi in kpis:
        unit = units.get(kpi, "")
        label = f"{kpi} [{unit}]" if unit and unit != "nan" else kpi
        table[label] = [
            _interval(m, lo, hi)
            for m, lo, hi in zip(
                points[f"{kpi}_mean"],
                points[f"{kpi}_ci_low"],
                points[f"{kpi}_ci_high"],
                strict=True,
            )
        ]
    failed = int((runs["status"] != "ok").sum())
    reps, seed = manifest.get("reps"), manifest.get("seed")
    meta: dict[str, Any] = {
        "sweep": manifest.get("name", folder.name),
        "spec": manifest.get("spec_file", ""),
        "base scenario": manifest.get("base", ""),
        "design": manifest.get("design", ""),
        "parameters": ", ".join(params),
        "points": len(points),
        "replications": f"{reps} (seeds {seed}..{seed + reps - 1})"
        if isinstance(reps, int) and isinstance(seed, int)
        else reps,
        "runs": f"{len(runs)} ({failed} not ok)" if failed else len(runs),
    }
    if manifest.get("overrides"):
        meta["overrides"] = ", ".join(manifest["overrides"])
    figures = sorted((folder / "plots").glob("*.png"))
    figures.sort(key=lambda p: not p.name.startswith("heatmap--saturated"))  # stable
    description = (manifest.get("spec") or {}).get("description", "")
    return Path(
        write_report(
            folder / "report.html",
            f"Sweep: {meta['sweep']}",
            str(description or ""),
            table,
            figures,
            meta=meta,
            table_title="Points: mean and 95% confidence interval over replications",
            table_note="One row per parameter point; runs.csv has one row per run, "
            "points.csv the same figures as numbers.",
        )
    )


def _interval(mean: float, low: float, high: float) -> str:
    if not math.isfinite(mean):
        return ""
    digits = 0 if abs(mean) >= 100 else 3 if abs(mean) < 1 else 2
    text = f"{mean:,.{digits}f}"
    if math.isfinite(low) and math.isfinite(high):
        text += f" ({low:,.{digits}f} to {high:,.{digits}f})"
    return text
