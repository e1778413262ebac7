"""Probability distributions as validated config objects.

Each distribution is a small pydantic model with a ``dist`` tag. It knows its
theoretical ``mean`` and ``variance`` and draws samples with ``sample(rng, n)``
from a :class:`numpy.random.Generator`. Two families share one implementation:
time distributions (values are durations: ``"40 s"``, ``"2 h"``, bare numbers are
hours) and quantity distributions (plain numbers, e.g. tonnes).

A bare scalar where a distribution is expected means ``constant`` — except for the up
and repair times of breakdowns (:data:`MeanTimeDist`: ``mtbf``, ``mttr``), where it means
an exponential with that mean, the reliability convention; a constant is written
``{dist: constant, value: 400 h}`` there.
"""

from __future__ import annotations

import math
from abc import abstractmethod
from typing import Annotated, Any, Generic, Literal, TypeVar, Union

import numpy as np
from pydantic import BaseModel, BeforeValidator, ConfigDict, Field, model_validator

from silkroute_sim.config.units import parse_duration_h

T = TypeVar("T", bound=float)


def _finite_float(value: object) -> float:
    if isinstance(value, bool) or not isinstance(value, int | float):
        raise ValueError("expected a number")
    number = float(value)
    if not math.isfinite(number):
        raise ValueError("must be a finite number")
    return number


Hours = Annotated[float, BeforeValidator(parse_duration_h)]
Number = Annotated[float, BeforeValidator(_finite_float)]


class _Dist(BaseModel, Generic[T]):
    model_config = ConfigDict(extra="forbid", frozen=True)

    @property
    @abstractmethod
    def mean(self) -> float:
        """Theoretical mean."""

    @property
    @abstractmethod
    def variance(self) -> float:
        """Theoretical variance."""

    @property
    def cv(self) -> float:
        return math.sqrt(self.variance) / self.mean if self.mean > 0 else 0.0

    @abstractmethod
    def sample(self, rng: np.random.Generator, n: int) -> np.ndarray:
        """Draw ``n`` independent samples."""

    def scaled(self, factor: float) -> _Dist[T]:
        """The same shape with every value multiplied by ``factor``."""
        data = self.model_dump()
        for key in self._scale_fields():
            value = data[key]
            data[key] = [v * factor for v in value] if isinstance(value, list) else value * factor
        return type(self).model_validate(data)

    def _scale_fields(self) -> tuple[str, ...]:
        return ()


class Constant(_Dist[T]):
    dist: Literal["constant"] = "constant"
    value: T = Field(ge=0)

    @property
    def mean(self) -> float:
        return float(self.value)

    @property
    def variance(self) -> float:
        return 0.0

    def sample(self, rng: np.random.Generator, n: int) -> np.ndarray:
        return np.full(n, float(self.value))

    def _scale_fields(self) -> tuple[str, ...]:
        return ("value",)


class Exponential(_Dist[T]):
    dist: Literal["exponential"] = "exponential"
    mean_: T = Field(gt=0, alias="mean")
    model_config = ConfigDict(extra="forbid", frozen=True, populate_by_name=True)

    @property
    def mean(self) -> float:
        return float(self.mean_)

    @property
    def variance(self) -> float:
        return float(self.mean_) ** 2

    def sample(self, rng: np.random.Generator, n: int) -> np.ndarray:
        return rng.exponential(float(self.mean_), n)

    def scaled(self, factor: float) -> _Dist[T]:
        return type(self).model_validate({"dist": self.dist, "mean": self.mean_ * factor})


class Uniform(_Dist[T]):
    dist: Literal["uniform"] = "uniform"
    low: T = Field(ge=0)
    high: T = Field(ge=0)

    @model_validator(mode="after")
    def _ordered(self) -> Uniform[T]:
        if self.high < self.low:
            raise ValueError(f"high ({self.high}) must be >= low ({self.low})")
        return self

    @property
    def mean(self) -> float:
        return (self.low + self.high) / 2

    @property
    def variance(self) -> float:
        return (self.high - self.low) ** 2 / 12

    def sample(self, rng: np.random.Generator, n: int) -> np.ndarray:
        return rng.uniform(self.low, self.high, n)

    def _scale_fields(self) -> tuple[str, ...]:
        return ("low", "high")


