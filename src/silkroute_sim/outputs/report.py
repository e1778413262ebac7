"""``report.html``: one self-contained page per result folder.

The page carries the scenario description, a contents list, the plots (embedded as base64
PNG) and then the tables (in boxes that scroll by themselves, so the page never scrolls
sideways, down to a 390 px phone) — no server, no network, no files beside it beyond
optional links to more plots in the folder. The markup is well-formed XML (polyglot
HTML5), so it parses with any HTML or XML parser. Nothing time-dependent is written: the
same folder gives the same page. Every confidence interval is written one way,
:func:`ci_text`: ``9.1 (8.9 to 9.3)``.

:func:`write_report` is the generic builder (used for runs, replications, comparisons,
sweeps and verification); :mod:`silkroute_sim.outputs.folder_report` builds the page of a
finished folder from its files.
"""

from __future__ import annotations

import base64
import html
import math
import re
from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import Any

import pandas as pd

from silkroute_sim.analysis.kpis import KPI, lookup
from silkroute_sim.outputs.inplace import claim
from silkroute_sim.outputs.storage import atomic_write_text, package_version

REPORT_NAME = "report.html"
#: preferred order of the plots of a run; others follow alphabetically
PLOT_ORDER = [
    "differences",
    "per_replication",
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
    "differences": "Difference of each scenario from the base per indicator, with its "
    "confidence interval, in per cent of the base's mean (the difference in the indicator's "
    "own unit beside it): right of the zero line is more, left is less; blue better, "
    "vermillion worse, grey not significant.",
    "per_replication": "Each replication's value per scenario; a grey line joins the same "
    "seed, so the pairing behind the differences shows.",
    "kpis": "Key indicators per scenario (a comparison written by an older version).",
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
    "string_line": "Time–distance diagram of the first trains after the warm-up, the "
    "stations on the right-hand axis.",
    "corridor_map": "Corridor map: Urumqi's cargo flows and the waits at nodes, over "
    "country borders (Natural Earth); the crowded crossings enlarged below.",
    "exports_by_class": "Delivered cargo by destination and cargo class.",
    "modes": "Rail against sea and air: door-to-door days against logistics cost and CO2e "
    "per FEU (log axes); rail's boxes as simulated, sea and air as their published ranges.",
    "warmup": "Warm-up check (Welch's method): daily series averaged over replications, "
    "their moving average, the configured warm-up (shaded) and the suggested one (dashed).",
}
#: short names of the plots, for the contents
PLOT_TITLES = {
    "differences": "Differences from the base",
    "per_replication": "Each replication",
    "throughput": "Throughput",
    "throughput_reps": "Throughput over replications",
    "yard_level": "Yard occupancy",
    "hub_dwell": "Hub dwell",
    "door_to_door": "Door to door by destination",
    "door_to_door_ecdf": "Door to door (distribution)",
    "border_waits": "Border waits",
    "border_queues": "Border queues",
    "string_line": "Time–distance diagram",
    "corridor_map": "Corridor map",
    "exports_by_class": "Exports by cargo class",
    "modes": "Rail, sea and air",
    "warmup": "Warm-up check",
}
STYLE = """
*, *::before, *::after { box-sizing: border-box; }
body { font-family: system-ui, -apple-system, 'Segoe UI', Roboto, sans-serif; margin: 0;
  color: #1d2733; background: #fafbfc; overflow-wrap: anywhere; }
main { max-width: 1100px; margin: 0 auto; padding: 1.5rem 2rem 3rem; }
h1 { color: #0b4a75; margin-bottom: 0.3rem; }
h2 { color: #0b4a75; border-bottom: 2px solid #dde5ee; padding-bottom: 0.2rem;
  margin-top: 2.2rem; }
p.description { font-size: 1.05rem; line-height: 1.5; max-width: 60rem; }
nav#contents { background: white; border: 1px solid #e3e8ee; padding: 0.5rem 0.9rem;
  margin: 1rem 0; font-size: 0.92rem; }
nav#contents ul { margin: 0.3rem 0 0; padding-left: 1.2rem; }
nav#contents > ul > li { display: inline-block; vertical-align: top; margin-right: 2rem; }
nav#contents li { margin: 0.1rem 0; }
a { color: #0b5d99; }
div.scroll { overflow: auto; max-width: 100%; max-height: 75vh; border: 1px solid #e3e8ee;
  background: white; margin: 0.6rem 0; }
table { border-collapse: collapse; font-size: 0.9rem; }
th, td { padding: 0.25rem 0.7rem; border-bottom: 1px solid #e3e8ee; text-align: right;
  overflow-wrap: normal; }
td { white-space: nowrap; }
th { background: #eef3f8; position: sticky; top: 0; }
td.text, th.text { text-align: left; }
td.details { color: #5a6b7d; font-family: ui-monospace, monospace; font-size: 0.8rem; }
tr:hover td { background: #f3f7fb; }
table.meta td, table.meta th { text-align: left; border: none; padding: 0.1rem 0.8rem 0.1rem 0;
  overflow-wrap: anywhere; white-space: normal; }
table.meta th { background: none; color: #5a6b7d; font-weight: normal; position: static; }
ul.warnings li { color: #8a4b00; margin: 0.2rem 0; }
figure { margin: 1.5rem 0; background: white; border: 1px solid #e3e8ee; padding: 0.8rem; }
figure img { max-width: 100%; height: auto; display: block; margin: 0 auto; }
figcaption { color: #4a5a6a; font-size: 0.9rem; margin-top: 0.5rem; }
p.note, footer { color: #5a6b7d; font-size: 0.85rem; }
details summary { cursor: pointer; color: #0b4a75; margin: 0.8rem 0; }
@media (max-width: 600px) { main { padding: 0.8rem 0.7rem 2rem; } h1 { font-size: 1.4rem; }
  figure { padding: 0.3rem; margin: 1rem 0; } }
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


_KPI_FMT = re.compile(r"\{:(,?)\.(\d+)([f%])\}(.*)")


def _number_format(kpi: KPI | None) -> tuple[str, str]:
    """(number pattern, unit) of a KPI's ``fmt``: ``("{:.1f}", " h")``."""
    match = _KPI_FMT.fullmatch(kpi.fmt) if kpi is not None else None
    if match is None:
        return "", ""
    comma, places, kind, unit = match.groups()
    if kind == "%":
        return f"{{:{comma}.{places}f}}", "%"
    return f"{{:{comma}.{places}f}}", unit


