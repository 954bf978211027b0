"""Offline elaboration of an elevated entity (M5): what it picked up of what happened and was
said in front of it while it was carried at a lower level, most recent first, and a line of
memory in its own words. Everything comes from the record it is given, so it can contradict
nothing and reach no moment it was not at."""

from __future__ import annotations

from random import Random

from ...model.responses import ElaboratedItem, ElaborationResponse
from ..contexts import ElaborationContext
from . import text as tx

_MEMORY = (
    "I keep going back to {moment}.",
    "What stays with me is {moment}.",
    "I was there for {moment}, and I haven't stopped thinking about it.",
)


def _item(line: str) -> tuple[str, float]:
    """An attended line as a knowledge item: what was said is hearsay, what happened is seen."""
    speaker, sep, said = line.partition(" said: ")
    if sep:
        return f"{speaker} said: {said.strip()}", 0.8
    return line, 0.95


def generate_elaboration(ctx: ElaborationContext, rng: Random) -> ElaborationResponse:
    known = {k.information for k in ctx.known}
    items: list[ElaboratedItem] = []
    for line in reversed(ctx.attended):
        information, confidence = _item(line)
        if information in known or len(information) < 3:
            continue
        known.add(information)
        items.append(ElaboratedItem(information=information[:400], confidence=confidence))
        if len(items) >= ctx.wanted:
            break
    memory = ""
    if ctx.attended:
        last = tx.strip_end(tx.first_sentence(ctx.attended[-1].partition(" said: ")[0]))
        memory = rng.choice(_MEMORY).format(moment=tx.lower_first(last)[:200])
    return ElaborationResponse(knowledge=tuple(items), memory=memory)
