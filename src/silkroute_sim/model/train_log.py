"""The run's background trains, kept by column once they are through (no pandas here).

A 10-year baseline run sends about 120,000 background trains; kept as objects to the
end, each costs about 500 bytes (the object, its route list, a float object per time),
60 MB in all. A background train is an object while it runs and becomes a row of the
columns when it reaches the end of its route: about 55 bytes a train, its id the
string the node events already hold.
"""

from __future__ import annotations

from array import array
from operator import attrgetter
from typing import Any

import numpy as np

from silkroute_sim.model.column_log import FinishedLog, extend_codes, finished_columns
from silkroute_sim.model.entities import TRAIN_TIME_FIELDS, Train

#: a background train's numbers, kept as C doubles
FLOAT_FIELDS = ("capacity_teu", "departed_h", "arrived_h", "wait_h")
#: its whole numbers (64-bit)
INT_FIELDS = ("box_count",)
#: the numbers only the hub's own trains set (cargo, the hub's moments): a background
#: train keeps them as a new one has them, so they are not stored (a train through with
#: another value there is refused when the log is compacted, rather than lost)
UNSTORED_FIELDS = tuple(
    name for name in ("teu", "kg", "load_factor", *TRAIN_TIME_FIELDS) if name not in FLOAT_FIELDS
)
#: its texts, as codes into the distinct values seen; ``route`` and ``stops`` as codes
#: into the distinct sequences of nodes (a handful per stream)
TEXT_FIELDS = ("service", "origin", "direction")
SEQUENCE_FIELDS = ("route", "stops")
FIELDS = ("train_id", *FLOAT_FIELDS, *INT_FIELDS, *TEXT_FIELDS, *SEQUENCE_FIELDS)


def _unset(value: object, new: object) -> bool:
    """Whether ``value`` is what a new background train has (``new``): the same number
    of the same type, or NaN where it has NaN."""
    if isinstance(new, float) and new != new:
        return isinstance(value, float) and value != value
    return type(value) is type(new) and value == new


class BackgroundTrainLog(FinishedLog[Train]):
    """Every background train of a run, in departure order, by column.

    The run calls :meth:`depart` when a train sets off and :meth:`done` when it reaches
    the end of its route (nothing changes it after that); :meth:`compact`, between slices
    of the run, moves the trains that are through into the columns, and the objects go.
    :meth:`finish`, at the end of the run, adds the trains still on their way (``arrived_h``
    NaN) and puts the rows in departure order. Then :meth:`column` gives a column as a
    numpy array, and iterating, ``len`` and indexing give :class:`Train` objects with
    every field of the train, as the list of them would.
    """

    __slots__ = (
        "_codes",
        "_departed",
        "_finished",
        "_ids",
        "_names",
        "_numbers",
        "_open",
        "_pending",
    )

    def __init__(self) -> None:
        #: trains on their way: id -> (departure number, train); insertion order is
        #: departure order
        self._open: dict[str, tuple[int, Train]] = {}
        self._pending: list[tuple[int, Train]] = []  # through since the last compaction
        self._departed = 0  # trains that departed so far
        self._ids: list[str] = []
        self._numbers: dict[str, array[Any]] = {
            "order": array("q"),
            **{name: array("d") for name in FLOAT_FIELDS},
            **{name: array("q") for name in INT_FIELDS},
        }
        self._codes: dict[str, array[int]] = {
            name: array("B") for name in (*TEXT_FIELDS, *SEQUENCE_FIELDS)
        }
        self._names: dict[str, dict[Any, int]] = {
            name: {} for name in (*TEXT_FIELDS, *SEQUENCE_FIELDS)
        }
        self._finished: dict[str, np.ndarray] | None = None

    # ------------------------------------------------------------------ the run

    def depart(self, train: Train) -> None:
        """``train`` sets off (departure order is the order of these calls)."""
        self._still_open()
        if train.train_id in self._open:
            raise ValueError(f"background train {train.train_id} departed twice")
        self._open[train.train_id] = (self._departed, train)
        self._departed += 1

    def done(self, train: Train) -> None:
        """``train`` reached the end of its route: its record is final."""
        self._still_open()
        entry = self._open.get(train.train_id)
        if entry is None or entry[1] is not train:
            raise ValueError(f"background train {train.train_id} is not on its way")
        del self._open[train.train_id]
        self._pending.append(entry)

    @property
    def pending(self) -> int:
        """Trains through since the last :meth:`compact`."""
        return len(self._pending)

    def compact(self) -> None:
        """Move the trains through since the last call into the columns. Every column is
        converted before any grows: a value of the wrong type raises here, leaves the
        columns as they were and the trains pending."""
        pending = self._pending
        if not pending:
            return
        self._still_open()
        trains = [train for _, train in pending]
        numbers = {"order": array("q", [number for number, _ in pending])}
        for name, column in self._numbers.items():
            if name != "order":
                numbers[name] = array(column.typecode, list(map(attrgetter(name), trains)))
        texts: dict[str, list[Any]] = {
            name: list(map(attrgetter(name), trains)) for name in TEXT_FIELDS
        }
        for name in SEQUENCE_FIELDS:
            texts[name] = [tuple(nodes) for nodes in map(attrgetter(name), trains)]
        ids = [train.train_id for train in trains]
        for name, values in (("train_id", ids), *((n, texts[n]) for n in TEXT_FIELDS)):
            if not all(type(v) is str for v in values):
                raise TypeError(f"background train {name} must be text")
        new = Train("", "", "", [], 0.0, background=True)
        for name in UNSTORED_FIELDS:
            unset = getattr(new, name)
            for train in trains:
                if not _unset(getattr(train, name), unset):
                    raise ValueError(
                        f"background train {train.train_id} has {name} "
                        f"{getattr(train, name)!r}: the log keeps it as {unset!r}"
                    )
        for name, column in numbers.items():
            self._numbers[name].extend(column)
        for name, values in texts.items():  # the codes widen as the values grow
            self._codes[name] = extend_codes(self._codes[name], self._names[name], values)
        self._ids.extend(ids)
        self._pending = []

    def finish(self) -> None:
        """The run is over: add the trains still on their way and order the rows by
        departure. Idempotent."""
        if self._finished is not None:
            return
        self._pending.extend(self._open.values())
        self._open = {}
        self.compact()
        order = np.argsort(np.frombuffer(self._numbers["order"], dtype=np.int64), kind="stable")
        ids = np.empty(len(self._ids), dtype=object)
        ids[:] = self._ids
        finished = finished_columns((self._numbers, self._codes), order)
        del finished["order"]
        finished["train_id"] = ids[order]
        finished["train_id"].flags.writeable = False
        self._ids = []
        self._finished = finished

    # ------------------------------------------------------------------ reading

    _what = "background train log"
    _fields: tuple[str, ...] = FIELDS

    @staticmethod
    def _make_row(*values: Any) -> Train:
        return _train(*values)


def _train(*values: Any) -> Train:
    """A background :class:`Train` with every field of one row (in :data:`FIELDS` order)."""
    row = dict(zip(FIELDS, values, strict=True))
    train = Train(
        row["train_id"],
        row["service"],
        row["origin"],
        list(row["stops"]),
        row["capacity_teu"],
        background=True,
    )
    for name in (*FLOAT_FIELDS, *INT_FIELDS, "direction"):
        setattr(train, name, row[name])
    train.route = list(row["route"])
    return train
