"""The plots' numbers and words: the forest plot draws the comparison's paired intervals,
sweep figures are labelled from the KPI catalogue, bands stay inside what a quantity can
take, no input is drawn against itself, labels on the map do not overprint each other.
Built from small hand-made tables: no simulation runs here."""

from __future__ import annotations

import gc
import math
from pathlib import Path
from types import SimpleNamespace
from typing import Any

import matplotlib
import numpy as np
import pandas as pd
import pytest
from matplotlib.transforms import Bbox

from silkroute_sim import load_config
from silkroute_sim.analysis.kpis import CATALOGUE, label
from silkroute_sim.experiments.compare import comparison_frame
from silkroute_sim.model.network import build_graph
from silkroute_sim.outputs.plots import differences as diff_plots
from silkroute_sim.outputs.plots import sweep as sweep_plots
from silkroute_sim.outputs.plots.corridor_map import (
    _annotate,
    _flows,
    annotate_spots,
    choose_insets,
    corridor_map,
    countries,
    draw_corridor_map,
)
from silkroute_sim.outputs.plots.map_layout import OFFSETS, find_spots, label_box, label_extent
from silkroute_sim.outputs.plots.run import (
    _collector_spared,
    _day_bars,
    _train_timelines,
    station_ticks,
)
from silkroute_sim.outputs.plots.style import (
    BETTER,
    COLORS,
    DPI,
    NOT_SIGNIFICANT,
    WORSE,
    pyplot,
    save,
)
from silkroute_sim.outputs.replication_result import RepOutput, collect
from silkroute_sim.outputs.report import ci_text, difference_text

matplotlib.use("Agg")

SEEDS = [11, 12, 13, 14]
METRICS = {
    "hub_dwell_h_mean": ("h", [30.0, 32.0, 29.0, 31.0], [-2.0, -2.4, -1.8, -2.1]),
    "crane_utilisation": ("fraction", [0.70, 0.72, 0.69, 0.71], [-0.17, -0.18, -0.17, -0.175]),
    "dispatched_t_per_day": ("t/day", [3300.0, 3250.0, 3280.0, 3310.0], [5.0, -8.0, 2.0, 1.0]),
    "door_to_door_d_median": ("d", [8.9, 9.0, 8.8, 8.9], [0.2, 0.3, 0.25, 0.22]),
    "border_wait_h_mean:Dostyk": ("h", [1.0, 1.2, 0.9, 1.1], [0.0, 0.0, 0.0, 0.0]),
}


def _scenario(name: str, shift: bool) -> Any:
    outputs = []
    for i, seed in enumerate(SEEDS):
        rows = [
            (metric, base[i] + (delta[i] if shift else 0.0), unit)
            for metric, (unit, base, delta) in METRICS.items()
        ]
        summary = pd.DataFrame(rows, columns=["metric", "value", "unit"])
        outputs.append(RepOutput(seed, summary, pd.DataFrame(), np.array([8.0, 9.0, 10.0])))
    return collect({"name": name, "simulation": {"days": 30, "warmup_days": 5}}, outputs, 0.95)


@pytest.fixture(scope="module")
def results() -> list[Any]:
    return [_scenario("base", False), _scenario("other", True)]


def _place_labels(
    ax: Any, names: list[str], lon: list[float], lat: list[float], size: float
) -> dict[str, Any]:
    """Labels placed and drawn, as the corridor map does with the layout it keeps."""
    return annotate_spots(ax, find_spots(ax, names, lon, lat, size), size)


