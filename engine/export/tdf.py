"""TDF, the Timepoint Data Format: a stored run's timeline as self-describing JSON-LD records.

A record is one JSON object that reads as linked data on its own. Its ``@context`` is written
inline (never a remote address), so any JSON-LD processor can expand it offline; every key maps
into the ``urn:timeloom:tdf:v1#`` vocabulary, and every field that points at something else in
the record (a speaker, a parent timepoint, an edge's ends) is an ``@id`` reference to a
``urn:timeloom:RUN/...`` node of the same record. Timepoints, turns and state vectors are
ordered lists; model descriptions and interventions are kept as JSON literals.

One record covers one line of time: a branch's lineage (what led to its last selected timepoint
on every branch it descends from, then its own moments), or for a PORTAL run one kept path
(``p1``..``pN``). It holds the run and the branch it covers, the entities with their state at
the end of that line, the timepoints in order with their causal antecedents, the dialog turns
of each, the causal graph's edges (:mod:`.graph`), the knowledge each entity was exposed to with
where it came from, and provenance: the generator, the models, what the run cost, what an
observer did to it, and a content hash. The hash is the sha256 of the record's canonical JSON
(sorted keys, no spaces, UTF-8) with the hash itself left out; :func:`verify` checks it.

Records are built and written one at a time; each pass over turns, knowledge and queries is
grouped once per record, never repeated per turn."""

from __future__ import annotations

import dataclasses
import hashlib
from collections.abc import Iterator
from typing import Any

from ..model.records import BranchInfo, KnowledgeInfo, StateInfo, TimepointInfo, TurnInfo
from .graph import Edge, edges
from .selection import Selection
from .tally import Tally
from .tdf_ids import (
    CONTEXT,
    TDF_VERSION,
    Ids,
    canonical_float,
    canonical_groups,
    content_hash,
    generator_version,
)
from .tdf_ids import (
    canonical_text as _canon,
)


# ---------------------------------------------------------------------- the lines of time
def _lines(sel: Selection) -> list[tuple[str, list[TimepointInfo]]]:
    """(branch, its lineage within the selection) for each record to write."""
    tps = list(sel.timepoints)
    if sel.branch is not None or not tps:
        return [(sel.branch or (tps[-1].branch_id if tps else "main"), tps)]
    last: dict[str, TimepointInfo] = {}
    for tp in tps:
        last[tp.branch_id] = tp  # insertion order: the order branches first appear
    if len(last) == 1:
        return [(next(iter(last)), tps)]
    chosen = {t.timepoint_id for t in tps}
    out = []
    for branch, end in last.items():
        chain = [t for t in sel.view.chain(end.timepoint_id) if t.timepoint_id in chosen]
        out.append((branch, chain))
    return out


# ---------------------------------------------------------------------- record parts
def _state(ids: Ids, s: StateInfo | None) -> dict[str, Any] | None:
    if s is None:
        return None
    return {
        "@type": "EntityState",
        "timepoint": ids.timepoint(s.timepoint_id) if s.timepoint_id else None,
        "resolution": s.resolution,
        "valence": s.valence,
        "arousal": s.arousal,
        "energy": s.energy,
        "context": list(s.context),
        "biology": list(s.biology),
        "behavior": list(s.behavior),
        "cognitive": s.cognitive.model_dump(mode="json") if s.cognitive is not None else None,
        "cause": s.cause,
    }


def _entities(sel: Selection, ids: Ids, end: str | None) -> list[dict[str, Any]]:
    view = sel.view
    return [
        {
            "@id": ids.entity(e.entity_id),
            "@type": "Entity",
            "entity_id": e.entity_id,
            "name": e.name,
            "entity_type": e.entity_type,
            "role": e.role,
            "archetype": e.archetype,
            "description": e.description,
            "personality": list(e.personality),
            "origin": e.source,
            "state": _state(ids, view.state_at(e.entity_id, end) if end else None),
        }
        for e in view.entities.values()
    ]


def _timepoint(ids: Ids, tp: TimepointInfo, observed: bool) -> dict[str, Any]:
    return {
        "@id": ids.timepoint(tp.timepoint_id),
        "@type": "Timepoint",
        "timepoint_id": tp.timepoint_id,
        "branch": tp.branch_id,
        "index": tp.index,
        "timestamp": tp.timestamp.isoformat(),
        "title": tp.title,
        "event_description": tp.event_description,
        "present": [ids.entity(e) for e in tp.present],
        "importance": tp.importance,
        "tension": tp.tension,
        "status": tp.status,
        "issues": list(tp.issues),
        "causal_antecedents": [ids.timepoint(tp.parent)] if tp.parent else [],
        "observed": observed,
    }


