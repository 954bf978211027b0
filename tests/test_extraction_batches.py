"""Knowledge extraction follows fidelity (M1, M19): below TRAINED a dialog is read once it is
over, a call for up to twelve turns, each item naming the turn that conveyed it; with someone
TRAINED listening every turn has its own call. Either way an item keeps its speaker, moment
and turn, a failed call is recorded for each of its turns, and an item naming no turn of its
call is reported and not recorded."""

from __future__ import annotations

import json
from pathlib import Path
from random import Random

from conftest import TEMPLATES, ScriptedProvider, run_scenario

from engine.llm.contexts import DialogExtractionContext, EntityBrief, ScenarioBrief, TurnBrief
from engine.llm.offline.extraction import generate_extraction
from engine.llm.prompts import render
from engine.llm.protocol import ActionType, LLMRequest
from engine.llm.schema import bounded_schema, longest_answer, unbounded
from engine.model import events as ev
from engine.model.responses import DialogExtractionResponse, TurnKnowledgeItem
from engine.steps.extraction import DIALOG_ANSWER_TOKENS, TURNS_PER_CALL


def of(events, kind):
    return [e for e in events if isinstance(e, kind)]


def _extractions(events) -> list[ev.LLMCallFinished]:
    return [c for c in of(events, ev.LLMCallFinished) if c.action == "knowledge_extraction"]


def _pinned(tmp_path: Path, levels: dict[str, str] | str) -> str:
    data = json.loads((TEMPLATES / "vintners_council.json").read_text())
    for entity in data["entities"]:
        entity["resolution"] = levels if isinstance(levels, str) else levels.get(entity["id"])
    path = tmp_path / "pinned.json"
    path.write_text(json.dumps(data))
    return str(path)