def test_forest_plot_draws_the_paired_intervals_of_the_comparison(results, tmp_path) -> None:
    table = comparison_frame(results)
    rows = diff_plots.forest_rows(table, "other").set_index("metric")
    other = table[table["scenario"] == "other"].set_index("metric")
    for metric in ("hub_dwell_h_mean", "crane_utilisation", "dispatched_t_per_day"):
        for column in ("diff", "diff_ci_low", "diff_ci_high"):
            assert rows.loc[metric, column] == pytest.approx(other.loc[metric, column], rel=1e-12)
        base = float(table.set_index(["scenario", "metric"]).loc[("base", metric), "mean"])
        assert rows.loc[metric, "rel"] == pytest.approx(100 * other.loc[metric, "diff"] / base)
        assert rows.loc[metric, "label"] == label(metric)
    # the fallback the plots compute without a table gives the same intervals
    fallback = diff_plots.paired_table(results).set_index(["scenario", "metric"])
    for metric in METRICS:
        for column in ("diff", "diff_ci_low", "diff_ci_high"):
            got, want = fallback.loc[("other", metric), column], other.loc[metric, column]
            assert (math.isnan(got) and math.isnan(want)) or got == pytest.approx(want, rel=1e-12)
    # better / worse by the catalogue's direction; 0 inside the interval: not significant
    assert rows.loc["hub_dwell_h_mean", "verdict"] == "better"  # lower is better
    assert rows.loc["door_to_door_d_median", "verdict"] == "worse"
    assert rows.loc["dispatched_t_per_day", "verdict"] == "not significant"
    assert rows.loc["crane_utilisation", "verdict"] == "changed"  # no better direction
    assert rows.loc["border_wait_h_mean:Dostyk", "verdict"] == "not significant"
    assert list(dict.fromkeys(rows["group"])) == ["Throughput", "Hub", "Door to door", "Borders"]


def test_forest_plot_draws_each_interval_in_its_colour(results, monkeypatch, tmp_path) -> None:
    figures: list[Any] = []
    monkeypatch.setattr(diff_plots, "save", lambda fig, path, rect=None: figures.append(fig))
    table = comparison_frame(results)
    diff_plots.differences(table, tmp_path / "d.png")
    ax = figures[0].axes[0]
    rows = diff_plots.forest_rows(table, "other")
    drawn = {
        round(float(np.mean(line.get_ydata())), 6): line
        for line in ax.get_lines()
        if len(line.get_xdata()) == 2 and line.get_ydata()[0] == line.get_ydata()[1]
    }
    ticks = dict(zip([t.get_text() for t in ax.get_yticklabels()], ax.get_yticks(), strict=True))
    for r in rows.itertuples(index=False):
        line = drawn[round(float(ticks[r.label]), 6)]
        assert list(line.get_xdata()) == pytest.approx([r.rel_low, r.rel_high])
        want = {"better": BETTER, "worse": WORSE}.get(r.verdict)
        if r.verdict == "not significant":
            want = NOT_SIGNIFICANT
        if want is not None:
            assert matplotlib.colors.same_color(line.get_color(), want)
    assert any(line.get_xdata()[0] == 0 for line in ax.get_lines())  # the zero line
    pyplot().close("all")


def test_one_interval_format_and_percentage_points() -> None:
    assert ci_text("door_to_door_d_median", 9.1, 8.9, 9.3) == "9.1 d (8.9 to 9.3)"
    assert ci_text("crane_utilisation", 0.696, 0.691, 0.701) == "69.6% (69.1 to 70.1)"
    assert ci_text("hub_dwell_h_mean", 28.1, math.nan, math.nan) == "28.1 h"
    assert difference_text("crane_utilisation", 0.012, 0.004, 0.020) == "+1.20 pp (0.40 to 2.00)"
    assert difference_text("crane_utilisation", 0.012, 0.0, 0.024) == "+1.2 pp (0.0 to 2.4)"
    assert difference_text("hub_dwell_h_mean", -1.95, -2.38, -1.53) == "−1.95 h (−2.38 to −1.53)"


def _points(n: int) -> pd.DataFrame:
    demand = [2400.0, 3600.0, 4800.0] * 2
    cranes = [2, 2, 2, 3, 3, 3]
    frame = pd.DataFrame(
        {"point": range(6), "demand.tonnes_per_day": demand, "hub.cranes.count": cranes}
    )
    frame["n"] = n
    frame["n_failed"] = 0
    frame["saturated_share"] = 0.0
    for kpi, mean, half in (
        ("demand_t_per_day", np.array(demand), 10.0),
        ("dispatched_t_per_day", np.minimum(demand, 3500.0), 40.0),
        ("backlog_t_end", np.array([5.0, 10.0, 9000.0, 4.0, 8.0, 60.0]), 50.0),
        ("crane_utilisation", np.array([0.6, 0.9, 0.99, 0.4, 0.6, 0.8]), 0.05),
    ):
        frame[f"{kpi}_mean"] = mean
        frame[f"{kpi}_ci_low"] = mean - half  # a t-interval that reaches below 0
        frame[f"{kpi}_ci_high"] = mean + half
    return frame


