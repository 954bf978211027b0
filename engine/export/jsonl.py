"""JSONL training data, two kinds of prompt/completion pair, both taken from what happened:

- ``dialog_turn``: one per turn actually spoken; the prompt is what the run's read model held
  for the speaker at that moment (by causal ancestry), the completion exactly the turn's text;
- ``state_change``: one per entity present at a timepoint; the prompt is the entity as it came
  into the moment and the event, the completion what the moment actually changed in it (the
  knowledge it gained and from whom, its recorded mood and energy before and after, the cause
  the run recorded, what it said), never a formula.

The sections a speaker's prompt shares across its turns at one moment are built once."""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass
from typing import Any

import orjson

from ..model.records import KnowledgeInfo, RelationInfo, StateInfo, TimepointInfo, TurnInfo
from .selection import Selection
from .tally import Tally

KINDS = frozenset({"dialog_turn", "state_change"})


def _state_lines(state: StateInfo | None) -> str:
    if state is None:
        return "  (no recorded state)"
    lines = [
        f"  Emotional: valence {state.valence:+.2f}, arousal {state.arousal:.2f}",
        f"  Energy: {state.energy:.0f}/100, resolution {state.resolution}",
    ]
    if state.cognitive is not None:
        cog = state.cognitive
        values = ", ".join(
            f"{k} {v:.2f}"
            for k in type(cog).model_fields
            if isinstance(v := getattr(cog, k), int | float)
        )
        if values:
            lines.append(f"  Cognitive: {values}")
    return "\n".join(lines)


def _knowledge_line(k: KnowledgeInfo) -> str:
    when = f" at {k.timepoint_id}" if k.timepoint_id else " from the start"
    how = f"{k.kind} from {k.source}" if k.source else k.kind
    return f'  - "{k.information}" ({how}{when}, confidence {k.confidence:.2f})'


def _relation_lines(rels: list[tuple[str, RelationInfo]]) -> str:
    if not rels:
        return "  (none recorded)"
    return "\n".join(
        f"  {other}: trust {r.trust:+.2f}, alignment {r.alignment:+.2f}, "
        f"{r.interaction_count} interactions"
        for other, r in rels
    )


def _scene_lines(sel: Selection, tp: TimepointInfo) -> list[str]:
    scene = sel.view.scene(tp.timepoint_id)
    if scene is None:
        return [f"  Tension: {tp.tension:.2f}"]
    a = scene.atmosphere
    return [
        f"  Location: {scene.environment.location}",
        f"  Tension {a.tension:.2f}, formality {a.formality:.2f}, valence {a.valence:+.2f}, "
        f"energy {a.energy:.2f}",
        f"  {a.description}",
    ]


def _history_lines(sel: Selection, tp: TimepointInfo) -> list[str]:
    """The moments that led here, oldest first (the last few), by causal ancestry."""
    count, latest = sel.view.ancestry(tp.timepoint_id, 4)
    if not count:
        return ["  (this is the first moment)"]
    lines = [f"  {count} earlier moment(s); the latest:"]
    for t in latest:
        lines.append(f"  - {t.timestamp.isoformat()} {t.title or t.event_description[:80]}")
    return lines


@dataclass(slots=True)
class _Entity:
    """One entity at the current timepoint: what all its records there share."""

    who: str  # "Name, role"
    block: str  # its state, knowledge and relationship sections of the prompt
    meta: dict[str, Any]  # the metadata each of its records starts from
    before: StateInfo | None  # as the parent moment left it
    after: StateInfo | None  # as this moment left it


