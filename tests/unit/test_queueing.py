"""Closed-form queueing results against textbook values and independent formulas."""

from __future__ import annotations

import math

import pytest
from hypothesis import given
from hypothesis import strategies as st

import silkroute_sim.analysis.queueing as q


def erlang_c_by_sum(c: int, a: float) -> float:
    """Erlang C from its textbook definition (direct sums; fine for small c)."""
    top = a**c / math.factorial(c) * c / (c - a)
    bottom = sum(a**k / math.factorial(k) for k in range(c)) + top
    return top / bottom


# ----------------------------------------------------------------- textbook values


def test_erlang_b_small_cases() -> None:
    assert q.erlang_b(0, 3.0) == 1.0
    assert q.erlang_b(1, 1.0) == pytest.approx(0.5)  # a / (1 + a)
    assert q.erlang_b(2, 1.0) == pytest.approx(0.2)  # (1/2) / (1 + 1 + 1/2)


def test_erlang_c_textbook_values() -> None:
    assert q.erlang_c(1, 0.5) == pytest.approx(0.5)  # M/M/1: P(wait) = rho
    assert q.erlang_c(2, 1.0) == pytest.approx(1 / 3)
    assert q.erlang_c(3, 2.0) == pytest.approx(4 / 9)


@pytest.mark.parametrize("c", [1, 2, 3, 5, 10, 20, 30])
@pytest.mark.parametrize("rho", [0.1, 0.5, 0.8, 0.95, 0.999])
def test_erlang_c_recursion_matches_definition(c: int, rho: float) -> None:
    a = rho * c
    assert q.erlang_c(c, a) == pytest.approx(erlang_c_by_sum(c, a), rel=1e-10)


def test_erlang_c_large_pool_does_not_overflow() -> None:
    value = q.erlang_c(1000, 990.0)
    assert 0 < value < 1


def test_mm1_textbook() -> None:
    # lam = 1, mu = 2: rho = 0.5, Wq = rho / (mu - lam) = 0.5, W = 1, L = 1
    assert q.mm1_wq(1.0, 2.0) == pytest.approx(0.5)
    assert q.mmc_wq(1.0, 2.0, 1) == pytest.approx(0.5)
    assert q.mmc_w(1.0, 2.0, 1) == pytest.approx(1.0)
    assert q.mmc_l(1.0, 2.0, 1) == pytest.approx(1.0)
    # lam = 0.9, mu = 1: Lq = rho^2 / (1 - rho) = 8.1
    assert q.mmc_lq(0.9, 1.0, 1) == pytest.approx(8.1)


def test_mm2_against_its_own_closed_form() -> None:
    # M/M/2: Lq = 2 rho^3 / (1 - rho^2)
    for lam, mu in ((1.0, 1.0), (3.0, 2.0), (1.9, 1.0)):
        rho = lam / (2 * mu)
        assert q.mmc_lq(lam, mu, 2) == pytest.approx(2 * rho**3 / (1 - rho**2))


def test_mmc_gross_harris_example() -> None:
    # c = 3, lam = 6/h, mu = 3/h (a = 2): C = 4/9, Wq = C / (c mu - lam) = 4/27 h
    assert q.mmc_wq(6.0, 3.0, 3) == pytest.approx(4 / 27)
    assert q.mmc_lq(6.0, 3.0, 3) == pytest.approx(8 / 9)
    assert q.mmc_l(6.0, 3.0, 3) == pytest.approx(8 / 9 + 2)


def test_pollaczek_khinchine() -> None:
    # M/D/1, lam = 0.5, d = 1: Wq = rho d / (2 (1 - rho)) = 0.5, half the M/M/1 wait
    assert q.md1_wq(0.5, 1.0) == pytest.approx(0.5)
    assert q.md1_wq(0.5, 1.0) == pytest.approx(q.mm1_wq(0.5, 1.0) / 2)
    # M/G/1 with exponential service (variance = mean^2) is M/M/1
    assert q.mg1_wq(0.8, 1.0, 1.0) == pytest.approx(q.mm1_wq(0.8, 1.0))
    # gamma service, cv 0.5: Wq = lam (var + mean^2) / (2 (1 - rho))
    assert q.mg1_wq(8.0, 0.1, 0.0025) == pytest.approx(8.0 * 0.0125 / (2 * 0.2))
    assert q.mg1_w(8.0, 0.1, 0.0025) == pytest.approx(0.25 + 0.1)


def test_relaxation_time_grows_in_heavy_traffic() -> None:
    # M/M/1, mu = 1: 1 / (1 - sqrt(rho))^2
    assert q.mmc_relaxation_h(0.25, 1.0, 1) == pytest.approx(4.0)
    assert q.mmc_relaxation_h(0.95, 1.0, 1) > 10 * q.mmc_relaxation_h(0.5, 1.0, 1)


# ----------------------------------------------------------------- bad input


@pytest.mark.parametrize(
    ("call", "message"),
    [
        (lambda: q.mmc_wq(3.0, 1.0, 3), "unstable"),
        (lambda: q.mmc_wq(4.0, 1.0, 3), "unstable"),
        (lambda: q.mm1_wq(0.0, 1.0), "arrival rate"),
        (lambda: q.mm1_wq(1.0, -1.0), "service rate"),
        (lambda: q.mmc_wq(1.0, 1.0, 0), "servers"),
        (lambda: q.mmc_wq(1.0, 1.0, 2.5), "servers"),  # type: ignore[arg-type]
        (lambda: q.md1_wq(1.0, 1.0), "unstable"),
        (lambda: q.mg1_wq(0.5, 1.0, -1.0), "variance"),
        (lambda: q.mm1_wq(math.nan, 1.0), "arrival rate"),
        (lambda: q.erlang_c(2, 2.0), "unstable"),
    ],
)
def test_outside_the_formulas_raises(call: object, message: str) -> None:
    with pytest.raises(ValueError, match=message):
        call()  # type: ignore[operator]


# ----------------------------------------------------------------- properties


@given(
    c=st.integers(min_value=1, max_value=60),
    rho=st.floats(min_value=0.01, max_value=0.99),
    mu=st.floats(min_value=0.01, max_value=100.0),
)
def test_mmc_properties(c: int, rho: float, mu: float) -> None:
    lam = rho * c * mu
    a = lam / mu
    assert 0.0 <= q.erlang_b(c, a) <= q.erlang_c(c, a) <= 1.0
    wq = q.mmc_wq(lam, mu, c)
    assert wq >= 0
    # Little: L = lam W, and L = Lq + a
    assert q.mmc_l(lam, mu, c) == pytest.approx(lam * q.mmc_w(lam, mu, c))
    assert q.mmc_l(lam, mu, c) == pytest.approx(q.mmc_lq(lam, mu, c) + a)
    # one more server never makes the wait longer
    assert q.mmc_wq(lam, mu, c + 1) <= wq + 1e-12


@given(
    rho=st.floats(min_value=0.01, max_value=0.99),
    cv=st.floats(min_value=0.0, max_value=3.0),
)
def test_pk_grows_with_service_variability(rho: float, cv: float) -> None:
    mean = 0.1
    lam = rho / mean
    wq = q.mg1_wq(lam, mean, (cv * mean) ** 2)
    assert wq >= q.md1_wq(lam, mean) - 1e-12
    assert wq == pytest.approx(q.md1_wq(lam, mean) * (1 + cv**2))
