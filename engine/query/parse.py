"""The query language of the query bar, parsed into small frozen values.

A query either asks an entity something or starts with a ``/command``:

``@entity question``
    Ask an entity a question. The entity is named by its id, its name, or an unambiguous prefix
    of either (:func:`resolve_entity` turns what was typed into an id); a name with spaces goes
    in double quotes, ``@"Mara Quell" why?``. A mention may pin a moment: ``@mara@tp03 why?``
    asks Mara as she was at timepoint ``tp03`` (the id is kept as typed; the caller resolves
    it). ``/ask @entity[@TP] question`` is the same thing spelled out. -> :class:`Ask`
``/elevate @entity[@TP] [to LEVEL]``
    Give an entity more detail, up to one of the resolution levels ``tensor_only``, ``scene``,
    ``graph``, ``dialog`` or ``trained`` (any case; ``tensor`` and ``tensor-only`` also name
    ``tensor_only``). Without ``to LEVEL`` the caller picks the next level. -> :class:`Elevate`
``/who-knows phrase`` or ``/who-knows "phrase"``
    Who holds a piece of knowledge. -> :class:`WhoKnows`
``/why @entity[@TP] phrase`` or ``/why @entity[@TP] "phrase"``
    How an entity came to know (or believe) something. -> :class:`Why`
``/fork [inject TEXT | remove ENTITY | withhold ENTITY=TEXT | tell ENTITY=TEXT]``
    Open a what-if at the selected moment, filled in as far as the command says. -> :class:`ForkAsk`

Command names are case-insensitive; :data:`COMMANDS` gives each with a one-line usage. Anything
that cannot be read raises :class:`QueryError` whose message is one sentence a person can act on:
no other exception leaves :func:`parse_query`. :func:`suggestions` completes a half-typed query
(past queries, command names, entity ids and level names).
"""

from __future__ import annotations

import re
from collections.abc import Callable, Collection, Iterable, Mapping
from dataclasses import dataclass

from ..model.common import ResolutionLevel


class QueryError(ValueError):
    pass


@dataclass(frozen=True, slots=True)
class Ask:
    """Ask one entity a question, at the selected moment or at ``timepoint``."""

    entity: str  # as typed; resolve it with :func:`resolve_entity`
    question: str
    timepoint: str | None = None  # as typed after the second @; resolved by the caller


@dataclass(frozen=True, slots=True)
class ForkAsk:
    """Open the fork form at the selected moment, filled in as far as the command says."""

    kind: str = "inject"
    entity: str = ""  # as typed; resolve it with :func:`resolve_entity`
    text: str = ""


@dataclass(frozen=True, slots=True)
class Elevate:
    """Raise an entity's resolution, to ``level`` (one of :data:`LEVELS`) or the next one up."""

    entity: str  # as typed; resolve it with :func:`resolve_entity`
    level: str | None = None
    timepoint: str | None = None


@dataclass(frozen=True, slots=True)
class WhoKnows:
    """Which entities hold a piece of knowledge."""

    phrase: str


@dataclass(frozen=True, slots=True)
class Why:
    """How an entity came to know (or believe) something."""

    entity: str  # as typed; resolve it with :func:`resolve_entity`
    phrase: str
    timepoint: str | None = None


Query = Ask | ForkAsk | Elevate | WhoKnows | Why

FORK_KINDS = ("inject", "remove", "withhold", "tell")
LEVELS: tuple[str, ...] = tuple(level.value for level in ResolutionLevel)
COMMANDS: dict[str, str] = {
    "ask": "/ask @entity[@timepoint] question — ask an entity a question",
    "elevate": "/elevate @entity[@timepoint] [to LEVEL] — give an entity more detail",
    "who-knows": '/who-knows "phrase" — list the entities that know something',
    "why": '/why @entity[@timepoint] "phrase" — trace how an entity came to know something',
    "fork": "/fork [inject TEXT | remove ENTITY | withhold ENTITY=TEXT | tell ENTITY=TEXT]",
}
# Longer than anything a person types into one line; a paste this long is an accident, and the
# question would go to a model whole.
MAX_QUERY_CHARS = 10_000

