"""Typed readers: rows of the materialized tables mapped back to records and models.

Each function runs in the connection's thread on a plain ``sqlite3`` connection, inside one
read transaction opened by the store (:meth:`Store._read`), so that what it returns is one
consistent snapshot even while a live run is appending. Nothing outside the store sees a row.
"""

from __future__ import annotations

import json
import sqlite3
from collections.abc import Sequence
from datetime import datetime
from typing import Any

import orjson

from ..model.common import RunStatus, TemporalMode
from ..model.entity import EntityProfile
from ..model.event_base import EventBase
from ..model.events import parse_event
from ..model.inner import InnerLife
from ..model.portal_events import PORTAL_EVENTS
from ..model.records import (
    BranchInfo,
    CallModel,
    EntityInfo,
    EntityRecords,
    InnerInfo,
    KnowledgeInfo,
    LevelInfo,
    LookupInfo,
    MomentRecords,
    QueryInfo,
    RelationInfo,
    RunSnapshot,
    SceneInfo,
    StateInfo,
    TimepointInfo,
    TurnInfo,
)
from ..model.run import RunCounts, RunSummary
from ..model.scene import Atmosphere, Scene
from ..model.tensors import CognitiveState

Conn = sqlite3.Connection


def _rows(conn: Conn, sql: str, params: Sequence[Any] = ()) -> list[sqlite3.Row]:
    cursor = conn.execute(sql, tuple(params))
    cursor.row_factory = sqlite3.Row  # type: ignore[assignment]
    return list(cursor.fetchall())


def _marks(items: Sequence[Any]) -> str:
    return ",".join("?" * len(items))


# --------------------------------------------------------------------------- runs
def summary(row: sqlite3.Row) -> RunSummary:
    return RunSummary(
        run_id=row["run_id"],
        scenario=row["scenario"],
        title=row["title"],
        mode=TemporalMode(row["mode"]),
        seed=row["seed"],
        config_hash=row["config_hash"],
        provider=row["provider"],
        model=row["model"],
        status=RunStatus(row["status"]),
        status_reason=row["status_reason"],
        counts=RunCounts(
            entities=row["entities"],
            timepoints=row["timepoints"],
            dialog_turns=row["dialog_turns"],
            exposure_events=row["exposure_events"],
            llm_calls=row["llm_calls"],
            failed_steps=row["failed_steps"],
            queries=row["queries"],
            prompt_tokens=row["prompt_tokens"],
            completion_tokens=row["completion_tokens"],
            cost_usd=row["cost_usd"],
        ),
        spent_tokens=row["spent_tokens"],
        spent_usd=row["spent_usd"],
        cached_calls=row["cached_calls"],
        planned_timepoints=row["planned_timepoints"],
        started_at=datetime.fromisoformat(row["started_at"]),
        finished_at=datetime.fromisoformat(row["finished_at"]) if row["finished_at"] else None,
        wall_seconds=row["wall_seconds"],
        forks=row["forks"],
        main_timepoints=row["main_timepoints"],
    )


_RUN_SELECT = (
    "SELECT r.*, l.pid AS owner_pid, l.host AS owner_host, "
    "(SELECT COUNT(*) FROM branches b WHERE b.run_id = r.run_id AND b.parent_branch_id "
    "IS NOT NULL) AS forks, "
    "(SELECT COUNT(*) FROM timepoints t WHERE t.run_id = r.run_id AND t.branch_id = 'main' "
    "AND t.status != 'failed') AS main_timepoints "
    "FROM runs r LEFT JOIN live_runs l ON l.run_id = r.run_id"
)


def run_rows(conn: Conn, run_id: str | None = None, limit: int | None = None) -> list[sqlite3.Row]:
    if run_id is not None:
        return _rows(conn, f"{_RUN_SELECT} WHERE r.run_id = ?", (run_id,))
    sql = f"{_RUN_SELECT} ORDER BY r.started_at DESC, r.run_id DESC"
    if limit is not None:
        sql += f" LIMIT {int(limit)}"
    return _rows(conn, sql)


def owner_of(row: sqlite3.Row) -> str | None:
    """Which process writes a run, in words, from a row of :data:`_RUN_SELECT`."""
    if row["owner_pid"] is None:
        return None
    return f"process {row['owner_pid']} on {row['owner_host']}"


