"""One sentence of an inner life from a phrase bank, in the character's register and never with
a phrase it never says."""

from __future__ import annotations

from random import Random

from ...contexts import ProspectionContext
from .. import text as tx
from ..voice import pick as _pick
from ..voice import shape as _shape


def _unowned(topic: str, other: str) -> str:
    """A topic next to the person it belongs to: "Walter wouldn't let Walter's furosemide go"
    reads better as "... let the furosemide go"; a topic that is that person is no topic
    ("When Genzo brought up Genzo Hata")."""
    if not other:
        return topic
    if topic == other or topic.startswith(f"{other} "):
        return ""
    if topic.startswith((f"{other}'s ", f"{other}’s ")):
        return "the " + topic.split(" ", 1)[1] if " " in topic else topic
    return topic


# Slots that name a topic (and so may belong to the person in {other}).
_SUBJECTS = ("topic", "secret", "concern", "event_topic", "my_topic", "expected")


def _say(
    ctx: ProspectionContext,
    options: tuple[str, ...],
    slots: dict[str, str],
    rng: Random,
    used: set[str],
) -> str | None:
    """One sentence from a bank, never with a phrase the character never says, in its register
    (templates are written whole; they are not cut)."""
    other = slots.get("other", "")
    if other:
        slots = {
            **slots,
            **{k: _unowned(slots[k], other) for k in _SUBJECTS if slots.get(k)},
        }
    sentence = _pick(options, slots, rng, ctx.voice.never_says, used)
    if sentence is None:
        return None
    used.add(sentence)
    return _shape(sentence, ctx, 1000)  # type: ignore[arg-type]


def _banned(ctx: ProspectionContext, text: str) -> bool:
    return any(tx.contains_phrase(text, ban) for ban in ctx.voice.never_says)
