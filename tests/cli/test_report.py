"""report.html: one valid, self-contained page with contents, every plot before the tables,
readable names and one way of writing a confidence interval."""

from __future__ import annotations

import base64
import re
import subprocess
import sys
import xml.etree.ElementTree as ET
from html.parser import HTMLParser
from pathlib import Path

import matplotlib
import pandas as pd
import pytest

from silkroute_sim.analysis.kpis import HEADLINE, label
from silkroute_sim.experiments.compare import compare_results
from silkroute_sim.outputs.comparison_folder import write_comparison_of_results
from silkroute_sim.outputs.replications_folder import load_replications
from silkroute_sim.outputs.report import ci_text, kpi_text, write_report

#: long end-to-end or statistical tests: left out of ``pytest -m "not slow"``
pytestmark = pytest.mark.slow

matplotlib.use("Agg")

REPO = Path(__file__).resolve().parents[2]
BASELINE = REPO / "configs" / "baseline.yaml"
VOID = {"meta", "img", "br", "hr", "link", "input", "col", "source", "wbr"}
PNG_MAGIC = b"\x89PNG\r\n\x1a\n"


class StrictHTML(HTMLParser):
    """Checks that every non-void element is closed in order, and collects what a
    browser would fetch (src/href) and the embedded images."""

    def __init__(self) -> None:
        super().__init__(convert_charrefs=True)
        self.stack: list[str] = []
        self.errors: list[str] = []
        self.fetches: list[str] = []
        self.images: list[str] = []
        self.doctype = ""

    def handle_decl(self, decl: str) -> None:
        self.doctype = decl

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        values = dict(attrs)
        for key in ("src", "href"):
            if values.get(key):
                self.fetches.append(str(values[key]))
        if tag == "img":
            self.images.append(str(values.get("src", "")))
        if tag not in VOID:
            self.stack.append(tag)

    def handle_startendtag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        self.handle_starttag(tag, attrs)
        if tag not in VOID:
            self.stack.pop()

    def handle_endtag(self, tag: str) -> None:
        if not self.stack or self.stack[-1] != tag:
            self.errors.append(f"unexpected </{tag}> (open: {self.stack[-3:]})")
        else:
            self.stack.pop()


def check_page(path: Path) -> tuple[ET.Element, StrictHTML]:
    """Parse the page both as HTML (balanced tags) and as XML (well-formed)."""
    text = path.read_text(encoding="utf-8")
    parser = StrictHTML()
    parser.feed(text)
    parser.close()
    assert parser.doctype.lower() == "doctype html"
    assert parser.errors == [] and parser.stack == []
    root = ET.fromstring(text)  # raises on anything not well-formed
    assert root.tag == "html"
    assert root.find("head/meta[@charset='utf-8']") is not None
    assert (root.findtext("head/title") or "").strip()
    # self-contained: the only things a browser would load are embedded data or local links
    for url in parser.fetches:
        assert url.startswith("data:") or not any(
            url.startswith(p) for p in ("http:", "https:", "//", "file:", "/")
        ), url
    return root, parser


def embedded_pngs(parser: StrictHTML) -> list[bytes]:
    out = []
    for src in parser.images:
        assert src.startswith("data:image/png;base64,")
        out.append(base64.b64decode(src.split(",", 1)[1], validate=True))
    return out


def kpi_rows(root: ET.Element, path: str = "div/table") -> list[list[str]]:
    """The rows of the page's key table (``path`` under its section: the headline table,
    or ``details/div/table`` for every indicator)."""
    table = root.find(f".//section[@id='kpis']/{path}")
    assert table is not None
    return [[(td.text or "") for td in tr.findall("td")] for tr in table.findall("tbody/tr")]


#: the one way a report writes an interval: value, then (low to high)
CI = re.compile(r"^[^()\[\]]+ \(−?[\d,.]+%? to −?[\d,.]+%?\)( \*)?$")


