"""Checks: each a row of data (:class:`Check`) comparing an estimate with its target.

``analytic``
    The model reduced *by config alone* to textbook queues, compared with closed forms
    (:mod:`silkroute_sim.analysis.queueing`) over independent replications: the hub's
    crane pool as M/M/c (Erlang C), M/D/1 and M/G/1 (Pollaczek–Khinchine), and a border
    crossing with background trains only as M/M/c with ``c`` tracks. Each queue is
    measured two independent ways — the time-weighted number waiting from the level
    monitor (against ``Lq = lam Wq``) and the mean time per box or train from the records
    (against ``Wq + 1/mu`` or ``Wq``) — plus the crane utilisation (``rho``) or, at the
    border, the share of trains that wait (Erlang C).
``little``
    Little's law on sample paths, ``L = lam W`` from the time-weighted level monitors on
    one side and the per-entity records on the other: the crane system, the border queues
    (exact over windows that start and end with an empty queue) and the yard (whose level
    counts space reserved at the gate, so it is bracketed exactly, see
    :func:`~silkroute_sim.experiments.verify.estimators.yard_little`).
``exact``
    A tiny corridor with constant times everywhere, whose timeline is known to the
    second; and the tonnage balance of every baseline run.
``published``
    The baseline against published figures (:mod:`.published`), built there.

Statistical tolerance. A replication's estimate is the average over a long observation
window; across ``R`` independent replications the 95 % Student-t interval is reported.
The pass band is the *simultaneous* 95 % interval over all ``k`` analytic checks of the
run (Bonferroni: the ``1 - 0.05 / 2k`` t-quantile instead of ``0.975``), so a correct
model fails any check of the suite with probability ≤ 5 % rather than ``1 - 0.95^k``. A
check also fails when its 95 % half-width exceeds the case's stated precision: an
interval too wide to discriminate verifies nothing.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np

from silkroute_sim.analysis import queueing
from silkroute_sim.analysis.stats import mean_ci, student_t
from silkroute_sim.experiments.verify.cases import Plan, QueueCase, deterministic_expectations
from silkroute_sim.experiments.verify.estimators import EXACT_REL_TOL

PASS, FAIL, EXPLAINED = "pass", "fail", "explained"
#: the groups of checks, in the order reports show them
GROUPS = ("analytic", "little", "exact", "published")
#: what one run may do: everything, the analytic/Little/exact checks, or only the
#: baseline against published figures
PARTS = ("all", "verification", "published")
#: the family-wise confidence of the analytic checks (Bonferroni over the family)
FAMILY_LEVEL = 0.95

CHECK_COLUMNS = [
    "group",
    "name",
    "title",
    "status",
    "estimate",
    "ci_low",
    "ci_high",
    "target",
    "low",
    "high",
    "tolerance",
    "unit",
    "n",
    "in_ci95",
    "source",
    "note",
]


@dataclass(frozen=True)
class Check:
    """One verification or validation result.

    ``estimate`` (with its 95 % interval ``ci_low``–``ci_high`` over ``n`` replications)
    is compared with ``target`` (a closed form, a second calculation or a published
    figure); the check passes when ``low <= estimate <= high``. ``tolerance`` is the
    half-width of that band around ``target`` where the band is symmetric.
    ``in_ci95`` (analytic checks) says whether ``target`` lies in the plain 95 % interval.
    """

    group: str
    name: str
    title: str
    status: str
    estimate: float
    ci_low: float = math.nan
    ci_high: float = math.nan
    target: float = math.nan
    low: float = math.nan
    high: float = math.nan
    tolerance: float = math.nan
    unit: str = ""
    n: int = 0
    in_ci95: bool | None = None
    source: str = ""
    note: str = ""

    @property
    def passed(self) -> bool:
        return self.status != FAIL


def values_of(reps: Sequence[dict[str, float]], key: str) -> np.ndarray:
    """``key`` of every replication (NaN where one did not measure it)."""
    return np.array([r.get(key, math.nan) for r in reps], dtype=float)


def analytic_check(
    name: str,
    title: str,
    values: np.ndarray,
    target: float,
    unit: str,
    family: int,
    precision: float,
    source: str,
    what: str,
) -> Check:
    """Compare replication estimates with a closed form (see the module docstring)."""
    mean, low, high, n = mean_ci(values)
    if n < 2 or not math.isfinite(low):
        return Check(
            "analytic",
            name,
            title,
            FAIL,
            mean,
            target=target,
            unit=unit,
            n=n,
            source=source,
            note="fewer than 2 replications gave an estimate",
        )
    half = (high - low) / 2
    se = half / student_t(0.975, n - 1)
    tol = student_t(1 - (1 - FAMILY_LEVEL) / (2 * family), n - 1) * se
    rel_half = half / abs(target)
    in_ci = bool(low <= target <= high)
    ok = abs(mean - target) <= tol and rel_half <= precision
    note = (
        f"{what}; 95 % CI ±{rel_half:.1%} (need ≤ ±{precision:.0%}); pass band = "
        f"simultaneous 95 % over {family} analytic checks (Bonferroni); "
        f"closed form {'inside' if in_ci else 'OUTSIDE'} the 95 % CI"
    )
    if rel_half > precision:
        note += "; the interval is too wide to verify anything: run longer"
    return Check(
        "analytic",
        name,
        title,
        PASS if ok else FAIL,
        mean,
        low,
        high,
        target,
        target - tol,
        target + tol,
        tol,
        unit,
        n,
        in_ci,
        source,
        note,
    )


def exact_check(
    group: str,
    name: str,
    title: str,
    estimate: float,
    target: float,
    tolerance: float,
    unit: str,
    n: int,
    source: str,
    note: str,
    ok: bool | None = None,
) -> Check:
    passed = (
        ok if ok is not None else (math.isfinite(estimate) and abs(estimate - target) <= tolerance)
    )
    return Check(
        group,
        name,
        title,
        PASS if passed else FAIL,
        estimate,
        target=target,
        low=target - tolerance,
        high=target + tolerance,
        tolerance=tolerance,
        unit=unit,
        n=n,
        source=source,
        note=note,
    )


def analytic_family(plan: Plan) -> int:
    """Number of analytic checks in ``plan`` (the Bonferroni family): three per case."""
    return 3 * len(plan.cases)


@dataclass(frozen=True)
class _CaseRows:
    """Builds the analytic rows of one queue case: its label, closed form, precision and
    replication size are shared by every row."""

    case: QueueCase
    family: int
    per_rep: str

    def row(
        self,
        key: str,
        title: str,
        values: np.ndarray,
        target: float,
        unit: str,
        what: str,
        formula: str | None = None,
    ) -> Check:
        case = self.case
        return analytic_check(
            f"{case.name}:{key}",
            f"{case.label()}: {title}",
            values,
            target,
            unit,
            self.family,
            case.precision,
            formula or f"queueing.py: {case.formula()}",
            f"{what}, {self.per_rep}",
        )


def queue_checks(case: QueueCase, reps: Sequence[dict[str, float]], family: int) -> list[Check]:
    """The analytic rows of one case: the queue two independent ways — the
    time-weighted number waiting (level monitor) and the mean time per customer
    (records) — and the utilisation (crane pool) or the probability of waiting
    (border, Erlang C)."""
    who = "boxes" if case.station == "cranes" else "trains"
    per_rep = f"{np.nanmean(values_of(reps, 'customers')):,.0f} {who} per replication"
    rows = _CaseRows(case, family, per_rep)
    checks = [
        rows.row(
            "lq",
            "Lq (time-weighted) = lam Wq",
            values_of(reps, "lq"),
            case.lam * case.wq(),
            who,
            "mean number waiting (level monitor)",
        ),
    ]
    checks += _crane_rows(rows, reps) if case.station == "cranes" else _border_rows(rows, reps)
    failed = sum(1 for r in reps if r.get("failed"))
    if failed:
        checks.append(
            exact_check(
                "analytic",
                f"{case.name}:empty_window",
                f"{case.label()}: the queue empties after the warm-up",
                float(failed),
                0.0,
                0.0,
                "replications",
                len(reps),
                "",
                "some replications never emptied their queue: lengthen the runs",
            )
        )
    return checks


def _crane_rows(rows: _CaseRows, reps: Sequence[dict[str, float]]) -> list[Check]:
    """The crane pool: time per box from the records, and the utilisation."""
    case = rows.case
    return [
        rows.row(
            "w_records",
            "W = Wq + 1/mu per box",
            values_of(reps, "w_records"),
            case.wq() + case.mean_service_h,
            "h",
            "mean of yard_in - arrived over the boxes (records: wait + lift)",
        ),
        rows.row(
            "utilisation",
            "crane utilisation = rho",
            values_of(reps, "utilisation"),
            case.rho,
            "fraction",
            "time-weighted busy cranes / c",
            "utilisation = lam / (c mu)",
        ),
    ]


def _border_rows(rows: _CaseRows, reps: Sequence[dict[str, float]]) -> list[Check]:
    """The border: wait per train from the node events, and the probability of waiting."""
    case = rows.case
    return [
        rows.row(
            "wq_records",
            "Wq per train",
            values_of(reps, "w_records"),
            case.wq(),
            "h",
            "mean of start - arrived over the trains (node events)",
        ),
        rows.row(
            "p_wait",
            "P(wait) = Erlang C",
            values_of(reps, "p_wait"),
            queueing.erlang_c(case.c, case.lam / case.mu),
            "fraction",
            "share of trains that waited for a track (node events)",
            "queueing.py: Erlang C probability of waiting C(c, a)",
        ),
    ]


def little_checks_queue(case: QueueCase, reps: Sequence[dict[str, float]]) -> list[Check]:
    """Little's law on each replication's sample path (and, for the crane pool, the
    yard, whose space is reserved on arrival there since the gate takes no time)."""
    err = values_of(reps, "little_rel_error")
    worst = float(np.nanmax(err)) if np.isfinite(err).any() else math.nan
    if case.station == "cranes":
        what = "cranes busy + moves waiting vs boxes/h × mean (yard_in - arrived)"
        yard_err = values_of(reps, "yard_rel_error")
        worst_yard = float(np.nanmax(yard_err)) if np.isfinite(yard_err).any() else math.nan
        what += f"; yard TEU vs TEU/h × mean (loaded - arrived): {worst_yard:.1e}"
        err = np.maximum(err, yard_err)
    else:
        what = "trains waiting vs trains/h × mean wait (node events)"
    level = float(np.nanmean(values_of(reps, "little_L")))
    ok = bool(np.all(np.isfinite(err)) and np.nanmax(err) <= EXACT_REL_TOL)
    return [
        exact_check(
            "little",
            f"{case.name}:little",
            f"Little's law, {case.label()}",
            level,
            float(np.nanmean(values_of(reps, "little_lamW"))),
            EXACT_REL_TOL * level,
            "customers",
            int(np.isfinite(err).sum()),
            "L = lam W over empty-to-empty windows (exact on each sample path)",
            f"{what}; largest relative difference {worst:.1e}",
            ok=ok,
        )
    ]


DET_ROWS = (
    ("transit_dev", "transit_h", "corridor transit: run 2 h + customs 1 h + gauge change + run"),
    ("gate_to_yard_dev", "gate_to_yard_h", "gate to yard: gate 5 min + one 6-min lift"),
    ("clearance_dev", "clearance_h", "customs clearance at the hub: 30 min"),
    (
        "call_to_departure_dev",
        "call_to_departure_h",
        "train called → departed: 2 lift rounds + 2 h",
    ),
    ("customs_dev", "customs_h", "border formalities: 1 h"),
    ("gauge_change_dev", "gauge_change_h", "gauge change: 10 min + 4 lifts × 15 min / 2 cranes"),
    ("border_wait_dev", None, "wait at the border: none (1000 tracks)"),
    ("dwell_dev", "dwell_h", "terminal dwell: 6 h"),
)


def deterministic_checks(reps: Sequence[dict[str, float]]) -> list[Check]:
    values = reps[0]
    exp = deterministic_expectations()
    checks = []
    for key, exp_key, title in DET_ROWS:
        expected = exp[exp_key] if exp_key else 0.0
        dev = values.get(key, math.nan)
        checks.append(
            exact_check(
                "exact",
                f"deterministic:{key.removesuffix('_dev')}",
                f"deterministic corridor, {title}",
                expected + dev if math.isfinite(dev) else math.nan,
                expected,
                1e-9,
                "h",
                int(values.get("trains", 0)),
                "constant times, ample resources: known exactly",
                f"largest deviation over every train/box {dev:.1e} h"
                + (f"; {exp_key} = {expected:.6g} h" if exp_key else ""),
            )
        )
    checks.append(
        exact_check(
            "exact",
            "deterministic:conservation",
            "deterministic corridor, tonnes arrived = held + delivered",
            values.get("conservation_error_t", math.nan),
            0.0,
            0.0,
            "t",
            1,
            "integer-kg ledger",
            "",
        )
    )
    return checks


def baseline_little_checks(reps: Sequence[dict[str, float]]) -> list[Check]:
    checks = []
    inside = values_of(reps, "little:yard:inside")
    checks.append(
        Check(
            "little",
            "baseline:yard",
            "Little's law, baseline yard",
            PASS if len(inside) and bool(np.all(inside == 1)) else FAIL,
            float(np.nanmean(values_of(reps, "little:yard:L"))),
            target=float(np.nanmean(values_of(reps, "little:yard:upper"))),
            low=float(np.nanmean(values_of(reps, "little:yard:lower"))),
            high=float(np.nanmean(values_of(reps, "little:yard:upper"))),
            unit="TEU",
            n=len(reps),
            source="lam W(yard_in → loaded) <= L <= lam W(arrival → loaded), exact",
            note="time-weighted yard level (reserved TEU) within the exact bracket from box "
            f"records in {int(np.sum(inside == 1))}/{len(reps)} replications; the gap is "
            "the TEU reserved at the gate before the unloading lift",
        )
    )
    nodes = sorted(
        {k.split(":")[1] for r in reps for k in r if k.startswith("little:") and "yard" not in k}
    )
    for node in nodes:
        err = values_of(reps, f"little:{node}:rel_error")
        missing = int(np.nansum(values_of(reps, f"little:{node}:missing")))
        level = float(np.nanmean(values_of(reps, f"little:{node}:L")))
        ok = missing == 0 and bool(np.all(np.isfinite(err))) and np.nanmax(err) <= EXACT_REL_TOL
        window = float(np.nanmean(values_of(reps, f"little:{node}:window_d")))
        checks.append(
            exact_check(
                "little",
                f"baseline:queue:{node}",
                f"Little's law, baseline queue at {node}",
                level,
                float(np.nanmean(values_of(reps, f"little:{node}:lamW"))),
                EXACT_REL_TOL * max(level, 1e-12),
                "trains",
                len(reps),
                "L = lam W over empty-to-empty windows (exact on each sample path)",
                f"time-weighted queue vs trains/h × mean recorded wait over "
                f"{window:.0f}-day windows; largest relative difference "
                f"{np.nanmax(err) if np.isfinite(err).any() else math.nan:.1e}"
                + (f"; {missing} replications with no empty instant" if missing else ""),
                ok=ok,
            )
        )
    cons = values_of(reps, "conservation_error_t")
    checks.append(
        exact_check(
            "exact",
            "baseline:conservation",
            "baseline, tonnes arrived = at gate + in yard + on trains + delivered",
            float(np.nanmax(cons)),
            0.0,
            0.0,
            "t",
            len(reps),
            "integer-kg ledger",
            "largest error over the replications",
        )
    )
    return checks
