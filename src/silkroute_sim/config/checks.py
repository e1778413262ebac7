"""Cross-reference checks that a single pydantic field cannot do.

Each check returns the first problem as ``(key path, message, value)`` so the
loader can report it in one line. The corridor graph checks (reachability, gauge
changes) live here too, so a bad graph is found when the config is loaded.
"""

from __future__ import annotations

from collections import deque
from collections.abc import Mapping

from silkroute_sim.config.cargo_rules import check_cargo
from silkroute_sim.config.costs import check_costs
from silkroute_sim.config.errors import did_you_mean
from silkroute_sim.config.modes import check_modes
from silkroute_sim.config.schema import DisruptionEffect, DisruptionTarget, ScenarioConfig

Problem = tuple[str, str, object]


def _adjacency(cfg: ScenarioConfig) -> dict[str, set[str]]:
    adj: dict[str, set[str]] = {name: set() for name in cfg.corridor.nodes}
    for edge in cfg.corridor.edges:
        adj[edge.source].add(edge.target)
        if edge.both_ways:
            adj[edge.target].add(edge.source)
    return adj


def _reachable(adj: dict[str, set[str]], start: str) -> set[str]:
    seen = {start}
    queue = deque([start])
    while queue:
        node = queue.popleft()
        for nxt in adj[node]:
            if nxt not in seen:
                seen.add(nxt)
                queue.append(nxt)
    return seen


def _check_edges(cfg: ScenarioConfig) -> Problem | None:
    nodes = cfg.corridor.nodes
    seen: set[tuple[str, str]] = set()
    for i, edge in enumerate(cfg.corridor.edges):
        for key, name in (("from", edge.source), ("to", edge.target)):
            if name not in nodes:
                return (f"corridor.edges.{i}.{key}", _unknown_node(name, nodes), name)
        if edge.source == edge.target:
            return (f"corridor.edges.{i}", "an edge must join two different nodes", edge.source)
        pairs = [(edge.source, edge.target)]
        if edge.both_ways:
            pairs.append((edge.target, edge.source))
        for pair in pairs:
            if pair in seen:
                return (f"corridor.edges.{i}", "duplicate edge", f"{pair[0]} -> {pair[1]}")
            seen.add(pair)
    return None


def _unknown_node(name: str, nodes: Mapping[str, object]) -> str:
    return f"unknown node{did_you_mean(name, nodes)}; it must be one of corridor.nodes"


def _check_gauge_changes(cfg: ScenarioConfig, adj: dict[str, set[str]]) -> Problem | None:
    nodes = cfg.corridor.nodes
    for source in sorted(adj):
        for target in sorted(adj[source]):
            if nodes[source].gauge_mm != nodes[target].gauge_mm:
                proc = nodes[target].processing
                if proc is None or proc.gauge_change is None:
                    return (
                        f"corridor.nodes.{target}.processing.gauge_change",
                        f"required: trains from {source} ({nodes[source].gauge_mm} mm) change "
                        f"gauge here ({nodes[target].gauge_mm} mm)",
                        None,
                    )
    return None


def _check_path(
    cfg: ScenarioConfig, adj: dict[str, set[str]], path: list[str], where: str
) -> Problem | None:
    nodes = cfg.corridor.nodes
    for j, name in enumerate(path):
        if name not in nodes:
            return (f"{where}.{j}", _unknown_node(name, nodes), name)
    for j in range(len(path) - 1):
        if path[j + 1] not in adj[path[j]]:
            return (f"{where}.{j + 1}", f"no edge from {path[j]} to {path[j + 1]}", path[j + 1])
    return None


