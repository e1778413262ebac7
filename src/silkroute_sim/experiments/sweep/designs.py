"""Designs: which parameter points a sweep visits.

``grid`` is every combination of the parameters' values, ``zip`` the i-th value of each
together, ``lhs`` a Latin hypercube of ``n`` points (:class:`scipy.stats.qmc.LatinHypercube`,
seeded from the spec, so the same spec always gives the same points): each parameter's
range is cut into ``n`` equally likely strata and every stratum is used once. A column of
the hypercube holds quantiles in [0, 1); :func:`values_at_quantiles` turns them into the
parameter's values through the inverse of its distribution.
"""

from __future__ import annotations

import itertools
import math
import statistics
from collections.abc import Sequence
from typing import Any

from silkroute_sim.config.distributions import Normal, Triangular, Uniform
from silkroute_sim.config.errors import ConfigError
from silkroute_sim.experiments.sweep.spec import (
    MAX_POINTS,
    ChoiceDist,
    DesignSpec,
    IntegerDist,
    LogUniformDist,
    Parameter,
    tidy,
)

#: quantiles this close to 0 or 1 are moved inward (the normal's inverse is infinite there)
_EDGE = 1e-12


def design_points(
    params: list[Parameter], design: DesignSpec, seed: int, file: str
) -> list[dict[str, Any]]:
    """The candidate points of ``design``: values by parameter path, in design order."""
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
        return _grid(params, file)
    if design.kind == "zip":
        return _zip(params, file)
    if design.n is None:
        raise ConfigError(file, "design.n", "required for design lhs (the number of points)")
    return _latin_hypercube(params, design.n, design.seed if design.seed is not None else seed)


def _grid(params: list[Parameter], file: str) -> list[dict[str, Any]]:
    total = math.prod(len(p.values) for p in params)
    if total > MAX_POINTS:
        raise ConfigError(
            file, "parameters", f"the grid has {total:,} points; at most {MAX_POINTS:,}"
        )
    return [
        dict(zip((p.path for p in params), combo, strict=True))
        for combo in itertools.product(*(p.values for p in params))
    ]


def _zip(params: list[Parameter], file: str) -> list[dict[str, Any]]:
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


def _latin_hypercube(params: list[Parameter], n: int, seed: int) -> list[dict[str, Any]]:
    from scipy.stats import qmc

    try:
        sampler = qmc.LatinHypercube(d=len(params), rng=seed)
    except TypeError:  # scipy < 1.15 names it seed
        sampler = qmc.LatinHypercube(d=len(params), seed=seed)
    u = sampler.random(n)
    columns = {
        p.path: values_at_quantiles(p, [float(q) for q in u[:, j]]) for j, p in enumerate(params)
    }
    return [{path: column[i] for path, column in columns.items()} for i in range(n)]


def values_at_quantiles(param: Parameter, u: Sequence[float]) -> list[Any]:
    """The values of ``param`` at quantiles ``u`` in [0, 1) (a Latin hypercube column)."""
    d = param.dist
    if d is None or isinstance(d, ChoiceDist):
        choices = param.values if d is None else tuple(d.values)
        return [choices[min(int(q * len(choices)), len(choices) - 1)] for q in u]
    if isinstance(d, IntegerDist):
        span = d.high - d.low + 1
        return [d.low + min(int(q * span), span - 1) for q in u]
    out = [_continuous_quantile(d, q) for q in u]
    if param.digits == 0:
        return [round(x) for x in out]
    if param.digits is not None:
        return [round(x, param.digits) for x in out]
    return [tidy(x) for x in out]


def _continuous_quantile(d: Any, q: float) -> float:
    """The inverse distribution function of a continuous sweep distribution at ``q``."""
    if isinstance(d, Uniform):
        return float(d.low + q * (d.high - d.low))
    if isinstance(d, LogUniformDist):
        return math.exp(math.log(d.low) + q * (math.log(d.high) - math.log(d.low)))
    if isinstance(d, Triangular):
        width = d.high - d.low
        if q < (d.mode - d.low) / width:
            return float(d.low + math.sqrt(q * width * (d.mode - d.low)))
        return float(d.high - math.sqrt((1 - q) * width * (d.high - d.mode)))
    if isinstance(d, Normal):
        return _truncated_normal_quantile(float(d.mu), float(d.sd), q)
    raise TypeError(f"no quantile function for {type(d).__name__}")


def _truncated_normal_quantile(mu: float, sd: float, q: float) -> float:
    """The config's normal is truncated at 0: its quantile ``q`` is the untruncated law's
    quantile ``F(0) + q (1 - F(0))``."""
    law = statistics.NormalDist(mu, sd)
    below = law.cdf(0.0)
    return law.inv_cdf(min(max(below + q * (1 - below), _EDGE), 1 - _EDGE))