class _Context:
    """Prompt sections and metadata per (entity, timepoint) and per timepoint, built once.
    Records are made a timepoint at a time, so only the current timepoint's are kept: memory
    stays flat however long the run."""

    def __init__(self, sel: Selection) -> None:
        self.sel = sel
        self._at: str | None = None
        self._entities: dict[str, _Entity] = {}
        self._moment = ""
        self._asked: set[str] = set()

    def moment(self, tp: TimepointInfo) -> str:
        """The timepoint's sections of the prompt (history, atmosphere, the event)."""
        if tp.timepoint_id != self._at:
            self._at = tp.timepoint_id
            self._entities.clear()
            self._asked = {q.entity_id for q in self.sel.view.queries(tp.timepoint_id)}
            mode = self.sel.run.mode.value
            event = f"{tp.title}: {tp.event_description}" if tp.title else tp.event_description
            self._moment = "\n".join(
                [
                    "=== CAUSAL HISTORY (M7) ===",
                    *_history_lines(self.sel, tp),
                    "",
                    "=== ATMOSPHERE (M10) ===",
                    *_scene_lines(self.sel, tp),
                    "",
                    f"=== EVENT NOW ({tp.timestamp.isoformat()}, {mode} mode, "
                    f"branch {tp.branch_id}) ===",
                    f"  {event}",
                    f"  Present: {', '.join(tp.present)}",
                ]
            )
        return self._moment

    def entity(self, entity_id: str, tp: TimepointInfo) -> _Entity:
        self.moment(tp)
        found = self._entities.get(entity_id)
        if found is None:
            found = self._entities[entity_id] = self._entity(entity_id, tp)
        return found

    def _entity(self, entity_id: str, tp: TimepointInfo) -> _Entity:
        sel, view, at = self.sel, self.sel.view, tp.timepoint_id
        before = view.state_at(entity_id, tp.parent) if tp.parent else None
        after = view.state_at(entity_id, at)
        came_in = before if before is not None else after  # the state it came in with
        known = view.recent_knowledge(entity_id, at, 8)
        knowledge = "\n".join(map(_knowledge_line, known)) if known else "  (nothing known yet)"
        block = "\n".join(
            [
                f"=== ENTITY STATE (M6) at {at} ===",
                _state_lines(came_in),
                "",
                "=== KNOWLEDGE PROVENANCE (M3) ===",
                knowledge,
                "",
                "=== RELATIONSHIPS (M13) ===",
                _relation_lines(view.relations_at(entity_id, tp.parent or at)),
            ]
        )
        who = view.entities.get(entity_id)
        name = who.name if who else entity_id
        meta = {
            "kind": "",
            "run_id": sel.run.run_id,
            "scenario": sel.run.scenario,
            "timepoint_id": at,
            "timestamp": tp.timestamp.isoformat(),
            "branch": tp.branch_id,
            "speaker": entity_id,
            "archetype": who.archetype if who else None,
            "mode": sel.run.mode.value,
            "emotional_valence": after.valence if after else None,
            "emotional_arousal": after.arousal if after else None,
            "energy": after.energy if after else None,
            "resolution": after.resolution if after else None,
            "timepoint_status": tp.status,
            "query_influenced": entity_id in self._asked,
        }
        return _Entity(
            f"{name}, {who.role}" if who and who.role else name, block, meta, before, after
        )


def _turn_prompt(ctx: _Context, turn: TurnInfo, tp: TimepointInfo, before: list[TurnInfo]) -> str:
    run = ctx.sel.run
    parts = [
        f"You are {ctx.entity(turn.speaker, tp).who}, in a {run.mode.value} temporal simulation "
        f"({run.scenario}). Speak your next dialog turn.",
        "",
        ctx.entity(turn.speaker, tp).block,
        "",
        ctx.moment(tp),
    ]
    if before:
        parts += ["", "=== DIALOG SO FAR (M11) ==="]
        parts += [f"  {t.speaker}: {t.content}" for t in before[-6:]]
    if turn.addressed_to:
        parts += ["", f"You are speaking to {turn.addressed_to}."]
    return "\n".join(parts)


def _meta(ctx: _Context, tp: TimepointInfo, entity_id: str, kind: str) -> dict[str, Any]:
    meta = dict(ctx.entity(entity_id, tp).meta)
    meta["kind"] = kind
    return meta


def _licence(meta: dict[str, Any], made_by: tuple[Any, ...], fallback: Any) -> None:
    meta["provider"] = made_by[0].provider if made_by else fallback.provider
    meta["model"] = made_by[0].model if made_by else fallback.model
    meta["models"] = [m.model for m in made_by]
    meta["licence"] = made_by[0].licence if made_by else None
    meta["training_safe"] = bool(made_by) and all(m.training_safe for m in made_by)


