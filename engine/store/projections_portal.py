"""Projections of a PORTAL search's events (M17): the search's settings, every candidate with
its score and what the beam did with it, every judged path (the kept ones with their rank and
branch), the divergence by position, the pivots and the calls that failed. Part of
:mod:`.projections`, which registers them (:data:`PORTAL_PROJECTIONS`).

A candidate's score and beam status, and a kept path's rank and branch, update the row its
proposal or judgement inserted; the store runs a batch's inserts before its updates, so the
order of the events within one batch does not matter.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from ..model import portal_events as pe
from .rows import Row, as_json, as_time


def _search_started(e: pe.PortalSearchStarted) -> list[Row]:
    return [
        (
            "INSERT INTO portal_searches (run_id, seq, endpoint, steps, strategy, "
            "candidates_per_step, beam, path_count, coherence_threshold, max_backtrack_depth, "
            "weights_json, slot_times_json, not_supported_json) VALUES (?,?,?,?,?,?,?,?,?,?,?,?,?)",
            (
                e.run_id,
                e.seq,
                e.endpoint,
                e.steps,
                e.strategy,
                e.candidates_per_step,
                e.beam,
                e.path_count,
                e.coherence_threshold,
                e.max_backtrack_depth,
                as_json(e.weights),
                as_json([as_time(t) for t in e.slot_times]),
                as_json(list(e.not_supported)),
            ),
        )
    ]


def _candidate_proposed(e: pe.PortalCandidateProposed) -> list[Row]:
    # A candidate proposed again starts afresh, as it does in the read model's fold.
    return [
        (
            "INSERT OR REPLACE INTO portal_candidates (run_id, candidate_id, slot, later_id, "
            "earlier_id, when_at, title, description, key_events_json, entity_changes_json, "
            "world_context, causal_link, entities_present_json, source, attempt, seq) "
            "VALUES (?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?)",
            (
                e.run_id,
                e.candidate_id,
                e.slot,
                e.later_id,
                e.earlier_id,
                as_time(e.when),
                e.title,
                e.description,
                as_json(list(e.key_events)),
                as_json(e.entity_changes),
                e.world_context,
                e.causal_link,
                as_json(list(e.entities_present)),
                e.source,
                e.attempt,
                e.seq,
            ),
        )
    ]


def _candidate_scored(e: pe.PortalCandidateScored) -> list[Row]:
    return [
        (
            "UPDATE portal_candidates SET scored=1, score=?, components_json=?, missing_json=?, "
            "weights_json=?, score_reason=? WHERE run_id=? AND candidate_id=?",
            (
                e.score,
                as_json(e.components),
                as_json(e.missing),
                as_json(e.weights),
                e.reason,
                e.run_id,
                e.candidate_id,
            ),
        )
    ]


def _step_failed(e: pe.PortalStepFailed) -> list[Row]:
    return [
        (
            "INSERT INTO portal_failures (run_id, seq, stage, slot, later_id, candidate_id, error) "
            "VALUES (?,?,?,?,?,?,?)",
            (e.run_id, e.seq, e.stage, e.slot, e.later_id, e.candidate_id, e.error),
        )
    ]


_BEAM = "UPDATE portal_candidates SET beam=? WHERE run_id=? AND candidate_id=?"


def _beam_kept(e: pe.PortalBeamKept) -> list[Row]:
    marks = [(c, "kept") for c in e.kept] + [(c, "set aside") for c in e.set_aside]
    return [(_BEAM, (mark, e.run_id, cid)) for cid, mark in marks]


def _path_judged(e: pe.PortalPathJudged) -> list[Row]:
    return [
        (
            "INSERT INTO portal_paths (run_id, seq, path_id, candidate_ids_json, links_json, "
            "coherence, action, at_slot, reason, backtracks, judge) VALUES (?,?,?,?,?,?,?,?,?,?,?)",
            (
                e.run_id,
                e.seq,
                e.path_id,
                as_json(list(e.candidate_ids)),
                as_json(list(e.links)),
                e.coherence,
                e.action,
                e.at_slot,
                e.reason,
                e.backtracks,
                e.judge,
            ),
        )
    ]


def _paths_kept(e: pe.PortalPathsKept) -> list[Row]:
    """Each kept path on its latest judgement (a path id is judged again after a backtrack)."""
    return [
        (
            "UPDATE portal_paths SET kept=1, rank=?, branch_id=?, cluster=?, warning=?, score=? "
            "WHERE run_id=? AND seq=(SELECT MAX(seq) FROM portal_paths WHERE run_id=? "
            "AND path_id=?)",
            (p.rank, p.branch_id, p.cluster, p.warning, p.score, e.run_id, e.run_id, p.path_id),
        )
        for p in e.paths
    ]


def _analysed(e: pe.PortalAnalysed) -> list[Row]:
    last = len(e.divergence) - 1  # positions count forwards, slots back from the endpoint
    key = set(e.key_positions)
    rows: list[Row] = [
        (
            "INSERT OR REPLACE INTO portal_divergence (run_id, position, slot, value, is_key, seq) "
            "VALUES (?,?,?,?,?,?)",
            (e.run_id, position, last - position, value, int(position in key), e.seq),
        )
        for position, value in enumerate(e.divergence)
    ]
    rows.extend(
        (
            "INSERT OR REPLACE INTO portal_pivots (run_id, branch_id, position, path_id, slot, "
            "candidate_id, strength, reasons_json, sentence, ord, seq) "
            "VALUES (?,?,?,?,?,?,?,?,?,?,?)",
            (
                e.run_id,
                p.branch_id,
                p.position,
                p.path_id,
                p.slot,
                p.candidate_id,
                p.strength,
                as_json(list(p.reasons)),
                p.sentence,
                order,
                e.seq,
            ),
        )
        for order, p in enumerate(e.pivots)
    )
    return rows


PORTAL_PROJECTIONS: dict[type, Callable[[Any], list[Row]]] = {
    pe.PortalSearchStarted: _search_started,
    pe.PortalCandidateProposed: _candidate_proposed,
    pe.PortalCandidateScored: _candidate_scored,
    pe.PortalStepFailed: _step_failed,
    pe.PortalBeamKept: _beam_kept,
    pe.PortalPathJudged: _path_judged,
    pe.PortalPathsKept: _paths_kept,
    pe.PortalAnalysed: _analysed,
}
