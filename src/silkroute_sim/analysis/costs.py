"""Cost and CO2e of each shipment and train, by segment, from a run's tables.

A pure function of the run's records and tables, like every metric (docs/costs.md):

- **Freight** (what the shipper pays the carriers): the truck to the hub, handling at the
  hub, the rail tariff per FEU-km of each national network along the route the box's train
  actually took (``trains.csv`` route, up to the box's stop), a fee at each border station
  and each gauge change passed, handling at the destination, storage beyond free time at
  the hub (gate to departure) and at the destination terminal (arrival to release), the
  train's holds on the corridor (``held`` rows of ``node_events.csv`` before the box's
  stop) shared among the boxes on board, less any subsidy. A sea leg (an edge with
  ``mode: ferry``) has no rail tariff: it pays the ferry tariff per leg and per FEU-km,
  and each port at an end of a sea leg its handling charge, once per box.
- **Inventory**: cargo value × carrying rate × door-to-door days / 365.
- **CO2e** (well to wheel, GLEC style): traction per gross tonne-km of the train (wagon
  tare of its whole capacity, box tare, cargo) on each segment, by the network's electric
  share and grid intensity or diesel, times the empty-running factor, shared among the
  boxes on board by their tonnes; handling per lift (hub, gauge changes, destination); the
  truck to the hub; a sea leg emits its own factor per tonne of cargo and km (no
  traction), a port its handling per FEU. ``tkm`` counts the cargo tonnes over the truck,
  rail and sea kilometres.

Only delivered shipments (released within the run) are costed; the others get NaN. A box
counts ``teu / 2`` FEU; a unit on a wagon that carries units (a car) counts its share of
the wagon times ``costs.wagon_feu_equivalent``.
"""

from __future__ import annotations

import math
from collections.abc import Collection, Iterable, Mapping
from dataclasses import dataclass, field
from itertools import pairwise

import numpy as np
import pandas as pd

from silkroute_sim.analysis.group_means import YearlyTotals
from silkroute_sim.analysis.sums import row_sum
from silkroute_sim.config.costs import StorageTariff, TractionConfig
from silkroute_sim.config.errors import ConfigError
from silkroute_sim.config.schema import ScenarioConfig
from silkroute_sim.model.simulate import RunResult

NAN = math.nan
DAYS_PER_YEAR = 365.0

#: appended to shipments.csv (the modal comparison reads these names)
COST_SHIPMENT_COLUMNS = [
    "feu",  # what the box or unit is charged as (per-FEU figures divide by it)
    "freight_cost_usd",
    "inventory_cost_usd",
    "logistics_cost_usd",
    "co2_kg",
    "tkm",
]
#: appended to trains.csv: the sums over the train's delivered shipments
COST_TRAIN_COLUMNS = ["freight_cost_usd", "co2_kg"]
#: the freight parts that follow the route (the rest is holding or subsidy)
ROUTE_PARTS = (
    "truck_usd",
    "hub_handling_usd",
    "rail_usd",
    "border_usd",
    "gauge_change_usd",
    "destination_handling_usd",
    "ferry_usd",
    "port_usd",
)
HOLDING_PARTS = ("hub_storage_usd", "destination_storage_usd", "train_hold_usd")
#: the parts :func:`cost_summary_rows` reads
SUMMARY_PARTS = (
    "feu",
    "is_box",
    "freight_cost_usd",
    "logistics_cost_usd",
    "rail_usd",
    *HOLDING_PARTS,
    "inventory_cost_usd",
    "co2_kg",
    "tkm",
    "subsidy_usd",
)


def storage_cost_per_teu(tariff: StorageTariff, days: np.ndarray) -> np.ndarray:
    """USD per TEU of storing a box ``days`` days under ``tariff`` (NaN stays NaN): each
    tier's rate over the days between its start and the next tier's, plus the one-off fee
    when anything is charged."""
    days = np.asarray(days, dtype=float)
    cost = np.zeros_like(days)
    tiers = tariff.tiers
    ends = [tier.after_days for tier in tiers[1:]] + [math.inf] * bool(tiers)
    for tier, end in zip(tiers, ends, strict=True):
        charged = np.clip(days, tier.after_days, end) - tier.after_days
        cost += charged * tier.usd_per_teu_day
    if tiers:
        cost += np.where(days > tiers[0].after_days, tariff.one_off_usd_per_box, 0.0)
    return np.where(np.isnan(days), NAN, cost)


