"""Opening a stored run with 20,000 dialog turns and 500 timepoints.

Measures, in a fresh process, the time from launching the explorer on the run to the moment it
is interactive (every pane drawn at the last timepoint and the app idle), and the peak resident
memory. Goals: under 1.5 s and under 300 MB.
"""

from __future__ import annotations

import asyncio
import json
import resource
import subprocess
import sys
import time
from pathlib import Path

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE.parent))


async def child(db: Path) -> None:
    start = time.perf_counter()
    from textual.widgets import Static  # noqa: F401

    from tui.app import StartReplay, TimeloomApp, UISettings
    from tui.screens.run import RunScreen
    from tui.widgets.dialog import TurnView

    imported = time.perf_counter()
    app = TimeloomApp(UISettings(db_path=db, pace=None), start=StartReplay("bench-large"))
    ready = 0.0
    async with app.run_test(size=(160, 48)) as pilot:
        while True:
            screen = app.screen
            if (
                isinstance(screen, RunScreen)
                and screen.view is not None
                and screen.selected_tp
                and screen.query(TurnView)
            ):
                break
            await asyncio.sleep(0.005)
        await pilot.pause()
        ready = time.perf_counter()
        turns = len(screen.query(TurnView))
        nodes = len(screen.view.timepoints)
    rss_mb = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    print(
        json.dumps(
            {
                "import_s": imported - start,
                "interactive_s": ready - start,
                "rss_mb": rss_mb,
                "turn_widgets": turns,
                "timepoints": nodes,
            }
        )
    )


def main() -> None:
    db = Path(sys.argv[1] if len(sys.argv) > 1 else "/tmp/timeloom-bench/large.db")
    db.parent.mkdir(parents=True, exist_ok=True)
    from tui_bench_support import ensure_large_run

    asyncio.run(ensure_large_run(db))
    results = []
    for _ in range(5):
        t0 = time.perf_counter()
        out = subprocess.run(
            [sys.executable, __file__, "--child", str(db)],
            capture_output=True,
            text=True,
            check=True,
        )
        wall = time.perf_counter() - t0
        data = json.loads(out.stdout.strip().splitlines()[-1])
        data["process_s"] = wall
        results.append(data)
    results.sort(key=lambda r: r["interactive_s"])
    median = results[len(results) // 2]
    print(
        f"run with {median['timepoints']} timepoints and 20,000 turns; "
        f"{median['turn_widgets']} turn widgets mounted (windowed)"
    )
    print(
        f"interactive {median['interactive_s']:.2f} s after the process started its work "
        f"(imports {median['import_s']:.2f} s), goal < 1.5 s"
    )
    print(f"peak resident memory {max(r['rss_mb'] for r in results):.0f} MB, goal < 300 MB")


if __name__ == "__main__":
    if len(sys.argv) > 2 and sys.argv[1] == "--child":
        asyncio.run(child(Path(sys.argv[2])))
    else:
        main()