def owner(conn: Conn, run_id: str) -> str | None:
    rows = run_rows(conn, run_id)
    return owner_of(rows[0]) if rows else None


def matching_ids(conn: Conn, prefix: str) -> list[str]:
    """The run ids equal to ``prefix``, else those starting with it (at most six)."""
    rows = _rows(conn, "SELECT run_id FROM runs WHERE run_id = ?", (prefix,))
    if rows:
        return [rows[0]["run_id"]]
    escaped = prefix.replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_")
    rows = _rows(
        conn,
        "SELECT run_id FROM runs WHERE run_id LIKE ? ESCAPE '\\' ORDER BY run_id LIMIT 6",
        (escaped + "%",),
    )
    return [r["run_id"] for r in rows]


def warnings(conn: Conn, run_id: str) -> tuple[str, ...]:
    rows = _rows(conn, "SELECT warnings_json FROM runs WHERE run_id = ?", (run_id,))
    return tuple(json.loads(rows[0]["warnings_json"])) if rows else ()


def budget(conn: Conn, run_id: str) -> dict[str, Any] | None:
    rows = _rows(conn, "SELECT budget_json FROM runs WHERE run_id = ?", (run_id,))
    return json.loads(rows[0]["budget_json"]) if rows and rows[0]["budget_json"] else None


def scenario_data(conn: Conn, run_id: str) -> dict[str, Any] | None:
    rows = _rows(conn, "SELECT scenario_json FROM runs WHERE run_id = ?", (run_id,))
    if not rows:
        return None
    data = json.loads(rows[0]["scenario_json"])
    if not isinstance(data, dict):
        raise ValueError("scenario_json is not a JSON object")
    return data


# --------------------------------------------------------------------------- the snapshot
def _entity(row: sqlite3.Row) -> EntityInfo:
    p = json.loads(row["profile_json"])
    return EntityInfo(
        p["entity_id"],
        p["name"],
        p["entity_type"],
        p["role"],
        p["description"],
        tuple(p["personality"]),
        p["archetype"],
        p["source"],
    )


def _timepoint(row: sqlite3.Row) -> TimepointInfo:
    return TimepointInfo(
        row["timepoint_id"],
        row["branch_id"],
        int(row["idx"]),
        datetime.fromisoformat(row["timestamp"]),
        row["title"],
        row["event_description"],
        tuple(orjson.loads(row["entities_present_json"])),
        float(row["importance"]),
        float(row["tension"]),
        row["status"],
        tuple(orjson.loads(row["issues_json"])),
        row["causal_parent"],
        row["seq"],
    )


def _state(row: sqlite3.Row) -> StateInfo:
    cog = orjson.loads(row["cognitive_json"])
    return StateInfo(
        row["entity_id"],
        row["timepoint_id"],
        row["resolution"],
        tuple(orjson.loads(row["context_json"])),
        tuple(orjson.loads(row["biology_json"])),
        tuple(orjson.loads(row["behavior_json"])),
        cog["valence"],
        cog["arousal"],
        cog["energy"],
        row["cause"],
        row["seq"],
        CognitiveState.model_construct(**cog),
    )


def _relation(row: sqlite3.Row) -> RelationInfo:
    return RelationInfo(
        row["a"],
        row["b"],
        row["timepoint_id"],
        float(row["trust"]),  # numbers: a damaged row fails here, not when it is shown
        float(row["alignment"]),
        int(row["interaction_count"]),
        tuple(orjson.loads(row["shared_json"])),
        row["seq"],
    )


def _branch(row: sqlite3.Row) -> BranchInfo:
    return BranchInfo(
        row["branch_id"],
        row["parent_branch_id"],
        row["fork_timepoint_id"],
        row["label"],
        orjson.loads(row["intervention_json"]),
        row["status"],
        row["status_reason"],
        row["wall_seconds"],
        row["score"],
        orjson.loads(row["score_json"]) if row["score_json"] else {},
    )


def branches(conn: Conn, run_id: str) -> tuple[BranchInfo, ...]:
    rows = _rows(conn, "SELECT * FROM branches WHERE run_id = ? ORDER BY seq", (run_id,))
    return tuple(_branch(r) for r in rows)


