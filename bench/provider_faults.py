"""Provider faults: N runs through ``timeloom run`` against a local OpenAI-compatible server
that answers about 30% of its requests with a fault (429 with and without Retry-After, 503, a
hang past the client's 0.3 s timeout, a stream cut short, text that is not JSON, an object that
fails validation; seeded by the run's number, see tests/faults.py), each then replayed with
``timeloom run --replay``. Half the runs are a small forward scenario, half a small branching
one, with the backoff shortened in the configuration.

It prints how the runs ended (completed, or failed honestly: with a reason and exit 1; anything
else is dishonest), the attempts the server saw against the rows of ``llm_calls`` and the run's
own count, and how many replays ended as their recordings did, event for event. The suite runs
a few fixed seeds (tests/test_provider_faults.py).

Run by hand: python bench/provider_faults.py [--runs 40] [--rate 0.3]
"""

from __future__ import annotations

import argparse
import sys
import tempfile
import time
from collections import Counter
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
sys.path.insert(0, str(ROOT / "tests"))

from conftest import TEMPLATES  # noqa: E402
from faults import fault_run, small_branching, small_scenario  # noqa: E402


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--runs", type=int, default=40)
    parser.add_argument("--rate", type=float, default=0.3)
    args = parser.parse_args()
    ended: Counter[str] = Counter()
    injected: Counter[str] = Counter()
    made = recorded = counted = 0
    identical = 0
    problems: list[str] = []
    started = time.perf_counter()
    with tempfile.TemporaryDirectory() as tmp:
        for i in range(args.runs):
            shape = small_scenario if i % 2 == 0 else small_branching
            folder = Path(tmp) / f"run{i}"
            folder.mkdir()
            run = fault_run(folder, shape(folder, TEMPLATES), seed=i, rate=args.rate)
            injected.update(run.injected)
            made, recorded, counted = (
                made + run.made,
                recorded + run.recorded,
                counted + run.counted,
            )
            honest = run.honest and run.code == (0 if run.status == "completed" else 1)
            ended[run.status if honest else "dishonest"] += 1
            same = run.replay_same and (run.replay_status, run.replay_reason, run.replay_code) == (
                run.status,
                run.reason,
                run.code,
            )
            identical += same
            if not honest or not same:
                problems.append(
                    f"run {i} ({shape.__name__}): {run.status} ({run.reason}), attempts "
                    f"{run.made} made, {run.recorded} recorded, {run.counted} counted; replay "
                    f"{run.replay_status} ({run.replay_reason}), identical: {run.replay_same}"
                )
    wall = time.perf_counter() - started
    print(f"runs {args.runs} at {args.rate:.0%} faults ({wall:.1f} s)")
    print(
        f"  completed {ended['completed']}, failed honestly {ended['failed']}, "
        f"dishonest {ended['dishonest']}"
    )
    print(
        f"  faults injected {sum(injected.values())}: "
        + ", ".join(f"{kind} {n}" for kind, n in sorted(injected.items()))
    )
    print(f"  attempts made {made}, recorded {recorded}, counted by the runs {counted}")
    print(f"  replays identical {identical} of {args.runs}")
    passes = args.runs - len(problems)
    print(f"trials {args.runs}, passes {passes}, failures {len(problems)}")
    for line in problems:
        print(f"  {line}")


if __name__ == "__main__":
    main()
