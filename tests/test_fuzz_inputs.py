"""Fuzzing with hypothesis: scenario files (ours and the reference format, mutated from valid
ones: types, sizes, nesting), query strings, cassette files, run ids and ``--db`` paths. Every
outcome is 0, 1 or 2, within its time, with no traceback and no internal error
(:meth:`fuzz_support.Outcome.problem`). The command line runs in-process, so a few dozen
examples per target stay within seconds; ``bench/fuzz_inputs.py`` runs hundreds."""

from __future__ import annotations

import json
import tempfile
from pathlib import Path
from typing import Any

import pytest
from fuzz_support import (
    cli,
    deep,
    dump,
    escaped_run,
    paths,
    record_cassette,
    reference_template,
    small_scenario,
)
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from engine.query import QueryError, parse_query

FUZZ = settings(
    deadline=None,  # each example runs a command; the time limit below bounds it instead
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
    derandomize=True,  # the same examples on every run of the suite
)


def fuzz(examples: int) -> settings:
    return settings(FUZZ, max_examples=examples)


SPECIAL_TEXT = [
    "",
    "x" * 3000,
    "\x1b[2J\x1b]0;t\x07",
    "9999-12-31T23:59:59",
    "0001-01-01T00:00:00",
    "99999999999999w",
    "1w",
    "\u202e",
    "nobody",
    "tensor_only",
]
leaves = (
    st.none()
    | st.booleans()
    | st.integers(min_value=-(2**80), max_value=2**80)
    | st.floats(allow_nan=True, allow_infinity=True)
    | st.text(max_size=30)
    | st.sampled_from(SPECIAL_TEXT)
    | st.sampled_from([deep(70), deep(3000)])
)
values = st.recursive(
    leaves,
    lambda inner: (
        st.lists(inner, max_size=4) | st.dictionaries(st.text(max_size=8), inner, max_size=3)
    ),
    max_leaves=8,
)


def _mutated(data: st.DataObject, base: Any) -> Any:
    """``base`` with one to three edits drawn by hypothesis: a value replaced, a field
    removed, a list or value repeated many times."""
    doc = json.loads(json.dumps(base))
    for _ in range(data.draw(st.integers(1, 3), label="edits")):
        where = data.draw(st.sampled_from(paths(doc)), label="where")
        if not where:
            continue
        parent: Any = doc
        for part in where[:-1]:
            parent = parent[part]
        key = where[-1]
        op = data.draw(st.sampled_from(["replace", "remove", "repeat"]), label="op")
        if op == "remove" and isinstance(parent, dict):
            del parent[key]
        elif op == "repeat":
            parent[key] = [parent[key]] * data.draw(st.sampled_from([2, 50, 1200]))
        else:
            parent[key] = data.draw(values, label="value")
    return doc


def _ok(out: Any) -> None:
    assert out.problem() is None, out.problem()


def _folder(root: Path) -> Path:
    return Path(tempfile.mkdtemp(dir=root))


@fuzz(25)
@given(st.data())
def test_fuzz_our_scenario_files(tmp_path: Path, data: st.DataObject) -> None:
    folder = _folder(tmp_path)
    path = folder / "s.json"
    path.write_text(dump(_mutated(data, small_scenario())))
    _ok(cli("run", str(path), "--headless", "--db", str(folder / "r.db"), timeout=60))


@fuzz(25)
@given(st.data())
def test_fuzz_reference_templates(tmp_path: Path, data: st.DataObject) -> None:
    folder = _folder(tmp_path)
    path = folder / "t.json"
    path.write_text(dump(_mutated(data, reference_template())))
    _ok(cli("run", str(path), "--headless", "--db", str(folder / "r.db"), timeout=60))


@fuzz(300)
@given(st.text(max_size=80) | st.sampled_from(['@"', "/why @", "/fork withhold =", "@a@@b x"]))
def test_fuzz_the_query_parser(text: str) -> None:
    """Nothing but a QueryError (one sentence) ever leaves the parser."""
    try:
        parse_query(text)
    except QueryError as exc:
        assert str(exc) and "\n" not in str(exc)


@pytest.fixture(scope="module")
def stored(tmp_path_factory) -> tuple[Path, str]:
    """A database with one offline run (text with escape sequences in it)."""
    db = tmp_path_factory.mktemp("stored") / "runs.db"
    return db, escaped_run(db)


@fuzz(12)
@given(st.text(max_size=60).map(lambda t: "@aldous " + t) | st.text(max_size=60))
def test_fuzz_queries_on_the_command_line(stored, text: str) -> None:
    db, run_id = stored
    _ok(cli("query", run_id, text, "--db", str(db), timeout=60))


@fuzz(40)
@given(
    st.text(max_size=40)
    | st.sampled_from(["%", "_", "a%_", "*", "[", "'", '"', "x" * 100_000, "\x1b[2J"])
)
def test_fuzz_run_ids(stored, text: str) -> None:
    db = str(stored[0])
    for command in (("show",), ("show", "--json"), ("resume",), ("open",)):
        _ok(cli(*command, "--db", db, "--", text, timeout=30))


@pytest.fixture(scope="module")
def cassette(tmp_path_factory) -> tuple[dict[str, Any], str]:
    path, run_id = record_cassette(tmp_path_factory.mktemp("cassette"))
    return json.loads(path.read_text()), run_id


@fuzz(20)
@given(st.data())
def test_fuzz_cassette_files(tmp_path: Path, cassette, data: st.DataObject) -> None:
    base, run_id = cassette
    folder = _folder(tmp_path)
    path = folder / "c.json"
    mutated = _mutated(data, base)
    path.write_text(dump(mutated))
    db = str(folder / "r.db")
    imported = cli("cassette", "import", str(path), "--db", db, timeout=30)
    _ok(imported)
    if imported.code == 0:
        runs = mutated.get("runs") if isinstance(mutated, dict) else None
        replay_id = runs[0]["run_id"] if runs else run_id
        _ok(cli("run", "--replay", replay_id, "--headless", "--db", db, timeout=60))


DB_NAMES = st.text(
    alphabet=st.characters(exclude_characters="/\x00", exclude_categories=("Cs",)),
    min_size=1,
    max_size=40,
) | st.sampled_from(
    ["missing/deeper/r.db", "a file.db", "garbage.db", "empty.db", "folder", "x" * 300]
)


@fuzz(30)
@given(DB_NAMES)
def test_fuzz_db_paths(tmp_path: Path, name: str) -> None:
    """``--db`` names a new file, a file that is not a database, an empty one, one in a missing
    folder, a folder, a name longer than file systems allow."""
    folder = _folder(tmp_path)
    (folder / "folder").mkdir()
    (folder / "garbage.db").write_bytes(b"not a database, not at all" * 40)
    (folder / "empty.db").write_bytes(b"")
    if name in (".", ".."):
        name = "dots" + name
    _ok(cli("runs", "--db", str(folder / name), timeout=30))
    _ok(cli("show", "x", "--db", str(folder / name), timeout=30))
