"""A Fountain screenplay of a selection: a title page, then one scene per timepoint (a heading
built from the scene's place and the hour, the event as action, the turns as dialogue).

Everything the run wrote is escaped so a Fountain parser reads it back as what it is: a line
of action that happens to look like a heading, a transition, centred text, a cue or a section
is forced to action with ``!``; a cue the parser would not take for a character name is forced
with ``@``; ``*`` is written ``\\*``; and the opening of a note (two ``[``) is broken with a
zero-width space, the one change to the text that Fountain leaves no other way to make.
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from datetime import datetime

from ..model.records import TimepointInfo, TurnInfo
from .selection import Selection
from .tally import Tally

ZWSP = "\u200b"
_NOTE_OPEN = re.compile(r"\[(?=\[)")
_SLUG_START = re.compile(r"^(INT|EXT|EST|INT\.?/EXT\.?|I/E)[ .]")
_SCENE_NUMBER = re.compile(r"^[\w\-.]+$")
_OUTSIDE = re.compile(
    r"\b(beach|shore|deck|quay|pier|dock|harbou?r|street|road|lane|square|garden|yard|"
    r"courtyard|field|meadow|forest|woods?|cliffs?|hill|mountain|river|lake|sea|coast|reef|"
    r"rooftop|roof|outside|outdoors|park|camp|desert|bridge|platform|gallery)\b",
    re.IGNORECASE,
)
# what the first character of a line may not be when it is meant as plain action or a name
_MARKUP_START = "!@#=~>.[/("
TONE_MAX = 24


def escape_inline(text: str) -> str:
    """Text safe inside any Fountain line: emphasis stars, notes and boneyard neutralised."""
    return _NOTE_OPEN.sub("[" + ZWSP, text.replace("*", "\\*"))


def _one_line(text: str) -> str:
    return " ".join(text.split())


def _looks_like_markup(line: str) -> bool:
    """Whether a line, standing where action or a name belongs, could be read as anything
    else: a heading, transition, centred text, cue, section, synopsis, lyric, note..."""
    s = line.strip()
    if not s:
        return False
    if s[0] in _MARKUP_START or s.endswith(("TO:", "<", "^")):
        return True
    if _SLUG_START.match(s.upper()):
        return True
    return s.split("(", 1)[0].isupper() or s.isupper()


def action_paragraphs(text: str) -> list[str]:
    """Action text as Fountain paragraphs (blank lines split them), every risky line forced
    with ``!`` (the parser removes exactly one leading ``!`` of each action line)."""
    lines = text.replace("\r\n", "\n").replace("\r", "\n").split("\n")
    paragraphs: list[list[str]] = [[]]
    for raw in lines:
        line = raw.rstrip()
        if not line.strip():
            if paragraphs[-1]:
                paragraphs.append([])
            continue
        line = escape_inline(line)
        if line.startswith("!") or _looks_like_markup(line):
            line = "!" + line
        paragraphs[-1].append(line)
    return ["\n".join(p) for p in paragraphs if p]


def cue(name: str) -> str:
    """A character cue: the name in capitals, forced with ``@`` when a parser would not
    recognise it as one (no capitals, a markup character first, a heading's shape...)."""
    text = escape_inline(_one_line(name).upper()).rstrip("^ ") or "?"
    return "@" + text if _forced_name(text) else text


def _forced_name(text: str) -> bool:
    before_paren = text.split("(", 1)[0]
    return (
        not before_paren.isupper()
        or text[0] in _MARKUP_START
        or text.endswith("TO:")
        or bool(_SLUG_START.match(text))
    )


def dialogue_lines(content: str) -> list[str]:
    """Dialogue text as the lines under a cue; a blank line inside is two spaces, which keeps
    the speech going instead of ending it."""
    lines = content.strip().replace("\r\n", "\n").replace("\r", "\n").split("\n")
    return [escape_inline(line.strip()) if line.strip() else "  " for line in lines]


def _tone(turn: TurnInfo) -> str | None:
    tone = _one_line(turn.emotional_tone)
    if not tone or len(tone) > TONE_MAX or "(" in tone or ")" in tone:
        return None
    return f"({escape_inline(tone.lower())})"


def note(text: str) -> str:
    inner = escape_inline(_one_line(text)).replace("]]", "] ]")
    return f"[[{inner}]]"


def time_of_day(at: datetime) -> str:
    h = at.hour
    if 5 <= h < 7:
        return "DAWN"
    if 7 <= h < 12:
        return "MORNING"
    if 12 <= h < 17:
        return "DAY"
    if 17 <= h < 20:
        return "EVENING"
    return "NIGHT"


def scene_heading(sel: Selection, tp: TimepointInfo) -> str:
    """``INT. PLACE - NIGHT #tp03#`` from the scene's location, else a forced heading from the
    title; the timepoint id rides along as the scene number."""
    scene = sel.view.scene(tp.timepoint_id)
    when = time_of_day(tp.timestamp)
    number = f" #{tp.timepoint_id}#" if _SCENE_NUMBER.match(tp.timepoint_id) else ""
    place = _one_line(scene.environment.location).replace("#", "") if scene else ""
    if place:
        inside = "EXT" if _OUTSIDE.search(place) else "INT"
        heading = f"{inside}. {escape_inline(place.upper())} - {when}"
    else:
        title = _one_line(tp.title).replace("#", "").lstrip(". ") or tp.timepoint_id
        heading = f".{escape_inline(title.upper())} - {when}"
    return heading + number


def title_page(sel: Selection) -> str:
    run = sel.run
    title = _one_line(getattr(run, "title", "") or "") or run.scenario
    date = run.started_at.date().isoformat() if run.started_at else ""
    lines = [
        f"Title: {escape_inline(title)}",
        "Credit: simulated by",
        "Author: timeloom",
        f"Draft date: {date}",
        f"Notes: run {run.run_id}, seed {run.seed}, {run.mode.value} mode, "
        f"{run.provider}/{run.model}",
    ]
    return "\n".join(lines) + "\n\n"


def _scene(sel: Selection, tp: TimepointInfo, turns: list[TurnInfo]) -> str:
    blocks = [scene_heading(sel, tp)]
    if tp.title.strip():
        blocks.append("= " + escape_inline(_one_line(tp.title)))
    if tp.status != "ok":
        why = "; ".join(tp.issues) or "no detail recorded"
        blocks.append(note(f"degraded: {tp.status}: {why}"))
    blocks += action_paragraphs(tp.event_description)
    scene = sel.view.scene(tp.timepoint_id)
    if scene is not None:
        blocks += action_paragraphs(scene.atmosphere.description)
    for turn in turns:
        if turn.status != "ok":
            why = "; ".join(turn.issues) or "no detail recorded"
            blocks.append(note(f"degraded turn: {turn.status}: {why}"))
        who = sel.view.entities.get(turn.speaker)
        lines = [cue(who.name if who and who.name.strip() else turn.speaker)]
        tone = _tone(turn)
        if tone:
            lines.append(tone)
        lines += dialogue_lines(turn.content)
        blocks.append("\n".join(lines))
    return "\n\n".join(blocks) + "\n\n"


def fountain_lines(sel: Selection, tally: Tally) -> Iterator[str]:
    """The screenplay, one chunk per timepoint; records are the dialogue turns written."""
    by_tp: dict[str, list[TurnInfo]] = {}
    for turn in sel.turns:
        by_tp.setdefault(turn.timepoint_id, []).append(turn)
    yield title_page(sel)
    for tp in sel.timepoints:
        turns = by_tp.get(tp.timepoint_id, [])
        tally.records += len(turns)
        yield _scene(sel, tp, turns)
    tally.add("scenes", len(sel.timepoints))
