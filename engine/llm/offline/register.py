"""Register: contractions for a casual voice ("do not" -> "don't") and their expansion for a
formal one, with the cases where English does not allow either ("here it is.", "don't
you", "it's been")."""

from __future__ import annotations

import re


def _cap(phrase: str) -> str:
    """The phrase as it starts a sentence ("do not" -> "Do not"; "I am" stays)."""
    return phrase.capitalize()


CONTRACTIONS = (
    ("do not", "don't"),
    ("does not", "doesn't"),
    ("did not", "didn't"),
    ("is not", "isn't"),
    ("are not", "aren't"),
    ("was not", "wasn't"),
    ("were not", "weren't"),
    ("cannot", "can't"),
    ("will not", "won't"),
    ("would not", "wouldn't"),
    ("should not", "shouldn't"),
    ("could not", "couldn't"),
    ("have not", "haven't"),
    ("has not", "hasn't"),
    ("I am", "I'm"),
    ("we are", "we're"),
    ("you are", "you're"),
    ("they are", "they're"),
    ("it is", "it's"),
    ("that is", "that's"),
    ("there is", "there's"),
    ("I have", "I've"),
    ("we have", "we've"),
    ("I will", "I'll"),
    ("we will", "we'll"),
    ("let us", "let's"),
)


# "here it is." stays: a pronoun and "is" at the end of a clause do not contract
_CLAUSE_END = r"(?!\s*[.,;:!?]|\s*$)"
_CONTRACT = [(re.compile(rf"\b{full}\b{_CLAUSE_END}"), short) for full, short in CONTRACTIONS] + [
    (re.compile(rf"\b{_cap(full)}\b{_CLAUSE_END}"), _cap(short)) for full, short in CONTRACTIONS
]
# "Don't you dare" and "isn't it?" are not expanded: "do not you" is not English.
_INVERTED = r"(?!\s+(?:you|I|we|they|he|she|it|there)\b)"


def _expander(short: str) -> re.Pattern[str]:
    guard = _INVERTED if short.endswith("n't") else ""
    return re.compile(rf"\b{re.escape(short)}\b{guard}")


_EXPAND = [(_expander(short), full) for full, short in CONTRACTIONS] + [
    (_expander(_cap(short)), _cap(full)) for full, short in CONTRACTIONS
]


def contract(text: str) -> str:
    for pattern, short in _CONTRACT:
        text = pattern.sub(short, text)
    return text


_HAS = re.compile(r"\b(it|that|there|he|she|who|what)['’]s (been|got|gone|had)\b", re.I)


def expand(text: str) -> str:
    if "'" not in text:
        return text
    text = _HAS.sub(r"\1 has \2", text)  # "it's been" is "it has been", not "it is been"
    for pattern, full in _EXPAND:
        text = pattern.sub(full, text)
    return text
