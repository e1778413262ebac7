"""The background train log: trains kept by column once through, read back as they were."""

from __future__ import annotations

import gc
import math
from types import SimpleNamespace
from typing import Any

import numpy as np
import pytest

from silkroute_sim.buildinfo import compiled_modules
from silkroute_sim.config.loader import load_config
from silkroute_sim.model import train_log as train_log_module
from silkroute_sim.model.entities import Train
from silkroute_sim.model.simulate import simulate
from silkroute_sim.model.train_log import FIELDS, UNSTORED_FIELDS, BackgroundTrainLog


def _train(i: int, stream: str = "kz") -> Train:
    route = ["Khorgos", "Altynkol", "Almaty"] if i % 2 else ["Dostyk", "Aktogay"]
    train = Train(f"bg-{stream}-{i:05d}", stream, route[0], [route[-1]], 100.0, background=True)
    train.box_count = 50
    train.departed_h = float(i)
    return train


#: every field of a train (the log's columns, the fields it keeps as a new train has
#: them, and the background flag)
EVERY_FIELD = (*FIELDS, *UNSTORED_FIELDS, "background")


def _fields(train: Train) -> tuple[object, ...]:
    return tuple(
        tuple(v) if isinstance(v, list) else v for v in (getattr(train, n) for n in EVERY_FIELD)
    )


def _same(a: tuple[object, ...], b: tuple[object, ...]) -> bool:
    return all(
        (isinstance(x, float) and math.isnan(x) and isinstance(y, float) and math.isnan(y))
        or (x == y and type(x) is type(y))
        for x, y in zip(a, b, strict=True)
    )


def _through(log: BackgroundTrainLog, train: Train, at: float) -> None:
    train.route.append(train.stops[-1])
    train.wait_h = 0.5 * at
    train.arrived_h = at
    log.done(train)


def test_rows_in_departure_order_whatever_the_arrival_order() -> None:
    log = BackgroundTrainLog()
    trains = [_train(i, "kz" if i % 3 else "ru") for i in range(1, 9)]
    for train in trains:
        log.depart(train)
    for train in (trains[5], trains[2], trains[7]):
        _through(log, train, 50.0 + train.departed_h)
    log.compact()
    _through(log, trains[0], 60.0)  # pending when the run ends
    assert log.on_the_way == 4
    log.finish()
    expected = [_fields(t) for t in trains]  # the four still on their way: arrived NaN
    assert len(log) == 8
    assert all(_same(_fields(t), e) for t, e in zip(log, expected, strict=True))
    assert all(t.background and t.shipments == [] for t in log)
    assert _same(_fields(log[-1]), expected[-1])
    assert [t.train_id for t in log[6:1:-2]] == ["bg-kz-00007", "bg-kz-00005", "bg-ru-00003"]
    assert log.column("route").tolist()[:3] == [  # the last node added as it arrived
        ("Khorgos", "Almaty"),
        ("Dostyk",),
        ("Khorgos", "Almaty"),
    ]
    assert log.column("service").tolist() == [t.service for t in trains]
    on_the_way = [True, False, True, True, False, True, False]
    assert np.isnan(log.column("arrived_h")).tolist() == [False, *on_the_way]
    with pytest.raises(IndexError):
        log[8]


@pytest.mark.skipif(
    "model.train_log" in compiled_modules(),
    reason="a compiled log takes Train objects only: the pure-Python build runs this",
)
def test_a_value_of_the_wrong_type_leaves_the_columns_as_they_were() -> None:
    log = BackgroundTrainLog()
    good = _train(1)
    # a stand-in: a compiled Train refuses a float for box_count when it is set
    bad = SimpleNamespace(**{name: getattr(_train(2), name) for name in EVERY_FIELD})
    bad.box_count = 2.5  # not a whole number
    for train in (good, bad):
        log.depart(train)  # type: ignore[arg-type]
        _through(log, train, 10.0)  # type: ignore[arg-type]
    with pytest.raises(TypeError):
        log.compact()
    bad.box_count = 2
    log.finish()
    assert log.column("box_count").tolist() == [50, 2]
    assert log.column("train_id").tolist() == ["bg-kz-00001", "bg-kz-00002"]