def edge_countries(cfg: ScenarioConfig) -> dict[tuple[str, str], dict[str, float]]:
    """km on each national network of each directed edge (``""``: no country given). An
    edge without ``countries`` between two countries is split half and half."""
    out: dict[tuple[str, str], dict[str, float]] = {}
    nodes = cfg.corridor.nodes
    for edge in cfg.corridor.edges:
        if edge.countries is not None:
            split = dict(edge.countries)
        else:
            a = nodes[edge.source].country or ""
            b = nodes[edge.target].country or ""
            split = {a: edge.km} if a == b else {a: edge.km / 2, b: edge.km / 2}
        out[(edge.source, edge.target)] = split
        if edge.both_ways:
            out[(edge.target, edge.source)] = split
    return out


def traction_g_per_gross_tkm(cfg: ScenarioConfig, traction: TractionConfig) -> float:
    """Well-to-wheel g CO2e per gross tonne-km on a network, before empty running."""
    em = cfg.emissions
    electric = em.electric_kwh_per_gross_tkm * traction.grid_g_per_kwh * (1 + em.grid_losses)
    diesel = em.diesel_l_per_gross_tkm * em.diesel_kg_per_l_wtw * 1000
    return traction.electric_share * electric + (1 - traction.electric_share) * diesel


def ferry_edges(cfg: ScenarioConfig) -> dict[tuple[str, str], float]:
    """km of each directed hop that is a sea leg (an edge with ``mode: ferry``)."""
    out: dict[tuple[str, str], float] = {}
    for edge in cfg.corridor.edges:
        if edge.mode == "ferry":
            out[(edge.source, edge.target)] = edge.km
            if edge.both_ways:
                out[(edge.target, edge.source)] = edge.km
    return out


@dataclass(frozen=True)
class _Network:
    """Per-km rates of the config, looked up by country; the sea legs apart."""

    cfg: ScenarioConfig
    split: dict[tuple[str, str], dict[str, float]]
    sea: dict[tuple[str, str], float]
    #: :meth:`segment` of each hop asked for (every train on a route asks again)
    segments: dict[tuple[str, str], tuple[float, float, float]] = field(
        default_factory=dict, compare=False
    )

    def usd_per_feu_km(self, country: str) -> float:
        costs = self.cfg.costs
        return costs.rail_usd_per_feu_km.get(country, costs.rail_other_usd_per_feu_km)

    def g_per_gross_tkm(self, country: str) -> float:
        em = self.cfg.emissions
        return traction_g_per_gross_tkm(self.cfg, em.traction.get(country, em.traction_other))

    def segment(self, a: str, b: str) -> tuple[float, float, float]:
        """(km, USD per FEU, g CO2e per gross tonne) of the rail hop ``a → b``."""
        known = self.segments.get((a, b))
        if known is not None:
            return known
        split = self.split[(a, b)]
        usd = sum(km * self.usd_per_feu_km(c) for c, km in split.items())
        grams = sum(km * self.g_per_gross_tkm(c) for c, km in split.items())
        self.segments[(a, b)] = out = (sum(split.values()), usd, grams)
        return out

    def sea_leg(self, km: float) -> tuple[float, float]:
        """(USD per FEU, kg CO2e per tonne of cargo) of a sea leg of ``km``."""
        costs = self.cfg.costs
        usd = costs.ferry_usd_per_feu + costs.ferry_usd_per_feu_km * km
        return usd, self.cfg.emissions.ferry_g_per_tkm * km / 1000

    def port_usd_per_feu(self, node: str) -> float:
        costs = self.cfg.costs
        return costs.port_handling_by_node.get(node, costs.port_handling_usd_per_feu)


#: per stop of a train, the columns of :func:`_stop_rows`
STOP_COLUMNS = [
    "train_id",
    "destination",
    "rail_km",
    "rail_usd_per_feu",
    "borders",
    "gauge_changes",
    "traction_kg_per_t",
    "hold_usd_per_feu",
    "sea_km",
    "ferry_usd_per_feu",
    "ferry_kg_per_t",
    "port_calls",
    "port_usd_per_feu",
]


