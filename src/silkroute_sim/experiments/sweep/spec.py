"""The sweep spec: its pydantic models, loading, and the parsing of each swept parameter.

A sweep spec names a ``base`` scenario, the ``parameters`` to vary (dotted config paths
with value lists, ``{from, to, step}`` ranges or distributions), a ``design`` (``grid``,
``zip`` or a Latin hypercube ``{kind: lhs, n}``), ``reps`` and a ``seed``.

The continuous distributions a Latin hypercube samples from (``uniform``, ``triangular``,
``normal``) are the config's own (:mod:`silkroute_sim.config.distributions`), with an
optional ``round`` added by the sweep; ``loguniform``, ``integer`` and ``choice`` exist only
here, because only a design needs them.
"""

from __future__ import annotations

import json
import math
import os
from dataclasses import dataclass
from pathlib import Path
from typing import Annotated, Any, Literal

from pydantic import BaseModel, BeforeValidator, Field, ValidationError

from silkroute_sim.analysis.kpis import HEADLINE
from silkroute_sim.config.distributions import Normal, Triangular, Uniform
from silkroute_sim.config.distributions import Number as DistNumber
from silkroute_sim.config.errors import ConfigError, SilkrouteError, from_validation_error
from silkroute_sim.config.fields import FolderName
from silkroute_sim.config.loader import configs_dir, read_model
from silkroute_sim.config.schema import StrictModel

#: KPIs collected when a spec gives no ``outputs:``: the headline KPIs
DEFAULT_OUTPUTS: tuple[str, ...] = HEADLINE
MAX_POINTS = 100_000
MAX_RUNS = 1_000_000
MAX_SEED = 2**63 - 1


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


class LogUniformDist(StrictModel):
    """Values whose logarithm is uniform between ``log(low)`` and ``log(high)``."""

    dist: Literal["loguniform"]
    low: Annotated[Number, Field(gt=0)]
    high: Number


class IntegerDist(StrictModel):
    """Whole numbers from ``low`` to ``high``, both included, equally likely."""

    dist: Literal["integer"]
    low: int
    high: int


class ChoiceDist(StrictModel):
    """One of ``values``, equally likely."""

    dist: Literal["choice"]
    values: list[Any] = Field(min_length=1, max_length=MAX_POINTS)


class _Rounding(StrictModel):
    round: Digits | None = None


#: a distribution a parameter is sampled from: the config's where it has one
DIST_MODELS: dict[str, type[BaseModel]] = {
    "uniform": Uniform[DistNumber],
    "loguniform": LogUniformDist,
    "integer": IntegerDist,
    "triangular": Triangular[DistNumber],
    "normal": Normal[DistNumber],
    "choice": ChoiceDist,
}
#: the kinds whose values may be rounded (``round: digits``)
ROUNDED = frozenset({"uniform", "loguniform", "triangular", "normal"})
DistSpec = Uniform[Any] | LogUniformDist | IntegerDist | Triangular[Any] | Normal[Any] | ChoiceDist


def _design(value: object) -> object:
    return {"kind": value} if isinstance(value, str) else value


class DesignSpec(StrictModel):
    """``grid`` (every combination), ``zip`` (i-th with i-th) or ``lhs`` (Latin hypercube)."""

    kind: Literal["grid", "zip", "lhs"] = "grid"
    n: int | None = Field(None, ge=1, le=MAX_POINTS, description="points of a Latin hypercube")
    seed: int | None = Field(None, ge=0, le=MAX_SEED, description="default: the sweep's seed")


class SweepSpec(StrictModel):
    name: FolderName | None = None
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


def resolve_spec_path(name: str | os.PathLike[str]) -> Path:
    """A path as given, or a packaged sweep by name (``capacity`` → configs/sweeps/)."""
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
    return read_model(path, SweepSpec)


# --------------------------------------------------------------------------- parameters


@dataclass(frozen=True)
class Parameter:
    """One swept config path: discrete ``values`` (a list or a range) or a distribution,
    whose samples are rounded to ``digits`` decimals when the spec says ``round``."""

    path: str
    values: tuple[Any, ...] = ()
    dist: DistSpec | None = None
    digits: int | None = None

    @property
    def short(self) -> str:
        return self.path.rsplit(".", 1)[-1]


def cell_text(value: Any) -> str:
    """A parameter value as one table cell: mappings and lists as compact JSON."""
    if isinstance(value, dict | list):
        return json.dumps(value, ensure_ascii=False, separators=(",", ":"))
    return str(value)


def tidy(x: float) -> float:
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
        values = [tidy(start + i * width) for i in range(spec.num)]
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
    return tuple(tidy(start + i * step) for i in range(count))


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
            return _parse_dist(path, raw, file, where)
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


def _parse_dist(path: str, raw: dict[str, Any], file: str, where: str) -> Parameter:
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
    digits = None
    if kind in ROUNDED:
        rounding = {"round": raw["round"]} if "round" in raw else {}
        digits = _validate_model(_Rounding, rounding, file, where).round
        raw = {k: v for k, v in raw.items() if k != "round"}
    _check_shape(raw, file, where)
    return Parameter(path, dist=_validate_model(model, raw, file, where), digits=digits)


def _check_shape(raw: dict[str, Any], file: str, where: str) -> None:
    """``low < high``, ``low <= mode <= high`` and ``sd > 0`` (a design needs a spread),
    named by key (before the models' checks, whose messages name no key)."""
    numbers = {k: v for k, v in raw.items() if k in ("low", "mode", "high", "sd")}
    if not all(isinstance(v, int | float) and not isinstance(v, bool) for v in numbers.values()):
        return  # the model reports the value that is not a number
    low, high = numbers.get("low"), numbers.get("high")
    mode, sd = numbers.get("mode"), numbers.get("sd")
    if sd is not None and sd <= 0:
        raise ConfigError(file, f"{where}.sd", "must be above 0", sd, has_value=True)
    if low is not None and high is not None and high <= low:
        raise ConfigError(file, f"{where}.high", "must be above low", high, has_value=True)
    if mode is not None and low is not None and high is not None and not low <= mode <= high:
        raise ConfigError(
            file, f"{where}.mode", "must lie between low and high", mode, has_value=True
        )
