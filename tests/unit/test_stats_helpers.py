"""The confidence-interval helpers against scipy.stats and textbook values."""

from __future__ import annotations

import math

import numpy as np
import pytest
from scipy import stats

from silkroute_sim.analysis.stats import mean_ci, student_t, welch_diff_ci


@pytest.mark.parametrize("df", [1, 2, 4.5, 7, 29, 61.3, 1000])
@pytest.mark.parametrize("p", [0.9, 0.95, 0.975, 0.995])
def test_student_t_is_scipy_stats_t_ppf_to_the_bit(p: float, df: float) -> None:
    assert student_t(p, df) == float(stats.t.ppf(p, df))


def test_student_t_textbook_values() -> None:
    assert student_t(0.975, 9) == pytest.approx(2.262157, abs=1e-6)
    assert student_t(0.975, 1) == pytest.approx(12.706205, abs=1e-6)


def test_mean_ci_matches_scipy_interval() -> None:
    x = np.random.default_rng(3).normal(10.0, 2.0, 12)
    mean, low, high, n = mean_ci(x)
    want = stats.t.interval(0.95, len(x) - 1, loc=x.mean(), scale=stats.sem(x))
    assert n == 12 and mean == pytest.approx(x.mean())
    assert (low, high) == pytest.approx(want, rel=1e-12)


def test_welch_matches_scipy_ttest_interval() -> None:
    rng = np.random.default_rng(4)
    a, b = rng.normal(0.0, 1.0, 8), rng.normal(1.0, 3.0, 15)
    diff, low, high, df = welch_diff_ci(a, b)
    ci = stats.ttest_ind(b, a, equal_var=False).confidence_interval(0.95)
    assert diff == pytest.approx(b.mean() - a.mean())
    assert (low, high) == pytest.approx((ci.low, ci.high), rel=1e-9)
    assert 8 < df < 21 and not math.isnan(df)
