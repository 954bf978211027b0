"""``timeloom query``: put a query to a stored run, headless.

Everything the explorer's query bar takes: ``@entity question``, ``@entity@tp03 question``,
``/elevate @entity [to LEVEL]``, ``/who-knows "…"``, ``/why @entity "…"``. When the query
needs an entity raised to a richer level or created, the estimate is shown first: ``--yes``
agrees to it, a terminal is asked, and otherwise nothing is spent and the exit status is 2.
"""

from __future__ import annotations

import argparse
import asyncio
import sys
from typing import Any

from .common import EXIT_OK, EXIT_USAGE, UsageError, open_store, print_json, user_config


def add_parser(sub: Any, db: argparse.ArgumentParser) -> None:
    query = sub.add_parser(
        "query",
        parents=[db],
        help="ask an entity of a stored run a question, raise its fidelity, or trace knowledge",
        description="Put one query to a stored run: @entity question, @entity@tp03 question, "
        '/elevate @entity [to LEVEL], /who-knows "phrase", /why @entity "phrase". An entity '
        "below the level a question needs is raised first (estimated, then run with --yes).",
    )
    query.add_argument("run_id", metavar="RUN_ID", help="a run id or a unique prefix of one")
    query.add_argument("query", metavar="QUERY", help='e.g. "@mara why did you lie?"')
    query.add_argument("--branch", metavar="BRANCH", help="the branch to ask on (default main)")
    query.add_argument("--at", metavar="TIMEPOINT", help="the moment (default: the newest)")
    query.add_argument(
        "--yes", action="store_true", help="agree to raising or creating an entity without asking"
    )
    query.add_argument("--json", action="store_true", help="print one JSON object")


def query(args: argparse.Namespace) -> int:
    """``timeloom query``."""
    return asyncio.run(_query(args))


async def _provider(summary: Any) -> tuple[Any, Any, Any]:
    from engine.llm.factory import OfflineProvider
    from engine.session import ProviderUnavailable, open_for_queries

    if summary.provider == "offline":
        return OfflineProvider(summary.seed), None, None
    try:
        return await open_for_queries(user_config(), summary.provider, summary.model, summary.seed)
    except ProviderUnavailable as exc:
        raise UsageError(f"run {summary.run_id} was made with {summary.provider}: {exc}") from exc


def _confirm(message: str) -> bool:
    if not (sys.stdin.isatty() and sys.stderr.isatty()):
        return False
    sys.stderr.write(f"{message}. Go ahead? [y/N] ")
    sys.stderr.flush()
    return sys.stdin.readline().strip().lower() in ("y", "yes")


async def _query(args: argparse.Namespace) -> int:
    from engine.query.answer import QueryFailed
    from engine.query.execute import Consent
    from engine.query.stored import run_query
    from engine.store import StoreError

    store = await open_store(args)
    close = None
    try:
        try:
            summary = await store.get_run(args.run_id)
        except StoreError as exc:
            raise UsageError(str(exc)) from exc
        provider, router, close = await _provider(summary)
        consent = Consent(elevate=args.yes, create=args.yes)

        async def attempt(agreed: Any) -> Any:
            try:
                return await run_query(
                    store,
                    provider,
                    summary.run_id,
                    args.query,
                    at=args.at,
                    branch=args.branch,
                    consent=agreed,
                    router=router,
                )
            except QueryFailed as exc:
                raise UsageError(str(exc)) from exc

        outcome = await attempt(consent)
        if outcome.needs_consent and not args.json and _confirm(outcome.message):
            outcome = await attempt(Consent(elevate=True, create=True))
    finally:
        if close is not None:
            await close()
        await store.close()
    if args.json:
        print_json({"run_id": summary.run_id, **outcome.to_json()})
    else:
        _print(outcome)
    if outcome.needs_consent:
        if not args.json:
            sys.stderr.write(f"timeloom: {outcome.message}; nothing was spent (add --yes)\n")
        return EXIT_USAGE
    return EXIT_OK


def _print(outcome: Any) -> None:
    from rich.markup import escape

    from .common import make_console

    console = make_console()
    if outcome.created is not None:
        p = outcome.created.profile
        console.print(f"created {escape(p.name)} ({escape(p.role)}) as {p.entity_id}")
    if outcome.elevated is not None:
        e, plan = outcome.elevated, outcome.elevation
        console.print(
            f"raised {escape(plan.name)} from {plan.current.value} to {plan.target.value} "
            f"({escape(plan.reason)}): {e.prompt_tokens + e.completion_tokens} tokens, "
            f"{e.learned} new item(s)"
        )
    if outcome.kind == "answer":
        a = outcome.answer
        console.print(
            f"[bold]{escape(a.entity_id)}[/] at {a.timepoint_id or 'the start'} "
            f"({a.level}): {escape(a.answer)}"
        )
        for item in a.provenance:
            origin = f"from {item['source']}" if item.get("source") else item["kind"]
            when = f" at {item['timepoint_id']}" if item.get("timepoint_id") else ""
            console.print(f"  · {escape(item['information'])} ({escape(origin)}{when})")
    elif outcome.kind == "who_knows":
        if not outcome.holders:
            console.print("nobody holds that then")
        for h in outcome.holders:
            k = h.item
            origin = f"from {k.source}" if k.source else k.kind
            console.print(f"{escape(h.name)}: {escape(k.information)} ({escape(origin)})")
    elif outcome.kind in ("why", "elevated", "consent"):
        console.print(escape(outcome.message))