def _sea_part(net: _Network, route: list[str], last: int) -> tuple[float, float, float, int, float]:
    """(sea km, ferry USD per FEU, ferry kg per tonne, port calls, port USD per FEU) of the
    route up to position ``last``: each sea leg's tariff and factor, and the handling at
    each port (an end of a sea leg) once, however many legs meet there."""
    km = usd = kg_per_t = 0.0
    ports: set[int] = set()
    for i, (a, b) in enumerate(pairwise(route[: last + 1])):
        if (a, b) in net.sea:
            leg_usd, leg_kg = net.sea_leg(net.sea[(a, b)])
            km += net.sea[(a, b)]
            usd += leg_usd
            kg_per_t += leg_kg
            ports.update((i, i + 1))
    port_usd = sum(net.port_usd_per_feu(route[j]) for j in sorted(ports))
    return km, usd, kg_per_t, len(ports), port_usd


def train_stretches(
    route: list[str],
    onboard: Mapping[str, tuple[float, float]],
    holds: Iterable[tuple[str, float]],
    free_h: float,
) -> tuple[dict[str, int], dict[int, float], list[tuple[float, float]]]:
    """What a train's cost rows are walked over (:func:`_stop_rows`): each stop's position
    on ``route`` (its first), the hours held beyond ``free_h`` at each position, and the
    (FEU, tonnes) on board over each hop up to the last stop."""
    index = {stop: route.index(stop) for stop in onboard if stop in route}
    held_at: dict[int, float] = {}
    for node, hours in holds:
        if node in route:
            i = route.index(node)
            held_at[i] = held_at.get(i, 0.0) + max(hours - free_h, 0.0)
    # (FEU, tonnes) on board over each hop i (the boxes of the stops beyond it): the same
    # for every stop, and for every hop between two stops (summed once per stretch)
    loads: list[tuple[float, float]] = []
    for stop_at in sorted(set(index.values())):
        i = len(loads)  # the stretch's first hop: the same boxes as over its last
        feu = sum(f for s, (f, _t) in onboard.items() if index.get(s, -1) > i)
        net_t = sum(t for s, (_f, t) in onboard.items() if index.get(s, -1) > i)
        loads += [(feu, net_t)] * (stop_at - i)
    return index, held_at, loads


def _stop_rows(
    net: _Network,
    train_id: str,
    route: list[str],
    onboard: Mapping[str, tuple[float, float]],
    holds: Iterable[tuple[str, float]],
    capacity_feu: float,
) -> list[tuple[object, ...]]:
    """Per stop of one train: the :data:`STOP_COLUMNS` (rail km, rail USD per FEU, border
    stations, gauge changes, traction kg per tonne of cargo, hold USD per FEU, then the sea
    legs' part). ``onboard`` gives each stop's (FEU, tonnes) of delivered boxes; ``holds``
    the (node, hours) held; ``capacity_feu`` the FEU slots of the wagons it hauls (their
    tare runs full or not). A sea leg has no rail tariff, traction or gauge change (the
    ports' handling stands for the lifts)."""
    cfg = net.cfg
    nodes = cfg.corridor.nodes
    em, costs = cfg.emissions, cfg.costs
    index, held_at, loads = train_stretches(route, onboard, holds, costs.train_hold_free_h)
    # the sums up to each stop, walked once along the route: a stop's are those after its
    # last hop, added in the same order as a walk to that stop alone
    wanted = set(index.values())
    upto: dict[int, tuple[float, float, int, int, float, float]] = {}
    km = usd = kg_per_t = hold = 0.0
    borders = gauges = 0
    if 0 in wanted:
        upto[0] = (km, usd, borders, gauges, kg_per_t, hold)
    for i, (a, b) in enumerate(pairwise(route[: max(wanted, default=0) + 1])):
        feu, net_t = loads[i]
        borders += i > 0 and nodes[a].kind == "border"
        if i in held_at and feu > 0:
            hold += held_at[i] * costs.train_hold_usd_per_h / feu
        if (a, b) not in net.sea:
            hop_km, hop_usd, hop_g = net.segment(a, b)
            km += hop_km
            usd += hop_usd
            gross_t = capacity_feu * em.wagon_tare_t_per_feu + feu * em.box_tare_t_per_feu + net_t
            if net_t > 0:
                kg_per_t += hop_g * gross_t / net_t * em.empty_running_factor / 1000
            gauges += nodes[a].gauge_mm != nodes[b].gauge_mm
        if i + 1 in wanted:
            upto[i + 1] = (km, usd, borders, gauges, kg_per_t, hold)
    rows: list[tuple[object, ...]] = []
    for stop, last in index.items():
        km, usd, borders, gauges, kg_per_t, hold = upto[last]
        sea = _sea_part(net, route, last)
        rows.append((train_id, stop, km, usd, borders, gauges, kg_per_t, hold, *sea))
    return rows


