"""The shipment log: units kept by column once delivered, read back as they were."""

from __future__ import annotations

import gc
import math
from types import SimpleNamespace

import numpy as np
import pytest

from silkroute_sim.buildinfo import compiled_modules
from silkroute_sim.config.loader import load_config
from silkroute_sim.model.entities import Shipment
from silkroute_sim.model.shipment_log import FIELDS, ShipmentLog
from silkroute_sim.model.simulate import simulate


def _unit(i: int, dest: str = "Duisburg") -> Shipment:
    unit = Shipment(i, "general", dest, "duisburg", 1000 + i, 2.0, float(i), value_usd=5.5 * i)
    unit.train_id = f"t{i % 3}"
    unit.yard_in_h = i + 0.25
    return unit


def _fields(unit: Shipment) -> tuple[object, ...]:
    return tuple(getattr(unit, name) for name in FIELDS)


def _same(a: tuple[object, ...], b: tuple[object, ...]) -> bool:
    return all(
        (isinstance(x, float) and math.isnan(x) and isinstance(y, float) and math.isnan(y))
        or (x == y and type(x) is type(y))
        for x, y in zip(a, b, strict=True)
    )


def test_rows_in_arrival_order_whatever_the_delivery_order() -> None:
    log = ShipmentLog()
    units = [_unit(i, "Duisburg" if i % 2 else "Moscow") for i in range(1, 9)]
    for unit in units:
        log.arrive(unit)
    expected = [_fields(u) for u in units]
    for unit in (units[5], units[2], units[7]):
        unit.delivered_h = 50.0 + unit.shipment_id
        log.done(unit)
    log.compact()
    log.done(units[0])  # pending when the run ends
    assert log.on_the_way == 4
    log.finish()
    expected = [_fields(u) for u in units]  # with the deliveries
    assert len(log) == 8
    assert all(_same(_fields(s), e) for s, e in zip(log, expected, strict=True))
    assert _same(_fields(log[-1]), expected[-1])
    assert [s.shipment_id for s in log[6:1:-2]] == [7, 5, 3]
    assert log.column("shipment_id").tolist() == list(range(1, 9))
    assert log.column("destination").tolist() == [u.destination for u in units]
    with pytest.raises(IndexError):
        log[8]


@pytest.mark.skipif(
    "model.shipment_log" in compiled_modules(),
    reason="a compiled log takes Shipment objects only (and a compiled Shipment a whole "
    "number of kg only): the pure-Python build runs this",
)
def test_a_value_of_the_wrong_type_leaves_the_columns_as_they_were() -> None:
    log = ShipmentLog()
    good = _unit(1)
    # a stand-in: a compiled Shipment refuses a float for kg when it is set
    bad = SimpleNamespace(**{name: getattr(_unit(2), name) for name in FIELDS})
    bad.kg = 2.5  # not a whole number
    for unit in (good, bad):
        log.arrive(unit)  # type: ignore[arg-type]
        log.done(unit)  # type: ignore[arg-type]
    with pytest.raises(TypeError):
        log.compact()
    bad.kg = 2
    log.finish()
    assert log.column("kg").tolist() == [1001, 2]


def test_read_only_once_the_run_is_over() -> None:
    log = ShipmentLog()
    log.arrive(_unit(1))
    with pytest.raises(RuntimeError, match="once the run is over"):
        len(log)
    log.finish()
    assert log.column("teu").tolist() == [2.0]
    with pytest.raises(ValueError):
        log._final()["teu"][0] = 3.0  # the log's own arrays are read-only
    with pytest.raises(RuntimeError, match="finished"):
        log.arrive(_unit(2))  # a unit after the run would never show
    with pytest.raises(RuntimeError, match="finished"):
        log.done(_unit(1))


def _live_shipments() -> int:
    return sum(type(o) is Shipment for o in gc.get_objects())


@pytest.mark.slow
def test_a_run_holds_objects_only_for_units_on_their_way() -> None:
    cfg = load_config("baseline")
    cfg = cfg.model_copy(update={"simulation": cfg.simulation.model_copy(update={"days": 60})})
    alive: list[int] = []

    def at_day(day: float, total: float) -> None:
        if day == total:  # the last slice is run and compacted; the run is not handed over
            alive.append(_live_shipments())

    gc.collect()
    # the units other tests left alive are held here, so none of them goes during this one
    others = [o for o in gc.get_objects() if type(o) is Shipment]
    before = len(others)
    result = simulate(cfg, progress=at_day)
    log = result.records.shipments
    delivered = int(np.count_nonzero(~np.isnan(log.column("delivered_h"))))
    assert 0.6 * len(log) < delivered < len(log)  # most units reached their terminal
    assert alive == [before + len(log) - delivered]  # the others are rows, not objects
    gc.collect()  # the run's model (pools, pending events) goes with its cycles
    aboard = sum(len(train.shipments) for train in result.records.trains)
    assert 0 < aboard < 0.2 * len(log)  # trains on their way keep their boxes aboard
    assert _live_shipments() == before + aboard  # the other units are rows of the log only
    del others


def test_a_text_column_widens_its_codes_as_its_distinct_values_grow() -> None:
    """Codes take a byte while a column has under 256 distinct values, then two, then
    four: a run with 70,000 trains reads every train id back, across the widenings."""
    log = ShipmentLog()
    ids = [f"t{i}" for i in range(70_000)]
    for i, train in enumerate(ids):
        unit = _unit(i)
        unit.train_id = train
        log.arrive(unit)
        log.done(unit)
        if i in (200, 255, 256, 300, 65_535, 65_536):  # compactions at each boundary
            log.compact()
    log.finish()
    assert log.column("train_id").tolist() == ids
    assert log.column("destination").tolist() == ["Duisburg"] * len(ids)
    assert [log._final()[n].dtype.itemsize for n in ("train_id", "destination")] == [4, 1]
