"""Offline prospection (M15): a character's inner life after a dialog, built from the dialog.

Each character remembers the conversation its own way. The generator reads the turns from the
character's seat: which turn struck it most (one that challenged or questioned it, one that came
close to what it was hiding, news it had not heard, the most heated), and a lens taken from its
personality and mood decides what it dwells on: threat for the anxious or unhappy, people for the
warm, decisions for the methodical, standing for the proud. Someone who only listened remembers
as a witness. Expectations come from the dialog too: a question left unanswered, a proposal, the
secret it kept, the way the event is going, an old concern; how likely they seem and whether
they are hoped for or dreaded follows its mood. All phrasing is in ``engine/data/offline/
inner.json``; the voice guide shapes it as it shapes speech.
"""

from __future__ import annotations

from random import Random

from ....model.responses import ProspectionResponse
from ...contexts import ProspectionContext
from ..library import inner_bank
from .expectations import _expectations
from .feelings import _anxiety, _concerns, _suppressed
from .memory import _memory
from .reading import lens, read_turns
from .slots import _slots


def generate_prospection(ctx: ProspectionContext, rng: Random) -> ProspectionResponse:
    """The inner life of one character after a dialog, from the dialog itself."""
    bank = inner_bank()
    chosen = lens(ctx, bank)
    readings = read_turns(ctx, chosen, rng)
    salient = max(readings, key=lambda r: r.score) if readings else None
    slots = _slots(ctx, salient, rng)
    memory = _memory(ctx, bank, chosen, salient, slots, rng)
    expectations = _expectations(ctx, bank, chosen, readings, salient, slots, rng)
    concerns = _concerns(ctx, chosen, salient, readings, slots)
    suppressed = _suppressed(ctx, bank, chosen, salient, readings, slots, rng)
    anxiety = _anxiety(ctx, bank, chosen, readings, expectations, rng)
    return ProspectionResponse(
        memory=memory,
        expectations=expectations,
        new_concerns=concerns,
        suppressed_impulse=suppressed,
        anxiety=anxiety,
    )
