"""Parsing queries typed in the query bar.

``@entity question`` asks an entity a question. The entity is named by its id, its name, or an
unambiguous prefix of either; a name with spaces can be quoted (``@"Mara Quell" ...``). The
explicit form ``/ask @entity question`` is the same. ``/fork`` opens a what-if at the selected
moment: ``/fork inject TEXT``, ``/fork remove ENTITY``, ``/fork withhold ENTITY=TEXT`` or
``/fork tell ENTITY=TEXT`` fill it in. Other ``/commands`` (elevate, compare, export) are listed
in :data:`COMMANDS` as they arrive.

Every error is one sentence a person can act on.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Mapping
from dataclasses import dataclass


class QueryError(ValueError):
    pass


@dataclass(frozen=True, slots=True)
class Ask:
    """Ask one entity a question."""

    entity: str  # as typed; resolve it with :func:`resolve_entity`
    question: str


@dataclass(frozen=True, slots=True)
class ForkAsk:
    """Open the fork form at the selected moment, filled in as far as the command says."""

    kind: str = "inject"
    entity: str = ""  # as typed; resolve it with :func:`resolve_entity`
    text: str = ""


FORK_KINDS = ("inject", "remove", "withhold", "tell")
COMMANDS: dict[str, str] = {
    "ask": "/ask @entity question — ask an entity a question",
    "fork": "/fork [inject TEXT | remove ENTITY | withhold ENTITY=TEXT | tell ENTITY=TEXT]",
}


def _fork(rest: str) -> ForkAsk:
    kind, _, arg = rest.strip().partition(" ")
    if not kind:
        return ForkAsk()
    if kind not in FORK_KINDS:
        raise QueryError(f"/fork {kind}: expected one of {', '.join(FORK_KINDS)}")
    arg = arg.strip()
    if kind == "inject":
        return ForkAsk(kind, "", arg)
    if kind == "remove":
        return ForkAsk(kind, arg.removeprefix("@"), "")
    entity, sep, text = arg.partition("=")
    if arg and not sep:
        raise QueryError(f"/fork {kind} expects ENTITY=TEXT")
    return ForkAsk(kind, entity.strip().removeprefix("@"), text.strip())


_MENTION = re.compile(r'^@(?:"([^"]+)"|(\S+))\s*(.*)$', re.DOTALL)


def parse_query(text: str) -> Ask | ForkAsk:
    text = text.strip()
    if not text:
        raise QueryError("type @ and an entity's name, then a question (e.g. @mara why now?)")
    if text.startswith("/"):
        command, _, rest = text[1:].partition(" ")
        if command not in COMMANDS:
            known = ", ".join(f"/{c}" for c in COMMANDS)
            raise QueryError(f"unknown command /{command}; available: {known}")
        if command == "fork":
            return _fork(rest)
        text = rest.strip()
    match = _MENTION.match(text)
    if not match:
        raise QueryError("start with @ and an entity's name, then a question (e.g. @mara why now?)")
    entity = (match.group(1) or match.group(2)).strip()
    question = match.group(3).strip()
    if not entity:
        raise QueryError("name an entity after @")
    if not question:
        raise QueryError(f"ask @{entity} something: add a question after the name")
    return Ask(entity=entity, question=question)


def _norm(text: str) -> str:
    return re.sub(r"[\s_]+", " ", text.strip().lower())


def resolve_entity(typed: str, entities: Mapping[str, str]) -> str:
    """The id of the entity ``typed`` names, given ``{entity_id: name}``.

    Exact ids and names win; otherwise a unique prefix of an id, a name, or any word of a name.
    """
    want = _norm(typed)
    for entity_id, name in entities.items():
        if want in (_norm(entity_id), _norm(name)):
            return entity_id
    matches = sorted(
        entity_id
        for entity_id, name in entities.items()
        if _norm(entity_id).startswith(want)
        or _norm(name).startswith(want)
        or any(word.startswith(want) for word in _norm(name).split())
    )
    if len(matches) == 1:
        return matches[0]
    if not matches:
        known = ", ".join(sorted(entities)[:8]) or "none"
        raise QueryError(f"no entity called {typed!r} in this run (try: {known})")
    names = ", ".join(entities[m] for m in matches[:4])
    raise QueryError(f"{typed!r} could be {names}; type more of the name")


def suggestions(prefix: str, entities: Mapping[str, str], history: Iterable[str]) -> list[str]:
    """Completions for the query bar: past queries first, then entity mentions."""
    out: list[str] = []
    for past in history:
        if past.startswith(prefix) and past != prefix and past not in out:
            out.append(past)
    if prefix.startswith("@") and " " not in prefix:
        typed = _norm(prefix[1:])
        for entity_id, name in sorted(entities.items()):
            if not typed or _norm(entity_id).startswith(typed) or _norm(name).startswith(typed):
                out.append(f"@{entity_id} ")
    return out
