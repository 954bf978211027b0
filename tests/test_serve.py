"""``timeloom --serve``: the explorer in a browser. The browser test drives a real headless
Chromium with Playwright and reads what the explorer sends it over the page's websocket."""

from __future__ import annotations

import os
import queue
import re
import shutil
import signal
import socket
import subprocess
import sys
import threading
from collections.abc import Iterator
from pathlib import Path

import pytest
from conftest import ROOT

from tui.cli.serving import explorer_command, is_loopback


def cli(*args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "tui.cli", *args],
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=120,
    )


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


@pytest.mark.parametrize(
    ("args", "needle"),
    [
        (("--serve", "run", "lighthouse_night"), "goes with `demo`, `open` or nothing"),
        (("--port", "8123"), "add --serve"),
        (("--serve", "--port", "70000"), "a port is between 1 and 65535"),
        (("--serve", "--host", "no such host.invalid"), "cannot serve on"),
        (("--serve", "open", "nope"), "there is no run 'nope'"),
        (("--serve", "demo", "no_such_thing"), "no bundled scenario is called"),
    ],
)
def test_serve_refuses_bad_input_in_one_sentence(tmp_path: Path, args, needle: str) -> None:
    out = cli("--db", str(tmp_path / "s.db"), *args)
    assert out.returncode == 2, out.stderr
    assert needle in out.stderr and len(out.stderr.strip().splitlines()) == 1
    assert "Traceback" not in out.stderr


def test_a_port_in_use_is_one_sentence(tmp_path: Path) -> None:
    with socket.socket() as taken:
        taken.bind(("127.0.0.1", 0))
        taken.listen()
        port = taken.getsockname()[1]
        out = cli("--db", str(tmp_path / "s.db"), "--serve", "--port", str(port))
    assert out.returncode == 2
    assert f"cannot listen on 127.0.0.1:{port}" in out.stderr
    assert "pick another --port" in out.stderr


def test_only_loopback_counts_as_this_machine() -> None:
    assert is_loopback("127.0.0.1") and is_loopback("::1") and is_loopback("localhost")
    assert not is_loopback("0.0.0.0") and not is_loopback("192.168.1.4")
    assert not is_loopback("example.org")


def test_each_browser_session_runs_the_same_explorer_command(tmp_path: Path) -> None:
    from argparse import Namespace

    db = tmp_path / "x.db"
    home = explorer_command(Namespace(command=None), db)
    assert home.endswith(f"-m tui.cli --db {db}")
    demo = explorer_command(
        Namespace(command="demo", scenario="harbor_strike", seed=3, pace=None), db
    )
    assert demo.endswith("demo harbor_strike --seed 3")
    assert explorer_command(Namespace(command="open", run_id="abc"), db).endswith("open abc")


# ----------------------------------------------------------------------------- the browser


def _chromium() -> str | None:
    for name in ("chromium", "chromium-browser", "google-chrome"):
        found = shutil.which(name)
        if found:
            return found
    return None


class _Server:
    """``timeloom --serve`` in a child process, and the lines it writes to stderr."""

    def __init__(self, db: Path, port: int) -> None:
        self.process = subprocess.Popen(
            [sys.executable, "-m", "tui.cli", "--db", str(db), "--serve", "--port", str(port)],
            cwd=ROOT,
            stderr=subprocess.PIPE,
            stdout=subprocess.DEVNULL,
            text=True,
            start_new_session=True,
        )
        self.lines: queue.Queue[str] = queue.Queue()
        threading.Thread(target=self._read, daemon=True).start()

    def _read(self) -> None:
        assert self.process.stderr is not None
        for line in self.process.stderr:
            self.lines.put(line)
        self.lines.put("")

    def wait_for(self, text: str, timeout: float = 60) -> str:
        while True:
            line = self.lines.get(timeout=timeout)
            if not line:
                raise AssertionError(f"the server ended before saying {text!r}")
            if text in line:
                return line

    def stop(self) -> int:
        os.killpg(self.process.pid, signal.SIGTERM)
        return self.process.wait(timeout=30)


@pytest.fixture
def served_db(tmp_path: Path) -> Iterator[tuple[Path, str]]:
    db = tmp_path / "served.db"
    out = cli("--db", str(db), "run", "lighthouse_night", "--headless", "--json")
    assert out.returncode == 0, out.stderr
    run_id = re.search(r'"run_id": "([^"]+)"', out.stdout)
    assert run_id is not None
    yield db, run_id.group(1)


_ANSI = re.compile(r"\x1b(?:\[[0-?]*[ -/]*[@-~]|\][^\x07\x1b]*(?:\x07|\x1b\\)|[@-_])")


def test_the_explorer_works_in_a_real_browser(served_db, tmp_path: Path) -> None:
    sync_api = pytest.importorskip(
        "playwright.sync_api", reason="the browser test needs Playwright (the test extra)"
    )
    chromium = _chromium()
    if chromium is None:
        pytest.skip("the browser test needs the system Chromium (apt install chromium)")
    db, run_id = served_db
    port = free_port()
    server = _Server(db, port)
    try:
        banner = server.wait_for("serving the explorer on")
        assert f"http://localhost:{port}/" in banner
        with sync_api.sync_playwright() as playwright:
            browser = playwright.chromium.launch(
                executable_path=chromium,
                args=[
                    "--no-sandbox",
                    "--disable-gpu",
                    "--no-first-run",
                    "--disable-background-networking",
                    "--disable-component-update",
                    "--disable-sync",
                ],
            )
            try:
                page = browser.new_page(viewport={"width": 1200, "height": 720})
                _drive(page, port, run_id, tmp_path / "browser.png")
            finally:
                browser.close()
    finally:
        assert server.stop() == 0, "ctrl+c or SIGTERM stops the server cleanly"


def _drive(page, port: int, run_id: str, shot: Path) -> None:
    screen: list[str] = []
    outside: list[str] = []
    page.on(
        "request",
        lambda request: (
            None
            if request.url.startswith(f"http://localhost:{port}/")
            else outside.append(request.url)
        ),
    )
    with page.expect_websocket() as opened:
        page.goto(f"http://localhost:{port}/")
    websocket = opened.value

    def shows(*texts: str):
        def check(payload: str | bytes) -> bool:
            text = payload.decode("utf-8", "replace") if isinstance(payload, bytes) else payload
            screen.append(_ANSI.sub("", text))
            return all(t in "".join(screen) for t in texts)

        return check

    try:
        # the home screen: its title, the runs table and the stored run in it
        websocket.wait_for_event(
            "framereceived", predicate=shows("timeloom", "Runs", run_id), timeout=60_000
        )
        screen.clear()
        # keys typed in the page reach the app: Enter opens the highlighted run
        page.click("#terminal")
        page.keyboard.press("Enter")
        websocket.wait_for_event(
            "framereceived",
            predicate=shows("Lighthouse Night", "timepoint 3/3", "Aldous Penrith"),
            timeout=60_000,
        )
    finally:
        page.screenshot(path=str(shot))  # what the browser showed, for a failure's reader
    assert outside == [], f"the page fetched from outside its server: {outside}"
