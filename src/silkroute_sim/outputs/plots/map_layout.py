"""The corridor map's label layout, in plain numbers: where each node's label fits
(:func:`find_spots`), worked out from each name's text extent, measured once
(:func:`label_extent`), without drawing anything. Imported lazily (matplotlib)."""

from __future__ import annotations

import itertools
import math
from collections.abc import Sequence
from typing import Any

#: label offsets tried around a node, in points (right first: the usual reading)
OFFSETS = ((7, -3), (7, 5), (-7, -3), (-7, 5), (0, 9), (0, -13), (9, -11), (-9, -11))


#: a box as plain numbers, (x0, y0, x1, y1) in pixels, x0 <= x1 and y0 <= y1: the layout
#: is worked out on these (``Bbox.overlaps``' test without an array per box)
Extents = tuple[float, float, float, float]


def _overlaps(box: Extents, taken: list[Extents]) -> bool:
    ax0, ay0, ax1, ay1 = box
    return any(
        ax0 <= bx1 and bx0 <= ax1 and ay0 <= by1 and by0 <= ay1 for bx0, by0, bx1, by1 in taken
    )


def _extents(box: Any) -> Extents:
    x0, y0, x1, y1 = (float(v) for v in box.extents)
    return (min(x0, x1), min(y0, y1), max(x0, x1), max(y0, y1))


def _expanded(box: Extents, sw: float, sh: float) -> Extents:
    """``Bbox.expanded`` on plain numbers (the same arithmetic, so the same floats)."""
    x0, y0, x1, y1 = box
    dw = (sw * (x1 - x0) - (x1 - x0)) / 2.0
    dh = (sh * (y1 - y0) - (y1 - y0)) / 2.0
    return (x0 - dw, y0 - dh, x1 + dw, y1 + dh)


#: an arrow's end stops this many pixels short of the node (``FancyArrowPatch``'s default
#: ``shrinkB`` of 2, in pixels until the patch is drawn)
ARROW_SHRINK_PX = 2.0


def label_box(
    extent: tuple[float, float, float, float],
    anchor: tuple[float, float],
    offset_px: tuple[float, float],
    arrow: bool,
) -> Any:
    """The window extent (pixels) of a node label placed ``offset_px`` from the node at
    ``anchor``, worked out from the label's ``extent`` (x0, y0, width, height relative to
    its own position, as laid out left-aligned and centred vertically) instead of asking
    the renderer again: aligned right of the offset where it points right, left of it
    where it points left, centred where straight up or down; with ``arrow``, the leader
    line to the node included (it runs from the label's centre to the node, stopping
    :data:`ARROW_SHRINK_PX` short). What ``Annotation.get_window_extent`` gives for the
    same label (test), without the artists."""
    from matplotlib.transforms import Bbox

    x0, y0, x1, y1 = _label_extents(extent, anchor, offset_px, arrow)
    return Bbox.from_extents(x0, y0, x1, y1)


def _label_extents(
    extent: tuple[float, float, float, float],
    anchor: tuple[float, float],
    offset_px: tuple[float, float],
    arrow: bool,
) -> Extents:
    """:func:`label_box` as plain numbers."""
    x0, y0, width, height = extent
    dx, dy = offset_px
    shift = 0.0 if dx > 0 else width if dx < 0 else width / 2
    left, bottom = anchor[0] + dx + x0 - shift, anchor[1] + dy + y0
    box = (left, bottom, left + width, bottom + height)
    if not arrow:
        return box
    cx, cy = left + width / 2, bottom + height / 2
    gap = math.hypot(cx - anchor[0], cy - anchor[1])
    if gap <= ARROW_SHRINK_PX:
        return box
    ex = anchor[0] + (cx - anchor[0]) * ARROW_SHRINK_PX / gap
    ey = anchor[1] + (cy - anchor[1]) * ARROW_SHRINK_PX / gap
    return (min(box[0], ex), min(box[1], ey), max(box[2], ex), max(box[3], ey))


#: text extents measured, by (name, size, figure dpi, renderer dpi, font): a name's extent
#: depends on nothing else, so every layout and figure reuses it
_EXTENTS: dict[tuple[Any, ...], tuple[float, float, float, float]] = {}


