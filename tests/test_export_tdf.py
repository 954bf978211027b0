"""``timeloom export --format tdf``: JSON-LD timeline records that expand offline, hold what the
run holds, carry a content hash that verifies, a causal graph whose edges end in the record, and
one record per branch (or per PORTAL path)."""

from __future__ import annotations

import copy
import hashlib
import itertools
import json
from pathlib import Path
from typing import Any

import pytest

from engine.export.tdf_ids import VOCAB, verify
from tui.cli import main

V = VOCAB


def _run(db: Path, capsys, scenario: str = "lighthouse_night", seed: int = 3) -> str:
    args = ["run", scenario, "--headless", "--json", "--db", str(db), "--seed", str(seed)]
    assert main(args) == 0
    return json.loads(capsys.readouterr().out)["run_id"]


def _export(db: Path, run_id: str, out: Path, capsys, *extra: str) -> dict:
    args = ["export", run_id, "--db", str(db), "--format", "tdf", "-o", str(out), "--json"]
    assert main([*args, *extra]) == 0
    return json.loads(capsys.readouterr().out)


def _records(path: Path) -> list[dict]:
    return [json.loads(line) for line in path.read_text(encoding="utf-8").splitlines()]


def _show(db: Path, run_id: str, capsys) -> dict:
    assert main(["show", run_id, "--db", str(db), "--json"]) == 0
    return json.loads(capsys.readouterr().out)


def _fork(db: Path, run_id: str, capsys) -> None:
    args = ["fork", run_id, "--at", "tp01", "--inject", "A squall smashes the lamp-room glass."]
    assert main([*args, "--json", "--db", str(db)]) == 0
    assert json.loads(capsys.readouterr().out)["branch_id"] == "b1"


@pytest.fixture
def exported(tmp_path: Path, capsys) -> tuple[Path, str, Path, dict]:
    db = tmp_path / "runs.db"
    run_id = _run(db, capsys)
    out = tmp_path / "run.tdf.jsonl"
    printed = _export(db, run_id, out, capsys)
    return db, run_id, out, printed


def _nodes(expanded: Any, of_type: str) -> list[dict]:
    """Every node object of the expanded document with this ``@type`` (a vocabulary term)."""
    found: list[dict] = []

    def walk(x: Any) -> None:
        if isinstance(x, list):
            for y in x:
                walk(y)
        elif isinstance(x, dict):
            if V + of_type in x.get("@type", ()):
                found.append(x)
            for key, value in x.items():
                if key != "@type":
                    walk(value)

    walk(expanded)
    return found


def _value(node: dict, term: str) -> Any:
    (item,) = node[V + term]
    return item.get("@value", item.get("@id"))


def _in_order(node: dict, term: str) -> list[dict]:
    (item,) = node[V + term]
    return item["@list"]


def _offline_expand(record: dict) -> list:
    jsonld = pytest.importorskip("pyld").jsonld

    def refuse(url: str, options: Any = None) -> Any:
        raise AssertionError(f"the record asked for a remote document: {url}")

    before = jsonld.get_document_loader()
    jsonld.set_document_loader(refuse)
    try:
        return jsonld.expand(record)
    finally:
        jsonld.set_document_loader(before)


def test_the_record_expands_offline_and_holds_the_runs_entities_timepoints_and_turns(
    exported, capsys
) -> None:
    db, run_id, out, printed = exported
    (record,) = _records(out)
    assert printed["records"] == 1 and printed["format"] == "tdf"
    assert isinstance(record["@context"], dict)  # inline, never a remote address
    expanded = _offline_expand(record)
    shown = _show(db, run_id, capsys)

    (top,) = expanded
    assert V + "TimelineRecord" in top["@type"]
    (run,) = _nodes(expanded, "Run")
    assert _value(run, "run_id") == run_id and _value(run, "seed") == 3
    assert _value(run, "scenario") == "lighthouse_night"

    entities = {_value(n, "entity_id"): n for n in _nodes(expanded, "Entity")}
    assert set(entities) == {e["entity_id"] for e in shown["entities_detail"]}
    for e in shown["entities_detail"]:
        node = entities[e["entity_id"]]
        assert _value(node, "name") == e["name"]
        assert node["@id"] == f"urn:timeloom:{run_id}/entity/{e['entity_id']}"
        (state,) = node[V + "state"]
        assert len(_in_order(state, "context")) > 0 and V + "valence" in state

    # the timepoints as an ordered list, in the run's order, with their antecedents
    tps = _in_order(top, "timepoints")
    detail = shown["timepoints_detail"]
    assert [_value(t, "timepoint_id") for t in tps] == [t["timepoint_id"] for t in detail]
    assert [_value(t, "title") for t in tps] == [t["title"] for t in detail]
    assert tps[0].get(V + "causal_antecedents", []) == []
    assert [a["@id"] for a in tps[1][V + "causal_antecedents"]] == [tps[0]["@id"]]
    present = {p["@id"] for p in tps[0][V + "present"]}
    assert present == {entities[e]["@id"] for e in detail[0]["entities_present"]}

    turns = [
        (_value(d, "timepoint"), _value(t, "speaker"), _value(t, "text"))
        for d in _nodes(expanded, "Dialog")
        for t in _in_order(d, "turns")
    ]
    want = [
        (
            f"urn:timeloom:{run_id}/timepoint/{t['timepoint_id']}",
            f"urn:timeloom:{run_id}/entity/{d['speaker']}",
            d["content"],
        )
        for t in detail
        for d in t["dialog"]
    ]
    assert want and turns == want

    exposures = _nodes(expanded, "Exposure")
    assert exposures and all(V + "confidence" in k and V + "kind" in k for k in exposures)
    told = [k for k in exposures if V + "source_entity" in k]
    assert told and all(
        _value(k, "source_entity") in {n["@id"] for n in entities.values()} for k in told
    )


