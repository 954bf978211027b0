"""Small, deterministic text helpers for the offline generator."""

from __future__ import annotations

import re
from functools import lru_cache

STOPWORDS = frozenset(
    [
        "a",
        "an",
        "the",
        "and",
        "or",
        "but",
        "if",
        "then",
        "than",
        "so",
        "to",
        "of",
        "in",
        "on",
        "at",
        "by",
        "for",
        "with",
        "from",
        "into",
        "onto",
        "over",
        "under",
        "about",
        "after",
        "before",
        "during",
        "since",
        "until",
        "while",
        "as",
        "is",
        "are",
        "was",
        "were",
        "be",
        "been",
        "being",
        "has",
        "have",
        "had",
        "do",
        "does",
        "did",
        "will",
        "would",
        "shall",
        "should",
        "can",
        "could",
        "may",
        "might",
        "must",
        "not",
        "no",
        "nor",
        "this",
        "that",
        "these",
        "those",
        "it",
        "its",
        "it's",
        "they",
        "them",
        "their",
        "there",
        "here",
        "we",
        "our",
        "us",
        "you",
        "your",
        "i",
        "me",
        "my",
        "he",
        "him",
        "his",
        "she",
        "her",
        "who",
        "whom",
        "which",
        "what",
        "when",
        "where",
        "why",
        "how",
        "all",
        "any",
        "each",
        "every",
        "some",
        "such",
        "only",
        "own",
        "same",
        "too",
        "very",
        "just",
        "also",
        "more",
        "most",
        "other",
        "again",
        "once",
        "both",
        "few",
        "up",
        "down",
        "out",
        "off",
        "own",
        "one",
        "two",
        "three",
        "because",
        "through",
        "against",
        "between",
        "each",
        "per",
        "via",
        "yet",
        "still",
        "ever",
        "never",
        "else",
        "someone",
        "anyone",
        "nobody",
        "everyone",
        "something",
        "anything",
        "nothing",
        "everything",
    ]
)

MODALS = frozenset(
    (
        "can could will would shall should must may might cannot to "
        "won't wouldn't can't couldn't shouldn't mustn't isn't aren't wasn't weren't doesn't "
        "don't didn't hasn't haven't hadn't"
    ).split()
)


def _verb_forms(base: str) -> set[str]:
    if base.endswith("e"):
        return {base, base + "s", base + "d", base[:-1] + "ing"}
    if base.endswith("y") and base[-2:-1] not in "aeiou":
        return {base, base[:-1] + "ies", base[:-1] + "ied", base + "ing"}
    if base.endswith(("s", "sh", "ch", "x", "z", "o")):
        return {base, base + "es", base + "ed", base + "ing"}
    return {base, base + "s", base + "ed", base + "ing"}


@lru_cache(maxsize=1)
def common_verbs() -> frozenset[str]:
    """Verb forms that end a noun phrase (data: ``engine/data/offline/verbs.json``)."""
    from .library import verb_table

    data = verb_table()
    forms: set[str] = set(data["irregular"])
    # the irregular pasts too ("the pump fuse blew"), but not one spelled as its verb ("cut",
    # "set") or just as often a noun ("the left bank")
    pasts = {p for b, p in data["past"].items() if p != b} | set(data["participle"])
    forms |= pasts - set(data["also_nouns"]) - set(data["past"])
    for base in data["base"]:
        forms |= _verb_forms(base)
    return frozenset(forms)


# a word, a figure ("18,400", "3.5%") or a clock time ("22:00", kept whole)
from .register import CONTRACTIONS, contract, expand  # noqa: E402,F401  (re-exported)

_WORD = re.compile(r"[A-Za-z0-9](?:[A-Za-z0-9'’\-$.%,]|:(?=\d))*")
_SENTENCE_END = re.compile(r"(?<=[.!?])\s+")