_ENTITY_COMMANDS = ("ask", "elevate", "why")  # commands whose first argument is @entity
_LEVEL_ALIASES = {"tensor": "tensor_only", "tensoronly": "tensor_only"}
_BARE = re.compile(r'[^\s@"]*')  # an unquoted entity or timepoint id
_COMMAND = re.compile(r'/([^\s@"]*)\s*(.*)', re.DOTALL)
_CONTROL = re.compile(r"[\x00-\x08\x0b\x0c\x0e-\x1f\x7f-\x9f]")
_EXAMPLE = "e.g. @mara why now?"


def _clip(text: str, limit: int = 40) -> str:
    """User text fit to quote inside a one-line message."""
    text = " ".join(text.split())
    return text if len(text) <= limit else text[: limit - 1] + "…"


def _at(entity: str, timepoint: str | None = None) -> str:
    """A mention as it would be typed: ``@mara``, ``@"Mara Quell"@tp03``."""
    name = _clip(entity, 30)
    mention = f'@"{name}"' if any(c.isspace() or c in '@"' for c in name) else f"@{name}"
    return mention if timepoint is None else f"{mention}@{_clip(timepoint, 20)}"


def _known_commands() -> str:
    return ", ".join(f"/{c}" for c in COMMANDS)


def _mention(text: str, example: str) -> tuple[str, str | None, str]:
    """Split ``@entity[@TP] rest`` (``text`` starts with @) into entity, timepoint and rest."""
    if text.startswith('@"'):
        end = text.find('"', 2)
        if end < 0:
            raise QueryError(f'close the quote after @"{_clip(text[2:], 30)} ({example})')
        entity = " ".join(text[2:end].split())
        if not entity:
            raise QueryError(f"put an entity's name between the quotes after @ ({example})")
        pos = end + 1
        if pos < len(text) and not (text[pos].isspace() or text[pos] == "@"):
            quoted = f'@"{_clip(entity, 30)}"'
            raise QueryError(f"put a space after {quoted} before the rest of the query")
    else:
        pos = _BARE.match(text, 1).end()  # type: ignore[union-attr]
        entity = text[1:pos]
        if not entity:
            if text.startswith("@@"):
                raise QueryError("name an entity between the two @ signs (e.g. @mara@tp03 why?)")
            raise QueryError(f"name an entity after @ ({example})")
        if text.startswith('"', pos):
            raise QueryError(f"put a space between {_at(entity)} and the quote")
    timepoint: str | None = None
    if text.startswith("@", pos):
        end = _BARE.match(text, pos + 1).end()  # type: ignore[union-attr]
        timepoint = text[pos + 1 : end]
        if not timepoint:
            raise QueryError(
                f"add a timepoint id after {_at(entity)}@ (e.g. {_at(entity, 'tp03')}), "
                "or drop the second @"
            )
        pos = end
        if text.startswith("@", pos):
            raise QueryError(f"give one timepoint only, as in {_at(entity, timepoint)}")
        if text.startswith('"', pos):
            raise QueryError(f"put a space between {_at(entity, timepoint)} and the quote")
    return entity, timepoint, text[pos:].strip()


def _entity_first(rest: str, command: str, example: str) -> tuple[str, str | None, str]:
    """The leading ``@entity[@TP]`` of a command's arguments, and what follows it."""
    if not rest:
        raise QueryError(f"/{command} needs an entity: start with @ ({example})")
    if not rest.startswith("@"):
        word = _clip(rest.split()[0], 30)
        raise QueryError(f"start the entity with @, as in @{word} ({example})")
    return _mention(rest, example)


def _phrase(text: str, missing: str) -> str:
    """A phrase typed bare or in double quotes; ``missing`` is the message when there is none."""
    text = text.strip()
    if text.startswith('"'):
        end = text.find('"', 1)
        if end < 0:
            raise QueryError(f'close the quote after "{_clip(text[1:], 30)}')
        after = text[end + 1 :].strip()
        if after:
            raise QueryError(
                f"put the whole phrase inside the quotes ({_clip(after, 30)!r} follows them)"
            )
        text = text[1:end].strip()
    if not text:
        raise QueryError(missing)
    return text


