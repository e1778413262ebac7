"""The KPI catalogue: what each metric of ``summary.csv`` is called, measured in, shown as,
and which way is better.

Every table and chart that shows KPIs (the CLI's tables, comparisons, sweeps, reports and
plots) takes its labels, formats and selection from here, so a KPI is described once.
A metric measured per node, destination, cargo class or event is named
``<base>:<qualifier>`` (``door_to_door_d_median:Duisburg``); it shares its base's entry
(:func:`lookup`).
"""

from __future__ import annotations

import math
import re
from dataclasses import dataclass
from typing import Literal

Better = Literal["higher", "lower", "neither"]

#: a KPI's ``fmt``: an optional thousands comma, the decimals, ``f`` or ``%``, the unit
_FMT = re.compile(r"\{:(,?)\.(\d+)([f%])\}(.*)")


def _decimals_for(value: float, digits: int = 2) -> int:
    """Decimals that show ``digits`` significant digits of ``value`` (capped at 12)."""
    if not math.isfinite(value) or value == 0:
        return 0
    return min(digits - 1 - math.floor(math.log10(abs(value))), 12)


@dataclass(frozen=True)
class KPI:
    """One metric: ``name`` as in ``summary.csv``, a short ``label`` for people, its
    ``unit`` as written in ``summary.csv``, a ``fmt`` (a ``str.format`` pattern with the
    unit people read, e.g. ``"{:.1f} h"``), which direction is ``better``, and the
    physical ``lower`` bound of the quantity (0 for counts, times, tonnes, fractions; None
    for one that may be negative): a confidence interval of the KPI is clipped at it. A
    difference between scenarios is never bounded."""

    name: str
    label: str
    unit: str
    fmt: str
    better: Better
    lower: float | None = 0.0

    def text(self, value: float | None) -> str:
        """``value`` formatted for a table, ``—`` when there is nothing to show."""
        if value is None or (isinstance(value, float) and math.isnan(value)):
            return "—"
        return self.fmt.format(value)

    def text_digits(self, value: float, decimals: int) -> str:
        """``value`` in this KPI's format with at least ``decimals`` decimals (of the
        number shown: per cent for fractions)."""
        match = _FMT.fullmatch(self.fmt)
        if match is None:
            return self.text(value)
        comma, places, kind, unit = match.groups()
        places = max(int(places), decimals)
        return f"{{:{comma}.{places}{kind}}}{unit}".format(value)

    def interval_texts(self, diff: float, half: float) -> tuple[str, str]:
        """A difference and its half-width as ``("+0.031 t/day", "0.012 t/day")``: with
        the decimals that show two significant digits of the half-width (of the
        difference when the half-width is 0 or unknown), so a difference the interval
        says is real never reads as 0."""
        shown = self.scale
        decimals = max(_decimals_for(half * shown), 0) if half > 0 else 0
        if not (half > 0) and diff != 0:  # no interval: two digits of the difference
            decimals = max(_decimals_for(diff * shown), 0)
        text = self.text_digits(abs(diff), decimals)
        if any(ch in "123456789" for ch in text):
            text = ("+" if diff > 0 else "-") + text
        width = self.text_digits(half, decimals) if math.isfinite(half) else ""
        return text, width

    @property
    def scale(self) -> float:
        """Factor for an axis: fractions are drawn in per cent."""
        return 100.0 if self.unit == "fraction" else 1.0

    @property
    def axis_unit(self) -> str:
        """The unit of a chart axis (``%`` for fractions)."""
        return "%" if self.unit == "fraction" else self.unit