def _capture(monkeypatch) -> list[Any]:
    figures: list[Any] = []
    monkeypatch.setattr(sweep_plots, "_save", lambda fig, path: figures.append(fig) or path)
    return figures


def test_sweep_plots_are_labelled_from_the_catalogue(monkeypatch, tmp_path) -> None:
    figures = _capture(monkeypatch)
    params = ["demand.tonnes_per_day", "hub.cranes.count"]
    sweep_plots.kpi_vs_parameter(
        _points(3), params, params[0], "backlog_t_end", "t", "grid", tmp_path / "a.png"
    )
    ax = figures[0].axes[0]
    entry = CATALOGUE["backlog_t_end"]
    assert ax.get_ylabel() == f"{entry.label[0].upper()}{entry.label[1:]} ({entry.unit})"
    assert ax.get_xlabel() == "Demand (t/day)"
    assert ax.get_title() == "Backlog at end vs demand"
    assert "backlog_t_end" not in ax.get_title() and "." not in ax.get_xlabel()
    legend = [t.get_text() for t in ax.get_legend().get_texts()]
    assert "Gantry cranes = 2" in legend
    # the stated capacity, as a vertical line at 3,600 t/day
    assert any(
        np.array_equal(np.asarray(line.get_xdata(), dtype=float), [3600.0, 3600.0])
        for line in ax.get_lines()
    )
    assert sweep_plots.parameter_label("corridor.nodes.Brest.service_time_h") == (
        "Brest: service time (h)"
    )
    pyplot().close("all")


def test_sweep_bands_are_clipped_and_left_out_with_few_runs(monkeypatch, tmp_path) -> None:
    figures = _capture(monkeypatch)
    params = ["demand.tonnes_per_day", "hub.cranes.count"]
    for n in (3, 2):
        for kpi in ("backlog_t_end", "crane_utilisation"):
            sweep_plots.kpi_vs_parameter(
                _points(n), params, params[0], kpi, "", "grid", tmp_path / "a.png"
            )
    clipped = [figures[0], figures[1]]
    for fig, top in zip(clipped, (math.inf, 100.0), strict=True):
        bands = [c for c in fig.axes[0].collections if len(c.get_paths())]
        assert bands
        ys = np.concatenate([p.vertices[:, 1] for c in bands for p in c.get_paths()])
        assert ys.min() >= 0.0 and ys.max() <= top
    for fig in figures[2:]:  # n = 2: no band, and the legend says why
        assert not [c for c in fig.axes[0].collections if len(c.get_paths())]
        legend = [t.get_text() for t in fig.axes[0].get_legend().get_texts()]
        assert any("< 3 runs" in text for text in legend)
    pyplot().close("all")


def test_sweep_never_draws_an_input_against_itself(monkeypatch, tmp_path) -> None:
    _capture(monkeypatch)
    points = _points(3)
    kpis = ["demand_t_per_day", "dispatched_t_per_day", "conservation_error_t"]
    params = ["demand.tonnes_per_day", "hub.cranes.count"]
    names = {
        p.name
        for p in sweep_plots.sweep_plots(points, params, kpis, {}, "grid", tmp_path / "plots")
    }
    assert "demand_t_per_day--demand.tonnes_per_day.png" not in names
    assert "demand_t_per_day--hub.cranes.count.png" in names
    assert "dispatched_t_per_day--demand.tonnes_per_day.png" in names
    assert not any(n.startswith("conservation_error_t") for n in names)
    pyplot().close("all")


def test_demand_line_is_drawn_on_top(monkeypatch, tmp_path) -> None:
    figures = _capture(monkeypatch)
    params = ["demand.tonnes_per_day", "hub.cranes.count"]
    sweep_plots.kpi_vs_parameter(
        _points(3), params, params[0], "dispatched_t_per_day", "t/day", "grid", tmp_path / "a"
    )
    lines = figures[0].axes[0].get_lines()
    demand = next(line for line in lines if line.get_label() == "demand (arrived)")
    data = [line for line in lines if line.get_label().startswith("Gantry cranes")]
    assert demand.get_zorder() > max(line.get_zorder() for line in data)
    assert list(demand.get_ydata()) == pytest.approx([2400.0, 3600.0, 4800.0])
    pyplot().close("all")


