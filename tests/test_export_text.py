"""``timeloom export --format fountain|markdown``: the screenplay parses back (with screenplain)
into the run's scenes and lines, hostile text included; the report holds every turn, the cast
and where knowledge came from."""

from __future__ import annotations

import io
import json
import re
from datetime import datetime
from pathlib import Path
from types import SimpleNamespace

import pytest

from engine.export.fountain import (
    ZWSP,
    _scene,
    action_paragraphs,
    cue,
    dialogue_lines,
    scene_heading,
)
from engine.export.markdown import md_block, md_escape
from engine.model.records import TimepointInfo, TurnInfo
from tui.cli import main

TEMPLATE = Path(__file__).resolve().parent.parent / "templates" / "lighthouse_night.json"

HOSTILE = [
    "INT. FAKE HOUSE - DAY",
    "ext. the yard",
    "I/E CAR - MOVING",
    "> centered <",
    ">not centred but a transition",
    "CUT TO:",
    "smash cut TO:",
    "!bang",
    "@someone",
    "# a section",
    "### deeper",
    "= a synopsis",
    "~ a lyric",
    "[[a note]] and [[[more]]]",
    "/* boneyard */",
    "an open /* boneyard with no end",
    "ALL CAPS LINE",
    "ALDOUS (V.O.)",
    "===",
    ".forced heading",
    "*italic* and **bold** and \\*escaped\\*",
    "the end^",
    "trailing two spaces  ",
]


# ---------------------------------------------------------------------------------- helpers
def _run(tmp_path: Path, capsys, scenario: str = "lighthouse_night") -> tuple[Path, dict]:
    db = tmp_path / "runs.db"
    assert main(["run", scenario, "--headless", "--json", "--db", str(db), "--seed", "3"]) == 0
    return db, json.loads(capsys.readouterr().out)


def _export(db: Path, run_id: str, out: Path, fmt: str, capsys, *extra: str) -> dict:
    args = ["export", run_id, "--db", str(db), "-o", str(out), "--format", fmt, "--json"]
    assert main([*args, *extra]) == 0
    return json.loads(capsys.readouterr().out)


def _show(db: Path, run_id: str, capsys) -> dict:
    assert main(["show", run_id, "--db", str(db), "--json"]) == 0
    return json.loads(capsys.readouterr().out)


def _hostile_scenario(tmp_path: Path) -> Path:
    """The lighthouse two-hander with names, knowledge and a beat that look like Fountain and
    Markdown syntax (the offline composer quotes knowledge in its dialogue)."""
    d = json.loads(TEMPLATE.read_text(encoding="utf-8"))
    d["name"] = "hostile_night"
    d["title"] = "Lighthouse *Night* [[x]] | y"
    d["entities"][0]["name"] = "Int. Aldous *Penrith*"
    d["entities"][1]["name"] = "tomas vey TO:"
    d["entities"][0]["knowledge"][2] = (
        "The schooner [[Marguerite]] /* Ann */ was *due* | at INT. REEF - NIGHT.\n\n"
        "CUT TO:\n> THE END <"
    )
    d["entities"][1]["knowledge"][4] = (
        "EXT. THE GALLERY - NIGHT\n!The glass read *28.6* and @falling ~ #fast\n==="
    )
    for entity in d["entities"]:  # whatever the composer tells, it carries some of it
        entity["resolution"] = "trained"  # all it holds, not what fits a paragraph (M1)
        entity["knowledge"] = [
            k if "\n" in k else f"CUT TO: *the* [[reef]] {k}" for k in entity["knowledge"]
        ]
    d["timeline"]["beats"][0]["title"] = "The | handover *now*"
    d["timeline"]["beats"][0]["hint"] = (
        "INT. LAMP ROOM - DAY\n\nFADE OUT.\n\n> Tomas takes over the watch <\n[[note]] /* bone"
    )
    path = tmp_path / "hostile.json"
    path.write_text(json.dumps(d), encoding="utf-8")
    return path


def _plain(rich) -> str:
    """A parsed screenplain string as the text it stands for: emphasis the parser took for
    underlining put back, the zero-width space that breaks a note opening removed."""
    from screenplain.richstring import Underline

    out = []
    for seg in rich.segments:
        assert seg.styles <= {Underline}, f"unexpected emphasis in {rich!r}"
        out.append(f"_{seg.text}_" if Underline in seg.styles else seg.text)
    return "".join(out).replace(ZWSP, "")


