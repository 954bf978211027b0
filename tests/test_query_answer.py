"""Queries: an entity answers in character from what it knew at that moment; stored with the run."""

from __future__ import annotations

import pytest
from conftest import ScriptedProvider, run_scenario

from engine.llm.offline import OfflineProvider
from engine.llm.protocol import ActionType
from engine.query.answer import QueryFailed, build_context
from engine.query.stored import answer_query


async def test_an_entity_answers_from_what_it_knew_then(store) -> None:
    summary, _ = await run_scenario("vintners_council", store, seed=2)
    run_id = summary.run_id
    first = await build_context(store, run_id, "bastien_ferrol", "tp01", "anything?")
    last = await build_context(store, run_id, "bastien_ferrol", "tp04", "anything?")
    assert len(last.knowledge) >= len(first.knowledge)
    told_later = {k.information for k in last.knowledge} - {k.information for k in first.knowledge}
    assert told_later, "Bastien learns things as the run goes on"
    start = await build_context(store, run_id, "bastien_ferrol", None, "anything?")
    assert all(k.kind == "initial" for k in start.knowledge)

    item = next(k for k in first.knowledge if not k.private)  # a secret may be kept: see below
    words = " ".join(item.information.split()[:6])
    result = await answer_query(
        store,
        OfflineProvider(2),
        run_id,
        "bastien_ferrol",
        "tp01",
        f"What do you know about {words}?",
    )
    assert result.references and set(result.references) <= {k.information for k in first.knowledge}
    assert result.status == "ok" and result.answer
    rows = await store.table("queries", run_id)
    assert [r["question"] for r in rows] == [f"What do you know about {words}?"]
    assert rows[0]["timepoint_id"] == "tp01"


async def test_an_entity_says_when_it_did_not_know(store) -> None:
    summary, _ = await run_scenario("harbor_strike", store, seed=1)
    result = await answer_query(
        store,
        OfflineProvider(1),
        summary.run_id,
        "ruth_okonedo",
        None,
        "What about the zeppelin over Lisbon?",
    )
    assert result.references == ()
    assert "zeppelin" in result.answer.lower() or "lisbon" in result.answer.lower()
    assert result.confidence < 0.5


async def test_references_the_entity_could_not_make_are_removed(store) -> None:
    summary, _ = await run_scenario("harbor_strike", store, seed=1)

    def invent(request, answer):
        if request.action is ActionType.ENTITY_QUERY:
            return answer.model_copy(
                update={
                    "knowledge_references": (
                        *answer.knowledge_references,
                        "a secret from the future",
                    )
                }
            )
        return answer

    result = await answer_query(
        store,
        ScriptedProvider(edit=invent),
        summary.run_id,
        "ruth_okonedo",
        "tp01",
        "What do you know?",
    )
    assert result.violations == ("a secret from the future",)
    assert "a secret from the future" not in result.references
    assert result.status == "degraded"


async def test_bad_targets_are_one_sentence(store) -> None:
    summary, _ = await run_scenario("lighthouse_night", store)
    with pytest.raises(QueryFailed, match="has no entity 'nobody'"):
        await answer_query(store, OfflineProvider(), summary.run_id, "nobody", None, "hi?")
    with pytest.raises(QueryFailed, match="has no timepoint 'tp99'"):
        await answer_query(store, OfflineProvider(), summary.run_id, "tomas_vey", "tp99", "hi?")
    with pytest.raises(QueryFailed, match="there is no run"):
        await answer_query(store, OfflineProvider(), "missing", "tomas_vey", None, "hi?")
