from __future__ import annotations

import re
import time

import pytest

from engine.query import Ask, ForkAsk, QueryError, parse_query, resolve_entity
from engine.query.parse import (
    COMMANDS,
    LEVELS,
    MAX_QUERY_CHARS,
    Elevate,
    Query,
    WhoKnows,
    Why,
    suggestions,
)

CAST = {"mara_quell": "Mara Quell", "magnus_ro": "Magnus Ro", "owen_bright": "Owen Bright"}


def assert_one_sentence(message: str) -> None:
    assert message.strip() == message and message
    assert "\n" not in message and "\r" not in message
    assert "Traceback" not in message and "Error" not in message
    assert not re.search(r"[.!?]\s+[A-Z]", message), message  # no second sentence
    assert len(message) < 200


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
        ("@mara@tp03 why did you lie?", Ask("mara", "why did you lie?", "tp03")),
        ('@"Mara Quell"@tp03 why?', Ask("Mara Quell", "why?", timepoint="tp03")),
        ('@" Mara   Quell "@TP-3 why?', Ask("Mara Quell", "why?", timepoint="TP-3")),
        ("/ask @mara@tp03 why then?", Ask("mara", "why then?", "tp03")),
        ("/ASK @mara why?", Ask("mara", "why?")),
        ("/ask@mara why?", Ask("mara", "why?")),
        ("@mara\twhy?", Ask("mara", "why?")),
        ("/fork", ForkAsk()),
        ("/fork inject A fire at the mill.", ForkAsk("inject", "", "A fire at the mill.")),
        ("/fork remove @mara", ForkAsk("remove", "mara", "")),
        ("/fork withhold owen=the ledger", ForkAsk("withhold", "owen", "the ledger")),
        ("/fork tell mara = the berth is shut", ForkAsk("tell", "mara", "the berth is shut")),
        ("/elevate @mara", Elevate("mara")),
        ("/elevate @mara to dialog", Elevate("mara", "dialog")),
        ("/elevate @mara@tp03 to Trained", Elevate("mara", "trained", "tp03")),
        ('/elevate @"Mara Quell" TO scene', Elevate("Mara Quell", "scene")),
        ("/elevate @mara to tensor", Elevate("mara", "tensor_only")),
        ("/elevate @mara to tensor-only", Elevate("mara", "tensor_only")),
        ("/elevate @mara to Tensor Only", Elevate("mara", "tensor_only")),
        ("/elevate @mara to tensor_only", Elevate("mara", "tensor_only")),
        ("/elevate @mara@tp01", Elevate("mara", timepoint="tp01")),
        ('/who-knows "the unsigned letter"', WhoKnows("the unsigned letter")),
        ("/who-knows the unsigned letter", WhoKnows("the unsigned letter")),
        ("/who_knows the ledger", WhoKnows("the ledger")),
        ('/why @mara "the unsigned letter"', Why("mara", "the unsigned letter")),
        ("/why @mara the unsigned letter", Why("mara", "the unsigned letter")),
        ('/why @mara@tp02 "the letter"', Why("mara", "the letter", "tp02")),
        ('/why @"Mara Quell" berth 4', Why("Mara Quell", "berth 4")),
    ],
)
def test_parses_every_form(text: str, expected: Query) -> None:
    assert parse_query(text) == expected


def test_ask_keeps_positional_construction() -> None:
    ask = Ask("mara", "why?")
    assert ask.timepoint is None
    assert Ask("mara", "why?", "tp03").timepoint == "tp03"


