"""A Markdown report of a selection, for people rather than models: what the run was and cost,
who took part and how each ended up, what happened when, every line spoken, where each piece
of knowledge came from (followed back through the people who passed it on), and what the
fidelity plan and the observer did. Written section by section, the dialog one timepoint at a
time; everything the run wrote is escaped so it reads as text, never as Markdown."""

from __future__ import annotations

import re
from collections.abc import Iterator

from ..model.records import KnowledgeInfo, TimepointInfo, TurnInfo
from ..view.fidelity import MARKERS
from .selection import Selection
from .tally import Tally

_SPECIAL = re.compile(r"([\\`*_\[\]<>|#~&!])")
_LINE_START = re.compile(r"^(\s*)([-+=]|\d+[.)])")
CHAIN_DEPTH = 12  # a provenance chain is followed this far back at most
RELATIONS_SHOWN = 3


def md_escape(text: str) -> str:
    """One line of user text that renders as itself (also inside a table cell)."""
    line = " ".join(text.split())
    line = _SPECIAL.sub(r"\\\1", line)
    return _LINE_START.sub(lambda m: m.group(1) + _punct(m.group(2)), line)


def _punct(mark: str) -> str:
    """A list or heading marker made literal: its punctuation escaped (valid anywhere)."""
    return mark[:-1] + "\\" + mark[-1]


def md_block(text: str) -> str:
    """Several lines of user text as one paragraph, line breaks kept."""
    lines = [md_escape(line) for line in text.strip().splitlines() if line.strip()]
    return "  \n".join(lines)


def _name(sel: Selection, entity_id: str | None) -> str:
    if not entity_id:
        return "?"
    who = sel.view.entities.get(entity_id)
    return who.name if who and who.name.strip() else entity_id


def _scope(sel: Selection) -> list[str]:
    """The entities the report is about: those selected, else everyone."""
    return list(sel.entities) if sel.entities else list(sel.view.entities)


def _reach(sel: Selection) -> set[str]:
    return {t.timepoint_id for t in sel.timepoints}


# ---------------------------------------------------------------------------------- sections
def _summary(sel: Selection) -> str:
    run = sel.run
    title = run.title or run.scenario
    status = run.status.value + (f" ({run.status_reason})" if run.status_reason else "")
    rows = [
        ("Run", run.run_id),
        ("Scenario", run.scenario),
        ("Mode", run.mode.value),
        ("Seed", str(run.seed)),
        ("Status", status),
        ("Timepoints", f"{len(sel.timepoints)} exported of {run.counts.timepoints}"),
        ("Dialog turns", f"{len(sel.turns)} exported of {run.counts.dialog_turns}"),
        ("Tokens", f"{run.tokens:,} ({run.tokens_in:,} in, {run.tokens_out:,} out)"),
        ("Cost", f"${run.cost_usd:.4f}"),
        ("Training-safe", "yes" if sel.training_safe else "no"),
    ]
    if sel.entities:
        rows.append(("Entities selected", ", ".join(_name(sel, e) for e in sel.entities)))
    if sel.branch:
        rows.append(("Branch", sel.branch))
    out = [f"# {md_escape(title)}", "", "## Summary", "", "| | |", "|---|---|"]
    out += [f"| {k} | {md_escape(v)} |" for k, v in rows]
    out += ["", "Models:", ""]
    for m in sel.models:
        safe = "training-safe" if m.training_safe else "not training-safe"
        out.append(
            f"- {md_escape(m.provider)}/{md_escape(m.model)}: {m.calls} calls, licence "
            f"{md_escape(m.licence or 'unknown')}, {safe}"
        )
    return "\n".join(out) + "\n\n"


def _cast_entry(sel: Selection, entity_id: str, at: str | None) -> str:
    view = sel.view
    who = view.entities.get(entity_id)
    out = [f"### {md_escape(_name(sel, entity_id))}", ""]
    if who is not None:
        out.append(f"- Role: {md_escape(who.role or 'none given')}")
        out.append(f"- Archetype: {md_escape(who.archetype or 'none')}")
    state = view.state_at(entity_id, at)
    if state is None:
        out.append("- Final state: none recorded")
    else:
        out.append(
            f"- Final state (at {state.timepoint_id or 'the start'}): valence "
            f"{state.valence:+.2f}, arousal {state.arousal:.2f}, energy {state.energy:.0f}/100, "
            f"resolution {state.resolution}"
        )
    rels = view.relations_at(entity_id, at)[:RELATIONS_SHOWN]
    for other, r in rels:
        out.append(
            f"- With {md_escape(_name(sel, other))}: trust {r.trust:+.2f}, alignment "
            f"{r.alignment:+.2f}, {r.interaction_count} interactions"
        )
    return "\n".join(out) + "\n\n"