def _check_demand_and_services(cfg: ScenarioConfig, adj: dict[str, set[str]]) -> Problem | None:
    nodes = cfg.corridor.nodes
    hub = cfg.hub.node
    for sname, service in cfg.services.items():
        where = f"services.{sname}"
        for j, stop in enumerate(service.stops):
            if stop not in nodes:
                return (f"{where}.stops.{j}", _unknown_node(stop, nodes), stop)
            if nodes[stop].kind != "terminal":
                return (
                    f"{where}.stops.{j}",
                    f"{stop} is a {nodes[stop].kind}; stops must be terminals",
                    stop,
                )
            if stop in service.stops[:j]:
                return (f"{where}.stops.{j}", f"{stop} is listed twice", stop)
            # one service per (class, destination): checked in cargo.check_cargo
        previous = hub
        reach_from = {}
        for j, stop in enumerate(service.stops):
            if previous not in reach_from:
                reach_from[previous] = _reachable(adj, previous)
            if stop not in reach_from[previous]:
                return (
                    f"{where}.stops.{j}",
                    f"unreachable: no path from {previous} to {stop} in the corridor graph",
                    stop,
                )
            previous = stop
        route = service.route
        if route.policy == "fixed" and route.nodes is not None:
            problem = _check_path(cfg, adj, route.nodes, f"{where}.route.nodes")
            if problem:
                return problem
            if route.nodes[0] != hub:
                return (
                    f"{where}.route.nodes.0",
                    f"a fixed route starts at the hub ({hub})",
                    route.nodes[0],
                )
            position = 0
            for j, stop in enumerate(service.stops):
                try:
                    position = route.nodes.index(stop, position) + 1
                except ValueError:
                    return (
                        f"{where}.route.nodes",
                        f"does not pass stop {stop} (stops.{j}) in order",
                        None,
                    )
    for cname, cls in cfg.demand.classes.items():
        for dest in cls.destinations:
            where = f"demand.classes.{cname}.destinations.{dest}"
            if dest not in nodes:
                return (where, _unknown_node(dest, nodes), dest)
    # wagon types, which service carries each (class, destination), train capacities
    return check_cargo(cfg)


def _check_inbound_origins(cfg: ScenarioConfig, adj: dict[str, set[str]]) -> Problem | None:
    """An eastbound stream's ``origin`` is a corridor node with a way to the hub."""
    nodes, hub = cfg.corridor.nodes, cfg.hub.node
    for name, stream in cfg.hub.inbound.items():
        origin = stream.origin
        if origin is None:
            continue
        where = f"hub.inbound.{name}.origin"
        if origin not in nodes:
            return (where, _unknown_node(origin, nodes), origin)
        if origin == hub:
            return (where, f"{origin} is the hub: an origin is where trains start to it", origin)
        if hub not in _reachable(adj, origin):
            return (
                where,
                f"no path from {origin} to the hub ({hub}) in the corridor graph",
                origin,
            )
    return None


def check_scenario(cfg: ScenarioConfig) -> Problem | None:
    """The first cross-reference problem in ``cfg``, or None."""
    nodes = cfg.corridor.nodes
    hub = cfg.hub.node
    if hub not in nodes:
        return ("hub.node", _unknown_node(hub, nodes), hub)
    if nodes[hub].kind != "hub":
        return ("hub.node", f"{hub} is a {nodes[hub].kind}; the hub node must have kind 'hub'", hub)
    problem = _check_edges(cfg)
    if problem:
        return problem
    adj = _adjacency(cfg)
    problem = _check_gauge_changes(cfg, adj)
    if problem:
        return problem
    problem = _check_demand_and_services(cfg, adj)
    if problem:
        return problem
    for bname, stream in cfg.corridor.background.items():
        problem = _check_path(cfg, adj, stream.route, f"corridor.background.{bname}.route")
        if problem:
            return problem
        for j, alt in enumerate(stream.alternatives or []):
            where = f"corridor.background.{bname}.alternatives.{j}.route"
            problem = _check_path(cfg, adj, alt.route, where)
            if problem:
                return problem
    problem = _check_inbound_origins(cfg, adj) or _check_disruptions(cfg, adj)
    if problem:
        return problem
    problem = check_modes(cfg.modes, cfg.services_destinations())
    if problem:
        return problem
    if cfg.costs.subsidy.ends is not None and cfg.simulation.start_date is None:
        return (
            "costs.subsidy.ends",
            "a subsidy end date needs simulation.start_date (the date of day 0)",
            cfg.costs.subsidy.ends.isoformat(),
        )
    problem = (
        _check_train_ids(cfg) or _check_qualifiers(cfg) or check_costs(cfg) or _check_yard(cfg)
    )
    if problem:
        return problem
    from silkroute_sim.config.workload import (
        check_workload,  # how much the run creates: bounded memory
    )

    return check_workload(cfg)


