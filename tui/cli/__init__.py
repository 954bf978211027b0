"""The ``timeloom`` command.

Headless commands (``run --headless``, ``runs``, ``show``, ``templates``, ``schema``) never import
Textual. Every error a user can cause ends in one sentence on stderr and a non-zero exit status:
1 when a run failed, 2 for bad input (an unknown scenario or run id, a bad file, a bad flag, a
database that cannot be used).
"""

from __future__ import annotations

import argparse
import os
import sys
from collections.abc import Callable, Sequence
from typing import NoReturn

from . import (
    cassette,
    catalog,
    converging,
    explore,
    exporting,
    forking,
    inspecting,
    querying,
    running,
    serving,
)
from .common import (
    EXIT_FAILED,
    EXIT_INTERRUPTED,
    EXIT_OK,
    EXIT_USAGE,
    UsageError,
    say,
    user_config,
)
from .explore import DEMO_SCENARIO

__all__ = ["main"]

# Each command's handler takes the parsed arguments and returns the exit status.
COMMANDS: dict[str | None, Callable[[argparse.Namespace], int]] = {
    None: explore.home,
    "demo": explore.demo,
    "open": explore.open_run,
    "run": running.run,
    "resume": running.resume,
    "fork": forking.fork,
    "diff": forking.diff,
    "query": querying.query,
    "export": exporting.export,
    "convergence": converging.convergence,
    "runs": inspecting.runs,
    "show": inspecting.show,
    "cassette": cassette.cassette,
    "templates": catalog.templates,
    "schema": catalog.schema,
}


class _Parser(argparse.ArgumentParser):
    def error(self, message: str) -> NoReturn:
        self.exit(EXIT_USAGE, f"{self.prog}: {message} (see {self.prog} --help)\n")


def _quiet_flag(parser: argparse.ArgumentParser) -> None:
    parser.add_argument(
        "--quiet",
        action="store_true",
        help="print no progress on stderr (by default a headless run shows it there, one line "
        "per timepoint when stderr is not a terminal, even with --json)",
    )


def _strict_flag(parser: argparse.ArgumentParser) -> None:
    parser.add_argument(
        "--strict",
        action="store_true",
        help="exit 1 when any step failed, even if the run completed (default: only when "
        "most steps failed)",
    )


