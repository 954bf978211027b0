"""Commands that read stored runs: ``runs`` and ``show``."""

from __future__ import annotations

import argparse
import asyncio
from typing import Any

from .common import (
    EXIT_OK,
    UsageError,
    clean,
    db_path,
    make_console,
    open_store,
    print_json,
    safe,
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
    store = await open_store(args, readonly=True)
    try:
        runs = await store.list_runs()
    finally:
        await store.close()
    if args.json:
        print_json([summary_json(r, (), db_path(args)) for r in runs])
        return EXIT_OK
    if not runs:
        print(
            f"no runs yet in {clean(str(db_path(args)))}; start one with: "
            "timeloom run lighthouse_night"
        )
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
            _progress(r),
            str(r.counts.dialog_turns),
            f"{r.tokens:,}",
            f"${r.cost_usd:.4f}",
            f"{r.started_at:%Y-%m-%d %H:%M}",
            f"{r.wall_seconds:.1f}" if r.wall_seconds is not None else "-",
        )
    out = make_console()
    out.print(table)
    interrupted = [r.run_id for r in runs if r.status.value == "interrupted"]
    if interrupted:
        out.print(
            f"{len(interrupted)} interrupted (their process died): continue one with "
            f"timeloom resume {interrupted[0]}",
            markup=False,
        )
    return EXIT_OK