def test_station_names_share_a_tick_when_close() -> None:
    ticks = station_ticks(
        [("Urumqi", 0.0), ("Dostyk", 470.0), ("Alashankou", 478.0), ("Almaty", 1020.0)], 50
    )
    assert [name for _, name in ticks] == ["Urumqi", "Dostyk / Alashankou", "Almaty"]


def test_time_distance_lines_span_each_stop_and_run_on_where_a_node_has_no_event() -> None:
    import networkx as nx

    graph = nx.DiGraph()
    for u, v, run_h, km in (("A", "B", 2.0, 100.0), ("B", "C", 3.0, 50.0), ("C", "D", 4.0, 25.0)):
        graph.add_edge(u, v, run_h=run_h, km=km)
    events = pd.DataFrame(
        [  # t1 stops at B twice, at C once, and has no event at D; bg-1 is another train
            ("t1", "B", 12.0, 13.0),
            ("bg-1", "B", 0.0, 50.0),
            ("t1", "C", 20.0, 21.0),
            ("t1", "B", 14.0, 16.0),
            ("t4", "B", 40.0, 41.0),
        ],
        columns=["train_id", "node", "arrived_h", "end_h"],
    ).astype({"train_id": "string", "node": "string"})
    trains = pd.DataFrame(
        {
            "train_id": ["t1", "t2", "t3", "t4"],
            "service": ["s", "s", "s", "u"],
            "route": ["A>B>C>D", "A>B", "A", "A>B"],
            "departed_h": [10.0, float("nan"), 5.0, 37.0],
        }
    ).astype({"train_id": "string", "service": "string", "route": "string"})
    lines = _train_timelines(SimpleNamespace(graph=graph), events, trains)
    assert [line[0] for line in lines] == ["s", "u"]  # not departed, or no leg: no line
    _, xs, ys, stations = lines[0]
    assert xs == pytest.approx([h / 24 for h in (10, 12, 16, 20, 21, 25, 25)])
    assert ys == [0.0, 100.0, 100.0, 150.0, 150.0, 175.0, 175.0]
    assert stations == [("A", 0.0), ("B", 100.0), ("C", 150.0), ("D", 175.0)]
    assert lines[1][1] == pytest.approx([h / 24 for h in (37, 40, 41)])


def test_run_figures_spare_the_collector_and_give_its_objects_back() -> None:
    assert gc.get_freeze_count() == 0
    with _collector_spared():
        assert gc.get_freeze_count() > 0  # what existed before is set aside
    assert gc.get_freeze_count() == 0
    with pytest.raises(RuntimeError), _collector_spared():
        raise RuntimeError("a figure failed")
    assert gc.get_freeze_count() == 0  # given back on an error too
    gc.freeze()  # a caller's own freeze is left as it is
    try:
        frozen = gc.get_freeze_count()
        with _collector_spared():
            assert gc.get_freeze_count() == frozen
        assert gc.get_freeze_count() == frozen
    finally:
        gc.unfreeze()


def test_map_labels_do_not_overprint(tmp_path) -> None:
    plt = pyplot()
    fig, ax = plt.subplots(figsize=(6, 4))
    lon, lat = [21.0, 21.2, 21.1, 30.0], [52.2, 52.25, 52.1, 55.0]
    ax.scatter(lon, lat)
    ax.set_xlim(15, 35)
    ax.set_ylim(45, 58)
    fig.canvas.draw()
    texts = _place_labels(ax, ["Warsaw", "Łódź", "Małaszewicze", "Moscow"], lon, lat, 8)
    renderer = fig.canvas.get_renderer()
    boxes = [t.get_window_extent(renderer) for t in texts.values()]
    for i, a in enumerate(boxes):
        for b in boxes[i + 1 :]:
            assert not a.overlaps(b)
    plt.close(fig)


