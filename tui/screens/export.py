"""The export form: choose a format, what of the run to take and where to write it, see what
that selects and how the file begins, then write it (off the UI thread, with a progress bar).

The run is read whole once when the form opens; each change of the form asks the bridge for
a fresh preview (a short pause coalesces typing). The form returns the written path."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from textual import on
from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import Horizontal, Vertical
from textual.screen import ModalScreen
from textual.timer import Timer
from textual.widgets import Button, Checkbox, Input, ProgressBar, Select, Static

from engine.export.formats import FORMATS
from engine.export.job import default_path

from ..messages import ExportChoices, ExportFinished, ExportPreviewed, ExportProgress, ExportReady
from ..widgets.safe import Content

WHOLE_RUN = ""  # the branch choice that takes every branch
PREVIEW_DELAY = 0.12  # seconds of quiet before a changed form is previewed


class ExportScreen(ModalScreen[Path | None]):
    CSS_PATH = "export.tcss"
    BINDINGS = [
        Binding("escape", "close", "Close", id="export.close", tooltip="Close without exporting"),
    ]

    def __init__(self, run_id: str, branch: str | None = None) -> None:
        super().__init__()
        self.run_id = run_id
        self.branch = branch  # the branch chosen when the form opens (None: the whole run)
        self.basis: Any = None  # the run read whole (the bridge's handle), once it is
        self.seq = 0  # the latest choices asked about
        self.shown = -1  # the choices whose preview is on screen
        self.counts: tuple[int, int, int] | None = None
        self.lines: tuple[str, ...] = ()
        self.error: str | None = None
        self.exporting = False
        self.written: Path | None = None
        self._timer: Timer | None = None
        self._default = str(default_path(run_id, FORMATS["jsonl"]))

    # ------------------------------------------------------------------ layout
    def compose(self) -> ComposeResult:
        formats = [(f"{f.name} (.{f.suffix})", f.name) for f in FORMATS.values()]
        with Vertical(id="export-form"):
            yield Static(
                Content.assemble(
                    ("Export ", "bold $accent"), (self.run_id, "bold"), ("   esc closes", "dim")
                ),
                id="export-title",
            )
            with Horizontal(classes="export-row"):
                yield Select(
                    formats,
                    value="jsonl",
                    allow_blank=False,
                    id="export-format",
                    tooltip="The format to write",
                )
                yield Select(
                    [("whole run", WHOLE_RUN)],
                    value=WHOLE_RUN,
                    allow_blank=False,
                    id="export-branch",
                    tooltip="The whole run, or one branch's line from the start",
                )
            with Horizontal(classes="export-row"):
                yield Input(
                    placeholder="entities: all, or names",
                    id="export-entities",
                    tooltip="Only the turns these entities spoke (names or ids, separated by "
                    "commas); empty for everyone",
                )
                yield Input(
                    placeholder="from (ISO)",
                    id="export-from",
                    tooltip="Only timepoints at or after this time, e.g. 2026-03-01T14:00",
                )
                yield Input(
                    placeholder="to (ISO)",
                    id="export-to",
                    tooltip="Only timepoints at or before this time",
                )
            with Horizontal(classes="export-row"):
                yield Input(
                    self._default,
                    placeholder="output file",
                    id="export-path",
                    tooltip="Where to write; the manifest goes beside it (PATH.manifest.json)",
                )
                yield Checkbox(
                    "training-safe",
                    id="export-safe",
                    tooltip="Only what models that allow training made; the rest is left out",
                )
                yield Checkbox("overwrite", id="export-force", tooltip="Replace an existing file")
            yield Static("", id="export-counts", markup=False)
            yield Static("", id="export-preview", markup=False)
            with Horizontal(id="export-foot"):
                yield Static("", id="export-status", markup=False)
                yield ProgressBar(id="export-progress", show_eta=False)
                yield Button("Cancel", id="export-cancel")
                yield Button("Export", variant="primary", id="export-go", disabled=True)

    def on_mount(self) -> None:
        self.query_one("#export-progress", ProgressBar).display = False
        self.query_one("#export-counts", Static).update(
            Content.styled(f"reading run {self.run_id}…", "$text-muted")
        )
        self.app.bridge.load_export(self, self.run_id)  # type: ignore[attr-defined]
        self.query_one("#export-format", Select).focus()

    # ------------------------------------------------------------------ the form
    def choices(self) -> ExportChoices:
        branch = self.query_one("#export-branch", Select).value
        return ExportChoices(
            fmt=str(self.query_one("#export-format", Select).value),
            branch=str(branch) if branch not in (WHOLE_RUN, Select.BLANK) else None,
            entities=self.query_one("#export-entities", Input).value,
            start=self.query_one("#export-from", Input).value,
            end=self.query_one("#export-to", Input).value,
            training_safe=self.query_one("#export-safe", Checkbox).value,
            path=self.query_one("#export-path", Input).value,
            force=self.query_one("#export-force", Checkbox).value,
            seq=self.seq,
        )

    def on_export_ready(self, message: ExportReady) -> None:
        if message.error is not None or message.basis is None:
            self._status(message.error or "the run cannot be read", error=True)
            self.query_one("#export-counts", Static).update("")
            return
        self.basis = message.basis
        branch = self.query_one("#export-branch", Select)
        branch.set_options(
            [("whole run", WHOLE_RUN), *((label, b) for b, label in message.branches)]
        )
        known = {b for b, _ in message.branches}
        branch.value = self.branch if self.branch in known else WHOLE_RUN
        self._ask()

    @on(Select.Changed, "#export-format")
    def _format_changed(self, event: Select.Changed) -> None:
        fmt = FORMATS.get(str(event.value))
        field = self.query_one("#export-path", Input)
        if fmt is not None and field.value == self._default:  # not edited: follow the format
            self._default = str(default_path(self.run_id, fmt))
            field.value = self._default
        self._changed()

    @on(Select.Changed, "#export-branch")
    @on(Input.Changed)
    @on(Checkbox.Changed)
    def _changed(self) -> None:
        if self.basis is None or self.exporting:
            return
        if self._timer is not None:
            self._timer.stop()
        self._timer = self.set_timer(PREVIEW_DELAY, self._ask, name="export-preview")

    def _ask(self) -> None:
        self._timer = None
        if self.basis is None:
            return
        self.seq += 1
        self.app.bridge.preview_export(self, self.basis, self.choices())  # type: ignore[attr-defined]

    @property
    def previewed(self) -> bool:
        """Whether what is shown answers the form as it is now."""
        return self.basis is not None and self._timer is None and self.shown == self.seq

    def on_export_previewed(self, message: ExportPreviewed) -> None:
        if message.seq != self.seq:
            return  # an answer to choices since changed
        self.shown = message.seq
        self.counts, self.lines, self.error = message.counts, message.lines, message.error
        counts = self.query_one("#export-counts", Static)
        shown = self.query_one("#export-preview", Static)
        if message.error is not None or message.counts is None:
            counts.update("")
            shown.update("")
            self._status(message.error or "nothing to export", error=True)
            self.query_one("#export-go", Button).disabled = True
            return
        tps, turns, dropped = message.counts
        safe_only = self.query_one("#export-safe", Checkbox).value
        left = f", {dropped} left out as not training-safe" if dropped or safe_only else ""
        fmt = FORMATS.get(str(self.query_one("#export-format", Select).value))
        counts.update(
            Content.assemble(
                (f"{tps} timepoints, {turns} turns", "bold"),
                (left, "$warning"),
                (f" · {fmt.summary}" if fmt else "", "$text-muted"),
            )
        )
        if message.database:
            path = self.query_one("#export-path", Input).value.strip() or "FILE"
            shown.update(
                Content.styled(
                    f"a database, no lines to preview: open it with "
                    f"timeloom show --db {path} {self.run_id}",
                    "$text-muted",
                )
            )
        else:
            shown.update(Content("\n".join(message.lines) or "(nothing)"))
        self._status("")
        self.query_one("#export-go", Button).disabled = False

    def _status(self, text: str, *, error: bool = False) -> None:
        status = self.query_one("#export-status", Static)
        status.update(Content.styled(text, "$error") if error else Content(text))

    # ------------------------------------------------------------------ exporting
    @on(Button.Pressed, "#export-go")
    @on(Input.Submitted, "#export-path")
    def action_export(self) -> None:
        if self.basis is None or self.exporting:
            return
        if self._timer is not None:  # a pending preview: the export takes the form as it is
            self._timer.stop()
            self._timer = None
        self.exporting = True
        for widget in self.query("Select, Input, Checkbox, #export-go"):
            widget.disabled = True
        bar = self.query_one("#export-progress", ProgressBar)
        bar.update(total=max(1, (self.counts or (0, 0, 0))[1]), progress=0)
        bar.display = True
        self._status("writing…")
        self.app.bridge.run_export(self, self.basis, self.choices())  # type: ignore[attr-defined]

    def on_export_progress(self, message: ExportProgress) -> None:
        bar = self.query_one("#export-progress", ProgressBar)
        bar.update(total=max(1, message.total), progress=message.turns)
        self._status(f"{message.records} records written")

    def on_export_finished(self, message: ExportFinished) -> None:
        self.exporting = False
        self.query_one("#export-progress", ProgressBar).display = False
        for widget in self.query("Select, Input, Checkbox, #export-go"):
            widget.disabled = False
        if message.error is not None or message.path is None:
            self._status(message.error or "the export failed", error=True)
            return
        counts = dict(message.counts)
        self.written = Path(message.path)
        self.app.notify(
            f"wrote {counts.get('records', 0)} records ({counts.get('timepoints', 0)} timepoints, "
            f"{counts.get('dialog_turns', 0)} turns) to {message.path}, with its manifest",
            title="Export",
            timeout=6,
        )
        self.dismiss(self.written)

    @on(Button.Pressed, "#export-cancel")
    def action_close(self) -> None:
        if self.exporting:
            self.notify("the export goes on; you will be told when it is written", timeout=3)
        self.dismiss(None)