def _parse(text: str):
    fountain = pytest.importorskip("screenplain.parsers.fountain")
    return fountain.parse(io.StringIO(text))


def _dialogs(paragraphs) -> list:
    from screenplain.types import Dialog, DualDialog

    out = []
    for p in paragraphs:
        if isinstance(p, DualDialog):
            out += [p.left, p.right]
        elif isinstance(p, Dialog):
            out.append(p)
    return out


def _speech(content: str) -> str:
    return "\n".join(line.strip() for line in content.strip().splitlines())


def _expected_script(shown: dict) -> tuple[list[str], list[tuple[str, str, str, str]]]:
    names = {e["entity_id"]: e["name"] for e in shown["entities_detail"]}
    scenes = [t["timepoint_id"].upper() for t in shown["timepoints_detail"]]  # slugs are caps
    lines = [
        (t["timepoint_id"].upper(), " ".join(names[d["speaker"]].split()).upper(), d["content"], d)
        for t in shown["timepoints_detail"]
        for d in t["dialog"]
    ]
    return scenes, lines


def _parsed_script(text: str) -> tuple[list[str], list[tuple[str, str, list]]]:
    from screenplain.types import Dialog, DualDialog, Slug

    scenes: list[str] = []
    lines: list[tuple[str, str, list]] = []
    for p in _parse(text).paragraphs:
        if isinstance(p, Slug):
            scenes.append(str(p.scene_number))
        elif isinstance(p, Dialog | DualDialog):
            for d in _dialogs([p]):
                lines.append((scenes[-1], _plain(d.character), d.blocks))
    return scenes, lines


def _check_script(text: str, shown: dict) -> int:
    """The screenplay holds exactly the run's scenes and lines, in order; returns the lines."""
    want_scenes, want_lines = _expected_script(shown)
    got_scenes, got_lines = _parsed_script(text)
    assert got_scenes == want_scenes
    assert len(got_lines) == len(want_lines) > 0
    for (tp, who, blocks), (want_tp, want_who, content, d) in zip(
        got_lines, want_lines, strict=True
    ):
        assert (tp, who) == (want_tp, want_who)
        tone = (d.get("emotional_tone") or "").strip().lower()
        if blocks and blocks[0][0] and tone and _plain(blocks[0][1]) == f"({tone})":
            blocks = blocks[1:]
        assert "\n".join(_plain(b) for _, b in blocks) == _speech(content)
    return len(got_lines)


# ---------------------------------------------------------------------------------- fountain
@pytest.fixture
def lighthouse(tmp_path: Path, capsys):
    db, run = _run(tmp_path, capsys)
    return db, run, _show(db, run["run_id"], capsys)


def test_fountain_parses_back_into_the_runs_scenes_and_lines(lighthouse, tmp_path, capsys):
    db, run, shown = lighthouse
    out = tmp_path / "night.fountain"
    printed = _export(db, run["run_id"], out, "fountain", capsys)
    text = out.read_text(encoding="utf-8")
    assert _check_script(text, shown) == printed["records"] == shown["dialog_turns"]
    assert printed["scenes"] == len(shown["timepoints_detail"]) and printed["format"] == "fountain"
    script = _parse(text)
    assert script.title_page["Title"] == [shown["title"] or shown["scenario"]]
    assert script.title_page["Author"] == ["timeloom"]
    notes = " ".join(script.title_page["Notes"])
    assert run["run_id"] in notes and "seed 3" in notes
    assert "Draft date" in script.title_page
    heading = next(line for line in text.splitlines() if line.startswith(("INT.", "EXT.")))
    assert heading.endswith("NIGHT #tp01#")


def test_fountain_of_a_hostile_run_keeps_every_line(tmp_path: Path, capsys):
    db, run = _run(tmp_path, capsys, str(_hostile_scenario(tmp_path)))
    shown = _show(db, run["run_id"], capsys)
    out = tmp_path / "hostile.fountain"
    printed = _export(db, run["run_id"], out, "fountain", capsys)
    text = out.read_text(encoding="utf-8")
    assert _check_script(text, shown) == printed["records"]
    # the hostile knowledge did reach the dialogue, across lines
    said = [d["content"] for t in shown["timepoints_detail"] for d in t["dialog"]]
    assert any("CUT TO:" in line or "EXT. THE GALLERY" in line for line in said), said
    from screenplain.types import Action, Section, Transition

    paragraphs = _parse(text).paragraphs
    assert not [p for p in paragraphs if isinstance(p, Transition | Section)]
    assert not [p for p in paragraphs if isinstance(p, Action) and p.centered]


