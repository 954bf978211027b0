"""How each event updates the materialized tables: one function per event type that has a
table (:data:`PROJECTIONS`); the others are named in :data:`UNPROJECTED`.

Each returns ``(sql, params)`` rows; the store groups equal statements and runs them with
``executemany`` inside the transaction that appends the events themselves.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from ..model import events as ev
from .projections_observer import (
    _branch_created,
    _branch_finished,
    _branch_scored,
    _compressed,
    _created_on_demand,
    _elevated,
    _fidelity_planned,
    _lookup,
    _query,
)
from .projections_portal import PORTAL_PROJECTIONS
from .rows import Row, as_json, as_time


def _run_started(e: ev.RunStarted) -> list[Row]:
    return [
        (
            "INSERT INTO runs (run_id, scenario, title, mode, seed, config_hash, provider, model, "
            "source, status, planned_timepoints, started_at, warnings_json, scenario_json, "
            "budget_json) VALUES (?,?,?,?,?,?,?,?,?,'running',?,?,?,?,?)",
            (
                e.run_id,
                e.scenario,
                e.title,
                e.mode.value,
                e.seed,
                e.config_hash,
                e.provider,
                e.model,
                e.source,
                e.planned_timepoints,
                as_time(e.started_at),
                as_json(list(e.warnings)),
                as_json(e.scenario_data),
                as_json(e.budget) if e.budget is not None else None,
            ),
        ),
        (
            "INSERT INTO branches (run_id, branch_id, parent_branch_id, fork_timepoint_id, label) "
            "VALUES (?,?,NULL,NULL,'main')",
            (e.run_id, e.branch_id),
        ),
    ]


def _entity_created(e: ev.EntityCreated) -> list[Row]:
    p = e.profile
    return [
        (
            "INSERT INTO entities (run_id, entity_id, name, entity_type, role, archetype, source, "
            "profile_json) VALUES (?,?,?,?,?,?,?,?)",
            (
                e.run_id,
                p.entity_id,
                p.name,
                p.entity_type,
                p.role,
                p.archetype,
                p.source,
                p.model_dump_json(),
            ),
        ),
        _state_row(
            e.run_id,
            e.branch_id,
            p.entity_id,
            "",
            e.seq,
            e.resolution.value,
            e.tensor,
            e.cognitive,
            "created",
        ),
        *_created_on_demand(e),
    ]


def _state_row(
    run_id: str,
    branch_id: str,
    entity_id: str,
    timepoint_id: str,
    seq: int,
    resolution: str,
    tensor: ev.TensorSnapshot,
    cognitive: Any,
    cause: str,
) -> Row:
    return (
        "INSERT OR REPLACE INTO entity_states (run_id, branch_id, entity_id, timepoint_id, seq, "
        "resolution, context_json, biology_json, behavior_json, cognitive_json, cause) "
        "VALUES (?,?,?,?,?,?,?,?,?,?,?)",
        (
            run_id,
            branch_id,
            entity_id,
            timepoint_id,
            seq,
            resolution,
            as_json(tensor.context),
            as_json(tensor.biology),
            as_json(tensor.behavior),
            cognitive.model_dump_json(),
            cause,
        ),
    )


def _tensor_updated(e: ev.TensorUpdated) -> list[Row]:
    return [
        _state_row(
            e.run_id,
            e.branch_id,
            e.entity_id,
            e.timepoint_id,
            e.seq,
            e.resolution.value,
            e.tensor,
            e.cognitive,
            e.cause,
        )
    ]


def _exposure(e: ev.ExposureRecorded) -> list[Row]:
    x = e.exposure
    return [
        (
            "INSERT INTO exposure_events (run_id, exposure_id, entity_id, kind, information, source, "
            "timestamp, confidence, timepoint_id, dialog_id, turn_index, category, seq, branch_id) "
            "VALUES (?,?,?,?,?,?,?,?,?,?,?,?,?,?)",
            (
                e.run_id,
                x.exposure_id,
                x.entity_id,
                x.kind.value,
                x.information,
                x.source,
                as_time(x.timestamp),
                x.confidence,
                x.timepoint_id,
                x.dialog_id,
                x.turn_index,
                x.category,
                e.seq,
                e.branch_id,
            ),
        )
    ]


def _timepoint_created(e: ev.TimepointCreated) -> list[Row]:
    tp = e.timepoint
    rows: list[Row] = [
        (
            "INSERT INTO timepoints (run_id, timepoint_id, branch_id, idx, timestamp, causal_parent, "
            "title, event_description, entities_present_json, importance, tension, status, "
            "issues_json, seq) VALUES (?,?,?,?,?,?,?,?,?,?,?,?,?,?)",
            (
                e.run_id,
                tp.timepoint_id,
                tp.branch_id,
                tp.index,
                as_time(tp.timestamp),
                tp.causal_parent,
                tp.title,
                tp.event_description,
                as_json(list(tp.entities_present)),
                tp.importance,
                tp.tension,
                e.status.value,
                as_json(list(e.issues)),
                e.seq,
            ),
        )
    ]
    if tp.causal_parent:
        rows.append(
            (
                "INSERT OR IGNORE INTO causal_edges (run_id, branch_id, source, target, edge_type) "
                "VALUES (?,?,?,?,'temporal')",
                (e.run_id, tp.branch_id, tp.causal_parent, tp.timepoint_id),
            )
        )
    return rows


def _timepoint_completed(e: ev.TimepointCompleted) -> list[Row]:
    return [
        (
            "UPDATE timepoints SET status=?, issues_json=? WHERE run_id=? AND timepoint_id=?",
            (e.status.value, as_json(list(e.issues)), e.run_id, e.timepoint_id),
        )
    ]


def _dialog_started(e: ev.DialogStarted) -> list[Row]:
    return [
        (
            "INSERT INTO dialogs (run_id, dialog_id, branch_id, timepoint_id, participants_json, "
            "planned_turns) VALUES (?,?,?,?,?,?)",
            (
                e.run_id,
                e.dialog_id,
                e.branch_id,
                e.timepoint_id,
                as_json(list(e.participants)),
                e.planned_turns,
            ),
        )
    ]


def _turn_finished(e: ev.DialogTurnFinished) -> list[Row]:
    t = e.turn
    return [
        (
            "INSERT INTO dialog_turns (run_id, dialog_id, turn_index, timepoint_id, speaker, "
            "addressed_to, content, emotional_tone, stance, knowledge_refs_json, persona_json, "
            "physical_state_influence, status, issues_json, timestamp, seq, branch_id) VALUES "
            "(?,?,?,(SELECT timepoint_id FROM dialogs WHERE run_id=? AND dialog_id=?),"
            "?,?,?,?,?,?,?,?,?,?,?,?,?)",
            (
                e.run_id,
                t.dialog_id,
                t.turn_index,
                e.run_id,
                t.dialog_id,
                t.speaker,
                t.addressed_to,
                t.content,
                t.emotional_tone,
                t.stance,
                as_json(list(t.knowledge_references)),
                t.persona.model_dump_json(),
                t.physical_state_influence,
                t.status.value,
                as_json(list(t.issues)),
                as_time(t.timestamp),
                e.seq,
                e.branch_id,
            ),
        )
    ]


def _dialog_finished(e: ev.DialogFinished) -> list[Row]:
    return [
        (
            "UPDATE dialogs SET turn_count=?, failed_turns=?, status=? WHERE run_id=? AND dialog_id=?",
            (e.turn_count, e.failed_turns, e.status.value, e.run_id, e.dialog_id),
        )
    ]


def _relationship(e: ev.RelationshipUpdated) -> list[Row]:
    r = e.relationship
    return [
        (
            "INSERT OR REPLACE INTO relationships (run_id, branch_id, a, b, timepoint_id, trust, "
            "alignment, shared_json, interaction_count, seq) VALUES (?,?,?,?,?,?,?,?,?,?)",
            (
                e.run_id,
                e.branch_id,
                r.a,
                r.b,
                e.timepoint_id,
                r.trust,
                r.alignment,
                as_json(list(r.shared_knowledge)),
                r.interaction_count,
                e.seq,
            ),
        )
    ]


def _scene_read(e: ev.SceneRead) -> list[Row]:
    return [
        (
            "INSERT OR REPLACE INTO scenes (run_id, timepoint_id, scene_json, after_json, seq, "
            "branch_id) VALUES (?,?,?,NULL,?,?)",
            (e.run_id, e.timepoint_id, e.scene.model_dump_json(), e.seq, e.branch_id),
        )
    ]


def _atmosphere_shifted(e: ev.AtmosphereShifted) -> list[Row]:
    return [
        (
            "UPDATE scenes SET after_json=? WHERE run_id=? AND timepoint_id=?",
            (e.atmosphere.model_dump_json(), e.run_id, e.timepoint_id),
        )
    ]


def _inner_life(e: ev.InnerLifeUpdated) -> list[Row]:
    return [
        (
            "INSERT OR REPLACE INTO inner_lives (run_id, entity_id, timepoint_id, inner_json, seq, "
            "branch_id) VALUES (?,?,?,?,?,?)",
            (e.run_id, e.entity_id, e.timepoint_id, e.inner.model_dump_json(), e.seq, e.branch_id),
        )
    ]


def _llm_call(e: ev.LLMCallFinished) -> list[Row]:
    return [
        (
            "INSERT INTO llm_calls (run_id, call_id, seq, action, provider, model, status, "
            "prompt_tokens, completion_tokens, cost_usd, latency_ms, request_hash, timepoint_id, "
            "error, cached, entity_id) VALUES (?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?)",
            (
                e.run_id,
                e.call_id,
                e.seq,
                e.action,
                e.provider,
                e.model,
                e.status.value,
                e.prompt_tokens,
                e.completion_tokens,
                e.cost_usd,
                e.latency_ms,
                e.request_hash,
                e.timepoint_id,
                e.error,
                int(e.cached),
                e.entity_id,
            ),
        )
    ]


def _validation(e: ev.ValidationReported) -> list[Row]:
    return [
        (
            "INSERT INTO validations (run_id, seq, validator, entity_id, timepoint_id, dialog_id, "
            "turn_index, valid, violations_json, action) VALUES (?,?,?,?,?,?,?,?,?,?)",
            (
                e.run_id,
                e.seq,
                e.validator,
                e.entity_id,
                e.timepoint_id,
                e.dialog_id,
                e.turn_index,
                int(e.valid),
                as_json(list(e.violations)),
                e.action,
            ),
        )
    ]


def _run_resumed(e: ev.RunResumed) -> list[Row]:
    return [
        (
            "UPDATE runs SET status='running', status_reason=NULL, finished_at=NULL, "
            "budget_json=? WHERE run_id=?",
            (as_json(e.budget) if e.budget is not None else None, e.run_id),
        )
    ]


def _run_finished(e: ev.RunFinished) -> list[Row]:
    return [
        (
            "UPDATE runs SET status=?, status_reason=?, finished_at=?, "
            "wall_seconds=COALESCE(wall_seconds, 0) + ? WHERE run_id=?",
            (e.status.value, e.reason, as_time(e.finished_at), e.wall_seconds, e.run_id),
        )
    ]


PROJECTIONS: dict[type, Callable[[Any], list[Row]]] = {
    ev.RunStarted: _run_started,
    ev.RunResumed: _run_resumed,
    ev.EntityCreated: _entity_created,
    ev.TensorUpdated: _tensor_updated,
    ev.ExposureRecorded: _exposure,
    ev.TimepointCreated: _timepoint_created,
    ev.TimepointCompleted: _timepoint_completed,
    ev.DialogStarted: _dialog_started,
    ev.DialogTurnFinished: _turn_finished,
    ev.DialogFinished: _dialog_finished,
    ev.RelationshipUpdated: _relationship,
    ev.SceneRead: _scene_read,
    ev.AtmosphereShifted: _atmosphere_shifted,
    ev.InnerLifeUpdated: _inner_life,
    ev.LLMCallFinished: _llm_call,
    ev.ValidationReported: _validation,
    ev.RunFinished: _run_finished,
    ev.BranchCreated: _branch_created,
    ev.BranchFinished: _branch_finished,
    ev.BranchScored: _branch_scored,
    ev.QueryAnswered: _query,
    ev.RecordLookedUp: _lookup,
    ev.FidelityPlanned: _fidelity_planned,
    ev.EntityElevated: _elevated,
    ev.EntityCompressed: _compressed,
    **PORTAL_PROJECTIONS,
}

UNPROJECTED: frozenset[type] = frozenset(
    {
        # never stored (PERSIST is false): live views only
        ev.DialogTokens,
        ev.DialogStreamReset,
        ev.EventsDiscarded,
        # stored in the event log only: no table reads them (the tally counts the failures)
        ev.DialogSkipped,
        ev.DialogTurnStarted,
        ev.DialogTurnFailed,
        ev.KnowledgeExtractionFailed,
        ev.MechanismFailed,
        ev.BudgetWarning,
        ev.TimepointFailed,
        ev.QueriesApplied,  # read from the log by a replay
    }
)
"""Events that change no table but the event log; a test checks that every event type is
projected or named here."""