def branch(conn: Conn, run_id: str, branch_id: str) -> BranchInfo | None:
    rows = _rows(
        conn, "SELECT * FROM branches WHERE run_id = ? AND branch_id = ?", (run_id, branch_id)
    )
    return _branch(rows[0]) if rows else None


PORTAL_TYPES: tuple[str, ...] = tuple(c.model_fields["type"].default for c in PORTAL_EVENTS)


def portal_events(conn: Conn, run_id: str) -> list[EventBase]:
    """A run's PORTAL events from the log, in order; only those rows are read and parsed."""
    rows = conn.execute(
        f"SELECT payload FROM events WHERE run_id = ? AND type IN ({_marks(PORTAL_TYPES)}) "
        "ORDER BY seq",
        (run_id, *PORTAL_TYPES),
    ).fetchall()
    return [parse_event(r[0]) for r in rows]


def snapshot(conn: Conn, run_id: str) -> RunSnapshot:
    """Everything needed to show any moment of a run but its dialog and knowledge (and, for a
    PORTAL run, its search's events, for the view to fold)."""
    mode = conn.execute("SELECT mode FROM runs WHERE run_id = ?", (run_id,)).fetchone()
    portal = mode is not None and mode[0] == TemporalMode.PORTAL.value
    return RunSnapshot(
        portal_events=tuple(portal_events(conn, run_id)) if portal else (),
        entities=tuple(
            _entity(r)
            for r in _rows(
                conn, "SELECT profile_json FROM entities WHERE run_id = ? ORDER BY rowid", (run_id,)
            )
        ),
        timepoints=tuple(
            _timepoint(r)
            for r in _rows(
                conn, "SELECT * FROM timepoints WHERE run_id = ? ORDER BY seq", (run_id,)
            )
        ),
        states=tuple(
            _state(r)
            for r in _rows(
                conn, "SELECT * FROM entity_states WHERE run_id = ? ORDER BY seq", (run_id,)
            )
        ),
        relations=tuple(
            _relation(r)
            for r in _rows(
                conn, "SELECT * FROM relationships WHERE run_id = ? ORDER BY seq", (run_id,)
            )
        ),
        branches=branches(conn, run_id),
        warnings=warnings(conn, run_id),
        levels=tuple(
            LevelInfo(
                r["entity_id"],
                r["timepoint_id"],
                r["level"],
                r["reason"],
                r["cause"],
                r["query_id"],
                r["seq"],
            )
            for r in _rows(conn, "SELECT * FROM fidelity WHERE run_id = ? ORDER BY seq", (run_id,))
        ),
        cell_tokens=tuple(
            (r[0], r[1] or "", int(r[2]))
            for r in _rows(
                conn,
                "SELECT entity_id, timepoint_id, SUM(prompt_tokens + completion_tokens) "
                "FROM llm_calls WHERE run_id = ? AND entity_id IS NOT NULL "
                "GROUP BY entity_id, timepoint_id",
                (run_id,),
            )
        ),
        lookups=tuple(
            LookupInfo(
                r["query_id"],
                r["kind"],
                r["text"],
                r["entity_id"],
                r["timepoint_id"],
                r["branch_id"],
                tuple(orjson.loads(r["found_json"])),
                r["summary"],
                r["seq"],
            )
            for r in _rows(conn, "SELECT * FROM lookups WHERE run_id = ? ORDER BY seq", (run_id,))
        ),
    )


# --------------------------------------------------------------------------- moments
def _turn(row: sqlite3.Row) -> TurnInfo:
    return TurnInfo(
        row["dialog_id"],
        row["turn_index"],
        row["timepoint_id"],
        row["speaker"],
        row["content"],
        row["emotional_tone"],
        row["stance"],
        tuple(orjson.loads(row["knowledge_refs_json"])),
        row["addressed_to"],
        row["status"],
        tuple(orjson.loads(row["issues_json"])),
        seq=row["seq"],
    )


def _scene(row: sqlite3.Row) -> SceneInfo:
    scene = Scene.model_validate_json(row["scene_json"])
    if row["after_json"]:
        scene = scene.model_copy(
            update={"after": Atmosphere.model_validate_json(row["after_json"])}
        )
    return SceneInfo(row["timepoint_id"], scene, row["seq"])