def _turn(sel: Selection, ids: Ids, t: TurnInfo, queried: bool) -> dict[str, Any]:
    return {
        "@id": ids.turn(t.dialog_id, t.turn_index),
        "@type": "Turn",
        "turn_index": t.turn_index,
        "speaker": ids.entity(t.speaker),
        "text": t.content,
        "addressed_to": ids.entity(t.addressed_to) if t.addressed_to else None,
        "emotional_tone": t.emotional_tone,
        "stance": t.stance,
        "knowledge_references": list(t.knowledge_references),
        "status": t.status,
        "issues": list(t.issues),
        "turn_models": [m.model for m in sel.models_of(t)],
        "query_influenced": queried,
    }


def _dialogs(
    sel: Selection,
    ids: Ids,
    tps: list[TimepointInfo],
    turns: dict[str, list[TurnInfo]],
    asked: set[tuple[str, str]],
) -> Iterator[dict[str, Any]]:
    for tp in tps:
        by_dialog: dict[str, list[TurnInfo]] = {}
        for t in turns.get(tp.timepoint_id, ()):
            by_dialog.setdefault(t.dialog_id, []).append(t)
        for dialog_id, spoken in by_dialog.items():
            yield {
                "@id": ids.dialog(dialog_id),
                "@type": "Dialog",
                "dialog_id": dialog_id,
                "timepoint": ids.timepoint(tp.timepoint_id),
                "turns": [
                    _turn(sel, ids, t, (tp.timepoint_id, t.speaker) in asked) for t in spoken
                ],
            }


def _exposure(sel: Selection, ids: Ids, k: KnowledgeInfo) -> dict[str, Any]:
    source_entity = k.source if k.source and k.source in sel.view.entities else None
    return {
        "@id": ids.knowledge(k),
        "@type": "Exposure",
        "exposure_id": k.exposure_id,
        "entity": ids.entity(k.entity_id),
        "information": k.information,
        "kind": k.kind,
        "source": k.source,
        "source_entity": ids.entity(source_entity) if source_entity else None,
        "timepoint": ids.timepoint(k.timepoint_id) if k.timepoint_id else None,
        "confidence": canonical_float(k.confidence),
        "category": k.category,
    }


def _knowledge(
    sel: Selection, tps: set[str]
) -> tuple[list[KnowledgeInfo], dict[tuple[str, str], KnowledgeInfo]]:
    """The exposures reaching this line of time, and (entity, information or exposure id) →
    the latest such exposure (how a turn's knowledge reference is resolved)."""
    view = sel.view
    wanted = set(sel.entities) or set(view.entities)
    items: list[KnowledgeInfo] = []
    held: dict[tuple[str, str], KnowledgeInfo] = {}
    for entity_id in sorted(wanted):
        for k in view.all_knowledge(entity_id):
            if k.timepoint_id and k.timepoint_id not in tps:
                continue
            items.append(k)
            held[(entity_id, k.information)] = k
            if k.exposure_id:
                held[(entity_id, k.exposure_id)] = k
    return items, held


def _edge(ids: Ids, e: Edge, resolve: dict[str, str]) -> dict[str, Any]:
    def node(end: str) -> str:
        if end.startswith("turn:"):
            dialog, _, index = end[5:].rpartition("#")
            return ids.turn(dialog, int(index))
        if end.startswith("knowledge:"):
            return resolve[end]
        if end in resolve:
            return resolve[end]
        return ids.timepoint(end)

    return {
        "@type": "Edge",
        "kind": e.kind,
        "source": node(e.source),
        "target": node(e.target),
        "timepoint": ids.timepoint(e.timepoint_id),
        "label": e.label,
    }


def _graph(
    sel: Selection,
    ids: Ids,
    line: Selection,
    held: dict[tuple[str, str], KnowledgeInfo],
    turns: dict[tuple[str, int], TurnInfo],
    unresolved: dict[str, dict[str, Any]],
) -> Iterator[dict[str, Any]]:
    """The edges, each end an ``@id`` of this record; the references turns made to something
    the speaker held no exposure of are put in ``unresolved`` (written with the knowledge, so
    every edge has its ends)."""
    resolve = {e: ids.entity(e) for e in sel.view.entities}
    for e in edges(line, content=False):
        if e.source.startswith("knowledge:") and e.source not in resolve:
            dialog, _, index = e.target[5:].rpartition("#")
            turn = turns[(dialog, int(index))]
            ref = e.source[len("knowledge:") :]
            k = held.get((turn.speaker, ref))
            if k is not None:
                resolve[e.source] = ids.knowledge(k)
            else:
                node = ids.reference(turn.speaker, ref)
                unresolved.setdefault(
                    node,
                    {
                        "@id": node,
                        "@type": "UnresolvedReference",
                        "entity": ids.entity(turn.speaker),
                        "information": ref,
                    },
                )
                yield _edge(ids, e, {**resolve, e.source: node})
                continue
        yield _edge(ids, e, resolve)


