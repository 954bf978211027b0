"""The memory a character keeps of a dialog: a few sentences, the most telling first, as many
as its voice runs to."""

from __future__ import annotations

from random import Random

from ...contexts import ProspectionContext
from .. import text as tx
from ..library import InnerBank
from ..voice import apply_tic as _apply_tic
from .phrasing import _banned, _say
from .reading import Reading

SENTENCES = {"short": 3, "medium": 4, "long": 5}


def _memory(
    ctx: ProspectionContext,
    bank: InnerBank,
    chosen_lens: str,
    salient: Reading | None,
    slots: dict[str, str],
    rng: Random,
) -> str:
    mem = bank.memory
    used: set[str] = set()
    parts: list[tuple[int, str]] = []  # (priority, sentence), in reading order

    def add(priority: int, options: tuple[str, ...]) -> None:
        sentence = _say(ctx, options, slots, rng, used)
        if sentence:
            parts.append((priority, sentence))

    if not ctx.turns:
        add(0, mem.alone)
    elif ctx.spoke:
        add(0, mem.spoke if slots["my_topic"] else mem.spoke_plain)
    else:
        add(0, mem.listened)
    if salient is not None:
        add(1, mem.salient[salient.kind])  # type: ignore[index]
        if not parts or parts[-1][0] != 1:
            add(1, mem.salient["other"])
    add(2, mem.lens[chosen_lens])  # type: ignore[index]
    if ctx.spoke and slots["mine"] and rng.random() < 0.7:
        add(4, mem.own)
    if ctx.withheld and not (salient and salient.secret) and rng.random() < 0.85:
        add(3, mem.held_back)
    if slots["expected"]:
        add(5, mem.confirmed)
    if slots["anchor"] and rng.random() < 0.5:
        add(6, mem.anchor)
    else:
        add(6, mem.close[chosen_lens])  # type: ignore[index]

    limit = SENTENCES[ctx.voice.sentence_length]
    if ctx.mood.fatigue >= 0.7 or ctx.mood.energy <= 30:
        limit -= 1
    keep = sorted(range(len(parts)), key=lambda i: (parts[i][0], i))[: max(3, limit)]
    sentences = [tx.capitalize_sentences(parts[i][1]) for i in sorted(keep)]
    names = {tx.first_name(t.speaker_name) for t in ctx.turns} | {
        w for t in ctx.turns for w in t.speaker_name.split()
    }
    if rng.random() < 0.4:  # a tic now and then: it is still the character's own voice
        sentences = _apply_tic(sentences, ctx.voice.verbal_tics, rng, "", names)
    sentences = [s for s in sentences if not _banned(ctx, s)]
    if not sentences:  # everything was something this character never says
        sentences = [_say(ctx, mem.alone, slots, rng, set()) or tx.upper_first(slots["event"])]
    return " ".join(sentences)
