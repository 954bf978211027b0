"""The one place where prompts are rendered from structured context.

Every provider receives the same messages; the offline provider ignores them and answers from the
context, but the messages still define the token accounting of every call.
"""

from __future__ import annotations

import json
from collections import Counter
from collections.abc import Callable
from functools import lru_cache

from pydantic import BaseModel

from ..model.voice import VoiceGuide
from . import prompts_branching, prompts_portal
from .contexts import (
    CANDID,
    CastMember,
    DialogExtractionContext,
    DialogTurnContext,
    ElaborationContext,
    EntityQueryContext,
    ExtractionContext,
    KnowledgeRef,
    MoodBrief,
    PopulationContext,
    PresenceContext,
    ProspectionContext,
    ScenarioBrief,
    SceneContext,
    TimepointEventContext,
)
from .protocol import ActionType, Message
from .schema import prompt_schema

JSON_RULE = (
    "Reply with one JSON object that matches the schema below, with no text before or after it."
)


def _scenario(s: ScenarioBrief) -> str:
    lines = [f"SCENARIO: {s.title}", s.description, f"Setting: {s.location.rstrip('.')}."]
    if s.atmosphere:
        lines.append(f"Atmosphere: {s.atmosphere.rstrip('.')}.")
    return "\n".join(lines)


def _known(k: KnowledgeRef) -> str:
    """One line of what a character holds; an anticipated item is marked as a belief about the
    future, not a fact (M15)."""
    if k.kind == "anticipated":
        return f"- {k.information} (what you expect will happen, not a known fact)"
    return f"- {k.information} ({k.kind}{', from ' + k.source if k.source else ''})"


@lru_cache(maxsize=64)
def _schema(model: type[BaseModel] | None) -> str:
    if model is None:
        return ""
    return f"{JSON_RULE}\nSchema:\n{json.dumps(prompt_schema(model), separators=(',', ':'))}"


def _population(ctx: PopulationContext) -> tuple[str, str]:
    system = (
        "You design the cast of a social simulation. Every character must belong to the "
        "scenario, have a concrete role, distinct personality and voice, and know specific "
        "facts that matter to the story."
    )
    existing = "\n".join(f"- {e.name} ({e.role})" for e in ctx.existing) or "- none yet"
    user = (
        f"{_scenario(ctx.scenario)}\n\nAlready in the cast:\n{existing}\n\n"
        f"Create {ctx.count} more entities of these types: {', '.join(ctx.types)}. "
        "Give each a name, role, description, 3 personality adjectives, behaviour traits "
        "in [0, 1], 3 knowledge items as full sentences, and a voice guide."
    )
    if ctx.roles:
        user += (
            f"\n\nThey are asked about by an observer, so they must fit what is established: "
            f"their roles, in order: {'; '.join(ctx.roles)}. They were there at {ctx.moment}; "
            "invent nothing that contradicts the cast or the events."
        )
    return system, user


def _elaboration(ctx: ElaborationContext) -> tuple[str, str]:
    who = f" {ctx.speaker_description}" if ctx.speaker_description else ""
    system = (
        f"You fill in the inner detail of {ctx.speaker.name}, {ctx.speaker.role}.{who} Someone "
        f"is asking about them at {ctx.moment}, so they are raised to the {ctx.level} level of "
        "detail. Add only what this person would plausibly know by then, consistent with "
        "everything below: never contradict an item, never mention anything that had not "
        "happened yet, and invent no new characters."
    )
    known = "\n".join(_known(k) for k in ctx.known) or "- nothing recorded"
    attended = "\n".join(f"- {a}" for a in ctx.attended) or "- nothing recorded"
    user = (
        f"{_scenario(ctx.scenario)}\n\nWhat they already know:\n{known}\n\n"
        f"What happened in front of them:\n{attended}\n\nThe question that brought this: "
        f"{ctx.question or '(none)'}\n\nGive up to {ctx.wanted} new knowledge items as full "
        "sentences with a confidence in [0, 1], and one sentence of memory in their own words."
    )
    return system, user