@pytest.mark.parametrize(
    ("text", "needle"),
    [
        ("", "type @"),
        ("   \n ", "type @"),
        ("why did you sign?", "start with @"),
        ("@mara", "add a question"),
        ("@mara@tp03", "add a question"),
        ("@", "name an entity after @"),
        ("@ why?", "name an entity after @"),
        ("@@tp03 x", "name an entity between the two @ signs"),
        ("@mara@ question", "add a timepoint id after @mara@"),
        ("@mara@tp03@tp04 why?", "one timepoint only"),
        ('@"Mara question', "close the quote"),
        ('@"" why?', "between the quotes"),
        ('@"Mara"why?', "put a space after"),
        ('@mara"why"', "put a space between @mara and the quote"),
        ("/", "type a command after /"),
        ("/explode @mara", "unknown command /explode; available: /ask, /elevate"),
        ("/ask", "/ask needs an entity"),
        ("/ask mara why?", "start the entity with @"),
        ("/elevate", "/elevate needs an entity"),
        ("/elevate mara to dialog", "start the entity with @"),
        ("/elevate @mara to", "name a level after 'to'"),
        ("/elevate @mara to godlike", "unknown level 'godlike'; use one of tensor_only, scene"),
        ("/elevate @mara up", "expected 'to LEVEL' after @mara"),
        ("/elevate @mara dialog", "expected 'to LEVEL'"),
        ("/why", "/why needs an entity"),
        ("/why @mara", "say what @mara should explain"),
        ('/why @mara ""', "say what @mara should explain"),
        ('/why mara "x"', "start the entity with @"),
        ('/why @mara "the letter', "close the quote"),
        ('/who-knows ""', "name what to look for"),
        ("/who-knows", "name what to look for"),
        ('/who-knows "the letter" today', "whole phrase inside the quotes"),
        ("/fork explode", "expected one of inject, remove, withhold, tell"),
        ("/fork tell mara", "expects ENTITY=TEXT"),
        ("@mara why\x00?", "control character U+0000"),
        ("@mara \x1b[31mwhy?", "control character U+001B"),
        ("/who-knows the\x7fletter", "control character U+007F"),
    ],
)
def test_bad_queries_get_one_sentence(text: str, needle: str) -> None:
    with pytest.raises(QueryError, match=re.escape(needle)) as info:
        parse_query(text)
    assert type(info.value) is QueryError
    assert_one_sentence(str(info.value))


def test_long_input_fails_cleanly_and_fast() -> None:
    started = time.perf_counter()
    for text in ("@mara " + "why " * 25_000, "/who-knows " + '"' * 100_000, "@" * 100_000):
        with pytest.raises(QueryError, match="shorten the query") as info:
            parse_query(text)
        assert_one_sentence(str(info.value))
    assert time.perf_counter() - started < 1.0


