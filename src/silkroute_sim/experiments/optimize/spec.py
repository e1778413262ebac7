"""The optimisation spec: its pydantic models and loading (one-line errors naming the key).

An optimisation spec names a ``base`` scenario (with ``set:`` overrides, as a sweep),
the ``scenarios`` every trial is judged at (demand levels, a closure), the decision
``variables`` (dotted config paths with bounds and steps, or choices) and the yearly cost
of the capacity each one buys, the ``objective`` (or several ``objectives``: a Pareto
front), the ``constraints`` on KPIs, and the statistics: ``reps`` per trial on common
random numbers, the confidence level, and the ``final`` re-run of the best candidates.
"""

from __future__ import annotations

import math
from pathlib import Path
from typing import Annotated, Any, Literal

from pydantic import BeforeValidator, Field, model_validator

from silkroute_sim.config.fields import FolderName
from silkroute_sim.config.loader import read_model
from silkroute_sim.config.schema import StrictModel

MAX_SEED = 2**63 - 1
MAX_TRIALS = 100_000


def _number(value: object) -> object:
    if isinstance(value, bool) or not isinstance(value, int | float):
        raise ValueError("must be a number")
    if isinstance(value, float) and not math.isfinite(value):
        raise ValueError("must be a finite number")
    return value


Number = Annotated[int | float, BeforeValidator(_number)]
NonNeg = Annotated[Number, Field(ge=0)]


class CapacityCost(StrictModel):
    """The yearly cost of one unit of a variable: its capex annualised over ``life_years``
    at ``rate`` (the capital recovery factor), plus its opex. Units up to ``existing`` are
    already paid for: they cost their opex only."""

    capex_usd_per_unit: NonNeg = 0.0
    life_years: Annotated[Number, Field(gt=0, le=200)] = 25
    rate: Annotated[Number, Field(ge=0, le=1)] = 0.08
    opex_usd_per_unit_year: NonNeg = 0.0
    existing: NonNeg = 0.0

    def annuity(self) -> float:
        """Capital recovery factor: the yearly payment that repays 1 USD over the life."""
        n, r = float(self.life_years), float(self.rate)
        if r == 0:
            return 1.0 / n
        return r * (1 + r) ** n / ((1 + r) ** n - 1)

    def per_year(self, units: float) -> float:
        """Yearly cost of ``units`` in USD."""
        bought = max(0.0, float(units) - float(self.existing))
        return bought * float(self.capex_usd_per_unit) * self.annuity() + float(units) * float(
            self.opex_usd_per_unit_year
        )


class Variable(StrictModel):
    """A decision variable: a number from ``low`` to ``high`` (whole numbers when both
    bounds and ``step`` are; a ``step`` makes a float discrete; ``log`` samples on a log
    scale), or one of ``choices`` (a list, or a mapping of label to value)."""

    low: Number | None = None
    high: Number | None = None
    step: Annotated[Number, Field(gt=0)] | None = None
    log: bool = False
    choices: list[Any] | dict[str, Any] | None = Field(None, min_length=1, max_length=1000)
    cost: CapacityCost | None = None
    cost_usd_per_year: dict[str, NonNeg] | None = Field(
        None, description="for choices: the yearly cost of each label"
    )
    monotone: bool = Field(
        False,
        description="more of it never makes a constrained KPI worse (capacity): a candidate "
        "with no more of it than one that failed a constraint is not simulated",
    )

    @model_validator(mode="after")
    def _shape(self) -> Variable:
        if self.choices is not None:
            if self.low is not None or self.high is not None or self.step is not None:
                raise ValueError("give either choices or low/high (not both)")
            if self.cost is not None:
                raise ValueError("a choice's cost is cost_usd_per_year: {label: USD}")
            if self.monotone:
                raise ValueError("monotone is for numbers, not choices")
            return self
        if self.low is None or self.high is None:
            raise ValueError("give low and high (or choices)")
        if self.high <= self.low:
            raise ValueError("high must be above low")
        if self.cost_usd_per_year is not None:
            raise ValueError("cost_usd_per_year is for choices; a number's cost is cost:")
        if self.log and (self.low <= 0 or (self.step is not None and not self.is_int)):
            raise ValueError("log needs low > 0 (and no step, except 1 for whole numbers)")
        return self

    @property
    def is_int(self) -> bool:
        return all(
            isinstance(v, int) for v in (self.low, self.high, 1 if self.step is None else self.step)
        )


