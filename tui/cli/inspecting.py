"""Commands that read stored runs: ``runs`` and ``show``."""

from __future__ import annotations

import argparse
import asyncio
import json
from typing import Any

from .common import (
    EXIT_OK,
    UsageError,
    db_path,
    make_console,
    open_store,
    print_json,
    summary_json,
    summary_line,
)


def runs(args: argparse.Namespace) -> int:
    """``timeloom runs``."""
    return asyncio.run(_runs(args))


def show(args: argparse.Namespace) -> int:
    """``timeloom show``."""
    return asyncio.run(_show(args))


async def _runs(args: argparse.Namespace) -> int:
    store = await open_store(args)
    try:
        runs = await store.list_runs()
    finally:
        await store.close()
    if args.json:
        print_json([summary_json(r, (), db_path(args)) for r in runs])
        return EXIT_OK
    if not runs:
        print(f"no runs yet in {db_path(args)}; start one with: timeloom run lighthouse_night")
        return EXIT_OK
    from rich.table import Table

    table = Table(box=None, header_style="bold")
    for column in (
        "run id",
        "scenario",
        "mode",
        "status",
        "ents",
        "tps",
        "turns",
        "tokens",
        "cost",
        "started",
        "secs",
    ):
        table.add_column(
            column,
            no_wrap=True,
            justify="right"
            if column in {"ents", "tps", "turns", "tokens", "cost", "secs"}
            else "left",
        )
    for r in runs:
        table.add_row(
            r.run_id,
            r.scenario,
            r.mode.value,
            r.status.value,
            str(r.counts.entities),
            f"{r.counts.timepoints}/{r.planned_timepoints}",
            str(r.counts.dialog_turns),
            f"{r.tokens:,}",
            f"${r.cost_usd:.4f}",
            f"{r.started_at:%Y-%m-%d %H:%M}",
            f"{r.wall_seconds:.1f}" if r.wall_seconds is not None else "-",
        )
    make_console().print(table)
    return EXIT_OK


async def _show(args: argparse.Namespace) -> int:
    from engine.store import StoreError

    store = await open_store(args)
    try:
        try:
            summary = await store.get_run(args.run_id)
        except StoreError as exc:
            raise UsageError(str(exc)) from exc
        run_id = summary.run_id
        warnings = await store.run_warnings(run_id)
        entities = await store.table("entities", run_id)
        timepoints = await store.timepoints(run_id)
        turns = await store.table("dialog_turns", run_id, order="seq")
        exposures = await store.table("exposure_events", run_id, order="seq")
        states = await store.table("entity_states", run_id, order="seq")
        scenes = {r["timepoint_id"]: r for r in await store.table("scenes", run_id, order="seq")}
        inner_rows = await store.table("inner_lives", run_id, order="seq")
    finally:
        await store.close()
    inner_by_tp: dict[str, list[dict[str, Any]]] = {}
    for row in inner_rows:
        inner_by_tp.setdefault(row["timepoint_id"], []).append(json.loads(row["inner_json"]))
    names = {e["entity_id"]: e["name"] for e in entities}
    latest: dict[str, dict[str, Any]] = {}
    for state in states:
        latest[state["entity_id"]] = state
    known: dict[str, int] = {}
    for x in exposures:
        known[x["entity_id"]] = known.get(x["entity_id"], 0) + 1
    by_tp: dict[str, list[dict[str, Any]]] = {}
    for turn in turns:
        by_tp.setdefault(turn["timepoint_id"], []).append(turn)
    if args.json:
        data = summary_json(summary, warnings, db_path(args))
        data["title"] = summary.title
        data["entities_detail"] = [
            {
                "entity_id": e["entity_id"],
                "name": e["name"],
                "type": e["entity_type"],
                "role": e["role"],
                "knowledge_items": known.get(e["entity_id"], 0),
                "resolution": latest.get(e["entity_id"], {}).get("resolution"),
                "cognitive": json.loads(latest[e["entity_id"]]["cognitive_json"])
                if e["entity_id"] in latest
                else None,
            }
            for e in entities
        ]
        data["timepoints_detail"] = [
            {
                "timepoint_id": t["timepoint_id"],
                "index": t["idx"],
                "timestamp": t["timestamp"],
                "title": t["title"],
                "event_description": t["event_description"],
                "status": t["status"],
                "entities_present": json.loads(t["entities_present_json"]),
                "dialog": [
                    {
                        "speaker": turn["speaker"],
                        "content": turn["content"],
                        "emotional_tone": turn["emotional_tone"],
                        "knowledge_references": json.loads(turn["knowledge_refs_json"]),
                    }
                    for turn in by_tp.get(t["timepoint_id"], [])
                ],
                "scene": _scene_json(scenes.get(t["timepoint_id"])),
                "inner_lives": inner_by_tp.get(t["timepoint_id"], []),
            }
            for t in timepoints
        ]
        print_json(data)
        return EXIT_OK
    from rich.markup import escape

    out = make_console()
    out.print(
        f"[bold]{escape(summary.title or summary.scenario)}[/]  ({summary.scenario}, "
        f"{summary.mode.value}, seed {summary.seed}, {summary.provider}/{summary.model})"
    )
    out.print(summary_line(summary), markup=False)
    for w in warnings:
        out.print(f"  [yellow]not supported:[/] {escape(w)}")
    out.print()
    out.print("[bold]Entities[/]")
    for e in entities:
        state = latest.get(e["entity_id"])
        mood = ""
        if state:
            cog = json.loads(state["cognitive_json"])
            mood = (
                f"valence {cog['valence']:+.2f}, arousal {cog['arousal']:.2f}, energy "
                f"{cog['energy']:.0f} [{state['resolution']}]"
            )
        out.print(
            f"  {escape(e['name'])} - {escape(e['role'])}; "
            f"{known.get(e['entity_id'], 0)} knowledge items; {mood}"
        )
    for t in timepoints:
        out.print()
        out.print(
            f"[bold]{t['timepoint_id']} {escape(t['title'])}[/] [dim]{t['timestamp']}"
            f"{'' if t['status'] == 'ok' else ' (' + t['status'] + ')'}[/]"
        )
        out.print(f"  {escape(t['event_description'])}")
        scene = _scene_json(scenes.get(t["timepoint_id"]))
        if scene is not None:
            moved = f" → {scene['after']['tension']:.2f}" if scene["after"] else ""
            out.print(
                f"  [dim]the room: {escape(scene['atmosphere']['description'])} (tension "
                f"{scene['atmosphere']['tension']:.2f}{moved})[/]"
            )
        for turn in by_tp.get(t["timepoint_id"], []):
            out.print(
                f"  [bold]{escape(names.get(turn['speaker'], turn['speaker']))}[/] "
                f"[dim]({escape(turn['emotional_tone'])})[/]: {escape(turn['content'])}"
            )
        for inner in inner_by_tp.get(t["timepoint_id"], []):
            name = escape(names.get(inner["entity_id"], inner["entity_id"]))
            out.print(f"  [italic]{name} remembers:[/] {escape(inner['memory'])}")
    return EXIT_OK


def _scene_json(row: dict[str, Any] | None) -> dict[str, Any] | None:
    if row is None:
        return None
    scene = json.loads(row["scene_json"])
    scene["after"] = json.loads(row["after_json"]) if row["after_json"] else None
    return scene
