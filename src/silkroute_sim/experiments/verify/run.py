"""Verification and validation built in: does the model reproduce what is known?

Four groups of checks, each a row of data (:class:`Check`):

``analytic``
    The model reduced *by config alone* to textbook queues, compared with closed forms
    (:mod:`silkroute_sim.analysis.queueing`) over independent replications: the hub's crane pool
    as M/M/c (Erlang C), M/D/1 and M/G/1 (Pollaczek–Khinchine), and a border crossing
    with background trains only as M/M/c with ``c`` tracks. Each queue is measured
    two independent ways — the time-weighted number waiting from the level monitor
    (against ``Lq = lam Wq``) and the mean time per box or train from the records
    (against ``Wq + 1/mu`` or ``Wq``) — plus the crane utilisation (``rho``) or, at the
    border, the share of trains that wait (Erlang C).
``little``
    Little's law on sample paths, ``L = lam W`` from the time-weighted level monitors
    on one side and the per-entity records on the other: the crane system, the border
    queues (exact over windows that start and end with an empty queue) and the yard
    (whose level counts space reserved at the gate, so it is bracketed exactly, see
    :func:`yard_little`).
``exact``
    A tiny corridor with constant times everywhere, whose timeline is known to the
    second; and the tonnage balance of every baseline run.
``validation``
    The baseline against published figures from ``corridor-facts.md`` (:data:`TARGETS`),
    each with an acceptance band and, where the baseline may legitimately miss it, the
    declared reason. A miss in the declared direction is ``explained``; any other miss
    is a ``fail``.

Statistical tolerance. A replication's estimate is the average over a long
observation window; across ``R`` independent replications the 95 % Student-t interval
is reported. The pass band is the *simultaneous* 95 % interval over all ``k`` analytic
checks of the run (Bonferroni: the ``1 - 0.05 / 2k`` t-quantile instead of
``0.975``), so a correct model fails any check of the suite with probability ≤ 5 %
rather than ``1 - 0.95^k``. A check also fails when its 95 % half-width exceeds the
case's stated precision: an interval too wide to discriminate verifies nothing.

Run lengths. Queue averages are autocorrelated over the relaxation time
``1 / (c mu (1 - sqrt(rho))^2)`` (:func:`queueing.mmc_relaxation_h`); each replication
cuts a warm-up of six relaxation times (it starts empty: the initial bias decays like
``exp(-t / relaxation)``) and then observes a fixed number of customers, chosen per
case so that the interval meets its precision. Estimates are taken over the longest
window after the warm-up that starts and ends with an empty system, so every customer
counted is complete (no censoring at the end of the run) and ``L = lam W`` holds
exactly on each sample path.
"""

from __future__ import annotations

import math
import os
import time
from collections.abc import Callable, Sequence
from dataclasses import asdict, dataclass, field
from typing import TYPE_CHECKING, Any

import numpy as np

from silkroute_sim.analysis import queueing
from silkroute_sim.analysis.stats import mean_ci, student_t
from silkroute_sim.model.records import LevelMonitor, step_integrals

if TYPE_CHECKING:
    import pandas as pd

    from silkroute_sim.config.schema import ScenarioConfig
    from silkroute_sim.model.simulate import RunResult

PASS, FAIL, EXPLAINED = "pass", "fail", "explained"
GROUPS = ("analytic", "little", "exact", "validation")
PARTS = ("all", "verification", "validation")
FAMILY_LEVEL = 0.95
#: relative agreement demanded of two calculations that are equal by construction
#: (floating-point sums over up to a million terms)
EXACT_REL_TOL = 1e-7
PAYLOAD_T = 10.0  # constant payload of the queueing scenarios: boxes/h = t/day / 10 / 24

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


# =========================================================================== scenarios


@dataclass(frozen=True)
class QueueCase:
    """A scenario that reduces to a textbook queue, and how long to observe it.

    ``station`` is ``"cranes"`` (the hub's crane pool: boxes are the customers, the
    only crane work is the truck → yard move) or ``"border"`` (a border node with
    ``c`` tracks and background trains only). ``service_cv`` 1 means exponential
    service, 0 constant, anything else gamma with that coefficient of variation.
    """

    name: str
    model: str
    station: str
    c: int
    rho: float
    mean_service_h: float
    service_cv: float
    customers: int  # observed per replication (after the warm-up)
    precision: float  # largest acceptable relative 95 % half-width
    warmup_relaxations: float = 6.0

    @property
    def mu(self) -> float:
        return 1.0 / self.mean_service_h

    @property
    def lam(self) -> float:
        return self.rho * self.c * self.mu

    @property
    def service_var(self) -> float:
        return (self.service_cv * self.mean_service_h) ** 2

    def wq(self) -> float:
        """The closed-form mean wait in queue (hours)."""
        if self.service_cv == 1.0:
            return queueing.mmc_wq(self.lam, self.mu, self.c)
        if self.c != 1:
            raise ValueError(f"{self.name}: no closed form for M/G/c with c > 1")
        return queueing.mg1_wq(self.lam, self.mean_service_h, self.service_var)

    def formula(self) -> str:
        if self.service_cv == 1.0:
            return "Erlang C: Wq = C(c, a) / (c mu - lam)"
        return "Pollaczek-Khinchine: Wq = lam E[S^2] / (2 (1 - rho))"

    def warmup_h(self) -> float:
        # the M/M/c relaxation time bounds the less variable M/D/1 and M/G/1 (cv < 1)
        relax = queueing.mmc_relaxation_h(self.lam, self.mu, self.c)
        return max(self.warmup_relaxations * relax, 200.0 / self.lam)

    def observe_h(self) -> float:
        return self.customers / self.lam

    def label(self) -> str:
        where = "crane pool" if self.station == "cranes" else "border tracks"
        return f"{self.model} {where}, c={self.c}, rho={self.rho:g}"


def _service_dist(mean_h: float, cv: float) -> Any:
    if cv == 0:
        return mean_h
    if cv == 1:
        return {"dist": "exponential", "mean": mean_h}
    return {"dist": "gamma", "mean": mean_h, "cv": cv}


def _two_node_corridor() -> dict[str, Any]:
    return {
        "nodes": {
            "Hub": {"kind": "hub", "gauge_mm": 1435, "lat": 43.9, "lon": 87.4},
            "Term": {"kind": "terminal", "gauge_mm": 1435, "lat": 44.0, "lon": 86.0},
        },
        "edges": [{"from": "Hub", "to": "Term", "km": 100, "speed": 50}],
    }


def _box_demand(tonnes_per_day: float) -> dict[str, Any]:
    return {
        "tonnes_per_day": tonnes_per_day,
        "classes": {
            "box": {"teu": 2, "payload_t": PAYLOAD_T, "destinations": {"Term": 1.0}},
        },
    }


