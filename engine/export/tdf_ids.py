"""TDF's vocabulary and node ids: the inline JSON-LD ``@context`` every record carries, the
``urn:timeloom:RUN/...`` ids of a run's nodes, and the content hash a record verifies with (the
sha256 of its canonical JSON, sorted keys and no spaces, with the hash itself left out)."""

from __future__ import annotations

import hashlib
import json
import re
from collections.abc import Iterable, Iterator
from functools import lru_cache
from importlib import metadata
from typing import Any
from urllib.parse import quote

import orjson

from ..model.records import KnowledgeInfo

VOCAB = "urn:timeloom:tdf:v1#"
TDF_VERSION = "1"

_ID = {"@type": "@id"}
_LIST = {"@container": "@list"}
_JSON = {"@type": "@json"}

CONTEXT: dict[str, Any] = {
    "@version": 1.1,
    "@vocab": VOCAB,
    "xsd": "http://www.w3.org/2001/XMLSchema#",
    "timestamp": {"@type": "xsd:dateTime"},
    "started_at": {"@type": "xsd:dateTime"},
    "finished_at": {"@type": "xsd:dateTime"},
    "timepoints": _LIST,
    "turns": _LIST,
    "context": _LIST,
    "biology": _LIST,
    "behavior": _LIST,
    "present": _ID,
    "causal_antecedents": _ID,
    "fork_timepoint": _ID,
    "timepoint": _ID,
    "speaker": _ID,
    "addressed_to": _ID,
    "entity": _ID,
    "source_entity": _ID,
    "query": _ID,
    "intervention": _JSON,
    "scoring": _JSON,
    "models": _JSON,
    "turn_models": _JSON,
    "cognitive": _JSON,
    "edges": {"@context": {"source": _ID, "target": _ID}},
}


def generator_version() -> str:
    """The installed package's version, else the engine's ``__version__``."""
    try:
        return metadata.version("timeloom")
    except metadata.PackageNotFoundError:
        from .. import __version__

        return __version__


# ---------------------------------------------------------------------- ids and hashing
_SAFE = re.compile(r"[A-Za-z0-9._~-]*").fullmatch  # what quoting leaves as it is


def _q(part: str) -> str:
    return part if _SAFE(part) else _quoted(part)


@lru_cache(maxsize=1 << 12)
def _quoted(part: str) -> str:
    return quote(part, safe="-._~")


class Ids:
    """The URNs of one run's nodes."""

    def __init__(self, run_id: str) -> None:
        self.base = f"urn:timeloom:{_q(run_id)}"
        # entities and timepoints are named over and over (every edge, turn and exposure)
        self._entities: dict[str, str] = {}
        self._timepoints: dict[str, str] = {}

    def entity(self, entity_id: str) -> str:
        found = self._entities.get(entity_id)
        if found is None:
            found = self._entities[entity_id] = f"{self.base}/entity/{_q(entity_id)}"
        return found

    def timepoint(self, timepoint_id: str) -> str:
        found = self._timepoints.get(timepoint_id)
        if found is None:
            found = self._timepoints[timepoint_id] = f"{self.base}/timepoint/{_q(timepoint_id)}"
        return found

    def dialog(self, dialog_id: str) -> str:
        return f"{self.base}/dialog/{_q(dialog_id)}"

    def turn(self, dialog_id: str, index: int) -> str:
        return f"{self.base}/turn/{_q(dialog_id)}/{index}"

    def knowledge(self, k: KnowledgeInfo) -> str:
        key = k.exposure_id or f"{k.entity_id}.{k.seq}"
        return f"{self.base}/knowledge/{_q(key)}"

    def reference(self, speaker: str, ref: str) -> str:
        digest = hashlib.sha256(f"{speaker}\n{ref}".encode()).hexdigest()[:16]
        return f"{self.base}/reference/{digest}"

    def query(self, query_id: str) -> str:
        return f"{self.base}/query/{_q(query_id)}"

    def record(self, branch_id: str) -> str:
        return f"{self.base}/record/{_q(branch_id)}"

    def branch(self, branch_id: str) -> str:
        return f"{self.base}/branch/{_q(branch_id)}"


# Python's own JSON text (its float spellings, such as 1e-05, are part of the canonical form),
# with one encoder made once: json.dumps with options builds a new one at every call
_CANONICAL = json.JSONEncoder(sort_keys=True, separators=(",", ":"), ensure_ascii=False)


def canonical_text(value: Any) -> str:
    """The canonical JSON text of ``value``: keys sorted, no spaces, no ASCII escaping."""
    return _CANONICAL.encode(value)


class Spelled(float):
    """A float below 1e-4: its canonical text is Python's (``1e-05``), which orjson would
    write another way (``0.00001``), so the fast encoder is given that text as it is."""

    __slots__ = ()


def canonical_float(x: float) -> float:
    """``x`` as a record's long sections hold it: every float in them goes through here, so
    that their fast encoding is the canonical one (a test walks them to check)."""
    return Spelled(x) if x and abs(x) < 1e-4 else x


def _python_spelling(value: Any) -> Any:
    if isinstance(value, float):
        return orjson.Fragment(float.__repr__(value))
    raise TypeError(f"not part of a TDF record: {type(value).__name__}")


def canonical_groups(
    items: Iterable[dict[str, Any]], size: int = 256
) -> Iterator[tuple[list[dict[str, Any]], bytes]]:
    """The items in groups, each with the canonical UTF-8 text of its items joined by commas
    (a list's text without its brackets). The long sections (turns, edges, exposures) hold
    strings, whole numbers, booleans, nulls and :func:`canonical_float` floats, for which
    orjson with sorted keys writes exactly the canonical text, several times faster."""
    group: list[dict[str, Any]] = []
    for item in items:
        group.append(item)
        if len(group) >= size:
            yield group, _fast(group)
            group = []
    if group:
        yield group, _fast(group)


def _fast(group: list[dict[str, Any]]) -> bytes:
    return orjson.dumps(group, default=_python_spelling, option=orjson.OPT_SORT_KEYS)[1:-1]


def canonical(record: Any) -> bytes:
    """The canonical JSON the content hash is taken over (UTF-8)."""
    return _CANONICAL.encode(record).encode()


def content_hash(record: dict[str, Any]) -> str:
    """The sha256 of ``record`` without its ``provenance.content_hash``."""
    provenance = dict(record.get("provenance") or {})
    provenance.pop("content_hash", None)
    return hashlib.sha256(canonical({**record, "provenance": provenance})).hexdigest()


def verify(record: dict[str, Any]) -> bool:
    """Whether the record's ``provenance.content_hash`` matches what it holds."""
    provenance = record.get("provenance")
    if not isinstance(provenance, dict) or not isinstance(provenance.get("content_hash"), str):
        return False
    return provenance["content_hash"] == content_hash(record)
