"""The small grammar an offline sentence needs: articles, figures and clock times, capitals and
end marks, and telling a name from an ordinary word at the start of a clause."""

from __future__ import annotations

import re

from . import text as tx


def article(phrase: str) -> str:
    """``a`` or ``an`` before ``phrase`` (by its sound, roughly)."""
    word = phrase.strip().split(" ", 1)[0].lower()
    if not word:
        return "a"
    if word[:1].isdigit():
        return "an" if word.startswith(("8", "11", "18")) else "a"
    if word.startswith(("uni", "use", "usu", "eu", "one", "once")):
        return "a"
    if word.startswith(("hour", "honest", "honour", "heir")):
        return "an"
    return "an" if word[:1] in "aeiou" else "a"


def lower_start(text: str, proper: frozenset[str]) -> str:
    """Lower-case the first word unless it is a name, "I", an acronym or a figure."""
    first = text.split(" ", 1)[0]
    bare = first.strip(",.;:!?'’").removesuffix("'s").removesuffix("’s")
    if not bare or bare == "I" or bare.startswith(("I'", "I’")) or bare.isupper():
        return text
    if bare in proper or bare[:1].isdigit() or not bare[:1].isupper():
        return text
    return text[:1].lower() + text[1:]


def proper_words(*texts: str) -> frozenset[str]:
    """Words written with a capital inside a sentence somewhere in ``texts``: names."""
    found: set[str] = set()
    for text in texts:
        for match in re.finditer(r"(?<![.!?:]\s)(?<!^)\b([A-Z][\w'’-]*)", text):
            found.add(match.group(1).removesuffix("'s").removesuffix("’s"))
    return frozenset(found)


def sentence(text: str, end: str = ".") -> str:
    """One sentence: a capital first, one mark at the end, no doubled spaces."""
    text = re.sub(r"\s+", " ", text).strip()
    text = re.sub(r"\s+([,.;:!?])", r"\1", text)
    text = re.sub(r",\s*,", ",", text)
    if not text:
        return ""
    body = tx.strip_end(text)
    body = re.sub(r"[,;—\s]+(?:and|but|or|so)$", "", body.rstrip(",— "))  # nothing follows
    return tx.upper_first(body) + end


def join(sentences: list[str]) -> str:
    return " ".join(s for s in sentences if s)


def number(value: float) -> str:
    """A figure as people write it: 18,400; 3.5; 12."""
    if float(value).is_integer():
        return f"{int(value):,}"
    return f"{value:,.1f}"


def clock_time(hour: int, minute: int = 0) -> str:
    return f"{hour:02d}:{minute:02d}"


def says_own_name(content: str, names: tuple[str, ...]) -> bool:
    return any(re.search(rf"(?<!\w){re.escape(n)}(?!\w)", content) for n in names if n)


_ONES = (
    "zero one two three four five six seven eight nine ten eleven twelve thirteen fourteen "
    "fifteen sixteen seventeen eighteen nineteen"
).split()
_TENS = "_ _ twenty thirty forty fifty sixty seventy eighty ninety".split()


def in_words(value: int) -> str:
    """A whole number as it is said: 6 -> six, 22 -> twenty-two, 31,000 -> thirty-one
    thousand, 400 -> four hundred (up to 999,999)."""
    if value < 20:
        return _ONES[value]
    if value < 100:
        tens, ones = divmod(value, 10)
        return _TENS[tens] + (f"-{_ONES[ones]}" if ones else "")
    if value < 1000:
        hundreds, rest = divmod(value, 100)
        return f"{_ONES[hundreds]} hundred" + (f" and {in_words(rest)}" if rest else "")
    thousands, rest = divmod(value, 1000)
    tail = "" if not rest else (f" and {in_words(rest)}" if rest < 100 else f" {in_words(rest)}")
    return f"{in_words(thousands)} thousand{tail}"


_MONTHS = frozenset(
    "january february march april may june july august september october november december "
    "jan feb mar apr jun jul aug sep sept oct nov dec".split()
)
_FIGURE = re.compile(r"(?<![\w:.,'’-])(\d{1,3}(?:,\d{3})?)(?![\w:%-]|,\d|\.\d)")