def queue_raw(case: QueueCase) -> dict[str, Any]:
    """The raw config that reduces the model to ``case``.

    Crane pool: Poisson box arrivals at ``lam`` per hour (one class, constant
    payload, flat weekday/seasonal factors); an ample gate (1000 lanes, no service
    time) and yard (10 million TEU), no customs; ``loading.use_cranes: false`` so
    that loading takes no crane time and the truck → yard moves are the pool's only
    customers; trains leave as soon as they are full.

    Border: a background stream (``interarrival_cv: 1``, Poisson) entering at the
    isolated node ``Border`` (a route of length 1: no previous node, hence no gauge
    change), ``tracks: c``, exponential formalities, no daily capacity. The hub's
    demand (required to be positive) is a trickle to a terminal behind no border.
    """
    days = (case.warmup_h() + case.observe_h()) / 24.0
    warmup_days = case.warmup_h() / 24.0
    service = _service_dist(case.mean_service_h, case.service_cv)
    corridor = _two_node_corridor()
    if case.station == "cranes":
        tonnes_per_day = case.lam * PAYLOAD_T * 24.0
        cranes = {"count": case.c, "move_time": service}
    elif case.station == "border":
        tonnes_per_day = 1.0
        cranes = {"count": 1, "move_time": "6 min"}
        corridor["nodes"]["Border"] = {
            "kind": "border",
            "gauge_mm": 1520,
            "lat": 45.2,
            "lon": 82.5,
            "processing": {"tracks": case.c, "customs": service},
        }
        corridor["background"] = {
            "poisson": {
                "route": ["Border"],
                "trains_per_day": case.lam * 24.0,
                "interarrival_cv": 1.0,
                "boxes": 45,
            }
        }
    else:
        raise ValueError(f"unknown station {case.station!r}")
    return {
        "name": f"verify-{case.name}",
        "description": f"{case.label()} (silkroute verify)",
        "simulation": {"days": days, "warmup_days": warmup_days, "seed": 1},
        "demand": _box_demand(tonnes_per_day),
        "hub": {
            "node": "Hub",
            "gate": {"lanes": 1000, "service_time": 0},
            "cranes": cranes,
            "yard": {"capacity_teu": 10_000_000},
            "loading": {"tracks": 1000, "use_cranes": False},
        },
        "services": {
            "term": {
                "stops": ["Term"],
                "capacity_teu": 100,
                "max_tonnes": 1300,
                "policy": {"kind": "full"},
            }
        },
        "corridor": corridor,
        "outputs": {"plots": False},
    }


# ----------------------------------------------------------------- deterministic corridor

#: the constant times of the deterministic corridor (hours, km, km/h)
DET = {
    "gate_h": 5 / 60,
    "move_h": 0.1,
    "clearance_h": 0.5,
    "formation_h": 2.0,
    "cranes_per_train": 2,
    "boxes_per_train": 4,
    "km_1": 100.0,
    "speed_1": 50.0,
    "km_2": 240.0,
    "speed_2_km_per_day": 1200.0,
    "customs_h": 1.0,
    "gc_cranes": 2,
    "gc_lift_h": 0.25,
    "gc_setup_h": 10 / 60,
    "dwell_h": 6.0,
}


def deterministic_raw() -> dict[str, Any]:
    """Hub → Border (gauge change) → Term with constant times and ample resources
    everywhere (1000 gate lanes, cranes, tracks), so nothing ever queues: every train's
    journey is known exactly (:func:`deterministic_expectations`)."""
    d = DET
    return {
        "name": "verify-deterministic",
        "simulation": {"days": 10, "warmup_days": 0, "seed": 1},
        "demand": {
            "tonnes_per_day": 200,
            "classes": {"box": {"teu": 2, "payload_t": 10, "destinations": {"Term": 1.0}}},
        },
        "hub": {
            "node": "Hub",
            "gate": {"lanes": 1000, "service_time": d["gate_h"]},
            "cranes": {"count": 1000, "move_time": d["move_h"]},
            "yard": {"capacity_teu": 100_000},
            "customs": {"clearance_time": d["clearance_h"]},
            "loading": {
                "tracks": 1000,
                "cranes_per_train": d["cranes_per_train"],
                "formation_time": d["formation_h"],
            },
        },
        "services": {
            "term": {
                "stops": ["Term"],
                "capacity_teu": 2 * d["boxes_per_train"],
                "max_tonnes": 1300,
                "policy": {"kind": "full"},
            }
        },
        "corridor": {
            "nodes": {
                "Hub": {
                    "kind": "hub",
                    "gauge_mm": 1435,
                    "lat": 43.9,
                    "lon": 87.4,
                    # trains never enter the hub; the graph check wants a gauge change here
                    "processing": {
                        "tracks": 1,
                        "gauge_change": {"cranes": 1, "lift_time": 0.1},
                    },
                },
                "Border": {
                    "kind": "border",
                    "gauge_mm": 1520,
                    "lat": 45.2,
                    "lon": 82.5,
                    "processing": {
                        "tracks": 1000,
                        "customs": d["customs_h"],
                        "gauge_change": {
                            "cranes": d["gc_cranes"],
                            "lift_time": d["gc_lift_h"],
                            "setup_time": d["gc_setup_h"],
                        },
                    },
                },
                "Term": {
                    "kind": "terminal",
                    "gauge_mm": 1520,
                    "lat": 46.0,
                    "lon": 78.0,
                    "terminal_dwell": d["dwell_h"],
                },
            },
            "edges": [
                {"from": "Hub", "to": "Border", "km": d["km_1"], "speed": d["speed_1"]},
                {
                    "from": "Border",
                    "to": "Term",
                    "km": d["km_2"],
                    "speed": f"{d['speed_2_km_per_day']} km/day",
                },
            ],
        },
        "outputs": {"plots": False},
    }


def deterministic_expectations() -> dict[str, float]:
    """The exact durations (hours) of the deterministic corridor, from first principles."""
    d = DET
    boxes = int(d["boxes_per_train"])
    rounds = math.ceil(boxes / int(d["cranes_per_train"]))
    gauge_h = d["gc_setup_h"] + boxes * d["gc_lift_h"] / d["gc_cranes"]
    run_h = d["km_1"] / d["speed_1"] + d["km_2"] / (d["speed_2_km_per_day"] / 24.0)
    return {
        "gate_to_yard_h": d["gate_h"] + d["move_h"],
        "clearance_h": d["clearance_h"],
        "call_to_departure_h": rounds * d["move_h"] + d["formation_h"],
        "customs_h": d["customs_h"],
        "gauge_change_h": gauge_h,
        "transit_h": run_h + d["customs_h"] + gauge_h,
        "dwell_h": d["dwell_h"],
    }


# =========================================================================== plans


@dataclass(frozen=True)
class Plan:
    """What one ``silkroute verify`` run does."""

    name: str
    reps: int
    cases: tuple[QueueCase, ...]
    baseline_reps: int
    baseline_days: float
    baseline_warmup_days: float = 30.0


def _cases(scale: float, precise: bool) -> tuple[QueueCase, ...]:
    """The queue cases; ``scale`` multiplies the observed customers per replication."""
    # the largest relative 95 % half-width accepted: tighter in the full suite; looser
    # in heavy traffic, whose variance grows like 1 / (1 - rho)^2
    p_lo, p_hi = (0.05, 0.08) if precise else (0.10, 0.15)
    move_h = 0.1  # a 6-minute crane move: mu = 10 moves/h per crane
    customs_h = 2.0  # 2 h border formalities: mu = 0.5 trains/h per track

    def n(base: int) -> int:
        return int(base * scale)

    cases = [
        QueueCase("mm3_rho0.5", "M/M/c", "cranes", 3, 0.5, move_h, 1.0, n(8_000), p_lo),
        QueueCase("mm3_rho0.8", "M/M/c", "cranes", 3, 0.8, move_h, 1.0, n(25_000), p_lo),
        QueueCase("mm3_rho0.95", "M/M/c", "cranes", 3, 0.95, move_h, 1.0, n(100_000), p_hi),
        QueueCase("md1_rho0.8", "M/D/1", "cranes", 1, 0.8, move_h, 0.0, n(15_000), p_lo),
        QueueCase("mg1_rho0.8", "M/G/1", "cranes", 1, 0.8, move_h, 0.5, n(15_000), p_lo),
        QueueCase("border_mm2_rho0.8", "M/M/c", "border", 2, 0.8, customs_h, 1.0, n(20_000), p_lo),
    ]
    if precise:
        cases += [
            QueueCase("mm1_rho0.9", "M/M/c", "cranes", 1, 0.9, move_h, 1.0, n(40_000), p_hi),
            QueueCase("mm6_rho0.9", "M/M/c", "cranes", 6, 0.9, move_h, 1.0, n(40_000), p_hi),
            QueueCase("md1_rho0.95", "M/D/1", "cranes", 1, 0.95, move_h, 0.0, n(40_000), p_hi),
            QueueCase(
                "border_mm4_rho0.9", "M/M/c", "border", 4, 0.9, customs_h, 1.0, n(40_000), p_hi
            ),
        ]
    return tuple(cases)


