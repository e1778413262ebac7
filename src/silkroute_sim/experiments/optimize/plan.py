"""The optimisation plan: a spec → validated scenarios, variables, objectives and constraints.

Everything the optimiser will need is checked before a trial runs: the base and every
scenario load, every variable's path exists and its bounds make valid configs at every
scenario, every KPI the objectives and constraints name is one the simulation reports (a
one-day probe run), and every scenario a term or constraint names exists.
"""

from __future__ import annotations

import copy
import difflib
import hashlib
import json
import math
import os
import re
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import silkroute_sim.model.simulate as simulation
from silkroute_sim.analysis.kpis import lower_bound
from silkroute_sim.analysis.tables import Tables
from silkroute_sim.config.errors import ConfigError
from silkroute_sim.config.loader import (
    apply_override,
    load_raw,
    resolve_config_path,
    validate_config,
)
from silkroute_sim.config.schema import ScenarioConfig
from silkroute_sim.experiments.optimize.spec import (
    ConstraintSpec,
    Objective,
    OptimizeSpec,
    ScenarioSpec,
    Variable,
    load_spec,
)
from silkroute_sim.experiments.sweep.spec import cell_text

#: the per-replication KPI that says the hub saturated (the run's saturation warning)
SATURATED = "saturated"
_CONSTRAINT = re.compile(r"^\s*(\S+)\s*(<=|>=|<|>)\s*([-+0-9.eE_,]+)\s*$")


@dataclass(frozen=True)
class ScenarioPlan:
    """One scenario a trial is judged at: its raw config before the variables."""

    name: str
    raw: dict[str, Any]
    base_path: Path
    weight: float


@dataclass(frozen=True)
class VariablePlan:
    """One decision variable: its config path, spec, and (for choices) labels → values."""

    path: str
    spec: Variable
    labels: tuple[str, ...] = ()
    values: tuple[Any, ...] = ()

    @property
    def kind(self) -> str:
        if self.labels:
            return "choice"
        return "int" if self.spec.is_int else "float"

    def config_value(self, param: Any) -> Any:
        """The value written into the config for the optimiser's ``param``."""
        if self.labels:
            return copy.deepcopy(self.values[self.labels.index(param)])
        return int(param) if self.kind == "int" else float(param)

    def cost_per_year(self, param: Any) -> float:
        spec = self.spec
        if self.labels:
            return float((spec.cost_usd_per_year or {}).get(str(param), 0.0))
        return spec.cost.per_year(float(param)) if spec.cost is not None else 0.0


@dataclass(frozen=True)
class KpiConstraint:
    """``kpi <= limit`` (``upper``) or ``kpi >= limit`` at ``scenarios``: met only when
    the confidence interval's far end is on the right side of the limit."""

    index: int
    text: str
    kpi: str
    limit: float
    upper: bool
    scenarios: tuple[str, ...]


@dataclass
class OptimizePlan:
    """A validated optimisation spec."""

    file: Path
    spec: OptimizeSpec
    raw: dict[str, Any]
    name: str
    scenarios: list[ScenarioPlan]
    variables: list[VariablePlan]
    objectives: list[Objective]
    constraints: list[KpiConstraint]
    seed: int
    trials: int

    @property
    def seeds(self) -> list[int]:
        return [self.seed + i for i in range(self.spec.reps)]

    @property
    def multi(self) -> bool:
        return len(self.objectives) > 1

    @property
    def kpis(self) -> list[str]:
        """Every KPI the objectives and constraints read, in first-use order."""
        names = [t.kpi for o in self.objectives for t in o.terms]
        names += [c.kpi for c in self.constraints]
        return list(dict.fromkeys(names))

    def capacity_cost(self, params: dict[str, Any]) -> float:
        return sum(v.cost_per_year(params[v.path]) for v in self.variables)

    def config(self, scenario: ScenarioPlan, params: dict[str, Any]) -> ScenarioConfig:
        """The validated config of ``scenario`` with the variables at ``params``."""
        data = copy.deepcopy(scenario.raw)
        for var in self.variables:
            apply_override(data, var.path.split("."), var.config_value(params[var.path]), "")
        return validate_config(data, str(scenario.base_path))

    def fingerprint(self) -> str:
        """What a stored study must match to be resumed (the trial budget may change)."""
        data = {
            "scenarios": [[s.name, s.raw, s.weight] for s in self.scenarios],
            "variables": [[v.path, v.spec.model_dump(), list(v.labels)] for v in self.variables],
            "objectives": [o.model_dump() for o in self.objectives],
            "constraints": [[c.kpi, c.limit, c.upper, list(c.scenarios)] for c in self.constraints],
            "stats": [self.seed, self.spec.reps, float(self.spec.ci)],
            "search": [self.spec.batch, self.spec.sampler.model_dump(), self.spec.prune_dominated],
        }
        text = json.dumps(data, sort_keys=True, default=str, separators=(",", ":"))
        return hashlib.sha256(text.encode()).hexdigest()[:16]


