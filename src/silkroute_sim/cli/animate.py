"""``silkroute animate``: the trains of a finished run moving on the corridor map."""

from __future__ import annotations

from pathlib import Path

import click

from silkroute_sim.cli.common import fail


@click.command("animate")
@click.argument("folder", type=click.Path(file_okay=False, path_type=Path))
@click.option(
    "--out",
    type=click.Path(dir_okay=False, path_type=Path),
    default=None,
    help="Where to write it: FILE.html (default: FOLDER/animation.html) or FILE.mp4 "
    "(needs ffmpeg).",
)
def animate(folder: Path, out: Path | None) -> None:
    """Animate a finished run: trains moving on the corridor map, the queues at the border
    crossings and the hub's yard level, with a time slider, play/pause and speed.

    \b
    The HTML page is self-contained: it opens from disk in any browser, with no server
    and no network. With --out FILE.mp4 it renders a video instead, where ffmpeg is
    installed.
    """
    from silkroute_sim.outputs.animation import (
        AnimationError,
        missing_line,
        write_animation,
    )
    from silkroute_sim.outputs.animation_video import ffmpeg_missing, write_video

    suffix = out.suffix.lower() if out is not None else ".html"
    if suffix not in (".html", ".htm", ".mp4"):
        fail(f"--out: {out}: must end in .html or .mp4")
    if out is not None and out.is_dir():
        fail(f"--out: {out}: is a folder; name a file, e.g. {out / 'animation.html'}")
    if out is not None and not out.parent.is_dir():
        fail(f"--out: {out.parent}: no such folder")
    try:
        if suffix == ".mp4":
            reason = ffmpeg_missing()
            if reason:
                fail(reason)
            assert out is not None
            path, anim = write_video(folder, out)
        else:
            path, anim = write_animation(folder, out)
    except AnimationError as exc:
        fail(str(exc))
    note = missing_line(folder, anim.missing)
    if note:
        click.echo(f"note: {note}", err=True)
    size = path.stat().st_size / 1e6
    click.echo(f"animation: {path} ({anim.trains:,} trains, {size:.1f} MB)")
