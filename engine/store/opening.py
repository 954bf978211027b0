"""Opening a database: for writing (creating it and its schema if needed) or read-only.

Opening for writing creates the folder and the file, checks the file with ``PRAGMA
quick_check`` (so nothing is ever written into a damaged database; a large store that opening
leaves as it is is checked while it is read, before its first write: :mod:`.checking`) and
brings the schema up to date inside one ``BEGIN IMMEDIATE`` transaction that reads
``user_version`` itself: two processes creating one new database at once take turns, and the
second finds the schema made.

Opening read-only (``show``, ``runs``, ``export``, ``diff``…) never creates a folder or a
database, never changes a schema or a row (``PRAGMA query_only``), needs no write access, and
refuses a file that is not a timeloom database. It checks the file with ``quick_check`` when it
was not closed cleanly: a non-empty write-ahead log (``-wal``) beside it means a writer died
there (or is writing now). How it opens depends on what is beside the file, so that it leaves
nothing behind either: SQLite's ``mode=ro`` while a ``-wal`` exists (a read-only connection to a
WAL database uses the writers' ``-wal`` and ``-shm`` files, and would otherwise make them and
leave them); ``mode=ro&immutable=1`` for a file nobody may write; else ``mode=rw`` with
``query_only``, which never creates the file and removes the ``-wal`` and ``-shm`` it used when
it closes.

Every refusal is a :class:`StoreError` with one sentence.
"""

from __future__ import annotations

import os
import sqlite3
import time
from pathlib import Path
from urllib.parse import quote

import aiosqlite

from .errors import StoreError, explain
from .schema import MIGRATIONS, SCHEMA_VERSION

BUSY_TIMEOUT_MS = 5000
CHECK_MESSAGES = 3  # how many of quick_check's findings a refusal quotes
# a store up to this size (about 0.7 s of quick_check) is checked before it opens for writing;
# a larger one may be checked while it is read, before its first write (see .checking)
CHECK_AT_OPEN_BYTES = 64 << 20


def check_path(path: str, *, readonly: bool) -> None:
    """Refuse a path that cannot be a database before SQLite sees it; for writing, make its
    folder."""
    if path == ":memory:":
        return
    target = Path(path).expanduser()
    if target.is_dir():
        raise StoreError(f"{path} is a folder, not a database file; give the path of a file")
    if readonly:
        if not target.exists():
            raise StoreError(f"there is no database at {path}")
        return
    parent = target.resolve().parent
    if not parent.is_dir():
        try:
            parent.mkdir(parents=True, exist_ok=True)
        except OSError as exc:
            raise StoreError(
                f"cannot create the folder {parent} for the database: {exc.strerror}"
            ) from exc


async def connect(path: str, *, readonly: bool) -> aiosqlite.Connection:
    """An aiosqlite connection to ``path`` (read-only: opened as :func:`_mode` says)."""
    if readonly and path != ":memory:":
        target, uri = file_uri(path, _mode(path)), True
    else:
        target, uri = path, False
    conn = aiosqlite.connect(target, isolation_level=None, uri=uri)
    try:
        await conn
    except (sqlite3.Error, OSError) as exc:
        # aiosqlite stops its worker thread after a failed connect without waiting for it;
        # a thread still running when the caller's loop closes reports into that closed loop
        # ("Event loop is closed"), so wait for it here.
        conn._thread.join(timeout=BUSY_TIMEOUT_MS / 1000)
        raise explain(exc, path) from exc
    return conn


def file_uri(path: str, query: str) -> str:
    """The SQLite URI of the file at ``path``, with its query (``mode=ro``…)."""
    return f"file:{quote(str(Path(path).expanduser().resolve()))}?{query}"


def _mode(path: str) -> str:
    """How a read-only connection opens ``path`` (see the module's text)."""
    if Path(path + "-wal").exists():  # in use, or a writer died: its log must be read
        return "mode=ro"
    if not os.access(path, os.W_OK):  # nobody may write it: nothing can change under us
        return "mode=ro&immutable=1"
    return "mode=rw"


def unclean(path: str) -> bool:
    """Whether the database at ``path`` was not closed cleanly: a writer's non-empty
    write-ahead log is left beside it (SQLite removes it when the last connection closes)."""
    if path == ":memory:":
        return False
    wal = Path(path + "-wal")
    try:
        return wal.stat().st_size > 0
    except OSError:
        return False


def quick_check(conn: sqlite3.Connection, path: str) -> None:
    """Refuse a damaged database (``PRAGMA quick_check``) in one sentence."""
    try:
        found = [str(r[0]) for r in conn.execute("PRAGMA quick_check").fetchall()]
    except sqlite3.DatabaseError as exc:
        found = [str(exc)]
    if found != ["ok"]:
        detail = "; ".join(" ".join(f.split()) for f in found[:CHECK_MESSAGES])
        raise StoreError(
            f"{path} is damaged ({detail}); timeloom wrote nothing into it, restore it from a "
            "backup"
        )


