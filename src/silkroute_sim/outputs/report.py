"""``report.html``: one self-contained page per result folder.

The page carries the scenario description, the KPI table (with confidence intervals where
there are replications) and every plot, embedded as base64 PNG — no server, no network, no
files beside it. The markup is well-formed XML (polyglot HTML5), so it parses with any HTML
or XML parser. Nothing time-dependent is written: the same folder gives the same page.

:func:`write_report` is the generic builder (used for runs, replications, comparisons,
sweeps and verification); :mod:`silkroute_sim.outputs.folder_report` builds the page of a
finished folder from its files.
"""

from __future__ import annotations

import base64
import html
import math
from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import Any

import pandas as pd

from silkroute_sim.outputs.inplace import claim
from silkroute_sim.outputs.storage import atomic_write_text, package_version

REPORT_NAME = "report.html"
#: preferred order of the plots of a run; others follow alphabetically
PLOT_ORDER = [
    "kpis",
    "throughput",
    "throughput_reps",
    "yard_level",
    "hub_dwell",
    "door_to_door",
    "door_to_door_ecdf",
    "border_waits",
    "border_queues",
    "string_line",
    "corridor_map",
    "warmup",
]
CAPTIONS = {
    "kpis": "Key indicators per scenario: mean over replications, bars are confidence intervals.",
    "throughput": "Daily tonnes dispatched from the hub against the demand line; the shaded "
    "days are the warm-up, cut from every KPI.",
    "throughput_reps": "Daily tonnes dispatched (7-day moving average), mean over "
    "replications with its confidence band; dotted: the demand.",
    "yard_level": "Yard occupancy in TEU against the yard capacity.",
    "hub_dwell": "Hub dwell: gate arrival to train departure, per box.",
    "door_to_door": "Door to door by destination: hub gate to release at the terminal.",
    "door_to_door_ecdf": "Door to door, empirical CDF over the boxes released after the "
    "warm-up (all replications pooled).",
    "border_waits": "Mean wait of a train at each border crossing, with confidence intervals.",
    "border_queues": "Trains queueing at the border crossings over time.",
    "string_line": "Time–distance diagram of the first trains.",
    "corridor_map": "Corridor map: Urumqi's cargo flows and the waits at nodes.",
    "warmup": "Warm-up check (Welch's method): daily series averaged over replications, "
    "their moving average, the configured warm-up (shaded) and the suggested one (dashed).",
}
STYLE = """
body { font-family: system-ui, -apple-system, 'Segoe UI', Roboto, sans-serif; margin: 0;
  color: #1d2733; background: #fafbfc; }
main { max-width: 1100px; margin: 0 auto; padding: 1.5rem 2rem 3rem; }
h1 { color: #1f4e79; margin-bottom: 0.3rem; }
h2 { color: #1f4e79; border-bottom: 2px solid #dde5ee; padding-bottom: 0.2rem;
  margin-top: 2.2rem; }
p.description { font-size: 1.05rem; line-height: 1.5; max-width: 60rem; }
table { border-collapse: collapse; margin: 0.6rem 0; font-size: 0.9rem; }
th, td { padding: 0.25rem 0.7rem; border-bottom: 1px solid #e3e8ee; text-align: right; }
th { background: #eef3f8; position: sticky; top: 0; }
td.text, th.text { text-align: left; }
tr:hover td { background: #f3f7fb; }
table.meta td, table.meta th { text-align: left; border: none; padding: 0.1rem 0.8rem 0.1rem 0; }
table.meta th { background: none; color: #5a6b7d; font-weight: normal; }
ul.warnings li { color: #8a4b00; margin: 0.2rem 0; }
figure { margin: 1.5rem 0; background: white; border: 1px solid #e3e8ee; padding: 0.8rem; }
figure img { max-width: 100%; height: auto; display: block; margin: 0 auto; }
figcaption { color: #4a5a6a; font-size: 0.9rem; margin-top: 0.5rem; }
p.note, footer { color: #5a6b7d; font-size: 0.85rem; }
details summary { cursor: pointer; color: #1f4e79; margin: 0.8rem 0; }
"""


# --------------------------------------------------------------------------- formatting


def fmt_number(value: Any) -> str:
    """A KPI value for people: thousands separators, sensible decimals, '—' for nothing."""
    if value is None or value is pd.NA:
        return "—"
    if isinstance(value, bool):
        return "yes" if value else "no"
    if isinstance(value, int):
        return f"{value:,}"
    if isinstance(value, float):
        if math.isnan(value):
            return "—"
        if math.isinf(value):
            return "∞" if value > 0 else "−∞"
        a = abs(value)
        if a == 0:
            return "0"
        if a >= 1000:
            text = f"{value:,.0f}"
        elif a >= 100:
            text = f"{value:,.1f}"
        elif a >= 1:
            text = f"{value:.2f}"
        elif a >= 0.001:
            text = f"{value:.3g}"
        else:
            text = f"{value:.2e}"
        return text.replace("-", "−")
    return str(value)


def _cell(value: Any) -> tuple[str, bool]:
    """(text, is_text) of one table cell."""
    try:
        if pd.isna(value):
            return "—", False
    except (TypeError, ValueError):
        pass
    if hasattr(value, "item") and not isinstance(value, str):
        value = value.item()  # numpy scalar → Python
    if isinstance(value, str):
        return value, True
    return fmt_number(value), False


