"""``python -m silkroute_sim`` is the ``silkroute`` command."""

from silkroute_sim.cli.app import main

if __name__ == "__main__":
    main()