async def _show(args: argparse.Namespace) -> int:
    from engine.store import StoreError

    store = await open_store(args, readonly=True)
    try:
        try:  # one transaction: the summary agrees with the rows while a run writes
            whole = await store.load_whole(args.run_id)
        except StoreError as exc:
            raise UsageError(str(exc)) from exc
    finally:
        await store.close()
    view, summary, warnings, branches = whole.view, whole.summary, whole.warnings, whole.branches
    fidelity = _fidelity(whole)
    end = view.latest.timepoint_id if view.latest else None
    entities = list(view.entities.values())
    known = {e.entity_id: len(view.knowledge_at(e.entity_id, end)) for e in entities}
    latest = {e.entity_id: view.state_at(e.entity_id, end) for e in entities}

    def inner_lives(tp: Any) -> list[Any]:
        found = (view.inner_at(e, tp.timepoint_id) for e in tp.present)
        return [x for x in found if x is not None and x.timepoint_id == tp.timepoint_id]

    portal = view.portal if view.portal.active else None
    if args.json:
        data = summary_json(summary, warnings, db_path(args), portal)
        data["title"] = summary.title
        data["entities_detail"] = [
            {
                "entity_id": e.entity_id,
                "name": e.name,
                "type": e.entity_type,
                "role": e.role,
                "knowledge_items": known[e.entity_id],
                "resolution": state.resolution if (state := latest[e.entity_id]) else None,
                "cognitive": _cognitive(state) if state else None,
            }
            for e in entities
        ]
        data["timepoints_detail"] = [
            {
                "timepoint_id": t.timepoint_id,
                "branch_id": t.branch_id,
                "index": t.index,
                "timestamp": t.timestamp.isoformat(),
                "title": t.title,
                "event_description": t.event_description,
                "status": t.status,
                "entities_present": list(t.present),
                "dialog": [
                    {
                        "speaker": turn.speaker,
                        "content": turn.content,
                        "emotional_tone": turn.emotional_tone,
                        "knowledge_references": list(turn.knowledge_references),
                    }
                    for turn in view.turns(t.timepoint_id)
                ],
                "scene": _scene_json(view.scene(t.timepoint_id)),
                "inner_lives": [x.model_dump(mode="json") for x in inner_lives(t)],
            }
            for t in view.timepoints
        ]
        data["branches"] = [_branch_json(b, summary) for b in branches]
        data["fidelity"] = fidelity
        if portal is not None:
            data.update(_portal_json(view))
        print_json(data)
        return EXIT_OK
    escape = safe

    out = make_console()
    out.print(
        f"[bold]{escape(summary.title or summary.scenario)}[/]  ({escape(summary.scenario)}, "
        f"{summary.mode.value}, seed {summary.seed}, {summary.provider}/{summary.model})"
    )
    out.print(clean(summary_line(summary, portal)), markup=False)
    for w in warnings:
        out.print(f"  [yellow]not supported:[/] {escape(w)}")
    out.print()
    out.print("[bold]Entities[/]")
    for e in entities:
        state = latest[e.entity_id]
        mood = (
            f"valence {state.valence:+.2f}, arousal {state.arousal:.2f}, energy "
            f"{state.energy:.0f} [{state.resolution}]"
            if state
            else ""
        )
        out.print(
            f"  {escape(e.name)} - {escape(e.role)}; {known[e.entity_id]} knowledge items; {mood}"
        )
    timepoints = view.timepoints
    if portal is not None:  # each path's states together, in the order time runs
        _print_portal(out, view, {b.branch_id: b for b in branches})
        timepoints = sorted(timepoints, key=lambda t: (t.branch_id != "main", t.branch_id, t.index))
    for t in timepoints:
        out.print()
        out.print(
            f"[bold]{t.timepoint_id} {escape(t.title)}[/] [dim]{t.timestamp.isoformat()}"
            f"{'' if t.status == 'ok' else ' (' + t.status + ')'}[/]"
        )
        out.print(f"  {escape(t.event_description)}")
        scene = view.scene(t.timepoint_id)
        if scene is not None:
            moved = f" → {scene.after.tension:.2f}" if scene.after else ""
            out.print(
                f"  [dim]the room: {escape(scene.atmosphere.description)} (tension "
                f"{scene.atmosphere.tension:.2f}{moved})[/]"
            )
        for turn in view.turns(t.timepoint_id):
            name = (
                view.entities[turn.speaker].name if turn.speaker in view.entities else turn.speaker
            )
            out.print(
                f"  [bold]{escape(name)}[/] [dim]({escape(turn.emotional_tone)})[/]: "
                f"{escape(turn.content)}"
            )
        for inner in inner_lives(t):
            name = escape(view.entities[inner.entity_id].name)
            out.print(f"  [italic]{name} remembers:[/] {escape(inner.memory)}")
    # a PORTAL run's branches are its paths, shown in its Portal section
    forks = [b for b in branches if b.parent_branch_id is not None and portal is None]
    if forks:
        out.print()
        out.print("[bold]Branches[/]")
    for b in forks:
        score = f"score {b.score:.2f}" if b.score is not None else "unscored"
        parts = (b.scoring or {}).get("components") or {}
        detail = ", ".join(f"{k} {v:.2f}" for k, v in parts.items())
        out.print(
            f"  {b.branch_id} {escape(b.label)} (from {b.parent_branch_id} at "
            f"{b.fork_timepoint_id}, {b.status}): {score}"
            + (f" [dim]({escape(detail)})[/]" if detail else "")
        )
    _print_fidelity(out, view, fidelity)
    return EXIT_OK


def _fidelity(whole: Any) -> dict[str, Any]:
    """The run's fidelity as it happened, and the observer ledger (what queries changed)."""
    from engine.view.fidelity import fidelity_profile

    view, scenario = whole.view, whole.scenario
    profile = fidelity_profile(whole.events)
    return {
        "template": (scenario.get("fidelity") or {}).get("template", "balanced"),
        **profile,
        "observer": [
            {
                "kind": a.kind,
                "entity_id": a.entity_id,
                "timepoint_id": a.timepoint_id,
                "query_id": a.query_id,
                "detail": a.detail,
            }
            for a in view.observer_actions()
        ],
        "lookups": [
            {
                "kind": x.kind,
                "query_id": x.query_id,
                "text": x.text,
                "entity_id": x.entity_id,
                "timepoint_id": x.timepoint_id,
                "found": list(x.found),
                "summary": x.summary,
            }
            for x in view.lookups()
        ],
    }