def _timeline(sel: Selection) -> str:
    out = ["## Timeline", "", "| Timepoint | Branch | Time | Title | Status |"]
    out.append("|---|---|---|---|---|")
    for tp in sel.timepoints:
        out.append(
            f"| {md_escape(tp.timepoint_id)} | {md_escape(tp.branch_id)} | "
            f"{tp.timestamp.isoformat()} | {md_escape(tp.title)} | {md_escape(tp.status)} |"
        )
    return "\n".join(out) + "\n\n"


def _turn(sel: Selection, turn: TurnInfo) -> str:
    tone = f" ({md_escape(turn.emotional_tone)})" if turn.emotional_tone.strip() else ""
    flag = " *(degraded)*" if turn.status != "ok" else ""
    return f"**{md_escape(_name(sel, turn.speaker))}**{tone}{flag}: {md_block(turn.content)}"


def _moment(sel: Selection, tp: TimepointInfo, turns: list[TurnInfo]) -> str:
    out = [f"### {md_escape(tp.timepoint_id)}: {md_escape(tp.title or 'untitled')}", ""]
    scene = sel.view.scene(tp.timepoint_id)
    where = f", {md_escape(scene.environment.location)}" if scene else ""
    out += [f"*{tp.timestamp.isoformat()}{where}*", ""]
    if tp.status != "ok":
        why = "; ".join(tp.issues) or "no detail recorded"
        out += [f"> Degraded ({md_escape(tp.status)}): {md_escape(why)}", ""]
    if tp.event_description.strip():
        out += [md_block(tp.event_description), ""]
    if not turns:
        out += ["*(no dialog selected)*", ""]
    for turn in turns:
        out += [_turn(sel, turn), ""]
    return "\n".join(out) + "\n"


# ---------------------------------------------------------------------------------- provenance
class _Exposures:
    """Each entity's exposures by information, built once per entity when first asked."""

    def __init__(self, sel: Selection) -> None:
        self.sel = sel
        self._by: dict[str, dict[str, list[KnowledgeInfo]]] = {}

    def of(self, entity_id: str) -> dict[str, list[KnowledgeInfo]]:
        found = self._by.get(entity_id)
        if found is None:
            found = {}
            for k in sorted(self.sel.view.all_knowledge(entity_id), key=lambda k: k.seq):
                found.setdefault(k.information, []).append(k)
            self._by[entity_id] = found
        return found

    def before(self, entity_id: str, information: str, seq: int) -> KnowledgeInfo | None:
        """The entity's latest exposure to ``information`` before ``seq`` (initial knowledge
        has no timepoint and always counts as before)."""
        held = self.of(entity_id).get(information, ())
        earlier = [k for k in held if k.seq < seq] or [k for k in held if not k.timepoint_id]
        return earlier[-1] if earlier else None


def _how(sel: Selection, k: KnowledgeInfo, first: bool = False) -> str:
    at = f" at {k.timepoint_id}" if k.timepoint_id else ""
    if k.kind == "initial":
        return "known from the start" if first else "knew it from the start"
    if k.kind == "told":
        told = "told" if first else "was told it"
        return f"{told} by {md_escape(_name(sel, k.source))}{at}"
    source = f" from {md_escape(_name(sel, k.source))}" if k.source else ""
    return f"{md_escape(k.kind)} it{source}{at}"


def provenance_chain(sel: Selection, k: KnowledgeInfo, index: _Exposures) -> str:
    """How an exposure came about, followed back through each source's own exposure of the
    same information: ``told by X at tp03, who witnessed it at tp02``."""
    parts = [_how(sel, k, first=True)]
    seen = {(k.entity_id, k.seq)}
    step = k
    for _ in range(CHAIN_DEPTH):
        if not step.source or step.source == step.entity_id:
            break
        prior = index.before(step.source, step.information, step.seq)
        if prior is None:
            parts.append("who is the first on record to hold it")
            break
        if (prior.entity_id, prior.seq) in seen:
            break
        seen.add((prior.entity_id, prior.seq))
        parts.append(f"who {_how(sel, prior)}")
        step = prior
    return ", ".join(parts)


def _provenance(sel: Selection, entity_id: str, index: _Exposures, reach: set[str]) -> str:
    known = [
        k
        for k in sel.view.all_knowledge(entity_id)
        if not k.timepoint_id or k.timepoint_id in reach
    ]
    out = [f"### {md_escape(_name(sel, entity_id))}", ""]
    if not known:
        out.append("*(nothing recorded)*")
    for k in known:
        out.append(
            f"- “{md_escape(k.information)}”: {provenance_chain(sel, k, index)} "
            f"(confidence {k.confidence:.2f})"
        )
    return "\n".join(out) + "\n\n"