def _parser() -> argparse.ArgumentParser:
    db = argparse.ArgumentParser(add_help=False)
    db.add_argument(
        "--db",
        metavar="PATH",
        help="database file (default: $TIMELOOM_DB, else the user data directory)",
    )
    parser = _Parser(prog="timeloom", description="Explore temporal social simulations.")
    parser.add_argument("--version", action="store_true", help="print the version and exit")
    parser.add_argument(
        "--db",
        dest="home_db",
        metavar="PATH",
        help="database file for the explorer and any command (as each command's own --db)",
    )
    serving.add_flags(parser)
    sub = parser.add_subparsers(dest="command", parser_class=_Parser, metavar="COMMAND")

    run = sub.add_parser(
        "run",
        parents=[db],
        help="run a scenario",
        description="Run a scenario: a bundled name or a path to a scenario "
        "file (timeloom or timepoint-pro format). A run in which more of its timepoints and "
        "dialog turns failed than succeeded ends failed (exit 1); one with fewer failures "
        "ends completed, and its summary counts them (failed steps); --strict makes any "
        "failure exit 1. SIGTERM, SIGHUP and Ctrl+C stop the run as stopped (exit 1), "
        "resumable with `timeloom resume`.",
    )
    run.add_argument(
        "scenario", metavar="SCENARIO", nargs="?", help="a bundled name or a scenario file"
    )
    run.add_argument("--seed", type=_seed, help="random seed (default: the scenario's own)")
    run.add_argument(
        "--headless",
        action="store_true",
        help="run without the explorer (the default when not on a terminal, or with --json)",
    )
    run.add_argument("--json", action="store_true", help="print one JSON object when done")
    _provider_flags(run)
    run.add_argument(
        "--replay",
        metavar="RUN_ID",
        help="re-run a recorded run from its cassette: no network, no cost (SCENARIO optional)",
    )
    _budget_flags(run)
    run.add_argument(
        "--estimate", action="store_true", help="print what the run would cost, then exit"
    )
    run.add_argument(
        "--training-safe",
        action="store_true",
        help="use only MIT or Apache-2.0 licensed models (outputs may train any model)",
    )
    run.add_argument(
        "--prefer", choices=("quality", "speed", "cost"), help="how the registry picks models"
    )
    run.add_argument(
        "--no-cache", action="store_true", help="ask the model even for calls already recorded"
    )
    _strict_flag(run)
    _quiet_flag(run)

    resume = sub.add_parser(
        "resume",
        parents=[db],
        help="continue a stopped or failed run",
        description="Continue a run that stopped (a budget, the user) or failed, from its last "
        "committed timepoint. Budgets count what the whole run has spent.",
    )
    resume.add_argument("run_id", metavar="RUN_ID", help="a run id or a unique prefix of one")
    resume.add_argument("--json", action="store_true", help="print one JSON object when done")
    _provider_flags(resume)
    _budget_flags(resume)
    _strict_flag(resume)
    _quiet_flag(resume)

    forking.add_parser(sub, db, _provider_flags, _budget_flags, _positive_int)
    forking.add_diff_parser(sub, db)
    querying.add_parser(sub, db)
    exporting.add_parser(sub, db)
    converging.add_parser(sub, db, _provider_flags, _budget_flags, _positive_int)

    cassette = sub.add_parser("cassette", help="export or import recorded model answers")
    csub = cassette.add_subparsers(dest="cassette_command", parser_class=_Parser, metavar="ACTION")
    cassette.set_defaults(cassette_parser=cassette)
    export = csub.add_parser(
        "export", parents=[db], help="write the answers a run used to a cassette file"
    )
    export.add_argument("run_id", metavar="RUN_ID")
    export.add_argument("file", metavar="FILE")
    imp = csub.add_parser("import", parents=[db], help="add a cassette file to the database")
    imp.add_argument("file", metavar="FILE")

    runs = sub.add_parser("runs", parents=[db], help="list the runs in the database")
    runs.add_argument("--json", action="store_true", help="print JSON")

    show = sub.add_parser("show", parents=[db], help="show one run")
    show.add_argument("run_id", metavar="RUN_ID", help="a run id or a unique prefix of one")
    show.add_argument("--json", action="store_true", help="print JSON")

    templates = sub.add_parser("templates", help="list the bundled scenarios")
    templates.add_argument("--json", action="store_true", help="print JSON")

    sub.add_parser("schema", help="print the JSON Schema of scenario files")

    demo = sub.add_parser(
        "demo",
        parents=[db],
        help="open the explorer on a bundled scenario playing live (offline, no key)",
        description="Open the explorer and play a scenario live on the offline provider, at a "
        "readable pace (+ and - change it).",
    )
    demo.add_argument(
        "scenario",
        metavar="SCENARIO",
        nargs="?",
        default=DEMO_SCENARIO,
        help=f"a bundled name or a scenario file (default: {DEMO_SCENARIO})",
    )
    demo.add_argument("--seed", type=_seed, help="random seed (default: the scenario's own)")
    demo.add_argument(
        "--pace",
        type=_positive_float,
        metavar="CPS",
        help="dialog characters a second (default: the config's, 40)",
    )

    open_ = sub.add_parser("open", parents=[db], help="open a stored run in the explorer")
    open_.add_argument("run_id", metavar="RUN_ID", help="a run id or a unique prefix of one")
    return parser


def _provider_flags(parser: argparse.ArgumentParser) -> None:
    parser.add_argument(
        "--provider",
        choices=("offline", "openai", "openrouter", "ollama", "vllm", "llamacpp", "lmstudio"),
        help="who answers the model calls (default: the config file's, else offline)",
    )
    parser.add_argument("--base-url", metavar="URL", help="the server's address (…/v1)")
    parser.add_argument("--model", metavar="ID", help="the model for every call")


