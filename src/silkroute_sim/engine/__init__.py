"""The event loop and its model-facing API (SimPy underneath), pools and containers,
named random streams. Knows nothing of rail."""
