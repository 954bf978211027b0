"""Time from launching the explorer to the first frame of the home screen (goal: under 1 s).

Each measurement is a fresh process: the interpreter starts, imports the app, opens the
database and draws the home screen with its runs. The parent measures the whole process wall
time up to the moment the child reports its first frame.
"""

from __future__ import annotations

import json
import statistics
import subprocess
import sys
import time
from pathlib import Path

CHILD = r"""
import json, sys, time
start = time.perf_counter()
from pathlib import Path
sys.path.insert(0, sys.argv[2])
from tui.app import TimeloomApp, UISettings
from tui.screens.home import HomeScreen
imported = time.perf_counter()

class Probe(TimeloomApp):
    def on_mount(self):
        super().on_mount()
        def drawn():
            screen = self.screen
            if isinstance(screen, HomeScreen) and screen.query_one("#runs").row_count:
                print(json.dumps({"import_s": imported - start, "frame_s": time.perf_counter() - start}), flush=True)
                self.exit()
            else:
                self.set_timer(0.002, drawn)
        self.call_after_refresh(drawn)

Probe(UISettings(db_path=Path(sys.argv[1]), pace=None)).run(headless=True)
"""


def main() -> None:
    db = Path(sys.argv[1] if len(sys.argv) > 1 else "/tmp/timeloom-bench/small.db")
    root = str(Path(__file__).resolve().parent.parent)
    if not db.exists():
        db.parent.mkdir(parents=True, exist_ok=True)
        subprocess.run(
            [
                sys.executable,
                "-m",
                "tui.cli",
                "run",
                "harbor_strike",
                "--headless",
                "--db",
                str(db),
            ],
            cwd=root,
            check=True,
            capture_output=True,
        )
    walls, frames, imports = [], [], []
    for _ in range(7):
        t0 = time.perf_counter()
        out = subprocess.run(
            [sys.executable, "-c", CHILD, str(db), root], capture_output=True, text=True, check=True
        )
        walls.append(time.perf_counter() - t0)
        data = json.loads(out.stdout.strip().splitlines()[0])
        frames.append(data["frame_s"])
        imports.append(data["import_s"])
    print(
        f"first frame of the home screen: median {statistics.median(frames):.2f} s after the "
        f"script started (imports {statistics.median(imports):.2f} s); whole process incl. "
        f"interpreter start and exit: median {statistics.median(walls):.2f} s; goal < 1 s"
    )


if __name__ == "__main__":
    main()
