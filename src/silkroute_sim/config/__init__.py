"""Scenario configuration: pydantic schema, units, distributions, YAML loading and
cross-field checks."""
