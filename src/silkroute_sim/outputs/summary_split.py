"""``summary.csv``'s qualifiers as columns, and the daily table in long form.

A metric measured per destination, node, cargo class or event is written
``<base>:<qualifier>[:<qualifier>]`` (``door_to_door_d_median:Duisburg``,
``delivered_t_per_day:containers:Duisburg``). Beside ``metric, value, unit`` the summary
gets ``kpi`` (the base), ``by`` (what each qualifier is: ``destination``, ``node``,
``cargo_class``, ``wagon_type``, ``event``; ``:``-joined when there are two) and ``key``
(which one: the qualifiers as written). Metrics without a qualifier have empty ``by`` and
``key`` cells.

What a qualifier is comes from the run's resolved config (the names its services call at,
its corridor nodes, its cargo classes and groups, its wagon types, its disruptions), not
from a list of metric names: a name that is two things at once (Almaty is a destination
and a corridor node) is what most of the base's other qualifiers are.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import TYPE_CHECKING, Any

from silkroute_sim.config.cargo import CONTAINER_WAGON

if TYPE_CHECKING:
    import pandas as pd

SPLIT_COLUMNS = ["kpi", "by", "key"]
#: what a qualifier that no part of the config names is called
OTHER = "other"


def _names(value: Any) -> list[str]:
    return [str(k) for k in value] if isinstance(value, Mapping) else []


def dimensions(config: Mapping[str, Any]) -> dict[str, set[str]]:
    """The names each kind of qualifier can take in a run of ``config`` (resolved)."""
    services = config.get("services") or {}
    stops = {
        str(stop)
        for service in (services.values() if isinstance(services, Mapping) else [])
        if isinstance(service, Mapping)
        for stop in service.get("stops") or []
    }
    classes = (config.get("demand") or {}).get("classes") or {}
    cargo = set(_names(classes))
    for spec in classes.values() if isinstance(classes, Mapping) else []:
        if isinstance(spec, Mapping) and spec.get("group"):
            cargo.add(str(spec["group"]))
    wagons = {CONTAINER_WAGON, *_names(config.get("wagon_types"))}
    for spec in classes.values() if isinstance(classes, Mapping) else []:
        if isinstance(spec, Mapping) and spec.get("wagon_type"):
            wagons.add(str(spec["wagon_type"]))
    events: set[str] = set()
    disruptions = config.get("disruptions") or {}
    for event in disruptions.get("scheduled") or []:
        if isinstance(event, Mapping) and event.get("id"):
            events.add(str(event["id"]))
    for group in (disruptions.get("random") or {}).values():
        for event in group if isinstance(group, list) else []:
            if isinstance(event, Mapping) and event.get("id"):
                events.add(str(event["id"]))
    return {
        "destination": stops,
        "node": set(_names((config.get("corridor") or {}).get("nodes"))),
        "cargo_class": cargo,
        "wagon_type": wagons,
        "event": events,
    }


def _choose(qualifiers: set[str], dims: dict[str, set[str]]) -> dict[str, str]:
    """What each qualifier of one base (at one position) is: among the kinds that name it,
    the one that names most of the base's qualifiers (relative to its size)."""

    def score(kind: str) -> tuple[float, int]:
        names = dims[kind]
        covered = len(qualifiers & names)
        return (covered / len(names) if names else 0.0, -len(names))

    ranked = sorted(dims, key=score, reverse=True)
    return {q: next((k for k in ranked if q in dims[k]), OTHER) for q in qualifiers}


def split_metrics(
    metrics: list[str], config: Mapping[str, Any]
) -> tuple[list[str], list[str | None], list[str | None]]:
    """``kpi``, ``by`` and ``key`` of each of ``metrics`` (see the module's docstring);
    ``by`` and ``key`` are missing (None: an empty cell) for a metric without qualifier,
    so that a table reads back the same from CSV and from Parquet."""
    parts = [str(m).split(":") for m in metrics]
    groups: dict[tuple[str, int], set[str]] = {}
    for base, *quals in parts:
        for i, q in enumerate(quals):
            groups.setdefault((base, i), set()).add(q)
    dims = dimensions(config)
    kinds = {group: _choose(quals, dims) for group, quals in groups.items()}
    kpi = [p[0] for p in parts]
    by = [":".join(kinds[(p[0], i)][q] for i, q in enumerate(p[1:])) or None for p in parts]
    key = [":".join(p[1:]) or None for p in parts]
    return kpi, by, key


def split_summary(summary: pd.DataFrame, config: Mapping[str, Any]) -> pd.DataFrame:
    """``summary`` (``metric, value, unit``) with ``kpi, by, key`` added."""
    out = summary.copy()
    out["kpi"], out["by"], out["key"] = split_metrics(list(summary["metric"]), config)
    return out


def daily_long(daily: pd.DataFrame, config: Mapping[str, Any]) -> pd.DataFrame:
    """The wide daily table as tidy rows: ``day, warmup, metric, kpi, by, key, value``,
    one row per day and column (``kpi, by, key`` as in ``summary.csv``), column by column
    in the wide table's order."""
    ids = [c for c in ("day", "warmup") if c in daily.columns]
    values = [c for c in daily.columns if c not in ids]
    long = daily.melt(id_vars=ids, value_vars=values, var_name="metric", value_name="value")
    long["value"] = long["value"].astype(float)
    kpi, by, key = split_metrics(values, config)
    rows = len(daily)
    for name, column in (("kpi", kpi), ("by", by), ("key", key)):
        long[name] = [v for v in column for _ in range(rows)]
    return long[[*ids, "metric", "kpi", "by", "key", "value"]].reset_index(drop=True)
