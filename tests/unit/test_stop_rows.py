"""A train's cost rows per stop (analysis/costs.py ``_stop_rows``), walked once along its
route: the same numbers, to the bit, as a walk from the start to each stop alone (the
reference below, over the same stretches: ``train_stretches``), on random routes of the
shipped corridor with sea legs, holds, stops reached twice and stops off the route."""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from itertools import pairwise

from hypothesis import given, settings
from hypothesis import strategies as st

from silkroute_sim.analysis.costs import (
    _Network,
    _sea_part,
    _stop_rows,
    edge_countries,
    train_stretches,
)
from silkroute_sim.config.loader import load_config

CFG = load_config("baseline")
SPLIT = edge_countries(CFG)
OUT: dict[str, list[str]] = {}
for a, b in SPLIT:
    OUT.setdefault(a, []).append(b)
STARTS = sorted(OUT)


def _walk_to_each_stop(
    net: _Network,
    train_id: str,
    route: list[str],
    onboard: Mapping[str, tuple[float, float]],
    holds: Iterable[tuple[str, float]],
    capacity_feu: float,
) -> list[tuple[object, ...]]:
    """The rows as a walk from the start to each stop alone gives them (the definition)."""
    nodes = net.cfg.corridor.nodes
    em, costs = net.cfg.emissions, net.cfg.costs
    index, held_at, loads = train_stretches(route, onboard, holds, costs.train_hold_free_h)
    rows: list[tuple[object, ...]] = []
    for stop, last in index.items():
        km = usd = kg_per_t = hold = 0.0
        borders = gauges = 0
        for i, (a, b) in enumerate(pairwise(route[: last + 1])):
            feu, net_t = loads[i]
            borders += i > 0 and nodes[a].kind == "border"
            if i in held_at and feu > 0:
                hold += held_at[i] * costs.train_hold_usd_per_h / feu
            if (a, b) in net.sea:
                continue
            hop_km, hop_usd, hop_g = net.segment(a, b)
            km += hop_km
            usd += hop_usd
            gross_t = capacity_feu * em.wagon_tare_t_per_feu + feu * em.box_tare_t_per_feu + net_t
            if net_t > 0:
                kg_per_t += hop_g * gross_t / net_t * em.empty_running_factor / 1000
            gauges += nodes[a].gauge_mm != nodes[b].gauge_mm
        sea = _sea_part(net, route, last)
        rows.append((train_id, stop, km, usd, borders, gauges, kg_per_t, hold, *sea))
    return rows


@st.composite
def trains(
    draw: st.DrawFn,
) -> tuple[
    list[str], dict[str, float], dict[str, tuple[float, float]], list[tuple[str, float]], float
]:
    route = [draw(st.sampled_from(STARTS))]
    for _ in range(draw(st.integers(0, 14))):
        if route[-1] not in OUT:
            break
        route.append(draw(st.sampled_from(OUT[route[-1]])))
    hops = list(pairwise(route))
    sea = {hop: draw(st.floats(50, 900)) for hop in hops if draw(st.integers(0, 4)) == 0}
    places = [*route, "Nowhere"]  # a stop off the route has no row
    onboard = {
        stop: (draw(st.floats(0, 60)), draw(st.sampled_from([0.0, 5.0, 812.5])))
        for stop in draw(st.lists(st.sampled_from(places), max_size=4, unique=True))
    }
    holds = draw(st.lists(st.tuples(st.sampled_from(places), st.floats(0, 90)), max_size=4))
    return route, sea, onboard, holds, draw(st.floats(0, 55))


@settings(max_examples=300, deadline=None)
@given(train=trains())
def test_one_walk_gives_each_stop_its_walk_to_it(train) -> None:
    route, sea, onboard, holds, capacity = train
    net = _Network(CFG, SPLIT, sea)
    got = _stop_rows(net, "T1", route, onboard, holds, capacity)
    assert got == _walk_to_each_stop(net, "T1", route, onboard, holds, capacity)