def label_extent(
    fig: Any, renderer: Any, name: str, size: float
) -> tuple[float, float, float, float]:
    """(x0, y0, width, height) in pixels of ``name`` laid out left-aligned and centred
    vertically on its position, relative to that position: one text measured, not drawn
    (once per name, size, resolution and font: kept in :data:`_EXTENTS`)."""
    from matplotlib import rcParams
    from matplotlib.text import Text
    from matplotlib.transforms import IdentityTransform

    font = (tuple(rcParams["font.family"]), tuple(rcParams["font.sans-serif"]))
    key = (name, size, fig.dpi, renderer.dpi, font)
    if key not in _EXTENTS:
        probe = Text(0.0, 0.0, name, fontsize=size, ha="left", va="center")
        probe.set_figure(fig)
        probe.set_transform(IdentityTransform())
        box = probe.get_window_extent(renderer)
        _EXTENTS[key] = (box.x0, box.y0, box.width, box.height)
    return _EXTENTS[key]


#: where a label goes: its node's (lon, lat), its offset in points, with a leader line or not
Spot = tuple[tuple[float, float], float, float, bool]


def find_spots(
    ax: Any,
    names: list[str],
    lon: list[float],
    lat: list[float],
    size: float,
    avoid: Sequence[tuple[float, float]] = (),
    keep_clear: Sequence[Any] = (),
    scales: Sequence[float] = (1.0, 2.4, 3.6),
) -> dict[str, Spot]:
    """Where each label goes, by name, without overprinting: per node the first of
    :data:`OFFSETS` whose text overlaps no label or node marker placed so far (nor the
    markers at ``avoid``, (lon, lat) of nodes left unlabelled here, nor the pixel boxes
    ``keep_clear``) and stays inside the axes; a leader line to a free spot further out
    (:data:`OFFSETS` times each of ``scales`` after the first) where none of them is free.
    A name with no free spot is left out. Worked out in plain numbers, nothing drawn: each
    name is measured once (:func:`label_extent`) and the box of every position tried
    worked out from that (:func:`label_box`); the corridor map draws the layout it keeps
    (``corridor_map.annotate_spots``)."""
    fig = ax.figure
    renderer = fig.canvas.get_renderer()
    to_px = ax.transData
    pt = renderer.points_to_pixels(1.0)
    points = [*zip(lon, lat, strict=True), *avoid]
    spots = [(float(px), float(py)) for px, py in to_px.transform(points)] if points else []
    anchors = spots[: len(names)]
    markers = [(px - 5, py - 5, px + 5, py + 5) for px, py in spots]
    fx0, fy0, fx1, fy1 = _extents(ax.get_window_extent(renderer))
    taken: list[Extents] = [_extents(box) for box in keep_clear]
    found: dict[str, Spot] = {}
    for i, (name, x, y) in enumerate(zip(names, lon, lat, strict=True)):
        anchor = anchors[i]
        others = markers[:i] + markers[i + 1 :]
        extent = label_extent(fig, renderer, name, size)
        for scale, (dx, dy) in itertools.product(scales, OFFSETS):
            offset = (dx * scale * pt, dy * scale * pt)
            box = _expanded(_label_extents(extent, anchor, offset, scale > 1), 1.04, 1.08)
            inside = fx0 <= box[0] <= fx1 and fy0 <= box[1] <= fy1
            inside = inside and fx0 <= box[2] <= fx1 and fy0 <= box[3] <= fy1
            if not inside or _overlaps(box, taken):
                continue
            # the markers: the text keeps clear of them, and so does the leader line
            # (not the whole box round it and the node)
            text = _expanded(_label_extents(extent, anchor, offset, False), 1.04, 1.08)
            if _overlaps(text, others) or (scale > 1 and _leader_hits(text, anchor, others)):
                continue
            centre = ((text[0] + text[2]) / 2, (text[1] + text[3]) / 2)
            nearest = min(range(len(spots)), key=lambda j: math.dist(centre, spots[j]))
            if scale > 1 and nearest != i:  # its text nearer another node: read as that one's
                continue
            found[name] = ((x, y), dx * scale, dy * scale, scale > 1)
            taken.append(box)
            break
    return found


def _leader_hits(text: Extents, anchor: tuple[float, float], markers: list[Extents]) -> bool:
    """Whether the leader line from the label's centre to the node at ``anchor`` crosses
    any of ``markers`` (points along it 2 px apart, up to the node's own marker)."""
    cx, cy = (text[0] + text[2]) / 2, (text[1] + text[3]) / 2
    length = math.hypot(cx - anchor[0], cy - anchor[1])
    steps = max(int(length / 2), 1)
    for k in range(steps + 1):
        t = k / steps
        if length * (1 - t) < 5.5:  # at the node's own marker
            break
        px, py = cx + (anchor[0] - cx) * t, cy + (anchor[1] - cy) * t
        if any(x0 <= px <= x1 and y0 <= py <= y1 for x0, y0, x1, y1 in markers):
            return True
    return False