#: every KPI the model measures, by base name, in the order of ``summary.csv``
CATALOGUE: dict[str, KPI] = {
    k.name: k
    for k in (
        # hub throughput and trains
        KPI("demand_t_per_day", "demand", "t/day", "{:,.0f} t/day", "neither"),
        KPI("dispatched_t_per_day", "dispatched", "t/day", "{:,.0f} t/day", "higher"),
        KPI("delivered_t_per_day", "delivered", "t/day", "{:,.0f} t/day", "higher"),
        KPI(
            "trains_dispatched_per_day", "trains dispatched", "trains/day", "{:.2f} /day", "neither"
        ),
        KPI("train_load_factor_mean", "train load factor", "fraction", "{:.1%}", "higher"),
        KPI("train_tonnes_mean", "train tonnes (mean)", "t", "{:,.0f} t", "higher"),
        # the hub
        KPI("hub_dwell_h_mean", "hub dwell (mean)", "h", "{:.1f} h", "lower"),
        KPI("hub_dwell_h_p95", "hub dwell (p95)", "h", "{:.1f} h", "lower"),
        KPI("yard_teu_mean", "yard (mean)", "TEU", "{:,.0f} TEU", "lower"),
        KPI("yard_teu_max", "yard (max)", "TEU", "{:,.0f} TEU", "lower"),
        KPI("gate_queue_mean", "gate queue (mean)", "trucks", "{:.1f} trucks", "lower"),
        KPI("crane_utilisation", "crane utilisation", "fraction", "{:.1%}", "neither"),
        KPI(
            "loading_tracks_busy_mean", "loading tracks busy", "tracks", "{:.2f} tracks", "neither"
        ),
        # door to door, per destination too, and its legs
        KPI("door_to_door_d_mean", "door to door (mean)", "d", "{:.1f} d", "lower"),
        KPI("door_to_door_d_median", "door to door (median)", "d", "{:.1f} d", "lower"),
        KPI("door_to_door_d_p90", "door to door (p90)", "d", "{:.1f} d", "lower"),
        KPI("hub_dwell_d_mean", "hub dwell leg (mean)", "d", "{:.2f} d", "lower"),
        KPI("rail_running_d_mean", "rail running leg (mean)", "d", "{:.2f} d", "lower"),
        KPI("corridor_nodes_d_mean", "corridor nodes leg (mean)", "d", "{:.2f} d", "lower"),
        KPI("terminal_dwell_d_mean", "terminal dwell leg (mean)", "d", "{:.2f} d", "lower"),
        # hub departure to arrival at each stop, the stops on the way included (per stop)
        KPI("train_running_h_median", "train running time (median)", "h", "{:.1f} h", "lower"),
        KPI("train_running_h_p90", "train running time (p90)", "h", "{:.1f} h", "lower"),
        # border crossings (per node)
        KPI("border_wait_h_mean", "border wait (mean)", "h", "{:.1f} h", "lower"),
        KPI(
            "urumqi_border_wait_h_mean",
            "border wait of Urumqi's trains (mean)",
            "h",
            "{:.1f} h",
            "lower",
        ),
        KPI("border_queue_mean", "border queue (mean)", "trains", "{:.2f} trains", "lower"),
        KPI("trains_per_day", "trains at the border", "trains/day", "{:.2f} /day", "neither"),
        KPI("urumqi_trains_per_day", "Urumqi trains", "trains/day", "{:.2f} /day", "neither"),
        # the ledger
        KPI("backlog_t_end", "backlog at end", "t", "{:,.0f} t", "lower"),
        KPI("conservation_error_t", "conservation error", "t", "{:.6f} t", "lower", None),
        # by cargo class (per class, class and destination, or member)
        KPI("demand_units_per_year", "demand (units)", "units/yr", "{:,.0f} /yr", "neither"),
        KPI("delivered_units_per_year", "delivered (units)", "units/yr", "{:,.0f} /yr", "higher"),
        KPI("export_value_usd_per_year", "export value", "USD/yr", "{:,.0f} USD/yr", "higher"),
        KPI("delivered_unit_share", "share of delivered units", "fraction", "{:.1%}", "neither"),
        KPI("wagon_utilisation", "wagon utilisation", "fraction", "{:.1%}", "higher"),
        KPI("compound_units_mean", "compound (mean)", "vehicles", "{:,.0f} vehicles", "lower"),
        KPI("compound_units_max", "compound (max)", "vehicles", "{:,.0f} vehicles", "lower"),
        KPI("compound_occupancy", "compound occupancy", "fraction", "{:.1%}", "lower"),
        KPI("ramp_utilisation", "ramp utilisation", "fraction", "{:.1%}", "neither"),
        KPI("inbound_trains_per_day", "inbound trains", "trains/day", "{:.2f} /day", "neither"),
        KPI("inbound_boxes_per_day", "inbound boxes", "boxes/day", "{:,.0f} /day", "neither"),
        KPI("inbound_wait_h_mean", "inbound wait (mean)", "h", "{:.1f} h", "lower"),
        KPI("inbound_track_h_mean", "inbound time on track", "h", "{:.1f} h", "lower"),
        KPI("inbound_yard_teu_mean", "inbound yard (mean)", "TEU", "{:,.0f} TEU", "lower"),
        # both directions (analysis/directions.py)
        KPI("eastbound_trains_per_day", "eastbound trains", "trains/day", "{:.2f} /day", "neither"),
        KPI("eastbound_running_h_median", "eastbound running (median)", "h", "{:.0f} h", "lower"),
        KPI("eastbound_share", "eastbound share of trips", "fraction", "{:.1%}", "neither"),
        KPI("box_pool_teu_mean", "box pool (mean)", "TEU", "{:,.0f} TEU", "neither"),
        KPI("box_pool_teu_end", "box pool (end)", "TEU", "{:,.0f} TEU", "neither"),
        KPI("box_pool_empties_in_teu_per_day", "empties in", "TEU/day", "{:,.1f} /day", "neither"),
        KPI("box_pool_stripped_in_teu_per_day", "stripped in", "TEU/day", "{:.1f} /day", "neither"),
        KPI("box_pool_out_teu_per_day", "boxes out (west)", "TEU/day", "{:.1f} /day", "neither"),
        KPI("box_pool_leased_teu_per_day", "leased one-way", "TEU/day", "{:.1f} /day", "lower"),
        # cost and CO2e (analysis/costs.py; per destination, over the boxes released)
        KPI(
            "freight_cost_usd_per_feu_mean",
            "freight cost per FEU",
            "USD/FEU",
            "{:,.0f} USD/FEU",
            "lower",
        ),
        KPI(
            "logistics_cost_usd_per_feu_mean",
            "logistics cost per FEU",
            "USD/FEU",
            "{:,.0f} USD/FEU",
            "lower",
        ),
        KPI(
            "rail_tariff_usd_per_feu_mean",
            "rail tariff per FEU",
            "USD/FEU",
            "{:,.0f} USD/FEU",
            "lower",
        ),
        KPI(
            "holding_cost_usd_per_feu_mean",
            "holding cost per FEU",
            "USD/FEU",
            "{:,.1f} USD/FEU",
            "lower",
        ),
        KPI(
            "inventory_cost_usd_per_feu_mean",
            "inventory cost per FEU",
            "USD/FEU",
            "{:,.0f} USD/FEU",
            "lower",
        ),
        KPI("co2_kg_per_feu_mean", "CO2e per FEU", "kg/FEU", "{:,.0f} kg/FEU", "lower"),
        KPI("co2_g_per_tkm_mean", "CO2e per tonne-km", "g/tkm", "{:.1f} g/tkm", "lower"),
        KPI("freight_cost_usd_per_year", "freight cost", "USD/yr", "{:,.0f} USD/yr", "lower"),
        KPI("inventory_cost_usd_per_year", "inventory cost", "USD/yr", "{:,.0f} USD/yr", "lower"),
        KPI("logistics_cost_usd_per_year", "logistics cost", "USD/yr", "{:,.0f} USD/yr", "lower"),
        KPI("subsidy_usd_per_year", "subsidies", "USD/yr", "{:,.0f} USD/yr", "neither"),
        KPI("co2_t_per_year", "CO2e", "t/yr", "{:,.0f} t/yr", "lower"),
        # disruptions (overall, per scheduled event or random process)
        KPI("stranded_trains_max", "stranded trains (max)", "trains", "{:,.0f} trains", "lower"),
        KPI("stranded_trains_mean", "stranded trains (mean)", "trains", "{:.2f} trains", "lower"),
        KPI(
            "stranded_background_trains_max",
            "stranded background trains (max)",
            "trains",
            "{:,.0f} trains",
            "lower",
        ),
        # closures with finite holding: trains re-planned around an event (by route, where
        # the metric names one), trains held by it, held at the hub, held at once at most
        KPI("rerouted_trains", "rerouted trains", "trains", "{:,.0f} trains", "neither"),
        KPI("held_trains", "held trains", "trains", "{:,.0f} trains", "lower"),
        KPI("held_at_hub_trains", "trains held at the hub", "trains", "{:,.0f} trains", "lower"),
        KPI("held_trains_max", "held trains (max at once)", "trains", "{:,.0f} trains", "lower"),
        KPI("recovery_h", "recovery", "h", "{:.1f} h", "lower"),
        KPI("recovery_h_max", "recovery (max)", "h", "{:.1f} h", "lower"),
        KPI("system_recovery_h", "system recovery", "h", "{:.1f} h", "lower"),
        KPI("backlog_t_max", "backlog (max)", "t", "{:,.0f} t", "lower"),
        KPI("affected_shipments", "affected boxes", "boxes", "{:,.0f} boxes", "lower"),
        KPI("extra_door_to_door_d_mean", "extra door to door", "d", "{:.2f} d", "lower", None),
        KPI(
            "extra_cost_usd_per_feu_mean",
            "extra cost per FEU",
            "USD/FEU",
            "{:,.0f} USD/FEU",
            "lower",
            None,
        ),
        KPI(
            "extra_reroute_usd_per_feu_mean",
            "extra cost per FEU from the route",
            "USD/FEU",
            "{:,.0f} USD/FEU",
            "lower",
            None,
        ),
        KPI(
            "extra_holding_usd_per_feu_mean",
            "extra cost per FEU from holding",
            "USD/FEU",
            "{:,.0f} USD/FEU",
            "lower",
            None,
        ),
        KPI(
            "extra_inventory_usd_per_feu_mean",
            "extra cost per FEU from inventory",
            "USD/FEU",
            "{:,.0f} USD/FEU",
            "lower",
            None,
        ),
        KPI(
            "extra_co2_kg_per_feu_mean",
            "extra CO2e per FEU",
            "kg/FEU",
            "{:,.0f} kg/FEU",
            "lower",
            None,
        ),
        KPI("extra_cost_share", "extra cost per FEU (share)", "fraction", "{:.1%}", "lower", None),
        KPI("extra_cost_usd", "extra cost", "USD", "{:,.0f} USD", "lower", None),
        KPI("extra_co2_kg", "extra CO2e", "kg", "{:,.0f} kg", "lower", None),
        KPI("weather_events", "weather events", "events", "{:,.0f}", "lower"),
        KPI("weather_hours", "weather hours", "h", "{:,.0f} h", "lower"),
        KPI("breakdown_events", "breakdowns", "events", "{:,.0f}", "lower"),
        KPI("breakdown_hours", "breakdown hours", "h", "{:,.0f} h", "lower"),
        KPI("cranes_down_mean", "cranes down (mean)", "cranes", "{:.2f} cranes", "lower"),
    )
}