def test_provenance_names_the_generator_models_and_cost(exported) -> None:
    _, _, out, _ = exported
    (record,) = _records(out)
    prov = record["provenance"]
    assert prov["generator"]["name"] == "timeloom" and prov["generator"]["version"]
    assert prov["models"] and prov["models"][0]["provider"] == "offline"
    assert prov["usage"]["tokens"] > 0 and prov["usage"]["llm_calls"] > 0
    assert prov["observed"] is False and prov["queries"] == prov["observer_actions"] == []
    assert record["run"]["branch"]["branch_id"] == "main" and record["run"]["mode"] == "forward"


def test_the_content_hash_verifies_and_fails_after_a_change(exported) -> None:
    _, _, out, _ = exported
    (record,) = _records(out)
    assert verify(record)
    # the hash is the stated one: sha256 of the canonical JSON without the hash
    bare = copy.deepcopy(record)
    stated = bare["provenance"].pop("content_hash")
    canonical = json.dumps(bare, sort_keys=True, separators=(",", ":"), ensure_ascii=False)
    assert stated == hashlib.sha256(canonical.encode("utf-8")).hexdigest()

    changed = copy.deepcopy(record)
    changed["dialogs"][0]["turns"][0]["text"] += " (edited)"
    assert not verify(changed)
    tampered = copy.deepcopy(record)
    tampered["entities"][0]["state"]["valence"] = 0.999
    assert not verify(tampered)
    stripped = copy.deepcopy(record)
    del stripped["provenance"]["content_hash"]
    assert not verify(stripped)


def test_the_causal_edges_are_real_and_end_in_the_record(exported) -> None:
    _, _, out, printed = exported
    (record,) = _records(out)
    edges = record["causal_graph"]["edges"]
    assert len(record["timepoints"]) > 1 and edges
    assert printed["edges"] == len(edges)
    assert {e["kind"] for e in edges} >= {"temporal", "knowledge_flow", "causal"}
    ids = {t["@id"] for t in record["timepoints"]}
    ids |= {e["@id"] for e in record["entities"]}
    ids |= {k["@id"] for k in record["knowledge"]}
    ids |= {t["@id"] for d in record["dialogs"] for t in d["turns"]}
    for e in edges:
        assert e["source"] in ids and e["target"] in ids and e["timepoint"] in ids, e
    temporal = [(e["source"], e["target"]) for e in edges if e["kind"] == "temporal"]
    tps = [t["@id"] for t in record["timepoints"]]
    assert temporal == list(itertools.pairwise(tps))
    turn_ids = {t["@id"] for d in record["dialogs"] for t in d["turns"]}
    assert any(e["target"] in turn_ids for e in edges)  # a turn drawing on what it knew


def test_a_fork_gives_one_record_per_branch(exported, tmp_path: Path, capsys) -> None:
    db, run_id, _, _ = exported
    _fork(db, run_id, capsys)
    out = tmp_path / "both.tdf.jsonl"
    printed = _export(db, run_id, out, capsys)
    records = _records(out)
    assert printed["records"] == len(records) == 2
    assert [r["run"]["branch"]["branch_id"] for r in records] == ["main", "b1"]
    main_ids = [t["timepoint_id"] for t in records[0]["timepoints"]]
    fork_ids = [t["timepoint_id"] for t in records[1]["timepoints"]]
    assert main_ids == ["tp01", "tp02", "tp03"]
    assert fork_ids[0] == "tp01" and fork_ids[1:] and all(t.startswith("b1.") for t in fork_ids[1:])
    assert records[1]["run"]["branch"]["intervention"]["kind"] == "inject"
    assert records[1]["run"]["branch"]["fork_timepoint"].endswith("/timepoint/tp01")
    for r in records:
        assert verify(r) and r["causal_graph"]["edges"]
        held = {t["@id"] for t in r["timepoints"]}
        spoken = {d["timepoint"] for d in r["dialogs"]}
        assert spoken <= held
        assert all(k["timepoint"] in held for k in r["knowledge"] if k.get("timepoint"))
        _offline_expand(r)
    assert records[0]["@id"] != records[1]["@id"]