def _level(typed: str) -> str:
    key = re.sub(r"[\s_\-]+", "_", typed.strip().lower())
    key = _LEVEL_ALIASES.get(key.replace("_", ""), key)
    if key not in LEVELS:
        raise QueryError(f"unknown level {_clip(typed, 30)!r}; use one of {', '.join(LEVELS)}")
    return key


def _ask(rest: str, example: str = "e.g. /ask @mara why now?") -> Ask:
    entity, timepoint, question = _entity_first(rest, "ask", example)
    if not question:
        raise QueryError(f"ask {_at(entity)} something: add a question after the name")
    return Ask(entity=entity, question=question, timepoint=timepoint)


def _elevate(rest: str) -> Elevate:
    example = "e.g. /elevate @mara to dialog"
    entity, timepoint, tail = _entity_first(rest, "elevate", example)
    if not tail:
        return Elevate(entity=entity, timepoint=timepoint)
    parts = tail.split(maxsplit=1)
    word, level = parts[0], (parts[1] if len(parts) > 1 else "")
    if word.lower() != "to":
        raise QueryError(
            f"expected 'to LEVEL' after {_at(entity, timepoint)} "
            f"(e.g. /elevate {_at(entity)} to dialog)"
        )
    if not level.strip():
        raise QueryError(f"name a level after 'to': one of {', '.join(LEVELS)}")
    return Elevate(entity=entity, level=_level(level), timepoint=timepoint)


def _who_knows(rest: str) -> WhoKnows:
    return WhoKnows(_phrase(rest, 'name what to look for (e.g. /who-knows "the unsigned letter")'))


def _why(rest: str) -> Why:
    example = 'e.g. /why @mara "the unsigned letter"'
    entity, timepoint, tail = _entity_first(rest, "why", example)
    missing = (
        f'say what {_at(entity, timepoint)} should explain (e.g. /why {_at(entity)} "the letter")'
    )
    return Why(entity=entity, phrase=_phrase(tail, missing), timepoint=timepoint)


def _fork(rest: str) -> ForkAsk:
    parts = rest.split(maxsplit=1)
    if not parts:
        return ForkAsk()
    kind, arg = parts[0].lower(), (parts[1].strip() if len(parts) > 1 else "")
    if kind not in FORK_KINDS:
        raise QueryError(f"/fork {_clip(kind, 30)}: expected one of {', '.join(FORK_KINDS)}")
    if kind == "inject":
        return ForkAsk(kind, "", arg)
    if kind == "remove":
        return ForkAsk(kind, arg.removeprefix("@"), "")
    entity, sep, text = arg.partition("=")
    if arg and not sep:
        raise QueryError(f"/fork {kind} expects ENTITY=TEXT")
    return ForkAsk(kind, entity.strip().removeprefix("@"), text.strip())


_PARSERS: dict[str, Callable[[str], Query]] = {
    "ask": _ask,
    "elevate": _elevate,
    "who-knows": _who_knows,
    "why": _why,
    "fork": _fork,
}


def parse_query(text: str, *, allow: Collection[str] | None = None) -> Query:
    """Read one query. ``allow`` names the commands the caller handles (default: all of
    :data:`COMMANDS`); another known command is a :class:`QueryError` saying it is not here yet.
    """
    if len(text) > MAX_QUERY_CHARS:
        text = text.strip()
        if len(text) > MAX_QUERY_CHARS:
            raise QueryError(
                f"shorten the query to at most {MAX_QUERY_CHARS:,} characters "
                f"(it has {len(text):,})"
            )
    text = text.strip()
    if not text:
        raise QueryError(f"type @ and an entity's name, then a question ({_EXAMPLE})")
    bad = _CONTROL.search(text)
    if bad:
        raise QueryError(f"remove the control character U+{ord(bad.group()):04X} from the query")
    if not text.startswith("/"):
        if allow is not None and "ask" not in allow:
            raise QueryError(f"asking is not available here; use {_list(allow)}")
        if not text.startswith("@"):
            raise QueryError(f"start with @ and an entity's name, then a question ({_EXAMPLE})")
        return _ask(text, _EXAMPLE)
    match = _COMMAND.match(text)
    assert match is not None  # the pattern matches any text that starts with /
    command, rest = match.group(1).lower().replace("_", "-"), match.group(2).strip()
    if not command:
        raise QueryError(f"type a command after / (available: {_known_commands()})")
    if command not in COMMANDS:
        raise QueryError(f"unknown command /{_clip(command, 30)}; available: {_known_commands()}")
    if allow is not None and command not in allow:
        raise QueryError(f"/{command} is not available here yet; use {_list(allow)}")
    return _PARSERS[command](rest)