def kpi_text(metric: str, value: Any, unit: str = "") -> str:
    """A KPI's value in the catalogue's format (``28.1 h``, ``69.6%``); others as
    :func:`fmt_number` with ``unit``."""
    number = _float(value)
    kpi = lookup(metric)
    if kpi is not None and _number_format(kpi)[0]:
        return kpi.text(number)
    text = fmt_number(number)
    return f"{text} {unit}" if unit and text != "—" else text


def ci_text(metric: str, mean: Any, low: Any, high: Any, unit: str = "") -> str:
    """The one way a report writes a value with its confidence interval:
    ``9.1 d (8.9 to 9.3)``, in the KPI's format (fractions in per cent), the interval
    clipped at the catalogue's ``lower`` bound; the value alone where there is none."""
    text = kpi_text(metric, mean, unit)
    lo, hi = _float(low), _float(high)
    if text == "—" or not (math.isfinite(lo) and math.isfinite(hi)):
        return text
    kpi = lookup(metric)
    if kpi is not None and kpi.lower is not None:  # what the quantity can take
        lo, hi = max(lo, kpi.lower), max(hi, kpi.lower)
    pattern, _ = _number_format(kpi)
    scale = 100.0 if kpi is not None and kpi.unit == "fraction" else 1.0
    if pattern:
        ends = [pattern.format(v * scale).replace("-", "−") for v in (lo, hi)]
    else:
        ends = [fmt_number(v) for v in (lo, hi)]
    return f"{text} ({ends[0]} to {ends[1]})"