class Triangular(_Dist[T]):
    dist: Literal["triangular"] = "triangular"
    low: T = Field(ge=0)
    mode: T = Field(ge=0)
    high: T = Field(ge=0)

    @model_validator(mode="after")
    def _ordered(self) -> Triangular[T]:
        if not self.low <= self.mode <= self.high:
            low, mode, high = (self._shown(k) for k in ("low", "mode", "high"))
            raise ValueError(f"need low <= mode <= high, got low {low}, mode {mode}, high {high}")
        return self

    def _shown(self, key: str) -> str:
        """A value as the config would write it: a duration in its unit, else the number."""
        value = float(getattr(self, key))
        timed = any(
            getattr(m, "func", None) is parse_duration_h
            for m in type(self).model_fields[key].metadata
        )
        if not timed:
            return f"{value:g}"
        units = (("h", 1.0), ("min", 1 / 60))
        unit, hours = next(((u, h) for u, h in units if value >= h), ("s", 1 / 3600))
        return f"{value / hours:.4g} {unit}"

    @property
    def mean(self) -> float:
        return (self.low + self.mode + self.high) / 3

    @property
    def variance(self) -> float:
        a, c, b = self.low, self.mode, self.high
        return (a * a + b * b + c * c - a * b - a * c - b * c) / 18

    def sample(self, rng: np.random.Generator, n: int) -> np.ndarray:
        if self.high == self.low:
            return np.full(n, float(self.low))
        return rng.triangular(self.low, self.mode, self.high, n)

    def _scale_fields(self) -> tuple[str, ...]:
        return ("low", "mode", "high")


def _phi(x: float) -> float:
    return math.exp(-0.5 * x * x) / math.sqrt(2 * math.pi)


def _big_phi(x: float) -> float:
    return 0.5 * math.erfc(-x / math.sqrt(2))


class Normal(_Dist[T]):
    """Normal(mean, sd) truncated at 0; ``mean``/``variance`` are of the truncated law."""

    dist: Literal["normal"] = "normal"
    mu: T = Field(alias="mean")
    sd: T = Field(ge=0)
    model_config = ConfigDict(extra="forbid", frozen=True, populate_by_name=True)

    @model_validator(mode="after")
    def _mass_above_zero(self) -> Normal[T]:
        if self.sd == 0 and self.mu < 0:
            raise ValueError("a normal with sd 0 needs mean >= 0")
        if self.sd > 0 and self.mu / self.sd < -5:
            raise ValueError("almost all of this normal lies below 0; raise the mean")
        return self

    def _truncation(self) -> tuple[float, float]:
        alpha = -self.mu / self.sd
        lam = _phi(alpha) / (1 - _big_phi(alpha))
        return alpha, lam

    @property
    def mean(self) -> float:
        if self.sd == 0:
            return float(self.mu)
        _, lam = self._truncation()
        return self.mu + self.sd * lam

    @property
    def variance(self) -> float:
        if self.sd == 0:
            return 0.0
        alpha, lam = self._truncation()
        return self.sd**2 * (1 + alpha * lam - lam * lam)

    def sample(self, rng: np.random.Generator, n: int) -> np.ndarray:
        out = rng.normal(self.mu, self.sd, n)
        bad = out < 0
        while bad.any():
            out[bad] = rng.normal(self.mu, self.sd, int(bad.sum()))
            bad = out < 0
        return out

    def scaled(self, factor: float) -> _Dist[T]:
        return type(self).model_validate(
            {"dist": self.dist, "mean": self.mu * factor, "sd": self.sd * factor}
        )


class LogNormal(_Dist[T]):
    """Lognormal given by its mean and coefficient of variation."""

    dist: Literal["lognormal"] = "lognormal"
    mean_: T = Field(gt=0, alias="mean")
    cv_: Number = Field(ge=0, le=100, alias="cv")
    model_config = ConfigDict(extra="forbid", frozen=True, populate_by_name=True)

    @property
    def mean(self) -> float:
        return float(self.mean_)

    @property
    def variance(self) -> float:
        return (self.cv_ * self.mean_) ** 2

    def sample(self, rng: np.random.Generator, n: int) -> np.ndarray:
        if self.cv_ == 0:
            return np.full(n, float(self.mean_))
        sigma2 = math.log1p(self.cv_**2)
        mu = math.log(self.mean_) - sigma2 / 2
        return rng.lognormal(mu, math.sqrt(sigma2), n)

    def scaled(self, factor: float) -> _Dist[T]:
        return type(self).model_validate(
            {"dist": self.dist, "mean": self.mean_ * factor, "cv": self.cv_}
        )


