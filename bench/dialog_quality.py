"""How the offline provider's dialog reads: repetition, copying from the scenario, frames,
third-person self-reference, on the bundled forward scenarios (two seeds each) and on
scenarios written for this benchmark only (``bench/scenarios/``, never tuned against), plus a
reference template when the fixtures are present.

Per run it prints:

- ``rep6``: the share of turns that share a run of six words with another turn of the run
  (goal under 15%);
- ``d3``: distinct-3, distinct word trigrams over all trigrams of the run's turns (goal above
  0.9);
- ``copied``: the share of dialogue words inside 8-word spans found verbatim in the scenario
  file, and which part of the file they came from (knowledge, speech examples, beats, other);
  goal under 15%;
- ``self3``: turns in which a person names themself (goal 0; an animal's or a place's
  behaviour is narrated with its name and not counted);
- ``frame``: the 4-word phrase not in the scenario file found in the most turns, and the share
  of turns it is in (goal under 10%). A phrase with two or more of the run's own content words
  (words of the scenario file, or of the people, knowledge and events a reference
  template's run generated) is a mention of the scenario's subject ("the board's liability insurance"), not a
  frame, and is not counted;
- ``answered``: of the questions put to one person, the share that person's next turn in the
  conversation answers or visibly evades (a turn of the ``answer`` or ``deflect`` act).

and a short transcript of the first run.

    python bench/dialog_quality.py            # every scenario, seeds 1 and 2
    python bench/dialog_quality.py --json
    python bench/dialog_quality.py --only harbor_strike --seeds 3 --sample 30
    python bench/dialog_quality.py --copied     # and the spans copied from each scenario file
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import re
import sys
import tempfile
from collections import Counter
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from engine.llm.offline import OfflineProvider  # noqa: E402
from engine.model import events as ev  # noqa: E402
from engine.scenario import load_scenario  # noqa: E402
from engine.simulation import Simulation  # noqa: E402
from engine.store import Store  # noqa: E402

BUNDLED = (
    "harbor_strike",
    "lighthouse_night",
    "orbital_audit",
    "river_spirit",
    "snowbound_ward",
    "vintners_council",
)
FRESH = ROOT / "bench" / "scenarios"
FIXTURES = Path(
    os.environ.get("TIMELOOM_FIXTURES") or ROOT.parent / "shared" / "fixtures" / "timepoint-pro"
)
REFERENCE = ("board_meeting", "jefferson_dinner")  # reference templates, where present
WORD = re.compile(r"[a-z0-9]+(?:['’][a-z]+)?")


def words(text: str) -> list[str]:
    return WORD.findall(text.lower())


def grams(tokens: list[str], n: int) -> list[tuple[str, ...]]:
    return [tuple(tokens[i : i + n]) for i in range(len(tokens) - n + 1)]


# ----------------------------------------------------------------------------- the scenario file


def _strings(value: Any, path: str = "") -> list[tuple[str, str]]:
    """Every string of a scenario file with the key path it sits under."""
    if isinstance(value, str):
        return [(path, value)]
    if isinstance(value, dict):
        return [s for k, v in value.items() for s in _strings(v, f"{path}.{k}")]
    if isinstance(value, list):
        return [s for v in value for s in _strings(v, path)]
    return []


def _part(path: str) -> str:
    if "knowledge" in path or "reveals" in path or "information" in path:
        return "knowledge"
    if "speech_examples" in path:
        return "examples"
    if "beats" in path or "hint" in path or "timepoints" in path or "event" in path:
        return "beats"
    return "other"


FUNCTION_WORDS = frozenset(
    "a an the this that these those and or but if so of to in on at by for with from as is are "
    "was were be been being has have had do does did will would can could shall should may "
    "might must not no i me my we us our you your he him his she her it its they them their "
    "what who whom which when where why how there here all any some more most very just than "
    "then too also about into over up down out off again once only own same such each both "
    "few other nor now one".split()
)


def content_words(text: str) -> set[str]:
    return {
        w.removesuffix("'s").removesuffix("’s")
        for w in words(text.replace("_", " "))
        if w not in FUNCTION_WORDS
    }


class SourceText:
    """The scenario file's 8-grams (by the part of the file they come from), 4-grams and
    content words."""

    def __init__(self, file: Path, generated: tuple[str, ...] = ()) -> None:
        data = json.loads(file.read_text())
        self.eight: dict[tuple[str, ...], str] = {}
        self.four: set[tuple[str, ...]] = set()
        self.content: set[str] = set()
        for path, text in _strings(data):
            tokens = words(text)
            part = _part(path)
            for gram in grams(tokens, 8):
                self.eight.setdefault(gram, part)
            self.four.update(grams(tokens, 4))
            self.content |= content_words(text)
        for text in generated:  # what a reference template's run made up: names, knowledge
            self.content |= content_words(text)

    def frame(self, gram: tuple[str, ...]) -> bool:
        """A phrase of the generator's own: not in the file, and not about its subject."""
        if gram in self.four:
            return False
        subject = sum(w.removesuffix("'s").removesuffix("’s") in self.content for w in gram)
        return subject < 2


