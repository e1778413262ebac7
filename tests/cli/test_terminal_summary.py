"""The KPI table printed after a run follows the scenario: the headline for every run, then
its disruptions, cargo classes and cost when it has them, labelled from the KPI catalogue;
progress bars only on a terminal."""

from __future__ import annotations

import io
import math
from pathlib import Path
from typing import Any

import pandas as pd
import pytest
import yaml

from silkroute_sim.analysis.kpis import HEADLINE, label
from silkroute_sim.cli import common
from silkroute_sim.cli.common import print_kpis, print_kpis_ci, progress_bar, sections

from ..conftest import silkroute, tiny_raw

#: a summary's metric names without disruptions or vehicles (the baseline's shape)
PLAIN = [
    *HEADLINE,
    "door_to_door_d_median:Duisburg",
    "border_wait_h_mean:Khorgos",
    "demand_units_per_year:containers",
    "delivered_units_per_year:containers",
    "delivered_units_per_year:containers:Duisburg",
    "hub_dwell_h_mean:containers",
    "wagon_utilisation:container",
]
DISRUPTED = [
    *PLAIN,
    "stranded_trains_max",
    "stranded_background_trains_max",
    "recovery_h:khorgos-closed",
    "system_recovery_h:khorgos-closed",
    "stranded_trains_max:khorgos-closed",
    "breakdown_events:Dostyk-breakdowns",
]
VEHICLES = [
    *PLAIN,
    "demand_units_per_year:cars",
    "delivered_units_per_year:cars",
    "delivered_units_per_year:cars:Almaty",
    "export_value_usd_per_year:cars",
    "hub_dwell_h_mean:cars",
    "compound_occupancy",
]
COSTED = [
    *PLAIN,
    "freight_cost_usd_per_feu_mean:Duisburg",
    "co2_kg_per_feu_mean:Duisburg",
    "freight_cost_usd_per_feu_mean:Moscow",
    "co2_kg_per_feu_mean:Moscow",
]


def test_a_plain_run_has_no_sections_beyond_the_headline() -> None:
    assert sections(PLAIN) == []


def test_disruptions_show_overall_rows_then_each_event() -> None:
    assert sections(DISRUPTED) == [
        (
            "disruptions",
            [
                "stranded_trains_max",
                "stranded_background_trains_max",
                "recovery_h:khorgos-closed",
                "system_recovery_h:khorgos-closed",
                "stranded_trains_max:khorgos-closed",
                "breakdown_events:Dostyk-breakdowns",
            ],
        )
    ]


def test_classes_show_units_usd_and_dwell_per_class_only_with_several_classes() -> None:
    assert sections(VEHICLES) == [
        (
            "cargo classes",
            [
                "compound_occupancy",
                "delivered_units_per_year:containers",
                "hub_dwell_h_mean:containers",
                "wagon_utilisation:container",
                "delivered_units_per_year:cars",
                "export_value_usd_per_year:cars",
                "hub_dwell_h_mean:cars",
            ],
        )
    ]  # not per destination (summary.csv has them), not hub dwell overall (the headline)


def test_cost_rows_follow_per_destination() -> None:
    assert sections(COSTED) == [
        (
            "cost and CO2",
            [
                "freight_cost_usd_per_feu_mean:Duisburg",
                "co2_kg_per_feu_mean:Duisburg",
                "freight_cost_usd_per_feu_mean:Moscow",
                "co2_kg_per_feu_mean:Moscow",
            ],
        )
    ]


def _values(metrics: list[str]) -> dict[str, float]:
    return {m: float(i + 1) for i, m in enumerate(metrics)}


def test_the_table_keeps_the_headline_block_and_labels_sections_from_the_catalogue(
    capsys: pytest.CaptureFixture[str],
) -> None:
    print_kpis(_values(PLAIN), "plain")
    plain = capsys.readouterr().out.splitlines()
    assert len(plain) == 1 + len(HEADLINE)
    values = _values(DISRUPTED + COSTED[len(PLAIN) :])
    print_kpis(values, "both")
    lines = capsys.readouterr().out.splitlines()
    assert lines[: len(plain)] == ["both", *plain[1:]]  # the headline block is the same
    rest = lines[len(plain) :]
    assert rest[0] == "  disruptions:"
    width = len(label("stranded_trains_max:khorgos-closed"))  # the longest label here
    stranded = values["stranded_trains_max"]
    assert rest[1] == f"    {'stranded trains (max)':<{width}}  {stranded:.0f} trains"
    assert f"    {label('recovery_h:khorgos-closed'):<{width}}  " in rest[3]
    costs = rest.index("  cost and CO2:")
    assert [line.split("  ")[2] for line in rest[costs + 1 :]] == [
        label(m) for m in COSTED[len(PLAIN) :]
    ]


def test_the_replications_table_has_the_same_sections_with_intervals(
    capsys: pytest.CaptureFixture[str],
) -> None:
    metrics = DISRUPTED
    summary = pd.DataFrame(
        {
            "metric": metrics,
            "mean": [10.0] * len(metrics),
            "ci_low": [9.0] * len(metrics),
            "ci_high": [11.0] * len(metrics),
        }
    )
    summary.loc[summary["metric"] == "system_recovery_h:khorgos-closed", "mean"] = math.nan
    print_kpis_ci(summary, "reps")
    lines = capsys.readouterr().out.splitlines()
    assert "  disruptions:" in lines
    recovery = next(line for line in lines if line.startswith("    recovery, khorgos-closed"))
    assert recovery.endswith("10.0 h  ± 1.0 h")
    system = next(line for line in lines if line.startswith("    system recovery, khorgos"))
    assert system.endswith("—")


class _Stream(io.StringIO):
    def __init__(self, terminal: bool) -> None:
        super().__init__()
        self.terminal = terminal

    def isatty(self) -> bool:
        return self.terminal


@pytest.mark.parametrize("terminal", [True, False])
def test_progress_bars_only_on_a_terminal(monkeypatch: pytest.MonkeyPatch, terminal: bool) -> None:
    stream = _Stream(terminal)
    monkeypatch.setattr(common.sys, "stderr", stream)
    bar = progress_bar(True, 10, "run")
    assert (bar is not None) == terminal
    if bar is not None:
        bar.n = 10
        bar.refresh()
        bar.close()
        assert "10/10 days" in stream.getvalue()
    assert progress_bar(False, 10, "run") is None


def _write(path: Path, **sections: Any) -> Path:
    raw = tiny_raw(**sections)
    raw["simulation"]["days"] = 2
    path.write_text(yaml.safe_dump(raw), encoding="utf-8")
    return path


@pytest.mark.slow
def test_run_prints_the_disruption_section_of_its_scenario(tmp_path: Path) -> None:
    closure = {"id": "shut", "node": "Border", "effect": "close", "start": 10, "duration": 6}
    disrupted = _write(tmp_path / "shut.yaml", disruptions={"scheduled": [closure]})
    proc = silkroute("run", str(disrupted), "--out", "a", "--no-plots", cwd=tmp_path)
    assert proc.returncode == 0, proc.stderr
    lines = proc.stdout.splitlines()
    section = lines.index("  disruptions:")
    assert section == 1 + len(HEADLINE)
    assert any(line.startswith("    recovery, shut ") for line in lines[section:])
    plain = silkroute("run", str(_write(tmp_path / "plain.yaml")), "--out", "b", cwd=tmp_path)
    assert plain.returncode == 0, plain.stderr
    assert "  disruptions:" not in plain.stdout.splitlines()  # a scenario without any
