"""``timeloom --serve``: the explorer in a browser, through textual-serve.

Each browser tab that connects starts its own explorer process (the same command a terminal
would run, with Textual's web driver) on the same database. The server listens on loopback
unless another address is asked for, since whoever reaches it can drive the explorer and read
every run in the database.
"""

from __future__ import annotations

import argparse
import asyncio
import ipaddress
import os
import shlex
import socket
import sys
from pathlib import Path
from typing import Any

from .common import EXIT_OK, UsageError, db_path, open_store

DEFAULT_HOST = "127.0.0.1"
DEFAULT_PORT = 8000
WEB_DRIVER = "textual.drivers.web_driver:WebDriver"
# the explorer commands a browser can be handed (the others print, they do not explore)
SERVABLE = (None, "demo", "open")


def served() -> bool:
    """True inside an explorer process that textual-serve started (no terminal, on purpose)."""
    return os.environ.get("TEXTUAL_DRIVER") == WEB_DRIVER


def add_flags(parser: argparse.ArgumentParser) -> None:
    parser.add_argument(
        "--serve",
        action="store_true",
        help="serve the explorer in a browser instead of this terminal (with demo, open, or alone)",
    )
    parser.add_argument(
        "--host",
        metavar="HOST",
        help=f"address --serve listens on (default: {DEFAULT_HOST}, this machine only)",
    )
    parser.add_argument(
        "--port",
        type=_port,
        metavar="PORT",
        help=f"port --serve listens on (default: {DEFAULT_PORT})",
    )


def _port(text: str) -> int:
    try:
        value = int(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"expected a port number, got {text!r}") from None
    if not 1 <= value <= 65535:
        raise argparse.ArgumentTypeError(f"a port is between 1 and 65535, got {text!r}")
    return value


def is_loopback(host: str) -> bool:
    if host == "localhost":
        return True
    try:
        return ipaddress.ip_address(host).is_loopback
    except ValueError:
        return False


def explorer_command(args: argparse.Namespace, db: Path) -> str:
    """The shell command each browser session runs: this command, without --serve."""
    argv = [sys.executable, "-m", "tui.cli", "--db", str(db)]
    if args.command == "demo":
        argv += ["demo", args.scenario]
        if args.seed is not None:
            argv += ["--seed", str(args.seed)]
        if args.pace is not None:
            argv += ["--pace", str(args.pace)]
    elif args.command == "open":
        argv += ["open", args.run_id]
    return shlex.join(argv)


async def _check(args: argparse.Namespace) -> None:
    """What a terminal explorer would refuse is refused here, before anything listens."""
    from engine.store import StoreError

    store = await open_store(args)
    try:
        if args.command == "open":
            args.run_id = (await store.get_run(args.run_id)).run_id
    except StoreError as exc:
        raise UsageError(str(exc)) from exc
    finally:
        await store.close()
    if args.command == "demo":
        from engine.session import read_scenario

        read_scenario(args.scenario)


def _check_listen(host: str, port: int) -> None:
    try:
        infos = socket.getaddrinfo(host, port, type=socket.SOCK_STREAM)
    except socket.gaierror as exc:
        raise UsageError(f"cannot serve on {host!r}: {exc.strerror or exc}") from None
    family, kind, proto, _, address = infos[0]
    probe = socket.socket(family, kind, proto)
    try:
        probe.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        probe.bind(address)
    except OSError as exc:
        raise UsageError(
            f"cannot listen on {host}:{port} ({exc.strerror or exc}); pick another --port"
        ) from None
    finally:
        probe.close()


def serve(args: argparse.Namespace) -> int:
    """Serve the explorer until ctrl+c."""
    if not args.serve:
        raise UsageError("--host and --port say where --serve listens; add --serve")
    args.host = args.host or DEFAULT_HOST
    args.port = args.port or DEFAULT_PORT
    if args.command not in SERVABLE:
        raise UsageError(
            f"--serve serves the explorer; it goes with `demo`, `open` or nothing, "
            f"not `{args.command}`"
        )
    asyncio.run(_check(args))
    _check_listen(args.host, args.port)
    try:
        server = _server_class()(
            explorer_command(args, db_path(args)), host=args.host, port=args.port
        )
    except ImportError as exc:  # textual-serve is a dependency; a broken install says so
        raise UsageError(
            f"the browser explorer needs textual-serve, which is missing ({exc})"
        ) from None
    if not is_loopback(args.host):
        sys.stderr.write(
            f"timeloom: warning: serving on {args.host}, not this machine only: anyone who "
            "reaches this address can drive the explorer and read every run in the database\n"
        )
    server.serve()
    return EXIT_OK


def _server_class() -> Any:
    import aiohttp_jinja2
    import textual_serve
    from textual_serve.server import Server

    statics = Path(textual_serve.__file__).parent / "static"
    pages = Path(__file__).resolve().parent.parent / "web"

    class ExplorerServer(Server):
        """textual-serve's server with a page that loads nothing from outside, links built
        from the address the browser used (so a LAN address works when asked for), and one
        line on stderr instead of a banner."""

        def __init__(self, command: str, host: str, port: int) -> None:
            super().__init__(command, host=host, port=port, title="timeloom")
            self.statics_path = statics
            self.templates_path = pages
            self.url = f"http://{'localhost' if host in ('127.0.0.1', '::1') else host}:{port}/"

        def initialize_logging(self) -> None:
            import logging

            logging.basicConfig(
                level=logging.WARNING,
                format="timeloom: %(message)s",
                stream=sys.stderr,
            )

        async def on_startup(self, app: Any) -> None:
            sys.stderr.write(f"timeloom: serving the explorer on {self.url} (ctrl+c stops)\n")
            sys.stderr.flush()

        async def handle_index(self, request: Any) -> Any:
            base = f"{request.scheme}://{request.host}"
            websocket = ("wss" if request.scheme == "https" else "ws") + f"://{request.host}/ws"
            size = request.query.get("fontsize", "16")
            context = {
                "title": self.title,
                "static_url": f"{base}/static/",
                "websocket_url": websocket,
                "font_size": int(size) if size.isdigit() and 6 <= int(size) <= 48 else 16,
            }
            return aiohttp_jinja2.render_template("index.html", request, context)

    return ExplorerServer
