"""What ``silkroute verify`` writes: the checks as a table (``verify.csv``), the report
in Markdown (``verify.md``) and HTML (``report.html``, where the report builder is
installed), the manifest, and the short texts of an estimate and a target that the
command line prints."""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import asdict
from pathlib import Path
from typing import TYPE_CHECKING

from silkroute_sim.experiments.verify.checks import (
    CHECK_COLUMNS,
    EXPLAINED,
    FAIL,
    GROUPS,
    PASS,
    Check,
    analytic_family,
)
from silkroute_sim.experiments.verify.estimators import EXACT_REL_TOL
from silkroute_sim.experiments.verify.run import VerifyResult
from silkroute_sim.outputs.report import write_report
from silkroute_sim.outputs.storage import (
    atomic_write_text,
    base_manifest,
    mark_complete,
    write_folder,
    write_json,
)

if TYPE_CHECKING:
    import pandas as pd

#: the heading of each group (:data:`GROUPS`) in the reports
GROUP_TITLES = {
    "analytic": "Analytic verification (queueing theory)",
    "little": "Little's law (monitors vs records)",
    "exact": "Exact checks",
    "published": "Published figures (corridor-facts.md)",
}


def checks_frame(checks: Sequence[Check]) -> pd.DataFrame:
    """The checks as a table, one row each, in the columns of ``verify.csv``."""
    import pandas as pd

    return pd.DataFrame([asdict(c) for c in checks], columns=CHECK_COLUMNS)


def _fmt(value: float) -> str:
    if value is None or not math.isfinite(value):
        return "—"
    if value == 0:
        return "0"
    magnitude = abs(value)
    if magnitude >= 1000:
        return f"{value:,.0f}"
    if magnitude >= 1:
        return f"{value:.3g}" if magnitude < 100 else f"{value:.1f}"
    return f"{value:.3g}"


def estimate_text(check: Check) -> str:
    text = _fmt(check.estimate)
    if math.isfinite(check.ci_low) and check.group in ("analytic", "published"):
        text += f" ({_fmt(check.ci_low)} to {_fmt(check.ci_high)})"
    return text


def target_text(check: Check) -> str:
    if check.group == "published":
        return f"{_fmt(check.target)} ({_fmt(check.low)}–{_fmt(check.high)})"
    if math.isfinite(check.tolerance) and check.tolerance > 0 and check.group == "analytic":
        return f"{_fmt(check.target)} ± {_fmt(check.tolerance)}"
    if check.group == "little" and check.name == "baseline:yard":
        return f"{_fmt(check.low)}–{_fmt(check.high)}"
    return _fmt(check.target)


def report_markdown(result: VerifyResult) -> str:
    """The verification report (Markdown)."""
    counts = result.counts()
    plan = result.plan
    lines = [
        f"# silkroute verify — {plan.name}",
        "",
        f"Seed {result.seed}. **{counts[PASS]} pass, {counts[EXPLAINED]} explained, "
        f"{counts[FAIL]} fail.**",
        "",
        f"Queue cases: {plan.reps} replications each; baseline: {plan.baseline_reps} "
        f"replications of {plan.baseline_days:g} days ({plan.baseline_warmup_days:g} warm-up).",
        "",
        "Analytic checks pass when the estimate lies within the simultaneous 95 % interval "
        f"over the {analytic_family(plan)} analytic checks (Bonferroni on Student-t, from "
        "the replications) and the plain 95 % interval is narrow enough to verify "
        "(the case's precision). Little's-law and exact checks compare two calculations "
        f"that agree by construction (relative {EXACT_REL_TOL:g}). Published-figure checks "
        "pass "
        "when the baseline's mean lies in the band; a miss is *explained* only in the "
        "direction declared beforehand, with its reason.",
        "",
    ]
    for group in GROUPS:
        rows = [c for c in result.checks if c.group == group]
        if not rows:
            continue
        lines += [f"## {GROUP_TITLES[group]}", ""]
        lines += ["| status | check | estimate (95 % CI) | target | unit | n | note |"]
        lines += ["|---|---|---|---|---|---|---|"]
        for c in rows:
            note = c.note.replace("|", "/")
            if c.group == "published":
                note = f"{c.source}. {note}"
            lines.append(
                f"| {c.status} | {c.title} | {estimate_text(c)} | {target_text(c)} | {c.unit} "
                f"| {c.n} | {note} |"
            )
        lines.append("")
    return "\n".join(lines)


def _write_html(result: VerifyResult, folder: Path) -> None:
    """``report.html`` through the project's report builder."""
    import pandas as pd

    table = pd.DataFrame(
        [
            {
                "status": c.status,
                "group": c.group,
                "check": c.title,
                "estimate (95 % CI)": estimate_text(c),
                "target": target_text(c),
                "unit": c.unit,
                "n": c.n,
                "source and note": f"{c.source}. {c.note}" if c.source else c.note,
            }
            for c in result.checks
        ]
    )
    counts = result.counts()
    write_report(
        folder / "report.html",
        f"silkroute verify — {result.plan.name}",
        "The model against queueing theory (closed forms over replications), Little's "
        "law (monitors against records), a deterministic corridor and published figures "
        "(corridor-facts.md).",
        table,
        [],
        meta={
            "seed": result.seed,
            "pass / explained / fail": (f"{counts[PASS]} / {counts[EXPLAINED]} / {counts[FAIL]}"),
            "queue replications": result.plan.reps,
            "baseline replications": result.plan.baseline_reps,
        },  # not when, how long or on how many workers: the same page every time
        table_title="Checks",
        table_note="Analytic checks pass when the estimate lies within the simultaneous "
        f"95 % interval over the {analytic_family(result.plan)} analytic checks (Bonferroni) "
        "and the plain 95 % interval meets the case's precision; published-figure checks when "
        "the baseline's mean lies in the band, a miss being explained only in the "
        "direction declared beforehand.",
    )


def write_verify(result: VerifyResult, out: str | Path, force: bool = False) -> Path:
    """Write ``verify.csv``, ``verify.md``, ``report.html`` and ``manifest.json`` into
    ``out`` atomically."""
    frame = checks_frame(result.checks)

    def fill(folder: Path) -> None:
        atomic_write_text(
            folder / "verify.csv",
            frame.to_csv(index=False, float_format="%.6g", lineterminator="\n"),
        )
        atomic_write_text(folder / "verify.md", report_markdown(result) + "\n")
        _write_html(result, folder)
        files = ["verify.csv", "verify.md", "report.html"]
        manifest = base_manifest()
        manifest.update(
            {
                "kind": "verify",
                "plan": result.plan.name,
                "part": result.part,
                "seed": result.seed,
                "counts": result.counts(),
                "ok": result.ok,
                "cases": [asdict(c) for c in result.plan.cases],
                "reps": result.plan.reps,
                "baseline_reps": result.plan.baseline_reps,
                "baseline_days": result.plan.baseline_days,
                "files": [*files, "manifest.json"],
            }
        )
        write_json(manifest, folder / "manifest.json")
        mark_complete(folder, {"kind": "verify", "plan": result.plan.name, "ok": result.ok})

    return write_folder(Path(out), fill, force=force, kind="verify")