def _timepoint(ctx: TimepointEventContext) -> tuple[str, str]:
    system = (
        "You advance a simulation by one timepoint. Describe what happens next in two or three "
        "concrete sentences that follow causally from the previous events and from the state "
        "of the characters. Do not drift from the scenario's premise; never write filler such "
        "as 'events continue to unfold'."
    )
    previous = "\n".join(f"- {e}" for e in ctx.previous_events) or "- (this is the opening)"
    cast = _cast_lines(ctx.cast)
    beat = ""
    if ctx.beat_hint:
        beat = f"\nThe story requires this to happen now: {ctx.beat_hint}"
    user = (
        f"{_scenario(ctx.scenario)}\n\nTimepoint {ctx.index + 1} of {ctx.count} "
        f"({ctx.phase}), {ctx.timestamp:%Y-%m-%d %H:%M} ({ctx.time_of_day}). "
        f"Tension {ctx.tension:.2f}.{beat}\n\nPrevious events:\n{previous}\n\n"
        f"Characters now:\n{cast}\n\nGive a short title, the event description, its "
        "importance and tension in [0, 1], and the key events as short phrases."
    )
    return system, user


CAST_IN_FULL = 12  # a cast this size is listed in full; a larger one lists its witnesses by role
ROLES_NAMED = 8  # the roles a summary of witnesses names, the most common first


def _cast_lines(cast: tuple[CastMember, ...]) -> str:
    """Who the event is written around: each person with their mood. In a large cast those
    only witnessing (M1: they see what happens, and neither think nor speak) are one line of
    how many and what they are, so the prompt follows the people who matter, not the crowd."""
    crowd = [m for m in cast if m.witness_only] if len(cast) > CAST_IN_FULL else []
    shown = [m for m in cast if not (m.witness_only and crowd)]
    lines = [f"- {m.entity.name}, {m.entity.role}: {m.mood.label}" for m in shown]
    if crowd:
        roles = Counter(m.entity.role or m.entity.entity_type for m in crowd).most_common()
        named = ", ".join(f"{role} ({n})" for role, n in roles[:ROLES_NAMED])
        rest = len(roles) - ROLES_NAMED
        more = f", and {rest} other role{'s' if rest > 1 else ''}" if rest > 0 else ""
        lines.append(f"- Also there, watching: {len(crowd)} others: {named}{more}.")
    return "\n".join(lines)


def _presence(ctx: PresenceContext) -> tuple[str, str]:
    system = "You decide which characters are present at a moment of a simulation."
    candidates = "\n".join(f"- {e.entity_id}: {e.name}, {e.role}" for e in ctx.candidates)
    user = (
        f"{_scenario(ctx.scenario)}\n\nEvent: {ctx.event_description}\n\nCandidates:\n"
        f"{candidates}\n\nList the ids of the characters who are present, between "
        f"{ctx.min_present} and {ctx.max_present} of them, using only the ids above."
    )
    return system, user


def _voice_habits(v: VoiceGuide, tics: str) -> list[str]:
    """A voice guide's habits: its tics (under the label ``tics``), what it never says, what it
    keeps returning to."""
    lines = []
    if v.verbal_tics:
        lines.append(f"{tics}: " + "; ".join(v.verbal_tics) + ".")
    if v.never_says:
        lines.append("Never says: " + "; ".join(v.never_says) + ".")
    if v.specificity_anchors:
        lines.append("Keeps returning to: " + "; ".join(v.specificity_anchors) + ".")
    return lines


def _mood_numbers(m: MoodBrief) -> str:
    return (
        f"valence {m.valence:+.2f}, arousal {m.arousal:.2f}, energy {m.energy:.0f}/100, "
        f"fatigue {m.fatigue:.2f}, pain {m.pain:.2f}"
    )


def _inner_layer(ctx: DialogTurnContext) -> str:
    """The room (M10) and what the speaker carries from its last conversation (M15)."""
    lines = []
    if ctx.atmosphere is not None:
        a = ctx.atmosphere
        lines.append(
            f"The room: {a.description} (tension {a.tension:.2f}, formality {a.formality:.2f}, "
            f"valence {a.valence:+.2f}, energy {a.energy:.2f})."
        )
    if ctx.memory:
        lines.append(f"You remember from last time: {ctx.memory}")
    if ctx.concerns:
        lines.append("On your mind: " + "; ".join(ctx.concerns) + ".")
    return "".join(f"{line}\n" for line in lines)