def resolve_spec_path(name: str | os.PathLike[str]) -> Path:
    """A path as given, or a packaged optimisation by name (configs/optimize/)."""
    from silkroute_sim.config.loader import configs_dir

    path = Path(name)
    if path.exists():
        return path
    folder = configs_dir() / "optimize"
    for candidate in (folder / path, folder / path.with_suffix(".yaml")):
        if candidate.is_file():
            return candidate
    return path


def plan_optimization(
    spec_path: str | os.PathLike[str], *, trials: int | None = None, probe: bool = True
) -> OptimizePlan:
    """Validate an optimisation spec and everything it names. Raises :class:`ConfigError`
    naming the spec file and key path."""
    file_path = resolve_spec_path(spec_path)
    if file_path.is_dir():
        raise ConfigError(str(spec_path), "", "is a folder; give the optimisation spec file")
    if not file_path.is_file():
        raise ConfigError(str(spec_path), "", "optimisation spec not found")
    file = str(file_path)
    spec, raw = load_spec(file_path)
    scenarios = _scenarios(file_path, spec, file)
    variables = [_variable(path, var, file) for path, var in spec.variables.items()]
    names = [s.name for s in scenarios]
    objectives = spec.objective_list()
    _check_objectives(objectives, names, spec.objectives is not None, file)
    constraints = [_constraint(i, c, names, file) for i, c in enumerate(spec.constraints)]
    first = _validate_corners(scenarios, variables, file)
    seed = spec.seed if spec.seed is not None else first.simulation.seed
    if seed + spec.reps + spec.final.reps > 2**63 - 1:
        raise ConfigError(file, "seed", "seed + reps must stay below 2**63", seed, has_value=True)
    plan = OptimizePlan(
        file=file_path,
        spec=spec,
        raw=raw,
        name=spec.name or file_path.stem,
        scenarios=scenarios,
        variables=variables,
        objectives=objectives,
        constraints=constraints,
        seed=seed,
        trials=trials if trials is not None else spec.trials,
    )
    if probe:
        _check_kpis(plan, first)
    return plan


def _resolve_base(spec_file: Path, base: str, file: str, where: str) -> Path:
    local = spec_file.parent / base
    if local.is_file():
        return Path(os.path.normpath(local))
    found = resolve_config_path(base)
    if not found.is_file():
        raise ConfigError(file, where, "scenario file not found", base, has_value=True)
    return found


def _apply_set(data: dict[str, Any], fixed: dict[str, Any], file: str, where: str) -> None:
    for key, value in fixed.items():
        parts = str(key).split(".")
        if not key or any(not p for p in parts):
            raise ConfigError(file, f"{where}.{key}", "expected a dotted config path")
        try:
            apply_override(data, parts, copy.deepcopy(value), file)
        except ConfigError as err:
            raise ConfigError(file, f"{where}.{key}", err.message) from None


def _scenarios(file_path: Path, spec: OptimizeSpec, file: str) -> list[ScenarioPlan]:
    """The base with the spec's ``set:``, then each scenario's own base and ``set:``."""
    items: list[tuple[str, ScenarioSpec | None]] = list(spec.scenarios.items()) or [("base", None)]
    out: list[ScenarioPlan] = []
    for name, scen in items:
        where = f"scenarios.{name}"
        base_text = scen.base if scen is not None and scen.base else spec.base
        base_where = f"{where}.base" if scen is not None and scen.base else "base"
        base_path = _resolve_base(file_path, base_text, file, base_where)
        data = load_raw(base_path)
        data.setdefault("name", base_path.stem)
        _apply_set(data, spec.fixed, file, "set")
        if scen is not None:
            _apply_set(data, scen.fixed, file, f"{where}.set")
        weight = float(scen.weight) if scen is not None else 1.0
        out.append(ScenarioPlan(str(name), data, base_path, weight))
    return out


def _variable(path: str, var: Variable, file: str) -> VariablePlan:
    where = f"variables.{path}"
    if not path or any(not p.strip() for p in path.split(".")):
        raise ConfigError(file, where, "expected a dotted config path, e.g. hub.cranes.count")
    if path in ("simulation.seed", "name"):
        raise ConfigError(file, where, f"{path} cannot be a decision variable")
    if var.choices is None:
        return VariablePlan(path, var)
    if isinstance(var.choices, dict):
        labels = tuple(str(k) for k in var.choices)
        values = tuple(var.choices.values())
    else:
        labels = tuple(cell_text(v) for v in var.choices)
        values = tuple(var.choices)
    if len(set(labels)) != len(labels):
        raise ConfigError(file, f"{where}.choices", "the choices must differ")
    for label in var.cost_usd_per_year or {}:
        if label not in labels:
            raise ConfigError(
                file,
                f"{where}.cost_usd_per_year.{label}",
                f"not a choice; choices: {', '.join(labels)}",
            )
    return VariablePlan(path, var, labels, values)


