"""The timeline/branch tree: timepoints in causal order under their branch (M7, M12).

The main branch is the tree's first level; a fork hangs under the timepoint it branched from,
labelled with its intervention (and its score, for a BRANCHING run), and its own timepoints under it. Each node shows its simulated time, title, status and a resolution marker: the
richest resolution any entity present reached at that moment (M1).
"""

from __future__ import annotations

from textual.binding import Binding
from textual.widgets import Tree
from textual.widgets.tree import TreeNode

from engine.model.records import BranchInfo, TimepointInfo
from engine.view import RunView

from .safe import Text

RESOLUTION_MARK = {"tensor_only": "T", "scene": "S", "graph": "G", "dialog": "D", "trained": "★"}
STATUS_MARK = {"ok": "", "degraded": " ⚠", "failed": " ✗", "running": " …"}


def resolution_marker(view: RunView, tp: TimepointInfo) -> str:
    order = list(RESOLUTION_MARK)
    best = -1
    for entity_id in tp.present:
        state = view.state_at(entity_id, tp.timepoint_id)
        if state is not None and state.resolution in order:
            best = max(best, order.index(state.resolution))
    return RESOLUTION_MARK[order[best]] if best >= 0 else "·"


COMPACT = 34  # a tree narrower than this shows the time of day alone, for room for the title


def node_label(
    view: RunView, tp: TimepointInfo, accent: str, warning: str, compact: bool = False
) -> Text:
    """Tree labels are Rich text (the Tree widget's label type), never markup."""
    when = tp.timestamp.strftime("%H:%M" if compact else "%d %b %H:%M")
    return Text.assemble(
        (f"{resolution_marker(view, tp)} ", f"bold {accent}"),
        (f"{when}  ", "dim"),
        (tp.title, ""),
        (STATUS_MARK.get(tp.status, ""), warning),
    )


def branch_label(view: RunView, info: BranchInfo) -> Text:
    """``⑂ b1 no chair: remove Marguerite Solane`` with its status when it is not done."""
    change = info.intervention
    names = {e: view.entities[e].name for e in view.entities}
    what = ""
    if change:
        who = names.get(str(change.get("entity", "")), str(change.get("entity", "")))
        detail = change.get("event") or change.get("information") or ""
        what = f"{change.get('kind')} {who} {detail}".replace("  ", " ").strip()
    status = "" if info.status == "completed" else f" ({info.status})"
    return Text.assemble(
        ("⑂ ", "bold"),
        (info.branch_id, "bold"),
        (f" {info.label}" if info.label else "", "italic"),
        (f" {info.score:.2f}" if info.score is not None else "", "bold"),
        (f": {what}" if what else "", ""),
        (status, "dim"),
    )


class TimelineTree(Tree[str]):
    """Timepoints under their branch; highlighting a node selects that moment."""

    ALLOW_MAXIMIZE = True
    HELP_NAME = "the timeline"

    BINDINGS = [
        Binding(
            "enter",
            "select_cursor",
            "Go to moment",
            id="timeline.select",
            tooltip="Move the whole screen to the highlighted timepoint",
        ),
    ]

    def __init__(self, **kwargs: object) -> None:
        super().__init__("run", **kwargs)  # type: ignore[arg-type]
        self.show_root = False
        self.guide_depth = 2
        self._branch_nodes: dict[str, TreeNode[str]] = {}
        self.programmatic: list[str] = []
        self._synced = 0
        self._tp_nodes: dict[str, TreeNode[str]] = {}
        self._view: RunView | None = None
        self._compact = False

    def on_resize(self) -> None:
        compact = self.size.width < COMPACT
        if compact != self._compact:
            self._compact = compact
            if self._view is not None:  # every label, in the new form
                self._synced = 0
                self.sync(self._view)

    def rebuild(self, view: RunView) -> None:
        self.clear()
        self._branch_nodes.clear()
        self._tp_nodes.clear()
        self._synced = 0
        self.root.set_label(Text(view.run.title or view.run.scenario))
        self.sync(view)

    def sync(self, view: RunView) -> None:
        """Add nodes for new timepoints and relabel the ones that can still change.

        A timepoint changes only while it is the newest one (its status, its resolution
        marker), so only the last synced node and the new ones are visited: a live run with
        thousands of timepoints costs the same per update as a short one.
        """
        self._view = view
        theme = self.app.current_theme
        accent, warning = theme.accent or theme.primary, theme.warning or theme.primary
        for tp in view.timepoints[max(0, self._synced - 1) :]:
            branch = self._branch_nodes.get(tp.branch_id)
            if branch is None:
                branch = self._branch_node(view, tp.branch_id)
            node = self._tp_nodes.get(tp.timepoint_id)
            label = node_label(view, tp, accent, warning, self._compact)
            if node is None:
                self._tp_nodes[tp.timepoint_id] = branch.add_leaf(label, data=tp.timepoint_id)
            elif node.label != label:
                node.set_label(label)
        self._synced = len(view.timepoints)

    def _branch_node(self, view: RunView, branch_id: str) -> TreeNode[str]:
        """A fork hangs under the timepoint it branched from, labelled with what it changed;
        the main branch, a branch opened before the first timepoint (a PORTAL run's path,
        with no fork point) and a branch whose fork point is not shown sit at the top."""
        info = view.branches.get(branch_id)
        fork = self._tp_nodes.get(info.fork_timepoint_id or "") if info else None
        if info is None or info.parent_branch_id is None:  # the main branch
            node = self.root.add(Text(f"branch {branch_id}", style="bold"), data="", expand=True)
        elif fork is None:
            node = self.root.add(branch_label(view, info), data="", expand=True)
        else:
            fork.allow_expand = True
            fork.expand()
            node = fork.add(branch_label(view, info), data="", expand=True)
        self._branch_nodes[branch_id] = node
        return node

    def focus_timepoint(self, timepoint_id: str) -> None:
        """Move the cursor to a timepoint for the screen (not for the user): the highlight this
        causes is marked as programmatic so that it is not taken for a user's choice."""

        def move() -> None:
            node = self._tp_nodes.get(timepoint_id)
            if node is not None and self.cursor_node is not node:
                self.programmatic.append(timepoint_id)
                self.move_cursor(node)

        # New nodes get their line only when the tree next lays out.
        self.call_after_refresh(move)

    def was_programmatic(self, timepoint_id: str) -> bool:
        if timepoint_id in self.programmatic:
            self.programmatic.remove(timepoint_id)
            return True
        return False