def test_label_boxes_worked_out_match_the_renderer() -> None:
    """The label placement measures each name once and works out the box of every
    position it tries: the same box the renderer gives for that label (arrow included)."""
    plt = pyplot()
    fig, ax = plt.subplots(figsize=(6, 4))
    ax.set_xlim(15, 35)
    ax.set_ylim(45, 58)
    fig.canvas.draw()
    renderer = fig.canvas.get_renderer()
    pt = renderer.points_to_pixels(1.0)
    for name, (x, y), size in (("Małaszewicze", (21.0, 52.2), 8), ("Łódź", (30.0, 50.0), 7.5)):
        anchor = tuple(ax.transData.transform((x, y)))
        extent = label_extent(fig, renderer, name, size)
        for scale in (1.0, 2.4, 3.6):
            for dx, dy in OFFSETS:
                text = _annotate(ax, name, (x, y), size, dx * scale, dy * scale, scale > 1)
                real = text.get_window_extent(renderer)
                text.remove()
                box = label_box(extent, anchor, (dx * scale * pt, dy * scale * pt), scale > 1)
                assert np.allclose(box.extents, real.extents, atol=0.05), (name, scale, dx, dy)
    plt.close(fig)


def test_crowded_map_labels_keep_clear_of_labels_and_markers() -> None:
    plt = pyplot()
    fig, ax = plt.subplots(figsize=(6, 4))
    lon, lat = [20.0, 20.5, 21.0, 20.5, 25.0], [50.0, 50.6, 50.0, 49.4, 52.0]
    ax.scatter(lon, lat)
    ax.set_xlim(15, 35)
    ax.set_ylim(45, 58)
    fig.canvas.draw()
    texts = _place_labels(ax, [f"Station {i}" for i in range(len(lon))], lon, lat, 8)
    assert list(texts) == [f"Station {i}" for i in range(len(lon))]  # each found a free spot
    renderer = fig.canvas.get_renderer()
    boxes = [t.get_window_extent(renderer) for t in texts.values()]
    assert len({(round(b.x0), round(b.y0)) for b in boxes}) == len(boxes)
    for i, a in enumerate(boxes):
        for b in boxes[i + 1 :]:
            assert not a.overlaps(b)
        for j, (x, y) in enumerate(zip(lon, lat, strict=True)):
            px, py = ax.transData.transform((x, y))
            if j != i:
                assert not a.overlaps(Bbox.from_extents(px - 5, py - 5, px + 5, py + 5))
    plt.close(fig)


def test_daily_bars_draw_what_ax_bar_draws() -> None:
    """The throughput figure's daily bars are one collection: the same pixels, limits and
    legend entry as ``ax.bar`` with one patch per day (a missing day draws nothing)."""
    plt = pyplot()
    days = pd.Series(np.arange(40, dtype=float))
    values = pd.Series(np.abs(np.sin(np.arange(40))) * 3000 + 50)
    values[7] = np.nan
    pixels, limits = [], []
    for collection in (False, True):
        fig, ax = plt.subplots(figsize=(4, 3))
        ax.plot(days, values.rolling(3, min_periods=1).mean(), label="mean")
        if collection:
            _day_bars(ax, days, values, "daily")
        else:
            ax.bar(days, values, width=1.0, color=COLORS[0], alpha=0.35, label="daily")
        ax.legend()
        fig.canvas.draw()
        pixels.append(np.asarray(fig.canvas.buffer_rgba()).copy())
        limits.append((ax.get_xlim(), ax.get_ylim()))
        assert [t.get_text() for t in ax.get_legend().get_texts()] == ["mean", "daily"]
        plt.close(fig)
    assert limits[0] == limits[1] and limits[1][1][0] == 0.0
    assert np.array_equal(pixels[0], pixels[1])


