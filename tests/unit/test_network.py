"""Layer 1: the corridor's Dijkstra is networkx's — same paths, ties and exceptions."""

from __future__ import annotations

import networkx as nx
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from silkroute_sim.model.network import dijkstra_path

#: long end-to-end or statistical tests: left out of ``pytest -m "not slow"``
pytestmark = pytest.mark.slow


@st.composite
def graphs(draw: st.DrawFn) -> tuple[nx.DiGraph, str, str]:
    n = draw(st.integers(2, 9))
    nodes = [f"n{i}" for i in range(n)]
    graph = nx.DiGraph()
    graph.add_nodes_from(nodes)
    # small integer weights make equal-cost paths (ties) common
    edges = draw(
        st.lists(
            st.tuples(st.sampled_from(nodes), st.sampled_from(nodes), st.integers(0, 3)),
            max_size=30,
        )
    )
    for u, v, w in edges:
        if u != v:
            graph.add_edge(u, v, expected_h=float(w), hidden=w == 3)
    return graph, draw(st.sampled_from(nodes)), draw(st.sampled_from(nodes))


def _outcome(fn, *args):  # type: ignore[no-untyped-def]
    try:
        return fn(*args)
    except (nx.NetworkXNoPath, nx.NodeNotFound) as exc:
        return type(exc).__name__


@settings(max_examples=300, derandomize=True, deadline=None)
@given(graphs())
def test_same_path_as_networkx(case: tuple[nx.DiGraph, str, str]) -> None:
    graph, source, target = case

    def hide(u: str, v: str, data: dict[str, float]) -> float | None:
        return None if data["hidden"] else data["expected_h"] + 0.5

    for weight in ("expected_h", hide):
        ours = _outcome(dijkstra_path, graph, source, target, weight)
        theirs = _outcome(
            lambda g, s, t, w: nx.dijkstra_path(g, s, t, weight=w), graph, source, target, weight
        )
        assert ours == theirs


@settings(max_examples=300, derandomize=True, deadline=None)
@given(graphs(), st.data())
def test_node_costs_are_the_weight_function_they_replace(
    case: tuple[nx.DiGraph, str, str], data: st.DataObject
) -> None:
    """Adaptive routing passes queue costs per node; the result must be networkx's with
    the weight function ``expected_h + cost of the node entered``."""
    graph, source, target = case
    costs = data.draw(
        st.dictionaries(st.sampled_from(sorted(graph.nodes)), st.sampled_from([0.0, 0.5, 1.0]))
    )

    def weight(u: str, v: str, attrs: dict[str, float]) -> float:
        return attrs["expected_h"] + costs.get(v, 0.0)

    ours = _outcome(dijkstra_path, graph, source, target, "expected_h", costs)
    theirs = _outcome(
        lambda g, s, t: nx.dijkstra_path(g, s, t, weight=weight), graph, source, target
    )
    assert ours == theirs


def test_unknown_source_and_unreachable_target() -> None:
    graph = nx.DiGraph([("a", "b")])
    with pytest.raises(nx.NodeNotFound):
        dijkstra_path(graph, "x", "b", "expected_h")
    with pytest.raises(nx.NetworkXNoPath):
        dijkstra_path(graph, "b", "a", "expected_h")
    assert dijkstra_path(graph, "a", "a", "expected_h") == ["a"]
