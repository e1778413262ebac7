"""The baseline against published figures: the targets, read from the data file
``published_targets.yaml`` shipped in this package, and the check of one target.

Each target carries its source in ``corridor-facts.md``, an acceptance band and, where the
baseline may legitimately miss it, the reason declared beforehand. A miss in a declared
direction is ``explained``; any other miss is a ``fail``.
"""

from __future__ import annotations

import functools
import math
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, fields
from importlib import resources
from typing import Any

import yaml

from silkroute_sim.analysis.stats import mean_ci
from silkroute_sim.config.schema import ScenarioConfig
from silkroute_sim.experiments.verify.checks import EXPLAINED, FAIL, PASS, Check, values_of

#: the data file of published figures, inside this package
TARGETS_FILE = "published_targets.yaml"
#: the fields of a target that are text, in which {facts} and the file's shared texts
#: are filled in
_TEXT_FIELDS = ("title", "source", "band", "explain_below", "explain_above", "explain_missing")


@dataclass(frozen=True)
class Target:
    """A published figure, its acceptance band, and the declared reasons why the
    baseline may miss it (only a miss in a declared direction is ``explained``)."""

    name: str
    title: str
    metric: str
    unit: str
    value: float
    low: float
    high: float
    source: str
    band: str
    explain_below: str = ""
    explain_above: str = ""
    explain_missing: str = ""


@functools.cache
def load_targets() -> tuple[Target, ...]:
    """The published targets of ``published_targets.yaml`` (read once)."""
    text = resources.files(__package__).joinpath(TARGETS_FILE).read_text(encoding="utf-8")
    return targets_from_data(yaml.safe_load(text))


def targets_from_data(data: Mapping[str, Any]) -> tuple[Target, ...]:
    """Targets from the parsed data file: ``facts`` (the sources' file), ``texts`` (shared
    reasons) and ``targets`` (one mapping per figure, with ``low`` and ``high`` or
    ``within``: a relative band around ``value``)."""
    texts = {"facts": str(data["facts"]), **{k: str(v) for k, v in data["texts"].items()}}
    return tuple(_target(entry, texts) for entry in data["targets"])


def _target(entry: Mapping[str, Any], texts: Mapping[str, str]) -> Target:
    known = {f.name for f in fields(Target)} | {"within"}
    name = entry.get("name", "?")
    unknown = sorted(set(entry) - known)
    if unknown:
        raise ValueError(f"{TARGETS_FILE}: target {name}: unknown fields {', '.join(unknown)}")
    values = dict(entry)
    within = values.pop("within", None)
    if within is not None:
        if "low" in values or "high" in values:
            raise ValueError(f"{TARGETS_FILE}: target {name}: both `within` and low/high")
        values["low"] = values["value"] * (1 - within)
        values["high"] = values["value"] * (1 + within)
    for key in _TEXT_FIELDS:
        if key in values:
            values[key] = str(values[key]).format_map(texts)
    try:
        return Target(**values)
    except TypeError as exc:
        raise ValueError(f"{TARGETS_FILE}: target {name}: {exc}") from None


def _configured_gauge_change_min(cfg: ScenarioConfig, node: str, boxes: int = 45) -> float:
    proc = cfg.corridor.nodes[node].processing if node in cfg.corridor.nodes else None
    if proc is None or proc.gauge_change is None:
        return math.nan
    gc = proc.gauge_change
    return 60.0 * (gc.setup_time.mean + boxes * gc.lift_time.mean / gc.cranes)


def published_check(
    target: Target, reps: Sequence[dict[str, float]], cfg: ScenarioConfig | None
) -> Check:
    """The baseline's mean of ``target.metric`` over the replications against the band;
    ``cfg`` (the baseline config) adds the configured gauge-change time to the note of a
    gauge change the baseline never performs."""
    mean, low, high, n = mean_ci(values_of(reps, target.metric))
    note = f"band: {target.band}"
    if not math.isfinite(mean):
        status = EXPLAINED if target.explain_missing else FAIL
        note = target.explain_missing or f"not measured: no {target.metric} in the baseline"
        node = target.metric.partition(":")[2]
        if target.metric.startswith("gauge_change_min") and cfg is not None:
            conf = _configured_gauge_change_min(cfg, node)
            note += f"; configured mean for a 45-box train {conf:.0f} min"
            if target.low <= conf <= target.high:
                note += " (inside the band)"
    elif mean < target.low:
        status = EXPLAINED if target.explain_below else FAIL
        note = f"below the band: {target.explain_below or 'no declared reason'}; {note}"
    elif mean > target.high:
        status = EXPLAINED if target.explain_above else FAIL
        note = f"above the band: {target.explain_above or 'no declared reason'}; {note}"
    else:
        status = PASS
    return Check(
        "published",
        target.name,
        target.title,
        status,
        mean,
        low,
        high,
        target.value,
        target.low,
        target.high,
        math.nan,
        target.unit,
        n,
        None,
        target.source,
        note,
    )
