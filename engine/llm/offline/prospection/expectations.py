"""What a character expects after a dialog: a few outcomes, how likely each seems and whether
it is hoped for or dreaded."""

from __future__ import annotations

from random import Random

from ....model.inner import Expectation
from ...contexts import ProspectionContext
from .. import text as tx
from ..library import InnerBank
from .phrasing import _say
from .reading import Reading, _answered_after, _overlap, _proposes, _turn_topic
from .topics import _people, _subject, topic_kind


def _clamp(value: float, low: float = 0.0, high: float = 1.0) -> float:
    return round(max(low, min(high, value)), 2)


def _expectations(
    ctx: ProspectionContext,
    bank: InnerBank,
    chosen_lens: str,
    readings: list[Reading],
    salient: Reading | None,
    slots: dict[str, str],
    rng: Random,
) -> tuple[Expectation, ...]:
    m = ctx.mood
    dark = m.valence < 0.15 or chosen_lens == "threat"
    said = " ".join(t.content for t in ctx.turns)
    # (priority, template group, slots, likelihood, hope)
    options: list[tuple[float, str, dict[str, str], float, float]] = []
    bias = {
        "threat": {"secret_out": 1.0, "pressed": 0.8, "worse": 0.6},
        "people": {"person": 1.0, "better": 0.4},
        "decision": {"proposal": 1.0, "open_question": 0.8},
        "pride": {"pressed": 0.6, "proposal": 0.6},
    }.get(chosen_lens, {})

    def offer(kind: str, group: str, extra: dict[str, str], likelihood: float, hope: float) -> None:
        priority = 1.0 + bias.get(kind, 0.0) + rng.random() * 0.6
        options.append((priority, group, {**slots, **extra}, likelihood, hope))

    if ctx.withheld:
        touched = bool(salient and salient.secret)
        secret = slots["secret"]
        offer(
            "secret_out",
            "secret_out",
            {"secret": secret},
            0.3 + 0.3 * m.arousal + (0.2 if touched else 0.0),
            -(0.5 + 0.4 * m.arousal),
        )
    me = ctx.entity.entity_id
    for r in readings:
        pointed = r.kind in ("question", "challenge") and r.turn.addressed_to == me
        if pointed and not _answered_after(ctx, r.turn):
            offer(
                "pressed",
                "pressed",
                {"other": tx.first_name(r.turn.speaker_name), "topic": r.topic},
                0.55 + 0.2 * m.arousal,
                -(0.3 + 0.3 * max(0.0, -m.valence)),
            )
            break
    for r in readings:
        if r.turn.addressed_to != me and "?" in r.turn.content and not _answered_after(ctx, r.turn):
            offer("open_question", "open_question", {"topic": r.topic}, 0.5, -0.15)
            break
    for i, t in enumerate(ctx.turns):
        if t.speaker_id != me and _proposes(t.content):
            group = "proposal_bad" if dark else "proposal_good"
            offer(
                "proposal",
                group,
                {"other": tx.first_name(t.speaker_name), "topic": _turn_topic(ctx.turns, i)},
                0.45 + 0.3 * abs(m.valence),
                -0.35 if dark else 0.3 + 0.4 * max(0.0, m.valence),
            )
            break
    if dark:
        offer(
            "worse",
            "worse",
            {},
            0.5 + 0.3 * max(0.0, -m.valence) + 0.15 * m.arousal,
            -(0.3 + 0.5 * max(0.0, -m.valence)),
        )
    else:
        offer("better", "better", {}, 0.45 + 0.3 * m.valence, 0.2 + 0.6 * m.valence)
    if chosen_lens == "people" and slots["other"]:
        if dark:
            offer("person", "person_worry", {}, 0.45 + 0.2 * m.arousal, -(0.3 + 0.3 * m.arousal))
        else:
            offer("person", "person_turn", {}, 0.5 + 0.2 * m.valence, 0.2 + 0.4 * m.valence)
    fresh = [
        (topic, c)
        for c in ctx.concerns
        if _overlap(c.topic, said) == 0 and (topic := _subject(ctx, c.topic))
    ]
    if fresh:
        topic, top = fresh[0]
        offer("concern", "concern", {"concern": topic}, 0.35 + 0.5 * top.intensity, -0.5)

    count = 3 if (m.arousal >= 0.5 or chosen_lens in ("threat", "decision")) else 2
    people = _people(ctx)
    options.sort(key=lambda o: -o[0])
    out: list[Expectation] = []
    used: set[str] = set()
    about: set[str] = set()  # one expectation per subject
    for _, group, values, likelihood, hope in options:
        if len(out) >= count:
            break
        subject = {
            "secret_out": "secret",
            "concern": "concern",
            "worse": "event_topic",
            "better": "event_topic",
            "person_worry": "other",
        }.get(group, "topic")
        key = values.get(subject, "").lower()
        if not key or key in about:
            continue
        # Only templates written for this kind of topic: a person never "gets worse, not
        # better", a plan never "comes to a head"; with none that fits, one fewer expectation.
        topic = values[subject]
        kind = "condition" if topic == bank.fallback_topic else topic_kind(topic, people)
        if group == "person_worry":
            kind = "person"
        templates = bank.expect_templates(group, kind)
        if not templates:
            continue
        sentence = _say(ctx, templates, values, rng, used)
        if not sentence:
            continue
        about.add(key)
        out.append(
            Expectation(
                about=tx.capitalize_sentences(sentence),
                likelihood=_clamp(likelihood + rng.uniform(-0.07, 0.07), 0.05, 0.95),
                hope=_clamp(hope + rng.uniform(-0.05, 0.05), -1.0, 1.0),
            )
        )
    return tuple(out)
