"""The run screen's keys, each with an id the keymap can remap."""

from __future__ import annotations

from textual.binding import Binding

RUN_BINDINGS = [
    Binding("slash", "ask", "Ask", id="run.ask", tooltip="Ask an entity a question"),
    Binding(
        "b",
        "fork",
        "Fork",
        id="run.fork",
        tooltip="Branch the run here with one change: what if…",
    ),
    Binding(
        "d",
        "diff",
        "Diff",
        id="run.diff",
        tooltip="Compare the selected moment's branch with the marked one, or else with the "
        "one it forked from",
    ),
    Binding(
        "m",
        "mark_branch",
        "Mark branch",
        id="run.mark",
        show=False,
        tooltip="Mark the selected moment's branch; d then compares another branch with it",
    ),
    Binding(
        "p",
        "toggle_pause",
        "Pause/resume",
        id="run.pause",
        tooltip="Pause or resume the live run between timepoints",
    ),
    Binding("s", "step", "Step", id="run.step", tooltip="Run one more timepoint, then pause"),
    Binding(
        "plus,equals_sign",
        "pace(1.5)",
        "Faster",
        id="run.faster",
        show=False,
        tooltip="Stream the live dialog faster",
    ),
    Binding(
        "minus",
        "pace(0.6667)",
        "Slower",
        id="run.slower",
        show=False,
        tooltip="Stream the live dialog slower",
    ),
    Binding(
        "left_square_bracket",
        "scrub(-1)",
        "Back",
        id="run.back",
        tooltip="Go to the previous timepoint",
    ),
    Binding(
        "right_square_bracket",
        "scrub(1)",
        "Forward",
        id="run.forward",
        tooltip="Go to the next timepoint",
    ),
    Binding(
        "left_curly_bracket",
        "scrub_to('start')",
        "Start",
        id="run.start",
        show=False,
        tooltip="Go to the first timepoint",
    ),
    Binding(
        "right_curly_bracket",
        "scrub_to('end')",
        "End",
        id="run.end",
        show=False,
        tooltip="Go to the latest timepoint",
    ),
    Binding(
        "f",
        "fidelity_map",
        "Fidelity",
        id="run.fidelity",
        tooltip="The fidelity map: each entity's level and tokens at every timepoint, and what "
        "raising one would cost",
    ),
    Binding(
        "e",
        "export",
        "Export",
        id="run.export",
        show=False,
        tooltip="Export this run to a file, in any of the export formats (the selected "
        "moment's branch to begin with)",
    ),
    Binding(
        "w",
        "portal",
        "Paths",
        id="run.portal",
        tooltip="The paths of this PORTAL run: every kept path from origin to endpoint, the "
        "competing states of each step, the pivots; compare two, open a state here",
    ),
    # The same key on a run that is not a PORTAL run: not offered, but it says why.
    Binding("w", "portal_unavailable", "", id="run.portal", show=False),
    Binding(
        "F",
        "follow",
        "Follow",
        id="run.follow",
        show=False,
        tooltip="Follow the live run to its newest moment",
    ),
    Binding(
        "1",
        "focus_pane('timeline')",
        "Timeline",
        id="run.focus_timeline",
        show=False,
        tooltip="Show and focus the timeline",
    ),
    Binding(
        "2",
        "focus_pane('dialog')",
        "Dialog",
        id="run.focus_dialog",
        show=False,
        tooltip="Show and focus the dialog",
    ),
    Binding(
        "3",
        "focus_pane('inspector')",
        "Entities",
        id="run.focus_inspector",
        show=False,
        tooltip="Show and focus the entity inspector",
    ),
    Binding(
        "k",
        "inspector_tab('knowledge')",
        "Knowledge",
        id="inspector.knowledge",
        tooltip="Show what the selected entity knows and where it came from",
    ),
    Binding(
        "t",
        "inspector_tab('state')",
        "Tensors",
        id="inspector.tensors",
        tooltip="Show the selected entity's tensors and their history",
    ),
    Binding(
        "i",
        "inspector_tab('inner')",
        "Inner life",
        id="inspector.inner",
        tooltip="Show how the selected entity remembers its last conversation and what it expects",
    ),
    Binding(
        "r",
        "inspector_tab('relations')",
        "Relations",
        id="inspector.relations",
        tooltip="Show the selected entity's relationships",
    ),
    Binding(
        "l",
        "inspector_tab('resolution')",
        "Resolution",
        id="inspector.resolution",
        tooltip="Show the selected entity's fidelity level, why, and its history",
    ),
    Binding(
        "u",
        "earlier",
        "Earlier dialog",
        id="dialog.earlier",
        tooltip="Load the window of dialog before the one shown",
    ),
    Binding(
        "y",
        "copy_run_id",
        "Copy run id",
        id="run.copy_id",
        show=False,
        tooltip="Put this run's id on the clipboard (a line of dialog or an answer: click it)",
    ),
    Binding(
        "z",
        "zoom",
        "Maximise",
        id="run.zoom",
        tooltip="Maximise the pane with focus (the dialog when none has it); z or escape restores",
    ),
    Binding(
        "T",
        "toggle_pane('timeline')",
        "Hide timeline",
        id="run.hide_timeline",
        show=False,
        tooltip="Hide the timeline pane, or show it again; the dialog takes its width",
    ),
    Binding(
        "I",
        "toggle_pane('inspector')",
        "Hide entities",
        id="run.hide_inspector",
        show=False,
        tooltip="Hide the entity inspector, or show it again; the dialog takes its width",
    ),
    Binding("escape", "home", "Runs", id="run.home", tooltip="Back to the list of runs"),
]

# What help says of the run screen's marks, after its keys.
RUN_LEGEND = (
    (
        "what the marks mean",
        [
            ("T S G D ★", "timeline: the richest level of anyone present there", ""),
            ("", "tensor only, scene, graph, dialog, trained (lowest to richest)", ""),
            ("⚠ ✗ …", "timeline: a timepoint degraded, failed, still being made", ""),
            ("DIALOG …", "entities: the level a person is carried at (TENSOR, SCENE, …)", ""),
            ("▁▂▃▅▇", "sparklines: valence, arousal, energy from 0 to 1, oldest first", ""),
        ],
    ),
)
