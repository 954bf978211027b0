"""What a turn does (its dialog act), chosen from the state of the conversation.

The offline provider sees what a model would see: the turns so far, who the speaker is
talking to and how they stand with them, their mood, what they know and which of it is
theirs alone, and the move the steering asked for. From that the conversation's state is
read (a question put to the speaker and not yet answered, a proposal on the table, a secret
just told, how hard the speaker has been pressed) and an act follows from it: a question gets
an answer or a visible evasion, a proposal is accepted or refused, a challenge is met or
conceded, a reveal gets a reaction. Otherwise the speaker's temperament, trust in the listener
and the stakes (the scene's tension) weigh the open choices.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from random import Random

from ...agents.steering import speaking_mode
from ...knowledge.retrieval import rank
from ...model.dialog import ACT_STANCE
from ..contexts import DialogTurnContext, KnowledgeRef, RelationBrief, TurnBrief
from . import text as tx

_STANCE_ACT = {"questions": "ask", "challenges": "challenge", "supports": "agree"}
SOURCE_CUES = (
    "who told",
    "where did you hear",
    "how do you know",
    "says who",
    "yourself",
    "how long have you known",
    "when did you hear",
)
PRESSED = 0.7  # tension from which a cornered speaker may let a secret out
CONFIDING = 0.45  # trust in the one asking from which a secret is told when asked for


def act_of(turn: TurnBrief) -> str:
    """A turn's act: its own, else read off its stance and text (turns of older runs and of
    models that did not say)."""
    if turn.act:
        return turn.act
    if turn.content.rstrip().endswith("?"):
        return "ask"
    return _STANCE_ACT.get(turn.stance, "inform")


@dataclass
class Floor:
    """The conversation as this speaker finds it."""

    last: TurnBrief | None = None
    asked: TurnBrief | None = None  # a question put to the speaker, not yet answered
    proposal: TurnBrief | None = None  # someone's proposal the speaker has not answered
    pressed: TurnBrief | None = None  # the last challenge or accusation aimed at the speaker
    revealed: TurnBrief | None = None  # a secret just told by someone else
    pressure: int = 0  # challenges and accusations aimed at the speaker so far
    mine: list[TurnBrief] = field(default_factory=list)
    said: str = ""

    @classmethod
    def of(cls, ctx: DialogTurnContext) -> Floor:
        me = ctx.speaker.entity_id
        floor = cls(said=" ".join(t.content for t in ctx.previous_turns).lower())
        turns = list(ctx.previous_turns)
        floor.mine = [t for t in turns if t.speaker_id == me]
        floor.last = turns[-1] if turns else None
        last_mine = max((t.turn_index for t in floor.mine), default=-1)
        for turn in turns:
            act = act_of(turn)
            if turn.speaker_id == me:
                continue
            to_me = turn.addressed_to == me
            later = turn.turn_index > last_mine
            if act == "ask" and later and (to_me or turn.addressed_to is None):
                floor.asked = turn
            if act == "propose" and later:
                floor.proposal = turn
            if act in ("challenge", "accuse", "threaten", "refuse") and to_me:
                floor.pressure += 1
                if later:
                    floor.pressed = turn
            if act == "reveal" and later:
                floor.revealed = turn
        return floor


_ASKING = frozenset(
    "know knew known happened hear heard told tell true first else long said talk see "
    "yourself where leave us does did who what when how why anything".split()
)


def _query(question: str, ctx: DialogTurnContext) -> str:
    """What a question is about, without the names in it and the words every question has."""
    names = {w.lower() for r in ctx.listeners for w in r.entity.name.split()}
    names |= {w.lower() for w in ctx.speaker.name.split()}
    kept = [w for w in tx.words(question) if w.lower().strip(",.?!") not in names | _ASKING]
    return " ".join(kept)


def is_secret(ref: KnowledgeRef, speaker: str) -> bool:
    """A fact the speaker keeps to themself: theirs alone, given at the start, and either
    about what they did (it names them, or says he/she) or worded as a secret."""
    if not (ref.private and ref.kind == "initial"):
        return False
    from .library import talk_bank

    text = ref.information
    low = f" {text.lower()} "
    names = {speaker, tx.first_name(speaker), speaker.split()[-1]}
    if any(tx.contains_phrase(text, n) for n in names if n):
        return True
    if any(f" {p} " in low for p in ("he", "she", "him", "his", "her", "himself", "herself")):
        return True
    return any(cue in low for cue in talk_bank().secret_cues)


def relevant(question: str, knowledge: tuple[KnowledgeRef, ...]) -> KnowledgeRef | None:
    """What the speaker knows that bears on a question, if anything."""
    if not knowledge:
        return None
    texts = [tx.humanize(k.information) for k in knowledge]
    found = rank(question, texts)
    return knowledge[found[0][0]] if found else None


@dataclass(frozen=True)
class Choice:
    act: str
    knowledge: KnowledgeRef | None = None  # what the turn tells, if it tells something
    replying_to: TurnBrief | None = None

    @property
    def stance(self) -> str:
        return ACT_STANCE[self.act]


def choose(
    ctx: DialogTurnContext,
    floor: Floor,
    relation: RelationBrief | None,
    mood: list[str],
    pick: KnowledgeRef | None,
    rng: Random,
) -> Choice:
    """The act of this turn. ``pick`` is the knowledge the turn would tell if it tells any."""
    trust = relation.trust if relation else 0.0
    alignment = relation.alignment if relation else 0.0
    secrets = [k for k in ctx.knowledge if is_secret(k, ctx.speaker.name)]
    if not any(speaking_mode(r.entity.entity_type) == "speech" for r in ctx.listeners):
        # nobody here who talks back (an animal, a place): the speaker thinks aloud, and
        # asks, argues or proposes nothing
        if ctx.move == "close" and ctx.previous_turns:
            return Choice("close", None, None)
        return Choice("inform", pick, None)
    if not ctx.previous_turns:
        return Choice("open", pick)
    if floor.asked is not None:
        return _reply_to_question(ctx, floor, trust, rng)
    if floor.revealed is not None and rng.random() < 0.85:
        return Choice("react", None, floor.revealed)
    if ctx.move == "close":
        return Choice("close", None, floor.last)
    if floor.proposal is not None:
        liking = trust + alignment + (0.3 if "upbeat" in mood else 0.0) - 0.2 * floor.pressure
        if liking + rng.uniform(-0.4, 0.4) > 0.0:
            return Choice("agree", None, floor.proposal)
        return Choice("refuse", pick, floor.proposal)
    if floor.pressed is not None:
        evidence = bool(floor.pressed.knowledge_references)
        give = (0.35 if evidence else 0.1) + 0.4 * max(0.0, trust) - 0.3 * ctx.mood.arousal
        if rng.random() < give:
            return Choice("concede", None, floor.pressed)
        cornered = ctx.tension >= PRESSED and floor.pressure >= 2
        if secrets and cornered and rng.random() < 0.5:
            return Choice("reveal", secrets[0], floor.pressed)
        if "hostile" in mood and ctx.tension >= 0.6 and rng.random() < 0.35:
            return Choice("threaten", None, floor.pressed)
    if ctx.move == "reveal" and secrets:
        cornered = ctx.tension >= PRESSED and floor.pressure >= 1
        if cornered or trust >= 0.6:
            return Choice("reveal", secrets[0], floor.last)
    if ctx.move == "reveal" and pick is not None and rng.random() < 0.75:
        return Choice("inform", pick, floor.last)  # nothing to confess: tell what is new
    if ctx.move == "question":
        return Choice("ask", pick, floor.last)
    if ctx.move == "propose":
        return Choice("propose", None, floor.last)
    weights = {
        "inform": 1.6 if pick is not None else 0.0,
        "challenge": 0.4 + 1.5 * max(0.0, -trust) + 1.0 * max(0.0, -alignment),
        "agree": 0.2 + 1.2 * max(0.0, trust) + 0.8 * max(0.0, alignment),
        "ask": 0.5 + (0.6 if ctx.style.pattern == "questioning" else 0.0),
        "accuse": 0.6 * max(0.0, -trust - 0.3) + (0.4 if "hostile" in mood else 0.0),
        "joke": 0.35 if ctx.tension < 0.5 and "hostile" not in mood else 0.0,
        "change_subject": 0.15 + (0.4 if "exhausted" in mood else 0.0),
    }
    if ctx.style.pattern == "commanding":
        weights["challenge"] += 0.4
    acts = list(weights)
    act = rng.choices(acts, weights=[weights[a] for a in acts])[0]
    return Choice(act, pick if act in ("inform", "challenge", "ask", "change_subject") else None)


def _reply_to_question(ctx: DialogTurnContext, floor: Floor, trust: float, rng: Random) -> Choice:
    """A question put to the speaker is answered, or visibly evaded."""
    question = floor.asked
    assert question is not None
    low = question.content.lower()
    item = None
    if any(cue in low for cue in SOURCE_CUES) and floor.mine:
        # "who told you that?": that is what the speaker said last
        said = floor.mine[-1].knowledge_references
        item = next((k for k in ctx.knowledge if said and k.information == said[0]), None)
    if item is None:
        query = _query(question.content, ctx)
        if not tx.content_words(query):
            # "How long have you known?": about what was said before the question
            before = [t for t in ctx.previous_turns if t is not question]
            query = _query(before[-1].content, ctx) if before else ""
        item = relevant(query, ctx.knowledge) if query else None
    if item is None:
        return Choice("answer", None, question)
    if is_secret(item, ctx.speaker.name):
        willing = trust >= CONFIDING or (ctx.tension >= PRESSED and floor.pressure >= 1)
        if willing and rng.random() < 0.7:
            return Choice("reveal", item, question)
        return Choice("deflect", item, question)
    if ctx.mood.valence <= -0.5 and trust < -0.5 and rng.random() < 0.3:
        return Choice("deflect", item, question)
    return Choice("answer", item, question)
