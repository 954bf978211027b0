"""The store's cassette tables: recorded answers by request hash, and imported run descriptions."""

from __future__ import annotations

import json
import sqlite3
from collections.abc import Sequence
from datetime import UTC, datetime
from typing import Any

from ..model.cassette import CassetteEntry

COLUMNS = (
    "request_hash, provider, model, action, response_text, parsed_json, prompt_tokens, "
    "completion_tokens, cost_usd, latency_ms"
)
INSERT = f"INSERT OR IGNORE INTO cassette ({COLUMNS}, created_at) VALUES (?,?,?,?,?,?,?,?,?,?,?)"


def row(c: CassetteEntry) -> tuple[Any, ...]:
    return (
        c.request_hash,
        c.provider,
        c.model,
        c.action,
        c.response_text,
        c.parsed_json,
        c.prompt_tokens,
        c.completion_tokens,
        c.cost_usd,
        c.latency_ms,
        datetime.now(UTC).isoformat(),
    )


def entry(r: sqlite3.Row) -> CassetteEntry:
    return CassetteEntry(
        request_hash=r["request_hash"],
        provider=r["provider"],
        model=r["model"],
        action=r["action"],
        response_text=r["response_text"],
        parsed_json=r["parsed_json"],
        prompt_tokens=r["prompt_tokens"],
        completion_tokens=r["completion_tokens"],
        cost_usd=r["cost_usd"],
        latency_ms=r["latency_ms"],
    )


def get(conn: sqlite3.Connection, request_hash: str) -> CassetteEntry | None:
    cursor = conn.execute(f"SELECT {COLUMNS} FROM cassette WHERE request_hash = ?", (request_hash,))
    cursor.row_factory = sqlite3.Row  # type: ignore[assignment]
    found = cursor.fetchone()
    return entry(found) if found else None


def for_run(conn: sqlite3.Connection, run_id: str) -> list[CassetteEntry]:
    """The recorded answers a run used, in the order it first asked for them."""
    columns = ", ".join("c." + c.strip() for c in COLUMNS.split(","))
    cursor = conn.execute(
        f"SELECT {columns} FROM cassette c JOIN (SELECT request_hash, MIN(seq) AS first FROM "
        "llm_calls WHERE run_id = ? GROUP BY request_hash) l ON l.request_hash = c.request_hash "
        "ORDER BY l.first",
        (run_id,),
    )
    cursor.row_factory = sqlite3.Row  # type: ignore[assignment]
    return [entry(r) for r in cursor.fetchall()]


def import_entries(
    conn: sqlite3.Connection, runs: Sequence[dict[str, Any]], entries: Sequence[CassetteEntry]
) -> int:
    """Inside a write transaction: add entries and run descriptions; return how many are new."""
    before = conn.execute("SELECT COUNT(*) FROM cassette").fetchone()[0]
    conn.executemany(INSERT, [row(c) for c in entries])
    now = datetime.now(UTC).isoformat()
    conn.executemany(
        "INSERT OR REPLACE INTO cassette_runs (run_id, descriptor_json, imported_at) "
        "VALUES (?,?,?)",
        [(r["run_id"], json.dumps(r, separators=(",", ":")), now) for r in runs],
    )
    after = conn.execute("SELECT COUNT(*) FROM cassette").fetchone()[0]
    return int(after) - int(before)


def imported_descriptor(conn: sqlite3.Connection, prefix: str) -> dict[str, Any] | None:
    """The description of an imported run named by a unique prefix of its id."""
    rows = conn.execute(
        "SELECT descriptor_json FROM cassette_runs WHERE substr(run_id, 1, ?) = ? "
        "ORDER BY run_id LIMIT 2",
        (len(prefix), prefix),
    ).fetchall()
    return json.loads(rows[0][0]) if len(rows) == 1 else None


def attempts(conn: sqlite3.Connection, run_id: str) -> list[dict[str, Any]]:
    """Every attempt of every call a run made, in order: what a faithful replay plays back."""
    cursor = conn.execute(
        "SELECT call_id, action, model, status, prompt_tokens, completion_tokens, cost_usd, "
        "request_hash, error FROM llm_calls WHERE run_id = ? ORDER BY seq",
        (run_id,),
    )
    cursor.row_factory = sqlite3.Row  # type: ignore[assignment]
    return [dict(r) for r in cursor.fetchall()]