def _list(allow: Collection[str]) -> str:
    known = [f"/{c}" for c in COMMANDS if c in allow]
    return ", ".join(known) or "the panes"


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
        raise QueryError(f"no entity called {_clip(typed)!r} in this run (try: {known})")
    names = ", ".join(entities[m] for m in matches[:4])
    raise QueryError(f"{_clip(typed)!r} could be {names}; type more of the name")


# ---------------------------------------------------------------------------- suggestions
_MENTION_HEAD = re.compile(r"/(?:ask|elevate|why)\s+", re.IGNORECASE)
_FORK_HEAD = re.compile(r"/fork\s+(remove|withhold|tell)\s+", re.IGNORECASE)
_LEVEL_TAIL = re.compile(
    r'/elevate\s+@(?:"[^"]*"|[^\s@"]+)(?:@[^\s@"]+)?\s+(?:(?P<to>(?:to?)?)|to\s+(?P<level>[\w\-]*))',
    re.IGNORECASE,
)


def _command_completions(typed: str) -> list[str]:
    typed = typed.lower()
    return [
        f"/{c} @" if c in _ENTITY_COMMANDS else f"/{c} " for c in COMMANDS if c.startswith(typed)
    ]


def _entity_completions(prefix: str, entities: Mapping[str, str]) -> list[str]:
    at = prefix.rfind("@")
    if at < 0:
        return []
    head, partial = prefix[:at], prefix[at + 1 :]
    fork = _FORK_HEAD.fullmatch(head)
    if head and not fork and not _MENTION_HEAD.fullmatch(head):
        return []
    after = "=" if fork and fork.group(1).lower() != "remove" else " "
    if partial.startswith('"'):  # a quoted name, still open
        typed = _norm(partial[1:])
        if '"' in partial[1:]:
            return []
        return [
            f'{head}@"{name}"{after}'
            for _, name in sorted(entities.items())
            if _norm(name).startswith(typed)
        ]
    if _BARE.fullmatch(partial) is None:
        return []
    typed = _norm(partial)
    return [
        f"{head}@{entity_id}{after}"
        for entity_id, name in sorted(entities.items())
        if not typed or _norm(entity_id).startswith(typed) or _norm(name).startswith(typed)
    ]


def _level_completions(prefix: str) -> list[str]:
    match = _LEVEL_TAIL.fullmatch(prefix)
    if match is None:
        return []
    if match.group("to") is not None:
        return [prefix[: match.start("to")] + "to "]
    typed = match.group("level").lower().replace("-", "_")
    base = prefix[: match.start("level")]
    return [base + level for level in LEVELS if level.startswith(typed)]


def suggestions(prefix: str, entities: Mapping[str, str], history: Iterable[str]) -> list[str]:
    """Completions for the query bar, best first: past queries that extend ``prefix``, then
    command names (``/el`` -> ``/elevate @``), entity ids after an ``@`` where an entity belongs
    (``/elevate @ma`` -> ``/elevate @mara_quell ``) and level names after ``/elevate @x to``."""
    out: list[str] = []
    for past in history:
        if past.startswith(prefix) and past != prefix and past not in out:
            out.append(past)
    if len(prefix) > MAX_QUERY_CHARS:
        return out
    if prefix.startswith("/") and not any(c.isspace() for c in prefix):
        found = _command_completions(prefix[1:])
    else:
        found = _entity_completions(prefix, entities) + _level_completions(prefix)
    out.extend(s for s in found if s != prefix and s not in out)
    return out