def _dialog(ctx: DialogTurnContext) -> tuple[str, str]:
    v = ctx.voice
    voice = [
        f"Sentence length: {v.sentence_length}; formality: {v.formality}.",
        f"Style: {ctx.style.verbosity}, {ctx.style.tone}, {ctx.style.vocabulary} vocabulary, "
        f"{ctx.style.pattern}.",
    ]
    voice.extend(_voice_habits(v, "Verbal tics"))
    if v.speech_examples:
        voice.append("Sounds like: " + " / ".join(f'"{e}"' for e in v.speech_examples))
    mode_rule = {
        "speech": "Speak in the first person as this character.",
        "behavior": "This is an animal: narrate its behaviour in the third person, no human speech.",
        "environment": "This is a place or object: describe what the people in it sense.",
        "collective": "This is an abstract or spiritual presence: speak as a shared feeling.",
    }[ctx.speaking_mode]
    who = f" {ctx.speaker_description}" if ctx.speaker_description else ""
    system = (
        f"You are {ctx.speaker.name}, {ctx.speaker.role}.{who} {mode_rule}\n"
        f"Personality: {', '.join(ctx.personality) or 'unremarkable'}.\n"
        + "\n".join(voice)
        + "\n\nBACK LAYER (shapes how you speak; never state it): "
        f"mood {ctx.mood.label}, {_mood_numbers(ctx.mood)}.\n"
        + _inner_layer(ctx)
        + "Rules: say only what this character could know (the FRONT LAYER knowledge); refer to "
        "what was just said; one turn only; no stage directions unless the mode asks for them."
    )
    knowledge = "\n".join(_known(k) for k in ctx.knowledge) or "- nothing specific"
    listeners = "\n".join(
        f"- {r.entity.name} ({r.entity.role}): trust {r.trust:+.2f}, alignment "
        f"{r.alignment:+.2f}{'; ' + r.note if r.note else ''}"
        for r in ctx.listeners
    )
    if ctx.bystanders:
        listeners += f"\n- and {ctx.bystanders} others, listening"
    if ctx.absent:
        listeners += "\n\nPeople you know who are not here:\n" + "\n".join(
            f"- {r.entity.name} ({r.entity.role}): trust {r.trust:+.2f}, alignment "
            f"{r.alignment:+.2f}{'; ' + r.note if r.note else ''}"
            for r in ctx.absent
        )
    previous = "\n".join(f"{t.speaker_name}: {t.content}" for t in ctx.previous_turns) or (
        "(you speak first)"
    )
    beats = ""
    if ctx.prior_beats:
        beats = "\nAlready covered in earlier conversations, do not repeat:\n" + "\n".join(
            f"- {b}" for b in ctx.prior_beats
        )
    user = (
        f"{_scenario(ctx.scenario)}\n\nNow ({ctx.time_of_day}): {ctx.event_description}\n\n"
        f"FRONT LAYER. What you know:\n{knowledge}\n\nWho is here:\n{listeners}\n\n"
        f"Conversation so far:\n{previous}\n{beats}\n\nYour move: {ctx.move}"
        f"{' (answer ' + ctx.addressed_to + ')' if ctx.addressed_to else ''}. Turn "
        f"{ctx.turn_index + 1} of {ctx.planned_turns}. Give the spoken content, your emotional "
        "tone, the knowledge items you drew on (verbatim from the list), your stance toward the "
        "previous speaker, whom you address, and how your body affects your speech."
    )
    return system, user


_EXTRACTOR = (
    "You extract knowledge from dialog: complete semantic units (facts, decisions, "
    "opinions, plans, revelations, meaningful questions, agreements). Ignore greetings, "
    "filler and single names. Skip what the listeners already know."
)


def _held(known_by_listeners: dict[str, tuple[str, ...]]) -> str:
    """What each listener already knows, an item held by several written once with who holds
    it: listeners present together witnessed the same events, and a crowd of them would
    otherwise have each event written out once per listener."""
    holders: dict[str, dict[str, None]] = {}  # item -> who holds it, in order, each once
    for who, items in known_by_listeners.items():
        for item in items:
            holders.setdefault(item, {})[who] = None
    groups: dict[tuple[str, ...], list[str]] = {}
    for item, who in holders.items():
        if len(who) > 1:
            groups.setdefault(tuple(who), []).append(item)
    lines = []
    for who, items in groups.items():
        missing = [w for w in known_by_listeners if w not in who]
        if not missing:
            label = "all of them"
        elif len(missing) < len(who):
            label = f"all of them but {', '.join(missing)}"
        else:
            label = ", ".join(who)
        lines.append(f"- {label}: {', '.join(items)}")
    for who, items in known_by_listeners.items():
        own = list(dict.fromkeys(item for item in items if len(holders[item]) == 1))
        if own or not items:
            lines.append(f"- {who}: {', '.join(own) or 'nothing recorded'}")
    return "\n".join(lines)


