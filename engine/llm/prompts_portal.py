"""The prompts of PORTAL calls (M17): antecedents of a state, and the judging of one. Part of
the one prompt renderer (:mod:`.prompts` registers them)."""

from __future__ import annotations

from collections.abc import Callable

from .contexts import (
    AntecedentContext,
    AntecedentScoringContext,
    PathCoherenceContext,
    ScenarioBrief,
)


def _cast(ctx: AntecedentContext | AntecedentScoringContext) -> str:
    return "\n".join(f"- {e.entity_id}: {e.name}, {e.role}" for e in ctx.cast) or "- (none)"


def antecedents(
    ctx: AntecedentContext, scenario: Callable[[ScenarioBrief], str]
) -> tuple[str, str]:
    system = (
        "You reason backwards in time. Given a state of the world, you propose distinct earlier "
        "states that could have led to it: different causes, not the same cause reworded. Each "
        "must fit the scenario and its people, happen at the given date, and hold only what "
        "could be known then."
    )
    later = "\n".join(f"- {s}" for s in ctx.later) or "- (this is the step before the endpoint)"
    avoid = "\n".join(f"- {a}" for a in ctx.avoid)
    user = (
        f"{scenario(ctx.scenario)}\n\nThe endpoint: {ctx.endpoint}\n"
        f"The search goes back to {ctx.origin_at.date()}; this is step {ctx.step} of {ctx.steps}.\n\n"
        f"The state to explain ({ctx.consequent.when.date()}): {ctx.consequent.description}\n"
        f"Between it and the endpoint:\n{later}\n"
        + (
            f"It must follow from this earlier state ({ctx.earlier.when.date()}): "
            f"{ctx.earlier.description}\n"
            if ctx.earlier is not None
            else ""
        )
        + f"\nPeople:\n{_cast(ctx)}\n\n"
        + (f"Already proposed (propose different causes):\n{avoid}\n\n" if avoid else "")
        + f"Propose {ctx.wanted} antecedent state(s) at {ctx.when.date()}: a description, up to "
        "5 key events, how much each entity changes (entity id to a number in [-1, 1]), the "
        "world context, the causal link to the state it explains, and the entity ids present."
    )
    return system, user


def antecedent_score(
    ctx: AntecedentScoringContext, scenario: Callable[[ScenarioBrief], str]
) -> tuple[str, str]:
    system = (
        "You judge a proposed earlier state on a backward path. Score each part in [0, 1]; use "
        "null for a part you cannot judge, never a guess."
    )
    user = (
        f"{scenario(ctx.scenario)}\n\nThe endpoint: {ctx.endpoint}\n\n"
        f"The later state: {ctx.consequent.description}\n\n"
        f"The proposed earlier state ({ctx.candidate.when.date()}): {ctx.candidate.description}\n"
        f"Its key events: {'; '.join(ctx.candidate.key_events) or '(none)'}\n"
        f"How it leads on: {ctx.causal_link}\nPresent: {', '.join(ctx.present) or '(nobody)'}\n\n"
        f"People:\n{_cast(ctx)}\n\nScore plausibility, historical precedent, causal necessity "
        "(would the later state happen without it?) and entity capability (could these people "
        "do this?), with one sentence of reason."
    )
    return system, user


def path_coherence(
    ctx: PathCoherenceContext, scenario: Callable[[ScenarioBrief], str]
) -> tuple[str, str]:
    system = (
        "You read a history the way time runs and judge each step: given the earlier state, "
        "how well does the next one follow from it? Score each step in [0, 1]; use null for a "
        "step you cannot judge, never a guess."
    )
    lines = []
    for i, state in enumerate(ctx.states):
        events = "; ".join(state.key_events)
        lines.append(
            f"{i + 1}. ({state.when.date()}) {state.description}"
            + (f" Key events: {events}." if events else "")
        )
        if i < len(ctx.links):
            lines.append(f"   How it was said to lead on: {ctx.links[i]}")
    user = (
        f"{scenario(ctx.scenario)}\n\nThe endpoint: {ctx.endpoint}\n\nThe history, origin "
        f"first:\n" + "\n".join(lines) + f"\n\nGive {len(ctx.states) - 1} link score(s), one "
        "per step from a state to the next, origin first, and one sentence of reason."
    )
    return system, user
