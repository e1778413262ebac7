"""The scenarios of ``silkroute verify``: configs that reduce the model to a textbook queue
(:class:`QueueCase`, :func:`queue_raw`), a constant-time corridor whose timeline is known
exactly (:func:`deterministic_raw`), and the plans that say how many of each to run
(:func:`make_plan`).

Run lengths. Queue averages are autocorrelated over the relaxation time
``1 / (c mu (1 - sqrt(rho))^2)`` (:func:`queueing.mmc_relaxation_h`); each replication
cuts a warm-up of six relaxation times (it starts empty: the initial bias decays like
``exp(-t / relaxation)``) and then observes a fixed number of customers, chosen per
case so that the interval meets its precision.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from typing import Any

from silkroute_sim.analysis import queueing

PAYLOAD_T = 10.0  # constant payload of the queueing scenarios: boxes/h = t/day / 10 / 24


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
        "corridor": _deterministic_corridor(d),
        "outputs": {"plots": False},
    }


def _deterministic_corridor(d: dict[str, Any]) -> dict[str, Any]:
    """Hub → Border (customs, gauge change 1435 → 1520 mm) → Term (a constant dwell)."""
    return {
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