def _portal_json(view: Any) -> dict[str, Any]:
    """A PORTAL run's search for ``show --json``: its kept paths (each with its steps, their
    timepoints and scores, and its coherence), the divergence and the pivots by position, and
    the rest of the search under ``portal``."""
    tps = {(t.branch_id, t.index): t.timepoint_id for t in view.timepoints}
    found = view.portal.as_json(tps)
    key = set(found["key_positions"])
    titles = {c.candidate_id: c.title for c in view.portal.candidates.values()}
    shown = ("paths", "divergence", "pivots")
    return {
        "paths": found["paths"],
        "divergence": [{**d, "key": d["position"] in key} for d in found["divergence"]],
        "pivots": [
            {
                **p,
                "timepoint_id": tps.get((p["branch_id"], p["position"])),
                "title": titles.get(p["candidate_id"], ""),
            }
            for p in found["pivots"]
        ],
        "portal": {k: v for k, v in found.items() if k not in shown},
    }


WIDTH = 78  # the Portal section reads at 80 columns, whatever the console's width


def _wrapped(out: Any, text: str, indent: str = "  ", more: str = "    ") -> None:
    import textwrap

    for line in textwrap.wrap(clean(text), WIDTH, initial_indent=indent, subsequent_indent=more):
        out.print(line, markup=False)


def _cut(text: str, room: int) -> str:
    text = clean(text)
    return text if len(text) <= room else text[: room - 1].rstrip() + "…"


def _num(value: float | None) -> str:
    return f"{value:.2f}" if value is not None else "-"


def _print_portal(out: Any, view: Any, branches: dict[str, Any]) -> None:
    """The Portal section of ``show``: the search, each kept path position by position (date,
    score, title), the divergence by position and the pivots, each with its sentence."""
    portal, s = view.portal, view.portal.settings
    times = list(s.slot_times)
    daily = len({t.date() for t in times}) == len(times)

    def when(at: Any) -> str:
        return f"{at:%Y-%m-%d}" if daily else f"{at:%Y-%m-%d %H:%M}"

    out.print()
    out.print(
        f"[bold]Portal[/] ({safe(s.strategy)}, {s.steps} steps back, beam {s.beam}, "
        f"coherence threshold {s.coherence_threshold:.2f})"
    )
    _wrapped(out, f"endpoint ({when(times[0]) if times else '?'}): {s.endpoint}")
    proposed = sum(1 for c in portal.candidates.values() if c.source != "scenario")
    given = len(portal.candidates) - proposed
    out.print(
        f"  {len(portal.candidates)} candidates ({proposed} proposed"
        f"{f', {given} given' if given else ''}), {len(portal.failures)} failed calls, "
        f"{len(portal.judged)} paths judged, {len(portal.kept)} kept",
        markup=False,
    )
    for note in s.not_supported:
        _wrapped(out, f"not supported: {note}")
    for f in portal.failures[:5]:
        at = f" at slot {f.slot}" if f.slot is not None else ""
        _wrapped(out, f"failed {f.stage}{at}: {f.error}", "    ", "      ")
    if len(portal.failures) > 5:
        out.print(f"    … and {len(portal.failures) - 5} more failed calls", markup=False)
    pivots = {(p.branch_id, p.position) for p in portal.pivots}
    for k in portal.kept:
        branch = branches.get(k.branch_id)
        status = f", {branch.status}" if branch is not None and branch.status != "completed" else ""
        out.print()
        out.print(
            f"  [bold]#{k.rank} {safe(k.branch_id)}[/] coherence {_num(k.coherence)}, "
            f"score {_num(k.score)}, cluster {k.cluster}{status}"
        )
        if k.warning:
            _wrapped(out, f"warning: {k.warning}", "    ", "      ")
        for i, c in enumerate(portal.path(k.branch_id)):
            mark = "*" if (k.branch_id, i) in pivots else " "
            head = f"   {mark}{i:>2} {when(c.when)} {_num(c.score):>4}  "
            out.print(head + _cut(c.title or c.description, WIDTH - len(head)), markup=False)
    if portal.divergence:
        key = set(portal.key_positions)
        cells = "  ".join(
            f"{p}:{v:.2f}{'*' if p in key else ''}" for p, v in enumerate(portal.divergence)
        )
        out.print()
        _wrapped(out, f"divergence by position (* where the paths part): {cells}")
    if portal.pivots:
        out.print()
        out.print("  [bold]Pivots[/] [dim](marked * on the paths above)[/]")
    for p in portal.pivots:
        _wrapped(
            out,
            f"{p.branch_id} position {p.position} (slot {p.slot}, strength {p.strength:.2f}): "
            f"{p.sentence}",
            "    ",
            "      ",
        )