def _run(sel: Selection, ids: Ids, branch: str) -> dict[str, Any]:
    run, view = sel.run, sel.view
    info = view.branches.get(branch) or BranchInfo(branch, None, None, status=run.status.value)
    kept = view.portal.kept_path(branch) if view.portal.active else None
    path = kept.model_dump(mode="json", exclude={"branch_id", "candidate_ids"}) if kept else None
    return {
        "@id": ids.base,
        "@type": "Run",
        "run_id": run.run_id,
        "scenario": run.scenario,
        "title": run.title,
        "mode": run.mode.value,
        "seed": run.seed,
        "config_hash": run.config_hash,
        "status": run.status.value,
        "branch": {
            "@id": ids.branch(branch),
            "@type": "Branch",
            "branch_id": branch,
            "parent_branch": info.parent_branch_id,
            "fork_timepoint": ids.timepoint(info.fork_timepoint_id)
            if info.fork_timepoint_id
            else None,
            "label": info.label,
            "intervention": dict(info.intervention) or None,
            "status": info.status,
            "score": info.score,
            "scoring": dict(info.scoring) or None,
        },
        "portal_path": {"@type": "PortalPath", **path} if path is not None else None,
    }


def _provenance(
    sel: Selection, ids: Ids, tps: set[str], line: list[TimepointInfo]
) -> dict[str, Any]:
    run, view = sel.run, sel.view
    queries = [
        {
            "@id": ids.query(q.query_id),
            "@type": "Query",
            "entity": ids.entity(q.entity_id),
            "timepoint": ids.timepoint(q.timepoint_id) if q.timepoint_id else None,
            "question": q.question,
            "answer": q.answer,
            "references": list(q.references),
            "status": q.status,
        }
        for tp in line
        for q in view.queries(tp.timepoint_id)
    ]
    actions = [
        {
            "@type": "ObserverAction",
            "kind": a.kind,
            "entity": ids.entity(a.entity_id),
            "timepoint": ids.timepoint(a.timepoint_id) if a.timepoint_id else None,
            "query": ids.query(a.query_id) if a.query_id else None,
            "detail": a.detail,
        }
        for a in view.observer_actions()
        if not a.timepoint_id or a.timepoint_id in tps
    ]
    return {
        "@type": "Provenance",
        "generator": {"@type": "Generator", "name": "timeloom", "version": generator_version()},
        "tdf_version": TDF_VERSION,
        "provider": run.provider,
        "model": run.model,
        "models": [m.as_json() for m in sel.models],
        "training_safe": sel.training_safe,
        "usage": {
            "@type": "Usage",
            "scope": "run",
            "llm_calls": run.counts.llm_calls,
            "prompt_tokens": run.tokens_in,
            "completion_tokens": run.tokens_out,
            "tokens": run.tokens,
            "cost_usd": run.cost_usd,
            "spent_tokens": run.spent_tokens,
            "spent_usd": run.spent_usd,
            "cached_calls": run.cached_calls,
            "wall_seconds": run.wall_seconds,
            "started_at": run.started_at.isoformat() if run.started_at else None,
            "finished_at": run.finished_at.isoformat() if run.finished_at else None,
        },
        "selection": {
            "branch": sel.branch,
            "entities": list(sel.entities),
            "from": sel.start.isoformat() if sel.start else None,
            "to": sel.end.isoformat() if sel.end else None,
            "training_safe_only": sel.training_safe_only,
            "left_out_not_training_safe": sel.dropped_unsafe,
        },
        "observed": bool(queries or actions),
        "queries": queries,
        "observer_actions": actions,
    }


