"""One token estimator for every call, so that cost comparisons between runs are fair."""

from __future__ import annotations

from collections.abc import Iterable

from .protocol import Message

MESSAGE_OVERHEAD = 4


def estimate_tokens(text: str) -> int:
    """About four characters a token, never less than one for non-empty text."""
    if not text:
        return 0
    return max(1, (len(text) + 3) // 4)


def estimate_prompt_tokens(messages: Iterable[Message]) -> int:
    return sum(estimate_tokens(m.content) + MESSAGE_OVERHEAD for m in messages)