def _extraction(ctx: ExtractionContext | DialogExtractionContext) -> tuple[str, str]:
    if isinstance(ctx, DialogExtractionContext):
        return _dialog_extraction(ctx)
    habits = (
        f"The speaker's verbal tics (habits, not content): {'; '.join(ctx.speaker_tics)}\n"
        if ctx.speaker_tics
        else ""
    )
    user = (
        f"{_scenario(ctx.scenario)}\n\n{ctx.speaker.name} said to "
        f'{", ".join(e.name for e in ctx.listeners)}:\n"{ctx.turn.content}"\n'
        f"Knowledge the speaker drew on: {', '.join(ctx.turn.knowledge_references) or 'none'}\n"
        f"{habits}\n"
        f"What the listeners already know:\n{_held(ctx.known_by_listeners)}\n\nList the "
        "knowledge items conveyed, with speaker and listener ids, category, confidence and "
        "causal relevance."
    )
    return _EXTRACTOR, user


def _dialog_extraction(ctx: DialogExtractionContext) -> tuple[str, str]:
    turns = []
    for n, t in enumerate(ctx.turns, start=1):
        turns.append(f'{n}. {t.speaker_name} ({t.speaker_id}): "{t.content}"')
        if t.knowledge_references:
            turns.append(f"   drew on: {', '.join(t.knowledge_references)}")
    habits = "".join(
        f"{who}'s verbal tics (habits, not content): {'; '.join(tics)}\n"
        for who, tics in ctx.speaker_tics.items()
    )
    user = (
        f"{_scenario(ctx.scenario)}\n\nThe dialog, turn by turn:\n" + "\n".join(turns) + "\n"
        f"Listening: {', '.join(f'{e.name} ({e.entity_id})' for e in ctx.listeners)}\n"
        f"{habits}\n"
        f"What the listeners already know:\n{_held(ctx.known_by_listeners)}\n\nList the "
        "knowledge items conveyed, each with the number of the turn that conveyed it, the "
        "listener ids (not the turn's speaker), category, confidence and causal relevance."
    )
    return _EXTRACTOR, user


def _query(ctx: EntityQueryContext) -> tuple[str, str]:
    v = ctx.voice
    voice = f"Sentence length: {v.sentence_length}; formality: {v.formality}."
    if v.verbal_tics:
        voice += " Verbal tics: " + "; ".join(v.verbal_tics) + "."
    if v.never_says:
        voice += " Never says: " + "; ".join(v.never_says) + "."
    who = f" {ctx.speaker_description}" if ctx.speaker_description else ""
    system = (
        f"You are {ctx.speaker.name}, {ctx.speaker.role}.{who} Someone asks you a question "
        f"about {ctx.moment}. Answer in character ({', '.join(ctx.personality) or 'plainly'}; "
        f"{voice}) and only from what you knew at that moment: if you do not know, say so in "
        f"your own words. Your mood then: {ctx.mood.label}."
    )
    knowledge = (
        "\n".join(
            _known(k) + (" [a secret: nobody else knows]" if k.private else "")
            for k in ctx.knowledge
        )
        or "- nothing specific"
    )
    guard = (
        "You are candid enough to tell a secret if asked straight."
        if ctx.candour >= CANDID
        else "Keep your secrets: deflect, in character, rather than tell one."
    )
    user = (
        f"{_scenario(ctx.scenario)}\n\n{guard}\n\n"
        f"The moment: {ctx.event_description or ctx.moment}\n\n"
        f"What you knew then:\n{knowledge}\n\nQuestion: {ctx.question}\n\nGive your answer, "
        "the knowledge items you drew on (verbatim from the list), your emotional tone and how "
        "confident you are in [0, 1]."
    )
    return system, user