def _budget_flags(parser: argparse.ArgumentParser) -> None:
    parser.add_argument(
        "--budget-tokens", type=_positive_int, metavar="N", help="stop before N tokens are spent"
    )
    parser.add_argument(
        "--budget-usd", type=_positive_float, metavar="X", help="stop before $X is spent"
    )
    parser.add_argument(
        "--no-budget", action="store_true", help="ignore the scenario's and the config's budget"
    )


def _positive_int(text: str) -> int:
    try:
        value = int(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"expected a whole number, got {text!r}") from None
    if value < 1:
        raise argparse.ArgumentTypeError(f"expected a positive number, got {text!r}")
    return value


def _seed(text: str) -> int:
    from engine.safety.limits import LimitError, check_seed

    try:
        value = int(text) if len(text) <= 40 else None
    except ValueError:
        value = None
    if value is None:
        raise argparse.ArgumentTypeError(f"expected a whole number, got {text[:40]!r}")
    try:
        check_seed(value, "a seed")
    except LimitError as exc:
        raise argparse.ArgumentTypeError(str(exc)) from None
    return value


def _positive_float(text: str) -> float:
    try:
        value = float(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"expected a number, got {text!r}") from None
    if not value > 0:
        raise argparse.ArgumentTypeError(f"expected a positive amount, got {text!r}")
    return value


def _bounded(args: argparse.Namespace) -> None:
    """Flags whose size is bounded (engine.safety.limits), refused in one sentence."""
    from engine.safety.limits import MAX_QUERY_CHARS, MAX_RUN_ID_CHARS

    for name in ("run_id", "replay"):  # the store's own check says the same
        value = getattr(args, name, None)
        if isinstance(value, str) and len(value) > MAX_RUN_ID_CHARS:
            raise UsageError(
                f"a run id is at most {MAX_RUN_ID_CHARS} characters; the one given has "
                f"{len(value):,}"
            )
    query = getattr(args, "query", None)
    if isinstance(query, str) and len(query) > MAX_QUERY_CHARS:
        raise UsageError(
            f"the query is {len(query):,} characters long, over the limit of {MAX_QUERY_CHARS:,}"
        )


def main(argv: Sequence[str] | None = None) -> int:
    parser = _parser()
    args = parser.parse_args(argv)
    if args.version:
        from engine import __version__

        print(f"timeloom {__version__}")
        return EXIT_OK
    if getattr(args, "home_db", None) and not getattr(args, "db", None):
        args.db = args.home_db  # timeloom --db X [COMMAND]
    serve = args.serve or args.host is not None or args.port is not None
    if (
        args.command is None
        and not serve
        and not serving.served()
        and not (sys.stdin.isatty() and sys.stdout.isatty())
    ):
        parser.print_help()
        return EXIT_OK
    from engine.session import SessionError
    from engine.store import StoreError, StoreWriteError

    try:
        _bounded(args)
        user_config()  # a broken config file is reported whatever the command
        code = serving.serve(args) if serve else COMMANDS[args.command](args)
    except (UsageError, SessionError) as exc:
        sys.stderr.write(f"timeloom: {say(str(exc))}\n")
        return EXIT_USAGE
    except StoreWriteError as exc:  # a full or failing disk: the run failed, nothing lost
        sys.stderr.write(f"timeloom: {exc}\n")
        return EXIT_FAILED
    except StoreError as exc:  # a database that cannot be used (damaged, not ours…)
        sys.stderr.write(f"timeloom: {exc}\n")
        return EXIT_USAGE
    except KeyboardInterrupt:
        sys.stderr.write("timeloom: interrupted; what was committed is kept in the database\n")
        return EXIT_INTERRUPTED
    except BrokenPipeError:
        os.dup2(os.open(os.devnull, os.O_WRONLY), sys.stdout.fileno())
        return EXIT_OK
    except Exception as exc:  # a bug: say so in one sentence, never a traceback
        if os.environ.get("TIMELOOM_DEBUG"):
            raise
        sys.stderr.write(
            f"timeloom: internal error ({exc.__class__.__name__}: {say(str(exc))[:300]}); set "
            "TIMELOOM_DEBUG=1 for the traceback and please report it\n"
        )
        return EXIT_FAILED
    return code
