"""How a turn tells a fact: from the speaker's point of view, in spoken shape, in the
voice's own words, with figures and names said as people say them, and never eight of the
scenario file's words in a row where a breath fits. A part of ``turn.Turn``, kept apart so
that the acts and the telling each stay one module."""

from __future__ import annotations

import re
from random import Random

from ...model import clock
from ..contexts import DialogTurnContext, KnowledgeRef
from . import grammar as gm
from . import realise as rz
from . import rephrase as rp
from . import spoken as sp
from . import tense
from . import text as tx
from . import voice as vc
from .library import TalkBank


def breaths_of(talk: TalkBank, *, formal: bool, asides: tuple[str, ...]) -> dict:
    """What ``rephrase.breathe`` may use in a voice: its asides, the take-ups, its own words
    for the file's (a formal voice's, or the plain and spoken ones of any other) and how it
    joins the last thing of a list. Turns and query answers take the same breaths."""
    register = "formal" if formal else "spoken"
    words = (
        talk.reword["formal"] if formal else {**talk.plain, **talk.spoken, **talk.reword["spoken"]}
    )
    return {
        "asides": asides,
        "take_ups": talk.take_ups,
        "words": words,
        "joins": talk.list_join[register],
    }


def asides_for(talk: TalkBank, kind: str, *, formal: bool) -> tuple[str, ...]:
    """The asides of this kind in a voice's register: a formal voice has its own ("I must
    say", not "mind you") where the bank gives them (``"own formal"``)."""
    return (talk.asides.get(f"{kind} formal") if formal else None) or talk.asides.get(kind, ())


class Telling:
    """What :class:`turn.Turn` sets up and the telling reads."""

    ctx: DialogTurnContext
    talk: TalkBank
    rng: Random
    people: rz.People
    casual: bool
    names: set[str]
    proper: frozenset[str]
    said: str

    def fact(self, ref: KnowledgeRef, *, whole: bool = False) -> tuple[str, str]:
        own = ref.kind == "initial" or ref.private
        information = ref.information
        if ref.kind == "witnessed":
            information = tense.past_tense(tx.event_core(information, clock.phrases()))
        owner = ref.source if ref.source in self.names else None
        gist, rest = sp.say_fact(
            information,
            self.people,
            self.rng,
            own=own,
            casual=self.casual,
            contracted=vc.register(self.ctx) != "formal",
            owner=owner,
            said=self.said,
        )
        if whole and rest:
            gist, rest = f"{gist}, and {tx.lower_first(rest)}", ""
        gist, rest = self.named_short(gist), self.named_short(rest)
        # figures are said as words ("thirty-one thousand"), in a formal voice less often
        if self.rng.random() < (0.4 if vc.register(self.ctx) == "formal" else 0.9):
            # every voice but a formal one says "18,400" and "22:00" as they are spoken
            plain = vc.register(self.ctx) != "formal"
            gist, rest = gm.spoken_figures(gist, plain), gm.spoken_figures(rest, plain)
        else:  # a million is said as one in any voice ("1.24 million")
            gist, rest = gm.spoken_millions(gist), gm.spoken_millions(rest)
        kind = "own" if own else ref.kind if ref.kind in self.talk.asides else "told"
        if kind == "told":  # the sentence it goes in names who told it: "so they say" again
            kind = "own"  # would be said twice, so only the speaker's own asides
        asides = self._asides(kind)
        if kind != "anticipated" and self.rng.random() < 0.45:  # a guess is hedged once
            gist = sp.aside(gist, asides, self.rng)
        # never eight words in a row as the scenario wrote them: said, not read out (and a
        # guess, whose sentence hedges it already, takes a breath with the speaker's own aside)
        breaths = breaths_of(
            self.talk,
            formal=vc.register(self.ctx) == "formal",
            asides=self._asides("own") if kind == "anticipated" else asides,
        )
        gist = rp.breathe(gist, information, self.rng, **breaths)
        rest = rp.breathe(rest, information, self.rng, **breaths) if rest else ""
        return gm.lower_start(gist, self.proper), gm.lower_start(rest, self.proper)

    def _asides(self, kind: str) -> tuple[str, ...]:
        return asides_for(self.talk, kind, formal=vc.register(self.ctx) == "formal")

    def named_short(self, clause: str) -> str:
        """Someone everyone here knows named by first name ("Teodor Brekke" -> "Teodor"),
        where no one else has it; a formal voice keeps the full name until it has been
        said in this conversation."""
        if not clause:
            return clause
        firsts = [tx.first_name(n) for n in self.names]
        formal = vc.register(self.ctx) == "formal"
        for name in self.names:
            first = tx.first_name(name)
            if first == name or firsts.count(first) > 1 or name not in clause:
                continue
            if formal and name.lower() not in self.said:
                continue
            clause = re.sub(rf"\b{re.escape(name)}\b", first, clause)
        return clause