def check_structure(root: ET.Element) -> None:
    """Contents that lead somewhere, plots before tables, every table in its own scroll
    box, and no interval written as ``[a, b]``."""
    nav = root.find(".//nav[@id='contents']")
    assert nav is not None
    ids = {el.get("id") for el in root.iter() if el.get("id")}
    targets = [str(a.get("href"))[1:] for a in nav.iter("a")]
    assert targets and set(targets) <= ids
    sections = [s.get("id") for s in root.iter("section")]
    if "plots" in sections:
        assert sections.index("plots") < sections.index("kpis")
    for parent in root.iter():
        for child in parent:
            if child.tag == "table" and "meta" not in str(child.get("class")):
                assert parent.tag == "div" and parent.get("class") == "scroll"
    cells = [td.text or "" for td in root.iter("td")]
    assert not any(re.search(r"\[[−\d]", c) for c in cells)
    intervals = [c for c in cells if re.search(r"\([−\d][^()]* to [^()]*\)", c)]
    assert all(CI.match(c) for c in intervals), [c for c in intervals if not CI.match(c)][:3]


@pytest.fixture(scope="module")
def folders(tmp_path_factory) -> dict[str, Path]:
    """A 2-replication run of the baseline with plots (15 days); its first replication is a
    complete single-run folder, written as `silkroute run` writes one."""
    root = tmp_path_factory.mktemp("report")
    args = ["run", str(BASELINE), "--days", "15", "--warmup-days", "5", "-q", "--reps", "2"]
    proc = subprocess.run(
        [sys.executable, "-m", "silkroute_sim", *args, "--workers", "2", "--out", str(root / "r")],
        capture_output=True,
        text=True,
        timeout=600,
    )
    assert proc.returncode == 0, proc.stderr
    return {"reps": root / "r", "single": root / "r" / "rep-20180101"}


def test_run_report_is_valid_and_has_every_plot_and_kpi(folders) -> None:
    folder = folders["single"]
    root, parser = check_page(folder / "report.html")
    plots = sorted((folder / "plots").glob("*.png"))
    assert len(plots) >= 7
    pngs = embedded_pngs(parser)
    assert sorted(pngs) == sorted(p.read_bytes() for p in plots)  # each plot, byte for byte
    assert all(png.startswith(PNG_MAGIC) for png in pngs)
    figures = root.findall(".//figure")
    assert {f.get("id") for f in figures} == {f"plot-{p.stem}" for p in plots}
    assert all((f.findtext("figcaption") or "").strip() for f in figures)
    check_structure(root)
    summary = pd.read_csv(folder / "summary.csv")
    rows = kpi_rows(root, "details/div/table")
    assert [r[-1] for r in rows] == list(summary["metric"])  # raw names in the last column
    assert [r[0] for r in rows] == [label(m) for m in summary["metric"]]
    dwell = summary.set_index("metric").loc["hub_dwell_h_mean", "value"]
    assert {r[-1]: r[1] for r in rows}["hub_dwell_h_mean"] == kpi_text("hub_dwell_h_mean", dwell)
    assert [r[-1] for r in kpi_rows(root)] == [m for m in HEADLINE if m in set(summary["metric"])]
    text = (folder / "report.html").read_text(encoding="utf-8")
    assert "Urumqi international land port" in text  # the scenario description


def test_replication_report_has_intervals_plots_and_links(folders) -> None:
    folder = folders["reps"]
    root, parser = check_page(folder / "report.html")
    plots = sorted((folder / "plots").glob("*.png"))
    assert {p.stem for p in plots} >= {"throughput_reps", "door_to_door_ecdf", "border_waits"}
    assert sorted(embedded_pngs(parser)) == sorted(p.read_bytes() for p in plots)
    check_structure(root)
    header = [th.text for th in root.findall(".//section[@id='kpis']/div/table/thead/tr/th")]
    assert header == ["indicator", "mean (95% CI)", "n", "metric"]
    summary = pd.read_csv(folder / "summary.csv").set_index("metric")
    rows = kpi_rows(root, "details/div/table")
    assert [r[-1] for r in rows] == list(summary.index)
    dwell = summary.loc["hub_dwell_h_mean"]
    assert {r[-1]: r[1] for r in rows}["hub_dwell_h_mean"] == ci_text(
        "hub_dwell_h_mean", dwell["mean"], dwell["ci_low"], dwell["ci_high"]
    )
    assert " to " in {r[-1]: r[1] for r in rows}["hub_dwell_h_mean"]
    links = [a.get("href") for a in root.findall(".//section[@id='replications']//a")]
    assert links == [f"rep-{s}/report.html" for s in (20180101, 20180102)]
    for link in links:
        assert (folder / str(link)).is_file()
        check_page(folder / str(link))


