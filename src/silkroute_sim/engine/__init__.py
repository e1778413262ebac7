"""The event loop and its model-facing API (SimPy underneath), pools, named random streams. Knows nothing of rail."""
