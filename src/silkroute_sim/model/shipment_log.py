"""The run's shipment records, kept by column (no pandas here).

A 10-year run has about 700,000 shipments. Kept as objects, each costs about 500 bytes
(the object, and a float object per timestamp); by column, about 165. A unit is an
object while it moves — from the gate to its destination terminal — and becomes a row
of the columns once it is delivered, so the run holds objects only for the units on
their way.
"""

from __future__ import annotations

from array import array
from operator import attrgetter
from typing import Any

import numpy as np

from silkroute_sim.model.column_log import FinishedLog, extend_codes, finished_columns
from silkroute_sim.model.entities import Shipment

#: the moments of a shipment's way, in order (hours; NaN: not yet)
TIME_FIELDS = (
    "arrived_h",
    "yard_in_h",
    "ready_h",
    "loaded_h",
    "departed_h",
    "terminal_arrived_h",
    "delivered_h",
)
#: a shipment's numbers, kept as C doubles
FLOAT_FIELDS = (
    *TIME_FIELDS,
    "gate_h",
    "lift_in_h",
    "load_h",
    "customs_h",
    "terminal_dwell_h",
    "teu",
    "size",
    "value_usd",
)
#: its whole numbers (64-bit) and its flag
INT_FIELDS = ("shipment_id", "kg")
FLAG_FIELDS = ("ramp",)
#: its texts, kept as codes into the distinct values seen (a handful each, but the
#: train ids)
TEXT_FIELDS = ("cargo_class", "destination", "service", "origin", "unit", "wagon_type", "train_id")
FIELDS = FLOAT_FIELDS + INT_FIELDS + FLAG_FIELDS + TEXT_FIELDS

_TYPECODE = {**dict.fromkeys(FLOAT_FIELDS, "d"), **dict.fromkeys(INT_FIELDS, "q"), "ramp": "b"}


class ShipmentLog(FinishedLog[Shipment]):
    """Every shipment of a run, in arrival order (``shipment_id``), by column.

    The run calls :meth:`arrive` when a unit reaches the gate and :meth:`done` when it
    is delivered (nothing changes it after that); :meth:`compact`, between slices of the
    run, moves the delivered units into the columns, and the objects go. :meth:`finish`,
    at the end of the run, adds the units still on their way and puts the rows in arrival
    order. Then :meth:`column` gives a column as a numpy array, and iterating, ``len``
    and indexing give :class:`Shipment` objects, as the list of them would.
    """

    __slots__ = ("_codes", "_columns", "_finished", "_names", "_open", "_pending")

    def __init__(self) -> None:
        #: units on their way, by id (insertion order is arrival order)
        self._open: dict[int, Shipment] = {}
        #: units delivered since the last compaction
        self._pending: list[Shipment] = []
        self._columns: dict[str, array[Any]] = {
            name: array(code) for name, code in _TYPECODE.items()
        }
        #: the codes take one byte each while a column has under 256 distinct values
        self._codes: dict[str, array[int]] = {name: array("B") for name in TEXT_FIELDS}
        #: each text column's distinct values, by code (dict order is code order)
        self._names: dict[str, dict[str, int]] = {name: {} for name in TEXT_FIELDS}
        self._finished: dict[str, np.ndarray] | None = None

    # ------------------------------------------------------------------ the run

    def arrive(self, unit: Shipment) -> None:
        """``unit`` reached the gate."""
        self._still_open()
        self._open[unit.shipment_id] = unit

    def done(self, unit: Shipment) -> None:
        """``unit`` is delivered: its record is final."""
        self._still_open()
        del self._open[unit.shipment_id]
        self._pending.append(unit)

    def compact(self) -> None:
        """Move the units delivered since the last call into the columns. Every column is
        converted before any grows: a value of the wrong type raises here, leaves the
        columns as they were and the units pending."""
        pending = self._pending
        if not pending:
            return
        self._still_open()
        numbers = {
            name: array(code, list(map(attrgetter(name), pending)))
            for name, code in _TYPECODE.items()
        }
        texts = {name: list(map(attrgetter(name), pending)) for name in TEXT_FIELDS}
        for name, values in texts.items():
            if not all(type(v) is str for v in values):
                raise TypeError(f"shipment {name} must be text")
        for name, column in numbers.items():
            self._columns[name].extend(column)
        for name, values in texts.items():  # the codes widen as the values grow
            self._codes[name] = extend_codes(self._codes[name], self._names[name], values)
        self._pending = []

    def finish(self) -> None:
        """The run is over: add the units still on their way and order the rows by
        ``shipment_id`` (arrival order). Idempotent."""
        if self._finished is not None:
            return
        self._pending.extend(self._open.values())
        self._open = {}
        self.compact()
        ids = np.frombuffer(self._columns["shipment_id"], dtype=np.int64)
        order = np.argsort(ids, kind="stable")
        self._finished = finished_columns((self._columns, self._codes), order)

    # ------------------------------------------------------------------ reading

    _what = "shipment log"
    _fields: tuple[str, ...] = FIELDS

    @staticmethod
    def _make_row(*values: Any) -> Shipment:
        return _shipment(*values)

    def _decode(self, name: str, values: np.ndarray) -> np.ndarray:
        """Texts as an object array, ``ramp`` as bool, numbers as numbers."""
        if name == "ramp":
            return values.astype(bool)
        return super()._decode(name, values)


def _shipment(*values: Any) -> Shipment:
    """A :class:`Shipment` with every field of one row (in :data:`FIELDS` order)."""
    row = dict(zip(FIELDS, values, strict=True))
    unit = Shipment(
        row["shipment_id"],
        row["cargo_class"],
        row["destination"],
        row["service"],
        row["kg"],
        row["teu"],
        row["arrived_h"],
        unit=row["unit"],
        wagon_type=row["wagon_type"],
        size=row["size"],
        ramp=row["ramp"],
        value_usd=row["value_usd"],
        origin=row["origin"],
    )
    for name in FLOAT_FIELDS:
        setattr(unit, name, row[name])
    unit.train_id = row["train_id"]
    return unit
