"""Pull one string field out of a JSON object while it is still arriving.

A streamed dialog turn is a JSON object (content, emotional_tone, knowledge_references, ...).
The reader wants to see the spoken words arrive, not braces and keys: :class:`FieldStreamer` is
fed the raw text piece by piece and returns the newly decoded characters of the top-level
``content`` string (or any other field) as soon as they are known. Text before the object
(a code fence, a preamble) is skipped; escapes, including split ``\\uXXXX`` sequences and
surrogate pairs, are decoded exactly as ``json.loads`` would. Only the first occurrence of the
field at the top level is streamed.
"""

from __future__ import annotations

_SIMPLE_ESCAPES = {
    '"': '"',
    "\\": "\\",
    "/": "/",
    "b": "\b",
    "f": "\f",
    "n": "\n",
    "r": "\r",
    "t": "\t",
}


class FieldStreamer:
    def __init__(self, field: str = "content") -> None:
        self.field = field
        self._depth = 0
        self._started = False
        self._in_string = False
        self._escape = False
        self._expect_key = False
        self._string_is_key = False
        self._key_chars: list[str] = []
        self._last_key: str | None = None
        self._streaming = False
        self._done = False
        self._unicode: str | None = None  # hex digits of a \\u escape being read
        self._high_surrogate: int | None = None

    @property
    def done(self) -> bool:
        """True once the whole field value has been read."""
        return self._done

    def feed(self, text: str) -> str:
        out: list[str] = []
        for ch in text:
            self._step(ch, out)
        return "".join(out)

    # ------------------------------------------------------------------ the state machine
    def _step(self, ch: str, out: list[str]) -> None:
        if not self._started:
            if ch == "{":
                self._started = True
                self._depth = 1
                self._expect_key = True
            return
        if self._in_string:
            self._string_char(ch, out)
            return
        if ch == '"':
            self._in_string = True
            self._string_is_key = self._depth == 1 and self._expect_key
            self._key_chars = []
            self._streaming = (
                self._depth == 1
                and not self._string_is_key
                and not self._done
                and self._last_key == self.field
            )
        elif ch in "{[":
            self._depth += 1
        elif ch in "}]":
            self._depth -= 1
        elif ch == "," and self._depth == 1:
            self._expect_key = True
        elif ch == ":" and self._depth == 1:
            self._expect_key = False

    def _string_char(self, ch: str, out: list[str]) -> None:
        if self._unicode is not None:
            self._unicode += ch
            if len(self._unicode) == 4:
                code = int(self._unicode, 16) if _is_hex(self._unicode) else 0xFFFD
                self._unicode = None
                self._emit_code(code, out)
            return
        if self._escape:
            self._escape = False
            if ch == "u":
                self._unicode = ""
                return
            self._emit(_SIMPLE_ESCAPES.get(ch, ch), out)
            return
        if ch == "\\":
            self._escape = True
            return
        if ch == '"':
            self._in_string = False
            self._flush_surrogate(out)
            if self._string_is_key:
                self._last_key = "".join(self._key_chars)
                self._expect_key = False
            elif self._streaming:
                self._streaming = False
                self._done = True
            if not self._string_is_key and self._depth == 1:
                self._last_key = None
            return
        self._emit(ch, out)

    def _emit_code(self, code: int, out: list[str]) -> None:
        if 0xD800 <= code <= 0xDBFF:
            self._flush_surrogate(out)
            self._high_surrogate = code
            return
        if 0xDC00 <= code <= 0xDFFF and self._high_surrogate is not None:
            combined = 0x10000 + ((self._high_surrogate - 0xD800) << 10) + (code - 0xDC00)
            self._high_surrogate = None
            self._emit(chr(combined), out)
            return
        self._emit(chr(code), out)

    def _flush_surrogate(self, out: list[str]) -> None:
        if self._high_surrogate is not None:
            code, self._high_surrogate = self._high_surrogate, None
            self._emit(chr(code), out)

    def _emit(self, text: str, out: list[str]) -> None:
        if self._high_surrogate is not None:
            self._flush_surrogate(out)
        if self._string_is_key:
            self._key_chars.append(text)
        elif self._streaming:
            out.append(text)


def _is_hex(text: str) -> bool:
    return all(c in "0123456789abcdefABCDEF" for c in text)
