"""The files of an optimisation folder, written in place through the output guard.

An optimisation folder is written like a sweep's: in place, each file claimed first (a
file the user put there is never written over) and the completion marker last. Its study,
``study.db``, is an SQLite file that Optuna updates in place as trials finish, so that the
same command resumes an interrupted optimisation; every other file (``trials.csv``,
``candidates.csv``, ``comparisons.csv``, ``best.yaml``, ``plots/``, ``report.html``,
``manifest.json``) is rebuilt whole, atomically, at the end.
"""

from __future__ import annotations

import html
from collections.abc import Sequence
from pathlib import Path
from typing import Any

import pandas as pd

from silkroute_sim.outputs.guard import atomic_write_text
from silkroute_sim.outputs.inplace import claim, disown, replace_plots_in_place
from silkroute_sim.outputs.storage import owned_files, write_csv, write_json

STUDY_FILE = "study.db"
#: SQLite's rollback journal beside the study while a write is in progress
STUDY_FILES = (STUDY_FILE, f"{STUDY_FILE}-journal")


def write_table(folder: Path, name: str, frame: pd.DataFrame) -> Path:
    path = claim(folder, name)
    write_csv(frame, path)
    return path


def write_config(folder: Path, name: str, config: dict[str, Any], header: str) -> Path:
    """A scenario config as YAML, with ``header`` as comment lines at the top."""
    import yaml

    path = claim(folder, name)
    comments = "".join(f"# {line}".rstrip() + "\n" for line in header.splitlines())
    body = yaml.safe_dump(config, sort_keys=False, allow_unicode=True, width=100)
    atomic_write_text(path, comments + body)
    return path


def write_manifest(folder: Path, manifest: dict[str, Any]) -> Path:
    path = claim(folder, "manifest.json")
    write_json(manifest, path)
    return path


def drop_stale(folder: Path, keep: Sequence[str], prefix: str = "best") -> None:
    """Remove silkroute's earlier ``best*.yaml`` that this result does not write."""
    stale = [
        n
        for n in owned_files(folder)
        if n.startswith(prefix) and n.endswith(".yaml") and n not in keep
    ]
    disown(folder, stale)


def replace_plots(
    folder: Path,
    trials: pd.DataFrame,
    objectives: Sequence[str],
    directions: Sequence[str],
    front: Sequence[int],
    axes: Sequence[tuple[str, str]] = (),
) -> list[Path]:
    """Draw the convergence plot (and the Pareto plot with several objectives) into a
    staging folder, then move them into ``plots/``; silkroute's older plots go.
    ``axes``: each objective's label and unit (its name, no unit, when not given)."""
    from silkroute_sim.outputs.plots.optimize import convergence, pareto

    named = list(axes) or [(o, "") for o in objectives]

    def draw(staging: Path) -> list[Path | None]:
        drawn = [
            convergence(trials, objectives[0], directions[0], staging / "convergence.png", named[0])
        ]
        if len(objectives) > 1:
            drawn.append(pareto(trials, objectives, front, staging / "pareto.png", named))
        return drawn

    return replace_plots_in_place(folder, draw)


def answer_html(
    confidence: str, best_file: str | None, notes: Sequence[str], reps: int = 10
) -> str:
    """The answer section of the report: the statement and where the config is."""
    parts = ['<section id="answer"><h2>Checking the answer</h2>']
    if confidence:
        parts.append(f"<p>{html.escape(confidence)}</p>")
    if best_file:
        parts.append(
            f"<p>The configuration is in <code>{html.escape(best_file)}</code>: run it with "
            f"<code>silkroute run {html.escape(best_file)} --reps {reps}</code> to check it "
            "(its seed is the optimiser's: these are the replications that judged it).</p>"
        )
    if notes:
        items = "".join(f"<li>{html.escape(n)}</li>" for n in notes)
        parts.append(f'<ul class="notes">{items}</ul>')
    parts.append("</section>")
    return "".join(parts)


def comparisons_html(comparisons: pd.DataFrame, level: str = "95%") -> str:
    """The comparisons section: ``comparisons`` is the table as people read it (labels
    with units), shown in a box that scrolls by itself like the report's other tables."""
    from silkroute_sim.outputs.report import render_table

    if comparisons.empty:
        return ""
    return (
        '<section id="comparisons"><h2>The winner against each other candidate</h2>'
        "<p>Difference runner-up − winner, paired over common random numbers (the same "
        f"seeds), with its {html.escape(level)} confidence interval; significant when the "
        "interval excludes 0.</p>" + render_table(comparisons) + "</section>"
    )


def write_optimize_report(
    folder: Path,
    title: str,
    description: str,
    candidates: pd.DataFrame,
    extra_html: str,
    images: Sequence[Path],
    meta: dict[str, Any],
) -> Path:
    """``report.html``: the answer, the final candidates, the comparisons and the plots,
    in one self-contained page (images embedded)."""
    from silkroute_sim.outputs.report import write_report

    return write_report(
        folder / "report.html",
        title,
        description,
        candidates,
        images,
        extra_html,
        meta=meta,
        table_title="Final candidates, best first, re-run with more replications",
        table_note="Objective: mean and confidence interval over every replication (reps); "
        "constraints: mean (and the end of its interval nearest the limit), met when the "
        "interval is inside the limit. trials.csv lists every trial, candidates.csv these "
        "with every figure.",
    )