def charged_as(result: RunResult) -> tuple[np.ndarray, np.ndarray]:
    """Whether each shipment travels on a wagon that carries units (not containers), and
    the FEU it is charged as (see the module docstring), in the shipment log's order."""
    ships = result.records.shipments
    on_units = np.isin(ships.column("wagon_type"), sorted(_unit_wagons(result.config)))
    units_feu = ships.column("size") * result.config.costs.wagon_feu_equivalent
    return on_units, np.where(on_units, units_feu, ships.column("teu") / 2)


def _per_stop(
    result: RunResult, delivered: pd.DataFrame, trains: pd.DataFrame, events: pd.DataFrame
) -> pd.DataFrame:
    """One row per (train_id, destination) of the ``delivered`` shipments (their
    ``train_id``, ``destination``, ``feu`` and ``tonnes``)."""
    net = _Network(result.config, edge_countries(result.config), ferry_edges(result.config))
    loads = delivered.groupby(["train_id", "destination"])[["feu", "tonnes"]].sum()
    onboard: dict[str, dict[str, tuple[float, float]]] = {}
    for (train_id, dest), feu, tonnes in zip(
        loads.index, loads["feu"], loads["tonnes"], strict=True
    ):
        onboard.setdefault(str(train_id), {})[str(dest)] = (float(feu), float(tonnes))
    held = events[(events["kind"] == "held") & ~events["censored"] & ~events["background"]]
    holds: dict[str, list[tuple[str, float]]] = {}
    for train_id, node, hours in zip(held["train_id"], held["node"], held["wait_h"], strict=True):
        holds.setdefault(str(train_id), []).append((str(node), float(hours)))
    routes = dict(zip(trains["train_id"], trains["route"], strict=True))
    slots = {t.train_id: t.capacity_teu / 2 for t in result.records.trains}
    rows: list[tuple[object, ...]] = []
    for train_id, stops in onboard.items():
        route = str(routes[train_id]).split(">")
        rows += _stop_rows(net, train_id, route, stops, holds.get(train_id, []), slots[train_id])
    return pd.DataFrame(rows, columns=STOP_COLUMNS)


def pair_positions(first: pd.Series, second: pd.Series, keys: pd.MultiIndex) -> np.ndarray:
    """The position in ``keys`` (unique pairs) of each pair ``(first[i], second[i])``, -1
    where it has none: through each column's codes, not a Python tuple of text per row."""
    return np.asarray(keys.get_indexer(pd.MultiIndex.from_arrays([first, second])))


def _stop_columns(stops: pd.DataFrame, shipments: pd.DataFrame) -> dict[str, pd.Series]:
    """The :data:`STOP_COLUMNS` of each shipment's (train_id, destination) row of ``stops``
    (same index as ``shipments``), as a left merge gives them but without a merged copy of
    the shipments: NaN for a shipment without a row (a column of counts stays integer
    when every shipment has one; objects when there are no stops at all)."""
    keys = pd.MultiIndex.from_arrays([stops["train_id"], stops["destination"]])
    at = pair_positions(shipments["train_id"], shipments["destination"], keys)
    found = at >= 0
    out: dict[str, pd.Series] = {}
    for column in STOP_COLUMNS[2:]:
        values = stops[column].to_numpy()
        if found.all():
            taken = values[at]
        else:  # NaN where not found: floats, or text where ``stops`` is empty, as merged
            taken = np.full(len(at), NAN, dtype=object if values.dtype == object else float)
            taken[found] = values[at[found]]
        out[column] = pd.Series(taken, index=shipments.index)
    return out