def make_plan(quick: bool, reps: int | None = None) -> Plan:
    """``quick``: fits in CI (about 110 CPU-seconds: a minute on two cores), 10
    replications per queue case and three one-year baseline runs. Full: 20
    replications 2.5 times as long (intervals about 2.5 times narrower, and required
    to be), four more cases in heavy traffic (M/M/1, M/M/6 and a 4-track border at
    ρ = 0.9, M/D/1 at 0.95) and ten one-year baseline runs (about 1,000 CPU-seconds)."""
    if quick:
        return Plan("quick", reps or 10, _cases(1.0, False), 3, 365.0)
    return Plan("full", reps or 20, _cases(2.5, True), 10, 365.0)


# =========================================================================== sample paths


def _levels_at(mon: LevelMonitor, t: np.ndarray) -> np.ndarray:
    times, levels = mon.arrays()
    idx = np.searchsorted(times, t, side="right") - 1
    return np.where(idx < 0, 0.0, levels[np.clip(idx, 0, len(levels) - 1)])


def combined_level(monitors: Sequence[LevelMonitor]) -> tuple[np.ndarray, np.ndarray]:
    """The sum of several step functions as one (times, levels) step series."""
    times = np.unique(np.concatenate([m.arrays()[0] for m in monitors]))
    levels = np.zeros_like(times)
    for mon in monitors:
        levels = levels + _levels_at(mon, times)
    return times, levels


def empty_window(
    times: np.ndarray, levels: np.ndarray, t0: float, t1: float
) -> tuple[float, float] | None:
    """The longest window ``[a, b]`` within ``[t0, t1]`` whose ends are instants when the
    level is 0 (after all changes at that instant). Over such a window Little's law
    holds exactly: everything that arrived before ``a`` has left the queue by ``a``,
    everything that arrived before ``b`` by ``b``. None if there is no such window."""
    zero = levels == 0
    i0 = int(np.searchsorted(times, t0, side="right")) - 1
    if i0 >= 0 and zero[i0]:
        a = t0
    else:
        later = np.flatnonzero(zero & (times > t0) & (times <= t1))
        if later.size == 0:
            return None
        a = float(times[later[0]])
    i1 = int(np.searchsorted(times, t1, side="right")) - 1
    if i1 >= 0 and zero[i1]:
        b = t1
    else:
        earlier = np.flatnonzero(zero & (times <= t1))
        if earlier.size == 0:
            return None
        b = float(times[earlier[-1]])
    return (a, b) if b > a else None


def level_mean(times: np.ndarray, levels: np.ndarray, a: float, b: float) -> float:
    return float(step_integrals(times, levels, np.array([a, b]))[0]) / (b - a)


def overlap_sum(
    starts: np.ndarray, ends: np.ndarray, a: float, b: float, weights: np.ndarray | None = None
) -> float:
    """Σ weight × |[start, end) ∩ [a, b]|; a NaN end means "still there at ``b``"."""
    s = np.asarray(starts, dtype=float)
    e = np.where(np.isnan(ends), b, np.asarray(ends, dtype=float))
    ok = np.isfinite(s)
    span = np.clip(np.minimum(e[ok], b) - np.maximum(s[ok], a), 0.0, None)
    w = 1.0 if weights is None else np.asarray(weights, dtype=float)[ok]
    return float(np.sum(span * w))


@dataclass
class LittleSample:
    """Little's law on one sample path: ``L`` from the time-weighted monitor over
    ``[a, b]``, ``lam W`` from the records of the entities that arrived in it."""

    level: float  # L, time-weighted
    lam: float  # arrivals per hour in the window
    mean_time: float  # W, hours
    start_h: float
    end_h: float
    arrivals: int

    @property
    def window_h(self) -> float:
        return self.end_h - self.start_h

    @property
    def lam_w(self) -> float:
        return self.lam * self.mean_time if self.arrivals else 0.0

    @property
    def rel_error(self) -> float:
        scale = max(abs(self.level), abs(self.lam_w))
        return abs(self.level - self.lam_w) / scale if scale > 0 else 0.0


def queue_little(
    times: np.ndarray,
    levels: np.ndarray,
    arrived: np.ndarray,
    left: np.ndarray,
    t0: float,
    t1: float,
) -> LittleSample | None:
    """Little's law for a queue whose monitor counts entities between ``arrived`` and
    ``left``, over the longest empty-to-empty window in ``[t0, t1]``."""
    window = empty_window(times, levels, t0, t1)
    if window is None:
        return None
    a, b = window
    sel = (arrived >= a) & (arrived < b)
    count = int(sel.sum())
    mean_time = float(np.mean(left[sel] - arrived[sel])) if count else 0.0
    return LittleSample(level_mean(times, levels, a, b), count / (b - a), mean_time, a, b, count)


@dataclass
class YardLittle:
    """Little's law on the yard, exactly bracketed.

    The yard monitor counts TEU *reserved*: a truck reserves its box's space when it
    gets a gate lane (so a full yard blocks the gate), and the space is freed when the
    box is loaded on a wagon. The reservation instant ``r`` is not recorded, but
    ``arrived <= r <= yard_in`` for every box, hence, over any window,
    ``lam W(yard_in → loaded) <= L <= lam W(arrived → loaded)`` with both sides computed
    exactly from the box records (as sums of each box's time inside the window). The
    bracket's width is the TEU in gate service or waiting for the unloading crane.
    """

    level: float
    lower: float
    upper: float
    window_h: float

    @property
    def inside(self) -> bool:
        slack = EXACT_REL_TOL * max(1.0, abs(self.upper))
        return self.lower - slack <= self.level <= self.upper + slack


def yard_little(result: RunResult, t0: float | None = None, t1: float | None = None) -> YardLittle:
    a = result.warmup_h if t0 is None else t0
    b = result.end_h if t1 is None else t1
    ships = result.records.shipments
    arrived = np.array([s.arrived_h for s in ships], dtype=float)
    yard_in = np.array([s.yard_in_h for s in ships], dtype=float)
    loaded = np.array([s.loaded_h for s in ships], dtype=float)
    teu = np.array([s.teu for s in ships], dtype=float)
    times, levels = result.records.monitors["yard_teu"].arrays()
    width = b - a
    return YardLittle(
        level=level_mean(times, levels, a, b),
        lower=overlap_sum(yard_in, loaded, a, b, teu) / width,
        upper=overlap_sum(arrived, loaded, a, b, teu) / width,
        window_h=width,
    )


