"""The ``silkroute`` command: the click group, ``--version`` and the commands.

Each command lives in a module of its own (run, validate, compare, report, sweep, verify)
that imports :mod:`silkroute_sim.cli.common` and the layers below; this module imports the
command modules, never the other way round. The command modules import the simulation
layers inside their command functions: those pull in pandas, pydantic and numpy (about a
second), which ``silkroute --help`` does not need.

Exit codes: 0 ok; 2 bad config, bad usage or an output folder we may not touch (one
line on stderr starting ``error:``); 128 + the signal when stopped (130 Ctrl-C, 143
SIGTERM, 129 SIGHUP), after the worker processes are stopped; 1 anything else.
"""

from __future__ import annotations

import os
import sys
from typing import Any

import click

from silkroute_sim._version import __version__
from silkroute_sim.buildinfo import build_kind
from silkroute_sim.cli import animate, compare, optimize, report, run, sweep, validate, verify
from silkroute_sim.cli.common import (
    build_notice,
    fail,
    map_large_blocks,
    one_line,
    stop_message,
    stop_on_signals,
)
from silkroute_sim.config.errors import SilkrouteError


class SilkrouteGroup(click.Group):
    def invoke(self, ctx: click.Context) -> Any:
        # before click turns Ctrl-C into Abort ("aborted", exit 1, after a blank line)
        try:
            return super().invoke(ctx)
        except KeyboardInterrupt as exc:
            message, code = stop_message(exc)
            fail(message, code)

    def main(self, *args: Any, **kwargs: Any) -> Any:
        with stop_on_signals():
            return self._main(*args, **kwargs)

    def _main(self, *args: Any, **kwargs: Any) -> Any:  # one-line usage errors, exit 2
        kwargs["standalone_mode"] = False
        try:
            return super().main(*args, **kwargs)
        except click.exceptions.NoArgsIsHelpError as exc:
            click.echo(exc.ctx.get_help() if exc.ctx else str(exc))
            sys.exit(2)
        except click.UsageError as exc:
            hint = f" (see '{exc.ctx.command_path} --help')" if exc.ctx else ""
            fail(f"{exc.format_message()}{hint}")
        except click.exceptions.Abort as exc:
            if isinstance(exc.__cause__, KeyboardInterrupt):  # Ctrl-C while click parsed
                message, code = stop_message(exc.__cause__)
                fail(message, code)
            fail("aborted", 1)
        except click.exceptions.Exit as exc:
            sys.exit(exc.exit_code)
        except click.ClickException as exc:
            fail(exc.format_message(), exc.exit_code)
        except SilkrouteError as exc:
            fail(one_line(str(exc)))
        except KeyboardInterrupt as exc:  # while parsing, before any command runs
            message, code = stop_message(exc)
            fail(message, code)
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
            fail(one_line(f"{where}{exc.strerror or exc}"), 1)
        except Exception as exc:  # an internal error: say so, keep the traceback opt-in
            if os.environ.get("SILKROUTE_DEBUG"):
                raise
            fail(
                one_line(
                    f"internal error: {type(exc).__name__}: {exc} (set SILKROUTE_DEBUG=1 for "
                    "the traceback and please report it)"
                ),
                1,
            )


def _print_version(ctx: click.Context, _param: click.Parameter, value: bool) -> None:
    if not value or ctx.resilient_parsing:
        return
    click.echo(f"silkroute, version {__version__} ({build_kind()})")
    build_notice()
    ctx.exit()


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


for _command in (
    run.run,
    validate.validate,
    compare.compare,
    report.report,
    sweep.sweep,
    verify.verify,
    animate.animate,
    optimize.optimize,
):
    cli.add_command(_command)


def main() -> None:
    map_large_blocks()
    cli.main(prog_name="silkroute")


if __name__ == "__main__":
    main()