def _prospection(ctx: ProspectionContext) -> tuple[str, str]:
    v = ctx.voice
    voice = [
        f"Sentence length: {v.sentence_length}; formality: {v.formality}.",
        *_voice_habits(v, "Verbal tics (use sparingly)"),
    ]
    system = (
        f"You are {ctx.entity.name}, {ctx.entity.role}. The conversation is over and you are "
        "alone with your thoughts.\n"
        f"Personality: {', '.join(ctx.personality) or 'unremarkable'}.\n"
        + "\n".join(voice)
        + "\n\nBACK LAYER (colours what you notice and remember; never state it): "
        f"mood {ctx.mood.label}, {_mood_numbers(ctx.mood)}.\n"
        "Rules: think in the first person, in your own voice; remember what mattered to you, "
        "not a neutral summary; only what you saw, heard or already knew."
    )
    transcript = (
        "\n".join(f"{t.speaker_name}: {t.content}" for t in ctx.turns) or "(nothing was said)"
    )
    part = (
        "You took part in it." if ctx.spoke else "You did not speak; you only listened and watched."
    )
    withheld = "\n".join(f"- {w}" for w in ctx.withheld) or "- nothing"
    concerns = (
        "\n".join(f"- {c.topic} (intensity {c.intensity:.2f})" for c in ctx.concerns)
        or "- none yet"
    )
    expectations = (
        "\n".join(
            f"- {e.about} (likelihood {e.likelihood:.2f}, hope {e.hope:+.2f})"
            for e in ctx.expectations
        )
        or "- none yet"
    )
    user = (
        f"{_scenario(ctx.scenario)}\n\n{ctx.timepoint_title}: {ctx.event_description}\n\n"
        f"The conversation. {part}\n{transcript}\n\n"
        f"What you knew and kept to yourself:\n{withheld}\n\n"
        f"What was already on your mind:\n{concerns}\n\n"
        f"What you expected before this:\n{expectations}\n\n"
        "Now give: your memory of this conversation, two to four sentences in the first person "
        "and in your own voice, dwelling on what struck you personally; up to 3 expectations "
        f"for {ctx.horizon}, each a full sentence with its likelihood in [0, 1] and hope in "
        "[-1, 1] (negative is dread); up to 3 new concerns as short topics with an intensity "
        "in [0, 1]; one impulse you held back during the conversation, or an empty string; "
        "and your anxiety in [0, 1]."
    )
    return system, user


def _scene(ctx: SceneContext) -> tuple[str, str]:
    system = (
        "You read the scene of one moment of a simulation: the physical place, and its "
        "atmosphere, the mood of the room that everyone in it feels and that shapes how they "
        "behave. Be concrete and "
        "specific to this scenario and this moment; never write filler such as 'the air is "
        "thick with tension' without saying what makes it so."
    )
    present = (
        "\n".join(
            f"- {m.entity.name}, {m.entity.role}: {m.mood.label} ({_mood_numbers(m.mood)})"
            for m in ctx.present
        )
        or "- nobody yet"
    )
    if ctx.bystanders:
        present += f"\n- and {ctx.bystanders} others"
    previous = "(this is the first scene)"
    if ctx.previous is not None:
        p = ctx.previous
        previous = (
            f"tension {p.tension:.2f}, formality {p.formality:.2f}, valence {p.valence:+.2f}, "
            f"energy {p.energy:.2f}. {p.description}"
        )
    user = (
        f"{_scenario(ctx.scenario)}\n\n{ctx.timepoint_title} ({ctx.time_of_day}). Tension of "
        f"the timeline: {ctx.tension:.2f}.\nEvent: {ctx.event_description}\n\n"
        f"Who is here, and their moods:\n{present}\n\n"
        f"The room as the previous conversation left it: {previous}\n\n"
        "Give the environment: the location (where in the setting this happens), lighting, "
        "sound, weather (empty if there is none to notice) and crowding (who is where, how "
        "close). Then the atmosphere as the scene opens: tension, formality and energy in "
        "[0, 1], valence in [-1, 1], and a description of one or two concrete sentences saying "
        "what the room feels like to be in."
    )
    return system, user


_RENDERERS: dict[ActionType, Callable[..., tuple[str, str]]] = {
    ActionType.ENTITY_POPULATION: _population,
    ActionType.TIMEPOINT_EVENT: _timepoint,
    ActionType.ENTITY_PRESENCE: _presence,
    ActionType.DIALOG_TURN: _dialog,
    ActionType.KNOWLEDGE_EXTRACTION: _extraction,
    ActionType.ENTITY_QUERY: _query,
    ActionType.ENTITY_ELABORATION: _elaboration,
    ActionType.PROSPECTION: _prospection,
    ActionType.SCENE_GENERATION: _scene,
    ActionType.COUNTERFACTUAL_PREDICTION: lambda c: prompts_branching.intervention(c, _scenario),
    ActionType.BRANCH_ALTERNATIVES: prompts_branching.alternatives,
    ActionType.PORTAL_BACKWARD_REASONING: lambda c: prompts_portal.antecedents(c, _scenario),
    ActionType.PORTAL_PATH_SCORING: lambda c: prompts_portal.antecedent_score(c, _scenario),
    ActionType.TEMPORAL_REASONING: lambda c: prompts_portal.path_coherence(c, _scenario),
}


def render(
    action: ActionType, context: BaseModel, response_model: type[BaseModel] | None = None
) -> tuple[Message, ...]:
    """Render the messages of one call from its structured context."""
    system, user = _RENDERERS[action](context)
    schema = _schema(response_model)
    if schema:
        user = f"{user}\n\n{schema}"
    return (Message(role="system", content=system), Message(role="user", content=user))