#: the headline KPIs: the CLI's tables of a run, replications and a comparison, and the
#: KPIs a sweep collects when its spec names none
HEADLINE: tuple[str, ...] = (
    "demand_t_per_day",
    "dispatched_t_per_day",
    "delivered_t_per_day",
    "trains_dispatched_per_day",
    "train_load_factor_mean",
    "hub_dwell_h_mean",
    "hub_dwell_h_p95",
    "yard_teu_mean",
    "crane_utilisation",
    "door_to_door_d_median",
    "logistics_cost_usd_per_year",
    "backlog_t_end",
    "conservation_error_t",
)

#: the key indicators of a comparison's report table: the headline without the two
#: bookkeeping rows (delivered, conservation error), with the loading tracks and the tail
#: of door to door, which scenarios of hub capacity move most
COMPARED: tuple[str, ...] = (
    "demand_t_per_day",
    "dispatched_t_per_day",
    "trains_dispatched_per_day",
    "train_load_factor_mean",
    "hub_dwell_h_mean",
    "hub_dwell_h_p95",
    "yard_teu_mean",
    "crane_utilisation",
    "loading_tracks_busy_mean",
    "door_to_door_d_median",
    "door_to_door_d_p90",
    "backlog_t_end",
    "freight_cost_usd_per_year",
    "inventory_cost_usd_per_year",
    "logistics_cost_usd_per_year",
    "co2_t_per_year",
)