def _subsidy_ends_h(cfg: ScenarioConfig) -> float:
    ends = cfg.costs.subsidy.ends
    if ends is None:
        return math.inf
    if cfg.simulation.start_date is None:
        raise ConfigError(
            None,
            "costs.subsidy.ends",
            "a subsidy end date needs simulation.start_date (the date of day 0)",
            ends.isoformat(),
            has_value=True,
        )
    return cfg.simulation.date_h(ends)


def _delivered_stops(
    result: RunResult,
    shipments: pd.DataFrame,
    feu: pd.Series,
    trains: pd.DataFrame,
    events: pd.DataFrame,
) -> pd.DataFrame:
    """:func:`_per_stop` of the delivered shipments (``feu``: each shipment's FEU)."""
    done = shipments["delivered_h"].notna()
    delivered = pd.DataFrame(
        {
            "train_id": shipments["train_id"][done],
            "destination": shipments["destination"][done],
            "feu": feu[done],
            "tonnes": shipments["tonnes"][done],
        }
    )
    return _per_stop(result, delivered, trains, events)


#: shipments whose cost parts are worked out together: a 10-year run's 700,000 would
#: take 26 columns of 5.6 MB at once; in blocks, only the columns asked for are whole
PART_ROWS = 1 << 17


def cost_parts(
    result: RunResult,
    shipments: pd.DataFrame,
    trains: pd.DataFrame,
    events: pd.DataFrame,
    keep: Collection[str] | None = None,
    charged: tuple[np.ndarray, np.ndarray] | None = None,
) -> pd.DataFrame:
    """Every cost and CO2e part of every shipment (same index as ``shipments``): the
    freight parts (``*_usd``, the sea legs' ``ferry_usd`` and ``port_usd`` among them),
    ``subsidy_usd`` (positive, deducted), ``inventory_usd``, ``traction_kg``,
    ``handling_kg`` (lifts and port handling), ``truck_kg``, ``ferry_kg``, ``rail_km``,
    ``sea_km``, ``feu`` and the columns of :data:`COST_SHIPMENT_COLUMNS`. NaN for
    shipments not delivered. ``keep``: only these columns (in the parts' order).
    ``charged``: :func:`charged_as` of the run, where the caller has it already (it reads
    the run's shipment log, which the caller may have freed since).

    Each part of a shipment depends on its own row only (and on its train's stops, worked
    out once over every delivered shipment), so the parts are computed in blocks of
    :data:`PART_ROWS` rows and the kept columns joined: the same numbers as in one go."""
    on_units, feu = charged_as(result) if charged is None else charged
    all_feu = pd.Series(feu, index=shipments.index)
    stops = _delivered_stops(result, shipments, all_feu, trains, events)
    pieces: dict[str, list[np.ndarray]] = {}
    for start in range(0, max(len(shipments), 1), PART_ROWS):
        rows = slice(start, start + PART_ROWS)
        block = _block_parts(
            result, shipments.iloc[rows], stops, on_units[rows], all_feu.iloc[rows]
        )
        for column in block.columns:
            if keep is None or column in keep:
                pieces.setdefault(column, []).append(block[column].to_numpy(copy=True))
        del block
    out = pd.DataFrame(index=shipments.index)
    for column in list(pieces):
        out[column] = np.concatenate(pieces.pop(column))
    return out


def _looked_up(texts: pd.Series, values: Mapping[str, float], otherwise: float) -> pd.Series:
    """Each text's number in ``values``, ``otherwise`` where it has none (as
    ``texts.map(values).fillna(otherwise)``; the values are numbers, never NaN), looked
    up once per distinct text rather than once per row."""
    codes, names = pd.factorize(texts)  # code -1: no text
    table = np.array([values.get(name, otherwise) for name in names] + [otherwise], dtype=float)
    return pd.Series(table[codes], index=texts.index)


