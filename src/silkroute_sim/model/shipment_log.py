"""The run's shipment records, kept by column (no pandas here).

A 10-year run has about 700,000 shipments. Kept as objects, each costs about 500 bytes
(the object, and a float object per timestamp); by column, about 165. A unit is an
object while it moves — from the gate to its destination terminal — and becomes a row
of the columns once it is delivered, so the run holds objects only for the units on
their way.
"""

from __future__ import annotations

from array import array
from collections.abc import Iterator
from operator import attrgetter
from typing import Any, overload

import numpy as np

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
#: the largest code each width of a text column's codes holds
_CODE_LIMIT = {"B": 0xFF, "H": 0xFFFF, "i": 0x7FFFFFFF}


def _wider_code(distinct: int) -> str:
    """The narrowest typecode whose codes number ``distinct`` values."""
    return next(code for code, top in _CODE_LIMIT.items() if distinct - 1 <= top)


class ShipmentLog:
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

    def _still_open(self) -> None:
        if self._finished is not None:
            raise RuntimeError("the shipment log is finished: no unit can be added")

    @property
    def on_the_way(self) -> int:
        """Units that arrived and are not delivered yet."""
        return len(self._open)

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
        for name, values in texts.items():
            index = self._names[name]
            for value in set(values).difference(index):
                index[value] = len(index)
            codes = self._codes[name]
            if len(index) - 1 > _CODE_LIMIT[codes.typecode]:  # widened as the values grow
                codes = self._codes[name] = array(_wider_code(len(index)), codes)
            codes.extend(array(codes.typecode, map(index.__getitem__, values)))
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
        in_order = bool(np.all(order == np.arange(len(order))))
        finished: dict[str, np.ndarray] = {}
        for store in (self._columns, self._codes):
            for name, source in store.items():
                values = np.frombuffer(source, dtype=np.dtype(source.typecode))
                # in order (as a run's are): the column itself, no copy; the array
                # is never appended to again, so its buffer stays put
                finished[name] = values if in_order else values[order]
                store[name] = array(source.typecode)
        for values in finished.values():
            values.flags.writeable = False
        self._finished = finished

    # ------------------------------------------------------------------ reading

    def _final(self) -> dict[str, np.ndarray]:
        if self._finished is None:
            raise RuntimeError("the shipment log is read once the run is over (finish)")
        return self._finished

    def column(self, name: str) -> np.ndarray:
        """One field of every shipment, in arrival order, as a new numpy array: float
        and integer fields as numbers, ``ramp`` as bool, texts as an object array."""
        return self._decode(name, self._final()[name])

    def _decode(self, name: str, values: np.ndarray) -> np.ndarray:
        if name in self._names:
            names = np.empty(len(self._names[name]), dtype=object)
            names[:] = list(self._names[name])
            return names[values]
        if name == "ramp":
            return values.astype(bool)
        return values.copy()

    def __len__(self) -> int:
        return len(self._final()["shipment_id"])

    def __iter__(self) -> Iterator[Shipment]:
        columns = [self.column(name).tolist() for name in FIELDS]
        return map(_shipment, *columns)

    @overload
    def __getitem__(self, i: int) -> Shipment: ...
    @overload
    def __getitem__(self, i: slice) -> list[Shipment]: ...
    def __getitem__(self, i: int | slice) -> Shipment | list[Shipment]:
        """One shipment, or a list of them for a slice (as the list would give)."""
        rows = np.atleast_1d(np.arange(len(self))[i])  # IndexError out of range, as a list
        final = self._final()
        columns = [self._decode(name, final[name][rows]).tolist() for name in FIELDS]
        found = list(map(_shipment, *columns))
        return found if isinstance(i, slice) else found[0]


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
