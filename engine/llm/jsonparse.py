"""Find the JSON in a model's reply: a fenced block, then the first balanced structure, then
the whole text."""

from __future__ import annotations

import json
import re
from typing import Any

_FENCE = re.compile(r"```(?:json)?\s*\n?(.*?)```", re.DOTALL)


class JSONExtractionError(ValueError):
    pass


def _balanced(text: str) -> str | None:
    start = next((i for i, ch in enumerate(text) if ch in "{["), None)
    if start is None:
        return None
    stack: list[str] = []
    in_string = escaped = False
    for i in range(start, len(text)):
        ch = text[i]
        if in_string:
            if escaped:
                escaped = False
            elif ch == "\\":
                escaped = True
            elif ch == '"':
                in_string = False
            continue
        if ch == '"':
            in_string = True
        elif ch in "{[":
            stack.append("}" if ch == "{" else "]")
        elif ch in "}]":
            if not stack or stack.pop() != ch:
                return None
            if not stack:
                return text[start : i + 1]
    return None


def extract_json(text: str) -> Any:
    candidates: list[str] = [m.group(1).strip() for m in _FENCE.finditer(text)]
    balanced = _balanced(text)
    if balanced:
        candidates.append(balanced)
    candidates.append(text.strip())
    for candidate in candidates:
        try:
            # strict=False: a raw newline inside a string is still the answer (llama.cpp's
            # JSON grammar lets small models write one; 1 reply in 3 of the bundled model)
            return json.loads(candidate, strict=False)
        except (json.JSONDecodeError, RecursionError):  # nested too deep is not an answer
            continue
    raise JSONExtractionError("no valid JSON object was found in the reply")