def test_saved_png_holds_the_pixels_savefig_writes_the_same_each_time(tmp_path) -> None:
    """save() writes the pixels matplotlib's savefig writes for the same figure: as RGB
    where it is opaque, RGBA where it is not, at the figure resolution, byte for byte the
    same each time."""
    from PIL import Image

    plt = pyplot()

    def figure(face: Any) -> Any:
        fig, ax = plt.subplots(figsize=(3, 2))
        fig.patch.set_facecolor(face)
        ax.plot([0, 1, 2], [0, 1, 0], label="a line")
        ax.set_title("a title")
        ax.legend()
        return fig

    written = []
    for i, face in enumerate(("white", "white", (1.0, 1.0, 1.0, 0.0))):
        fig = figure(face)
        fig.set_dpi(DPI)
        fig.tight_layout()
        fig.savefig(tmp_path / "ref.png", dpi=DPI)
        plt.close(fig)
        path = save(figure(face), tmp_path / f"f{i}.png")
        with Image.open(path) as image, Image.open(tmp_path / "ref.png") as ref:
            assert image.mode == ("RGBA" if i == 2 else "RGB")
            assert round(image.info["dpi"][0]) == DPI and set(image.info) == {"dpi"}
            assert np.array_equal(np.asarray(image.convert("RGBA")), np.asarray(ref))
        written.append(path.read_bytes())
    assert written[0] == written[1]


def test_map_flows_leave_out_trains_with_no_tonnes() -> None:
    """An inbound train (no tonnes recorded) on a line adds nothing to its flow instead of
    making it NaN (the map's widths and legend would read "nan t/day")."""
    trains = pd.DataFrame(
        {
            "train_id": ["w1", "e1"],
            "route": ["U>A>B", "B>A>U"],
            "tonnes": [1000.0, np.nan],
        }
    )
    shipments = pd.DataFrame(
        {"train_id": ["w1", "w1"], "destination": ["A", "B"], "tonnes": [400.0, 600.0]}
    )
    flows = _flows(None, shipments, trains)  # type: ignore[arg-type]
    assert flows == {("A", "U"): 1000.0, ("A", "B"): 600.0}


def test_basemap_ships_with_the_package() -> None:
    names = {c["name"] for c in countries()}
    assert {"China", "Kazakhstan", "Russia", "Belarus", "Poland", "Germany"} <= names
    data = Path(__file__).resolve().parents[2] / "src/silkroute_sim/outputs/data/countries.json"
    assert data.stat().st_size < 300_000
    assert len(set(COLORS)) == len(COLORS) and COLORS[0] == "#0072B2"  # Okabe–Ito


def test_a_known_capacity_is_drawn_as_a_line(monkeypatch, tmp_path) -> None:
    figures = _capture(monkeypatch)
    points = _points(3)
    points["yard_teu_max_mean"] = [1000.0, 2000.0, 3900.0, 900.0, 1500.0, 3000.0]
    points["yard_teu_max_ci_low"] = points["yard_teu_max_mean"] - 100
    points["yard_teu_max_ci_high"] = points["yard_teu_max_mean"] + 100
    params = ["demand.tonnes_per_day", "hub.cranes.count"]
    sweep_plots.sweep_plots(
        points,
        params,
        ["yard_teu_max"],
        {},
        "zip",
        tmp_path / "plots",
        references={"yard_teu_max": (4000.0, "yard capacity 4,000 TEU")},
    )
    for fig in figures:
        lines = [ln for ln in fig.axes[0].get_lines() if ln.get_label().startswith("yard cap")]
        assert len(lines) == 1 and list(lines[0].get_ydata()) == [4000.0, 4000.0]
    pyplot().close("all")


def test_sweep_table_names_parameters_and_kpis_apart() -> None:
    from silkroute_sim.outputs.sweep_report import points_table

    manifest = {
        "parameters": ["demand.tonnes_per_day", "hub.cranes.count"],
        "kpis": ["demand_t_per_day", "backlog_t_end"],
        "units": {"demand_t_per_day": "t/day", "backlog_t_end": "t"},
    }
    table = points_table(_points(3), manifest)
    assert list(table.columns) == [
        "point",
        "Demand (t/day)",
        "Gantry cranes",
        "runs ok",
        "Demand, measured (t/day)",
        "Backlog at end (t)",
    ]
    assert list(table["Demand (t/day)"]) == [str(v) for v in _points(3)["demand.tonnes_per_day"]]
    assert table["Backlog at end (t)"][0] == ci_text("backlog_t_end", 5.0, 0.0, 55.0)


CONFIGS = Path(__file__).resolve().parents[2] / "configs"