@pytest.mark.parametrize("hostile", HOSTILE)
def test_escaping_hostile_text_as_action_and_dialogue(hostile: str):
    from screenplain.types import Action, Dialog, Slug

    text = f"first line\n{hostile}\nlast line"
    body = [".SCENE #s1#", *action_paragraphs(hostile), *action_paragraphs(text)]
    body.append("\n".join([cue("Ann"), *dialogue_lines(f"{hostile}\n\n{hostile}")]))
    body.append("\n".join([cue(hostile), *dialogue_lines(hostile)]))
    script = _parse("Title: t\n\n" + "\n\n".join(body) + "\n")
    kinds = [type(p).__name__ for p in script.paragraphs]
    assert kinds == ["Slug", "Action", "Action", "Dialog", "Dialog"], kinds
    slug, alone, action, spoken, named = script.paragraphs
    assert isinstance(slug, Slug) and str(slug.scene_number) == "S1"
    assert isinstance(alone, Action) and isinstance(action, Action) and not action.centered
    assert [_plain(line) for line in alone.lines] == [hostile.rstrip()]
    assert [_plain(line) for line in action.lines] == [line.rstrip() for line in text.split("\n")]
    assert isinstance(spoken, Dialog) and _plain(spoken.character) == "ANN"
    assert [_plain(b) for _, b in spoken.blocks] == [hostile.strip(), "", hostile.strip()]
    assert _plain(named.character) == " ".join(hostile.split()).upper().rstrip("^ ")
    assert [_plain(b) for _, b in named.blocks] == [hostile.strip()]


def test_degraded_timepoint_gets_a_note_and_headings_are_recognised():
    when = datetime(1911, 11, 3, 6, 30)
    tp = TimepointInfo(
        "tp09", "main", 8, when, "..A *bad* night", "It went wrong.", ("a",), 0.5, 0.4,
        "degraded", ("the model timed out ]] twice",), None,
    )  # fmt: skip
    turn = TurnInfo("d1", 0, "tp09", "a", "INT. NOT A HEADING", emotional_tone="a very long "
                    "and winding emotional description")  # fmt: skip
    view = SimpleNamespace(scene=lambda _: None, entities={})
    sel = SimpleNamespace(view=view)
    text = _scene(sel, tp, [turn])
    assert "[[degraded: degraded: the model timed out ] ] twice]]" in text
    assert scene_heading(sel, tp) == ".A \\*BAD\\* NIGHT - DAWN #tp09#"
    paragraphs = _parse("Title: t\n\n" + text).paragraphs
    assert [type(p).__name__ for p in paragraphs] == ["Slug", "Action", "Dialog"]
    slug, _, dialog = paragraphs
    assert _plain(slug.line) == "A *BAD* NIGHT - DAWN" and slug.synopsis
    assert [_plain(b) for _, b in dialog.blocks] == ["INT. NOT A HEADING"]  # long tone left out


# ---------------------------------------------------------------------------------- markdown
def _md_tokens(text: str):
    from markdown_it import MarkdownIt

    return MarkdownIt("commonmark").enable("table").parse(text)


def _inline_text(token) -> str:
    out = []
    for child in token.children or ():
        if child.type in ("text", "code_inline"):
            out.append(child.content)
        elif child.type in ("softbreak", "hardbreak"):
            out.append("\n")
    return "".join(out)


def _paragraphs(text: str) -> list[str]:
    tokens = _md_tokens(text)
    return [
        _inline_text(tokens[i + 1])
        for i, t in enumerate(tokens)
        if t.type == "paragraph_open" and not t.hidden
    ]


def _section(text: str, title: str) -> str:
    start = text.index(f"\n## {title}\n")
    end = text.find("\n## ", start + 1)
    return text[start : end if end != -1 else len(text)]


def _spoken(shown: dict) -> list[tuple[str, str]]:
    """(speaker, text) of every turn; a report paragraph keeps line breaks, not blank lines."""
    names = {e["entity_id"]: e["name"] for e in shown["entities_detail"]}
    return [
        (" ".join(names[d["speaker"]].split()), re.sub(r"\n+", "\n", _speech(d["content"])))
        for t in shown["timepoints_detail"]
        for d in t["dialog"]
    ]


