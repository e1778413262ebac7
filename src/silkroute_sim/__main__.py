"""``python -m silkroute_sim`` is the ``silkroute`` command."""

from .cli import main

if __name__ == "__main__":
    main()
