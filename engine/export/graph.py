"""The causal graph of what a selection holds, as the exports and convergence read it.

Three kinds of edge, each taken from what the run recorded:

- ``temporal``: a timepoint and the one it follows from (its causal parent);
- ``knowledge_flow``: one entity telling another something (an exposure with a source entity),
  at the timepoint it happened;
- ``causal``: a timepoint's event giving an entity something it witnessed or learned there, and
  a spoken turn drawing on a piece of knowledge the speaker held.

Each edge has two keys: ``ids`` (the run's own ids, for TDF) and ``content`` (what the edge is
about, with timepoint and exposure ids replaced by normalised text, so two runs that happened
the same way share edges although their ids differ; used by convergence)."""

from __future__ import annotations

import re
from collections.abc import Iterator
from dataclasses import dataclass

from .selection import Selection

_WORDS = re.compile(r"[a-z0-9]+")


def normalise(text: str, words: int = 12) -> str:
    """Lower-case words of ``text``, at most ``words`` of them: a content key."""
    return " ".join(_WORDS.findall(text.lower())[:words])


@dataclass(frozen=True, slots=True)
class Edge:
    kind: str  # temporal | knowledge_flow | causal
    source: str  # ids: a timepoint id, an entity id or ``turn:DIALOG#N``
    target: str
    timepoint_id: str  # where it happened
    label: str  # a short human description
    content: tuple[str, str, str]  # (kind, source key, target key): the run-independent key


def _tp_key(sel: Selection, timepoint_id: str | None) -> str:
    tp = sel.view.timepoint(timepoint_id)
    if tp is None:
        return "start"
    return "tp:" + normalise(tp.title or tp.event_description)


_NO_KEY = ("", "", "")


def edges(sel: Selection, *, content: bool = True) -> Iterator[Edge]:
    """Every edge among the selection's timepoints and entities, in the run's order; without
    ``content`` their content keys are left empty (TDF writes ids, only convergence compares
    content, and the keys are most of the cost)."""
    view = sel.view
    tps = {t.timepoint_id for t in sel.timepoints}
    wanted = set(sel.entities) or set(view.entities)
    for tp in sel.timepoints:
        if tp.parent and tp.parent in tps:
            yield Edge(
                "temporal",
                tp.parent,
                tp.timepoint_id,
                tp.timepoint_id,
                "follows from",
                ("temporal", _tp_key(sel, tp.parent), _tp_key(sel, tp.timepoint_id))
                if content
                else _NO_KEY,
            )
    for entity_id in sorted(wanted):
        for k in view.all_knowledge(entity_id):
            if not k.timepoint_id or k.timepoint_id not in tps:
                continue
            fact = normalise(k.information) if content else ""
            if k.source and k.source in view.entities and k.source != entity_id:
                yield Edge(
                    "knowledge_flow",
                    k.source,
                    entity_id,
                    k.timepoint_id,
                    f"{k.kind}: {k.information}",
                    ("knowledge_flow", f"{k.source}>{entity_id}", fact) if content else _NO_KEY,
                )
            elif k.kind in {"witnessed", "learned", "experienced"}:
                yield Edge(
                    "causal",
                    k.timepoint_id,
                    entity_id,
                    k.timepoint_id,
                    f"{k.kind}: {k.information}",
                    ("causal", _tp_key(sel, k.timepoint_id), f"{entity_id}:{fact}")
                    if content
                    else _NO_KEY,
                )
    for turn in sel.turns:
        for ref in turn.knowledge_references:
            key = _NO_KEY
            if content:
                item = view.knowledge_item(turn.speaker, turn.timepoint_id, ref)
                about = normalise(item.information if item else ref)
                key = (
                    "causal",
                    f"knows:{about}",
                    f"says:{turn.speaker}@{_tp_key(sel, turn.timepoint_id)}",
                )
            yield Edge(
                "causal",
                f"knowledge:{ref}",
                f"turn:{turn.dialog_id}#{turn.turn_index}",
                turn.timepoint_id,
                f"{turn.speaker} draws on it",
                key,
            )