def humanize(item: str) -> str:
    """Turn an identifier such as ``observed_file_downloads`` into words; leave prose alone."""
    text = item.strip()
    if "_" in text and " " not in text:
        words = text.replace("_", " ").strip()
        return f"the {words}"
    return text


def strip_end(text: str) -> str:
    return text.rstrip().rstrip(".!?;:").rstrip()


def lower_first(text: str) -> str:
    """Lower-case the first word when it is an ordinary word (not a name or acronym)."""
    if not text:
        return text
    first = text.split(" ", 1)[0]
    if first.lower() in STOPWORDS and not first.isupper():
        return text[0].lower() + text[1:]
    return text


def upper_first(text: str) -> str:
    return text[:1].upper() + text[1:] if text else text


def first_sentence(text: str) -> str:
    parts = _SENTENCE_END.split(text.strip(), maxsplit=1)
    return parts[0] if parts else text


def main_sentence(text: str, min_words: int = 6) -> str:
    """The first sentence that says something (skips a bare time or place heading)."""
    for sentence in sentences(text):
        if len(sentence.split()) >= min_words:
            return sentence
    return first_sentence(text)


def short_place(location: str) -> str:
    """The first phrase of a location ("Skerrow Rock lighthouse, a granite tower ..." ->
    "Skerrow Rock lighthouse"; "The Corvenne valley: the hall" -> "the Corvenne valley")."""
    place = re.split(r"[,;:(]| - ", location, maxsplit=1)[0].strip()
    return lower_first(place)


def event_core(description: str, time_phrases: tuple[str, ...] = ()) -> str:
    """The sentence of an event description that says what happened, without a leading time
    or place heading."""
    sentence = main_sentence(description)
    low = sentence.lower()
    for phrase in sorted(time_phrases, key=len, reverse=True):
        if low.startswith(phrase.lower()):
            rest = sentence[len(phrase) :].lstrip()
            if rest[:1] in ",:.":
                sentence = rest[1:].lstrip()
            break
    while True:
        head, sep, tail = sentence.partition(": ")
        if not (sep and len(head) < 90 and len(tail.split()) >= 5):
            return sentence
        sentence = tail


def capitalize_sentences(text: str) -> str:
    """Upper-case the first letter after each sentence end."""
    return re.sub(
        r"([.!?]\s+)([a-z])", lambda m: m.group(1) + m.group(2).upper(), upper_first(text)
    )


def sentences(text: str) -> list[str]:
    return [s for s in _SENTENCE_END.split(text.strip()) if s]


def words(text: str) -> list[str]:
    return _WORD.findall(text)


def content_words(text: str) -> list[str]:
    return [w.strip(".,%$").lower() for w in words(text) if w.lower().strip(".,") not in STOPWORDS]


def _is_verbish(token: str) -> bool:
    low = token.lower()
    if low in common_verbs():
        return True
    return len(low) > 4 and (low.endswith("ed") or low.endswith("ing")) and not low[0].isdigit()


def _substantive(run: list[str]) -> bool:
    return any(w[:1].isalpha() and len(w) >= 4 for w in run)


# words of a stretch of time: "the next 60 minutes" is when, not what
_SPANS = frozenset("minutes minute hours hour days weeks months years next".split())
# words that qualify an amount ("at least eighty people"): they start no topic
_QUALIFIERS = frozenset("least most only just nearly almost roughly some".split())
# words that finish a verb or describe a state ("come away sure", "votes short"): no topic
_PARTICLES = frozenset(
    "away back out off up down around along apart together alone sure short wrong right "
    "badly well quiet late early".split()
)
_PREPOSITIONS = frozenset(
    "across along through toward towards behind beyond near within without against among "
    "beside besides inside outside opposite "
    "between past around upon via per despite below above under over".split()
)
ARTICLES = frozenset("a an the his her their its our my your this that these those".split())