def _query(row: sqlite3.Row) -> QueryInfo:
    return QueryInfo(
        row["query_id"],
        row["entity_id"],
        row["timepoint_id"],
        row["question"],
        row["answer"],
        tuple(orjson.loads(row["knowledge_refs_json"])),
        row["status"],
        row["seq"],
    )


def moments(conn: Conn, run_id: str, timepoint_ids: Sequence[str] | None) -> MomentRecords:
    """The dialog, scenes and questions of these timepoints (None: of every timepoint, and
    the questions about the start too)."""
    if timepoint_ids is None:
        where, params = "", [run_id]
    else:
        where, params = f" AND timepoint_id IN ({_marks(timepoint_ids)})", [run_id, *timepoint_ids]
    return MomentRecords(
        turns=tuple(
            _turn(r)
            for r in _rows(
                conn, f"SELECT * FROM dialog_turns WHERE run_id = ?{where} ORDER BY seq", params
            )
        ),
        scenes=tuple(
            _scene(r)
            for r in _rows(
                conn, f"SELECT * FROM scenes WHERE run_id = ?{where} ORDER BY seq", params
            )
        ),
        queries=tuple(
            _query(r)
            for r in _rows(
                conn,
                f"SELECT * FROM queries WHERE run_id = ?{where} ORDER BY seq, asked_at, query_id",
                params,
            )
        ),
    )


def _knowledge(row: sqlite3.Row) -> KnowledgeInfo:
    return KnowledgeInfo(
        row["entity_id"],
        row["information"],
        row["kind"],
        row["source"],
        row["timepoint_id"],
        float(row["confidence"]),
        row["category"],
        row["seq"],
        row["exposure_id"],
    )


def _inner(row: sqlite3.Row) -> InnerInfo:
    return InnerInfo(
        row["entity_id"],
        row["timepoint_id"],
        InnerLife.model_validate_json(row["inner_json"]),
        row["seq"],
    )


def entity_records(conn: Conn, run_id: str, entity_id: str | None) -> dict[str, EntityRecords]:
    """Exposures and inner lives, by entity (None: of every entity)."""
    where, params = (
        ("", [run_id]) if entity_id is None else (" AND entity_id = ?", [run_id, entity_id])
    )
    knowledge: dict[str, list[KnowledgeInfo]] = {}
    for r in _rows(
        conn, f"SELECT * FROM exposure_events WHERE run_id = ?{where} ORDER BY seq", params
    ):
        knowledge.setdefault(r["entity_id"], []).append(_knowledge(r))
    inner: dict[str, list[InnerInfo]] = {}
    for r in _rows(conn, f"SELECT * FROM inner_lives WHERE run_id = ?{where} ORDER BY seq", params):
        inner.setdefault(r["entity_id"], []).append(_inner(r))
    ids = [entity_id] if entity_id is not None else sorted(set(knowledge) | set(inner))
    return {e: EntityRecords(tuple(knowledge.get(e, ())), tuple(inner.get(e, ()))) for e in ids}


def profile(conn: Conn, run_id: str, entity_id: str) -> EntityProfile | None:
    rows = _rows(
        conn,
        "SELECT profile_json FROM entities WHERE run_id = ? AND entity_id = ?",
        (run_id, entity_id),
    )
    return EntityProfile.model_validate_json(rows[0]["profile_json"]) if rows else None


def call_models(conn: Conn, run_id: str) -> list[CallModel]:
    """Which model answered which action where (an export's per-call licences)."""
    return [
        CallModel(r[0] or "", r[1] or "", r[2], r[3], r[4], int(r[5]), int(r[6]))
        for r in conn.execute(
            "SELECT timepoint_id, entity_id, action, provider, model, COUNT(*), "
            "SUM(CASE WHEN status = 'ok' THEN 1 ELSE 0 END) FROM llm_calls WHERE run_id = ? "
            "GROUP BY timepoint_id, entity_id, action, provider, model "
            "ORDER BY timepoint_id, entity_id, action, model",
            (run_id,),
        ).fetchall()
    ]
