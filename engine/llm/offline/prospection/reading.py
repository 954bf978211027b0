"""The dialog from one character's seat: the lens it sees through, and how much each turn by
someone else matters to it."""

from __future__ import annotations

from dataclasses import dataclass
from random import Random

from ...contexts import ProspectionContext, TurnBrief
from .. import text as tx
from ..extraction import _third_person, _voiced_as_expectation
from ..library import InnerBank, inner_bank
from .topics import _names, _subject, _topic

# Tones of a turn that leave a mark (from the dialog bank's tones).
HEATED = frozenset(
    ["heated", "cold", "accusing", "urgent", "pressing", "irritable", "grudging", "spirited"]
)
STRAINED = frozenset(["weary", "strained", "tired", "flat"])


def lens(ctx: ProspectionContext, bank: InnerBank) -> str:
    """What this character dwells on: ``threat``, ``people``, ``decision``, ``pride`` or
    ``plain``, from its personality words and its mood (unhappiness and agitation pull toward
    threat, good spirits toward people)."""
    words = [p.strip().lower() for p in ctx.personality]
    scores = {name: float(sum(w in listed for w in words)) for name, listed in bank.lenses.items()}
    m = ctx.mood
    scores["threat"] += 2.5 * max(0.0, -m.valence - 0.1) + 2.5 * max(0.0, m.arousal - 0.5)
    scores["people"] += 0.5 * max(0.0, m.valence)
    best = max(("threat", "people", "decision", "pride"), key=lambda k: scores.get(k, 0.0))
    return best if scores.get(best, 0.0) >= 0.5 else "plain"


@dataclass(frozen=True)
class Reading:
    """How one turn of the dialog looks from this character's seat."""

    turn: TurnBrief
    kind: str  # challenge, question, secret, news, support, other
    score: float
    topic: str
    secret: str = ""  # the withheld item it came close to


def _turn_topic(turns: tuple[TurnBrief, ...], i: int, *, reaction: bool = False) -> str:
    """What a turn was about: the knowledge it carried, else the latest knowledge put on the
    table before it, else its own words. A reaction (a challenge, a question, support) is about
    what was on the table before it, whatever it added."""
    earlier = tuple(reversed(turns[:i]))
    for t in (*earlier, turns[i]) if reaction else (turns[i], *earlier):
        for ref in t.knowledge_references:
            found = _topic(ref)
            if found:
                return found
    return _topic(turns[i].content)


def _overlap(a: str, b: str) -> int:
    """How many substantive common words (not names, not short words) of ``a`` occur in ``b``."""
    left = {
        w.strip(".,;:!?%$").lower()
        for w in tx.words(tx.humanize(a))
        if w[:1].islower() and len(w) >= 4 and w.lower() not in tx.STOPWORDS
    }
    return len(left & set(tx.content_words(b)))


def read_turns(ctx: ProspectionContext, chosen_lens: str, rng: Random) -> list[Reading]:
    """Every turn by someone else, scored for how much it matters to this character."""
    me = ctx.entity.entity_id
    out: list[Reading] = []
    for i, t in enumerate(ctx.turns):
        if t.speaker_id == me:
            continue
        to_me = t.addressed_to == me
        said = " ".join((t.content, *t.knowledge_references))
        secret = next((w for w in ctx.withheld if _overlap(w, said) >= 2 and _topic(w)), "")
        news = _news(t)
        if secret:
            kind = "secret"
        elif to_me and t.stance == "challenges":
            kind = "challenge"
        elif to_me and (t.stance == "questions" or "?" in t.content):
            kind = "question"
        elif news:
            kind = "news"
        elif to_me and t.stance == "supports":
            kind = "support"
        else:
            kind = "other"
        score = {
            "secret": 3.0,
            "challenge": 3.0,
            "question": 2.4,
            "news": 1.4,
            "support": 1.6,
            "other": 0.4,
        }[kind]
        score += 0.8 if t.emotional_tone in HEATED else 0.0
        score += 0.3 if "!" in t.content else 0.0
        if t.knowledge_references and any(
            n in " ".join(t.knowledge_references) for n in _names(ctx)
        ):
            score += 1.0  # news about me
        lens_bonus = {
            "threat": kind in ("challenge", "question", "secret"),
            "people": kind == "support" or t.emotional_tone in STRAINED,
            "decision": kind == "news" or _proposes(t.content),
            "pride": kind == "challenge",
        }
        score += 1.0 if lens_bonus.get(chosen_lens, False) else 0.0
        score += rng.random() * 0.5
        topic = _topic(secret) if secret else ""
        reaction = kind in ("challenge", "question", "support")
        topic = _subject(ctx, topic or _turn_topic(ctx.turns, i, reaction=reaction))
        out.append(Reading(t, kind, score, topic, secret))
    return out


def _news(turn: TurnBrief) -> str:
    """The knowledge a turn told as fact, in the third person, or "" (a speaker's hunch, voiced
    as one, is not news)."""
    for ref in turn.knowledge_references:
        if not _voiced_as_expectation(turn.content, ref):
            # "I"/"me" in an item are its speaker: name them before taking the listener's seat.
            return _third_person(ref, turn.speaker_name, "")
    return ""


def _proposes(content: str) -> bool:
    """Whether a turn puts a course of action forward (cues: ``proposal_cues`` in the bank)."""
    low = tx.expand(content).lower()
    return any(tx.expand(cue).lower() in low for cue in inner_bank().proposal_cues)


def _quote(turn: TurnBrief) -> str:
    """A short sentence from a turn that is worth quoting, or ""."""
    options = [
        s
        for s in tx.sentences(turn.content)
        if 3 <= len(s.split()) <= 12 and not any(r[:20] in s for r in turn.knowledge_references)
    ]
    asked = [s for s in options if s.endswith("?")]
    return (asked or options or [""])[0]


def _answered_after(ctx: ProspectionContext, turn: TurnBrief) -> bool:
    if turn.addressed_to is None:
        return True
    return any(
        t.speaker_id == turn.addressed_to and t.turn_index > turn.turn_index for t in ctx.turns
    )