def topic(text: str, max_words: int = 4) -> str:
    """A short noun phrase that names what a sentence is about.

    Splits the sentence into runs of content words (stop words, verbs and words after a modal
    break a run; an -ed/-ing word right after an article is kept as an adjective) and picks the
    longest early run. Proper names keep their capitals and get no article.
    """
    text = humanize(text)
    if text.startswith("the ") and "_" not in text and " " in text and len(words(text)) <= 5:
        return strip_end(text)
    tokens = words(text)
    runs: list[tuple[int, list[str]]] = []  # (index of the run's first token, words)
    current: list[str] = []
    start = 0
    previous = ""
    for position, tok in enumerate(tokens):
        clean = tok.strip(".,;:")
        low = clean.lower()
        after_modal = previous in MODALS
        adjective = previous in ARTICLES and low not in common_verbs()
        previous = low
        verbish = _is_verbish(clean) and not adjective
        following = tokens[position + 1] if position + 1 < len(tokens) else ""
        if (
            clean.isalpha()
            and clean.islower()
            and low.endswith("s")
            and not low.endswith("ss")
            and len(low) > 3
            and following[:1].isdigit()
        ):
            verbish = True  # "run 212 lists 480 candles": an -s word before a figure is a verb
        if (
            not clean
            or low in STOPWORDS
            or low in _PREPOSITIONS
            or low in _QUALIFIERS
            or low in _PARTICLES
            or low in MODALS
            or verbish
            or after_modal
        ):
            if current:
                runs.append((start, current))
                current = []
            continue
        if not current:
            start = position
        current.append(clean)
        if tok.endswith((",", ";", ":", ".")):
            runs.append((start, current))
            current = []
    if current:
        runs.append((start, current))
    if not runs:
        return strip_end(text)[:40]
    runs = [r for r in runs if _substantive(r[1])] or runs
    worded = [
        r
        for r in runs
        if any(w[:1].isalpha() for w in r[1])
        and not any(w.lower() in _SPANS for w in r[1])
        and not all(w.lower().endswith("ly") for w in r[1])  # "exactly" names nothing
    ]
    runs = worded or runs  # "161" alone names nothing

    def score(item: tuple[int, tuple[int, list[str]]]) -> float:
        i, (at, run) = item
        common = any(w[:1].islower() for w in run)
        after = at + len(run)
        nxt = tokens[after].strip(".,;:") if after < len(tokens) else ""
        # the sentence's subject, right before its verb ("The Seeschwalbe capsized at …")
        # (a name only after "the": "The Seeschwalbe" is a thing, "Marguerite" a person)
        named_thing = at == 1 and tokens[0].lower() == "the"
        subject = at <= 1 and i == 0 and bool(nxt) and _is_verbish(nxt) and (common or named_thing)
        return min(len(run), 3) * (1.0 if common else 0.6) - 0.45 * i + (0.6 * subject)

    first_token, best = max(enumerate(runs), key=score)[1]
    after = first_token + len(best)
    following = tokens[after].lower().strip(".,;:") if after < len(tokens) else ""
    if (
        len(best) >= 2
        and best[-1][-1:] == "s"
        and best[-1][:1].islower()
        and (following in ARTICLES or following[:1].isdigit() or following in ("to", "that"))
    ):
        best = best[:-1]  # "the tech startup board assumes a rate": the -s word is a verb
    while len(best) > 1 and best[-1].lower().endswith("ly") and best[-1][:1].islower():
        best = best[:-1]  # "the whole estate equally": the adverb is not the thing
    best = best[:max_words]
    owner = next((i for i, w in enumerate(best) if w.endswith(("'s", "’s"))), None)
    named_owner = owner is not None and all(w[:1].isupper() for w in best[: owner + 1])
    if all(w[:1].isupper() or w[:1].isdigit() for w in best) or named_owner:
        # a proper name, or a named person's thing: no article, unless the name has one
        # ("the Seeschwalbe", a ferry)
        had = first_token > 0 and tokens[first_token - 1].lower() == "the" and not named_owner
        return ("the " if had else "") + " ".join(best)
    phrase = " ".join(best)
    # Only a capital that merely starts the sentence is lowered ("Harbor pilots").
    sentence_initial = first_token == 0 and best[0][:1].isupper()
    if sentence_initial and (len(best) == 1 or not best[1][:1].isupper()):
        phrase = phrase[0].lower() + phrase[1:]
    return "the " + phrase