class Gamma(_Dist[T]):
    """Gamma given by its mean and coefficient of variation (cv = 1 is exponential)."""

    dist: Literal["gamma"] = "gamma"
    mean_: T = Field(gt=0, alias="mean")
    cv_: Number = Field(gt=0, le=100, alias="cv")
    model_config = ConfigDict(extra="forbid", frozen=True, populate_by_name=True)

    @property
    def mean(self) -> float:
        return float(self.mean_)

    @property
    def variance(self) -> float:
        return (self.cv_ * self.mean_) ** 2

    def sample(self, rng: np.random.Generator, n: int) -> np.ndarray:
        shape = 1 / self.cv_**2
        return rng.gamma(shape, self.mean_ / shape, n)

    def scaled(self, factor: float) -> _Dist[T]:
        return type(self).model_validate(
            {"dist": self.dist, "mean": self.mean_ * factor, "cv": self.cv_}
        )


class Empirical(_Dist[T]):
    """Discrete empirical distribution over observed ``values`` (optional ``weights``)."""

    dist: Literal["empirical"] = "empirical"
    values: list[T] = Field(min_length=1, max_length=100_000)
    weights: list[Number] | None = None

    @model_validator(mode="after")
    def _check(self) -> Empirical[T]:
        if any(v < 0 for v in self.values):
            raise ValueError("empirical values must be >= 0")
        if self.weights is not None:
            if len(self.weights) != len(self.values):
                raise ValueError(
                    f"weights has {len(self.weights)} entries but values has {len(self.values)}"
                )
            if any(w < 0 for w in self.weights) or sum(self.weights) <= 0:
                raise ValueError("weights must be >= 0 with a positive sum")
        return self

    def _probabilities(self) -> np.ndarray:
        if self.weights is None:
            return np.full(len(self.values), 1 / len(self.values))
        w = np.asarray(self.weights, dtype=float)
        w = w / w.max()  # weights near the float limit would sum to infinity
        return w / w.sum()

    @property
    def mean(self) -> float:
        return float(np.dot(self._probabilities(), self.values))

    @property
    def variance(self) -> float:
        p, v = self._probabilities(), np.asarray(self.values, dtype=float)
        m = float(np.dot(p, v))
        return float(np.dot(p, (v - m) ** 2))

    def sample(self, rng: np.random.Generator, n: int) -> np.ndarray:
        return rng.choice(np.asarray(self.values, dtype=float), size=n, p=self._probabilities())

    def _scale_fields(self) -> tuple[str, ...]:
        return ("values",)


DIST_KINDS = (
    "constant",
    "exponential",
    "uniform",
    "triangular",
    "normal",
    "lognormal",
    "gamma",
    "empirical",
)


def _shorthand(value: Any) -> Any:
    """A bare scalar means a constant; a mapping without ``dist`` is reported clearly."""
    if isinstance(value, dict):
        if "dist" not in value:
            raise ValueError(f"a distribution needs a 'dist' key, one of: {', '.join(DIST_KINDS)}")
        if value["dist"] not in DIST_KINDS:
            raise ValueError(
                f"unknown distribution {value['dist']!r}; allowed: {', '.join(DIST_KINDS)}"
            )
        return value
    if isinstance(value, _Dist):
        return value
    return {"dist": "constant", "value": value}


def _exponential_shorthand(value: Any) -> Any:
    """A bare scalar means an exponential with that mean; a mapping as for any other."""
    if isinstance(value, dict | _Dist):
        return _shorthand(value)
    return {"dist": "exponential", "mean": value}


_TimeUnion = Annotated[
    Union[  # noqa: UP007 - pydantic needs a Union for the discriminator
        Constant[Hours],
        Exponential[Hours],
        Uniform[Hours],
        Triangular[Hours],
        Normal[Hours],
        LogNormal[Hours],
        Gamma[Hours],
        Empirical[Hours],
    ],
    Field(discriminator="dist"),
]

TimeDist = Annotated[_TimeUnion, BeforeValidator(_shorthand)]
"""A distribution of durations, in hours (a bare value: a constant)."""

MeanTimeDist = Annotated[_TimeUnion, BeforeValidator(_exponential_shorthand)]
"""A distribution of durations, in hours, whose bare value is an exponential mean: the
time between failures and the time to repair (``mtbf: 400 h`` means exponential up times
with mean 400 h, as reliability figures are quoted; failures then come as a Poisson
process, not on a clock)."""

QuantityDist = Annotated[
    Annotated[
        Union[  # noqa: UP007
            Constant[Number],
            Exponential[Number],
            Uniform[Number],
            Triangular[Number],
            Normal[Number],
            LogNormal[Number],
            Gamma[Number],
            Empirical[Number],
        ],
        Field(discriminator="dist"),
    ],
    BeforeValidator(_shorthand),
]
"""A distribution of plain quantities (tonnes, units)."""

Distribution = _Dist[Any]