def test_comparison_report_and_regeneration(folders, tmp_path) -> None:
    results = [load_replications(folders["reps"]), load_replications(folders["single"])]
    results[1].name = "single"
    comparison = compare_results(results)
    folder = write_comparison_of_results(comparison, tmp_path / "cmp")
    page = folder / "report.html"
    root, parser = check_page(page)
    plots = sorted((folder / "plots").glob("*.png"))
    assert {p.stem for p in plots} == {
        "differences",
        "per_replication",
        "throughput",
        "door_to_door_ecdf",
        "border_waits",
    }
    assert sorted(embedded_pngs(parser)) == sorted(p.read_bytes() for p in plots)
    check_structure(root)
    header = [th.text for th in root.findall(".//section[@id='kpis']/div/table/thead/tr/th")]
    assert header == ["indicator", "baseline", "single", "Δ single", "metric"]
    full = root.find(".//section[@id='full-table']/details/div/table")
    assert full is not None and len(full.findall("tbody/tr")) == len(comparison.table)
    # `silkroute report` rebuilds the same page from the folder's files
    before = page.read_bytes()
    page.unlink()
    proc = subprocess.run(
        [sys.executable, "-m", "silkroute_sim", "report", str(folder)],
        capture_output=True,
        text=True,
        timeout=300,
    )
    assert proc.returncode == 0, proc.stderr
    assert page.read_bytes() == before


def test_report_command_on_a_foreign_folder_is_a_one_line_error(tmp_path) -> None:
    proc = subprocess.run(
        [sys.executable, "-m", "silkroute_sim", "report", str(tmp_path)],
        capture_output=True,
        text=True,
        timeout=300,
    )
    assert proc.returncode == 2
    assert proc.stderr.startswith("error:") and len(proc.stderr.strip().splitlines()) == 1


def test_write_report_escapes_text_and_embeds_images(tmp_path) -> None:
    import matplotlib.pyplot as plt

    fig, ax = plt.subplots()
    ax.plot([0, 1], [1, 0])
    image = tmp_path / "line.png"
    fig.savefig(image)
    plt.close(fig)
    table = pd.DataFrame(
        {
            "metric": ["a<b", "c & d"],
            "value": [1234.5678, float("nan")],
            "ok": pd.array([True, None], dtype="boolean"),
        }
    )
    page = write_report(
        tmp_path / "r.html",
        "Title <script>alert(1)</script>",
        "A & B",
        table,
        [image],
        '<section id="extra"><p>more</p></section>',
        meta={"seed": 7},
        warnings=["careful <here>"],
    )
    root, parser = check_page(page)
    assert root.findtext("head/title") == "Title <script>alert(1)</script>"
    assert root.find(".//script") is None
    assert embedded_pngs(parser) == [image.read_bytes()]
    assert kpi_rows(root) == [["a<b", "1,235", "yes"], ["c & d", "—", "—"]]
    check_structure(root)
    assert root.find(".//section[@id='extra']") is not None
    assert root.find(".//section[@id='warnings']//li").text == "careful <here>"


def test_report_command_rebuilds_a_sweep_report(tmp_path: Path) -> None:
    """`silkroute report SWEEP_FOLDER` rebuilds the sweep's report.html from its files."""
    spec = tmp_path / "spec.yaml"
    spec.write_text(
        "base: baseline\nset:\n  simulation.days: 6\n  simulation.warmup_days: 1\n"
        "parameters:\n  hub.cranes.count: [3, 4]\ndesign: grid\nreps: 1\nseed: 5\n",
        encoding="utf-8",
    )
    out = tmp_path / "sweep"
    cmd = [sys.executable, "-m", "silkroute_sim"]
    done = subprocess.run(
        [*cmd, "sweep", str(spec), "--out", str(out), "--workers", "1"],
        capture_output=True,
        text=True,
        timeout=300,
    )
    assert done.returncode == 0, done.stderr
    (out / "report.html").unlink()
    done = subprocess.run([*cmd, "report", str(out)], capture_output=True, text=True, timeout=300)
    assert done.returncode == 0, done.stderr
    html = (out / "report.html").read_text(encoding="utf-8")
    assert html.lstrip().lower().startswith("<!doctype html")
    assert "hub.cranes.count" in html  # the raw path, in the sweep's facts
    root, _ = check_page(out / "report.html")
    check_structure(root)
    header = [th.text for th in root.findall(".//section[@id='kpis']/div/table/thead/tr/th")]
    assert "Gantry cranes" in header and "Hub dwell (mean) (h)" in header
