from __future__ import annotations

import pytest

from engine.query import Ask, ForkAsk, QueryError, parse_query, resolve_entity
from engine.query.parse import suggestions

CAST = {"mara_quell": "Mara Quell", "magnus_ro": "Magnus Ro", "owen_bright": "Owen Bright"}


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("@mara why did you sign?", Ask("mara", "why did you sign?")),
        (
            '@"Mara Quell"   what happened at berth 4?',
            Ask("Mara Quell", "what happened at berth 4?"),
        ),
        ("/ask @owen_bright who knew?", Ask("owen_bright", "who knew?")),
        ("  @owen line one\nline two ", Ask("owen", "line one\nline two")),
        ("/fork", ForkAsk()),
        ("/fork inject A fire at the mill.", ForkAsk("inject", "", "A fire at the mill.")),
        ("/fork remove @mara", ForkAsk("remove", "mara", "")),
        ("/fork withhold owen=the ledger", ForkAsk("withhold", "owen", "the ledger")),
        ("/fork tell mara = the berth is shut", ForkAsk("tell", "mara", "the berth is shut")),
    ],
)
def test_parses_questions(text: str, expected: Ask | ForkAsk) -> None:
    assert parse_query(text) == expected


@pytest.mark.parametrize(
    ("text", "needle"),
    [
        ("", "type @"),
        ("why did you sign?", "start with @"),
        ("@mara", "add a question"),
        ("@", "start with @"),
        ("/elevate @mara", "unknown command /elevate"),
        ("/fork explode", "expected one of inject, remove, withhold, tell"),
        ("/fork tell mara", "expects ENTITY=TEXT"),
    ],
)
def test_bad_queries_get_one_sentence(text: str, needle: str) -> None:
    with pytest.raises(QueryError, match=needle) as info:
        parse_query(text)
    assert "\n" not in str(info.value)


def test_entity_resolution() -> None:
    assert resolve_entity("mara_quell", CAST) == "mara_quell"
    assert resolve_entity("Mara Quell", CAST) == "mara_quell"
    assert resolve_entity("owen", CAST) == "owen_bright"
    assert resolve_entity("bright", CAST) == "owen_bright"
    with pytest.raises(QueryError, match="could be Magnus Ro, Mara Quell"):
        resolve_entity("ma", CAST)
    with pytest.raises(QueryError, match="no entity called 'zed'"):
        resolve_entity("zed", CAST)


def test_suggestions_offer_history_then_entities() -> None:
    history = ["@mara why?", "@owen when?"]
    assert suggestions("@m", CAST, history)[0] == "@mara why?"
    assert "@magnus_ro " in suggestions("@m", CAST, history)
    assert suggestions("@o", CAST, [])[0] == "@owen_bright "