def _digits(value: float) -> int:
    """Decimals that show two significant digits of ``value`` (0 to 4)."""
    if not math.isfinite(value) or value == 0:
        return 1
    return int(min(max(1 - math.floor(math.log10(abs(value))), 0), 4))


def difference_text(metric: str, diff: Any, low: Any, high: Any) -> str:
    """A difference between scenarios and its interval in the KPI's unit:
    ``+0.12 h (0.05 to 0.19)``; fractions in percentage points: ``+1.2 pp (0.4 to 2.0)``.
    Two significant digits of the interval's half-width (of the difference where there is
    no interval), so a difference the interval calls real never reads as 0."""
    diff, low, high = _float(diff), _float(low), _float(high)
    if not math.isfinite(diff):
        return "—"
    kpi = lookup(metric)
    scale = 100.0 if kpi is not None and kpi.unit == "fraction" else 1.0
    unit = "pp" if scale == 100.0 else (kpi.axis_unit if kpi is not None else "")
    half = (high - low) / 2 * scale if math.isfinite(low) and math.isfinite(high) else math.nan
    digits = _digits(half) if half > 0 else _digits(diff * scale)
    text = f"{diff * scale:+,.{digits}f}"
    if not any(ch in "123456789" for ch in text):
        text = text[1:]  # a difference that rounds to 0 has no sign
    text += f" {unit}" if unit else ""
    if math.isfinite(low) and math.isfinite(high):
        text += f" ({low * scale:,.{digits}f} to {high * scale:,.{digits}f})"
    return text.replace("-", "−")


def _float(value: Any) -> float:
    try:
        return float(value)
    except (TypeError, ValueError):
        return math.nan


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


def render_table(frame: pd.DataFrame, css_class: str = "kpi", details: str = "metric") -> str:
    """An HTML table of ``frame`` in a box that scrolls by itself (the page does not):
    text left-aligned, numbers right-aligned and formatted; the ``details`` column (raw
    names) in small type."""
    head = "".join(
        f'<th class="{"text" if _is_text_column(frame[c]) else "num"}">{html.escape(str(c))}</th>'
        for c in frame.columns
    )
    body = []
    raw = [str(c) == details for c in frame.columns]
    for row in frame.itertuples(index=False):
        cells = []
        for value, is_raw in zip(row, raw, strict=True):
            text, is_text = _cell(value)
            cls = ("text details" if is_raw else "text") if is_text else "num"
            cells.append(f'<td class="{cls}">{html.escape(text)}</td>')
        body.append("<tr>" + "".join(cells) + "</tr>")
    return (
        f'<div class="scroll"><table class="{css_class}"><thead><tr>{head}</tr></thead>'
        f"<tbody>\n" + "\n".join(body) + "\n</tbody></table></div>"
    )


def _is_text_column(series: pd.Series) -> bool:
    if pd.api.types.is_numeric_dtype(series):
        return False
    return bool(series.map(lambda v: isinstance(v, str)).any())


def plot_title(stem: str, captions: Mapping[str, str] | None = None) -> str:
    """A plot's name for the contents and links: its caption where given, else
    :data:`PLOT_TITLES` or the file name in words."""
    if captions and stem in captions:
        return captions[stem]
    return PLOT_TITLES.get(stem, stem.replace("--", " vs ").replace("_", " "))


