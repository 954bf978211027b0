"""Crafted input is bad input: one sentence naming the limit (or the field), exit 2, never an
internal error, and sizes are bounded before anything is allocated for them."""

from __future__ import annotations

import json
import tracemalloc
from pathlib import Path

import pytest
from fuzz_support import Outcome, cli, record_cassette, reference_template, small_scenario

from engine.safety import limits


def refused(out: Outcome, *needles: str) -> None:
    assert out.code == 2, (out.code, out.err, out.out[-300:])
    assert out.problem() is None, out.problem()
    assert len(out.err.strip().splitlines()) == 1, out.err
    for needle in needles:
        assert needle in out.err, (needle, out.err)


def run_file(tmp_path: Path, text: str, *extra: str) -> Outcome:
    path = tmp_path / "crafted.json"
    path.write_text(text)
    return cli("run", str(path), "--headless", "--db", str(tmp_path / "runs.db"), *extra)


def with_(data: dict, dotted: str, value) -> str:
    node = data
    *parents, last = dotted.split(".")
    for key in parents:
        node = node[key]
    node[last] = value
    return json.dumps(data)


def test_json_nested_200000_deep(tmp_path: Path) -> None:
    refused(run_file(tmp_path, "[" * 200_000 + "]" * 200_000), "nests deeper", "64")
    refused(run_file(tmp_path, '{"a":' * 200_000 + "1" + "}" * 200_000), "limit of 64 levels")
    inner = with_(small_scenario(), "title", "__x__").replace('"__x__"', "[" * 100 + "]" * 100)
    refused(run_file(tmp_path, inner), "title", "limit of 64 levels")


@pytest.mark.parametrize("seed", [2**64, 2**70, -1])
def test_a_seed_over_64_bits(tmp_path: Path, seed: int) -> None:
    refused(run_file(tmp_path, with_(small_scenario(), "seed", seed)), "seed")
    out = cli("run", "lighthouse_night", "--seed", str(seed), "--db", str(tmp_path / "r.db"))
    refused(out, "--seed", "2^63 - 1")


@pytest.mark.parametrize(
    ("step", "needle"),
    [("99999999999999999999w", "timeline.step"), ("9999999w", "limit of 3660 days")],
)
def test_a_huge_step(tmp_path: Path, step: str, needle: str) -> None:
    refused(run_file(tmp_path, with_(small_scenario(), "timeline.step", step)), needle)


@pytest.mark.parametrize("start", ["9999-12-31T00:00:00", "8999-12-31T23:00:00"])
def test_a_start_date_near_year_9999(tmp_path: Path, start: str) -> None:
    data = small_scenario()
    data["timeline"]["step"] = "1w"
    data["timeline"]["beats"] = []
    refused(run_file(tmp_path, with_(data, "timeline.start", start)), "year 9000")


def test_a_timeline_that_fits_still_runs(tmp_path: Path) -> None:
    data = small_scenario()
    data["timeline"]["start"] = "8990-01-01T00:00:00"
    data["timeline"]["step"] = "52w"
    data["timeline"]["beats"] = []
    out = run_file(tmp_path, json.dumps(data))
    assert out.code == 0, out.err


@pytest.mark.parametrize(
    ("where", "value", "needle"),
    [
        ("patch.tags", 5, "patch.tags expected a list of text, got 5"),
        ("patch.tags", {"a": 1}, "patch.tags expected a list of text"),
        ("entities.types", 7, "entities.types expected a list of text, got 7"),
        ("entities.types", "human", "entities.types expected a list of text"),
        ("timepoints.count", float("nan"), "timepoints.count"),
        ("timepoints.start_time", "9999-12-31T00:00:00", "timepoints.start_time"),
    ],
)
def test_reference_templates_with_the_wrong_types(tmp_path: Path, where, value, needle) -> None:
    refused(run_file(tmp_path, with_(reference_template(), where, value)), needle)


def test_a_huge_reference_timepoint_count_allocates_nothing(tmp_path: Path) -> None:
    from engine.scenario import ScenarioError
    from engine.scenario.loader import parse_scenario

    data = reference_template()
    data["timepoints"] = {"count": 10**12, "before_count": 10**9}
    tracemalloc.start()
    try:
        with pytest.raises(ScenarioError) as info:
            parse_scenario(data, "huge.json")
        _, peak = tracemalloc.get_traced_memory()
    finally:
        tracemalloc.stop()
    assert "over the limit of 500" in str(info.value)
    assert peak < 5 * limits.MiB, f"{peak / limits.MiB:.1f} MiB allocated before refusing"
    refused(run_file(tmp_path, json.dumps(data)), "timepoints", "limit of 500")


def test_long_strings_lists_and_files_are_bounded(tmp_path: Path, monkeypatch) -> None:
    refused(
        run_file(tmp_path, with_(small_scenario(), "description", "x" * 200_000)),
        "description",
        "limit of 100,000",
    )
    refused(run_file(tmp_path, with_(small_scenario(), "tags", ["t"] * 200_000)), "tags")
    monkeypatch.setattr(limits, "MAX_SCENARIO_BYTES", 1000)
    refused(run_file(tmp_path, json.dumps(small_scenario())), "over the limit of")