def border_little(
    result: RunResult, events: pd.DataFrame, node: str, guard_h: float | None = None
) -> LittleSample | None:
    """Little's law on the queue at ``node``: the time-weighted ``queue:<node>`` monitor
    (trains waiting for a track or for the daily-capacity headway) against the arrival
    rate times the mean recorded wait (``start_h - arrived_h`` of each train's first
    stage there). Node events are written when processing ends, so the window closes
    ``guard_h`` (default 30 mean processing times) before the end of the run."""
    times, levels = result.records.monitors[f"queue:{node}"].arrays()
    at = events[events["node"] == node].drop_duplicates(["train_id"], keep="first")
    if guard_h is None:
        stages = events[events["node"] == node]
        mean_proc = float((stages["end_h"] - stages["start_h"]).mean()) if len(stages) else 0.0
        guard_h = 30.0 * mean_proc
    return queue_little(
        times,
        levels,
        at["arrived_h"].to_numpy(dtype=float),
        at["start_h"].to_numpy(dtype=float),
        result.warmup_h,
        result.end_h - guard_h,
    )


# =========================================================================== replications


def _simulate_raw(raw: dict[str, Any], seed: int) -> RunResult:
    from silkroute_sim.config.loader import validate_config
    from silkroute_sim.model.simulate import simulate

    return simulate(validate_config(raw, f"<verify:{raw['name']}>"), seed=seed)


def queue_replication(
    case: QueueCase, seed: int, raw: dict[str, Any] | None = None
) -> dict[str, float]:
    """One replication of a queue case (its config ``raw``, default :func:`queue_raw`):
    the queue measured from the monitors and from the records, and sample-path Little."""
    result = _simulate_raw(queue_raw(case) if raw is None else raw, seed)
    mons = result.records.monitors
    if case.station == "cranes":
        ships = result.records.shipments
        arrived = np.array([s.arrived_h for s in ships], dtype=float)
        done = np.array([s.yard_in_h for s in ships], dtype=float)
        times, levels = combined_level([mons["crane_queue"], mons["cranes_busy"]])
        sample = queue_little(times, levels, arrived, done, result.warmup_h, result.end_h)
        if sample is None:
            return {"failed": 1.0}
        q_times, q_levels = mons["crane_queue"].arrays()
        lq = level_mean(q_times, q_levels, sample.start_h, sample.end_h)
        b_times, b_levels = mons["cranes_busy"].arrays()
        busy = level_mean(b_times, b_levels, sample.start_h, sample.end_h)
        yard = yard_little(result)
        return {
            "lq": lq,
            "w_records": sample.mean_time,
            "utilisation": busy / case.c,
            "customers": float(sample.arrivals),
            "little_L": sample.level,
            "little_lamW": sample.lam_w,
            "little_rel_error": sample.rel_error,
            "yard_L": yard.level,
            "yard_upper": yard.upper,
            "yard_rel_error": abs(yard.level - yard.upper) / max(yard.upper, 1e-12),
        }
    from silkroute_sim.analysis.tables import node_events_frame

    events = node_events_frame(result)
    events = events[events["background"]]
    sample = border_little(result, events, "Border", guard_h=30.0 * case.mean_service_h)
    if sample is None:
        return {"failed": 1.0}
    at = events[(events["arrived_h"] >= sample.start_h) & (events["arrived_h"] < sample.end_h)]
    return {
        "lq": sample.level,
        "w_records": sample.mean_time,
        "p_wait": float((at["wait_h"] > 0).mean()),
        "customers": float(sample.arrivals),
        "little_L": sample.level,
        "little_lamW": sample.lam_w,
        "little_rel_error": sample.rel_error,
    }


def deterministic_replication(seed: int, raw: dict[str, Any] | None = None) -> dict[str, float]:
    """Deviations of the deterministic corridor's timeline (``raw``, default
    :func:`deterministic_raw`) from the exact values of :func:`deterministic_expectations`."""
    result = _simulate_raw(deterministic_raw() if raw is None else raw, seed)
    exp = deterministic_expectations()
    trains = [t for t in result.records.trains if t.arrived_h == t.arrived_h]
    ships = [s for s in result.records.shipments if s.departed_h == s.departed_h]
    events = result.records.node_events

    def worst(values: list[float], expected: float) -> float:
        return max((abs(v - expected) for v in values), default=math.nan)

    gauge = [e.end_h - e.start_h for e in events if e.kind == "gauge_change"]
    customs = [e.end_h - e.start_h for e in events if e.kind == "customs"]
    waits = [e.start_h - e.arrived_h for e in events if e.kind in ("customs", "gauge_change")]
    dwell = [s.delivered_h - s.terminal_arrived_h for s in ships if s.delivered_h == s.delivered_h]
    return {
        "trains": float(len(trains)),
        "transit_mean_h": float(np.mean([t.arrived_h - t.departed_h for t in trains])),
        "transit_dev": worst([t.arrived_h - t.departed_h for t in trains], exp["transit_h"]),
        "gate_to_yard_dev": worst(
            [s.yard_in_h - s.arrived_h for s in ships], exp["gate_to_yard_h"]
        ),
        "clearance_dev": worst([s.ready_h - s.yard_in_h for s in ships], exp["clearance_h"]),
        "call_to_departure_dev": worst(
            [t.departed_h - t.called_h for t in trains], exp["call_to_departure_h"]
        ),
        "customs_dev": worst(customs, exp["customs_h"]),
        "gauge_change_dev": worst(gauge, exp["gauge_change_h"]),
        "border_wait_dev": worst(waits, 0.0),
        "dwell_dev": worst(dwell, exp["dwell_h"]),
        "conservation_error_t": abs(result.ledger.conservation_error_t),
    }


def baseline_replication(days: float, warmup_days: float, seed: int) -> dict[str, float]:
    """One baseline run reduced to the numbers the validation targets and the baseline
    Little checks need (everything measured after the warm-up)."""
    from silkroute_sim.analysis.tables import Tables, kpis, processing_nodes
    from silkroute_sim.config.loader import load_config
    from silkroute_sim.model.simulate import simulate

    cfg = load_config(None, days=days, warmup_days=warmup_days)
    result = simulate(cfg, seed=seed)
    tables = Tables(result)
    out: dict[str, float] = {
        k: float(v) for k, v in kpis(tables.summary).items() if isinstance(v, int | float)
    }
    w0, w1 = result.warmup_h, result.end_h
    ships = tables.shipments
    trains = tables.trains
    trains_w = trains[(trains["departed_h"] >= w0) & (trains["departed_h"] < w1)]
    out["boxes_per_train"] = float(trains_w["boxes"].mean())
    out["hub_dwell_d_mean"] = out.get("hub_dwell_h_mean", math.nan) / 24.0
    arrived_w = ships[(ships["terminal_arrived_h"] >= w0) & (ships["terminal_arrived_h"] < w1)]
    for dest in cfg.services_destinations():
        sel = arrived_w[arrived_w["destination"] == dest]
        transit = (sel["terminal_arrived_h"] - sel["departed_h"]) / 24.0
        out[f"transit_d:{dest}"] = float(transit.mean()) if len(sel) else math.nan

    ev = tables.node_events
    ev_w = ev[(ev["arrived_h"] >= w0) & (ev["arrived_h"] < w1)]
    per_train = ev_w.assign(proc=ev_w["end_h"] - ev_w["start_h"]).groupby(["node", "train_id"])
    agg = per_train.agg(
        proc=("proc", "sum"), first=("arrived_h", "min"), last=("end_h", "max")
    ).reset_index()
    for node in cfg.corridor.nodes:
        gc = ev_w[(ev_w["node"] == node) & (ev_w["kind"] == "gauge_change")]
        dur_min = (gc["end_h"] - gc["start_h"]) * 60.0
        out[f"gauge_change_min:{node}"] = float(dur_min.mean()) if len(gc) else math.nan
        out[f"gauge_change_min_39:{node}"] = (
            float((dur_min * 39.0 / gc["boxes"]).mean()) if len(gc) else math.nan
        )
        at = agg[agg["node"] == node]
        out[f"processing_h:{node}"] = float(at["proc"].mean()) if len(at) else math.nan
        out[f"time_at_node_h:{node}"] = (
            float((at["last"] - at["first"]).mean()) if len(at) else math.nan
        )
    both = agg[agg["node"].isin(["Brest", "Małaszewicze"])].groupby("train_id")
    pair = both.agg(proc=("proc", "sum"), nodes=("node", "nunique"))
    pair = pair[pair["nodes"] == 2]
    out["processing_h:Brest+Małaszewicze"] = float(pair["proc"].mean()) if len(pair) else math.nan
    out["trains_per_day:Alashankou+Khorgos"] = out.get(
        "trains_per_day:Alashankou", math.nan
    ) + out.get("trains_per_day:Khorgos", math.nan)

    yard = yard_little(result)
    out["little:yard:L"] = yard.level
    out["little:yard:lower"] = yard.lower
    out["little:yard:upper"] = yard.upper
    out["little:yard:inside"] = float(yard.inside)
    borders = [n for n in processing_nodes(result) if cfg.corridor.nodes[n].kind == "border"]
    for node in borders:
        sample = border_little(result, ev, node)
        if sample is None:
            out[f"little:{node}:missing"] = 1.0
            continue
        out[f"little:{node}:L"] = sample.level
        out[f"little:{node}:lamW"] = sample.lam_w
        out[f"little:{node}:rel_error"] = sample.rel_error
        out[f"little:{node}:window_d"] = sample.window_h / 24.0
    out["conservation_error_t"] = abs(result.ledger.conservation_error_t)
    return out


