"""Train running times per destination (issue 21): summary rows against a recomputation
from the trains and their stops, and within the published bands of silkroute verify."""

from __future__ import annotations

import numpy as np
import pytest

from silkroute_sim.analysis.tables import Tables, kpis
from silkroute_sim.config.loader import load_config
from silkroute_sim.experiments.verify.published import load_targets
from silkroute_sim.model.simulate import simulate

DESTINATIONS = ("Duisburg", "Hamburg", "Łódź", "Moscow", "Almaty", "Bishkek", "Tashkent")


@pytest.fixture(scope="module")
def run():
    result = simulate(load_config("configs/baseline.yaml", days=40, warmup_days=10, seed=3))
    tables = Tables(result)
    return result, tables, kpis(tables.summary)


@pytest.mark.slow
def test_rows_present_for_every_destination_with_p90_above_median(run) -> None:
    _, _, k = run
    for dest in DESTINATIONS:
        median = k[f"train_running_h_median:{dest}"]
        p90 = k[f"train_running_h_p90:{dest}"]
        assert 0 < median <= p90, dest


def test_a_stop_on_the_way_counts_at_the_trains_arrival_there(run) -> None:
    """Almaty is the first stop of the Almaty–Bishkek trains: its running time is the
    trains' arrival at Almaty, not at Bishkek, and Bishkek's is longer by the leg."""
    result, tables, k = run
    ev = tables.node_events
    trains = tables.trains.set_index("train_id")
    at = ev[(ev["kind"] == "terminal") & (ev["node"] == "Almaty")]
    at = at[(at["arrived_h"] >= result.warmup_h) & (at["arrived_h"] < result.end_h)]
    running = at["arrived_h"].to_numpy() - trains.loc[at["train_id"], "departed_h"].to_numpy()
    assert k["train_running_h_median:Almaty"] == pytest.approx(float(np.median(running)))
    via = trains.loc[at["train_id"], "destination"]
    assert (via == "Bishkek").any()  # counted where Almaty was not the train's terminal
    assert k["train_running_h_median:Bishkek"] > k["train_running_h_median:Almaty"] + 10


def test_running_times_within_the_published_bands(run) -> None:
    _, _, k = run
    targets = [t for t in load_targets() if t.metric.startswith("train_running_h_median:")]
    assert {t.metric.split(":")[1] for t in targets} == set(DESTINATIONS)
    for t in targets:
        value = k[t.metric]
        assert value <= t.high, (t.name, value)
        assert value >= t.low or t.explain_below, (t.name, value)
