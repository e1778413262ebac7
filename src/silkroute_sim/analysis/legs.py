"""Door to door of each delivered shipment split into legs: hub dwell, rail running,
corridor nodes and terminal dwell (:func:`transit_legs`), or the same columns one at a
time (:func:`leg_columns`) for a caller that reduces each, as the summary does."""

from __future__ import annotations

from collections.abc import Iterator

import numpy as np
import pandas as pd

from silkroute_sim.analysis.group_means import text_positions


def _hours_to_stop(
    trains: pd.DataFrame, events: pd.DataFrame
) -> tuple[pd.Index, pd.Index, np.ndarray]:
    """Hours each hub train spent at corridor nodes up to each node of its route: a table
    ``[train, node]`` with the trains' and the route nodes' indexes. At a node, the train's
    stages there count (queueing and processing), and a hold there for a closure ahead
    counts only for the nodes after it; in route order, one addition at a time. A train
    without events, or a node off its route, has 0 hours."""
    route_of = dict(zip(trains["train_id"], trains["route"], strict=True))
    train_index = pd.Index(list(route_of), dtype=object)
    nodes = sorted({node for route in set(route_of.values()) for node in str(route).split(">")})
    node_index = pd.Index(nodes, dtype=object)
    codes = {node: i for i, node in enumerate(nodes)}
    routes = {
        route: [codes[node] for node in str(route).split(">")] for route in set(route_of.values())
    }
    mask = ((events["kind"] != "terminal") & ~events["background"] & ~events["censored"]).to_numpy()
    train = text_positions(train_index, events["train_id"].to_numpy()[mask])
    node = text_positions(node_index, events["node"].to_numpy()[mask])
    held = events["kind"].to_numpy()[mask] == "held"
    hours_of = events["end_h"].to_numpy()[mask] - events["arrived_h"].to_numpy()[mask]
    ours = (train >= 0) & (node >= 0)
    # summed per (train, node, held) in event order, as a groupby of the texts sums them
    sums = pd.Series(hours_of[ours]).groupby([train[ours], node[ours], held[ours]]).sum()
    del mask, train, node, held, hours_of, ours
    shape = (len(train_index), len(node_index))
    at_node, after = np.zeros(shape), np.zeros(shape)
    if len(sums):
        t, n, h = (sums.index.get_level_values(i).to_numpy() for i in range(3))
        at_node[t[~h], n[~h]] = sums.to_numpy()[~h]
        after[t[h], n[h]] = sums.to_numpy()[h]
    to_stop = np.zeros(shape)
    for i, route in enumerate(route_of.values()):
        total, row = 0.0, to_stop[i]
        here, later = at_node[i].tolist(), after[i].tolist()
        for k in routes[route]:
            total += here[k]
            row[k] = total
            total += later[k]
    return train_index, node_index, to_stop


#: the legs of door to door, in the order of the summary's rows
LEGS = ("hub_dwell", "rail_running", "corridor_nodes", "terminal_dwell")


def leg_columns(
    shipments: pd.DataFrame,
    trains: pd.DataFrame,
    events: pd.DataFrame,
    rows: np.ndarray | None = None,
) -> Iterator[tuple[str, pd.Series]]:
    """The columns of :func:`transit_legs`, one at a time (``destination`` first, then
    hub dwell, corridor nodes, rail running, terminal dwell): a caller that reduces each
    one (means per stop) never holds them all."""

    def column(name: str) -> pd.Series:
        return shipments[name] if rows is None else shipments[name][rows]

    train_index, node_index, to_stop = _hours_to_stop(trains, events)
    destination = column("destination")
    train = text_positions(train_index, column("train_id").to_numpy())
    node = text_positions(node_index, destination.to_numpy())
    yield "destination", destination
    index = destination.index
    del destination
    found = (train >= 0) & (node >= 0)
    nodes_h = np.zeros(len(found))  # a shipment whose train has no route to it: 0 hours
    nodes_h[found] = to_stop[train[found], node[found]]
    del train, node, found, to_stop
    # numpy arrays, each result divided in place: the same operations as on the columns
    departed = column("departed_h").to_numpy()
    hub = departed - column("arrived_h").to_numpy()
    hub /= 24
    yield "hub_dwell", pd.Series(hub, index=index, copy=False)
    del hub
    corridor = nodes_h
    corridor /= 24
    yield "corridor_nodes", pd.Series(corridor, index=index, copy=False)
    terminal = column("terminal_arrived_h").to_numpy()
    running = terminal - departed
    running /= 24
    running -= corridor
    del departed, corridor, nodes_h
    yield "rail_running", pd.Series(running, index=index, copy=False)
    del running
    dwell = column("delivered_h").to_numpy() - terminal
    dwell /= 24
    del terminal
    yield "terminal_dwell", pd.Series(dwell, index=index, copy=False)


def transit_legs(
    shipments: pd.DataFrame,
    trains: pd.DataFrame,
    events: pd.DataFrame,
    rows: np.ndarray | None = None,
) -> pd.DataFrame:
    """Door to door of each delivered shipment split into legs (days): hub dwell (gate to
    departure), rail running (moving on edges), corridor nodes (queueing and processing at
    border and junction nodes before its stop, and holds at nodes for a closure ahead)
    and terminal dwell (arrival to release). A hold at a node comes after the train's
    stage there: it counts for the stops after that node. ``rows``: a mask of the
    shipments to split (all of them without); each column is read under it, one at a
    time, instead of a copy of the rows."""
    return pd.DataFrame(dict(leg_columns(shipments, trains, events, rows)))
