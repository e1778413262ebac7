"""Field types shared by the config sections, and the strict base model they all use.

Numbers refuse true/false and non-finite values; durations, speeds and times of day
accept units (:mod:`silkroute_sim.config.units`).
"""

from __future__ import annotations

import math
import types
import unicodedata
from typing import Annotated, Union, get_args, get_origin

from pydantic import AfterValidator, BaseModel, BeforeValidator, ConfigDict, Field, model_validator
from pydantic_core import PydanticCustomError

from silkroute_sim.config.distributions import Constant, Hours
from silkroute_sim.config.units import parse_duration_h, parse_speed_kmh


def _finite(value: object) -> object:
    if isinstance(value, bool):
        raise ValueError("expected a number, not true/false")
    if isinstance(value, float) and not math.isfinite(value):
        raise ValueError("must be a finite number")
    return value


FiniteFloat = Annotated[float, BeforeValidator(_finite)]
PositiveFloat = Annotated[float, BeforeValidator(_finite), Field(gt=0)]
NonNegFloat = Annotated[float, BeforeValidator(_finite), Field(ge=0)]
Fraction = Annotated[float, BeforeValidator(_finite), Field(ge=0, le=1)]
SpeedKmh = Annotated[float, BeforeValidator(parse_speed_kmh), Field(gt=0)]
PositiveHours = Annotated[float, BeforeValidator(parse_duration_h), Field(gt=0)]
NonNegHours = Annotated[float, BeforeValidator(parse_duration_h), Field(ge=0)]

#: punctuation a name may hold besides letters, digits and spaces
NAME_PUNCTUATION = "-_.()'&+"
#: the pydantic error type of a name that breaks the rule (errors.py words it)
NAME_ERROR = "name_rule"
#: what a name may hold, as error messages say it
NAME_RULE = (
    "letters (any script), digits, spaces and - _ . ( ) ' & + only; "
    "not starting with '.' or a space, not ending with a space"
)


def _name_char_ok(ch: str) -> bool:
    if ch == " " or ch in NAME_PUNCTUATION:
        return True
    # letters and digits of any script, and combining marks (a decomposed 'ó')
    return unicodedata.category(ch)[0] in "LMN"


def check_name(value: str) -> str:
    """A name the project joins into paths, routes (``A>B``), metric names
    (``kpi:Node``), train ids and CSV cells: refuse the characters that would split
    or escape there (``> : , | / \\``, quotes, control characters, a leading ``.``)."""
    if (
        not all(_name_char_ok(ch) for ch in value)
        or value.startswith((".", " "))
        or value.endswith(" ")
    ):
        raise PydanticCustomError(
            NAME_ERROR, "invalid name; allowed: {allowed}", {"allowed": NAME_RULE}
        )
    # one spelling per name: 'Łódź' typed with a combining accent is the same node
    return unicodedata.normalize("NFC", value)


def one_of(model: BaseModel, *names: str) -> None:
    """Exactly one of the keys ``names`` is given (the others None), or one line saying
    which way it is not: both given, or neither."""
    given = [n for n in names if getattr(model, n) is not None]
    if len(given) == 1:
        return
    listed = " or ".join(names)
    if given:
        raise ValueError(f"give either {listed} (not both)")
    raise ValueError(f"give {listed} (neither is given)")


Name = Annotated[str, Field(min_length=1, max_length=200), AfterValidator(check_name)]
#: a name that is also a folder under ``results/`` (a scenario's or a sweep's)
FolderName = Annotated[str, Field(min_length=1, max_length=100), AfterValidator(check_name)]


def _time_of_day_h(value: object) -> float:
    """'06:30' → 6.5; durations ('6 h', 6.5) are accepted as hours after midnight."""
    if isinstance(value, str) and ":" in value:
        parts = value.strip().split(":")
        if len(parts) == 2 and all(p.strip().isdigit() for p in parts):
            hours, minutes = int(parts[0]), int(parts[1])
            if minutes < 60:
                return hours + minutes / 60
        raise ValueError("not a time of day; allowed: 'HH:MM' (quote it in YAML)")
    return parse_duration_h(value)


TimeOfDayH = Annotated[float, BeforeValidator(_time_of_day_h), Field(ge=0, lt=24)]


def zero_hours() -> Constant[Hours]:
    return Constant[Hours](value=0.0)


def _numeric_only(annotation: object) -> bool:
    """``int`` or ``float`` (possibly optional): a field where true/false is a mistake."""
    origin = get_origin(annotation)
    if origin is Annotated:
        return _numeric_only(get_args(annotation)[0])
    if origin is Union or origin is types.UnionType:
        args = [a for a in get_args(annotation) if a is not type(None)]
        return bool(args) and all(_numeric_only(a) for a in args)
    return annotation in (int, float)


class StrictModel(BaseModel):
    model_config = ConfigDict(extra="forbid", populate_by_name=True)

    @model_validator(mode="before")
    @classmethod
    def _no_bool_for_numbers(cls, data: object) -> object:
        """YAML reads yes/no/on/off as booleans; pydantic would take them as 1 and 0."""
        if isinstance(data, dict):
            for name, field in cls.model_fields.items():
                key = field.alias or name
                value = data.get(key, data.get(name))
                if isinstance(value, bool) and _numeric_only(field.annotation):
                    raise ValueError(f"{key}: expected a number, not true/false")
        return data
