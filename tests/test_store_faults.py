"""The store under faults and damage: a full or failing disk, a folder or a missing file as the
database, other programs' files, damaged files and rows, unknown schema versions and huge ids.
Every refusal is one sentence, and nothing is written into a file that was refused (the store
under concurrent use: test_store_concurrency.py)."""

from __future__ import annotations

import asyncio
import contextlib
import hashlib
import io
import multiprocessing
import os
import resource
import sqlite3
import subprocess
import sys
import threading
from pathlib import Path
from typing import Any

import pytest
from conftest import ROOT, run_scenario
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from engine.store import (
    DamagedRowError,
    Store,
    StoreError,
    StoreWriteError,
    UnknownRunError,
    opening,
)
from engine.store.errors import MAX_ID_CHARS
from engine.store.schema import SCHEMA_VERSION
from tui.cli import main

FORK = multiprocessing.get_context("fork")


def cli(*args: str, limit_bytes: int | None = None) -> subprocess.CompletedProcess[str]:
    def limit() -> None:  # a disk that fills up: writes past this size fail (EFBIG)
        if limit_bytes is not None:
            resource.setrlimit(resource.RLIMIT_FSIZE, (limit_bytes, limit_bytes))

    return subprocess.run(
        [sys.executable, "-m", "tui.cli", *args],
        cwd=ROOT,
        capture_output=True,
        text=True,
        preexec_fn=limit,
    )


@pytest.fixture
def tl(capsys: pytest.CaptureFixture[str]) -> Any:
    """The command line in this process (quicker than :func:`cli`)."""

    def call(*args: str) -> subprocess.CompletedProcess[str]:
        code = main(list(args))
        out = capsys.readouterr()
        return subprocess.CompletedProcess(list(args), code, out.out, out.err)

    return call


def one_sentence(out: subprocess.CompletedProcess[str], code: int, needle: str) -> None:
    assert out.returncode == code, out.stderr
    lines = out.stderr.strip().splitlines()
    assert len(lines) == 1 and needle in lines[0], out.stderr
    assert "Traceback" not in out.stderr and "internal error" not in out.stderr


def digest(path: Path) -> str:
    return hashlib.sha256(path.read_bytes()).hexdigest()


async def stored_run(path: Path, scenario: str = "lighthouse_night") -> str:
    async with await Store.open(path) as store:
        summary, _ = await run_scenario(scenario, store)
    return summary.run_id


# --------------------------------------------------------------------------- faults
async def test_a_full_disk_is_one_sentence_and_keeps_what_was_committed(tmp_path: Path) -> None:
    path = tmp_path / "full.db"
    store = await Store.open(path)
    first, _ = await run_scenario("lighthouse_night", store)
    before = await store.count("events", first.run_id)
    pages = (await store._conn.execute_fetchall("PRAGMA page_count"))[0][0]
    await store._conn.execute(f"PRAGMA max_page_count = {pages + 2}")  # SQLITE_FULL soon
    with pytest.raises(StoreWriteError, match="the disk is full: cannot write to"):
        await run_scenario("harbor_strike", store)
    await store.close()
    async with await Store.open(path) as again:
        assert await again.count("events", first.run_id) == before
        assert (await again.get_run(first.run_id)).status.value == "completed"


@pytest.mark.parametrize(("limit", "code"), [(40_000, 2), (400_000, 1)])
def test_a_failing_disk_on_the_command_line_is_one_sentence(
    tmp_path: Path, limit: int, code: int
) -> None:
    """Writes past ``limit`` bytes fail: while the schema is made (bad database: exit 2,
    formerly 'cannot rollback - no transaction is active') or during the run (exit 1)."""
    db = tmp_path / "small.db"
    out = cli("run", "lighthouse_night", "--db", str(db), limit_bytes=limit)
    one_sentence(out, code, f"cannot write the database {db}")
    if code == 1:  # the run's start was committed and is intact
        listed = cli("runs", "--db", str(db))
        assert listed.returncode == 0 and "interrupted" in listed.stdout


def test_a_folder_as_the_database_is_one_sentence(tmp_path: Path) -> None:
    folder = tmp_path / "adir"
    folder.mkdir()
    for command in (("show", "x"), ("run", "lighthouse_night")):
        out = cli(*command, "--db", str(folder))
        one_sentence(out, 2, "is a folder, not a database file")
        assert "Event loop is closed" not in out.stderr


