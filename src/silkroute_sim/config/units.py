"""Parsing of quantities with units, as written in YAML configs.

The simulation clock runs in hours, distances are km and speeds km/h internally.
"""

from __future__ import annotations

import math
import re

_NUMBER = r"[-+]?(?:\d+(?:\.\d*)?|\.\d+)(?:[eE][-+]?\d+)?"

#: factor to hours for each accepted time unit
TIME_UNITS_H: dict[str, float] = {
    "s": 1 / 3600,
    "sec": 1 / 3600,
    "second": 1 / 3600,
    "seconds": 1 / 3600,
    "min": 1 / 60,
    "mins": 1 / 60,
    "minute": 1 / 60,
    "minutes": 1 / 60,
    "h": 1.0,
    "hr": 1.0,
    "hrs": 1.0,
    "hour": 1.0,
    "hours": 1.0,
    "d": 24.0,
    "day": 24.0,
    "days": 24.0,
    "w": 168.0,
    "week": 168.0,
    "weeks": 168.0,
}

_QUANTITY_RE = re.compile(rf"^\s*({_NUMBER})\s*([A-Za-z/]*)\s*$")

_ALLOWED_DURATION = "a number of hours or a string such as '40 s', '90 min', '2 h', '1.5 d'"
_ALLOWED_SPEED = "a number (km/h) or a string such as '45 km/h' or '1100 km/day'"


def _finite(value: float, allowed: str) -> float:
    if not math.isfinite(value):
        raise ValueError(f"must be finite; allowed: {allowed}")
    return value


def parse_duration_h(value: object) -> float:
    """Return a duration in hours from a number (hours) or a string with a unit."""
    if isinstance(value, bool):
        raise ValueError(f"expected a duration; allowed: {_ALLOWED_DURATION}")
    if isinstance(value, int | float):
        return _finite(float(value), _ALLOWED_DURATION)
    if isinstance(value, str):
        match = _QUANTITY_RE.match(value)
        if match:
            number, unit = float(match.group(1)), match.group(2).lower()
            if unit == "":
                return _finite(number, _ALLOWED_DURATION)
            if unit in TIME_UNITS_H:
                return _finite(number * TIME_UNITS_H[unit], _ALLOWED_DURATION)
    raise ValueError(f"not a duration; allowed: {_ALLOWED_DURATION}")


def parse_speed_kmh(value: object) -> float:
    """Return a speed in km/h from a number (km/h) or '… km/h' / '… km/day'."""
    if isinstance(value, bool):
        raise ValueError(f"expected a speed; allowed: {_ALLOWED_SPEED}")
    if isinstance(value, int | float):
        return _finite(float(value), _ALLOWED_SPEED)
    if isinstance(value, str):
        match = _QUANTITY_RE.match(value)
        if match:
            number, unit = float(match.group(1)), match.group(2).lower()
            if unit in ("", "km/h", "kmh", "kph"):
                return _finite(number, _ALLOWED_SPEED)
            if unit in ("km/day", "km/d"):
                return _finite(number / 24.0, _ALLOWED_SPEED)
    raise ValueError(f"not a speed; allowed: {_ALLOWED_SPEED}")