class _Record:
    """One line of time's record as sections, the long ones (dialogs, edges, knowledge)
    produced lazily, in the order the canonical JSON puts them."""

    def __init__(self, sel: Selection, branch: str, line: list[TimepointInfo]) -> None:
        self.sel, self.branch, self.line = sel, branch, line
        self.ids = Ids(sel.run.run_id)
        self.tps = {t.timepoint_id for t in line}
        self.turns: dict[str, list[TurnInfo]] = {}
        self.by_key: dict[tuple[str, int], TurnInfo] = {}
        for t in sel.turns:
            if t.timepoint_id in self.tps:
                self.turns.setdefault(t.timepoint_id, []).append(t)
                self.by_key[(t.dialog_id, t.turn_index)] = t
        self.asked = {(tp, q.entity_id) for tp in self.tps for q in sel.view.queries(tp)}
        self.observed = {tp for tp, _ in self.asked} | {
            a.timepoint_id for a in sel.view.observer_actions() if a.timepoint_id
        }
        self.sub = dataclasses.replace(
            sel,
            timepoints=tuple(line),
            turns=tuple(t for tp in line for t in self.turns.get(tp.timepoint_id, ())),
        )
        self.knowledge, self.held = _knowledge(sel, self.tps)
        self.unresolved: dict[str, dict[str, Any]] = {}

    def head(self) -> dict[str, Any]:
        """The short sections, whole."""
        sel, ids, line = self.sel, self.ids, self.line
        end = line[-1].timepoint_id if line else None
        return {
            "@context": CONTEXT,
            "@id": ids.record(self.branch),
            "@type": "TimelineRecord",
            "run": _run(sel, ids, self.branch),
            "entities": _entities(sel, ids, end),
            "timepoints": [_timepoint(ids, tp, tp.timepoint_id in self.observed) for tp in line],
            "provenance": _provenance(sel, ids, self.tps, line),
        }

    def dialogs(self) -> Iterator[dict[str, Any]]:
        return _dialogs(self.sel, self.ids, self.line, self.turns, self.asked)

    def edges(self) -> Iterator[dict[str, Any]]:
        return _graph(self.sel, self.ids, self.sub, self.held, self.by_key, self.unresolved)

    def exposures(self) -> Iterator[dict[str, Any]]:
        """The knowledge: every exposure, then the references no exposure resolved (complete
        only once :meth:`edges` has been walked)."""
        for k in self.knowledge:
            yield _exposure(self.sel, self.ids, k)
        yield from self.unresolved.values()


def tdf_record(sel: Selection, branch: str, line: list[TimepointInfo]) -> dict[str, Any]:
    """The record of one line of time (``line``: its timepoints, in order), whole."""
    part = _Record(sel, branch, line)
    record = part.head()
    record["causal_graph"] = {"@type": "CausalGraph", "edges": list(part.edges())}
    record["dialogs"] = list(part.dialogs())
    record["knowledge"] = list(part.exposures())
    record["provenance"]["content_hash"] = content_hash(record)
    return record


def tdf_records(sel: Selection) -> Iterator[dict[str, Any]]:
    """One record per branch the selection covers (one when it covers one)."""
    for branch, line in _lines(sel):
        yield tdf_record(sel, branch, line)


def _stream(part: _Record, tally: Tally) -> Iterator[bytes]:
    """One record as JSON text in pieces (UTF-8, encoded once for the hash and the file),
    never whole in memory. Each piece is canonical JSON,
    so the content hash is taken over the pieces as they go, in canonical (sorted) order; the
    provenance, whose hash needs everything, is written last (key order does not matter to
    JSON, the hash is over the sorted form, so the record verifies as if built whole)."""
    head = part.head()
    provenance = head.pop("provenance")
    lists = {
        "dialogs": part.dialogs(),
        "knowledge": part.exposures(),  # after causal_graph, whose walk completes it
    }
    digest = hashlib.sha256()
    keys = sorted([*head, "causal_graph", *lists, "provenance"])
    first = True
    for key in keys:
        if key == "provenance":
            # canonical order puts it here; the text, with its hash, goes at the end
            digest.update(("," + _canon(key) + ":" + _canon(provenance)).encode())
            continue
        piece = ("{" if first else ",") + _canon(key) + ":"
        first = False
        if key in head:
            data = (piece + _canon(head[key])).encode()
            digest.update(data)
            yield data
            continue
        if key == "causal_graph":
            piece += '{"@type":"CausalGraph","edges":'
            items, close, name = part.edges(), "]}", "edges"
        else:
            items, close, name = (
                lists[key],
                "]",
                {"dialogs": "dialogs", "knowledge": "exposures"}[key],
            )
        pieces = [(piece + "[").encode()]
        size = count = 0
        for group, encoded in canonical_groups(items):
            if count:
                pieces.append(b",")
            pieces.append(encoded)
            size += len(encoded)
            count += len(group)
            if key == "dialogs":
                tally.add("turns_written", sum(len(item["turns"]) for item in group))
            if size > 1 << 16:
                data = b"".join(pieces)
                digest.update(data)
                yield data
                pieces, size = [], 0
        pieces.append(close.encode())
        data = b"".join(pieces)
        digest.update(data)
        yield data
        tally.add(name, count)
    digest.update(b"}")
    provenance["content_hash"] = digest.hexdigest()
    yield ("," + _canon("provenance") + ":" + _canon(provenance) + "}\n").encode()


def tdf_lines(sel: Selection, tally: Tally) -> Iterator[bytes]:
    """The records as JSON lines, streamed, counted (records, and what they hold)."""
    for branch, line in _lines(sel):
        tally.records += 1
        tally.add("timepoints_written", len(line))
        yield from _stream(_Record(sel, branch, line), tally)
