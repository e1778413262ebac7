"""The rail-freight model: hub, corridor, demand, disruptions; ``simulate(config, seed)`` (no file I/O)."""
