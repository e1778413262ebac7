"""The ``silkroute`` command: thin commands over the Python API.

Exit codes: 0 ok; 2 bad config, bad usage or an output folder we may not touch (one
line on stderr starting ``error:``); 1 anything else.
"""

from __future__ import annotations

import os
import sys
from collections.abc import Callable
from pathlib import Path
from typing import Any, TypeVar

import click

from silkroute_sim._version import __version__
from silkroute_sim.cli.options import replication_options
from silkroute_sim.config.errors import SilkrouteError

F = TypeVar("F", bound=Callable[..., Any])

KPI_ROWS = [
    ("demand_t_per_day", "demand", "{:,.0f} t/day"),
    ("dispatched_t_per_day", "dispatched", "{:,.0f} t/day"),
    ("delivered_t_per_day", "delivered", "{:,.0f} t/day"),
    ("trains_dispatched_per_day", "trains dispatched", "{:.2f} /day"),
    ("train_load_factor_mean", "train load factor", "{:.1%}"),
    ("hub_dwell_h_mean", "hub dwell (mean)", "{:.1f} h"),
    ("hub_dwell_h_p95", "hub dwell (p95)", "{:.1f} h"),
    ("yard_teu_mean", "yard (mean)", "{:,.0f} TEU"),
    ("crane_utilisation", "crane utilisation", "{:.1%}"),
    ("door_to_door_d_median", "door to door (median)", "{:.1f} d"),
    ("backlog_t_end", "backlog at end", "{:,.0f} t"),
    ("conservation_error_t", "conservation error", "{:.6f} t"),
]


def fail(message: str, code: int = 2) -> None:
    click.echo(f"error: {message}", err=True)
    sys.exit(code)


def _progress(enabled: bool, total: float, desc: str) -> Any:
    """A tqdm bar on stderr that appears only for work longer than ~2 s."""
    if not enabled:
        return None
    from tqdm import tqdm

    return tqdm(
        total=total,
        desc=desc,
        unit="day",
        file=sys.stderr,
        delay=2.0,
        dynamic_ncols=True,
        leave=False,
        bar_format="{desc}: {percentage:3.0f}%|{bar}| {n:.0f}/{total:.0f} days "
        "[{elapsed}<{remaining}]",
    )


def print_kpis(values: dict[str, float], title: str) -> None:
    import math

    click.echo(title)
    width = max(len(label) for _, label, _ in KPI_ROWS)
    for key, label, fmt in KPI_ROWS:
        value = values.get(key, math.nan)
        text = (
            "—"
            if value is None or (isinstance(value, float) and math.isnan(value))
            else fmt.format(value)
        )
        click.echo(f"  {label:<{width}}  {text}")


def _one_line(text: str, limit: int = 1000) -> str:
    text = " ".join(text.split())
    return text if len(text) <= limit else text[: limit - 1] + "…"


class SilkrouteGroup(click.Group):
    def main(self, *args: Any, **kwargs: Any) -> Any:  # one-line usage errors, exit 2
        kwargs["standalone_mode"] = False
        try:
            return super().main(*args, **kwargs)
        except click.exceptions.NoArgsIsHelpError as exc:
            click.echo(exc.ctx.get_help() if exc.ctx else str(exc))
            sys.exit(2)
        except click.UsageError as exc:
            hint = f" (see '{exc.ctx.command_path} --help')" if exc.ctx else ""
            fail(f"{exc.format_message()}{hint}")
        except click.exceptions.Abort:
            fail("aborted", 1)
        except click.exceptions.Exit as exc:
            sys.exit(exc.exit_code)
        except click.ClickException as exc:
            fail(exc.format_message(), exc.exit_code)
        except SilkrouteError as exc:
            fail(_one_line(str(exc)))
        except KeyboardInterrupt:
            fail("interrupted", 130)
        except BrokenPipeError:
            sys.exit(1)
        except MemoryError:
            fail(
                "out of memory: a run keeps every shipment and train in memory; shorten "
                "simulation.days or lower the demand (see simulation.max_entities)",
                1,
            )
        except OSError as exc:  # the machine, not the input: disk full, permissions, …
            if os.environ.get("SILKROUTE_DEBUG"):
                raise
            where = f"{exc.filename}: " if exc.filename else ""
            fail(_one_line(f"{where}{exc.strerror or exc}"), 1)
        except Exception as exc:  # an internal error: say so, keep the traceback opt-in
            if os.environ.get("SILKROUTE_DEBUG"):
                raise
            fail(
                _one_line(
                    f"internal error: {type(exc).__name__}: {exc} (set SILKROUTE_DEBUG=1 for "
                    "the traceback and please report it)"
                ),
                1,
            )


def _print_version(ctx: click.Context, _param: click.Parameter, value: bool) -> None:
    if not value or ctx.resilient_parsing:
        return
    from silkroute_sim.buildinfo import build_kind  # also from a source tree

    click.echo(f"silkroute, version {__version__} ({build_kind()})")
    build_notice()
    ctx.exit()


def build_notice(quiet: bool = False) -> None:
    """Say on stderr, once, when this install is the slower pure-Python build although
    it was meant to be compiled (the install could not compile it): before the commands
    that simulate (run, sweep, compare) and with --version."""
    from silkroute_sim.buildinfo import build_note

    note = build_note()
    if note is not None and not quiet:
        click.echo(f"note: {note}", err=True)


