"""Crafted input, many more mutations than the suite runs: for each target, hundreds of inputs
mutated at random from a valid one (or drawn at random), each given to the command line
in-process (``tests/fuzz_support.py``). A trial passes when the command ends with 0, 1 or 2,
within its time, with no traceback (its own or a thread's), no internal error and at most one
sentence on stderr. Prints trials, passes and failures per target, and the first failures.

    python bench/fuzz_inputs.py [--trials N] [--seed S] [--only TARGET,...]

Targets: scenarios, reference, cassette-import, cassette-replay, queries, run-ids, db-paths,
db-paths-refused (folders and names the file system refuses, as --db).
"""

from __future__ import annotations

import argparse
import json
import os
import random
import string
import sys
import tempfile
import time
from collections.abc import Callable
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
sys.path.insert(0, str(ROOT / "tests"))

import fuzz_support as fz  # noqa: E402

from engine.query import QueryError, parse_query  # noqa: E402

NASTY_CHARS = "\x1b[]();%_*'\"\\@/#=\n\t\x00\u202e\x9b é日"


def rand_text(rng: random.Random, most: int = 60) -> str:
    pool = string.printable + NASTY_CHARS
    text = "".join(rng.choice(pool) for _ in range(rng.randrange(most)))
    return rng.choice([text, text, text, "x" * rng.choice([300, 5000, 100_000]), ""])


