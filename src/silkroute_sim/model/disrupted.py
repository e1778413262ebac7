"""Which of a run's resources its disruptions touch, read from the config before anything
is built: those resources are made adjustable from the start (their capacity can be cut
and restored, their units can break down), the others lean."""

from __future__ import annotations

from dataclasses import dataclass, field

from silkroute_sim.config.schema import ScenarioConfig


@dataclass(frozen=True)
class DisruptedResources:
    """The hub resources (``gate``, ``cranes``, ``loading_tracks``, ``yard``) and corridor
    nodes that disruptions touch, which of them break down, and whether a broken-down
    holder resumes its task after the repair (else it starts again)."""

    hub: frozenset[str] = frozenset()
    nodes: frozenset[str] = frozenset()
    crane_breakdowns: bool = False
    broken_nodes: frozenset[str] = frozenset()
    resume: dict[str, bool] = field(default_factory=dict)

    @classmethod
    def of(cls, cfg: ScenarioConfig) -> DisruptedResources:
        section = cfg.disruptions
        if not section.any():
            return cls()
        effects = [*section.scheduled, *section.random.weather]
        breakdowns = section.random.breakdowns
        crane_breakdowns = any(b.hub == "cranes" for b in breakdowns)
        hub = {e.hub for e in effects if e.hub is not None}
        if crane_breakdowns:
            hub.add("cranes")
        broken_nodes = frozenset(b.node for b in breakdowns if b.node is not None)
        nodes = {e.node for e in effects if e.node is not None} | broken_nodes
        return cls(
            hub=frozenset(hub),
            nodes=frozenset(nodes),
            crane_breakdowns=crane_breakdowns,
            broken_nodes=broken_nodes,
            resume={b.node or "hub.cranes": b.on_repair == "resume" for b in breakdowns},
        )