def first_name(name: str) -> str:
    parts = name.split()
    titles = {
        "dr.",
        "dr",
        "mr.",
        "mrs.",
        "ms.",
        "captain",
        "capt.",
        "sister",
        "father",
        "judge",
        "lt.",
        "cmdr.",
        "sgt.",
        "officer",
        "professor",
        "prof.",
        "the",
    }
    if len(parts) > 1 and parts[0].lower() in titles:
        return name if parts[0].lower() == "the" else f"{parts[0]} {parts[-1]}"
    return parts[0] if parts else name


def base_verb(word: str) -> str:
    """``goes`` -> ``go``, ``watches`` -> ``watch``, ``carries`` -> ``carry``, ``takes`` -> ``take``."""
    if word.endswith("ies") and len(word) > 4:
        return word[:-3] + "y"
    if word.endswith(("oes", "shes", "ches", "sses", "xes", "zes")):
        return word[:-2]
    return word[:-1] if word.endswith("s") and not word.endswith("ss") else word


_OBJECT_LEADS = (
    "to|with|for|about|from|at|by|against|told|asked|gave|sent|showed|warned|promised|paid|"
    "offered|met|saw|called|trusted|blamed|thanked|owed|hired|fired|paid"
)


def perspective(text: str, speaker_names: tuple[str, ...], listener_names: tuple[str, ...]) -> str:
    """Rewrite a third-person fact about the speaker (or the listener) in the first (second)
    person: ``Name's``, ``Name was/is/has`` and ``Name <verb>s``."""
    for names, me, my, be_past, be_now in (
        (speaker_names, "I", "my", "was", "am"),
        (listener_names, "you", "your", "were", "are"),
    ):
        for name in sorted({n for n in names if n}, key=len, reverse=True):
            esc = re.escape(name)
            text = re.sub(rf"\b{esc}['’]s\b", my, text)
            text = re.sub(rf"\b{esc} was\b", f"{me} {be_past}", text)
            text = re.sub(rf"\b{esc} is\b", f"{me} {be_now}", text)
            text = re.sub(rf"\b{esc} has\b", f"{me} have", text)
            text = re.sub(
                rf"\b{esc} ([a-z]+s)\b",
                lambda m, me=me: f"{me} {base_verb(m.group(1))}",
                text,
            )
            text = re.sub(rf"^{esc}\b", upper_first(me), text)
            obj = "me" if me == "I" else "you"
            text = re.sub(rf"\b({_OBJECT_LEADS}) {esc}\b", rf"\1 {obj}", text)
    if text.startswith(("my ", "your ")):
        text = upper_first(text)
    return text


def contains_phrase(text: str, phrase: str) -> bool:
    phrase = phrase.strip()
    if not phrase:
        return False
    return re.search(rf"(?<!\w){re.escape(phrase)}(?!\w)", text, flags=re.IGNORECASE) is not None


def shorten(sentence: str, max_words: int) -> str:
    """Cut a long sentence at its last clause boundary (a comma) within ``max_words`` words.

    A sentence with no such boundary is left whole: a cut mid-phrase reads worse than a long
    sentence.
    """
    tokens = sentence.split()
    if len(tokens) <= max_words:
        return sentence
    cut = " ".join(tokens[:max_words])
    comma = cut.rfind(",")
    if comma < 0 or len(cut[:comma].split()) < 4:
        return sentence
    return strip_end(cut[:comma]) + "."
