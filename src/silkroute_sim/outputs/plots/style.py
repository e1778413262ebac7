"""The one look of every figure: the colour-blind-safe palette (Okabe & Ito, *Color
Universal Design*, 2008), matplotlib's settings, and saving a figure byte for byte the same
for the same data. Every module of :mod:`silkroute_sim.outputs.plots` takes its colours from
here. Imported lazily (matplotlib loads in :func:`pyplot`).
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

DPI = 130

#: Okabe–Ito, in the order series are drawn (yellow last: it is faint on white)
BLUE = "#0072B2"
VERMILLION = "#D55E00"
GREEN = "#009E73"
ORANGE = "#E69F00"
PURPLE = "#CC79A7"
SKY = "#56B4E9"
YELLOW = "#F0E442"
BLACK = "#000000"
GREY = "#7F7F7F"
COLORS = [BLUE, VERMILLION, GREEN, ORANGE, PURPLE, SKY, BLACK, YELLOW]

#: a light tint of the palette's blue, for filled boxes
TINT = "#CCE3F0"
#: a difference between scenarios: better, worse, neither (not significant, or no
#: preferred direction)
BETTER = BLUE
WORSE = VERMILLION
NOT_SIGNIFICANT = GREY
#: sequential colour maps that read in grey and for the common colour-vision deficiencies
SEQUENTIAL = "viridis"
WAITS = "YlOrRd"
#: land and borders of the map
LAND = "#F2EFE6"
SEA = "#E3EEF6"
BORDER = "#A8A294"


def color(i: int) -> str:
    """The ``i``-th colour of the palette (cycling)."""
    return COLORS[i % len(COLORS)]


def pyplot() -> Any:
    """matplotlib.pyplot on the Agg backend with the project's settings."""
    import matplotlib
    from cycler import cycler

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    plt.rcParams.update(
        {
            "figure.figsize": (9, 4.8),
            "axes.grid": True,
            "grid.alpha": 0.3,
            "axes.spines.top": False,
            "axes.spines.right": False,
            "axes.prop_cycle": cycler(color=COLORS),
            "font.size": 10,
            "axes.titlesize": 12,
            "axes.titleweight": "bold",
            "svg.hashsalt": "silkroute",
        }
    )
    return plt


#: zlib level of the PNGs: 3 writes them in about two thirds of the time of PIL's
#: default 6 and, written as RGB, smaller than matplotlib's RGBA at 6
PNG_COMPRESS_LEVEL = 3


def save(fig: Any, path: Path, rect: tuple[float, float, float, float] | None = None) -> Path:
    """Write ``fig`` as a PNG (no timestamp in it) and close it; ``rect``: the part of the
    figure the axes are laid out in (room for a figure legend or title outside it).

    The figure is laid out at the resolution it is written at, so the layout and the draw
    share one renderer and the text measured for the one is not measured again for the
    other (the layout in inches is the same at any resolution). It is then drawn once
    (``tight_layout`` leaves a placeholder layout engine on the figure, and ``savefig``
    would draw a figure with any layout engine twice) and the pixels written by PIL: RGB
    where every pixel is opaque (the figures are, on white), at
    :data:`PNG_COMPRESS_LEVEL`, with the resolution and no other metadata."""
    import numpy as np
    from matplotlib.backends.backend_agg import FigureCanvasAgg
    from PIL import Image

    fig.set_dpi(DPI)
    fig.tight_layout(rect=rect)
    fig.set_layout_engine(None)
    canvas = fig.canvas if isinstance(fig.canvas, FigureCanvasAgg) else FigureCanvasAgg(fig)
    canvas.draw()
    rgba = np.asarray(canvas.buffer_rgba())
    pixels = rgba[..., :3] if bool((rgba[..., 3] == 255).all()) else rgba
    Image.fromarray(np.ascontiguousarray(pixels)).save(
        path, format="png", compress_level=PNG_COMPRESS_LEVEL, dpi=(DPI, DPI)
    )
    import matplotlib.pyplot as plt

    plt.close(fig)
    return path
