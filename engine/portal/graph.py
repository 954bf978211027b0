"""The search graph of PORTAL (M17): candidate states found by reasoning back from an endpoint.

PORTAL starts from a state it knows, the endpoint, and looks for the states that could have led
to it, one step further back at a time, until it reaches the origin side. Steps count backwards:
step 0 is the endpoint, step 1 a state just before it, and step ``steps`` a state on the origin
side. Every candidate names the later state it leads to (its *consequent*, ``parent_id``), so the
candidates form a tree hanging from the endpoint; a candidate's *antecedents* are the candidates
that name it. Nothing is thrown away: a branch the search gave up on stays in the graph, and every
complete history can be read back from it.

Ordering is deterministic: candidates are listed in the order they were added.
"""

from __future__ import annotations

import math
from collections.abc import Iterator
from dataclasses import dataclass, field


@dataclass(frozen=True)
class Candidate:
    """One possible state of the world at one step before the endpoint.

    ``entity_changes`` says how much each entity's state changes at this state (a magnitude, at
    least 0). ``components`` holds the score components that could be computed (each in [0, 1])
    and ``missing`` the ones that could not, with the reason; ``score`` is their combination, or
    None when there was nothing to combine. The mappings are copied on construction, so changing
    the caller's dictionaries afterwards does not change the candidate.
    """

    candidate_id: str
    step: int
    parent_id: str | None
    description: str
    key_events: tuple[str, ...] = ()
    entities_present: tuple[str, ...] = ()
    entity_changes: dict[str, float] = field(default_factory=dict)
    components: dict[str, float] = field(default_factory=dict)
    missing: dict[str, str] = field(default_factory=dict)
    score: float | None = None

    def __post_init__(self) -> None:
        if not self.candidate_id:
            raise ValueError("A candidate needs a non-empty id.")
        if isinstance(self.step, bool) or not isinstance(self.step, int) or self.step < 0:
            raise ValueError(
                f"Candidate {self.candidate_id!r} has step {self.step!r}; a step is a whole "
                "number from 0 (the endpoint) upwards."
            )
        if (self.step == 0) != (self.parent_id is None):
            raise ValueError(
                f"Candidate {self.candidate_id!r} is inconsistent: the endpoint (step 0) and only "
                "the endpoint has no consequent state."
            )
        for name, value in self.entity_changes.items():
            if not math.isfinite(value) or value < 0:
                raise ValueError(
                    f"Candidate {self.candidate_id!r} gives {name!r} a change of {value!r}; a "
                    "change is a magnitude of at least 0."
                )
        for name, value in self.components.items():
            if not 0.0 <= value <= 1.0:
                raise ValueError(
                    f"Candidate {self.candidate_id!r} has component {name!r} = {value!r}, "
                    "outside [0, 1]."
                )
        if self.score is not None and not 0.0 <= self.score <= 1.0:
            raise ValueError(
                f"Candidate {self.candidate_id!r} has score {self.score!r}, outside [0, 1]."
            )
        object.__setattr__(self, "key_events", tuple(self.key_events))
        object.__setattr__(self, "entities_present", tuple(self.entities_present))
        object.__setattr__(self, "entity_changes", dict(self.entity_changes))
        object.__setattr__(self, "components", dict(self.components))
        object.__setattr__(self, "missing", dict(self.missing))

    @property
    def text(self) -> str:
        """What the state says happened: its description followed by its key events."""
        return " ".join((self.description, *self.key_events)).strip()


class SearchGraph:
    """The candidates of one backward search over ``steps`` steps, as a tree from the endpoint.

    The endpoint must be added first; every other candidate must lead to a candidate already in
    the graph, exactly one step nearer the endpoint.
    """

    def __init__(self, steps: int) -> None:
        if isinstance(steps, bool) or not isinstance(steps, int) or steps < 1:
            raise ValueError(f"A backward search needs at least 1 step, not {steps!r}.")
        self.steps = steps
        self._nodes: dict[str, Candidate] = {}
        self._children: dict[str, list[str]] = {}
        self._endpoint: str | None = None

    def __len__(self) -> int:
        return len(self._nodes)

    def __contains__(self, candidate_id: object) -> bool:
        return candidate_id in self._nodes

    def __iter__(self) -> Iterator[Candidate]:
        return iter(self._nodes.values())

    def __getitem__(self, candidate_id: str) -> Candidate:
        try:
            return self._nodes[candidate_id]
        except KeyError:
            raise KeyError(f"There is no candidate {candidate_id!r} in the graph.") from None

    def add(self, candidate: Candidate) -> None:
        """Add one candidate; ValueError if its id is taken, its consequent is not in the graph
        or not one step nearer the endpoint, or it lies beyond the origin side."""
        cid = candidate.candidate_id
        if cid in self._nodes:
            raise ValueError(f"The graph already holds a candidate with id {cid!r}.")
        if candidate.step > self.steps:
            raise ValueError(
                f"Candidate {cid!r} is at step {candidate.step}, beyond the origin side "
                f"(step {self.steps})."
            )
        if candidate.parent_id is None:
            if self._endpoint is not None:
                raise ValueError(
                    f"Candidate {cid!r} would be a second endpoint; the graph has "
                    f"{self._endpoint!r} already."
                )
            self._endpoint = cid
        else:
            parent = self._nodes.get(candidate.parent_id)
            if parent is None:
                raise ValueError(
                    f"Candidate {cid!r} leads to {candidate.parent_id!r}, which is not in the graph."
                )
            if parent.step != candidate.step - 1:
                raise ValueError(
                    f"Candidate {cid!r} at step {candidate.step} leads to {parent.candidate_id!r} "
                    f"at step {parent.step}; a consequent is exactly one step nearer the endpoint."
                )
            self._children[parent.candidate_id].append(cid)
        self._nodes[cid] = candidate
        self._children[cid] = []

    def children_of(self, candidate_id: str) -> list[Candidate]:
        """The antecedents found for a candidate: the candidates that lead to it."""
        self[candidate_id]  # a KeyError that names the id
        return [self._nodes[c] for c in self._children[candidate_id]]

    def at_step(self, step: int) -> list[Candidate]:
        """The candidates at one step."""
        return [c for c in self._nodes.values() if c.step == step]

    def endpoint(self) -> Candidate:
        """The known state the search starts from; LookupError before it is added."""
        if self._endpoint is None:
            raise LookupError("The graph has no endpoint yet.")
        return self._nodes[self._endpoint]

    def path(self, candidate_id: str) -> list[Candidate]:
        """The history through one candidate: from it, following consequents, to the endpoint,
        listed the way time runs (the candidate first, the endpoint last)."""
        chain = [self[candidate_id]]
        while chain[-1].parent_id is not None:
            chain.append(self._nodes[chain[-1].parent_id])
        return chain

    def leaves(self) -> list[Candidate]:
        """The candidates nobody has found an antecedent for yet: complete histories' origin
        ends and abandoned branches alike, deepest first (then in the order added)."""
        ends = [c for c in self._nodes.values() if not self._children[c.candidate_id]]
        return sorted(ends, key=lambda c: -c.step)  # a stable sort keeps the order added

    def paths(self) -> list[list[Candidate]]:
        """Every complete history: one per candidate at the origin step, each from that
        candidate to the endpoint, in depth-first order from the endpoint (antecedents in the
        order added)."""
        if self._endpoint is None:
            return []
        out: list[list[Candidate]] = []
        stack = [self._endpoint]
        while stack:
            cid = stack.pop()
            if self._nodes[cid].step == self.steps:
                out.append(self.path(cid))
            stack.extend(reversed(self._children[cid]))
        return out
