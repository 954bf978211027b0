"""Text from scenarios and models made safe for a terminal: the one place that strips control
sequences (the command line's plain output and the explorer both use it).

A scenario file or a model can hold bytes a terminal obeys: ``ESC [2J`` clears the screen,
``ESC ]0;...BEL`` sets the window title, ``ESC [5m`` blinks, a C1 ``CSI`` (U+009B) does what
``ESC [`` does, and direction overrides (U+202E) reorder what follows. :func:`strip_controls`
drops every escape sequence whole (CSI, OSC, DCS/SOS/PM/APC strings, two-byte ones) and every
other C0 or C1 control character except the newline and the tab; :func:`one_line` also turns
line breaks and tabs into spaces. No UI library here: Rich markup is escaped by the explorer.
"""

from __future__ import annotations

import re

# A whole escape sequence: CSI (colours, cursor moves, clear), OSC (titles, links) ended by BEL
# or ST (or by nothing, when the text is cut), DCS/SOS/PM/APC strings, or a two-byte one; and
# the 8-bit forms of CSI and OSC.
_ESCAPES = re.compile(
    r"\x1b\[[0-?]*[ -/]*[@-~]?"
    r"|\x1b[\]PX^_][^\x07\x1b\x9c]*(?:\x07|\x1b\\|\x9c)?"
    r"|\x1b[ -/]*[0-~]?"
    r"|\x9b[0-?]*[ -/]*[@-~]?"
    r"|[\x9d\x90\x98\x9e\x9f][^\x07\x1b\x9c]*(?:\x07|\x1b\\|\x9c)?"
)
# C0 controls but tab and newline, DEL, C1 controls; direction overrides and isolates.
_CONTROLS = re.compile(r"[\x00-\x08\x0b-\x1f\x7f-\x9f\u202a-\u202e\u2066-\u2069]")


def strip_controls(text: str) -> str:
    """``text`` without escape sequences and control characters; newlines and tabs kept (a
    carriage return before a newline goes, one on its own becomes a newline)."""
    if not _CONTROLS.search(text):
        return text  # the common case: nothing to do
    text = _ESCAPES.sub("", text)
    text = text.replace("\r\n", "\n").replace("\r", "\n")
    return _CONTROLS.sub("", text)


def one_line(text: str) -> str:
    """:func:`strip_controls`, with line breaks and tabs turned into spaces: one line of a
    terminal."""
    text = strip_controls(text)
    if "\n" in text or "\t" in text:
        text = text.replace("\n", " ").replace("\t", " ")
    return text