@click.group(cls=SilkrouteGroup, context_settings={"help_option_names": ["-h", "--help"]})
@click.option(
    "--version",
    is_flag=True,
    expose_value=False,
    is_eager=True,
    callback=_print_version,
    help="Show the version and the build (pure Python or compiled), then exit.",
)
def cli() -> None:
    """Simulate rail freight through the Urumqi hub to Europe and Central Asia.

    \b
    Daily use:
      silkroute run                      run the built-in baseline (3,600 t/day)
      silkroute run my.yaml --days 120   run a scenario file
      silkroute validate my.yaml         check a scenario without running it

    Results go to results/<scenario-name>/ (CSV files, manifest.json, plots/).
    """


def _config_options(func: F) -> F:
    options = [
        click.option(
            "--set",
            "overrides",
            multiple=True,
            metavar="KEY=VALUE",
            help="Override a config value by dotted path, e.g. "
            "--set hub.cranes.count=4 (repeatable; values are YAML).",
        ),
        click.option(
            "--seed",
            type=int,
            default=None,
            help="Random seed (default: simulation.seed in the config).",
        ),
        click.option(
            "--warmup-days",
            type=float,
            default=None,
            help="Days cut before any KPI (default: simulation.warmup_days).",
        ),
        click.option(
            "--days",
            type=float,
            default=None,
            help="Simulated days including warm-up (default: simulation.days).",
        ),
    ]
    for option in options:
        func = option(func)
    return func


@cli.command()
@click.argument("config", required=False, metavar="[CONFIG]")
@_config_options
@click.option(
    "--out",
    type=click.Path(file_okay=False, path_type=Path),
    default=None,
    help="Result folder (default: results/<scenario-name>).",
)
@click.option("--no-plots", is_flag=True, help="Skip the PNG plots (faster).")
@click.option(
    "--force",
    is_flag=True,
    help="Write into an existing --out folder that silkroute did not create "
    "(only silkroute's own files are replaced).",
)
@click.option("--quiet", "-q", is_flag=True, help="No progress bar and no KPI table.")
@replication_options(
    "Replications: run seeds SEED … SEED+N-1; each goes to OUT/rep-<seed>/ and "
    "summary.csv gets mean, ci_low, ci_high, n per KPI."
)
def run(
    config: str | None,
    overrides: tuple[str, ...],
    seed: int | None,
    warmup_days: float | None,
    days: float | None,
    out: Path | None,
    no_plots: bool,
    force: bool,
    quiet: bool,
    reps: int | None,
    workers: int,
    ci: float,
) -> None:
    """Run one scenario and write its result folder.

    CONFIG is a YAML file or the name of a built-in scenario (default: baseline).
    The folder gets summary.csv, daily.csv, trains.csv, shipments.csv, node_events.csv,
    manifest.json, plots/*.png and report.html; it appears only when complete. With
    --reps N, OUT/rep-<seed>/ holds each replication and OUT the combined summary.csv
    (with confidence intervals), replications.csv, manifest.json and report.html.
    """
    from silkroute_sim.config.loader import load_config
    from silkroute_sim.outputs.storage import check_output_target

    cfg = load_config(config, overrides, days=days, warmup_days=warmup_days, seed=seed)
    target = out if out is not None else Path("results") / cfg.name
    check_output_target(target, force)  # refuse before spending minutes on the run
    build_notice(quiet)
    if reps is not None:
        from silkroute_sim.cli.compare import run_replications_command

        plots = not no_plots and cfg.outputs.plots
        run_replications_command(cfg, target, reps, workers, ci, plots, force, quiet)
        return
    from silkroute_sim.model.simulate import simulate

    bar = _progress(not quiet, cfg.simulation.days, cfg.name)

    def tick(day: float, total: float) -> None:
        if bar is not None:
            bar.n = day
            bar.refresh() if bar.n >= total or int(day) % 5 == 0 else None

    result = simulate(cfg, progress=tick if bar is not None else None)
    if bar is not None:
        bar.close()
    from silkroute_sim.analysis.tables import kpis
    from silkroute_sim.outputs.run_folder import write_run

    folder, tables, warnings = write_run(
        result, target, plots=not no_plots and cfg.outputs.plots, force=force
    )
    for warning in warnings:
        click.echo(f"warning: {warning}", err=True)
    if not quiet:
        print_kpis(
            kpis(tables.summary),
            f"{cfg.name}: {cfg.simulation.days:g} days "
            f"({cfg.simulation.warmup_days:g} warm-up), seed {result.seed}, "
            f"{result.wall_s:.1f} s",
        )
        click.echo(f"results: {folder}")


@cli.command()
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

    Prints 'ok' or one 'error:' line naming the file, key path, value and what is allowed.
    """
    from silkroute_sim.config.loader import load_config

    cfg = load_config(config, overrides)
    click.echo(f"ok: {cfg.name} (config hash {cfg.config_hash()})")


#: modules that add commands: each defines ``register(group: click.Group) -> None`` and keeps
#: its heavy imports inside the command functions (``silkroute --help`` must stay fast)
COMMAND_MODULES: tuple[str, ...] = ("compare", "sweep", "verify")


def _register_commands() -> None:
    import importlib

    for name in COMMAND_MODULES:
        importlib.import_module(f"silkroute_sim.cli.{name}").register(cli)


_register_commands()


def main() -> None:
    cli.main(prog_name="silkroute")


if __name__ == "__main__":
    main()