def test_a_1000_entity_roster_error_is_capped(tmp_path: Path) -> None:
    data = small_scenario()
    first = data["entities"][0]
    data["entities"] = [
        {**first, "id": f"e{i}", "name": f"Person {i}", "voice": first.get("voice")}
        for i in range(1000)
    ]
    data["relationships"] = [{"between": ["nobody", "e1"]}]
    data["timeline"]["beats"] = []
    out = run_file(tmp_path, json.dumps(data))
    refused(out, "e0, e1", "… and 990 more")
    assert len(out.err) < 400


def test_run_ids_and_queries_are_bounded(tmp_path: Path) -> None:
    db = str(tmp_path / "r.db")
    refused(cli("show", "a" * 100_000, "--db", db), "a run id is at most 200 characters")
    refused(cli("run", "--replay", "b" * 5000, "--db", db), "a run id is at most 200")
    refused(cli("query", "x", "@a " + "q" * 20_000, "--db", db), "query", "limit")


@pytest.fixture(scope="module")
def cassette(tmp_path_factory) -> tuple[Path, str]:
    return record_cassette(tmp_path_factory.mktemp("cassette"))


@pytest.mark.parametrize(
    ("change", "needle"),
    [
        (lambda c: c["entries"][0].update(prompt_tokens=10**30), "entry 1, field prompt_tokens"),
        (lambda c: c["entries"][0].pop("request_hash"), "field request_hash"),
        (lambda c: c["entries"].append("not an entry"), "damaged entry"),
        (lambda c: c["runs"][0].update(seed=2**70), "run 1, field seed"),
        (lambda c: c["runs"][0].update(run_id="x%_;\x1b"), "field run_id"),
        (lambda c: c["runs"][0]["attempts"][0].pop("call_id"), "attempts.0.call_id"),
        (lambda c: c["runs"][0]["attempts"].append(3.5), "field attempts"),
        (lambda c: c["runs"][0].update(routing={"prefer": "fastest"}), "routing.prefer"),
        (lambda c: c.update(entries={"a": 1}), "must be lists"),
        (lambda c: c.update(version=[1]), "version [1]"),
    ],
)
def test_malformed_cassette_files(tmp_path: Path, cassette, change, needle: str) -> None:
    source, _ = cassette
    data = json.loads(source.read_text())
    change(data)
    path = tmp_path / "bad.cassette.json"
    path.write_text(json.dumps(data))
    refused(cli("cassette", "import", str(path), "--db", str(tmp_path / "r.db")), needle)


def test_a_cassette_nested_too_deep_or_not_json(tmp_path: Path) -> None:
    path = tmp_path / "deep.json"
    path.write_text("[" * 100_000 + "]" * 100_000)
    refused(cli("cassette", "import", str(path), "--db", str(tmp_path / "r.db")), "nests deeper")
    path.write_bytes(b"\xff\xfe{")
    refused(cli("cassette", "import", str(path), "--db", str(tmp_path / "r.db")), "not valid JSON")


def test_a_replay_of_an_imported_scenario_with_broken_references(tmp_path: Path, cassette) -> None:
    source, run_id = cassette
    data = json.loads(source.read_text())
    data["runs"][0]["scenario_data"]["relationships"] = [{"between": ["nobody", "tomas_vey"]}]
    path = tmp_path / "refs.cassette.json"
    path.write_text(json.dumps(data))
    db = str(tmp_path / "r.db")
    assert cli("cassette", "import", str(path), "--db", db).code == 0
    refused(cli("run", "--replay", run_id, "--headless", "--db", db), "names 'nobody'")
    # ... and the file as it was recorded replays.
    good = cli("cassette", "import", str(source), "--db", str(tmp_path / "g.db"))
    assert good.code == 0
    replayed = cli("run", "--replay", run_id, "--headless", "--db", str(tmp_path / "g.db"))
    assert replayed.code == 0, replayed.err


def test_a_nul_character_in_a_path(tmp_path: Path, monkeypatch) -> None:
    """No file name holds a NUL, but a config file can spell one (and so can a caller)."""
    config = tmp_path / "config.toml"
    config.write_text('[ui]\ndb = "runs\\u0000.db"\n')
    monkeypatch.setenv("TIMELOOM_CONFIG", str(config))
    monkeypatch.delenv("TIMELOOM_DB")
    refused(cli("runs"), "NUL character")
    monkeypatch.setenv("TIMELOOM_CONFIG", str(tmp_path / "empty.toml"))
    (tmp_path / "empty.toml").write_text("")
    refused(cli("run", "a\x00b.json", "--db", str(tmp_path / "r.db")), "NUL character")


def test_a_name_too_long_for_the_file_system(tmp_path: Path) -> None:
    long = "x" * 300
    refused(cli("runs", "--db", str(tmp_path / long)), "limit of 255 bytes")
    refused(cli("run", long, "--db", str(tmp_path / "r.db")), "limit of 255 bytes")
    refused(cli("show", "x", "--db", "/".join(["d"] * 3000)), "limit of 4096 bytes")
