"""The box pool's level kept as a running sum is its monitor's level, to the last bit."""

from __future__ import annotations

import random

from silkroute_sim.model.inbound import BoxPool
from silkroute_sim.model.records import RunRecords


def test_running_level_is_the_monitors_level() -> None:
    rng = random.Random(24)
    records = RunRecords()
    pool = BoxPool(records, 3.7)
    now = 0.0
    leased = 0
    for _ in range(3000):
        now += rng.choice([0.0, rng.expovariate(1.0)])  # changes at equal times too
        teu = rng.choice([1.0, 2.0, 0.1, 0.3, rng.random() * 5])
        if rng.random() < 0.5:
            pool.put(now, teu, stripped=rng.random() < 0.3)
        else:
            leased += pool.teu < teu
            pool.take(now, teu)
        assert pool.teu == pool.level.level  # the same float, not just close
        if rng.random() < 0.01:
            pool.level.compact()  # between slices of a run
    assert leased > 30  # the pool ran short often: the leasing branch was exercised
