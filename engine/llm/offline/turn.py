"""One offline dialog turn being composed: what its act says, sentence by sentence.

Each act has a method that picks sentences from the act's phrase bank
(``engine/data/offline/talk.json``), filled with the conversation's topic and with facts said
from the speaker's point of view (``realise``) and in spoken shape (``spoken``). The act's own
sentences stay whatever the voice does later; extras (a backchannel, what was kept back of a
fact, a source) may be dropped for length.
"""

from __future__ import annotations

import re
from random import Random

from ...agents.steering import speaking_mode
from ...model import clock
from ..contexts import DialogTurnContext, KnowledgeRef, RelationBrief
from . import acts
from . import grammar as gm
from . import realise as rz
from . import spoken as sp
from . import text as tx
from . import voice as vc
from .library import TalkBank
from .telling import Telling


def stale_hunch(ref: KnowledgeRef, ctx: DialogTurnContext) -> bool:
    """A hunch formed before the speaker's newest news (what it holds comes newest first):
    it has had its airing in the conversations since, or events have overtaken it."""
    if ref.kind != "anticipated":
        return False
    newest = next((r.timepoint_id for r in ctx.knowledge if r.kind != "initial"), None)
    return newest is not None and ref.timepoint_id != newest


class Turn(Telling):
    """One turn being composed: its slots, its sentences (the act's own, which stay, and
    extras, which the voice may drop) and the knowledge it tells."""

    def __init__(
        self,
        ctx: DialogTurnContext,
        talk: TalkBank,
        choice: acts.Choice,
        relation: RelationBrief | None,
        rng: Random,
    ) -> None:
        self.ctx, self.talk, self.choice, self.rng = ctx, talk, choice, rng
        self.relation = relation
        others = tuple(
            r.entity.name
            for r in (*ctx.listeners, *ctx.absent)
            if relation is None or r.entity.entity_id != relation.entity.entity_id
        )
        self.people = rz.People.of(
            ctx.speaker.name,
            relation.entity.name if relation else None,
            others,
            ctx.speaker_description,
        )
        self.casual = vc.register(ctx) == "casual"
        self.names = {r.entity.name for r in (*ctx.listeners, *ctx.absent)} | {ctx.speaker.name}
        self.proper = gm.proper_words(
            ctx.scenario.description,
            ctx.scenario.location,
            ctx.event_description,
            *(k.information for k in ctx.knowledge),
            *(t.content for t in ctx.previous_turns),
        ) | {w for n in self.names for w in n.split()}
        self.core: list[str] = []
        self.extra: list[str] = []
        self.facts: set[str] = set()  # sentences that carry knowledge: never cut short
        self.refs: list[str] = []
        self.used: set[str] = set()
        self.said = " ".join(t.content for t in ctx.previous_turns).lower()
        # and what the last conversations opened with: no stock line of theirs again, and a
        # subject they named is named short ("the interpreter")
        self.heard = " ".join((self.said, *ctx.prior_beats)).lower()
        self.basis = ""  # the fact the conversation is on (set with the topic)
        self.slots = self._slots()

    # ------------------------------------------------------------------ slots
    def _slots(self) -> dict[str, str]:
        ctx, rng = self.ctx, self.rng
        name = tx.first_name(self.relation.entity.name) if self.relation else ""
        others = [tx.first_name(r.entity.name) for r in ctx.listeners]
        others = [o for o in others if o != name]
        slots = {
            "name": name,
            "other": rng.choice(others) if others else "",
            "topic": self._topic(),
            "place": tx.short_place(ctx.scenario.location),
            "time": _time_word(ctx.time_of_day),
            "today": "tonight" if _night(ctx.time_of_day) else "today",
            "day": "night" if _night(ctx.time_of_day) else "day",
            # what matters to the speaker, named short once the conversation has named it
            "anchor": _again(rng.choice(ctx.voice.specificity_anchors), self.heard, rng)
            if ctx.voice.specificity_anchors
            else "",
        }
        reply = self.choice.replying_to
        if reply is not None and "?" in reply.content:
            question = next(q for q in tx.sentences(reply.content) if "?" in q)
            slots["asked"] = _asked(question, self.people) or slots["topic"]
        return slots

    def _topic(self) -> str:
        """What the conversation is about: the latest fact someone put on the table, the
        knowledge this turn tells, or the event."""
        basis = next(
            (
                t.knowledge_references[0]
                for t in reversed(self.ctx.previous_turns)
                if t.knowledge_references
            ),
            None,
        )
        if basis is None and self.choice.knowledge is not None:
            basis = self.choice.knowledge.information
        if basis is None:
            basis = tx.event_core(self.ctx.event_description, clock.phrases())
        self.basis = basis
        return _again(self.topic_of(basis) or "that", self.heard, self.rng)

    def topic_of(self, information: str) -> str:
        """What ``information`` is about, from the speaker's point of view, or "" when that
        comes out as a person ("I", "you") or names the speaker: no topic to talk about."""
        topic = gm.lower_start(rz.point_of_view(tx.topic(information), self.people), self.proper)
        topic = gm.spoken_millions(topic)  # "the 1,240,000 euros" is said "1.24 million"
        words = topic.lower().split()
        if (
            not words
            or words[0] in _PRONOUNS
            or words[-1].endswith(("'s", "’s"))  # "the testator's": whose what?
            or len(words) > 6
            or (len(words) <= 2 and (words[-1].endswith("ing") or words[-1] in _NOT_NOUNS))
            or gm.says_own_name(topic, self.people.speaker)
        ):
            return ""
        return topic

    # ------------------------------------------------------------------ building blocks
    def say(self, options: tuple[str, ...], core: bool = True, **slots: str) -> bool:
        sentence = vc.pick(
            options,
            {**self.slots, **slots},
            self.rng,
            self.ctx.voice.never_says,
            self.used,
            self.heard,
        )
        if sentence:
            (self.core if core else self.extra).append(sentence)
            self.used.add(sentence)
        return sentence is not None

    def put_to(self, entity_id: str) -> None:
        """The turn is said to ``entity_id`` (one of the listeners), not to whoever it was
        going to be said to."""
        found = next((r for r in self.ctx.listeners if r.entity.entity_id == entity_id), None)
        if found is not None and found is not self.relation:
            self.relation = found
            self.slots["name"] = tx.first_name(found.entity.name)

    def source(self, ref: KnowledgeRef) -> str:
        """Who told it: a person by first name, anyone else as described ("a harbour
        pilot")."""
        if not ref.source:
            return ""
        return tx.first_name(ref.source) if ref.source in self.names else ref.source

    def stale(self, ref: KnowledgeRef) -> bool:
        """Said before this conversation: heard in an earlier one, or the speaker's own and
        held by others now."""
        if ref.kind in ("told", "learned"):
            return ref.timepoint_id not in (None, self.ctx.timepoint_id)
        if ref.kind == "anticipated":
            return stale_hunch(ref, self.ctx)
        return ref.kind == "initial" and not ref.private

    def recap(self, ref: KnowledgeRef, core: bool = True) -> bool:
        """A fact everyone has heard, named rather than told again."""
        topic = self.topic_of(ref.information)
        topic = _again(topic, self.heard, self.rng) if topic else topic
        if topic and self.say(self.stock(self.talk.recap), core, topic=topic):
            self.refs.append(ref.information)
            return True
        return False

    def more(self, rest: str, core: bool = False) -> None:
        """What was kept back of a fact, as its own sentence ("That's because …")."""
        if " ".join(rest.lower().split()[:5]) in self.said:
            return  # said already in this conversation
        first = rest.split(" ", 2)
        superlative = first[0].lower() == "the" and len(first) > 1 and first[1].endswith("est")
        if rest.lower().startswith(("because ", "so ")) or sp.describes(first[0]) or superlative:
            # "That's because …", "That's payable within eight months."
            line = gm.sentence(f"that's {rest}")
            if not any(tx.contains_phrase(line, p) for p in self.ctx.voice.never_says):
                (self.core if core else self.extra).append(line)
        else:
            self.say(self.talk.answer["more"], core, rest=rest)

    def tell(self, ref: KnowledgeRef, core: bool = True) -> None:
        if self.stale(ref):
            if not self.recap(ref, core):  # heard before: named, never told word for word again
                self.say(self.talk.inform["topic"], core)
            return
        gist, rest = self.fact(ref)
        kind = "own" if ref.kind == "initial" else ref.kind
        if kind == "anticipated" and gist.startswith(("I ", "we ", "I'")):
            kind = "own"  # a feeling of the speaker's own takes no "my guess is"
        options = self.talk.inform.get(kind) or self.talk.inform["told"]  # type: ignore[call-overload]
        source = self.source(ref)
        if self.say(options, core, fact=gist, source=source):
            self.facts.add((self.core if core else self.extra)[-1])
            self.refs.append(ref.information)
            voice = self.ctx.voice.sentence_length
            if rest and voice != "short" and self.rng.random() < 0.4:
                self.more(rest)

    def backchannel(self) -> None:
        """A word for the turn before: a link naming its speaker or topic, or a short
        backchannel ("Hold on.", "Exactly.")."""
        if not self.ctx.previous_turns:
            return
        last = self.ctx.previous_turns[-1].speaker_id
        if any(
            r.entity.entity_id == last and speaking_mode(r.entity.entity_type) != "speech"
            for r in self.ctx.listeners
        ):
            return  # an animal's or a place's doing is not a point to take up
        roll = self.rng.random()
        stance = self.choice.stance
        if roll < 0.45:
            self.say(self.talk.link.get(stance, ()))  # type: ignore[call-overload]
        elif roll < 0.7:
            self.say(self.talk.backchannel.get(stance, ()), False)  # type: ignore[call-overload]

    # ------------------------------------------------------------------ the acts
    def compose(self) -> None:
        getattr(self, f"_{self.choice.act}")()

    def rotated(self, options: tuple[str, ...], key: str = "") -> tuple[str, ...]:
        """A once-a-conversation bank turned by the timepoint's number (and ``key``'s
        letters), so that the conversations of one run open and close in different words."""
        digits = "".join(c for c in self.ctx.timepoint_id if c.isdigit())
        turn = (int(digits or 0) * 5 + sum(map(ord, key))) % max(1, len(options))
        return options[turn:] + options[:turn]

    def stock(self, options: tuple[str, ...]) -> tuple[str, ...]:
        """A window of a stock bank turned by the timepoint and the speaker: the same line
        from one person in every conversation of a run is a refrain, not a voice."""
        if len(options) < 6:
            return options
        return self.rotated(options, self.ctx.speaker.entity_id)[: max(3, len(options) // 3)]

    def say_first(self, options: tuple[str, ...], core: bool = True) -> bool:
        """The first of ``options`` that fits (the order is the caller's)."""
        return any(self.say((option,), core) for option in options)

    def _open(self) -> None:
        self.say_first(self.rotated(self.talk.open))
        if self.choice.knowledge is not None:
            self.tell(self.choice.knowledge)

    def _inform(self) -> None:
        self.backchannel()
        if self.choice.knowledge is not None:
            self.tell(self.choice.knowledge)
        else:
            self.say(self.talk.inform["topic"])

    def _ask(self) -> None:
        self.backchannel()
        last = self.choice.replying_to
        ref = self.choice.knowledge
        about_listener = ref is not None and any(
            tx.contains_phrase(ref.information, n) for n in self.people.listener
        )
        hearsay = ref is not None and ref.kind in ("told", "learned") and not self.stale(ref)
        if ref is not None and hearsay and (about_listener or self.rng.random() < 0.35):
            gist, _ = self.fact(ref)
            if self.say(self.talk.ask["check"], fact=gist):
                self.refs.append(ref.information)
                return
        sourced = last is not None and last.knowledge_references and self.rng.random() < 0.5
        # about the speaker themself ("Walter has had a tight chest"): how do they know?
        about_me = gm.says_own_name(self.basis, self.people.speaker)
        if sourced and last is not None:
            self.put_to(last.speaker_id)  # "where did you hear that?" goes to who said it
        if (sourced or about_me) and self.say(self.talk.ask["source"]):
            return
        self.say(self.talk.ask["about"])

    def _answer(self) -> None:
        ref = self.choice.knowledge
        question = (self.choice.replying_to.content if self.choice.replying_to else "").lower()
        if ref is None:
            if not self.say(self.talk.answer["unknown"]):
                self.choice = acts.Choice("deflect", None, self.choice.replying_to)
                self._deflect()
            return
        self.refs.append(ref.information)
        source = self.source(ref)
        if any(cue in question for cue in acts.SOURCE_CUES):
            if source:
                self.say(self.talk.answer["source"], source=source)
            elif ref.kind == "witnessed":
                self.say(self.talk.answer["seen_source"])
            else:
                self.say(self.talk.answer["own_source"])
            return
        gist, rest = self.fact(ref)
        me = self.ctx.speaker.entity_id
        mine = {
            r for t in self.ctx.previous_turns if t.speaker_id == me for r in t.knowledge_references
        }
        heard = {r for t in self.ctx.previous_turns for r in t.knowledge_references}
        if ref.information in heard or "true" in question:
            # already said in this conversation, or read out in the question: confirm it and
            # add what was kept back, not the same words again
            topic = self.topic_of(ref.information)
            topic = _again(topic, self.heard, self.rng) if topic else self.slots["topic"]
            self.say(self.talk.answer["again" if ref.information in mine else "yes"], topic=topic)
            if rest:
                self.more(rest, core=True)
            elif source:
                self.say(self.talk.answer["source"], False, source=source)
            return
        self.say(self.talk.answer["known"], fact=gist)
        if rest and self.rng.random() < 0.5:
            self.more(rest)
        elif source and self.rng.random() < 0.35:
            self.say(self.talk.answer["source"], False, source=source)

    def _deflect(self) -> None:
        self.slots.setdefault("asked", self.slots["topic"])
        self.say(self.stock(self.talk.deflect))

    def _reveal(self) -> None:
        ref = self.choice.knowledge
        assert ref is not None
        self.say(self.talk.reveal["lead"])
        gist, rest = self.fact(ref)  # all of it, but in two breaths: a confession, not a recital
        self.core.append(gm.sentence(gist))
        if rest:
            self.more(rest, core=True)
        self.refs.append(ref.information)
        self.say(self.talk.reveal["after"], False)

    def _react(self) -> None:
        self.say(self.stock(self.talk.react))
        if self.rng.random() < 0.4:
            self.say(self.talk.accuse, False)

    def _propose(self) -> None:
        self.backchannel()
        self.say(self.stock(self.talk.propose))

    def _agree(self) -> None:
        bank = self.talk.agree if self.choice.replying_to is not None else self.talk.concur
        if not self.say(self.stock(bank)) or self.rng.random() < 0.4:
            self.backchannel()

    def _refuse(self) -> None:
        ref = self.choice.knowledge
        if ref is not None and self.rng.random() < 0.5:
            gist, _ = self.fact(ref)
            if self.say(self.talk.refuse, fact=gist):
                self.refs.append(ref.information)
                return
        self.say(tuple(t for t in self.talk.refuse if "{fact}" not in t))

    def _concede(self) -> None:
        self.say(self.stock(self.talk.concede))

    def _challenge(self) -> None:
        self.backchannel()
        self.say(self.stock(self.talk.challenge))
        if self.choice.knowledge is not None and self.rng.random() < 0.6:
            self.tell(self.choice.knowledge, core=False)

    def _accuse(self) -> None:
        self.say(self.stock(self.talk.accuse))

    def _threaten(self) -> None:
        self.say(self.stock(self.talk.threaten))

    def _joke(self) -> None:
        self.say(self.stock(self.talk.joke))

    def _change_subject(self) -> None:
        ref = self.choice.knowledge
        topic = tx.topic(ref.information) if ref is not None else self.slots["anchor"]
        if not self.say(self.talk.change_subject, topic=rz.point_of_view(topic, self.people)):
            self.say(self.talk.inform["topic"])

    def _close(self) -> None:
        self.say_first(self.rotated(self.talk.close))


_PRONOUNS = frozenset("i me you we us he him she her they them it".split())
_NOT_NOUNS = frozenset("long short last first next same other whole rest".split())
_WHEN = frozenset("tonight today now yet again".split())


_CUT_AT = frozenset("of on in at for from with to by about over under".split())


def _again(topic: str, said: str, rng: Random) -> str:
    """A topic the conversation has already named, named shorter ("the nine patients
    tonight" -> "the patients", or "that"), the way people come back to a subject."""
    if topic.lower() not in said:
        return topic
    words: list[str] = []
    for w in topic.split():
        if w.lower() in _CUT_AT and words:
            break  # "the committee markup on Thursday": the thing is before "on"
        if w.lower() not in _WHEN and not w.endswith("ly"):
            words.append(w)
    head = words[-1] if words else ""
    if len(words) >= 3 and head[:1].isalpha() and head[:1].islower():
        short = f"the {head}"
        # named twice already: "that", the way people point back at a subject
        return "that" if said.count(short) >= 2 and rng.random() < 0.6 else short
    return topic


def _night(time_of_day: str) -> bool:
    return any(w in time_of_day for w in ("evening", "night", "midnight", "small hours"))


def _time_word(time_of_day: str) -> str:
    words = time_of_day.split()
    return words[-1] if words else "evening"


def _asked(question: str, people: rz.People) -> str:
    """What a question asks about, as a noun phrase."""
    head, comma, rest = question.partition(", ")
    if comma and len(head.split()) <= 3:
        question = rest  # a lead-in ("With respect, ...") is not what is asked about
    about = re.search(r"\b(?:about|of|to|with)\s+([^,?]+)", question)
    if about and len(about.group(1).split()) <= 6:
        return rz.point_of_view(about.group(1).strip(), people)
    return ""  # "How long have you known?": about what the conversation is about
