"""The pages silkroute writes, opened from disk in headless Chromium: the run, comparison,
sweep and optimisation reports and the animation. Each loads with no console error and no request
but its own file (and data: URIs), every image decodes, and at 1,280 px and at 390 px
(a phone) the page does not scroll sideways; the animation's slider moves the trains
and its play button runs the clock."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

#: long end-to-end or statistical tests: left out of ``pytest -m "not slow"``
pytestmark = pytest.mark.slow

WIDTHS = (1280, 390)
KINDS = ("run", "compare", "sweep", "optimize", "animation")


class Opened:
    """A page opened in a fresh tab, with what it logged and fetched."""

    def __init__(self, browser: Any, path: Path, width: int) -> None:
        self.url = path.resolve().as_uri()
        self.context = browser.new_context(viewport={"width": width, "height": 900})
        self.page = self.context.new_page()
        self.errors: list[str] = []
        self.requests: list[str] = []
        self.page.on("console", lambda m: self.errors.append(m.text) if m.type == "error" else None)
        self.page.on("pageerror", lambda e: self.errors.append(str(e)))
        self.page.on("requestfailed", lambda r: self.errors.append(f"failed: {r.url}"))
        self.page.on("request", lambda r: self.requests.append(r.url))
        self.page.goto(self.url, wait_until="load")

    def close(self) -> None:
        self.context.close()


@pytest.fixture
def opened(
    browser: Any, pages: dict[str, Path], request: pytest.FixtureRequest
) -> Iterator[Opened]:
    kind, width = request.param
    page = Opened(browser, pages[kind], width)
    try:
        yield page
    finally:
        page.close()


CASES = [pytest.param((kind, width), id=f"{kind}-{width}px") for kind in KINDS for width in WIDTHS]


@pytest.mark.parametrize("opened", CASES, indirect=True)
def test_page_is_offline_clean_and_fits(opened: Opened, tmp_path: Path) -> None:
    page = opened.page
    page.wait_for_timeout(100)  # let the page's script draw
    assert opened.errors == []
    foreign = [u for u in opened.requests if u != opened.url and not u.startswith("data:")]
    assert foreign == [], "the page fetched something besides itself"
    images = page.evaluate(
        "Array.from(document.images).map(i => [i.currentSrc.slice(0, 60), i.complete, "
        "i.naturalWidth])"
    )
    broken = [src for src, complete, width in images if not complete or width <= 0]
    assert broken == []
    shot = tmp_path / "page.png"
    page.screenshot(path=str(shot), full_page=True)
    assert shot.stat().st_size > 1000
    width = page.viewport_size["width"]
    scroll = page.evaluate("document.scrollingElement.scrollWidth")
    wide = page.evaluate(
        "(w) => Array.from(document.querySelectorAll('body *'))"
        ".filter(e => e.getBoundingClientRect().right > w + 1)"
        ".slice(0, 5).map(e => e.tagName + (e.id ? '#' + e.id : '') + "
        "(e.className && typeof e.className === 'string' ? '.' + e.className : ''))",
        width,
    )
    assert scroll <= width, f"the page scrolls sideways ({scroll} > {width} px): {wide}"


@pytest.mark.parametrize("opened", [("optimize", 1280)], ids=["optimize"], indirect=True)
def test_the_optimisation_tables_show_every_column_on_a_desktop(opened: Opened) -> None:
    """At 1,280 px the final candidates and the comparisons fit their boxes (no column
    hidden behind a scroll bar), with readable headers: labels and units, no raw names."""
    page = opened.page
    boxes = page.evaluate(
        "Array.from(document.querySelectorAll('div.scroll'))"
        ".map(d => [d.clientWidth, d.scrollWidth, d.innerText])"
    )
    assert len(boxes) == 2  # the candidates and the comparisons
    for client, scroll, text in boxes:
        assert scroll <= client, f"a table is cut off ({scroll} > {client} px): {text[:80]}"
    headers = page.evaluate("Array.from(document.querySelectorAll('th')).map(t => t.innerText)")
    text = " ".join(headers)
    for raw in ("yearly_cost", "other_feasible", "hub_dwell_h_p95", "hub.cranes.count"):
        assert raw not in text
    assert "diff" not in headers and "verdict" not in headers
    assert "USD/yr" in text and "no saturation" in text
    facts = page.evaluate(
        "Array.from(document.querySelectorAll('table.meta tr')).map(r => r.innerText)"
    )
    assert facts and all(row.split("\t")[-1].strip() for row in facts)  # no empty row


def _trains(page: Any) -> list[tuple[str, str]]:
    return page.evaluate(
        "Array.from(document.querySelectorAll('#layer-trains circle'))"
        ".filter(c => c.style.display !== 'none')"
        ".map(c => [c.getAttribute('cx'), c.getAttribute('cy')])"
    )


def _slide(page: Any, hour: float) -> None:
    page.evaluate(
        "(h) => { const s = document.getElementById('slider'); s.value = String(h);"
        " s.dispatchEvent(new Event('input', {bubbles: true})); }",
        hour,
    )


@pytest.mark.parametrize("opened", [("animation", 1280)], ids=["animation"], indirect=True)
def test_the_slider_moves_the_trains_and_play_runs_the_clock(opened: Opened) -> None:
    page = opened.page
    _slide(page, 60.0)
    first, clock = _trains(page), page.inner_text("#clock")
    assert first, "no train on the map at hour 60"
    assert clock.startswith("day 2.5")
    _slide(page, 66.0)
    second = _trains(page)
    assert second and second != first
    assert page.inner_text("#clock").startswith("day 2.8")
    _slide(page, 60.0)
    assert _trains(page) == first  # the same hour draws the same picture
    page.select_option("#speed", "24")
    page.click("#play")
    assert page.inner_text("#play") == "Pause"
    page.wait_for_function("Number(document.body.dataset.hour) > 61", timeout=10_000)
    page.click("#play")  # pause
    hour = float(page.evaluate("document.body.dataset.hour"))
    page.wait_for_timeout(200)
    assert float(page.evaluate("document.body.dataset.hour")) == hour  # paused
    assert 61.0 < hour < 60.0 + 24 * 10
    assert page.inner_text("#play") == "Play"
    assert opened.errors == []