def test_long_but_allowed_inputs_parse_or_fail_cleanly() -> None:
    question = "why " * ((MAX_QUERY_CHARS - 10) // 4)
    assert parse_query("@mara " + question).question == question.strip()
    for text in (
        "@" + "m" * (MAX_QUERY_CHARS - 1),
        '@"' + "Mara " * ((MAX_QUERY_CHARS - 2) // 5),
        "/elevate @mara to " + "x" * (MAX_QUERY_CHARS - 20),
        "@mara@" + "@" * (MAX_QUERY_CHARS - 6),
    ):
        with pytest.raises(QueryError) as info:
            parse_query(text)
        assert_one_sentence(str(info.value))
    # whitespace around a query does not count against the limit
    assert parse_query(" " * MAX_QUERY_CHARS + "@mara why?") == Ask("mara", "why?")


def test_only_the_allowed_commands() -> None:
    allow = ("ask", "fork")
    assert parse_query("@mara why?", allow=allow) == Ask("mara", "why?")
    assert parse_query("/fork", allow=allow) == ForkAsk()
    with pytest.raises(QueryError, match="/elevate is not available here yet; use /ask, /fork"):
        parse_query("/elevate @mara", allow=allow)
    with pytest.raises(QueryError, match="unknown command /nope"):
        parse_query("/nope", allow=allow)
    with pytest.raises(QueryError, match="asking is not available here; use /who-knows"):
        parse_query("@mara why?", allow=("who-knows",))


def test_every_command_has_a_one_line_usage() -> None:
    assert list(COMMANDS) == ["ask", "elevate", "who-knows", "why", "fork"]
    for name, usage in COMMANDS.items():
        assert usage.startswith(f"/{name}") and "\n" not in usage
    assert LEVELS == ("tensor_only", "scene", "graph", "dialog", "trained")


def test_entity_resolution() -> None:
    assert resolve_entity("mara_quell", CAST) == "mara_quell"
    assert resolve_entity("Mara Quell", CAST) == "mara_quell"
    assert resolve_entity("owen", CAST) == "owen_bright"
    assert resolve_entity("bright", CAST) == "owen_bright"
    with pytest.raises(QueryError, match="could be Magnus Ro, Mara Quell"):
        resolve_entity("ma", CAST)
    with pytest.raises(QueryError, match="no entity called 'zed'"):
        resolve_entity("zed", CAST)
    with pytest.raises(QueryError) as info:
        resolve_entity("z" * 5000, CAST)
    assert_one_sentence(str(info.value))


def test_suggestions_offer_history_then_entities() -> None:
    history = ["@mara why?", "@owen when?"]
    assert suggestions("@m", CAST, history)[0] == "@mara why?"
    assert "@magnus_ro " in suggestions("@m", CAST, history)
    assert suggestions("@o", CAST, [])[0] == "@owen_bright "
    assert suggestions("@mara why?", CAST, history) == []


def test_suggestions_complete_commands() -> None:
    assert suggestions("/el", CAST, []) == ["/elevate @"]
    assert suggestions("/w", CAST, []) == ["/who-knows ", "/why @"]
    assert suggestions("/", CAST, []) == ["/ask @", "/elevate @", "/who-knows ", "/why @", "/fork "]
    assert suggestions("/zz", CAST, []) == []
    assert suggestions("/el", CAST, ["/elevate @owen to scene"])[0] == "/elevate @owen to scene"


def test_suggestions_complete_entities_after_a_command() -> None:
    assert suggestions("/elevate @ma", CAST, []) == [
        "/elevate @magnus_ro ",
        "/elevate @mara_quell ",
    ]
    assert suggestions("/why  @ow", CAST, []) == ["/why  @owen_bright "]
    assert suggestions("/ask @Owen B", CAST, []) == []  # a bare mention has no spaces
    assert suggestions("/ask @owen", CAST, []) == ["/ask @owen_bright "]
    assert suggestions('@"Mara', CAST, []) == ['@"Mara Quell" ']
    assert suggestions("/fork remove @ow", CAST, []) == ["/fork remove @owen_bright "]
    assert suggestions("/fork tell @ow", CAST, []) == ["/fork tell @owen_bright="]
    # not where an entity belongs, or after the timepoint's @
    assert suggestions("/who-knows @ma", CAST, []) == []
    assert suggestions("hello @ma", CAST, []) == []
    assert suggestions("@mara@", CAST, []) == []
    assert suggestions("@mara@tp0", CAST, []) == []
    assert suggestions('/why @mara "the le', CAST, []) == []


def test_suggestions_complete_levels() -> None:
    assert suggestions("/elevate @mara_quell to ", CAST, []) == [
        f"/elevate @mara_quell to {level}" for level in LEVELS
    ]
    assert suggestions("/elevate @mara@tp03 to d", CAST, []) == ["/elevate @mara@tp03 to dialog"]
    assert suggestions("/elevate @mara to tensor-", CAST, []) == ["/elevate @mara to tensor_only"]
    assert suggestions('/elevate @"Mara Quell" to s', CAST, []) == [
        '/elevate @"Mara Quell" to scene'
    ]
    assert suggestions("/elevate @mara t", CAST, []) == ["/elevate @mara to "]
    assert suggestions("/elevate @mara to x", CAST, []) == []
    assert suggestions("/elevate @mara to dialog", CAST, []) == []


@pytest.mark.parametrize(
    "prefix",
    ["", "@", "@@", '@"', '@""', "/", "/elevate @mara to to to", "\x00@\x1b", "@" * 100_000],
)
def test_suggestions_never_crash(prefix: str) -> None:
    found = suggestions(prefix, CAST, ["@mara why?"])
    assert all(isinstance(s, str) and s != prefix for s in found)