def _block_parts(
    result: RunResult,
    shipments: pd.DataFrame,
    stops: pd.DataFrame,
    on_units: np.ndarray,
    all_feu: pd.Series,
) -> pd.DataFrame:
    """:func:`cost_parts` of the rows of ``shipments`` (``stops``: :func:`_per_stop` of
    every delivered shipment; ``on_units`` and ``all_feu`` of these rows)."""
    cfg = result.config
    costs, em = cfg.costs, cfg.emissions
    done = shipments["delivered_h"].notna()
    merged = _stop_columns(stops, shipments)
    feu, tonnes = all_feu.where(done), shipments["tonnes"].where(done)
    is_box = pd.Series(~on_units, index=shipments.index)
    out = pd.DataFrame(index=shipments.index)
    out["feu"] = all_feu  # every shipment's, delivered or not
    out["rail_km"] = merged.pop("rail_km").where(done)
    out["truck_usd"] = costs.truck_to_hub_usd_per_feu * feu
    out["hub_handling_usd"] = costs.hub_handling_usd_per_feu * feu
    out["rail_usd"] = merged.pop("rail_usd_per_feu") * feu
    out["border_usd"] = costs.border_fee_usd_per_feu * merged.pop("borders") * feu
    out["gauge_change_usd"] = costs.gauge_change_usd_per_feu * merged["gauge_changes"] * feu
    by_node = _looked_up(
        shipments["destination"],
        costs.destination_handling_by_node,
        costs.destination_handling_usd_per_feu,
    )
    out["destination_handling_usd"] = by_node * feu
    hub_days = (shipments["departed_h"] - shipments["arrived_h"]).where(done) / 24
    term_days = (shipments["delivered_h"] - shipments["terminal_arrived_h"]) / 24
    out["hub_storage_usd"] = storage_cost_per_teu(costs.hub_storage, hub_days.to_numpy()) * 2 * feu
    out["destination_storage_usd"] = (
        storage_cost_per_teu(costs.destination_storage, term_days.to_numpy()) * 2 * feu
    )
    out["train_hold_usd"] = merged.pop("hold_usd_per_feu") * feu
    out["ferry_usd"] = merged.pop("ferry_usd_per_feu") * feu
    out["port_usd"] = merged.pop("port_usd_per_feu") * feu
    before_end = shipments["departed_h"] < _subsidy_ends_h(cfg)
    cap = costs.subsidy.max_share * out["rail_usd"]
    offered = costs.subsidy.usd_per_feu * feu
    with np.errstate(invalid="ignore"):  # cap is NaN for a box not delivered yet
        subsidy = offered.where(offered < cap, cap)  # the smaller (NaN when not delivered)
    out["subsidy_usd"] = subsidy.where(before_end, 0.0).where(done)
    del hub_days, term_days, cap, offered, subsidy  # a long run: free each part's helpers
    freight = row_sum(out, (*ROUTE_PARTS, *HOLDING_PARTS)) - out["subsidy_usd"]
    value = shipments["value_usd"].astype(float)
    value = value.where(value.notna(), costs.cargo_value_usd_per_feu * feu)
    rate = _looked_up(
        shipments["cargo_class"], costs.carrying_rate_by_class, costs.carrying_rate_per_year
    )
    out["inventory_usd"] = value * rate * shipments["door_to_door_d"] / DAYS_PER_YEAR
    del value, rate
    out["traction_kg"] = merged.pop("traction_kg_per_t") * tonnes
    lifts = (
        em.hub_lifts + em.gauge_change_lifts * merged.pop("gauge_changes") + em.destination_lifts
    )
    handling = em.handling_kg_per_lift * lifts * feu
    handling = handling + em.port_handling_kg_per_feu * merged.pop("port_calls") * feu
    out["handling_kg"] = handling.where(is_box, 0.0).where(done)
    del lifts, handling
    out["truck_kg"] = em.truck_km_to_hub * tonnes * em.truck_g_per_tkm / 1000
    out["ferry_kg"] = merged.pop("ferry_kg_per_t") * tonnes
    out["sea_km"] = merged.pop("sea_km").where(done)
    out["freight_cost_usd"] = freight.where(done)
    out["inventory_cost_usd"] = out["inventory_usd"].where(done)
    out["logistics_cost_usd"] = out["freight_cost_usd"] + out["inventory_cost_usd"]
    out["co2_kg"] = out["traction_kg"] + out["handling_kg"] + out["truck_kg"] + out["ferry_kg"]
    out["tkm"] = tonnes * (out["rail_km"] + em.truck_km_to_hub + out["sea_km"])
    out["is_box"] = is_box
    return out


def _unit_wagons(cfg: ScenarioConfig) -> set[str]:
    return {n for n, w in cfg.wagon_types.items() if w.carries == "units"}


