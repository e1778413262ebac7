"""``silkroute validate``: check a scenario without running it."""

from __future__ import annotations

import click


@click.command()
@click.argument("config", required=False, metavar="[CONFIG]")
@click.option(
    "--set",
    "overrides",
    multiple=True,
    metavar="KEY=VALUE",
    help="Apply overrides before validating (as for run).",
)
def validate(config: str | None, overrides: tuple[str, ...]) -> None:
    """Check a scenario file (schema, units, references, corridor graph) without running.

    CONFIG is a YAML file or the name of a packaged scenario (baseline, khorgos-closed-7d,
    …; default: baseline). Prints 'ok' or one 'error:' line naming the file (or the --set
    option), key path, value and what is allowed; an unknown name lists the packaged ones.
    """
    from silkroute_sim.config.loader import load_config

    cfg = load_config(config, overrides)
    click.echo(f"ok: {cfg.name} (config hash {cfg.config_hash()})")