class Term(StrictModel):
    """``weight × kpi``: at one scenario, or the scenarios' weighted mean when none."""

    kpi: str = Field(min_length=1)
    weight: Number = 1.0
    scenario: str | None = None


class Objective(StrictModel):
    """What a trial is worth: the capacity's yearly cost (unless ``capacity_cost: false``)
    plus the ``terms``, each a KPI times a weight (USD per year per KPI unit)."""

    name: str = Field("yearly_cost", min_length=1, max_length=60)
    direction: Literal["minimize", "maximize"] = "minimize"
    capacity_cost: bool = True
    terms: list[Term] = Field(default_factory=list, max_length=100)

    @model_validator(mode="after")
    def _something(self) -> Objective:
        if not self.capacity_cost and not self.terms:
            raise ValueError("an objective needs capacity_cost or at least one term")
        return self


class ConstraintSpec(StrictModel):
    """``{kpi, max | min, scenarios}``; a text ``"kpi <= 48"`` means the same at every
    scenario."""

    kpi: str = Field(min_length=1)
    max: Number | None = None
    min: Number | None = None
    scenarios: list[str] | None = Field(None, min_length=1)

    @model_validator(mode="after")
    def _one_bound(self) -> ConstraintSpec:
        if (self.max is None) == (self.min is None):
            raise ValueError("give either max or min")
        return self


class ScenarioSpec(StrictModel):
    """One situation every trial is judged at: another ``base`` file (default the spec's)
    and ``set:`` overrides; ``weight`` is its share in the objective's terms."""

    base: str | None = None
    fixed: dict[str, Any] = Field(default_factory=dict, alias="set")
    weight: Annotated[Number, Field(gt=0)] = 1.0


class SamplerSpec(StrictModel):
    """``tpe`` for one objective, ``nsga2`` for several (``auto`` picks)."""

    kind: Literal["auto", "tpe", "nsga2", "random"] = "auto"
    startup_trials: int | None = Field(None, ge=1, le=MAX_TRIALS)
    population: int | None = Field(None, ge=2, le=10_000)


class FinalSpec(StrictModel):
    """The best ``top_k`` candidates re-run with ``reps`` more replications."""

    top_k: int = Field(3, ge=1, le=50)
    reps: int = Field(5, ge=0, le=10_000)


def _sampler(value: object) -> object:
    return {"kind": value} if isinstance(value, str) else value


class OptimizeSpec(StrictModel):
    name: FolderName | None = None
    description: str = ""
    base: str = Field(min_length=1, description="scenario file (relative to the spec) or name")
    fixed: dict[str, Any] = Field(default_factory=dict, alias="set")
    scenarios: dict[str, ScenarioSpec] = Field(default_factory=dict, max_length=20)
    variables: dict[str, Variable] = Field(min_length=1, max_length=32)
    objective: Objective | None = None
    objectives: list[Objective] | None = Field(None, min_length=2, max_length=4)
    constraints: list[str | ConstraintSpec] = Field(default_factory=list, max_length=100)
    reps: int = Field(3, ge=2, le=1000, description="replications per trial (CIs need 2)")
    ci: Annotated[Number, Field(gt=0, lt=1)] = 0.95
    seed: int | None = Field(None, ge=0, le=MAX_SEED)
    trials: int = Field(30, ge=1, le=MAX_TRIALS)
    batch: int = Field(4, ge=1, le=1000, description="trials asked and run together")
    sampler: Annotated[SamplerSpec, BeforeValidator(_sampler)] = Field(default_factory=SamplerSpec)
    final: FinalSpec = Field(default_factory=FinalSpec)
    prune_dominated: bool = True

    @model_validator(mode="after")
    def _objectives(self) -> OptimizeSpec:
        if self.objective is not None and self.objectives is not None:
            raise ValueError("give either objective or objectives (not both)")
        return self

    def objective_list(self) -> list[Objective]:
        if self.objectives is not None:
            return list(self.objectives)
        return [self.objective if self.objective is not None else Objective()]


def load_spec(path: Path) -> tuple[OptimizeSpec, dict[str, Any]]:
    """Read and validate an optimisation spec (one-line errors naming the key path)."""
    return read_model(path, OptimizeSpec)