def _tables(conn: sqlite3.Connection) -> set[str]:
    rows = conn.execute(
        "SELECT name FROM sqlite_master WHERE type = 'table' AND name NOT LIKE 'sqlite_%'"
    ).fetchall()
    return {r[0] for r in rows}


def _check_version(version: int, tables: set[str], path: str) -> None:
    if version > SCHEMA_VERSION:
        raise StoreError(
            f"{path} was written by a newer timeloom (schema {version}, this one "
            f"understands up to {SCHEMA_VERSION}); upgrade timeloom to open it"
        )
    if version < 0:
        raise StoreError(f"{path} has schema version {version}, which this timeloom does not know")
    if version == 0 and tables:
        raise StoreError(
            f"{path} is not a timeloom database (it holds another program's tables: "
            f"{', '.join(sorted(tables)[:3])})"
        )
    if version > 0 and "runs" not in tables:
        raise StoreError(f"{path} is not a timeloom database (it has no runs table)")


def _wal(conn: sqlite3.Connection) -> None:
    """Put the database in WAL mode. The switch needs the file to itself, and SQLite reports a
    busy file at once rather than wait (another opener holds a lock it must not wait on), so
    it is tried again for as long as the busy timeout."""
    deadline = time.monotonic() + BUSY_TIMEOUT_MS / 1000
    pause = 0.005
    while True:
        try:
            conn.execute("PRAGMA journal_mode = WAL")
            return
        except sqlite3.OperationalError as exc:
            if "locked" not in str(exc) and "busy" not in str(exc):
                raise
            if time.monotonic() + pause > deadline:
                raise
        time.sleep(pause)
        pause = min(pause * 2, 0.1)


def prepare_writer(conn: sqlite3.Connection, path: str) -> bool:
    """Settings, the check and the schema of a connection that writes (in its thread).
    Returns whether the check was left to run alongside (:func:`check_can_wait`)."""
    conn.execute(f"PRAGMA busy_timeout = {BUSY_TIMEOUT_MS}")
    conn.execute("PRAGMA foreign_keys = ON")
    waits = False
    if path != ":memory:":
        # refused before anything is written (WAL mode changes the file's header): another
        # program's file, an unknown version, a damaged file
        version = int(conn.execute("PRAGMA user_version").fetchone()[0])
        _check_version(version, _tables(conn), path)
        waits = check_can_wait(conn, path, version)
        if not waits:
            quick_check(conn, path)
        _wal(conn)
    conn.execute("PRAGMA synchronous = NORMAL")
    conn.execute("BEGIN IMMEDIATE")  # one creator at a time; the version is read inside
    try:
        version = int(conn.execute("PRAGMA user_version").fetchone()[0])
        _check_version(version, _tables(conn), path)
        for number in range(version, SCHEMA_VERSION):
            for statement in MIGRATIONS[number].split(";"):
                if statement.strip():
                    conn.execute(statement)
        if version != SCHEMA_VERSION:
            conn.execute(f"PRAGMA user_version = {SCHEMA_VERSION}")
        conn.execute("COMMIT")
    except BaseException:
        if conn.in_transaction:
            conn.execute("ROLLBACK")
        raise
    return waits


def check_can_wait(conn: sqlite3.Connection, path: str, version: int) -> bool:
    """Whether the store at ``path`` may open for writing before it is checked: closed
    cleanly, larger than :data:`CHECK_AT_OPEN_BYTES`, already in WAL mode with this schema
    (opening writes nothing) and as long as its pages say (not truncated). See .checking."""
    if version != SCHEMA_VERSION or unclean(path):
        return False
    try:
        size = os.path.getsize(path)
    except OSError:
        return False
    if size <= CHECK_AT_OPEN_BYTES:
        return False
    mode = str(conn.execute("PRAGMA journal_mode").fetchone()[0]).lower()
    pages = int(conn.execute("PRAGMA page_count").fetchone()[0])
    page = int(conn.execute("PRAGMA page_size").fetchone()[0])
    return mode == "wal" and pages * page == size


def prepare_reader(conn: sqlite3.Connection, path: str) -> None:
    """Settings and checks of a read-only connection (in its thread): it must be a timeloom
    database of this version, and whole if it was not closed cleanly."""
    conn.execute(f"PRAGMA busy_timeout = {BUSY_TIMEOUT_MS}")
    conn.execute("PRAGMA query_only = ON")
    if unclean(path):
        quick_check(conn, path)
    conn.execute("BEGIN")
    try:
        version = int(conn.execute("PRAGMA user_version").fetchone()[0])
        tables = _tables(conn)
    finally:
        conn.execute("COMMIT")
    if version == 0 and not tables:
        raise StoreError(f"{path} is not a timeloom database (it is empty)")
    _check_version(version, tables, path)
    if version < SCHEMA_VERSION:
        raise StoreError(
            f"{path} was written by an older timeloom (schema {version}); run a command that "
            "writes to it once (timeloom run or resume) to bring it up to date"
        )