def _map_inputs(config: Path) -> tuple[Any, pd.DataFrame, pd.DataFrame, pd.DataFrame]:
    """What the corridor map is drawn from, for ``config``'s corridor: its graph, a few
    trains Urumqi → Brest and back, and waits at two nodes (the labels depend on the graph
    only)."""
    graph = build_graph(load_config(config).corridor)
    route = ">".join(_path(graph, "Urumqi", "Brest"))
    result = SimpleNamespace(graph=graph, end_h=240.0, warmup_h=24.0)
    trains = pd.DataFrame(
        {"train_id": ["w1", "e1"], "route": [route, route[::-1]], "tonnes": [1800.0, np.nan]}
    )
    shipments = pd.DataFrame({"train_id": ["w1"], "destination": ["Brest"], "tonnes": [1800.0]})
    events = pd.DataFrame(
        {
            "train_id": ["w1", "w1"],
            "node": ["Dostyk", "Brest"],
            "arrived_h": [30.0, 200.0],
            "wait_h": [5.0, 2.0],
        }
    )
    return result, shipments, trains, events


def _path(graph: Any, source: str, target: str) -> list[str]:
    import networkx as nx

    return list(nx.shortest_path(graph, source, target))


@pytest.fixture(scope="module")
def baseline_map() -> Any:
    layout = draw_corridor_map(*_map_inputs(CONFIGS / "baseline.yaml"))
    layout.figure.canvas.draw()
    yield layout
    pyplot().close(layout.figure)


def _assert_apart(texts: list[Any], renderer: Any, where: str) -> None:
    boxes = [t.get_window_extent(renderer) for t in texts]
    for i, a in enumerate(boxes):
        for j in range(i + 1, len(boxes)):
            b = boxes[j]
            assert not a.overlaps(b), (where, texts[i].get_text(), texts[j].get_text())


@pytest.mark.slow
def test_baseline_map_labels_never_overprint(baseline_map) -> None:
    """On the shipped baseline's map, no two labels drawn overlap (as the renderer lays
    them out), on the map and in each inset; the insets' letters keep clear too."""
    renderer = baseline_map.figure.canvas.get_renderer()
    labels = [t for t in baseline_map.ax.texts if t.get_text() in baseline_map.labels]
    assert len(labels) == len(baseline_map.labels)
    _assert_apart(list(baseline_map.ax.texts), renderer, "map")
    for panel, found in zip(baseline_map.panels, baseline_map.panel_labels, strict=True):
        assert list(panel.texts) == list(found.values())
        _assert_apart(list(panel.texts), renderer, panel.get_title())


def test_baseline_map_labels_every_node_once_somewhere(baseline_map) -> None:
    """Every node is labelled on the map or in an inset; a node whose label is not on the
    map is in an inset and labelled there; the crowded border regions get their insets
    (Belarus-Poland-Baltic, the Caucasus, Xinjiang), marked A, B, ... on the map."""
    nodes = set(_map_inputs(CONFIGS / "baseline.yaml")[0].graph.nodes)
    on_map = set(baseline_map.labels)
    in_insets = baseline_map.inset_labelled
    assert on_map | in_insets == nodes
    assert baseline_map.unlabelled == set()
    assert nodes - on_map <= in_insets
    assert {"Kaunas", "Šeštokai", "Bruzgi", "Svisloch", "Tbilisi", "Böyük-Kəsik"} <= in_insets
    by_node = {n: i for i, inset in enumerate(baseline_map.insets) for n in inset.names}
    assert by_node["Brest"] == by_node["Małaszewicze"] == by_node["Kaliningrad"]
    assert by_node["Minsk"] == by_node["Kaunas"]
    assert by_node["Tbilisi"] == by_node["Akhalkalaki"] != by_node["Brest"]
    assert by_node["Dostyk"] not in {by_node["Brest"], by_node["Tbilisi"]}
    letters = [t.get_text() for t in baseline_map.ax.texts if t.get_text() in "ABCDEFGH"]
    assert letters == list("ABCDEFGH"[: len(baseline_map.insets)])
    titles = [panel.get_title() for panel in baseline_map.panels]
    assert [t[0] for t in titles] == letters


