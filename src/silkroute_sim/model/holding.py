"""Finite holding at corridor nodes: blocking after service, as in tandem queues with
finite buffers.

A node with ``holding: {sidings: n}`` holds at most its processing tracks plus ``n``
trains (a junction or terminal: ``n``). A train takes room at the next node *before* it
leaves the one it is at, and gives back the room it leaves only once it has the next:
while it waits, done with its processing, it keeps its room (not its processing track,
which is free for the next train: it waits on a siding). So a full node stops the node
before it, and a full chain stops the hub, where a formed train waits on its loading
track (the loading tracks then fill, ready boxes stay in the yard, the yard fills and
the gate blocks: the hub does those steps itself). A node without ``holding`` has room
for any number of trains.

**Deadlock.** Two nodes with trains in both directions can each be full of trains that
wait for room at the other. The rule: a train that finds the next node full and a train
there waiting for room at *its* node swaps places with that train (the two pass each
other on the line, which neither node's room then counts twice). Every train in a node
finishes its processing (a blocked train never keeps a track), so a pair of full nodes
always comes to trains waiting for each other, and the swap frees them. Longer cycles
(three nodes or more, each full of trains for the next) are not broken: a route graph of
corridors that run one way (west, or east, to the end of the line) does not make them.

Every check is O(1) per node entry (a counter against a limit); the waiting lists are
read only when a train is blocked.
"""

from __future__ import annotations

from collections import deque
from typing import Any

import simpy

from silkroute_sim.config.schema import ScenarioConfig
from silkroute_sim.model.entities import Train

#: the value a waiting train's grant succeeds with when it swapped places
SWAPPED = "swapped"


class Room:
    """The room of one node: trains in it (or heading to it), and trains waiting for it
    (each with the node it waits at), served in order."""

    __slots__ = ("capacity", "name", "used", "waiting")

    def __init__(self, name: str, capacity: int) -> None:
        self.name = name
        self.capacity = capacity
        self.used = 0
        self.waiting: deque[tuple[simpy.Event, Train, str | None]] = deque()

    def full(self) -> bool:
        return self.used >= self.capacity


class Rooms:
    """The rooms of one run's nodes (only those with ``holding``), and which room each
    train holds."""

    def __init__(self, env: simpy.Environment, cfg: ScenarioConfig) -> None:
        self.env = env
        self.rooms: dict[str, Room] = {}
        for name, node in cfg.corridor.nodes.items():
            room = node.room()
            if room is not None:
                self.rooms[name] = Room(name, room)
        #: the node whose room a train holds (where it is, or where it heads)
        self.held_by: dict[Train, str] = {}

    def __bool__(self) -> bool:
        return bool(self.rooms)

    def full(self, name: str) -> bool:
        room = self.rooms.get(name)
        return room is not None and room.full()

    def try_enter(self, train: Train, there: str) -> bool:
        """``train`` takes room at ``there`` if there is some (or none is needed), and
        gives back the room it held; False when ``there`` is full."""
        if self.held_by.get(train) == there:
            return True  # taken before (at the hub, before departure)
        room = self.rooms.get(there)
        if room is not None and room.full():
            return False
        self.leave(train)
        if room is not None:
            room.used += 1
            self.held_by[train] = there
        return True

    def leave(self, train: Train) -> None:
        """``train`` gives back the room it holds: the first train waiting for it gets it."""
        name = self.held_by.pop(train, None)
        if name is not None:
            self._free(self.rooms[name])

    def _free(self, room: Room) -> None:
        if room.waiting:  # handed over: the room stays used
            grant, train, _ = room.waiting.popleft()
            self.held_by[train] = room.name  # its old room is given back when it wakes
            grant.succeed(True)
        else:
            room.used -= 1

    def wait_for(self, train: Train, here: str | None, there: str) -> simpy.Event:
        """An event that fires when ``train`` (at ``here``) has room at ``there``: at once
        (value ``SWAPPED``) when a train at ``there`` waits for room at ``here``, the two
        swapping places; else when room frees, in turn (value True)."""
        grant = self.env.event()
        mine = self.rooms.get(here) if here is not None else None
        if here is not None and mine is not None and self.held_by.get(train) == here:
            for entry in mine.waiting:
                other_grant, other, other_at = entry
                if other_at == there and self.held_by.get(other) == there:
                    mine.waiting.remove(entry)
                    self.held_by[train] = there
                    self.held_by[other] = here
                    other_grant.succeed(SWAPPED)
                    grant.succeed(SWAPPED)
                    return grant
        self.rooms[there].waiting.append((grant, train, here))
        return grant

    def withdraw(self, grant: simpy.Event, there: str) -> None:
        """A waiting train gives up its turn at ``there`` (it re-plans); a room already
        handed to it goes on to the next in line."""
        room = self.rooms[there]
        for entry in room.waiting:
            if entry[0] is grant:
                room.waiting.remove(entry)
                return

    def took(self, train: Train, grant_value: Any, previous: str | None) -> None:
        """A train woken by its grant: after a hand-over it gives back its old room
        (``previous``); after a swap the other train has it already."""
        if grant_value is SWAPPED or previous is None:
            return
        room = self.rooms.get(previous)
        if room is not None:
            self._free(room)

    def give_back(self, train: Train, there: str, previous: str | None) -> None:
        """A train that was handed room at ``there`` cannot go after all (a closure):
        it keeps its old room ``previous`` and passes the room at ``there`` on."""
        if previous is None:
            del self.held_by[train]
        else:
            self.held_by[train] = previous
        self._free(self.rooms[there])
