"""Text from scenarios and models never brings a control sequence to a terminal: the one
stripper (engine.safety.terminal), the scenario loader and model answers that use it, `show`
and `runs` on a database that holds escape sequences, and the explorer's Content and Text."""

from __future__ import annotations

import json
import re
from pathlib import Path

import pytest
from fuzz_support import ESCAPES, cli, escaped_run, small_scenario
from hypothesis import given, settings
from hypothesis import strategies as st

from engine.safety.terminal import one_line, strip_controls

# What a terminal could obey: ESC, C0 controls but newline and tab, DEL, C1, bidi overrides.
DANGEROUS = re.compile(r"[\x00-\x08\x0b-\x1f\x7f-\x9f\u202a-\u202e\u2066-\u2069]")


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("a\x1b[2Jb", "ab"),  # clear screen
        ("a\x1b]0;title\x07b", "ab"),  # window title, ended by BEL
        ("a\x1b]8;;https://x\x1b\\link\x1b]8;;\x1b\\b", "alinkb"),  # a hyperlink, ended by ST
        ("\x1b[5mblink\x1b[0m", "blink"),
        ("a\x9b31mb", "ab"),  # the 8-bit CSI
        ("a\x1bPq#0;2;0;0;0\x1b\\b", "ab"),  # DCS (sixel)
        ("a\x1bcb", "ab"),  # reset
        ("a\u202eb\u2066c", "abc"),  # direction overrides
        ("one\ntwo\tthree", "one\ntwo\tthree"),  # kept
        ("crlf\r\nline\rover", "crlf\nline\nover"),
        ("nul\x00bell\x07del\x7f", "nulbelldel"),
        ("café — 日本 ✓", "café — 日本 ✓"),  # untouched
        ("cut \x1b[", "cut "),  # a sequence cut short
        ("cut \x1b]0;never ended", "cut "),
    ],
)
def test_the_stripper(text: str, expected: str) -> None:
    assert strip_controls(text) == expected


def test_one_line() -> None:
    assert one_line("a\nb\tc\x1b[2J") == "a b c"


@settings(max_examples=300, deadline=None)
@given(st.text(alphabet=st.characters(codec="utf-8"), max_size=120))
def test_nothing_dangerous_survives_and_stripping_is_idempotent(text: str) -> None:
    out = strip_controls(text)
    assert not DANGEROUS.search(out)
    assert strip_controls(out) == out
    assert not DANGEROUS.search(one_line(text)) and "\n" not in one_line(text)


@settings(max_examples=200, deadline=None)
@given(
    st.text(
        alphabet=st.characters(min_codepoint=0x20, exclude_categories=("Cc", "Cf")), max_size=80
    )
)
def test_printable_text_is_left_as_it_is(text: str) -> None:
    assert strip_controls(text) == text


def test_a_scenario_keeps_its_text_as_written(tmp_path: Path) -> None:
    """Nothing is lost on the way in: the text is stripped where it is shown, not stored."""
    from engine.scenario import load_scenario

    data = small_scenario()
    data["title"] = "Night" + ESCAPES
    path = tmp_path / "s.json"
    path.write_text(json.dumps(data))
    assert load_scenario(str(path)).scenario.title == "Night" + ESCAPES


def test_show_and_runs_print_no_control_sequence(tmp_path: Path) -> None:
    """A database that holds escape sequences (written before they were stripped, or by
    another program): `show`, `show --json` and `runs` print none of them."""
    db = tmp_path / "esc.db"
    run_id = escaped_run(db)
    shown = cli("show", run_id, "--db", str(db))
    assert shown.code == 0, shown.err
    assert "Aldous" in shown.out and "Penrith" in shown.out and "Handover" in shown.out
    assert not DANGEROUS.search(shown.out), repr(DANGEROUS.search(shown.out))
    listed = cli("runs", "--db", str(db))
    assert listed.code == 0 and not DANGEROUS.search(listed.out)
    as_json = cli("show", run_id, "--json", "--db", str(db))
    assert as_json.code == 0 and not DANGEROUS.search(as_json.out)  # JSON escapes them
    # The data itself is kept as it was stored: nothing is lost, only not shown raw.
    assert "\\u001b[2J" in as_json.out


def test_error_messages_are_one_clean_line(tmp_path: Path) -> None:
    out = cli("show", "no\x1b[2Jsuch\nrun", "--db", str(tmp_path / "x.db"))
    assert out.code == 2 and not DANGEROUS.search(out.err)
    assert len(out.err.strip().splitlines()) == 1


def test_the_explorers_content_and_text_strip_what_they_are_given() -> None:
    from tui.widgets.safe import Content, Text

    assert Content("a\x1b[2Jb").plain == "ab"
    assert Content.styled("a\x1b]0;t\x07b", "bold").plain == "ab"
    assert Content.assemble(("x\x9b1my", "dim"), "z\u202e", Content("w")).plain == "xyzw"
    assert Content("\n").join([Content("p\x1b[5m"), Content("q")]).plain == "p\nq"
    assert Text("a\x1b[2Jb").plain == "ab"
    assert Text.assemble(("a\x1b[1m", "bold"), "b\x1b]0;x\x07").plain == "ab"
    text = Text("")
    text.append("c\x1b[2J", "bold")
    assert text.plain == "c"


async def test_the_explorer_shows_an_escaped_run_and_a_bracketed_error(tmp_path: Path) -> None:
    """A run whose text holds escape sequences opens; what its dialog pane renders holds none;
    an error naming "[provider]" with a key in a URL is one scrubbed sentence, not markup."""
    import asyncio

    from tui_support import make_app, settle, wait_until

    from tui.app import StartReplay
    from tui.widgets.dialog import TurnView

    db = tmp_path / "esc.db"
    run_id = await asyncio.to_thread(escaped_run, db)
    app = make_app(db, start=StartReplay(run_id))
    async with app.run_test(size=(140, 40)) as pilot:
        await settle(pilot)
        await wait_until(pilot, lambda: bool(app.screen.query(TurnView)))
        rendered = [str(w.render()) for w in app.screen.query(TurnView)]
        assert any("Aldous" in r for r in rendered)
        assert not any(DANGEROUS.search(r) for r in rendered)
        app.show_error("the [provider] section: cannot reach https://u:pw-SECRET-1@h/v1\x1b[2J")
        await pilot.pause()
        shown = [n.message for n in app._notifications]
        assert "the [provider] section: cannot reach https://***@h/v1" in shown