def _check_yard(cfg: ScenarioConfig) -> Problem | None:
    """A train of boxes leaves with at least ``min_load`` of its TEU (all of it on the
    ``full`` policy), which wait in the yard first: a yard smaller than that never lets
    the service leave (the hub would only fill up and stall)."""
    yard = cfg.hub.yard.capacity_teu
    for name, service in cfg.services.items():
        policy = service.policy
        share = 1.0 if policy.kind == "full" else float(getattr(policy, "min_load", 0.0))
        needed = share * (service.capacity_teu or 0.0)
        if needed > yard:
            return (
                "hub.yard.capacity_teu",
                f"the yard holds less than service {name} needs to leave ({needed:g} TEU: "
                f"{share:.0%} of its {service.capacity_teu:g} TEU on the {policy.kind} "
                "policy); enlarge the yard or lower the service's capacity or min_load",
                yard,
            )
    return None


def _check_train_ids(cfg: ScenarioConfig) -> Problem | None:
    """Train ids are ``<service>-00001``, ``bg-<stream>-00001`` and ``in-<stream>-00001``
    (the tables join on them): a service named ``bg-x`` beside a background stream ``x``
    would give two trains one id."""
    others = {f"bg-{name}": "corridor.background" for name in cfg.corridor.background}
    others.update({f"in-{name}": "hub.inbound" for name in cfg.hub.inbound})
    for sname in cfg.services:
        if sname in others:
            section, stream = others[sname], sname[3:]
            return (
                f"services.{sname}",
                f"its trains would share their ids with those of {section}.{stream} "
                f"({sname}-00001); rename the service",
                None,
            )
    return None


def _check_qualifiers(cfg: ScenarioConfig) -> Problem | None:
    """Metric names are qualified by a destination or a cargo class (or group) alike
    (``door_to_door_d_median:Duisburg``, ``door_to_door_d_median:containers``): a class
    named like a node would give two metrics one name."""
    for cname, cls in cfg.demand.classes.items():
        for where, name in ((cname, cname), (f"{cname}.group", cls.group)):
            if name is not None and name in cfg.corridor.nodes:
                return (
                    f"demand.classes.{where}",
                    f"a cargo class or group cannot be named like a node ({name}): their "
                    "metrics would share names (door_to_door_d_median:<name>); rename it",
                    None,
                )
    return None


# --------------------------------------------------------------------------- disruptions

#: the absolute capacity key that fits each hub resource
_HUB_CAPACITY_KEY = {"cranes": "cranes", "gate": "lanes", "loading_tracks": "tracks", "yard": "teu"}


def _check_target(
    cfg: ScenarioConfig, adj: dict[str, set[str]], item: DisruptionTarget, where: str
) -> Problem | None:
    nodes = cfg.corridor.nodes
    if item.node is not None and item.node not in nodes:
        return (f"{where}.node", _unknown_node(item.node, nodes), item.node)
    for j, name in enumerate(item.nodes or []):
        if name not in nodes:
            return (f"{where}.nodes.{j}", _unknown_node(name, nodes), name)
    if item.country_border is not None and not item.members(cfg.corridor):
        a, b = item.country_border
        return (
            f"{where}.country_border",
            f"no node of country {a} has an edge to a node of country {b} in corridor.edges "
            "(nodes carry their country: corridor.nodes.<name>.country)",
            [a, b],
        )
    if item.edge is not None:
        for j, name in enumerate(item.edge):
            if name not in nodes:
                return (f"{where}.edge.{j}", _unknown_node(name, nodes), name)
        a, b = item.edge
        exists = b in adj[a] if item.directed else (b in adj[a] or a in adj[b])
        if not exists:
            return (f"{where}.edge", f"no edge between {a} and {b} in corridor.edges", [a, b])
    return None