# =========================================================================== tasks


@dataclass(frozen=True)
class Task:
    kind: str  # "queue", "deterministic", "baseline"
    key: str
    seed: int
    case: QueueCase | None = None
    days: float = 0.0
    warmup_days: float = 0.0
    cost: float = 1.0  # rough relative run time, for scheduling the longest first


def run_task(task: Task) -> tuple[str, int, dict[str, float]]:
    """Run one task; a top-level function of plain data (safe in spawned workers)."""
    from silkroute_sim.config.errors import SilkrouteError

    try:
        if task.kind == "queue":
            assert task.case is not None
            values = queue_replication(task.case, task.seed)
        elif task.kind == "deterministic":
            values = deterministic_replication(task.seed)
        elif task.kind == "baseline":
            values = baseline_replication(task.days, task.warmup_days, task.seed)
        else:
            raise ValueError(f"unknown task kind {task.kind!r}")
    except SilkrouteError as exc:  # subclasses may not unpickle in the parent
        raise SilkrouteError(str(exc)) from None
    return task.key, task.seed, values


def plan_tasks(plan: Plan, seed: int, part: str = "all") -> list[Task]:
    tasks: list[Task] = []
    if part in ("all", "verification"):
        for case in plan.cases:
            cost = (case.customers + case.warmup_h() * case.lam) / 20_000
            tasks += [
                Task("queue", case.name, seed + r, case=case, cost=cost) for r in range(plan.reps)
            ]
        tasks.append(Task("deterministic", "deterministic", seed, cost=0.5))
    if part in ("all", "validation"):
        tasks += [
            Task(
                "baseline",
                "baseline",
                seed + r,
                days=plan.baseline_days,
                warmup_days=plan.baseline_warmup_days,
                cost=plan.baseline_days / 60,
            )
            for r in range(plan.baseline_reps)
        ]
    return sorted(tasks, key=lambda t: -t.cost)


Progress = Callable[[int, int], None]


def run_tasks(
    tasks: Sequence[Task], jobs: int = 1, progress: Progress | None = None
) -> dict[str, list[dict[str, float]]]:
    """Run ``tasks`` serially or in a spawned process pool; values grouped by key,
    in seed order (so a parallel run gives the same table as a serial one)."""
    gathered: list[tuple[str, int, dict[str, float]]] = []
    total = len(tasks)
    if jobs <= 1 or total <= 1:
        for i, task in enumerate(tasks):
            gathered.append(run_task(task))
            if progress is not None:
                progress(i + 1, total)
    else:
        import multiprocessing
        from concurrent.futures import ProcessPoolExecutor, as_completed

        ctx = multiprocessing.get_context("spawn")
        with ProcessPoolExecutor(max_workers=min(jobs, total), mp_context=ctx) as pool:
            futures = [pool.submit(run_task, task) for task in tasks]
            try:
                for i, fut in enumerate(as_completed(futures)):
                    gathered.append(fut.result())
                    if progress is not None:
                        progress(i + 1, total)
            except BaseException:
                for fut in futures:
                    fut.cancel()
                raise
    grouped: dict[str, list[dict[str, float]]] = {}
    for key, _seed, values in sorted(gathered, key=lambda g: (g[0], g[1])):
        grouped.setdefault(key, []).append(values)
    return grouped


# =========================================================================== checks


def _values(reps: Sequence[dict[str, float]], key: str) -> np.ndarray:
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


