"""What a 13-day closure of every Belarus – Poland crossing costs the boxes it touches
(docs/costs.md).

Every Polish node next to Belarus closed for 13 days (configs/scenarios/
belarus-poland-closed-13d.yaml; docs/disruptions.md): the adaptive services to Łódź,
Hamburg and Duisburg that have not yet passed Minsk re-plan through Lithuania (Kena –
Mockava – Białystok), a longer and slower way into the EU; the trains already committed to
Brest wait there (finite holding) until the crossings reopen. The affected boxes' logistics
cost per FEU is measured against the same destinations' boxes the closure did not touch
(``disruptions.csv``); the tolerance is the Student-t interval over replications.
"""

from __future__ import annotations

import numpy as np
import pytest

from silkroute_sim.analysis.stats import mean_ci
from silkroute_sim.analysis.tables import Tables
from silkroute_sim.config.loader import load_config
from silkroute_sim.model.simulate import simulate

from ..conftest import CONFIGS

SCENARIO = CONFIGS / "scenarios" / "belarus-poland-closed-13d.yaml"
EVENT = "belarus-poland-closed"
#: the closure moved to day 18 of a 50-day run (5 warm-up) so the held boxes arrive in it,
#: late enough that boxes from after the warm-up reach Europe untouched before it (the
#: reference: about 13 days door to door with the corridor's stops of issue 21)
EARLIER = f"disruptions.scheduled[id={EVENT}].start=18 d"
SEEDS = range(1, 5)
PARTS = [
    "extra_reroute_usd_per_feu_mean",
    "extra_holding_usd_per_feu_mean",
    "extra_inventory_usd_per_feu_mean",
]


@pytest.fixture(scope="module")
def rows() -> list[dict[str, float]]:
    out = []
    for seed in SEEDS:
        cfg = load_config(SCENARIO, [EARLIER], days=50, warmup_days=5, seed=seed)
        tables = Tables(simulate(cfg))
        frame = tables.disruptions
        assert frame is not None and list(frame["id"]) == [EVENT]
        row = frame.iloc[0].to_dict()
        summary = dict(zip(tables.summary["metric"], tables.summary["value"], strict=True))
        row["summary_share"] = summary[f"extra_cost_share:{EVENT}"]
        out.append(row)
    return out


def _ci(rows: list[dict[str, float]], column: str) -> tuple[float, float, float]:
    mean, low, high, n = mean_ci([row[column] for row in rows])
    assert n == len(SEEDS)
    return mean, low, high


@pytest.mark.slow
def test_closure_raises_the_cost_per_feu_of_the_boxes_it_touches_by_a_measurable_share(
    rows,
) -> None:
    mean, low, high = _ci(rows, "extra_cost_share")
    # about +5 % (about USD 400 on about USD 7,500 per FEU); the interval excludes 0 by far
    assert low > 0.02, (mean, low, high)
    assert high < 0.5, (mean, low, high)
    assert all(row["affected_delivered"] > 500 for row in rows)
    assert [row["summary_share"] for row in rows] == [row["extra_cost_share"] for row in rows]
    _, cost_low, _ = _ci(rows, "extra_cost_usd_per_feu_mean")
    assert cost_low > 150  # USD per FEU
    _, total_low, _ = _ci(rows, "extra_cost_usd")
    assert total_low > 0


@pytest.mark.slow
def test_closure_cost_comes_from_the_longer_route_the_holds_and_inventory(rows) -> None:
    """The rerouted trains pay the Lithuanian route's extra tariff and gauge change; the
    held ones their holds on the corridor (USD 125 per train-hour); every affected box the
    inventory carrying cost of its extra days door to door. The parts add up to the
    total."""
    for row in rows:
        assert sum(row[p] for p in PARTS) == pytest.approx(row["extra_cost_usd_per_feu_mean"])
        assert row["rerouted_trains"] > 10
        assert str(row["rerouted_by_route"]).startswith("via Kena")
    _, hold_low, _ = _ci(rows, "extra_holding_usd_per_feu_mean")
    inv_mean, inv_low, _ = _ci(rows, "extra_inventory_usd_per_feu_mean")
    assert hold_low > 20 and inv_low > 50
    # inventory: USD 100,000 x 12 %/yr x the extra days (the reference's mix per destination)
    d2d, _, _ = _ci(rows, "extra_door_to_door_d_mean")
    assert inv_mean == pytest.approx(100_000 * 0.12 * d2d / 365, rel=0.05)
    cost = np.mean([row["extra_cost_usd_per_feu_mean"] for row in rows])
    reroute = np.mean([row["extra_reroute_usd_per_feu_mean"] for row in rows])
    assert 0 < reroute < cost  # the longer route costs more, and is not all of it