def train_cost_columns(
    trains: pd.DataFrame, parts: pd.DataFrame, train_ids: pd.Series
) -> dict[str, np.ndarray]:
    """The :data:`COST_TRAIN_COLUMNS` of ``trains``: sums over each train's delivered
    shipments (empty for a train with none)."""
    grouped = parts[["freight_cost_usd", "co2_kg"]].groupby(train_ids).sum(min_count=1)
    return {
        column: trains["train_id"].map(grouped[column]).astype(float).to_numpy()
        for column in COST_TRAIN_COLUMNS
    }


def per_feu(parts: pd.DataFrame, column: str) -> pd.Series:
    """``column`` per FEU of each box (NaN for units and for shipments not delivered)."""
    return (parts[column] / parts["feu"]).where(parts["is_box"])


def _holding_per_feu(parts: pd.DataFrame) -> pd.Series:
    """Storage and train holds per FEU of each box (NaN for units)."""
    holding = row_sum(parts, HOLDING_PARTS)
    return (holding / parts["feu"]).where(parts["is_box"])


def cost_summary_rows(
    result: RunResult, shipments: pd.DataFrame, parts: pd.DataFrame
) -> list[tuple[str, float, str]]:
    """``summary.csv`` rows over the boxes released in the observation window: per
    destination the mean freight, logistics, rail tariff, holding and inventory cost per
    FEU, CO2e per FEU and per tonne-km (total CO2e over total tonne-km); then yearly
    totals of all shipments released in the window."""
    w0, w1 = result.warmup_h, result.end_h
    released = (shipments["delivered_h"] >= w0) & (shipments["delivered_h"] < w1)
    dest = shipments["destination"]
    names = result.config.services_destinations()
    # masks over every row rather than a copy of the released rows' parts (a long run)
    boxes_to = {name: released & (dest == name) & parts["is_box"] for name in names}
    per_box = {  # each built when its turn comes, then freed
        "freight_cost_usd_per_feu_mean": (lambda: per_feu(parts, "freight_cost_usd"), "USD/FEU"),
        "logistics_cost_usd_per_feu_mean": (
            lambda: per_feu(parts, "logistics_cost_usd"),
            "USD/FEU",
        ),
        "rail_tariff_usd_per_feu_mean": (lambda: per_feu(parts, "rail_usd"), "USD/FEU"),
        "holding_cost_usd_per_feu_mean": (lambda: _holding_per_feu(parts), "USD/FEU"),
        "inventory_cost_usd_per_feu_mean": (
            lambda: per_feu(parts, "inventory_cost_usd"),
            "USD/FEU",
        ),
        "co2_kg_per_feu_mean": (lambda: per_feu(parts, "co2_kg"), "kg/FEU"),
    }
    means: dict[tuple[str, str], float] = {}
    for metric, (build, _unit) in per_box.items():
        values = build()
        for name in names:
            v = values[boxes_to[name]].dropna()
            means[(metric, name)] = float(v.mean()) if len(v) else NAN
        del values
    rows: list[tuple[str, float, str]] = []
    for name in names:
        at = boxes_to[name]
        for metric, (_build, unit) in per_box.items():
            rows.append((f"{metric}:{name}", means[(metric, name)], unit))
        co2, tkm = parts["co2_kg"][at].sum(), parts["tkm"][at].sum()
        rows.append((f"co2_g_per_tkm_mean:{name}", 1000 * co2 / tkm if tkm > 0 else NAN, "g/tkm"))
    years = (w1 - w0) / 24 / DAYS_PER_YEAR
    arrived = (shipments["arrived_h"] >= w0) & (shipments["arrived_h"] < w1)
    totals = YearlyTotals(parts, shipments, released, arrived)
    del arrived
    for metric, column, scale, unit in (
        ("freight_cost_usd_per_year", "freight_cost_usd", 1.0, "USD/yr"),
        ("inventory_cost_usd_per_year", "inventory_cost_usd", 1.0, "USD/yr"),
        ("logistics_cost_usd_per_year", "logistics_cost_usd", 1.0, "USD/yr"),
        ("subsidy_usd_per_year", "subsidy_usd", 1.0, "USD/yr"),
        ("co2_t_per_year", "co2_kg", 1e-3, "t/yr"),
    ):
        rows.append((metric, totals.total(parts, column) * scale / years, unit))
    return rows