def queue_checks(case: QueueCase, reps: Sequence[dict[str, float]], family: int) -> list[Check]:
    """The analytic rows of one case: the queue two independent ways — the
    time-weighted number waiting (level monitor) and the mean time per customer
    (records) — and the utilisation (crane pool) or the probability of waiting
    (border, Erlang C)."""
    failed = sum(1 for r in reps if r.get("failed"))
    wq = case.wq()
    customers = _values(reps, "customers")
    who = "boxes" if case.station == "cranes" else "trains"
    per_rep = f"{np.nanmean(customers):,.0f} {who} per replication"
    source = f"queueing.py: {case.formula()}"
    label = case.label()

    def row(
        key: str,
        title: str,
        values: np.ndarray,
        target: float,
        unit: str,
        what: str,
        formula: str = source,
    ) -> Check:
        return analytic_check(
            f"{case.name}:{key}",
            f"{label}: {title}",
            values,
            target,
            unit,
            family,
            case.precision,
            formula,
            f"{what}, {per_rep}",
        )

    checks = [
        row(
            "lq",
            "Lq (time-weighted) = lam Wq",
            _values(reps, "lq"),
            case.lam * wq,
            who,
            "mean number waiting (level monitor)",
        ),
    ]
    if case.station == "cranes":
        checks += [
            row(
                "w_records",
                "W = Wq + 1/mu per box",
                _values(reps, "w_records"),
                wq + case.mean_service_h,
                "h",
                "mean of yard_in - arrived over the boxes (records: wait + lift)",
            ),
            row(
                "utilisation",
                "crane utilisation = rho",
                _values(reps, "utilisation"),
                case.rho,
                "fraction",
                "time-weighted busy cranes / c",
                "utilisation = lam / (c mu)",
            ),
        ]
    else:
        a = case.lam / case.mu
        checks += [
            row(
                "wq_records",
                "Wq per train",
                _values(reps, "w_records"),
                wq,
                "h",
                "mean of start - arrived over the trains (node events)",
            ),
            row(
                "p_wait",
                "P(wait) = Erlang C",
                _values(reps, "p_wait"),
                queueing.erlang_c(case.c, a),
                "fraction",
                "share of trains that waited for a track (node events)",
                "queueing.py: Erlang C probability of waiting C(c, a)",
            ),
        ]
    if failed:
        checks.append(
            exact_check(
                "analytic",
                f"{case.name}:empty_window",
                f"{label}: the queue empties after the warm-up",
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


def little_checks_queue(case: QueueCase, reps: Sequence[dict[str, float]]) -> list[Check]:
    """Little's law on each replication's sample path (and, for the crane pool, the
    yard, whose space is reserved on arrival there since the gate takes no time)."""
    err = _values(reps, "little_rel_error")
    worst = float(np.nanmax(err)) if np.isfinite(err).any() else math.nan
    if case.station == "cranes":
        what = "cranes busy + moves waiting vs boxes/h × mean (yard_in - arrived)"
        yard_err = _values(reps, "yard_rel_error")
        worst_yard = float(np.nanmax(yard_err)) if np.isfinite(yard_err).any() else math.nan
        what += f"; yard TEU vs TEU/h × mean (loaded - arrived): {worst_yard:.1e}"
        err = np.maximum(err, yard_err)
    else:
        what = "trains waiting vs trains/h × mean wait (node events)"
    level = float(np.nanmean(_values(reps, "little_L")))
    ok = bool(np.all(np.isfinite(err)) and np.nanmax(err) <= EXACT_REL_TOL)
    return [
        exact_check(
            "little",
            f"{case.name}:little",
            f"Little's law, {case.label()}",
            level,
            float(np.nanmean(_values(reps, "little_lamW"))),
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


# =========================================================================== validation


@dataclass(frozen=True)
class Target:
    """A published figure, its acceptance band, and the declared reasons why the
    baseline may miss it (only a miss in a declared direction is ``explained``)."""

    name: str
    title: str
    metric: str
    unit: str
    value: float
    low: float
    high: float
    source: str
    band: str
    explain_below: str = ""
    explain_above: str = ""
    explain_missing: str = ""


FACTS = "corridor-facts.md"
_WESTBOUND = (
    "the baseline models westbound traffic in the 2018 setting (Urumqi at 3,600 t/day); "
    "the published counts are for 2020–2025, when China–Europe traffic was 2–3 times "
    "2018's (6,363 trips in 2018, about 17,000 in 2023 [§7]), and a station's count "
    "includes trains in both directions"
)
_TRANSIT = (
    "the published 15–16 days include the multi-day waits at Małaszewicze of those years "
    "(2–3 days in 2018, see that row), which the baseline's normal operation does not have"
)
_OPS = "±25 %: operators' single-figure times ('about', 'cut to') vary with train and shift"


def _pm(value: float, rel: float) -> tuple[float, float, float]:
    """(value, low, high) for a band of ± ``rel`` around ``value``."""
    return value, value * (1 - rel), value * (1 + rel)


T = Target
# One row per published figure: name, title, metric of baseline_replication, unit,
# (figure, band low, band high), source in corridor-facts.md, why this band, and the
# declared reason for a miss (below / above / not measured), if any.
# fmt: off
TARGETS: tuple[Target, ...] = (
    T("hub_handled", "hub cargo handled", "dispatched_t_per_day", "t/day", *_pm(3600, 0.05),
      f"{FACTS} §1: 'up to 3,600 t/day (2018)', stated",
      "±5 %: demand is 3,600 t/day on average over the year, with weekday and seasonal "
      "factors; the warm-up cuts part of January"),
    T("urumqi_trains", "Urumqi trains per day", "trains_dispatched_per_day", "trains/day",
      4, 3.5, 4.5, f"{FACTS} §1: 'about 4 (3,600 t / ~900 t per train)', derived",
      "'about 4' read as 3.5–4.5"),
    T("urumqi_trains_2017", "Urumqi trains per day, 2017", "trains_dispatched_per_day",
      "trains/day", 2.5, 2, 3, f"{FACTS} §1: 'about 700 (about 2–3 per day)' in 2017, stated",
      "the stated range",
      explain_above="a 2017 figure; the baseline is the 2018 hub at 3,600 t/day, whose "
      "trains at ~900 t each are about 4/day (the derived row above) — the two published "
      "figures differ by year"),
    T("train_tonnes", "cargo per Urumqi train", "train_tonnes_mean", "t", *_pm(900, 0.10),
      f"{FACTS} §1: '~900 t per train', derived", "±10 % ('~900')"),
    T("boxes_per_train", "containers per Urumqi train", "boxes_per_train", "FEU", 50, 41, 55,
      f"{FACTS} §5: 41 FEU (Chengdu–Łódź), 50 wagons (Xi'an), 50 → 55 FEU, stated",
      "the stated range 41–55"),
    T("hub_dwell", "container dwell at the Urumqi hub", "hub_dwell_d_mean", "d", 2, 1, 3,
      f"{FACTS} §6: 'Urumqi 1–3 days', estimate", "the stated range"),
    *(
        T(f"transit_{slug}", f"rail transit Urumqi → {dest}", f"transit_d:{dest}", "d",
          15, 10, 16,
          f"{FACTS} §5: 'cut from 22 to 15 days; Urumqi → Netherlands 16 days; operator "
          "claim Urumqi → Duisburg 10 days', stated",
          "from the operator's 10 days to the 16 days to the Netherlands",
          explain_below=_TRANSIT + extra)
        for slug, dest, extra in (
            ("duisburg", "Duisburg", ""),
            ("hamburg", "Hamburg", "; Hamburg is about 250 km nearer than Duisburg [§3]"),
            ("lodz", "Łódź", "; Łódź is about 1,000 km nearer than Duisburg [§3]"),
        )
    ),
    T("gc_alashankou", "gauge change at Alashankou, per train", "gauge_change_min:Alashankou",
      "min", *_pm(60, 0.25),
      f"{FACTS} §4: 'transshipment of a train about 1 h with 4 gantries', stated", _OPS,
      explain_missing="not exercised: only westbound trains are modelled, and they change "
      "gauge at Dostyk; Alashankou transships eastbound trains"),
    T("gc_dostyk", "gauge change at Dostyk, per 39-box train", "gauge_change_min_39:Dostyk",
      "min", *_pm(40, 0.25), f"{FACTS} §4: 'a 39-car train (~900 m) reloaded in 40 min', stated",
      _OPS + "; each train's time scaled to 39 boxes"),
    T("proc_dostyk", "processing at Dostyk (formalities + gauge change)", "processing_h:Dostyk",
      "h", *_pm(4.25, 0.25), f"{FACTS} §4: 'processing cut from 9 h to 4 h 15', stated", _OPS),
    T("gc_altynkol", "gauge change at Khorgos/Altynkol, per train", "gauge_change_min:Altynkol",
      "min", *_pm(55, 0.25),
      f"{FACTS} §4: '45–50-car train in 55 min with 3 gantries', stated", _OPS),
    T("proc_brest", "processing at Brest without reloading", "processing_h:Brest", "h",
      *_pm(5, 0.25),
      f"{FACTS} §4: 'Brest 8 h 30 per train with reloading, 5 h without', stated", _OPS),
    T("proc_brest_reload", "processing at Brest + Małaszewicze with reloading",
      "processing_h:Brest+Małaszewicze", "h", *_pm(8.5, 0.25),
      f"{FACTS} §4: 'Brest 8 h 30 per train with reloading', stated",
      _OPS + "; the model reloads westbound trains at Małaszewicze"),
    *(
        T(f"cn_exit_{node.lower()}", f"crossing the Xinjiang border at {node} (wait + "
          "formalities)", f"time_at_node_h:{node}", "h", 1, 0, 1,
          f"{FACTS} §4: 'crossing the Xinjiang border cut from 10 h to under 1 h (2020)', "
          "stated", "'under 1 h'")
        for node in ("Alashankou", "Khorgos")
    ),
    T("wait_malaszewicze", "wait at Małaszewicze", "border_wait_h_mean:Małaszewicze", "h",
      60, 48, 72,
      f"{FACTS} §4: 'typically 2–3 days, sometimes weeks (2018); about 10 days avg (2021)', "
      "stated", "the 2018 range 2–3 days",
      explain_below="the published waits arose under disruption — 2018 track works cut the "
      "station from 14 to 8 trains/day [§4], 2021 was the pandemic surge; the baseline is "
      "normal operation at the stated 16 trains/day (a disruption scenario reproduces such "
      "waits)"),
    T("count_alashankou", "trains per day at Alashankou", "trains_per_day:Alashankou",
      "trains/day", *_pm(17, 0.15), f"{FACTS} §4: '17 avg, 24 peak (2023)', stated",
      "±15 % of the 2023 average", explain_below=_WESTBOUND),
    T("count_dostyk", "trains per day at Dostyk", "trains_per_day:Dostyk", "trains/day",
      13.5, 12, 15, f"{FACTS} §4: '12–15 trains/day; exchange limit 14/day', stated",
      "the stated range", explain_below=_WESTBOUND),
    T("cap_dostyk", "trains per day at Dostyk within its exchange limit",
      "trains_per_day:Dostyk", "trains/day", 14, 0, 14,
      f"{FACTS} §4: 'exchange limit 14/day, 28 planned', stated", "at most the limit"),
    T("count_khorgos", "trains per day at Khorgos", "trains_per_day:Khorgos", "trains/day",
      *_pm(19, 0.15), f"{FACTS} §4: '19/day avg, 27 max (2022)', stated",
      "±15 % of the 2022 average", explain_below=_WESTBOUND),
    T("count_xinjiang", "trains per day at Alashankou + Khorgos",
      "trains_per_day:Alashankou+Khorgos", "trains/day", 30, 26.5, 33.5,
      f"{FACTS} §4: '9,679 trains (2020), 12,210 (2021)', stated",
      "26.5–33.5 a day (2020–2021)", explain_below=_WESTBOUND),
    T("cap_malaszewicze", "trains per day at Małaszewicze within its capacity",
      "trains_per_day:Małaszewicze", "trains/day", 16, 0, 16,
      f"{FACTS} §4: 'up to 16 train pairs/day today', stated", "at most 16 a day each way"),
)
# fmt: on
del T


def _configured_gauge_change_min(cfg: ScenarioConfig, node: str, boxes: int = 45) -> float:
    proc = cfg.corridor.nodes[node].processing if node in cfg.corridor.nodes else None
    if proc is None or proc.gauge_change is None:
        return math.nan
    gc = proc.gauge_change
    return 60.0 * (gc.setup_time.mean + boxes * gc.lift_time.mean / gc.cranes)


def validation_check(
    target: Target, reps: Sequence[dict[str, float]], cfg: ScenarioConfig | None
) -> Check:
    mean, low, high, n = mean_ci(_values(reps, target.metric))
    note = f"band: {target.band}"
    if not math.isfinite(mean):
        status = EXPLAINED if target.explain_missing else FAIL
        note = target.explain_missing or f"not measured: no {target.metric} in the baseline"
        node = target.metric.partition(":")[2]
        if target.metric.startswith("gauge_change_min") and cfg is not None:
            conf = _configured_gauge_change_min(cfg, node)
            note += f"; configured mean for a 45-box train {conf:.0f} min"
            if target.low <= conf <= target.high:
                note += " (inside the band)"
    elif mean < target.low:
        status = EXPLAINED if target.explain_below else FAIL
        note = f"below the band: {target.explain_below or 'no declared reason'}; {note}"
    elif mean > target.high:
        status = EXPLAINED if target.explain_above else FAIL
        note = f"above the band: {target.explain_above or 'no declared reason'}; {note}"
    else:
        status = PASS
    return Check(
        "validation",
        target.name,
        target.title,
        status,
        mean,
        low,
        high,
        target.value,
        target.low,
        target.high,
        math.nan,
        target.unit,
        n,
        None,
        target.source,
        note,
    )


def baseline_little_checks(reps: Sequence[dict[str, float]]) -> list[Check]:
    checks = []
    inside = _values(reps, "little:yard:inside")
    checks.append(
        Check(
            "little",
            "baseline:yard",
            "Little's law, baseline yard",
            PASS if len(inside) and bool(np.all(inside == 1)) else FAIL,
            float(np.nanmean(_values(reps, "little:yard:L"))),
            target=float(np.nanmean(_values(reps, "little:yard:upper"))),
            low=float(np.nanmean(_values(reps, "little:yard:lower"))),
            high=float(np.nanmean(_values(reps, "little:yard:upper"))),
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
        err = _values(reps, f"little:{node}:rel_error")
        missing = int(np.nansum(_values(reps, f"little:{node}:missing")))
        level = float(np.nanmean(_values(reps, f"little:{node}:L")))
        ok = missing == 0 and bool(np.all(np.isfinite(err))) and np.nanmax(err) <= EXACT_REL_TOL
        window = float(np.nanmean(_values(reps, f"little:{node}:window_d")))
        checks.append(
            exact_check(
                "little",
                f"baseline:queue:{node}",
                f"Little's law, baseline queue at {node}",
                level,
                float(np.nanmean(_values(reps, f"little:{node}:lamW"))),
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
    cons = _values(reps, "conservation_error_t")
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


# =========================================================================== the suite


@dataclass
class VerifyResult:
    plan: Plan
    seed: int
    part: str
    checks: list[Check]
    wall_s: float
    jobs: int
    started: str = ""
    extra: dict[str, Any] = field(default_factory=dict)

    @property
    def failed(self) -> list[Check]:
        return [c for c in self.checks if c.status == FAIL]

    @property
    def ok(self) -> bool:
        return not self.failed

    def counts(self) -> dict[str, int]:
        return {s: sum(1 for c in self.checks if c.status == s) for s in (PASS, EXPLAINED, FAIL)}


def analytic_family(plan: Plan) -> int:
    """Number of analytic checks in ``plan`` (the Bonferroni family): three per case."""
    return 3 * len(plan.cases)


def build_checks(
    plan: Plan, grouped: dict[str, list[dict[str, float]]], cfg: ScenarioConfig | None = None
) -> list[Check]:
    checks: list[Check] = []
    family = analytic_family(plan)
    little: list[Check] = []
    for case in plan.cases:
        reps = grouped.get(case.name)
        if not reps:
            continue
        checks += queue_checks(case, reps, family)
        if not any(r.get("failed") for r in reps):
            little += little_checks_queue(case, reps)
    exact: list[Check] = []
    if "deterministic" in grouped:
        exact += deterministic_checks(grouped["deterministic"])
    validation: list[Check] = []
    if "baseline" in grouped:
        reps = grouped["baseline"]
        base = baseline_little_checks(reps)
        little += [c for c in base if c.group == "little"]
        exact += [c for c in base if c.group == "exact"]
        validation = [validation_check(t, reps, cfg) for t in TARGETS]
    return checks + little + exact + validation


def run_verify(
    quick: bool = True,
    *,
    seed: int = 1,
    jobs: int = 1,
    reps: int | None = None,
    part: str = "all",
    progress: Progress | None = None,
) -> VerifyResult:
    """Run the verification suite (``part``: all, verification or validation)."""
    from datetime import datetime, timezone

    from silkroute_sim.config.errors import SilkrouteError

    if part not in PARTS:
        raise SilkrouteError(f"part must be one of {', '.join(PARTS)} (got {part!r})")
    if reps is not None and reps < 2:
        raise SilkrouteError(f"--reps must be at least 2 for a confidence interval (got {reps})")
    if jobs < 1:
        raise SilkrouteError(f"--jobs must be at least 1 (got {jobs})")
    plan = make_plan(quick, reps)
    started = datetime.now(timezone.utc).strftime("%Y-%m-%d %H:%M UTC")
    t0 = time.perf_counter()
    grouped = run_tasks(plan_tasks(plan, seed, part), jobs, progress)
    cfg = None
    if "baseline" in grouped:
        from silkroute_sim.config.loader import load_config

        cfg = load_config(None)
    checks = build_checks(plan, grouped, cfg)
    return VerifyResult(plan, seed, part, checks, time.perf_counter() - t0, jobs, started)


def default_jobs() -> int:
    return max(1, min(os.cpu_count() or 1, 8))


# =========================================================================== outputs


def checks_frame(checks: Sequence[Check]) -> pd.DataFrame:
    import pandas as pd

    return pd.DataFrame([asdict(c) for c in checks], columns=CHECK_COLUMNS)


def _fmt(value: float) -> str:
    if value is None or not math.isfinite(value):
        return "—"
    if value == 0:
        return "0"
    magnitude = abs(value)
    if magnitude >= 1000:
        return f"{value:,.0f}"
    if magnitude >= 1:
        return f"{value:.3g}" if magnitude < 100 else f"{value:.1f}"
    return f"{value:.3g}"


def estimate_text(check: Check) -> str:
    text = _fmt(check.estimate)
    if math.isfinite(check.ci_low) and check.group in ("analytic", "validation"):
        text += f" [{_fmt(check.ci_low)}, {_fmt(check.ci_high)}]"
    return text


def target_text(check: Check) -> str:
    if check.group == "validation":
        return f"{_fmt(check.target)} ({_fmt(check.low)}–{_fmt(check.high)})"
    if math.isfinite(check.tolerance) and check.tolerance > 0 and check.group == "analytic":
        return f"{_fmt(check.target)} ± {_fmt(check.tolerance)}"
    if check.group == "little" and check.name == "baseline:yard":
        return f"{_fmt(check.low)}–{_fmt(check.high)}"
    return _fmt(check.target)


def report_markdown(result: VerifyResult) -> str:
    """The verification report (Markdown)."""
    counts = result.counts()
    plan = result.plan
    lines = [
        f"# silkroute verify — {plan.name}",
        "",
        f"{result.started}; seed {result.seed}; {result.jobs} worker(s); "
        f"{result.wall_s:.0f} s wall. **{counts[PASS]} pass, {counts[EXPLAINED]} explained, "
        f"{counts[FAIL]} fail.**",
        "",
        f"Queue cases: {plan.reps} replications each; baseline: {plan.baseline_reps} "
        f"replications of {plan.baseline_days:g} days ({plan.baseline_warmup_days:g} warm-up).",
        "",
        "Analytic checks pass when the estimate lies within the simultaneous 95 % interval "
        f"over the {analytic_family(plan)} analytic checks (Bonferroni on Student-t, from "
        "the replications) and the plain 95 % interval is narrow enough to verify "
        "(the case's precision). Little's-law and exact checks compare two calculations "
        f"that agree by construction (relative {EXACT_REL_TOL:g}). Validation checks pass "
        "when the baseline's mean lies in the band; a miss is *explained* only in the "
        "direction declared beforehand, with its reason.",
        "",
    ]
    titles = {
        "analytic": "Analytic verification (queueing theory)",
        "little": "Little's law (monitors vs records)",
        "exact": "Exact checks",
        "validation": "Validation against published figures",
    }
    for group in GROUPS:
        rows = [c for c in result.checks if c.group == group]
        if not rows:
            continue
        lines += [f"## {titles[group]}", ""]
        lines += ["| status | check | estimate [95 % CI] | target | unit | n | note |"]
        lines += ["|---|---|---|---|---|---|---|"]
        for c in rows:
            note = c.note.replace("|", "/")
            if c.group == "validation":
                note = f"{c.source}. {note}"
            lines.append(
                f"| {c.status} | {c.title} | {estimate_text(c)} | {target_text(c)} | {c.unit} "
                f"| {c.n} | {note} |"
            )
        lines.append("")
    return "\n".join(lines)


def _write_html(result: VerifyResult, folder: Any) -> bool:
    """``report.html`` through the project's report builder, where it is installed."""
    try:
        from silkroute_sim.outputs.report import write_report
    except ImportError:
        return False
    import pandas as pd

    table = pd.DataFrame(
        [
            {
                "status": c.status,
                "group": c.group,
                "check": c.title,
                "estimate [95 % CI]": estimate_text(c),
                "target": target_text(c),
                "unit": c.unit,
                "n": c.n,
                "source and note": f"{c.source}. {c.note}" if c.source else c.note,
            }
            for c in result.checks
        ]
    )
    counts = result.counts()
    write_report(
        folder / "report.html",
        f"silkroute verify — {result.plan.name}",
        "The model against queueing theory (closed forms over replications), Little's "
        "law (monitors against records), a deterministic corridor and published figures "
        "(corridor-facts.md).",
        table,
        [],
        meta={
            "started": result.started,
            "seed": result.seed,
            "pass / explained / fail": (f"{counts[PASS]} / {counts[EXPLAINED]} / {counts[FAIL]}"),
            "queue replications": result.plan.reps,
            "baseline replications": result.plan.baseline_reps,
            "wall (s)": round(result.wall_s, 1),
        },
        table_title="Checks",
        table_note="Analytic checks pass when the estimate lies within the simultaneous "
        f"95 % interval over the {analytic_family(result.plan)} analytic checks (Bonferroni) "
        "and the plain 95 % interval meets the case's precision; validation checks when "
        "the baseline's mean lies in the band, a miss being explained only in the "
        "direction declared beforehand.",
    )
    return True


def write_verify(result: VerifyResult, out: Any, force: bool = False) -> Any:
    """Write ``verify.csv``, ``verify.md``, ``report.html`` (where the report builder is
    installed) and ``manifest.json`` into ``out`` atomically."""
    from pathlib import Path

    from silkroute_sim.outputs.storage import (
        atomic_write_text,
        base_manifest,
        mark_complete,
        write_folder,
        write_json,
    )

    frame = checks_frame(result.checks)

    def fill(folder: Path) -> None:
        atomic_write_text(
            folder / "verify.csv",
            frame.to_csv(index=False, float_format="%.6g", lineterminator="\n"),
        )
        atomic_write_text(folder / "verify.md", report_markdown(result) + "\n")
        files = ["verify.csv", "verify.md"]
        if _write_html(result, folder):
            files.append("report.html")
        manifest = base_manifest()
        manifest.update(
            {
                "kind": "verify",
                "plan": result.plan.name,
                "part": result.part,
                "seed": result.seed,
                "jobs": result.jobs,
                "started": result.started,
                "wall_s": round(result.wall_s, 3),
                "counts": result.counts(),
                "ok": result.ok,
                "cases": [asdict(c) for c in result.plan.cases],
                "reps": result.plan.reps,
                "baseline_reps": result.plan.baseline_reps,
                "baseline_days": result.plan.baseline_days,
                "files": [*files, "manifest.json"],
            }
        )
        write_json(manifest, folder / "manifest.json")
        mark_complete(folder, {"kind": "verify", "plan": result.plan.name, "ok": result.ok})

    return write_folder(Path(out), fill, force=force)


__all__ = [
    "TARGETS",
    "Check",
    "Plan",
    "QueueCase",
    "Target",
    "VerifyResult",
    "build_checks",
    "checks_frame",
    "deterministic_raw",
    "make_plan",
    "queue_raw",
    "run_verify",
    "write_verify",
]
