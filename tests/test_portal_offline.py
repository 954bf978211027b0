"""The PORTAL calls on the offline provider: antecedents that belong to the scenario and
differ from each other in cause, and scores read from the texts (a part it cannot judge is
left out, never guessed)."""

from __future__ import annotations

from datetime import datetime
from itertools import combinations

from engine.knowledge.words import content_words
from engine.llm.contexts import (
    AntecedentContext,
    AntecedentScoringContext,
    EntityBrief,
    PortalStateBrief,
    ScenarioBrief,
)
from engine.llm.gateway import Gateway
from engine.llm.offline import OfflineProvider
from engine.llm.prompts import render
from engine.llm.protocol import ActionType
from engine.model.responses import AntecedentScore, AntecedentsResponse

SCENARIO = ScenarioBrief(
    name="ares",
    title="Ares III",
    description="The Ares III crewed Mars mission loses contact during orbital insertion; "
    "mission control in Houston and the crew trace how the life support failure was built.",
    location="Mission control, Houston",
)
CAST = (
    EntityBrief(entity_id="okafor", name="Dr Ada Okafor", role="flight director"),
    EntityBrief(entity_id="lindqvist", name="Erik Lindqvist", role="life support engineer"),
    EntityBrief(entity_id="tanaka", name="Mei Tanaka", role="mission commander"),
    EntityBrief(entity_id="reyes", name="Luis Reyes", role="program manager"),
)
END = PortalStateBrief(
    description="The oxygen recycler fails during orbital insertion and the crew loses contact.",
    key_events=("recycler fault", "telemetry lost"),
    when=datetime(2031, 3, 1),
)


def _ctx(**changes) -> AntecedentContext:
    base = dict(
        scenario=SCENARIO,
        endpoint=END.description,
        origin_at=datetime(2026, 1, 1),
        consequent=END,
        when=datetime(2030, 6, 1),
        step=1,
        steps=5,
        cast=CAST,
        wanted=3,
    )
    return AntecedentContext(**{**base, **changes})


async def test_antecedents_fit_the_scenario_and_differ_in_cause() -> None:
    gateway = Gateway(OfflineProvider(4))
    answer, records = await gateway.call(
        ActionType.PORTAL_BACKWARD_REASONING, _ctx(), AntecedentsResponse
    )
    assert isinstance(answer, AntecedentsResponse) and len(answer.candidates) == 3
    assert records and records[-1].status.value == "ok"
    names = {e.name for e in CAST}
    for c in answer.candidates:
        assert any(n in c.description for n in names), "led by someone of the cast"
        assert set(c.entities_present) <= {e.entity_id for e in CAST} and c.entities_present
        assert c.causal_link and c.key_events and "2030" in c.description
    for a, b in combinations(answer.candidates, 2):
        wa, wb = content_words(a.description), content_words(b.description)
        assert len(wa & wb) / len(wa | wb) < 0.5, (a.description, b.description)
        assert a.world_context.split(",")[0] != b.world_context.split(",")[0], "different causes"
    again, _ = await Gateway(OfflineProvider(4)).call(
        ActionType.PORTAL_BACKWARD_REASONING, _ctx(), AntecedentsResponse
    )
    assert again == answer, "deterministic for a seed"


async def test_proposed_causes_are_not_repeated_for_the_same_state() -> None:
    gateway = Gateway(OfflineProvider(4))
    first, _ = await gateway.call(ActionType.PORTAL_BACKWARD_REASONING, _ctx(), AntecedentsResponse)
    avoid = tuple(c.description for c in first.candidates)
    more, _ = await gateway.call(
        ActionType.PORTAL_BACKWARD_REASONING, _ctx(avoid=avoid), AntecedentsResponse
    )
    kinds = {c.world_context.split(",")[0] for c in first.candidates}
    assert not kinds & {c.world_context.split(",")[0] for c in more.candidates}


async def test_scores_are_read_from_the_texts_and_precedent_is_left_out() -> None:
    gateway = Gateway(OfflineProvider(1))
    proposed, _ = await gateway.call(
        ActionType.PORTAL_BACKWARD_REASONING, _ctx(), AntecedentsResponse
    )
    grounded = proposed.candidates[0]

    def scoring(description: str, link: str, present: tuple[str, ...]) -> AntecedentScoringContext:
        return AntecedentScoringContext(
            scenario=SCENARIO,
            endpoint=END.description,
            consequent=END,
            candidate=PortalStateBrief(description=description, when=datetime(2030, 6, 1)),
            causal_link=link,
            cast=CAST,
            present=present,
        )

    good, _ = await gateway.call(
        ActionType.PORTAL_PATH_SCORING,
        scoring(grounded.description, grounded.causal_link, grounded.entities_present),
        AntecedentScore,
    )
    off, _ = await gateway.call(
        ActionType.PORTAL_PATH_SCORING,
        scoring(
            "A bakery in Lyon changes its croissant recipe after a dispute about butter.",
            "The croissants are softer afterwards.",
            ("baker",),
        ),
        AntecedentScore,
    )
    assert good.historical_precedent is None and off.historical_precedent is None
    assert good.plausibility > off.plausibility
    assert good.causal_necessity >= off.causal_necessity
    assert good.entity_capability == 1.0 and off.entity_capability == 0.0
    again, _ = await Gateway(OfflineProvider(9)).call(
        ActionType.PORTAL_PATH_SCORING,
        scoring(grounded.description, grounded.causal_link, grounded.entities_present),
        AntecedentScore,
    )
    assert again == good, "a score is a function of the texts, not of chance"


def test_the_prompts_carry_the_search_position_and_what_to_avoid() -> None:
    messages = render(
        ActionType.PORTAL_BACKWARD_REASONING,
        _ctx(avoid=("By June 2030, a warning was ignored.",), step=2),
        AntecedentsResponse,
    )
    user = messages[-1].content
    assert "step 2 of 5" in user and "a warning was ignored" in user and "okafor" in user
