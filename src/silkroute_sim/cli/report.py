"""``silkroute report``: rebuild report.html of a finished result folder."""

from __future__ import annotations

from pathlib import Path

import click

from silkroute_sim.cli.common import fail


@click.command("report")
@click.argument("folder", type=click.Path(file_okay=False, path_type=Path))
@click.option(
    "--out",
    type=click.Path(dir_okay=False, path_type=Path),
    default=None,
    help="Where to write the page (default: FOLDER/report.html).",
)
def report(folder: Path, out: Path | None) -> None:
    """Write report.html for a finished run, replication, comparison or sweep folder.

    One self-contained page (plots embedded): the scenario description, a contents list,
    the plots in FOLDER/plots (a sweep's curated few, the rest linked), then the key
    indicators (with confidence intervals where there are replications) and every
    indicator. It opens in any browser with no server and no network.
    """
    from silkroute_sim.outputs.folder_report import folder_report
    from silkroute_sim.outputs.storage import folder_kind

    if not folder.is_dir():
        fail(f"{folder}: no such folder")
    if folder_kind(folder) is None:
        fail(f"{folder}: not a complete silkroute result folder")
    path = folder_report(folder, out)
    click.echo(f"report: {path}")