def test_a_failed_connect_leaves_no_thread_behind(tmp_path: Path) -> None:
    """aiosqlite's worker thread outliving a failed connect reported into the closed loop
    ('Event loop is closed'): the connect now waits for it."""
    folder = tmp_path / "adir"
    folder.mkdir()
    seen: list[str] = []
    before = set(threading.enumerate())
    previous = threading.excepthook
    threading.excepthook = lambda args: seen.append(repr(args.exc_value))
    try:
        for _ in range(10):
            with pytest.raises(StoreError):
                asyncio.run(opening.connect(str(folder), readonly=False))
    finally:
        threading.excepthook = previous
    assert seen == []
    assert [t for t in threading.enumerate() if t not in before and t.is_alive()] == []


# --------------------------------------------------------------------------- read-only
@pytest.mark.parametrize(
    "command", [("show", "r1"), ("runs",), ("export", "r1"), ("diff", "r1", "main", "b")]
)
def test_read_only_commands_create_nothing(
    tl: Any, tmp_path: Path, command: tuple[str, ...]
) -> None:
    db = tmp_path / "no" / "such" / "folder" / "x.db"
    out = tl(*command, "--db", str(db))
    one_sentence(out, 2, f"there is no database at {db}")
    assert not (tmp_path / "no").exists()


@pytest.mark.parametrize("command", [("show", "r1"), ("runs",), ("run", "lighthouse_night")])
def test_another_programs_database_is_refused_and_untouched(
    tl: Any, tmp_path: Path, command: tuple[str, ...]
) -> None:
    db = tmp_path / "app.db"
    conn = sqlite3.connect(db)
    conn.execute("CREATE TABLE notes (body TEXT)")
    conn.execute("INSERT INTO notes VALUES ('mine')")
    conn.commit()
    conn.close()
    before = digest(db)
    out = tl(*command, "--db", str(db))
    one_sentence(out, 2, f"{db} is not a timeloom database")
    assert digest(db) == before and not Path(f"{db}-wal").exists()


async def test_a_read_only_store_writes_nothing(tmp_path: Path) -> None:
    path = tmp_path / "r.db"
    run_id = await stored_run(path)
    before = digest(path)
    async with await Store.open(path, readonly=True) as store:
        assert (await store.get_run(run_id)).status.value == "completed"
        with pytest.raises(StoreError):
            await store.save_convergence_set("cv", "now", "s", 1.0, "a", {}, [])
    assert digest(path) == before
    assert sorted(p.name for p in tmp_path.iterdir() if p.name.startswith("r.db")) == [
        "r.db",
        "r.db.leases",
    ]


