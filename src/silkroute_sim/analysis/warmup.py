"""How many days to cut before measuring: warm-up detection over replications.

Every run starts empty (no boxes in the yard, no trains on the corridor, empty border
queues), so the first days are not typical of the steady state the KPIs describe.

* **Welch's method** (Law & Kelton, *Simulation Modeling and Analysis*, §9.5.1): average a
  daily series (by default the tonnes dispatched per day) across replications, smooth it
  with a centred moving average of ``window`` days, and cut where the curve settles. The
  settle point is picked automatically: the first day on which the smoothed curve comes
  within a band around the steady-state level (the mean of the second half of the run).
  The band is the wider of ``rel_tol`` of that level and two standard deviations of the
  smoothed curve over the second half (its residual noise, weekly wobble included). Because
  the moving average looks ``window`` days ahead, the pick errs on the long side — which is
  the safe side for a warm-up.
* **MSER-5** (White 1997) as a second opinion: the truncation point of the 5-day batch means
  that minimises the marginal standard error of what is left.

**Seasons are not a transient.** Demand follows weekday and seasonal factors: a January
to March dip lowers throughput and the yard for months, which Welch's method would read
as a start-up curve. Each series is therefore judged relative to the demand's own level:
divided by the tonnes arriving per day (a centred moving average of ``2 * window + 1``
days, scaled to a mean of 1), which carries the same seasons but starts at its steady
rate, as arrivals have no start-up. What is left of a curve is what the empty (or full)
start did: a yard that starts full, cranes that start missing, still show.

Both work on the daily tables of finished runs; nothing here touches the model.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass, field

import numpy as np
import pandas as pd

#: daily series the warm-up is judged on: throughput first, then the yard level
DEFAULT_COLUMNS = ("tonnes_dispatched", "yard_teu_mean")
DEFAULT_WINDOW = 7  # days: one weekly cycle of the demand's weekday factors
#: the daily series that carries the demand's weekday and seasonal factors
DEMAND_COLUMN = "tonnes_arrived"


@dataclass(frozen=True)
class WarmupSuggestion:
    """The warm-up Welch's method suggests for one daily series (``days`` is None when the
    run is too short to tell or the curve never settles; ``reason`` says which)."""

    column: str
    days: int | None
    window: int
    reps: int
    level: float
    band: float
    mser5_days: int | None
    reason: str = ""
    mean_series: np.ndarray = field(default_factory=lambda: np.empty(0), repr=False)
    smoothed: np.ndarray = field(default_factory=lambda: np.empty(0), repr=False)

    def as_dict(self) -> dict[str, object]:
        return {
            "column": self.column,
            "method": "welch",
            "suggested_days": self.days,
            "window_days": self.window,
            "reps": self.reps,
            "steady_level": _finite_or_none(self.level),
            "band": _finite_or_none(self.band),
            "mser5_days": self.mser5_days,
            "note": self.reason,
        }


def _finite_or_none(value: float) -> float | None:
    return round(float(value), 4) if math.isfinite(value) else None


def welch_moving_average(series: Sequence[float] | np.ndarray, window: int) -> np.ndarray:
    """Welch's centred moving average: point ``i`` (0-based) averages days
    ``i - window … i + window``, shrinking to ``0 … 2i`` near the start; ``m - window``
    points for a series of ``m`` days."""
    y = np.asarray(series, dtype=float)
    m = y.size
    if window < 1 or m <= window:
        return np.empty(0)
    csum = np.concatenate([[0.0], np.cumsum(y)])
    idx = np.arange(m - window)
    half = np.minimum(idx, window)
    lo, hi = idx - half, idx + half + 1
    return (csum[hi] - csum[lo]) / (hi - lo)


def welch_truncation(
    mean_series: Sequence[float] | np.ndarray, window: int = DEFAULT_WINDOW, rel_tol: float = 0.05
) -> tuple[int | None, float, float, np.ndarray, str]:
    """(day, steady level, band, smoothed curve, reason) for a series already averaged over
    replications. ``day`` is the first day the smoothed curve is within the band."""
    y = np.asarray(mean_series, dtype=float)
    m = y.size
    if m < 4 * window:
        return (
            None,
            math.nan,
            math.nan,
            np.empty(0),
            (f"run too short to judge ({m} days; Welch's method needs at least {4 * window})"),
        )
    smoothed = welch_moving_average(y, window)
    level = float(y[m // 2 :].mean())
    tail = smoothed[m // 2 :] if smoothed.size > m // 2 + 1 else smoothed[-window:]
    noise = float(tail.std(ddof=1)) if tail.size > 1 else 0.0
    band = max(rel_tol * abs(level), 2.0 * noise)
    # a curve still drifting over the second half has no steady level to settle to: a trend
    # larger than the band and clearly above the day-to-day noise (|t| > 4)
    second = y[m // 2 :]
    x = np.arange(second.size, dtype=float)
    slope, intercept = (float(v) for v in np.polyfit(x, second, 1))
    resid = second - (slope * x + intercept)
    sxx = float(((x - x.mean()) ** 2).sum())
    se = math.sqrt(float((resid**2).sum()) / max(second.size - 2, 1) / sxx) if sxx > 0 else 0.0
    drift = abs(slope) * second.size
    if drift > band and (se == 0 or abs(slope) / se > 4):
        reason = (
            f"the curve never settles: it still drifts by {drift:.3g} over the second half "
            "of the run (is the system stable?)"
        )
        return None, level, band, smoothed, reason
    inside = np.flatnonzero(np.abs(smoothed - level) <= band)
    if inside.size == 0:
        return None, level, band, smoothed, "the curve never settles (is the system stable?)"
    return int(inside[0]), level, band, smoothed, ""


def mser5(mean_series: Sequence[float] | np.ndarray, batch: int = 5) -> int | None:
    """MSER-5 truncation in days: over batch means, the ``d`` (at most half the batches)
    minimising ``sum((z[d:] - mean(z[d:]))**2) / (n - d)**2``."""
    y = np.asarray(mean_series, dtype=float)
    n = y.size // batch
    if n < 4:
        return None
    z = y[: n * batch].reshape(n, batch).mean(axis=1)
    best_d, best = 0, math.inf
    for d in range(n // 2 + 1):
        rest = z[d:]
        value = float(((rest - rest.mean()) ** 2).sum()) / (n - d) ** 2
        if value < best - 1e-12:
            best_d, best = d, value
    return best_d * batch


def suggest_warmup(
    dailies: Sequence[pd.DataFrame],
    columns: Sequence[str] = DEFAULT_COLUMNS,
    window: int = DEFAULT_WINDOW,
    rel_tol: float = 0.05,
) -> list[WarmupSuggestion]:
    """Welch's method on each daily series (one ``daily`` table per replication, warm-up
    days included). Replications of unequal length are cut to the shortest."""
    frames = [d for d in dailies if len(d)]
    out: list[WarmupSuggestion] = []
    if not frames:
        return out
    m = min(len(d) for d in frames)
    seasons = demand_level(frames, m, window)
    for column in columns:
        if not all(column in d.columns for d in frames):
            continue
        mean_series = _mean_over(frames, column, m)
        if seasons is not None and column != DEMAND_COLUMN:
            mean_series = mean_series / seasons  # relative to the demand's own level
        day, level, band, smoothed, reason = welch_truncation(mean_series, window, rel_tol)
        out.append(
            WarmupSuggestion(
                column=column,
                days=day,
                window=window,
                reps=len(frames),
                level=level,
                band=band,
                mser5_days=mser5(mean_series),
                reason=reason,
                mean_series=mean_series,
                smoothed=smoothed,
            )
        )
    return out


def _mean_over(frames: Sequence[pd.DataFrame], column: str, m: int) -> np.ndarray:
    """``column`` averaged over replications, day by day (the first ``m`` days)."""
    stack = np.vstack([d[column].to_numpy(dtype=float)[:m] for d in frames])
    return np.nanmean(stack, axis=0) if np.isfinite(stack).any() else stack[0]


def demand_level(frames: Sequence[pd.DataFrame], m: int, window: int) -> np.ndarray | None:
    """The demand's level day by day, scaled to a mean of 1: the tonnes arriving per day
    (mean over replications), as a centred moving average of ``2 * window + 1`` days
    (fewer at the ends). None without arrivals to go by."""
    if window < 1 or not all(DEMAND_COLUMN in d.columns for d in frames):
        return None
    y = _mean_over(frames, DEMAND_COLUMN, m)
    if y.size == 0 or not np.isfinite(y).all():
        return None
    csum = np.concatenate([[0.0], np.cumsum(y)])
    idx = np.arange(y.size)
    lo, hi = np.maximum(idx - window, 0), np.minimum(idx + window + 1, y.size)
    level = (csum[hi] - csum[lo]) / (hi - lo)
    if not (level > 0).all():
        return None
    return level / level.mean()


def suggested_days(suggestions: Sequence[WarmupSuggestion]) -> int | None:
    """The longest warm-up any series asks for (None when none could tell)."""
    days = [s.days for s in suggestions if s.days is not None]
    return max(days) if days else None


def warmup_warning(suggestions: Sequence[WarmupSuggestion], warmup_days: float) -> str | None:
    """A warning when the configured warm-up is shorter than the suggested one, or when a
    series never settles."""
    for s in suggestions:
        if s.days is None and "never settles" in s.reason:
            return (
                f"warm-up check: daily {s.column}: {s.reason}; "
                "KPIs describe a system still drifting"
            )
    need = suggested_days(suggestions)
    if need is None or warmup_days >= need:
        return None
    driver = max((s for s in suggestions if s.days is not None), key=lambda s: s.days or 0)
    return (
        f"warm-up of {warmup_days:g} days looks too short: Welch's method on daily "
        f"{driver.column} ({driver.window}-day window, {driver.reps} replication(s)) "
        f"suggests at least {need} days (--warmup-days)"
    )