def _turns(text: str) -> list[tuple[str, str]]:
    """The Dialog section's turns: paragraphs opening with a speaker in bold, as (speaker,
    what follows the first ": ")."""
    tokens = _md_tokens(_section(text, "Dialog"))
    out = []
    for i, t in enumerate(tokens):
        if t.type != "inline" or tokens[i - 1].type != "paragraph_open":
            continue
        kids = [k for k in t.children or () if k.type != "text" or k.content]
        if not kids or kids[0].type != "strong_open":
            continue
        close = next(j for j, k in enumerate(kids) if k.type == "strong_close")
        rest = _inline_text(SimpleNamespace(children=kids[close + 1 :]))
        said = re.match(r"^(?: \([^)]*\))?: (.*)$", rest, re.S)
        out.append((kids[1].content, said.group(1) if said else rest))
    return out


def _check_turns(text: str, shown: dict) -> None:
    assert _turns(text) == _spoken(shown)


def test_markdown_report_holds_turns_cast_and_provenance(lighthouse, tmp_path, capsys):
    db, run, shown = lighthouse
    out = tmp_path / "night.md"
    printed = _export(db, run["run_id"], out, "markdown", capsys)
    text = out.read_text(encoding="utf-8")
    assert printed["records"] == shown["dialog_turns"] == len(_spoken(shown))
    _check_turns(text, shown)
    cast = _section(text, "Cast")
    for e in shown["entities_detail"]:
        block = cast.split(f"### {md_escape(e['name'])}\n", 1)[1].split("\n### ", 1)[0]
        assert re.search(r"^- Final state \(at tp\d+\): valence [+-]\d\.\d\d, arousal", block, re.M)
        assert f"- Role: {md_escape(e['role'])}" in block
    provenance = _section(text, "Knowledge provenance")
    names = [e["name"] for e in shown["entities_detail"]]
    chains = [
        line
        for line in provenance.splitlines()
        if any(f"told by {n} at tp" in line for n in names) and ", who " in line
    ]
    assert chains, "no provenance chain follows a telling back to its source"
    summary = _section(text, "Summary")
    assert run["run_id"] in summary and "| Seed | 3 |" in summary
    assert "offline/offline-composer-1" in summary and "| Training-safe | yes |" in summary
    assert "## Timeline" in text and "## Fidelity" in text and "## Cost" in text


def test_markdown_entities_restricts_the_dialog(lighthouse, tmp_path, capsys):
    db, run, shown = lighthouse
    speaker = shown["timepoints_detail"][0]["dialog"][0]["speaker"]
    name = next(e["name"] for e in shown["entities_detail"] if e["entity_id"] == speaker)
    out = tmp_path / "one.md"
    printed = _export(db, run["run_id"], out, "markdown", capsys, "--entities", speaker)
    text = out.read_text(encoding="utf-8")
    mine = sum(
        1 for t in shown["timepoints_detail"] for d in t["dialog"] if d["speaker"] == speaker
    )
    assert printed["records"] == mine < shown["dialog_turns"]
    turns = _turns(text)
    assert len(turns) == mine and {who for who, _ in turns} == {name}


def test_markdown_of_a_hostile_run_renders_text_as_text(tmp_path: Path, capsys):
    db, run = _run(tmp_path, capsys, str(_hostile_scenario(tmp_path)))
    shown = _show(db, run["run_id"], capsys)
    out = tmp_path / "hostile.md"
    _export(db, run["run_id"], out, "markdown", capsys)
    text = out.read_text(encoding="utf-8")
    _check_turns(text, shown)
    tokens = _md_tokens(_section(text, "Timeline"))
    rows = [i for i, t in enumerate(tokens) if t.type == "tr_open"]
    assert len(rows) == len(shown["timepoints_detail"]) + 1
    table = next(i for i, t in enumerate(tokens) if t.type == "table_open")
    cells = [_inline_text(t) for t in tokens[table:] if t.type == "inline"]
    assert "The | handover *now*" in cells and len(cells) == 5 * len(rows)
    assert _inline_text(_md_tokens(text)[1]) == "Lighthouse *Night* [[x]] | y"


@pytest.mark.parametrize("hostile", [*HOSTILE, "- a list?", "1. a list?", "<b>html</b> &amp;"])
def test_markdown_escaping(hostile: str):
    assert _paragraphs(f"x {md_escape(hostile)}") == [f"x {' '.join(hostile.split())}"]
    assert _paragraphs(md_block(hostile)) == [hostile.strip()]