def _print_fidelity(out: Any, view: Any, fidelity: dict[str, Any]) -> None:
    from engine.view.fidelity import profile_line

    escape = safe

    if not fidelity["cells"] and not fidelity["observer"] and not fidelity["lookups"]:
        return
    out.print()
    out.print(f"[bold]Fidelity[/] ({escape(fidelity['template'])}): {profile_line(fidelity)}")
    out.print("  [dim]T tensor only · S scene · G graph · D dialog · ★ trained, per timepoint[/]")
    for entity_id, row in fidelity["rows"].items():
        name = view.entities[entity_id].name if entity_id in view.entities else entity_id
        out.print(f"  {clean(name)[:24]:<24} {row}", markup=False)
    if fidelity["observer"]:
        out.print()
        out.print("[bold]Observer ledger[/] [dim](where exploring changed the record)[/]")
    for a in fidelity["observer"]:
        at = f" at {a['timepoint_id']}" if a["timepoint_id"] else ""
        out.print(
            f"  {a['query_id'] or '-'} {a['kind']} {escape(a['entity_id'])}{at}: "
            f"{escape(a['detail'])}"
        )
    if fidelity["lookups"]:
        out.print()
        out.print("[bold]Looked up[/] [dim](read from the record, nothing changed)[/]")
    for x in fidelity["lookups"]:
        at = f" at {x['timepoint_id']}" if x["timepoint_id"] else ""
        out.print(f"  {x['query_id']} {escape(x['text'])}{at}: {escape(x['summary'])}")


def _cognitive(state: Any) -> dict[str, Any]:
    if state.cognitive is not None:
        return state.cognitive.model_dump(mode="json")
    return {"valence": state.valence, "arousal": state.arousal, "energy": state.energy}


def _scene_json(scene: Any) -> dict[str, Any] | None:
    return None if scene is None else scene.model_dump(mode="json")


def _branch_json(b: Any, summary: Any) -> dict[str, Any]:
    main = b.parent_branch_id is None  # the main branch's outcome is the run's
    return {
        "branch_id": b.branch_id,
        "parent_branch_id": b.parent_branch_id,
        "fork_timepoint_id": b.fork_timepoint_id,
        "label": b.label,
        "intervention": b.intervention or None,
        "status": summary.status.value if main else b.status,
        "reason": summary.status_reason if main else b.status_reason,
        "score": b.score,
        "scoring": b.scoring or None,  # components, weights, and why any signal is missing
        "score_missing": None if b.score is not None else _why_unscored(b, summary),
    }


def _why_unscored(b: Any, summary: Any) -> str:
    if summary.mode.value == "portal" and b.parent_branch_id is not None:
        return "a PORTAL path is judged by its coherence and its states' scores (see paths)"
    if b.parent_branch_id is None:
        return "the main branch is the trunk the alternatives fork from; it is not scored"
    if b.scoring:
        missing = b.scoring.get("missing") or {}
        return "; ".join(str(v) for v in missing.values()) or "no outcome signal could be read"
    return "only the branches of a BRANCHING run are scored; a fork by hand is not"


def _progress(r: Any) -> str:
    """``4/4``, or ``4/4 ⑂2`` for a run with two forks (whose timepoints are not counted here)."""
    if not r.forks or r.mode.value in ("branching", "portal"):  # a plan counting its branches
        return f"{r.counts.timepoints}/{r.planned_timepoints}" + (f" ⑂{r.forks}" if r.forks else "")
    return f"{r.main_timepoints}/{r.planned_timepoints} ⑂{r.forks}"