@pytest.mark.parametrize(("name", "value"), [("teu", 2.0), ("kg", 5), ("scheduled_h", 3.0)])
def test_a_field_the_log_does_not_keep_is_refused_once_set(name: str, value: object) -> None:
    """Cargo and the hub's moments are not stored for background trains: a train that has
    one set is refused rather than read back without it."""
    log = BackgroundTrainLog()
    train = _train(1)
    setattr(train, name, value)
    log.depart(train)
    _through(log, train, 4.0)
    with pytest.raises(ValueError, match=f"has {name}"):
        log.compact()


def test_read_only_once_the_run_is_over_and_ids_once() -> None:
    log = BackgroundTrainLog()
    log.depart(_train(1))
    with pytest.raises(ValueError, match="departed twice"):
        log.depart(_train(1))
    with pytest.raises(RuntimeError, match="once the run is over"):
        len(log)
    log.finish()
    log.finish()  # idempotent
    assert log.column("capacity_teu").tolist() == [100.0]
    with pytest.raises(ValueError):
        log._final()["capacity_teu"][0] = 3.0  # the log's own arrays are read-only
    with pytest.raises(RuntimeError, match="finished"):
        log.depart(_train(2))


def test_indexing_and_misuse_as_a_list_would_answer() -> None:
    log = BackgroundTrainLog()
    trains = [_train(i) for i in range(1, 4)]
    for train in trains:
        log.depart(train)
    _through(log, trains[1], 5.0)
    with pytest.raises(ValueError, match="not on its way"):
        log.done(trains[1])  # through already
    with pytest.raises(ValueError, match="not on its way"):
        log.done(_train(9))  # never departed
    with pytest.raises(ValueError, match="not on its way"):
        log.done(_train(1))  # another object with a running train's id
    assert log.on_the_way == 2
    log.finish()
    assert log[-1].train_id == "bg-kz-00003"
    assert log[np.int64(1)].arrived_h == 5.0
    with pytest.raises(IndexError):
        log[-4]
    with pytest.raises(TypeError):
        log[1.0]  # type: ignore[call-overload]
    assert [t.train_id for t in log[::-1]] == [t.train_id for t in reversed(trains)]
    assert log[5:] == []


def test_routes_widen_their_codes_past_256_distinct() -> None:
    log = BackgroundTrainLog()
    trains = []
    for i in range(300):
        train = _train(i)
        train.stops = [f"N{i}"]
        log.depart(train)
        _through(log, train, float(i))
        trains.append(train)
        if i in (254, 255, 256):
            log.compact()
    log.finish()
    assert log.column("stops").tolist() == [(f"N{i}",) for i in range(300)]
    assert log._final()["stops"].dtype.itemsize == 2


def _live_background_trains() -> int:
    return sum(type(o) is Train and o.background for o in gc.get_objects())


@pytest.mark.slow
def test_a_run_keeps_every_field_and_no_train_objects(monkeypatch: pytest.MonkeyPatch) -> None:
    """Every background train of a baseline month read back from the log has the fields
    the train object had when the run ended; once handed over, no background train
    object is left alive."""
    cfg = load_config("baseline", days=30, warmup_days=5)
    kept: list[Train] = []
    depart = BackgroundTrainLog.depart

    def keep(self: BackgroundTrainLog, train: Train) -> None:
        kept.append(train)
        depart(self, train)

    with monkeypatch.context() as patch:
        patch.setattr(train_log_module.BackgroundTrainLog, "depart", keep)
        result = simulate(cfg)
    log = result.records.background_trains
    assert len(log) == len(kept) > 300
    assert 0 < int(np.isnan(log.column("arrived_h")).sum()) < 0.2 * len(log)  # some en route
    assert all(_same(_fields(t), _fields(k)) for t, k in zip(log, kept, strict=True))
    kept.clear()
    gc.collect()
    before = _live_background_trains()
    result = simulate(cfg)
    gc.collect()
    assert _live_background_trains() == before  # every one is a row of the log only
    assert len(result.records.background_trains) > 300


def test_eastbound_ids_read_from_the_columns() -> None:
    from silkroute_sim.analysis.directions import eastbound_background, eastbound_train_ids

    result: Any = simulate(load_config("baseline", days=6, warmup_days=1))
    east = eastbound_background(result.config)
    log = result.records.background_trains
    expected = {t.train_id for t in log if t.service in east}
    expected |= {t.train_id for t in result.records.inbound_trains if t.direction == "east"}
    assert east and expected  # the baseline has eastbound background streams
    assert eastbound_train_ids(result) == expected