def _check_objectives(
    objectives: list[Objective], scenarios: list[str], many: bool, file: str
) -> None:
    seen: set[str] = set()
    for i, obj in enumerate(objectives):
        where = f"objectives.{i}" if many else "objective"
        if obj.name in seen:
            raise ConfigError(file, f"{where}.name", "two objectives have this name", obj.name)
        seen.add(obj.name)
        for j, term in enumerate(obj.terms):
            if term.scenario is not None and term.scenario not in scenarios:
                raise ConfigError(
                    file,
                    f"{where}.terms.{j}.scenario",
                    f"unknown scenario; scenarios: {', '.join(scenarios)}",
                    term.scenario,
                    has_value=True,
                )


def _constraint(
    index: int, item: str | ConstraintSpec, scenarios: list[str], file: str
) -> KpiConstraint:
    where = f"constraints.{index}"
    if isinstance(item, ConstraintSpec):
        for name in item.scenarios or []:
            if name not in scenarios:
                raise ConfigError(
                    file,
                    f"{where}.scenarios",
                    f"unknown scenario; scenarios: {', '.join(scenarios)}",
                    name,
                    has_value=True,
                )
        upper = item.max is not None
        limit = float(item.max if item.max is not None else item.min)  # type: ignore[arg-type]
        scen = tuple(item.scenarios or scenarios)
        text = f"{item.kpi} {'<=' if upper else '>='} {cell_text(limit)}"
        return KpiConstraint(index, text, item.kpi, limit, upper, scen)
    text = " ".join(item.split())
    if text.lower() in ("no saturation", "not saturated"):
        return KpiConstraint(index, text, SATURATED, 0.0, True, tuple(scenarios))
    match = _CONSTRAINT.match(text)
    try:
        limit = float(match.group(3).replace("_", "").replace(",", "")) if match else math.nan
    except ValueError:
        limit = math.nan
    if match is None or not math.isfinite(limit):
        raise ConfigError(
            file,
            where,
            "expected 'KPI <= LIMIT' or 'KPI >= LIMIT' (e.g. hub_dwell_h_p95 <= 48), "
            "'no saturation', or {kpi, max | min, scenarios}",
            item,
            has_value=True,
        )
    return KpiConstraint(
        index, text, match.group(1), limit, ">" not in match.group(2), tuple(scenarios)
    )


def _validate_corners(
    scenarios: Sequence[ScenarioPlan], variables: Sequence[VariablePlan], file: str
) -> ScenarioConfig:
    """Every scenario's config with every variable at its low end, then its high end (and
    every choice): one error naming the variable whose value makes a config invalid."""
    first: ScenarioConfig | None = None
    for scen in scenarios:
        for var in variables:
            for param in var.labels or (var.spec.low, var.spec.high):
                data = copy.deepcopy(scen.raw)
                try:
                    apply_override(data, var.path.split("."), var.config_value(param), file)
                    cfg = validate_config(data, str(scen.base_path))
                except ConfigError as err:
                    raise ConfigError(
                        file,
                        f"variables.{var.path}",
                        f"at {cell_text(param)} the {scen.name} scenario is invalid: "
                        f"{err.path}: {err.message}",
                        err.value,
                        has_value=err.has_value,
                    ) from None
                first = first or cfg
    assert first is not None
    return first


def _check_kpis(plan: OptimizePlan, cfg: ScenarioConfig) -> None:
    """Every KPI named must be one the simulation reports: probe a one-day run."""
    data: dict[str, Any] = cfg.resolved()
    data["simulation"] = {**data["simulation"], "days": 1.0, "warmup_days": 0.0}
    known = set(Tables(simulation.simulate(validate_config(data))).summary["metric"])
    known.add(SATURATED)
    many = plan.multi
    for i, obj in enumerate(plan.objectives):
        for j, term in enumerate(obj.terms):
            where = f"{'objectives.' + str(i) if many else 'objective'}.terms.{j}.kpi"
            _known(term.kpi, known, str(plan.file), where)
    for c in plan.constraints:
        _known(c.kpi, known, str(plan.file), f"constraints.{c.index}")


def _known(name: str, known: set[str], file: str, where: str) -> None:
    if name in known:
        return
    hint = difflib.get_close_matches(name, sorted(known), n=1, cutoff=0.6)
    did = f" (did you mean {hint[0]!r}?)" if hint else ""
    plain = sorted(k for k in known if ":" not in k)
    raise ConfigError(
        file, where, f"unknown KPI{did}; KPIs: {', '.join(plain)}", name, has_value=True
    )


def prunable(plan: OptimizePlan) -> bool:
    """A trial whose capacity cost alone reaches the best feasible objective cannot beat
    it when there is one minimised objective that counts the capacity cost and whose
    terms cannot be negative (weights ≥ 0 on KPIs bounded below by 0)."""
    if plan.multi or not plan.spec.prune_dominated:
        return False
    obj = plan.objectives[0]
    if obj.direction != "minimize" or not obj.capacity_cost:
        return False
    return all(t.weight >= 0 and _bounded_below(t.kpi) for t in obj.terms)


def _bounded_below(kpi: str) -> bool:
    if kpi == SATURATED:
        return True
    bound = lower_bound(kpi)
    return bound is not None and bound >= 0
