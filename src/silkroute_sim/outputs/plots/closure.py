"""The closure figure of one run (``plots/closure.png``, drawn only when the run has a
closure): trains held at each node over time (spill-back from the closed crossing back
towards the hub), the trains held at the hub, and the hub's yard level, with each
closure window shaded.

Imported lazily, like :mod:`silkroute_sim.outputs.plots.run`.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np

from silkroute_sim.analysis.holding import held_monitors
from silkroute_sim.model.simulate import RunResult
from silkroute_sim.outputs.plots.style import COLORS, color, pyplot, save

#: nodes drawn one by one (those holding the most trains at once); the rest summed
MAX_NODES = 7


def has_closures(result: RunResult) -> bool:
    """Whether the run closed anything (a scheduled or weather window with effect close)."""
    log = result.disruptions
    return log is not None and any(
        w.effect == "close" and w.kind != "breakdown" and w.start_h < result.end_h
        for w in log.windows
    )


def closure_plot(result: RunResult, path: Path) -> Path:
    """Trains held by node and at the hub over time (top), the yard level (bottom)."""
    plt = pyplot()
    fig, (ax, ay) = plt.subplots(2, 1, sharex=True, figsize=(9, 6.5), height_ratios=(3, 2))
    log = result.disruptions
    windows = [
        w
        for w in (log.windows if log is not None else [])
        if w.effect == "close" and w.kind != "breakdown" and w.start_h < result.end_h
    ]
    for k, w in enumerate(windows):
        for axis in (ax, ay):
            axis.axvspan(
                w.start_h / 24,
                min(w.end_h, result.end_h) / 24,
                color=COLORS[1],
                alpha=0.15,
                lw=0,
                label=f"closed: {w.target}" if (k == 0 and axis is ax) else None,
            )
    hub = result.config.hub.node
    monitors = held_monitors(result)
    peaks = {name: float(mon.arrays()[1].max()) for name, mon in monitors.items()}
    ranked = sorted((n for n, v in peaks.items() if v > 0 and n != hub), key=lambda n: -peaks[n])
    shown = ranked[:MAX_NODES]
    for i, name in enumerate(shown):
        times, levels = monitors[name].arrays()
        ax.step(times / 24, levels, where="post", lw=1.2, color=color(i + 2), label=name)
    rest = ranked[MAX_NODES:]
    if rest:
        grid = np.unique(np.concatenate([monitors[n].arrays()[0] for n in rest]))
        total = np.zeros_like(grid)
        for name in rest:
            times, levels = monitors[name].arrays()
            idx = np.searchsorted(times, grid, side="right") - 1
            total += np.where(idx < 0, 0.0, levels[np.clip(idx, 0, len(levels) - 1)])
        ax.step(grid / 24, total, where="post", lw=1, color="0.5", label="other nodes")
    if hub in monitors and peaks.get(hub, 0) > 0:
        times, levels = monitors[hub].arrays()
        ax.step(
            times / 24, levels, where="post", lw=1.8, ls="--", color=COLORS[0], label=f"{hub} (hub)"
        )
    ax.set(title=f"Trains held by the closure — {result.config.name}", ylabel="trains held")
    ax.set_ylim(bottom=0)
    ax.legend(loc="upper right", fontsize=7, ncol=2)
    times, levels = result.records.monitors["yard_teu"].arrays()
    ay.step(times / 24, levels, where="post", color=COLORS[0], lw=0.8, label="yard occupancy")
    cap = result.config.hub.yard.capacity_teu
    ay.axhline(cap, color=COLORS[1], lw=1.2, ls="--", label=f"capacity {cap:,.0f} TEU")
    ay.set(xlabel="simulated day", ylabel="TEU in the hub's yard")
    ay.set_xlim(0, result.end_h / 24)
    ay.set_ylim(0, cap * 1.08)
    ay.legend(loc="upper right", fontsize=7)
    return save(fig, path)