def spoken_figures(text: str, casual: bool = False) -> str:
    """Figures said in words where people would ("22 men" -> "twenty-two men", "31,000
    francs" -> "thirty-one thousand francs", "5.2" -> "five point two", "1,240,000" ->
    "1.24 million"); clock times, years, dates, percentages and figures too long to say stay
    as written. A casual voice also says "18,400" in words, millions in words and the time
    as the clock is read ("ten past seven")."""

    def say(found: re.Match[str]) -> str:
        raw = found.group(1)
        value = int(raw.replace(",", ""))
        if 1900 <= value <= 2100 and "," not in raw:
            return raw  # a year
        before = found.string[max(0, found.start() - 10) : found.start()].split()
        after = found.string[found.end() : found.end() + 12].split()
        if before and before[-1].lower().strip(",") in _MONTHS:
            return ordinal(value) if value <= 31 else raw  # a date: "March 2" -> "March second"
        if after and after[0].lower().strip(",.") in _MONTHS:
            return raw  # a date: "12 August" (said by ``_DAY_MONTH`` below)
        if 1100 <= value < 10000 and value % 50 == 0 and (value // 100) % 10:
            return in_hundreds(value)  # "1,150 marks" -> "eleven hundred and fifty marks"
        if value >= 1000 and value % 1000 and not casual:
            return raw  # 18,400 is read out as written
        return in_words(value)

    def decimal(found: re.Match[str]) -> str:
        return f"{in_words(int(found.group(1)))} point {_ONES[int(found.group(2))]}"

    text = spoken_millions(text, casual)
    text = _DAY_MONTH.sub(lambda m: f"the {ordinal(int(m.group(1)))} of {m.group(2)}", text)
    if casual:
        text = _CLOCK.sub(lambda m: said_time(int(m.group(1)), int(m.group(2))), text)
    return _DECIMAL.sub(decimal, _FIGURE.sub(say, text))


_DAY_MONTH = re.compile(
    r"(?<![\w:.,'’-])([1-9]|[12]\d|3[01]) (January|February|March|April|May|June|July|August|"
    r"September|October|November|December)\b"
)
_ORDINAL = {
    "one": "first", "two": "second", "three": "third", "five": "fifth", "eight": "eighth",
    "nine": "ninth", "twelve": "twelfth",
}  # fmt: skip


def in_hundreds(value: int) -> str:
    """1,150 -> "eleven hundred and fifty", 2,400 -> "twenty-four hundred": a figure under
    ten thousand said in hundreds, as people say a price or a weight."""
    hundreds, rest = divmod(value, 100)
    return f"{in_words(hundreds)} hundred" + (f" and {in_words(rest)}" if rest else "")


def ordinal(value: int) -> str:
    """12 -> "twelfth", 21 -> "twenty-first", 30 -> "thirtieth": a day of the month said."""
    words = in_words(value)
    head, _, last = words.rpartition("-")
    if last in _ORDINAL:
        last = _ORDINAL[last]
    elif last.endswith("y"):
        last = last[:-1] + "ieth"
    else:
        last += "th"
    return f"{head}-{last}" if head else last


def spoken_millions(text: str, casual: bool = False) -> str:
    """Millions as people say them: "1,240,000" -> "1.24 million", in a casual voice "one
    point two four million"."""

    def million(found: re.Match[str]) -> str:
        value = int(found.group(0).replace(",", ""))
        whole, rest = divmod(value, 1_000_000)
        digits = f"{rest / 1_000_000:.2f}"[2:].rstrip("0")
        if not casual:
            return f"{whole}.{digits} million" if digits else f"{whole} million"
        said = in_words(whole) if whole < 1000 else f"{whole:,}"
        if digits:
            said += " point " + " ".join(_ONES[int(d)] for d in digits)
        return f"{said} million"

    return _MILLION.sub(million, text)


_MILLION = re.compile(r"(?<![\w.,'’-])\d{1,3}(?:,\d{3}){2}(?![\w%-]|,\d|\.\d)")
_CLOCK = re.compile(r"(?<![\w:.])([01]?\d|2[0-3]):([0-5]\d)(?![\w:])")


def said_time(hour: int, minute: int) -> str:
    """A clock time as it is said: 19:10 -> "ten past seven", 22:30 -> "half past ten",
    06:45 -> "quarter to seven", 09:07 -> "nine oh seven", 00:00 -> "midnight"."""
    if minute == 0 and hour in (0, 12):
        return "midnight" if hour == 0 else "noon"
    this, following = hour % 12 or 12, (hour + 1) % 12 or 12
    if minute == 0:
        return f"{in_words(this)} o'clock"
    if minute == 15:
        return f"quarter past {in_words(this)}"
    if minute == 30:
        return f"half past {in_words(this)}"
    if minute == 45:
        return f"quarter to {in_words(following)}"
    if minute % 5 == 0:
        if minute < 30:
            return f"{in_words(minute)} past {in_words(this)}"
        return f"{in_words(60 - minute)} to {in_words(following)}"
    spoken = f"oh {in_words(minute)}" if minute < 10 else in_words(minute)
    return f"{in_words(this)} {spoken}"


_DECIMAL = re.compile(r"(?<![\w.,:'’-])(\d{1,2})\.(\d)(?![\w%:.,-]|,\d)")


def one_vocative(text: str, name: str) -> str:
    """A person addressed by name once a turn: later vocatives of the same name go ("Ruth,
    wait. What would you do, Ruth?" -> "Ruth, wait. What would you do?")."""
    if not name:
        return text
    pattern = re.compile(
        rf"(?:(?<=^)|(?<=[.!?] )){re.escape(name)}, (\w)|, {re.escape(name)}(?:,(?= ))?(?=[ .!?,])"
        rf"|(?<=[.!?] ){re.escape(name)}\. (?=[A-Z])"
    )
    seen = False

    def drop(match: re.Match[str]) -> str:
        nonlocal seen
        if not seen:
            seen = True
            return match.group(0)
        return match.group(1).upper() if match.group(1) else ""

    return pattern.sub(drop, text)