def _turn_records(sel: Selection, ctx: _Context, tp: TimepointInfo, turns: list[TurnInfo]):
    said = [t for t in sel.view.turns(tp.timepoint_id) if t.status != "failed"]
    for turn in turns:
        before = [t for t in said if t.turn_index < turn.turn_index]
        meta = _meta(ctx, tp, turn.speaker, "dialog_turn")
        meta.update(
            dialog_id=turn.dialog_id,
            turn_index=turn.turn_index,
            addressed_to=turn.addressed_to,
            emotional_tone=turn.emotional_tone,
            mechanisms=["M3", "M6", "M7", "M10", "M11", "M13"],
            degraded=turn.status != "ok" or tp.status != "ok",
            turn_status=turn.status,
        )
        _licence(meta, sel.models_of(turn), sel.run)
        yield {
            "prompt": _turn_prompt(ctx, turn, tp, before),
            "completion": turn.content,
            "metadata": meta,
        }


def _change(ctx: _Context, entity_id: str, tp: TimepointInfo, spoke: list[TurnInfo]) -> str:
    view = ctx.sel.view
    here = ctx.entity(entity_id, tp)
    before, after = here.before, here.after
    gained = view.knowledge_during(entity_id, tp.timepoint_id)
    change: dict[str, Any] = {
        "new_knowledge": [
            {
                "information": k.information,
                "how": k.kind,
                "from": k.source,
                "confidence": k.confidence,
            }
            for k in gained
        ],
    }
    if after is not None and after.timepoint_id == tp.timepoint_id:
        start = before or after
        change["energy"] = {
            "before": start.energy,
            "after": after.energy,
            "change": round(after.energy - start.energy, 4),
        }
        change["emotion"] = {
            "valence_before": start.valence,
            "valence_after": after.valence,
            "arousal_before": start.arousal,
            "arousal_after": after.arousal,
        }
        change["recorded_cause"] = after.cause
    inner = view.inner_at(entity_id, tp.timepoint_id)
    if inner is not None and inner.timepoint_id == tp.timepoint_id:
        change["memory"] = inner.memory
        change["concerns"] = [c.topic for c in inner.concerns]
    change["said"] = [t.content for t in spoke]
    return orjson.dumps(change).decode()


def _change_prompt(ctx: _Context, entity_id: str, tp: TimepointInfo) -> str:
    return "\n".join(
        [
            f"An entity lives through a moment of a {ctx.sel.run.mode.value} temporal simulation "
            f"({ctx.sel.run.scenario}). Say what the moment changes in "
            f"{ctx.entity(entity_id, tp).who}: "
            "what they learn and from whom, their mood and energy, what they say.",
            "",
            ctx.entity(entity_id, tp).block,
            "",
            ctx.moment(tp),
        ]
    )


def jsonl_records(sel: Selection, *, kinds: frozenset[str] = KINDS) -> Iterator[dict[str, Any]]:
    """The records, a timepoint at a time: its turns, then its entities' changes."""
    ctx = _Context(sel)
    by_tp: dict[str, list[TurnInfo]] = {}
    for turn in sel.turns:
        by_tp.setdefault(turn.timepoint_id, []).append(turn)
    wanted = set(sel.entities)
    for tp in sel.timepoints:
        turns = by_tp.get(tp.timepoint_id, [])
        if "dialog_turn" in kinds:
            yield from _turn_records(sel, ctx, tp, turns)
        if "state_change" not in kinds:
            continue
        for entity_id in tp.present:
            if (wanted and entity_id not in wanted) or entity_id not in sel.view.entities:
                continue
            spoke = [t for t in turns if t.speaker == entity_id]
            meta = _meta(ctx, tp, entity_id, "state_change")
            meta.update(
                mechanisms=["M3", "M6", "M7", "M10", "M13", "M15"],
                degraded=tp.status != "ok",
            )
            made_by = tuple(dict.fromkeys(m for t in spoke for m in sel.models_of(t)))
            _licence(meta, made_by or sel.models, sel.run)
            if sel.training_safe_only and not meta["training_safe"]:
                continue
            yield {
                "prompt": _change_prompt(ctx, entity_id, tp),
                "completion": _change(ctx, entity_id, tp, spoke),
                "metadata": meta,
            }


def jsonl_lines(sel: Selection, tally: Tally) -> Iterator[bytes]:
    """The records as JSON lines (UTF-8), counted by kind."""
    for record in jsonl_records(sel):
        tally.records += 1
        tally.add(record["metadata"]["kind"])
        yield orjson.dumps(record, option=orjson.OPT_APPEND_NEWLINE)
