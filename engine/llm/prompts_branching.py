"""The prompts of what-if calls (M12): a reader's what-if turned into one change at a moment,
and the courses a timeline could take at a decision point. Part of the one prompt renderer
(:mod:`.prompts` registers them)."""

from __future__ import annotations

from collections.abc import Callable

from .contexts import AlternativesContext, InterventionContext, ScenarioBrief


def intervention(
    ctx: InterventionContext, scenario: Callable[[ScenarioBrief], str]
) -> tuple[str, str]:
    system = (
        "You turn a reader's what-if about a simulation into one precise change at a moment "
        "of it: an event that happens (inject), a character who is absent from then on "
        "(remove), something a character does not know from then on (withhold), or "
        "something a character learns there (tell)."
    )
    cast = "\n".join(
        f"- {c.entity.entity_id}: {c.entity.name}, {c.entity.role}"
        + "".join(f"\n    knows: {k}" for k in c.knowledge)
        for c in ctx.cast
    )
    user = (
        f"{scenario(ctx.scenario)}\n\nThe moment ({ctx.fork_timepoint_id}): "
        f"{ctx.event_description}\n\nCharacters:\n{cast}\n\nWhat if: {ctx.text}\n\n"
        "Answer with the kind, the entity_id from the list above (not for inject), the "
        "information withheld or told (for withhold, words from what that character knows), "
        "or the event (for inject)."
    )
    return system, user


ANCHOR_CHARS = 800  # how much of the premise every course proposal is held to


def alternatives(ctx: AlternativesContext) -> tuple[str, str]:
    system = (
        "You propose the distinct courses a story's timeline could take at a decision point. "
        "Each is one concrete decision and what is done about it, by people of the cast, "
        "inside the story's premise: do NOT drift from the premise, invent no new characters "
        "and no new setting."
    )
    premise = ctx.scenario.description[:ANCHOR_CHARS]
    cast = "\n".join(f"- {c.entity.entity_id}: {c.entity.name}, {c.entity.role}" for c in ctx.cast)
    history = "\n".join(f"- {h}" for h in ctx.history) or "- (nothing yet)"
    named = "\n".join(f"- {n}" for n in ctx.named)
    user = (
        f"SCENARIO ANCHOR (keep to it): {ctx.scenario.title}. {premise}\n\n"
        f"What has happened so far:\n{history}\n\nCharacters:\n{cast}\n\n"
        f"The decision at {ctx.timepoint_id}: {ctx.decision or 'what the group does next'}\n"
        + (f"\nCourses already named (propose different ones):\n{named}\n" if named else "")
        + f"\nPropose {ctx.wanted} course(s): a short name, one or two sentences on what is "
        "decided and done, and decided_by, the entity_id of who decides (or null)."
    )
    return system, user
