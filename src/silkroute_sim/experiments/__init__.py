"""Replications, comparisons, sweeps and verification, run through one executor."""