# ----------------------------------------------------------------------------- the measures


def measure(turns: list[dict[str, Any]], source: SourceText, names: dict[str, str]) -> dict:
    tokens = [words(t["content"]) for t in turns]
    sixes = [set(grams(ts, 6)) for ts in tokens]
    owners: Counter[tuple[str, ...]] = Counter(g for s in sixes for g in s)
    repeated = sum(1 for s in sixes if any(owners[g] > 1 for g in s))
    trigrams = [g for ts in tokens for g in grams(ts, 3)]
    total_words = sum(len(ts) for ts in tokens)
    copied: Counter[str] = Counter()
    spans: Counter[str] = Counter()
    for ts in tokens:
        covered: dict[int, str] = {}
        for i, gram in enumerate(grams(ts, 8)):
            part = source.eight.get(gram)
            if part is not None:
                for j in range(i, i + 8):
                    covered.setdefault(j, part)
        copied.update(covered.values())
        run: list[str] = []
        for j, word in enumerate([*ts, ""]):
            if j in covered:
                run.append(word)
            elif run:
                spans[" ".join(run)] += len(run)
                run = []
    self_named = 0
    for turn in turns:
        if not turn["speaks"]:
            continue  # an animal's or a place's behaviour is narrated, with its name
        name = names.get(turn["speaker"], "")
        forms = {name, name.split()[0]} if name else set()
        if any(re.search(rf"\b{re.escape(f)}\b", turn["content"]) for f in forms if f):
            self_named += 1
    frames: Counter[tuple[str, ...]] = Counter()
    for ts in tokens:
        frames.update({g for g in grams(ts, 4) if source.frame(g)})
    frame, frame_turns = frames.most_common(1)[0] if frames else ((), 0)
    shared = [" ".join(g) for g, c in owners.most_common(8) if c > 1]
    asked = answered = 0
    for i, turn in enumerate(turns):
        if turn["act"] != "ask" or not turn["addressed_to"]:
            continue
        reply = next(
            (
                t
                for t in turns[i + 1 :]
                if t["dialog"] == turn["dialog"] and t["speaker"] == turn["addressed_to"]
            ),
            None,
        )
        if reply is None:
            continue
        asked += 1
        answered += reply["act"] in ("answer", "deflect")
    n = max(1, len(turns))
    return {
        "turns": len(turns),
        "rep6": repeated / n,
        "d3": len(set(trigrams)) / max(1, len(trigrams)),
        "copied": sum(copied.values()) / max(1, total_words),
        "copied_by_part": {k: v / max(1, total_words) for k, v in copied.most_common()},
        "copied_spans": [span for span, _ in spans.most_common(8)],
        "self3": self_named,
        "frame": " ".join(frame),
        "frame_share": frame_turns / n,
        "answered": answered / asked if asked else None,
        "questions": asked,
        "shared": shared,
    }


async def run_one(file: Path, ref: str, seed: int, db: Path) -> tuple[dict, list[dict]]:
    loaded = load_scenario(ref)
    store = await Store.open(db)
    try:
        sim = Simulation(loaded, provider=OfflineProvider(seed), store=store, seed=seed)
        seen: list[Any] = []
        await sim.run(seen.append)
    finally:
        await store.close()
    names = {e.id: e.name for e in loaded.scenario.entities}
    people = {e.id for e in loaded.scenario.entities if e.type == "human"}
    turns = [
        {
            "dialog": e.turn.dialog_id,
            "speaker": e.turn.speaker,
            "name": names.get(e.turn.speaker, e.turn.speaker),
            "content": e.turn.content,
            "act": getattr(e.turn, "act", None) or e.turn.stance,
            "addressed_to": e.turn.addressed_to,
            "speaks": e.turn.speaker in people,
        }
        for e in seen
        if isinstance(e, ev.DialogTurnFinished)
    ]
    generated = (
        tuple(
            text
            for e in seen
            if isinstance(e, ev.EntityCreated)
            for text in (
                e.profile.name,
                *e.profile.initial_knowledge,
                *e.profile.voice.specificity_anchors,
            )
        )
        + tuple(
            e.exposure.information
            for e in seen
            if isinstance(e, ev.ExposureRecorded) and e.exposure.kind == "initial"
        )
        + tuple(
            f"{e.timepoint.title} {e.timepoint.event_description}"
            for e in seen
            if isinstance(e, ev.TimepointCreated)
        )
    )
    return measure(turns, SourceText(file, generated), names), turns