def _check_effect(
    cfg: ScenarioConfig, adj: dict[str, set[str]], item: DisruptionEffect, where: str
) -> Problem | None:
    problem = _check_target(cfg, adj, item, where)
    if problem:
        return problem
    effect = item.effect
    absolute = item.absolute_capacity()
    key = absolute[0] if absolute else None
    if item.is_group():  # each node of a group as if it were the target alone
        alone = {"nodes": None, "country_border": None}
        for name in item.members(cfg.corridor):
            problem = _check_effect(
                cfg, adj, item.model_copy(update={**alone, "node": name}), where
            )
            if problem:
                return problem
        return None
    if item.node is not None:
        proc = cfg.corridor.nodes[item.node].processing
        if effect == "speed":
            return (
                f"{where}.effect",
                "'speed' applies to edges; at a node use processing_time",
                effect,
            )
        if effect in ("capacity", "processing_time") and proc is None:
            return (
                f"{where}.effect",
                f"{item.node} has no processing (tracks); only 'close' applies",
                effect,
            )
        if key is not None and key not in ("tracks", "trains_per_day", "cranes"):
            return (f"{where}.{key}", "at a node use tracks, trains_per_day or cranes", None)
        if key == "cranes" and (proc is None or proc.gauge_change is None):
            return (f"{where}.cranes", f"{item.node} has no gauge_change cranes", None)
    elif item.edge is not None:
        if effect == "processing_time":
            return (
                f"{where}.effect",
                "'processing_time' applies to nodes and hub resources",
                effect,
            )
        if key is not None and key != "trains_per_day":
            return (f"{where}.{key}", "an edge's capacity is trains_per_day (or a factor)", None)
        if effect == "capacity" and key is None:
            uncapped = [
                e
                for e in cfg.corridor.edges
                if {e.source, e.target} == set(item.edge) and e.line_capacity_trains_per_day is None
            ]
            if uncapped:
                return (
                    f"{where}.factor",
                    "the edge has no line_capacity_trains_per_day to scale; "
                    "give trains_per_day instead",
                    item.factor,
                )
    else:
        resource = item.hub or ""
        if effect == "speed":
            return (f"{where}.effect", "'speed' applies to edges", effect)
        if effect == "processing_time" and resource == "yard":
            return (f"{where}.effect", "the yard has no processing time", effect)
        wanted = _HUB_CAPACITY_KEY[resource]
        if key is not None and key != wanted:
            return (f"{where}.{key}", f"the capacity of hub {resource} is given as {wanted}", None)
    return None


def _check_disruptions(cfg: ScenarioConfig, adj: dict[str, set[str]]) -> Problem | None:
    section = cfg.disruptions
    for i, event in enumerate(section.scheduled):
        problem = _check_effect(cfg, adj, event, f"disruptions.scheduled.{i}")
        if problem:
            return problem
    for i, weather in enumerate(section.random.weather):
        problem = _check_effect(cfg, adj, weather, f"disruptions.random.weather.{i}")
        if problem:
            return problem
    for i, breakdown in enumerate(section.random.breakdowns):
        where = f"disruptions.random.breakdowns.{i}"
        problem = _check_target(cfg, adj, breakdown, where)
        if problem:
            return problem
        if breakdown.node is not None and cfg.corridor.nodes[breakdown.node].processing is None:
            return (
                f"{where}.node",
                f"{breakdown.node} has no processing tracks to break down",
                breakdown.node,
            )
    return None
