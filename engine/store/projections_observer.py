"""Projections of branch, observer and fidelity events: the branches table (created,
finished, scored), the queries and lookups tables and the fidelity table. Part of :mod:`.projections`, which registers them."""

from __future__ import annotations

from ..model import events as ev
from .rows import Row, as_json, as_time


def _branch_created(e: ev.BranchCreated) -> list[Row]:
    return [
        (
            "INSERT INTO branches (run_id, branch_id, parent_branch_id, fork_timepoint_id, label, "
            "intervention_json, seq, status) VALUES (?,?,?,?,?,?,?,'running')",
            (
                e.run_id,
                e.branch_id,
                e.parent_branch_id,
                e.fork_timepoint_id,
                e.label,
                as_json(e.intervention),
                e.seq,
            ),
        )
    ]


def _query(e: ev.QueryAnswered) -> list[Row]:
    return [
        (
            "INSERT INTO queries (run_id, query_id, entity_id, timepoint_id, question, answer, "
            "knowledge_refs_json, violations_json, emotional_tone, confidence, status, provider, "
            "model, prompt_tokens, completion_tokens, cost_usd, asked_at, seq, branch_id) "
            "VALUES (?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?)",
            (
                e.run_id,
                e.query_id,
                e.entity_id,
                e.timepoint_id,
                e.question,
                e.answer,
                as_json(list(e.knowledge_references)),
                as_json(list(e.violations)),
                e.emotional_tone,
                e.confidence,
                e.status.value,
                e.provider,
                e.model,
                e.prompt_tokens,
                e.completion_tokens,
                e.cost_usd,
                as_time(e.asked_at),
                e.seq,
                e.branch_id,
            ),
        )
    ]


def _lookup(e: ev.RecordLookedUp) -> list[Row]:
    return [
        (
            "INSERT INTO lookups (run_id, query_id, kind, text, phrase, entity_id, timepoint_id, "
            "branch_id, found_json, summary, asked_at, seq) VALUES (?,?,?,?,?,?,?,?,?,?,?,?)",
            (
                e.run_id,
                e.query_id,
                e.kind,
                e.text,
                e.phrase,
                e.entity_id,
                e.timepoint_id,
                e.branch_id,
                as_json(list(e.found)),
                e.summary,
                as_time(e.asked_at),
                e.seq,
            ),
        )
    ]


def _branch_finished(e: ev.BranchFinished) -> list[Row]:
    return [
        (
            "UPDATE branches SET status=?, status_reason=?, finished_at=?, wall_seconds=? "
            "WHERE run_id=? AND branch_id=?",
            (
                e.status.value,
                e.reason,
                as_time(e.finished_at),
                e.wall_seconds,
                e.run_id,
                e.branch_id,
            ),
        )
    ]


def _branch_scored(e: ev.BranchScored) -> list[Row]:
    detail = {
        "components": e.components,
        "weights": e.weights,
        "missing": e.missing,
        "details": e.details,
    }
    return [
        (
            "UPDATE branches SET score=?, score_json=? WHERE run_id=? AND branch_id=?",
            (e.score, as_json(detail), e.run_id, e.branch_id),
        )
    ]


_LEVEL = (
    "INSERT INTO fidelity (run_id, branch_id, timepoint_id, entity_id, level, reason, cause, "
    "query_id, seq) VALUES (?,?,?,?,?,?,?,?,?)"
)


def _fidelity_planned(e: ev.FidelityPlanned) -> list[Row]:
    return [
        (
            _LEVEL,
            (
                e.run_id,
                e.branch_id,
                e.timepoint_id,
                entity_id,
                level.value,
                e.reasons.get(entity_id, ""),
                "plan",
                None,
                e.seq,
            ),
        )
        for entity_id, level in e.levels.items()
    ]


def _elevated(e: ev.EntityElevated) -> list[Row]:
    cause = "query" if e.query_id else "plan"
    return [
        (
            _LEVEL,
            (
                e.run_id,
                e.branch_id,
                e.timepoint_id or "",
                e.entity_id,
                e.resolution.value,
                e.reason,
                cause,
                e.query_id,
                e.seq,
            ),
        )
    ]


def _compressed(e: ev.EntityCompressed) -> list[Row]:
    return [
        (
            _LEVEL,
            (
                e.run_id,
                e.branch_id,
                e.timepoint_id,
                e.entity_id,
                e.resolution.value,
                e.reason,
                "compressed",
                None,
                e.seq,
            ),
        )
    ]


def _created_on_demand(e: ev.EntityCreated) -> list[Row]:
    """An entity a query created (M9) is part of the observer ledger."""
    if e.query_id is None:
        return []
    p = e.profile
    reason = f"created on demand: {p.name}, {p.role}" if p.role else f"created on demand: {p.name}"
    return [
        (
            _LEVEL,
            (
                e.run_id,
                e.branch_id,
                e.timepoint_id or "",
                p.entity_id,
                e.resolution.value,
                reason,
                "created",
                e.query_id,
                e.seq,
            ),
        )
    ]