def test_branch_gives_one_record(exported, tmp_path: Path, capsys) -> None:
    db, run_id, _, _ = exported
    _fork(db, run_id, capsys)
    out = tmp_path / "b1.tdf.jsonl"
    printed = _export(db, run_id, out, capsys, "--branch", "b1")
    (record,) = _records(out)
    assert printed["records"] == 1
    assert record["run"]["branch"]["branch_id"] == "b1"
    assert record["provenance"]["selection"]["branch"] == "b1"
    ids = [t["timepoint_id"] for t in record["timepoints"]]
    assert ids[0] == "tp01" and "tp02" not in ids and ids[-1].startswith("b1.")
    assert verify(record)


def test_a_portal_run_gives_one_record_per_kept_path(tmp_path: Path, capsys) -> None:
    db = tmp_path / "portal.db"
    run_id = _run(db, capsys, "fennick_bakery", seed=5)
    out = tmp_path / "portal.tdf.jsonl"
    printed = _export(db, run_id, out, capsys)
    records = _records(out)
    branches = [r["run"]["branch"]["branch_id"] for r in records]
    assert printed["records"] == len(records) > 1
    assert branches == [f"p{i}" for i in range(1, len(records) + 1)]
    for r in records:
        assert r["run"]["mode"] == "portal" and r["run"]["portal_path"]["rank"] >= 1
        assert {t["branch"] for t in r["timepoints"]} == {r["run"]["branch"]["branch_id"]}
        assert verify(r) and r["causal_graph"]["edges"]


def _selection(db: Path, run_id: str):
    import asyncio

    from engine.export import select
    from engine.store import Store

    async def read():
        store = await Store.open(db)
        try:
            view = await store.load_view(run_id, everything=True)
            summary = await store.get_run(run_id)
            calls = await store.read_call_models(run_id)
        finally:
            await store.close()
        return select(view, summary, calls=calls, registry=None)

    return asyncio.run(read())


def test_the_streamed_record_is_the_record_built_whole(exported, capsys) -> None:
    """The file is written a piece at a time (never whole in memory); what it holds is what
    building the record whole gives, key for key, and both verify."""
    from engine.export.tdf import tdf_records

    db, run_id, out, _ = exported
    (built,) = tdf_records(_selection(db, run_id))
    (streamed,) = _records(out)
    assert verify(built) and verify(streamed)
    assert built == streamed
    assert len(out.read_text(encoding="utf-8").splitlines()) == 1


def _floats(value: Any) -> list[float]:
    if isinstance(value, float):
        return [value]
    if isinstance(value, dict):
        return [f for v in value.values() for f in _floats(v)]
    if isinstance(value, list | tuple):
        return [f for v in value for f in _floats(v)]
    return []


def test_the_long_sections_are_encoded_exactly_as_the_canonical_json(exported) -> None:
    """Turns, edges and exposures go through the fast encoder; its text must be the canonical
    text the hash is defined over, byte for byte, and every float in them must be one the
    two spell alike (or marked to be spelled as Python does)."""
    from engine.export.tdf import _lines, _Record
    from engine.export.tdf_ids import Spelled, canonical_groups, canonical_text

    db, run_id, _, _ = exported
    sel = _selection(db, run_id)
    (branch, line), *_ = _lines(sel)
    part = _Record(sel, branch, line)
    sections = {"edges": list(part.edges()), "dialogs": list(part.dialogs())}
    sections["exposures"] = list(part.exposures())
    for name, items in sections.items():
        assert items, name
        fast = b",".join(encoded for _, encoded in canonical_groups(items, size=7))
        assert fast.decode() == canonical_text(items)[1:-1], name
        for f in _floats(items):
            assert f == 0 or abs(f) >= 1e-4 or isinstance(f, Spelled), (name, f)


def test_a_tiny_confidence_is_written_as_the_hash_expects(exported, monkeypatch) -> None:
    """orjson writes 0.00005 as 5e-5 where Python's json writes 5e-05: a float that small is
    written in Python's spelling, so the record still verifies."""
    import dataclasses

    from engine.export import tdf
    from engine.export.tally import Tally

    db, run_id, _, _ = exported
    sel = _selection(db, run_id)
    exposure = tdf._exposure
    monkeypatch.setattr(
        tdf,
        "_exposure",
        lambda s, ids, k: exposure(s, ids, dataclasses.replace(k, confidence=0.00005)),
    )
    text = b"".join(tdf.tdf_lines(sel, Tally())).decode()
    record = json.loads(text)
    assert verify(record)
    assert '"confidence":5e-05' in text and "5e-5," not in text
    assert {k["confidence"] for k in record["knowledge"] if k["@type"] == "Exposure"} == {5e-05}
