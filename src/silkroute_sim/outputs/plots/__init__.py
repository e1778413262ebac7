"""Figures of runs, comparisons and sweeps (matplotlib, loaded lazily)."""