def _image_tag(path: Path, caption: str | None = None) -> str:
    mime = {".png": "image/png", ".svg": "image/svg+xml", ".jpg": "image/jpeg"}.get(
        path.suffix.lower(), "application/octet-stream"
    )
    data = base64.b64encode(path.read_bytes()).decode("ascii")
    stem = path.stem
    if caption is None:
        caption = CAPTIONS.get(stem, stem.replace("--", " vs ").replace("_", " "))
    return (
        f'<figure id="plot-{html.escape(stem)}">'
        f'<img src="data:{mime};base64,{data}" alt="{html.escape(caption)}" />'
        f"<figcaption>{html.escape(caption)}</figcaption></figure>"
    )


_SECTION = re.compile(
    r'<section id="([^"]+)">\s*(?:<h2>(.*?)</h2>|<details><summary>(.*?)</summary>)'
)


def _contents(sections: Sequence[tuple[str, str]], figures: Sequence[tuple[str, str]]) -> str:
    """The contents list: each section, the plots listed under theirs."""
    items = []
    for anchor, heading in sections:
        sub = ""
        if anchor == "plots" and figures:
            sub = (
                "<ul>"
                + "".join(
                    f'<li><a href="#plot-{html.escape(stem)}">{html.escape(name)}</a></li>'
                    for stem, name in figures
                )
                + "</ul>"
            )
        items.append(f'<li><a href="#{html.escape(anchor)}">{heading}</a>{sub}</li>')
    return f'<nav id="contents"><strong>Contents</strong><ul>{"".join(items)}</ul></nav>'


def _plots_section(
    images: Sequence[Path],
    more_plots: Sequence[Path],
    captions: Mapping[str, str],
    titles: Mapping[str, str] | None,
) -> str:
    """The plots, embedded, then links to ``more_plots`` (files in ``plots/``)."""
    parts = ['<section id="plots"><h2>Plots</h2>']
    parts.extend(_image_tag(Path(p), captions.get(Path(p).stem)) for p in images)
    if more_plots:
        links = "".join(
            f'<li><a href="plots/{html.escape(p.name)}">'
            f"{html.escape(plot_title(p.stem, titles))}</a></li>"
            for p in more_plots
        )
        parts.append(
            f'<details id="more-plots"><summary>{len(more_plots)} more plots '
            f"(files in plots/)</summary><ul>{links}</ul></details>"
        )
    parts.append("</section>")
    return "".join(parts)


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
    captions: Mapping[str, str] | None = None,
    titles: Mapping[str, str] | None = None,
    more_plots: Sequence[Path] = (),
    after_table: str = "",
) -> str:
    """The report page as a string (see :func:`write_report`): the title, description and
    facts, a contents list, warnings, the plots, the table, then ``extra_html``."""
    captions = dict(captions or {})
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
    sections: list[tuple[str, str]] = []
    body: list[str] = []
    if warnings:
        items = "".join(f"<li>{html.escape(w)}</li>" for w in warnings)
        body.append(
            f'<section id="warnings"><h2>Warnings</h2><ul class="warnings">{items}</ul></section>'
        )
        sections.append(("warnings", f"Warnings ({len(warnings)})"))
    if images or more_plots:
        body.append(_plots_section(images, more_plots, captions, titles))
        sections.append(("plots", "Plots"))
    body.append(f'<section id="kpis"><h2>{html.escape(table_title)}</h2>')
    body.append(render_table(kpi_table))
    if table_note:
        body.append(f'<p class="note">{html.escape(table_note)}</p>')
    if after_table:
        body.append(after_table)
    body.append("</section>")
    sections.append(("kpis", html.escape(table_title)))
    if extra_html:
        body.append(extra_html)
        for anchor, heading, summary in _SECTION.findall(extra_html):
            sections.append((anchor, heading or summary))
    figures = [(Path(p).stem, plot_title(Path(p).stem, titles)) for p in images]
    parts.append(_contents(sections, figures))
    parts.extend(body)
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
    ``table_title``, ``table_note``, ``captions`` and ``titles`` (the contents' names)
    by plot file stem, ``more_plots``
    (plots linked, not embedded: files in ``plots/`` beside the page) and
    ``after_table`` (well-formed HTML inside the table's section)."""
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