def targets(only: str | None) -> list[tuple[str, Path, str]]:
    found = [(n, ROOT / "templates" / f"{n}.json", n) for n in BUNDLED]
    found += [(f"fresh:{p.stem}", p, str(p)) for p in sorted(FRESH.glob("*.json"))]
    for name in REFERENCE:
        path = FIXTURES / "templates" / f"{name}.json"
        if not path.exists():
            path = next(iter(sorted(FIXTURES.glob(f"**/{name}.json"))), path)
        if path.exists():
            found.append((f"ref:{name}", path, str(path)))
    return [t for t in found if only is None or only in t[0]]


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--seeds", default="1,2", help="comma-separated seeds (default 1,2)")
    parser.add_argument("--only", help="scenarios whose name contains this")
    parser.add_argument("--sample", type=int, default=16, help="turns of the sample transcript")
    parser.add_argument("--json", action="store_true")
    parser.add_argument("--shared", action="store_true", help="list the six-word runs shared")
    parser.add_argument(
        "--copied", action="store_true", help="list the spans copied from the scenario file"
    )
    args = parser.parse_args()
    seeds = [int(s) for s in args.seeds.split(",")]
    rows: list[dict] = []
    sample: list[dict] = []
    with tempfile.TemporaryDirectory() as tmp:
        for label, file, ref in targets(args.only):
            for seed in seeds:
                figures, turns = asyncio.run(run_one(file, ref, seed, Path(tmp) / "b.db"))
                rows.append({"scenario": label, "seed": seed, **figures})
                if not sample:
                    sample = turns[: args.sample]
    if args.json:
        print(json.dumps({"runs": rows, "sample": sample}, indent=2))
        return 0
    head = f"{'scenario':28} seed turns  rep6   d3  copied (k/e/b/o)          self3 frame"
    print(head)
    for r in rows:
        parts = r["copied_by_part"]
        split = "/".join(f"{parts.get(k, 0):.0%}" for k in ("knowledge", "examples", "beats"))
        split += f"/{parts.get('other', 0):.0%}"
        answered = "-" if r["answered"] is None else f"{r['answered']:.0%} of {r['questions']}"
        print(
            f"{r['scenario']:28} {r['seed']:4} {r['turns']:5} {r['rep6']:5.0%} {r['d3']:5.2f} "
            f"{r['copied']:6.0%} ({split:17}) {r['self3']:5}  {r['frame_share']:4.0%} "
            f"{r['frame']!r}  answered {answered}"
        )
        if args.shared:
            print("    shared:", " | ".join(r["shared"]))
        if args.copied:
            print("    copied:", " | ".join(r["copied_spans"]))
    keys = ("rep6", "d3", "copied", "frame_share")
    groups = {
        "mean, bundled": [r for r in rows if ":" not in r["scenario"]],
        "mean, fresh": [r for r in rows if r["scenario"].startswith("fresh:")],
        "mean, reference": [r for r in rows if r["scenario"].startswith("ref:")],
        "mean, all": rows,
    }
    for label, group in groups.items():
        if not group:
            continue
        mean = {k: sum(r[k] for r in group) / len(group) for k in keys}
        print(
            f"{label:28}      {sum(r['turns'] for r in group):5} {mean['rep6']:5.0%} "
            f"{mean['d3']:5.2f} {mean['copied']:6.0%} {'':19} "
            f"{sum(r['self3'] for r in group):5}  {mean['frame_share']:4.0%}"
        )
    print("\nsample:", rows[0]["scenario"] if rows else "-", f"seed {seeds[0]}")
    dialog = None
    for t in sample:
        if t["dialog"] != dialog:
            dialog = t["dialog"]
            print(f"  -- {dialog}")
        print(f"  {t['name']} [{t['act']}]: {t['content']}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