# ---------------------------------------------------------------------------------- fidelity
def _levels_row(sel: Selection, entity_id: str) -> str:
    """The entity's level at each selected timepoint, as markers: a level set at a timepoint
    holds for its descendants until another is set (one pass, parent before child)."""
    view = sel.view
    set_at: dict[str, str] = {}
    for info in view.levels_of(entity_id):
        if info.timepoint_id:
            set_at[info.timepoint_id] = info.level  # in seq order: the latest wins
    at: dict[str, str] = {}
    row = []
    for tp in sel.timepoints:
        level = set_at.get(tp.timepoint_id)
        if level is None and tp.parent:
            level = at.get(tp.parent)
            if level is None:
                found = view.level_at(entity_id, tp.parent)
                level = found.level if found else None
        if level is None:
            found = view.level_at(entity_id, tp.timepoint_id)
            level = found.level if found else ""
        at[tp.timepoint_id] = level
        row.append(MARKERS.get(level, "?") if level else "·")
    return "".join(row)


def _fidelity(sel: Selection, scope: list[str], reach: set[str]) -> str:
    view = sel.view
    legend = ", ".join(f"{m} {level}" for level, m in MARKERS.items())
    out = ["## Fidelity", "", f"One marker per timepoint ({legend}, · none recorded).", ""]
    out += ["| Entity | Levels |", "|---|---|"]
    out += [f"| {md_escape(_name(sel, e))} | `{_levels_row(sel, e)}` |" for e in scope]
    wanted = set(scope)
    actions = [
        a
        for a in view.observer_actions()
        if a.entity_id in wanted and (a.timepoint_id is None or a.timepoint_id in reach)
    ]
    out += ["", "Observer actions:", ""]
    if not actions:
        out.append("- none")
    for a in actions:
        where = f" at {a.timepoint_id}" if a.timepoint_id else ""
        out.append(f"- {a.kind} {md_escape(_name(sel, a.entity_id))}{where}: {md_escape(a.detail)}")
    out += ["", "Queries:", ""]
    asked = 0
    for tp in sel.timepoints:
        for q in view.queries(tp.timepoint_id):
            if q.entity_id not in wanted:
                continue
            asked += 1
            out.append(
                f"- {md_escape(_name(sel, q.entity_id))} at {tp.timepoint_id}, asked "
                f"“{md_escape(q.question)}”: {md_escape(q.answer or '(no answer)')} "
                f"({md_escape(q.status)})"
            )
    if not asked:
        out.append("- none")
    return "\n".join(out) + "\n\n"


def _cost(sel: Selection, scope: list[str]) -> str:
    run, view = sel.run, sel.view
    out = [
        "## Cost",
        "",
        f"- Calls: {run.counts.llm_calls} ({run.cached_calls} answered from the cassette)",
        f"- Tokens: {run.tokens_in:,} prompt, {run.tokens_out:,} completion",
        f"- Cost: ${run.cost_usd:.4f} (spent by this execution: ${run.spent_usd:.4f}, "
        f"{run.spent_tokens:,} tokens)",
    ]
    for level, avg in sorted(view.level_costs().items()):
        out.append(f"- Average tokens of a {md_escape(level)} cell: {avg:,.0f}")
    for e in scope:
        spent = sum(view.tokens_at(e, tp.timepoint_id) for tp in sel.timepoints)
        out.append(f"- Tokens on {md_escape(_name(sel, e))}: {spent:,}")
    return "\n".join(out) + "\n"


def markdown_lines(sel: Selection, tally: Tally) -> Iterator[str]:
    """The report, section by section (the dialog a timepoint at a time); records are the
    dialog turns written."""
    scope = _scope(sel)
    reach = _reach(sel)
    last = sel.timepoints[-1].timepoint_id if sel.timepoints else None
    yield _summary(sel)
    yield "## Cast\n\n"
    for e in scope:
        yield _cast_entry(sel, e, last)
    tally.add("entities", len(scope))
    yield _timeline(sel)
    by_tp: dict[str, list[TurnInfo]] = {}
    for turn in sel.turns:
        by_tp.setdefault(turn.timepoint_id, []).append(turn)
    yield "## Dialog\n\n"
    for tp in sel.timepoints:
        turns = by_tp.get(tp.timepoint_id, [])
        tally.records += len(turns)
        yield _moment(sel, tp, turns)
    yield "## Knowledge provenance\n\n"
    index = _Exposures(sel)
    for e in scope:
        yield _provenance(sel, e, index, reach)
    yield _fidelity(sel, scope, reach)
    yield _cost(sel, scope)