# --------------------------------------------------------------------------- damage
def _damage_a_middle_page(path: Path) -> None:
    pages = path.stat().st_size // 4096
    with path.open("r+b") as f:
        f.seek((pages // 2) * 4096)
        f.write(bytes((i * 37 + 11) % 256 for i in range(4096)))


def test_a_database_damaged_mid_file_is_refused_before_writing(tl: Any, tmp_path: Path) -> None:
    db = tmp_path / "d.db"
    asyncio.run(stored_run(db, "harbor_strike"))
    _damage_a_middle_page(db)
    _a_run_is_refused_and_changes_nothing(tl, db)


def _a_run_is_refused_and_changes_nothing(tl: Any, db: Path) -> None:
    before = digest(db)
    out = tl("run", "lighthouse_night", "--db", str(db))
    one_sentence(out, 2, f"{db} is damaged")
    assert "wrote nothing into it" in out.stderr
    assert digest(db) == before


def test_a_large_store_opens_at_once_and_is_checked_before_its_first_write(
    tl: Any, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Above the size checked first, a cleanly closed store opens without its check, which
    runs while it is read; a damaged one is refused at its first write, unchanged."""
    monkeypatch.setattr(opening, "CHECK_AT_OPEN_BYTES", 0)
    db = tmp_path / "d.db"
    asyncio.run(stored_run(db, "harbor_strike"))

    async def opened_whole() -> tuple[bool, int]:
        store = await Store.open(db)
        try:
            waiting = store._check is not None
            await store.append([])  # nothing to write: no wait
            await run_scenario("lighthouse_night", store)
            return waiting, len(await store.list_runs())
        finally:
            await store.close()

    assert asyncio.run(opened_whole()) == (True, 2), "checked alongside, then written"
    _damage_a_middle_page(db)
    _a_run_is_refused_and_changes_nothing(tl, db)


def test_a_truncated_large_store_is_checked_before_it_opens(
    tl: Any, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(opening, "CHECK_AT_OPEN_BYTES", 0)
    db = tmp_path / "d.db"
    asyncio.run(stored_run(db, "harbor_strike"))
    with db.open("r+b") as f:
        f.truncate(db.stat().st_size // 2)
    before = digest(db)
    one_sentence(tl("run", "lighthouse_night", "--db", str(db)), 2, "damaged")
    assert digest(db) == before


def _die_with_a_wal(path: str) -> None:
    conn = sqlite3.connect(path)
    conn.execute("PRAGMA wal_autocheckpoint = 0")
    conn.execute("UPDATE runs SET title = title || ' '")
    conn.commit()
    os._exit(0)  # no close: the write-ahead log stays beside the database


def test_a_database_not_closed_cleanly_is_checked_by_readers(tl: Any, tmp_path: Path) -> None:
    db = tmp_path / "d.db"
    run_id = asyncio.run(stored_run(db, "harbor_strike"))
    child = FORK.Process(target=_die_with_a_wal, args=(str(db),))
    child.start()
    child.join(timeout=60)
    assert opening.unclean(str(db))
    assert tl("show", run_id, "--db", str(db)).returncode == 0  # whole: shown
    _damage_a_middle_page(db)
    one_sentence(tl("show", run_id, "--db", str(db)), 2, f"{db} is damaged")


@pytest.mark.parametrize(
    ("sql", "command", "needle"),
    [
        ("UPDATE events SET payload = '{not json' WHERE seq = 3", "show", "a damaged row"),
        ("UPDATE runs SET seed = 'abc'", "show", "a damaged run row of run"),
        ("UPDATE runs SET seed = 'abc'", "runs", "a damaged run row of run"),
        ("UPDATE entities SET profile_json = '[1'", "export", "a damaged row of run"),
        ("UPDATE runs SET status = 'exploded'", "show", "a damaged run row of run"),
        ("UPDATE runs SET scenario_json = '12345'", "show", "a damaged row of run"),
        ("UPDATE relationships SET trust = 'x'", "export", "a damaged row of run"),
        ("UPDATE exposure_events SET confidence = 'x'", "export", "a damaged row of run"),
    ],
)
def test_a_damaged_row_is_one_sentence_naming_the_run(
    tl: Any, tmp_path: Path, sql: str, command: str, needle: str
) -> None:
    db = tmp_path / "r.db"
    run_id = asyncio.run(stored_run(db))
    conn = sqlite3.connect(db)
    conn.execute(sql)
    conn.commit()
    conn.close()
    args = (command,) if command == "runs" else (command, run_id)
    out = tl(*args, "--db", str(db), *(["-o", str(tmp_path / "x.jsonl")] * (command == "export")))
    one_sentence(out, 2, needle)
    assert run_id in out.stderr


async def test_a_damaged_row_in_the_store_names_its_run(tmp_path: Path) -> None:
    path = tmp_path / "r.db"
    run_id = await stored_run(path)
    conn = sqlite3.connect(path)
    conn.execute("UPDATE timepoints SET entities_present_json = 'nope'")
    conn.commit()
    conn.close()
    async with await Store.open(path, readonly=True) as store:
        with pytest.raises(DamagedRowError, match=f"of run {run_id}"):
            await store.load_view(run_id)


@pytest.mark.parametrize("version", [-1, -500, SCHEMA_VERSION + 1])
def test_an_unknown_schema_version_is_one_sentence(tl: Any, tmp_path: Path, version: int) -> None:
    db = tmp_path / "v.db"
    conn = sqlite3.connect(db)
    conn.execute(f"PRAGMA user_version = {version}")
    conn.close()
    for command in (("runs",), ("run", "lighthouse_night")):
        out = tl(*command, "--db", str(db))
        needle = (
            f"has schema version {version}, which this timeloom does not know"
            if version < 0
            else "was written by a newer timeloom"
        )
        one_sentence(out, 2, needle)


# --------------------------------------------------------------------------- run ids
def test_a_huge_run_id_names_the_limit(tl: Any, tmp_path: Path) -> None:
    db = tmp_path / "r.db"
    asyncio.run(stored_run(db))
    for command in ("show", "export", "diff"):
        extra = ("main", "b") if command == "diff" else ()
        out = tl(command, "x" * 100_000, *extra, "--db", str(db))
        one_sentence(out, 2, f"a run id is at most {MAX_ID_CHARS} characters")
        assert len(out.stderr) < 300


async def test_wildcards_in_a_run_id_match_nothing_but_themselves(tmp_path: Path) -> None:
    path = tmp_path / "r.db"
    run_id = await stored_run(path)
    async with await Store.open(path, readonly=True) as store:
        assert await store.resolve_run_id(run_id[:8]) == run_id
        for pattern in ("%", "_", run_id[:7] + "%", "_" * len(run_id), "\\"):
            with pytest.raises(UnknownRunError):
                await store.resolve_run_id(pattern)


@pytest.fixture(scope="module")
def fuzz_db(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, str]:
    path = tmp_path_factory.mktemp("fuzz") / "r.db"
    return path, asyncio.run(stored_run(path))


@settings(
    max_examples=60, deadline=2000, suppress_health_check=[HealthCheck.function_scoped_fixture]
)
@given(text=st.text(max_size=400) | st.text(alphabet="%_\\*?[]", max_size=60))
def test_any_run_id_is_found_or_refused_in_one_sentence(
    fuzz_db: tuple[Path, str], text: str
) -> None:
    path, run_id = fuzz_db

    async def resolve() -> str | None:
        async with await Store.open(path, readonly=True) as store:
            try:
                return await store.resolve_run_id(text)
            except StoreError as exc:
                assert "\n" not in str(exc)
                return None

    found = asyncio.run(resolve())
    assert found == (run_id if run_id.startswith(text) else None)


def _columns(path: Path) -> list[tuple[str, str, str]]:
    """Every (table, column, declared type) of a stored run's rows that is not a key."""
    conn = sqlite3.connect(path)
    found = []
    for (table,) in conn.execute(
        "SELECT name FROM sqlite_master WHERE type = 'table' AND name NOT LIKE 'sqlite_%'"
    ).fetchall():
        if not conn.execute(f"SELECT COUNT(*) FROM {table}").fetchone()[0]:
            continue
        for _, name, kind, _, _, key in conn.execute(f"PRAGMA table_info({table})"):
            if not key:
                found.append((table, name, kind))
    conn.close()
    return found


@pytest.fixture(scope="module")
def damage_source(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, str, list[Any]]:
    path = tmp_path_factory.mktemp("damage") / "r.db"
    run_id = asyncio.run(stored_run(path))
    return path, run_id, _columns(path)


@settings(
    max_examples=25, deadline=5000, suppress_health_check=[HealthCheck.function_scoped_fixture]
)
@given(data=st.data())
def test_any_hand_damaged_column_is_shown_or_refused_in_one_sentence(
    damage_source: tuple[Path, str, list[Any]], tmp_path: Path, data: Any
) -> None:
    source, run_id, columns = damage_source
    table, column, kind = data.draw(st.sampled_from(columns))
    wrong = "'x'" if kind in ("INTEGER", "REAL") else data.draw(st.sampled_from(["12345", "'{'"]))
    db = tmp_path / f"damaged-{data.draw(st.integers(0, 10**9))}.db"
    db.write_bytes(source.read_bytes())
    conn = sqlite3.connect(db)
    conn.execute(f"UPDATE {table} SET {column} = {wrong}")
    conn.commit()
    conn.close()
    out = tmp_path / "x.jsonl"
    for command in (("show", run_id, "--json"), ("export", run_id, "-o", str(out), "--force")):
        err = io.StringIO()
        with contextlib.redirect_stderr(err), contextlib.redirect_stdout(io.StringIO()):
            code = main([*command, "--db", str(db)])
        said = err.getvalue()
        assert code in (0, 2), (table, column, wrong, said)
        assert "internal error" not in said and "Traceback" not in said
        assert code == 0 or (len(said.strip().splitlines()) == 1 and run_id in said), said
