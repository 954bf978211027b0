"""JSONL training data: one prompt/completion pair per dialog turn actually spoken, the prompt
built from what the run's read model held for the speaker at that moment (by causal ancestry),
the completion exactly the turn's text."""

from __future__ import annotations

import json
from collections.abc import Iterator
from typing import Any

from ..model.records import TimepointInfo, TurnInfo
from .selection import Selection
from .tally import Tally


def _state_lines(sel: Selection, speaker: str, tp: TimepointInfo) -> list[str]:
    # the state the speaker came into this moment with: as its parent left it
    state = sel.view.state_at(speaker, tp.parent) if tp.parent else None
    if state is None:
        state = sel.view.state_at(speaker, tp.timepoint_id)
    if state is None:
        return ["  (no recorded state)"]
    lines = [
        f"  Emotional: valence {state.valence:+.2f}, arousal {state.arousal:.2f}",
        f"  Energy: {state.energy:.0f}/100, resolution {state.resolution}",
    ]
    if state.cognitive is not None:
        cog = state.cognitive.model_dump(mode="json")
        values = ", ".join(f"{k} {v:.2f}" for k, v in cog.items() if isinstance(v, int | float))
        if values:
            lines.append(f"  Cognitive: {values}")
    return lines


def _knowledge_lines(sel: Selection, speaker: str, tp: TimepointInfo) -> list[str]:
    known = sel.view.knowledge_at(speaker, tp.timepoint_id)
    if not known:
        return ["  (nothing known yet)"]
    lines = []
    for k in known[-8:]:
        when = f" at {k.timepoint_id}" if k.timepoint_id else " from the start"
        how = f"{k.kind} from {k.source}" if k.source else k.kind
        lines.append(f'  - "{k.information}" ({how}{when}, confidence {k.confidence:.2f})')
    return lines


def _relation_lines(sel: Selection, speaker: str, tp: TimepointInfo) -> list[str]:
    rels = sel.view.relations_at(speaker, tp.parent or tp.timepoint_id)
    if not rels:
        return ["  (none recorded)"]
    return [
        f"  {other}: trust {r.trust:+.2f}, alignment {r.alignment:+.2f}, "
        f"{r.interaction_count} interactions"
        for other, r in rels
    ]


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


def _prompt(sel: Selection, turn: TurnInfo, tp: TimepointInfo, before: list[TurnInfo]) -> str:
    view, run = sel.view, sel.run
    who = view.entities.get(turn.speaker)
    name = who.name if who else turn.speaker
    role = f", {who.role}" if who and who.role else ""
    parts = [
        f"You are {name}{role}, in a {run.mode.value} temporal simulation "
        f"({run.scenario}). Speak your next dialog turn.",
        "",
        f"=== ENTITY STATE (M6) at {tp.timepoint_id} ===",
        *_state_lines(sel, turn.speaker, tp),
        "",
        "=== KNOWLEDGE PROVENANCE (M3) ===",
        *_knowledge_lines(sel, turn.speaker, tp),
        "",
        "=== RELATIONSHIPS (M13) ===",
        *_relation_lines(sel, turn.speaker, tp),
        "",
        "=== ATMOSPHERE (M10) ===",
        *_scene_lines(sel, tp),
        "",
        f"=== EVENT NOW ({tp.timestamp.isoformat()}, branch {tp.branch_id}) ===",
        f"  {tp.title}: {tp.event_description}" if tp.title else f"  {tp.event_description}",
        f"  Present: {', '.join(tp.present)}",
    ]
    if before:
        parts += ["", "=== DIALOG SO FAR (M11) ==="]
        parts += [f"  {t.speaker}: {t.content}" for t in before[-6:]]
    if turn.addressed_to:
        parts += ["", f"You are speaking to {turn.addressed_to}."]
    return "\n".join(parts)


def jsonl_records(sel: Selection) -> Iterator[dict[str, Any]]:
    view, run = sel.view, sel.run
    tps = {t.timepoint_id: t for t in sel.timepoints}
    spoken: dict[str, list[TurnInfo]] = {}
    for turn in sel.turns:
        tp = tps[turn.timepoint_id]
        all_turns = view.turns(tp.timepoint_id)
        before = [t for t in all_turns if t.turn_index < turn.turn_index and t.status != "failed"]
        spoken.setdefault(tp.timepoint_id, []).append(turn)
        who = view.entities.get(turn.speaker)
        state = view.state_at(turn.speaker, tp.timepoint_id)
        made_by = sel.models_of(turn)
        queried = any(q.entity_id == turn.speaker for q in view.queries(tp.timepoint_id))
        yield {
            "prompt": _prompt(sel, turn, tp, before),
            "completion": turn.content,
            "metadata": {
                "run_id": run.run_id,
                "timepoint_id": tp.timepoint_id,
                "branch": tp.branch_id,
                "dialog_id": turn.dialog_id,
                "turn_index": turn.turn_index,
                "speaker": turn.speaker,
                "archetype": who.archetype if who else None,
                "mode": run.mode.value,
                "mechanisms": ["M3", "M6", "M7", "M10", "M11", "M13"],
                "emotional_tone": turn.emotional_tone,
                "emotional_valence": state.valence if state else None,
                "emotional_arousal": state.arousal if state else None,
                "provider": made_by[0].provider if made_by else run.provider,
                "model": made_by[0].model if made_by else run.model,
                "models": [m.model for m in made_by],
                "licence": made_by[0].licence if made_by else None,
                "training_safe": bool(made_by) and all(m.training_safe for m in made_by),
                "degraded": turn.status != "ok" or tp.status != "ok",
                "turn_status": turn.status,
                "timepoint_status": tp.status,
                "query_influenced": queried,
            },
        }


def jsonl_lines(sel: Selection, tally: Tally) -> Iterator[str]:
    """The records as JSON lines, counted."""
    for record in jsonl_records(sel):
        tally.records += 1
        yield json.dumps(record, ensure_ascii=False) + "\n"
