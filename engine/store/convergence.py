"""The store's convergence tables: a compared set of runs (its score, grade and result as JSON)
and the runs it compared, in order."""

from __future__ import annotations

import json
import sqlite3
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

from .errors import StoreError


@dataclass(frozen=True)
class ConvergenceRow:
    set_id: str
    created_at: str
    scenario: str
    run_count: int
    score: float
    grade: str
    result: dict[str, Any]
    members: tuple[tuple[str, int], ...]  # (run id, seed), in the order compared


_COLUMNS = "set_id, created_at, scenario, run_count, score, grade, result_json"


def insert(
    conn: sqlite3.Connection,
    set_id: str,
    created_at: str,
    scenario: str,
    score: float,
    grade: str,
    result: dict[str, Any],
    members: Sequence[tuple[str, int]],
) -> None:
    """Inside a write transaction: one set and its member runs."""
    conn.execute(
        f"INSERT INTO convergence_sets ({_COLUMNS}) VALUES (?,?,?,?,?,?,?)",
        (
            set_id,
            created_at,
            scenario,
            len(members),
            score,
            grade,
            json.dumps(result, separators=(",", ":"), default=str),
        ),
    )
    conn.executemany(
        "INSERT INTO convergence_runs (set_id, position, run_id, seed) VALUES (?,?,?,?)",
        [(set_id, i, run_id, seed) for i, (run_id, seed) in enumerate(members)],
    )


def _row(conn: sqlite3.Connection, r: Sequence[Any], with_result: bool) -> ConvergenceRow:
    members = conn.execute(
        "SELECT run_id, seed FROM convergence_runs WHERE set_id = ? ORDER BY position", (r[0],)
    ).fetchall()
    return ConvergenceRow(
        r[0],
        r[1],
        r[2],
        int(r[3]),
        float(r[4]),
        r[5],
        json.loads(r[6]) if with_result else {},
        tuple((m[0], int(m[1])) for m in members),
    )


def list_sets(conn: sqlite3.Connection, limit: int | None) -> list[ConvergenceRow]:
    """Every set, newest first (without their results)."""
    rows = conn.execute(
        f"SELECT {_COLUMNS} FROM convergence_sets ORDER BY created_at DESC, set_id DESC"
        + (" LIMIT ?" if limit is not None else ""),
        (limit,) if limit is not None else (),
    ).fetchall()
    return [_row(conn, r, False) for r in rows]


def get_set(conn: sqlite3.Connection, prefix: str, path: str) -> ConvergenceRow:
    """The set ``prefix`` names exactly or as a unique prefix of its id."""
    exact = conn.execute(
        f"SELECT {_COLUMNS} FROM convergence_sets WHERE set_id = ?", (prefix,)
    ).fetchone()
    if exact is not None:
        return _row(conn, exact, True)
    rows = conn.execute(
        f"SELECT {_COLUMNS} FROM convergence_sets WHERE substr(set_id, 1, ?) = ? "
        "ORDER BY set_id LIMIT 6",
        (len(prefix), prefix),
    ).fetchall()
    if not rows:
        raise StoreError(f"there is no convergence set {prefix!r} in {path}")
    if len(rows) > 1:
        listed = ", ".join(r[0] for r in rows[:5])
        raise StoreError(f"{prefix!r} matches several convergence sets ({listed}); give more")
    return _row(conn, rows[0], True)