async def test_below_trained_a_dialog_is_read_in_one_call_and_items_keep_their_turn(
    store, tmp_path
) -> None:
    summary, events = await run_scenario(_pinned(tmp_path, "dialog"), store)
    assert summary.status.value == "completed"
    dialogs = of(events, ev.DialogFinished)
    calls = _extractions(events)
    turns = of(events, ev.DialogTurnFinished)
    assert dialogs and len(calls) == sum(-(-d.turn_count // TURNS_PER_CALL) for d in dialogs)
    assert len(calls) < len(turns)
    assert all(c.entity_id is None and c.status.value == "ok" for c in calls)
    by_turn = {(t.turn.dialog_id, t.turn.turn_index): t.turn for t in turns}
    told = [x.exposure for x in of(events, ev.ExposureRecorded) if x.exposure.kind == "told"]
    assert told, "what was said reached the listeners"
    names = {e.profile.entity_id: e.profile.name for e in of(events, ev.EntityCreated)}
    for x in told:
        turn = by_turn[(x.dialog_id, x.turn_index)]
        assert x.source in (turn.speaker, names.get(turn.speaker)), (x, turn.speaker)
        assert x.entity_id != turn.speaker and x.timestamp == turn.timestamp
    # an item a speaker drew on lands on the turn that drew on it
    drawn = {
        (t.dialog_id, t.turn_index, r) for t in by_turn.values() for r in t.knowledge_references
    }
    assert any((x.dialog_id, x.turn_index, x.information) in drawn for x in told)


async def test_with_everyone_trained_every_turn_has_its_own_call(store, tmp_path) -> None:
    _summary, events = await run_scenario(_pinned(tmp_path, "trained"), store)
    calls = _extractions(events)
    turns = of(events, ev.DialogTurnFinished)
    assert len(calls) == len(turns) > len(of(events, ev.DialogFinished))
    assert {c.entity_id for c in calls} <= {t.turn.speaker for t in turns}
    assert all(c.entity_id is not None for c in calls)


async def test_a_failed_dialog_read_is_recorded_for_each_of_its_turns(store, tmp_path) -> None:
    def fails(request: LLMRequest, _n: int) -> bool:
        ctx = request.context
        return isinstance(ctx, DialogExtractionContext) and ctx.timepoint_id == "tp02"

    summary, events = await run_scenario(
        _pinned(tmp_path, "dialog"), store, provider=ScriptedProvider(0, fail=fails)
    )
    assert summary.status.value == "completed"
    failed = of(events, ev.KnowledgeExtractionFailed)
    at = {d.dialog_id: d.timepoint_id for d in of(events, ev.DialogStarted)}
    tp02 = [t.turn for t in of(events, ev.DialogTurnFinished) if at[t.turn.dialog_id] == "tp02"]
    assert {(f.dialog_id, f.turn_index) for f in failed} == {
        (t.dialog_id, t.turn_index) for t in tp02
    }
    done = next(e for e in of(events, ev.TimepointCompleted) if e.timepoint_id == "tp02")
    assert done.status.value == "degraded"
    assert any("knowledge extraction failed" in i for i in done.issues)
    told = [x.exposure for x in of(events, ev.ExposureRecorded) if x.exposure.kind == "told"]
    assert not [x for x in told if x.timepoint_id == "tp02"]
    assert [x for x in told if x.timepoint_id == "tp01"], "the other dialogs were read"


async def test_an_item_naming_no_turn_of_its_call_is_reported_not_recorded(store, tmp_path) -> None:
    def edit(request: LLMRequest, parsed):
        if not isinstance(parsed, DialogExtractionResponse) or not parsed.items:
            return parsed
        stray = parsed.items[0].model_copy(update={"turn": 60, "content": "A stray claim."})
        return parsed.model_copy(update={"items": (*parsed.items, stray)})

    _summary, events = await run_scenario(
        _pinned(tmp_path, "dialog"), store, provider=ScriptedProvider(0, edit=edit)
    )
    reported = [v for v in of(events, ev.ValidationReported) if v.validator == "extraction_turn"]
    assert reported and all(not v.valid and "turn 60" in v.violations[0] for v in reported)
    assert all(v.action == "item not recorded" for v in reported)
    told = {x.exposure.information for x in of(events, ev.ExposureRecorded)}
    assert "A stray claim." not in told


def _context(**kw) -> DialogExtractionContext:
    people = [
        EntityBrief(entity_id="ana", name="Ana Roux", role="grower"),
        EntityBrief(entity_id="luc", name="Luc Vidal", role="cooper"),
        EntityBrief(entity_id="rose", name="Rose Blanc", role="clerk"),
    ]
    turns = (
        TurnBrief(
            turn_index=0,
            speaker_id="ana",
            speaker_name="Ana Roux",
            content="The cellar roof leaks over the third row of barrels.",
            knowledge_references=("The cellar roof leaks over the third row of barrels.",),
        ),
        TurnBrief(
            turn_index=1,
            speaker_id="luc",
            speaker_name="Luc Vidal",
            content="I have decided that we sell the old press before the harvest.",
        ),
    )
    base = {
        "scenario": ScenarioBrief(
            name="t", title="Test", description="A test.", location="A cellar"
        ),
        "timepoint_id": "tp01",
        "turns": turns,
        "listeners": tuple(people),
        "known_by_listeners": {"rose": (), "luc": (), "ana": ()},
        "speaker_tics": {"luc": ("mind you",)},
    }
    return DialogExtractionContext(**{**base, **kw})


def test_the_prompt_numbers_the_turns_and_names_who_listens() -> None:
    _system, user = (m.content for m in render(ActionType.KNOWLEDGE_EXTRACTION, _context()))
    assert '1. Ana Roux (ana): "The cellar roof leaks' in user
    assert '2. Luc Vidal (luc): "I have decided' in user
    assert "drew on: The cellar roof leaks" in user
    assert "Rose Blanc (rose)" in user and "Luc Vidal's verbal tics" not in user
    assert "luc's verbal tics (habits, not content): mind you" in user
    assert "number of the turn" in user


def test_what_several_listeners_know_is_written_once_with_who_knows_it() -> None:
    """Listeners present together witnessed the same events: an item several of them hold is
    one line naming them (all of them, all but a few, or the few), and each listener's own
    items follow; a listener who holds nothing is said to."""
    event = "At dusk the frost came down on the lower parcels and the fires were lit."
    vote = "The council votes at midnight."
    known = {
        "ana": (event, vote, "Ana keeps the tally for row 6."),
        "luc": (event, vote),
        "rose": (event,),
        "max": (),
        "ida": ("Ida saw the car.", "Ida saw the car."),  # told twice: still one item
    }
    context = _context(known_by_listeners=known)
    user = render(ActionType.KNOWLEDGE_EXTRACTION, context)[1].content
    held = user.split("What the listeners already know:\n", 1)[1].split("\n\n", 1)[0]
    assert held.count(event) == 1 and held.count(vote) == 1
    assert f"- all of them but max, ida: {event}" in held
    assert "- ida: Ida saw the car.\n" in held + "\n" and held.count("Ida saw the car.") == 1
    assert f"- ana, luc: {vote}" in held
    assert "- ana: Ana keeps the tally for row 6." in held
    assert "- max: nothing recorded" in held
    assert "- luc:" not in held and "- rose:" not in held  # all they hold is written above


async def test_a_crowd_of_trained_listeners_costs_each_shared_item_once(store, tmp_path) -> None:
    """With everyone TRAINED, each turn's extraction lists what its many listeners hold: an
    item several hold (the events they all witnessed) is written once, so the call grows
    with what is known, not with how many listen."""
    from engine.llm.offline import OfflineProvider

    data = json.loads((TEMPLATES / "vintners_council.json").read_text())
    for entity in data["entities"]:
        entity["resolution"] = "trained"
    path = tmp_path / "trained.json"
    path.write_text(json.dumps(data))
    seen: list[tuple[str, dict]] = []

    class Recording(OfflineProvider):
        def _answer(self, request):  # type: ignore[no-untyped-def]
            if request.action == ActionType.KNOWLEDGE_EXTRACTION:
                user = render(request.action, request.context)[1].content
                seen.append((user, request.context.known_by_listeners))
            return super()._answer(request)

    await run_scenario(str(path), store, provider=Recording(0))
    crowded = [(u, known) for u, known in seen if len(known) >= 5]
    assert crowded, "the council's turns are heard by most of the cast"
    shared = 0
    for user, known in crowded:
        held = user.split("What the listeners already know:\n", 1)[1].split("\n\n", 1)[0]
        for item in {item for items in known.values() for item in items}:
            assert held.count(item) == 1, item
            shared += sum(item in items for items in known.values()) > 1
    assert shared, "listeners present together hold the events they witnessed"


def test_offline_items_name_their_turn_and_never_tell_a_speaker_what_they_said() -> None:
    answer = generate_extraction(_context(), Random(1))
    assert isinstance(answer, DialogExtractionResponse) and answer.items
    assert all(isinstance(i, TurnKnowledgeItem) and i.turn in (1, 2) for i in answer.items)
    leak = next(i for i in answer.items if i.content.startswith("The cellar roof"))
    assert leak.turn == 1 and "ana" not in leak.listeners and set(leak.listeners) == {"luc", "rose"}
    decision = [i for i in answer.items if i.turn == 2]
    assert decision and all("luc" not in i.listeners for i in decision)
    assert generate_extraction(_context(), Random(1)) == answer, "deterministic for a seed"
    known = _context(
        known_by_listeners={"luc": (answer.items[0].content,), "rose": (answer.items[0].content,)}
    )
    again = generate_extraction(known, Random(1))
    assert not [i for i in again.items if i.content == answer.items[0].content and i.turn == 1]


def test_a_whole_dialogs_answer_is_bounded_and_fits_its_call() -> None:
    """A grammar-constrained decoder can always close the object within the call's tokens
    (about four characters a token), and the schema lets every turn of a call give an item."""
    schema = bounded_schema(DialogExtractionResponse)
    assert unbounded(schema) == []
    assert schema["properties"]["items"]["maxItems"] >= TURNS_PER_CALL
    assert longest_answer(schema) <= 4 * DIALOG_ANSWER_TOKENS