def test_insets_come_from_the_nodes_left_out() -> None:
    """The insets are chosen from where the nodes left out lie, for any corridor: two
    far-apart knots give two insets, west to east, each holding its knot and the nodes
    close by, none holding the far ones; nothing left out, no inset."""
    import networkx as nx

    graph = nx.Graph()
    for name, lon, lat in (
        ("W1", 10.0, 50.0), ("W2", 10.2, 50.1), ("W3", 10.4, 49.9),
        ("E1", 60.0, 45.0), ("E2", 60.1, 45.2), ("Far", 35.0, 47.0),
    ):  # fmt: skip
        graph.add_node(name, lon=lon, lat=lat, kind="border")
    insets = choose_insets(graph, {"W1", "W2", "E2"})
    assert [set(i.names) for i in insets] == [{"W1", "W2", "W3"}, {"E1", "E2"}]
    assert insets[0].box[1] < insets[1].box[0]
    assert choose_insets(graph, set()) == []


@pytest.mark.slow
def test_corridor_map_png_is_the_same_twice(tmp_path) -> None:
    written = []
    for i in range(2):
        path = corridor_map(*_map_inputs(CONFIGS / "baseline.yaml"), tmp_path / f"map{i}.png")
        written.append(path.read_bytes())
    assert written[0] == written[1]


def test_baseline_map_leader_labels_sit_nearest_their_node(baseline_map) -> None:
    """A label drawn away from its node (a leader line) has no other node nearer its text,
    on the map and in each inset: it cannot be read as another node's."""
    from matplotlib.text import Text

    graph = _map_inputs(CONFIGS / "baseline.yaml")[0].graph
    renderer = baseline_map.figure.canvas.get_renderer()
    points = [(float(graph.nodes[n]["lon"]), float(graph.nodes[n]["lat"])) for n in graph.nodes]
    leaders = 0
    for ax, labels in (
        (baseline_map.ax, baseline_map.labels),
        *zip(baseline_map.panels, baseline_map.panel_labels, strict=True),
    ):
        for name, text in labels.items():
            if text.arrow_patch is None:
                continue
            leaders += 1
            box = Text.get_window_extent(text, renderer)  # the text alone
            centre = ((box.x0 + box.x1) / 2, (box.y0 + box.y1) / 2)
            spots = ax.transData.transform(points)
            own = math.dist(centre, ax.transData.transform(text.xy))
            assert all(math.dist(centre, spot) >= own - 0.5 for spot in spots), name
    assert leaders > 0


@pytest.mark.slow
def test_map_layouts_tried_draw_no_basemap_lines_or_labels_and_measure_once(
    monkeypatch,
) -> None:
    """The layouts tried until every label has a place only find the labels' spots: the
    basemap, the lines and the labels are drawn on the layout kept, once; each name's text
    is measured once (a second map measures nothing again)."""
    from silkroute_sim.outputs.plots import corridor_map as module
    from silkroute_sim.outputs.plots import map_layout

    inputs = _map_inputs(CONFIGS / "baseline.yaml")
    layouts: list[Any] = []
    basemaps: list[Any] = []
    real_layout, real_basemap = module._layout, module.draw_basemap
    monkeypatch.setattr(
        module, "_layout", lambda *a: layouts.append(real_layout(*a)) or layouts[-1]
    )
    monkeypatch.setattr(module, "draw_basemap", lambda ax: basemaps.append(ax) or real_basemap(ax))
    map_layout._EXTENTS.clear()
    kept = draw_corridor_map(*inputs)
    assert len(layouts) > 1  # the baseline's map is laid out more than once
    assert basemaps == [kept.ax, *kept.panels]
    for layout in layouts:
        # the map's texts: the insets' letters, and the labels on the layout kept only
        labelled = layout is kept
        assert len(layout.ax.texts) == len(layout.insets) + labelled * len(kept.labels)
        lines = [c for c in layout.ax.collections if type(c).__name__ == "LineCollection"]
        assert len(lines) == 2 * labelled
    assert set(kept.labels) | kept.inset_labelled == set(inputs[0].graph.nodes)
    measured = dict(map_layout._EXTENTS)
    assert {key[0] for key in measured} <= set(inputs[0].graph.nodes)
    pyplot().close(kept.figure)
    again = draw_corridor_map(*inputs)
    assert measured == map_layout._EXTENTS
    pyplot().close(again.figure)