def render_table(frame: pd.DataFrame, css_class: str = "kpi") -> str:
    """An HTML table of ``frame``: text left-aligned, numbers right-aligned and formatted."""
    head = "".join(
        f'<th class="{"text" if _is_text_column(frame[c]) else "num"}">{html.escape(str(c))}</th>'
        for c in frame.columns
    )
    body = []
    for row in frame.itertuples(index=False):
        cells = []
        for value in row:
            text, is_text = _cell(value)
            cls = "text" if is_text else "num"
            cells.append(f'<td class="{cls}">{html.escape(text)}</td>')
        body.append("<tr>" + "".join(cells) + "</tr>")
    return (
        f'<table class="{css_class}"><thead><tr>{head}</tr></thead>'
        f"<tbody>\n" + "\n".join(body) + "\n</tbody></table>"
    )


def _is_text_column(series: pd.Series) -> bool:
    if pd.api.types.is_numeric_dtype(series):
        return False
    return bool(series.map(lambda v: isinstance(v, str)).any())


def _image_tag(path: Path) -> str:
    mime = {".png": "image/png", ".svg": "image/svg+xml", ".jpg": "image/jpeg"}.get(
        path.suffix.lower(), "application/octet-stream"
    )
    data = base64.b64encode(path.read_bytes()).decode("ascii")
    stem = path.stem
    caption = CAPTIONS.get(stem, stem.replace("_", " "))
    return (
        f'<figure id="plot-{html.escape(stem)}">'
        f'<img src="data:{mime};base64,{data}" alt="{html.escape(stem)}" />'
        f"<figcaption>{html.escape(caption)}</figcaption></figure>"
    )


# --------------------------------------------------------------------------- the page


def render_report(
    title: str,
    description: str,
    kpi_table: pd.DataFrame,
    images: Sequence[Path],
    extra_html: str = "",
    *,
    meta: Mapping[str, Any] | None = None,
    warnings: Sequence[str] = (),
    table_title: str = "Key performance indicators",
    table_note: str = "",
) -> str:
    """The report page as a string (see :func:`write_report`)."""
    parts = [
        "<!DOCTYPE html>",
        '<html lang="en">',
        "<head>",
        '<meta charset="utf-8" />',
        '<meta name="viewport" content="width=device-width, initial-scale=1" />',
        '<meta name="generator" content="silkroute-sim" />',
        f"<title>{html.escape(title)}</title>",
        f"<style>{STYLE}</style>",
        "</head>",
        "<body><main>",
        f"<h1>{html.escape(title)}</h1>",
    ]
    if description.strip():
        parts.append(f'<p class="description">{html.escape(" ".join(description.split()))}</p>')
    if meta:
        rows = "".join(
            f"<tr><th>{html.escape(str(k))}</th><td>{html.escape(_cell(v)[0])}</td></tr>"
            for k, v in meta.items()
        )
        parts.append(f'<table class="meta"><tbody>{rows}</tbody></table>')
    if warnings:
        items = "".join(f"<li>{html.escape(w)}</li>" for w in warnings)
        parts.append(
            f'<section id="warnings"><h2>Warnings</h2><ul class="warnings">{items}</ul></section>'
        )
    parts.append(f'<section id="kpis"><h2>{html.escape(table_title)}</h2>')
    parts.append(render_table(kpi_table))
    if table_note:
        parts.append(f'<p class="note">{html.escape(table_note)}</p>')
    parts.append("</section>")
    if extra_html:
        parts.append(extra_html)
    if images:
        parts.append('<section id="plots"><h2>Plots</h2>')
        parts.extend(_image_tag(Path(p)) for p in images)
        parts.append("</section>")
    parts.append(
        f"<footer><p>Written by silkroute-sim {html.escape(package_version())}. Every KPI is "
        "measured after the warm-up.</p></footer>"
    )
    parts.append("</main></body>")
    parts.append("</html>")
    return "\n".join(parts) + "\n"


def write_report(
    path: Path,
    title: str,
    description: str,
    kpi_table: pd.DataFrame,
    images: Sequence[Path],
    extra_html: str = "",
    **kwargs: Any,
) -> Path:
    """Write a self-contained report page to ``path`` (atomically, through the output
    guard: a file the user put at ``path`` is refused, not replaced). ``images`` are embedded
    as base64; ``extra_html`` (already escaped, well-formed) goes after the KPI table.
    Keyword arguments: ``meta`` (a mapping shown as a small table), ``warnings``,
    ``table_title``, ``table_note``."""
    path = claim(Path(path).parent, Path(path).name)  # never over a page the user wrote
    atomic_write_text(
        path, render_report(title, description, kpi_table, images, extra_html, **kwargs)
    )
    return path


# --------------------------------------------------------------------------- plots of a folder


def ordered_plots(folder: Path) -> list[Path]:
    """The PNGs in ``folder`` in the preferred order."""
    if not folder.is_dir():
        return []
    files = sorted(p for p in folder.iterdir() if p.suffix.lower() == ".png")
    rank = {name: i for i, name in enumerate(PLOT_ORDER)}
    return sorted(files, key=lambda p: (rank.get(p.stem, len(rank)), p.stem))
