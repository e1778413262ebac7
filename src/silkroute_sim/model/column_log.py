"""What the run's logs kept by column share (no pandas here): text columns kept as codes
into their distinct values — a handful of names (cargo classes, nodes, services)
repeated for every row take one byte a row instead of a pointer to a string — and
reading a finished log back as columns or as the objects it was made from."""

from __future__ import annotations

import operator
from abc import ABC, abstractmethod
from array import array
from collections.abc import Hashable, Iterable, Iterator, Mapping
from typing import Any, Generic, SupportsIndex, TypeVar, overload

import numpy as np

K = TypeVar("K", bound=Hashable)
Row = TypeVar("Row")

#: the largest code each width of a text column's codes holds
CODE_LIMIT = {"B": 0xFF, "H": 0xFFFF, "i": 0x7FFFFFFF}


def released(what: str) -> str:
    """What a read of a log says once the log was freed (``RunRecords.release``)."""
    return (
        f"the run's {what} was released once its tables were built (to save memory: "
        "silkroute run and sweeps do so); read the tables instead, or build them "
        "without release"
    )


#: what a released log holds in place of its columns
_RELEASED: dict[str, np.ndarray] = {}


def wider_code(distinct: int) -> str:
    """The narrowest typecode whose codes number ``distinct`` values."""
    return next(code for code, top in CODE_LIMIT.items() if distinct - 1 <= top)


def extend_codes(codes: array[int], index: dict[K, int], values: list[K]) -> array[int]:
    """Append the codes of ``values`` to ``codes``, giving the values not in ``index`` yet
    the next codes (in order of first appearance). Returns the codes: ``codes`` itself, or
    a wider copy once the distinct values outgrow its width."""
    for value in dict.fromkeys(values):
        if value not in index:
            index[value] = len(index)
    if len(index) - 1 > CODE_LIMIT[codes.typecode]:
        codes = array(wider_code(len(index)), codes)
    codes.extend(array(codes.typecode, map(index.__getitem__, values)))
    return codes


def decode(index: Mapping[K, int], codes: np.ndarray) -> np.ndarray:
    """The values of ``codes`` (into ``index``'s keys, in its order) as an object array."""
    names = np.empty(len(index), dtype=object)
    for code, value in enumerate(index):  # one by one: a value may be a tuple
        names[code] = value
    return names[codes]


def finished_columns(
    stores: Iterable[dict[str, array[Any]]], order: np.ndarray
) -> dict[str, np.ndarray]:
    """Every column of ``stores`` as a read-only numpy array with its rows in ``order``;
    each store's arrays are replaced by empty ones. Where the rows are in order already
    (as a run's shipments are), a column is the array itself, no copy: the array is never
    appended to again, so its buffer stays put."""
    in_order = bool(np.all(order == np.arange(len(order))))
    finished: dict[str, np.ndarray] = {}
    for store in stores:
        for name, source in store.items():
            values = np.frombuffer(source, dtype=np.dtype(source.typecode))
            finished[name] = values if in_order else values[order]
            store[name] = array(source.typecode)
    for values in finished.values():
        values.flags.writeable = False
    return finished


class FinishedLog(ABC, Generic[Row]):
    """Reading a log once the run is over: its columns as numpy arrays, and its rows as
    the objects they were made from. A subclass sets :attr:`_finished` (every column,
    read-only, in row order) when the run finishes, keeps the distinct values of its text
    columns in :attr:`_names`, and names its rows' fields (:attr:`_fields`) and the
    function that makes a row from them (:attr:`_make_row`). A reader that frees the log
    next may take its columns one by one (:meth:`take`)."""

    __slots__ = ()
    _finished: dict[str, np.ndarray] | None
    _names: dict[str, dict[Any, int]]
    _open: dict[Any, Any]  # the rows not final yet (units on their way, trains running)
    #: what the log holds, for its messages
    _what = "log"
    _fields: tuple[str, ...] = ()

    @staticmethod
    @abstractmethod
    def _make_row(*values: Any) -> Row:
        """The object of one row, from its fields in :attr:`_fields` order."""

    def _still_open(self) -> None:
        if self._finished is not None:
            raise RuntimeError(f"the {self._what} is finished: nothing can be added")

    @property
    def on_the_way(self) -> int:
        """Rows still open: units not delivered yet, trains not through yet."""
        return len(self._open)

    def release(self) -> None:
        """Free the finished columns (a run's tables hold what they read of them):
        reading the log afterwards raises."""
        self._final()
        # the subclass declares these slots (this class declares none)
        setattr(self, "_finished", _RELEASED)  # noqa: B010
        setattr(self, "_names", {name: {} for name in self._names})  # noqa: B010

    def _final(self) -> dict[str, np.ndarray]:
        if self._finished is _RELEASED:
            raise RuntimeError(released(self._what))
        if self._finished is None:
            raise RuntimeError(f"the {self._what} is read once the run is over (finish)")
        return self._finished

    def column(self, name: str) -> np.ndarray:
        """One field of every row, in row order, as a new numpy array: numbers as
        numbers, texts as an object array."""
        return self._decode(name, self._stored(name))

    def take(self, name: str) -> np.ndarray:
        """One field of every row as :meth:`column` gives it, the log letting go of its
        own copy: for a reader that frees the log once it has read it (:meth:`release`),
        so that the log shrinks as the reader's columns grow. Reading the field again
        raises."""
        self._stored(name)
        return self._decode(name, self._final().pop(name))

    def _stored(self, name: str) -> np.ndarray:
        final = self._final()
        if name not in final and name in self._fields:
            raise RuntimeError(f"the {self._what}'s {name!r} was taken already")
        return final[name]

    def _decode(self, name: str, values: np.ndarray) -> np.ndarray:
        if name in self._names:
            return decode(self._names[name], values)
        return values.copy()

    def __len__(self) -> int:
        for values in self._final().values():  # every column has a row per row
            return len(values)
        raise RuntimeError(f"every column of the {self._what} was taken")

    def __iter__(self) -> Iterator[Row]:
        columns = [self.column(name).tolist() for name in self._fields]
        return map(type(self)._make_row, *columns)

    @overload
    def __getitem__(self, i: SupportsIndex) -> Row: ...
    @overload
    def __getitem__(self, i: slice) -> list[Row]: ...
    def __getitem__(self, i: SupportsIndex | slice) -> Row | list[Row]:
        """One row, or a list of them for a slice (as a list of the objects would give:
        IndexError out of range, TypeError for an index that is not a whole number; a
        numpy integer is a whole number)."""
        n = len(self)
        if isinstance(i, slice):
            rows = np.arange(n)[i]
        else:
            k = operator.index(i)
            if not -n <= k < n:
                raise IndexError(f"{self._what} index out of range")
            rows = np.array([k % n])
        columns = [self._decode(name, self._stored(name)[rows]).tolist() for name in self._fields]
        found = list(map(type(self)._make_row, *columns))
        return found if isinstance(i, slice) else found[0]
