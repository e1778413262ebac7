"""Closed-form results of elementary queueing theory, for verifying the simulator.

Pure functions, no simulation. Rates are per hour and times in hours (any consistent
unit works). ``lam`` is the arrival rate, ``mu`` the service rate of one server,
``c`` the number of servers; offered load ``a = lam / mu`` and utilisation
``rho = a / c``. Every formula assumes a stable queue (``rho < 1``), FIFO service,
an infinite waiting room and an infinite population; outside that it raises
``ValueError`` rather than returning a meaningless number.

References: Gross, Shortle, Thompson & Harris, *Fundamentals of Queueing Theory*
(4th ed., 2008), sections 2.2–2.3 (M/M/1, M/M/c, Erlang C) and 5.1 (M/G/1,
Pollaczek–Khinchine); Little (1961) for ``L = lam * W``.
"""

from __future__ import annotations

import math


def _check_stable(lam: float, mu: float, c: int) -> float:
    if not (lam > 0 and math.isfinite(lam)):
        raise ValueError(f"arrival rate must be a positive number (got {lam!r})")
    if not (mu > 0 and math.isfinite(mu)):
        raise ValueError(f"service rate must be a positive number (got {mu!r})")
    if int(c) != c or c < 1:
        raise ValueError(f"servers must be a positive integer (got {c!r})")
    rho = lam / (c * mu)
    if rho >= 1:
        raise ValueError(f"unstable queue: utilisation {rho:.4g} >= 1")
    return rho


def erlang_b(c: int, a: float) -> float:
    """Erlang B: the probability that all ``c`` servers are busy in M/M/c/c (loss)
    with offered load ``a`` erlangs. Computed by the stable recursion
    ``B(k) = a B(k-1) / (k + a B(k-1))``, so large ``c`` does not overflow."""
    if int(c) != c or c < 0:
        raise ValueError(f"servers must be a non-negative integer (got {c!r})")
    if not (a >= 0 and math.isfinite(a)):
        raise ValueError(f"offered load must be a non-negative number (got {a!r})")
    b = 1.0
    for k in range(1, int(c) + 1):
        b = a * b / (k + a * b)
    return b


def erlang_c(c: int, a: float) -> float:
    """Erlang C: the probability that an arrival has to wait in M/M/c with offered
    load ``a = lam / mu`` erlangs (needs ``a < c``)."""
    if not a < c:
        raise ValueError(f"unstable queue: offered load {a:.4g} >= {c} servers")
    rho = a / c
    b = erlang_b(c, a)
    return b / (1 - rho * (1 - b))


def mmc_wq(lam: float, mu: float, c: int) -> float:
    """Mean wait in queue (before service) in M/M/c: ``C(c, a) / (c mu - lam)``."""
    _check_stable(lam, mu, c)
    return erlang_c(c, lam / mu) / (c * mu - lam)


def mmc_lq(lam: float, mu: float, c: int) -> float:
    """Mean number waiting in queue in M/M/c (Little: ``lam * Wq``)."""
    return lam * mmc_wq(lam, mu, c)


def mmc_w(lam: float, mu: float, c: int) -> float:
    """Mean time in system (wait + service) in M/M/c."""
    return mmc_wq(lam, mu, c) + 1 / mu


def mmc_l(lam: float, mu: float, c: int) -> float:
    """Mean number in system in M/M/c: ``Lq + a``."""
    return mmc_lq(lam, mu, c) + lam / mu


def mm1_wq(lam: float, mu: float) -> float:
    """Mean wait in queue in M/M/1: ``rho / (mu - lam)``."""
    rho = _check_stable(lam, mu, 1)
    return rho / (mu - lam)


def mg1_wq(lam: float, mean_s: float, var_s: float) -> float:
    """Pollaczek–Khinchine mean wait in queue in M/G/1 with service time of mean
    ``mean_s`` and variance ``var_s``: ``lam E[S^2] / (2 (1 - rho))``."""
    if not (mean_s > 0 and math.isfinite(mean_s)):
        raise ValueError(f"mean service time must be a positive number (got {mean_s!r})")
    if not (var_s >= 0 and math.isfinite(var_s)):
        raise ValueError(f"service-time variance must be >= 0 (got {var_s!r})")
    rho = _check_stable(lam, 1 / mean_s, 1)
    second_moment = var_s + mean_s**2
    return lam * second_moment / (2 * (1 - rho))


def md1_wq(lam: float, d: float) -> float:
    """Mean wait in queue in M/D/1 (constant service ``d``): ``rho d / (2 (1 - rho))``,
    half the M/M/1 wait at the same load."""
    return mg1_wq(lam, d, 0.0)


def mg1_w(lam: float, mean_s: float, var_s: float) -> float:
    """Mean time in system in M/G/1 (P–K wait plus the mean service)."""
    return mg1_wq(lam, mean_s, var_s) + mean_s


def mmc_relaxation_h(lam: float, mu: float, c: int) -> float:
    """Relaxation time of the queue length in M/M/c, ``1 / (c mu (1 - sqrt(rho))^2)``
    (the M/M/1 spectral-gap result with the pooled service rate ``c mu``).

    Not a performance measure: it sizes run lengths and warm-up periods of
    simulation experiments — correlations in the queue decay over this time, so a
    run has to last many relaxation times for its average to be precise."""
    rho = _check_stable(lam, mu, c)
    return 1 / (c * mu * (1 - math.sqrt(rho)) ** 2)


__all__ = [
    "erlang_b",
    "erlang_c",
    "md1_wq",
    "mg1_w",
    "mg1_wq",
    "mm1_wq",
    "mmc_l",
    "mmc_lq",
    "mmc_relaxation_h",
    "mmc_w",
    "mmc_wq",
]
