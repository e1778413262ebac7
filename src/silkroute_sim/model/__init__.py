"""The rail-freight model: hub, corridor, demand, disruptions; ``simulate(config, seed)``
returns a run's records (no file I/O)."""