class Target:
    def __init__(self, name: str, trial: Callable[[random.Random, Path], list[fz.Outcome]]):
        self.name = name
        self.trial = trial
        self.passes = self.failures = 0
        self.examples: list[str] = []
        self.codes: dict[int, int] = {}  # the exit status of each trial's last command

    def run(self, rng: random.Random, folder: Path) -> None:
        try:
            outcomes = self.trial(rng, folder)
            problems = [p for p in (o.problem() for o in outcomes) if p]
            self.codes[outcomes[-1].code] = self.codes.get(outcomes[-1].code, 0) + 1
        except Exception as exc:  # the trial itself failed: counted, and shown
            problems = [f"the trial raised {exc!r}"]
        if problems:
            self.failures += 1
            if len(self.examples) < 3:
                self.examples.append(problems[0][:160].replace("\n", " | "))
        else:
            self.passes += 1


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--trials", type=int, default=300, help="trials per target")
    parser.add_argument("--seed", type=int, default=1)
    parser.add_argument("--only", help="comma-separated targets")
    args = parser.parse_args()
    rng = random.Random(args.seed)

    with tempfile.TemporaryDirectory() as tmp:
        root = Path(tmp)
        (root / "config.toml").write_text("")
        os.environ.update(
            TIMELOOM_CONFIG=str(root / "config.toml"),
            TIMELOOM_SCENARIOS=str(root / "no-scenarios"),
            TIMELOOM_DB=str(root / "default.db"),
        )
        for name in ("TIMELOOM_PROVIDER", "TIMELOOM_BASE_URL", "TIMELOOM_MODEL"):
            os.environ.pop(name, None)
        cassette_file, recorded_id = fz.record_cassette(root)
        cassette = json.loads(cassette_file.read_text())
        stored_db = root / "stored.db"
        stored_id = fz.escaped_run(stored_db)
        scenario, reference = fz.small_scenario(), fz.reference_template()

        def scenarios(rng: random.Random, d: Path) -> list[fz.Outcome]:
            (d / "s.json").write_text(fz.dump(fz.mutate(scenario, rng, rng.choice([1, 1, 2, 3]))))
            return [fz.cli("run", str(d / "s.json"), "--headless", "--db", str(d / "r.db"))]

        def references(rng: random.Random, d: Path) -> list[fz.Outcome]:
            (d / "t.json").write_text(fz.dump(fz.mutate(reference, rng, rng.choice([1, 1, 2, 3]))))
            return [fz.cli("run", str(d / "t.json"), "--headless", "--db", str(d / "r.db"))]

        def mutated_cassette(rng: random.Random, d: Path) -> tuple[dict, fz.Outcome]:
            data = fz.mutate(cassette, rng, rng.choice([1, 1, 2]))
            (d / "c.json").write_text(fz.dump(data))
            return data, fz.cli("cassette", "import", str(d / "c.json"), "--db", str(d / "r.db"))

        def cassette_import(rng: random.Random, d: Path) -> list[fz.Outcome]:
            return [mutated_cassette(rng, d)[1]]

        def cassette_replay(rng: random.Random, d: Path) -> list[fz.Outcome]:
            # only imports that were accepted go on to a replay
            for _ in range(20):
                data, imported = mutated_cassette(rng, d)
                if imported.code == 0:
                    break
            else:
                return [imported]
            try:
                run_id = str(data["runs"][0]["run_id"])
            except (KeyError, IndexError, TypeError):
                run_id = recorded_id
            replayed = fz.cli("run", "--replay", run_id, "--headless", "--db", str(d / "r.db"))
            return [imported, replayed]

        def queries(rng: random.Random, d: Path) -> list[fz.Outcome]:
            text = rng.choice(["@aldous ", "/why @aldous ", "/who-knows ", "/elevate @", ""])
            text += rand_text(rng, 40)
            return [parsed(text), fz.cli("query", stored_id, text, "--db", str(stored_db))]

        def parsed(text: str) -> fz.Outcome:
            """The parser alone: only a QueryError, in one sentence, may leave it."""
            try:
                parse_query(text)
            except QueryError as exc:
                return fz.Outcome(2, "", f"timeloom: {exc}\n")
            return fz.Outcome(0, "", "")

        def run_ids(rng: random.Random, d: Path) -> list[fz.Outcome]:
            text = rand_text(rng, 40)
            db = str(stored_db)
            return [
                *(fz.cli(c, "--db", db, "--", text) for c in ("fork", "open", "resume")),
                fz.cli("show", "--db", db, "--", text),  # last: its status is the one counted
            ]

        def db_names(rng: random.Random) -> str:
            chars = string.ascii_letters + " .-_%'\"é日\x1b\u202e"
            return "".join(rng.choice(chars) for _ in range(rng.randrange(1, 40)))

        def db_paths(rng: random.Random, d: Path) -> list[fz.Outcome]:
            (d / "garbage.db").write_bytes(os.urandom(rng.choice([10, 600, 5000])))
            (d / "empty.db").write_bytes(b"")
            name = rng.choice([db_names(rng), "garbage.db", "empty.db", "missing/deeper/x.db"])
            if name in (".", ".."):
                name += "x"
            return [
                fz.cli("show", "x", "--db", str(d / name)),
                fz.cli("runs", "--db", str(d / name)),  # last: its status is the one counted
            ]

        def db_paths_refused(rng: random.Random, d: Path) -> list[fz.Outcome]:
            (d / "folder").mkdir(exist_ok=True)
            name = rng.choice(["folder", "x" * rng.choice([256, 300, 1000])])
            return [fz.cli("runs", "--db", str(d / name))]

        targets = [
            Target("scenarios", scenarios),
            Target("reference", references),
            Target("cassette-import", cassette_import),
            Target("cassette-replay", cassette_replay),
            Target("queries", queries),
            Target("run-ids", run_ids),
            Target("db-paths", db_paths),
            Target("db-paths-refused", db_paths_refused),
        ]
        if args.only:
            chosen = set(args.only.split(","))
            targets = [t for t in targets if t.name in chosen]
        print(f"trials per target: {args.trials}, seed {args.seed}")
        for target in targets:
            started = time.perf_counter()
            for i in range(args.trials):
                folder = root / f"{target.name}-{i}"
                folder.mkdir()
                target.run(rng, folder)
            print(
                f"{target.name:18} trials {args.trials:5}  passes {target.passes:5}  "
                f"failures {target.failures:5}  ({time.perf_counter() - started:.1f} s; exit "
                f"statuses {dict(sorted(target.codes.items()))})"
            )
            for example in target.examples:
                print(f"    e.g. {example}")


if __name__ == "__main__":
    main()