#: per-node KPIs that follow :data:`COMPARED` in a comparison's report table
COMPARED_PER_NODE: tuple[str, ...] = ("border_wait_h_mean", "urumqi_trains_per_day")

#: the panels of the KPI bar chart over scenarios (two rows of four)
CHARTED: tuple[str, ...] = (
    "dispatched_t_per_day",
    "trains_dispatched_per_day",
    "train_load_factor_mean",
    "hub_dwell_h_mean",
    "hub_dwell_h_p95",
    "yard_teu_mean",
    "crane_utilisation",
    "door_to_door_d_median",
)

#: the KPIs of the points table that ``silkroute sweep`` prints (a terminal's width)
SWEEP_SHOWN: tuple[str, ...] = (
    "dispatched_t_per_day",
    "hub_dwell_h_mean",
    "crane_utilisation",
    "backlog_t_end",
)


def base_name(metric: str) -> str:
    """``door_to_door_d_median:Duisburg`` → ``door_to_door_d_median``."""
    return metric.split(":", 1)[0]


def lookup(metric: str) -> KPI | None:
    """The catalogue entry of ``metric`` or of its base (for ``<base>:<qualifier>``
    names); None for a name the catalogue does not know."""
    return CATALOGUE.get(base_name(metric))


def label(metric: str) -> str:
    """A label for people: the catalogue's, with the qualifier after it
    (``door to door (median), Duisburg``); the metric's name when it is not catalogued."""
    entry = lookup(metric)
    if entry is None:
        return metric
    _, _, qualifier = metric.partition(":")
    return f"{entry.label}, {qualifier.replace(':', ', ')}" if qualifier else entry.label


def lower_bound(metric: str) -> float | None:
    """The physical lower bound of ``metric`` (None: unbounded, or not catalogued)."""
    entry = lookup(metric)
    return None if entry is None else entry.lower


def headline() -> list[KPI]:
    """The headline KPIs' entries, in order."""
    return [CATALOGUE[name] for name in HEADLINE]


def entries(names: tuple[str, ...]) -> list[KPI]:
    """The catalogue entries of ``names`` (base names), in order."""
    return [CATALOGUE[name] for name in names]
