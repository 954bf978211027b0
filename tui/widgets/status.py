"""The status line and the scrubber."""

from __future__ import annotations

from textual.widgets import Static

from engine.view import RunInfo, RunView

from .safe import Content

STATUS_STYLE = {
    "running": "$accent",
    "completed": "$success",
    "failed": "$error",
    "stopped": "$warning",
    "interrupted": "$warning",
}


def fmt_seconds(seconds: float) -> str:
    seconds = int(seconds)
    return (
        f"{seconds // 60}:{seconds % 60:02d}"
        if seconds < 3600
        else (f"{seconds // 3600}:{seconds % 3600 // 60:02d}:{seconds % 60:02d}")
    )


def _short(n: int) -> str:
    """12,345 as 12.3k, 1,234,567 as 1.2M."""
    if n >= 1_000_000:
        return f"{n / 1_000_000:.1f}M"
    return f"{n / 1000:.1f}k" if n >= 1000 else str(n)


class StatusLine(Static):
    DEFAULT_CSS = """
    StatusLine { height: 1; background: $panel; padding: 0 1; }
    """

    def show(
        self,
        run: RunInfo,
        position: int,
        total: int,
        elapsed: float | None,
        paused: bool = False,
        live: bool = False,
    ) -> None:
        status = "paused" if paused else run.status
        compact = 0 < (self.size.width or 0) < 100  # an 80-column terminal: the short form
        calls = "call" if run.llm_calls == 1 else "calls"
        parts: list[tuple[str, str]] = [
            (run.title or run.scenario, "bold"),
            ("  ", ""),
            (status, f"bold {STATUS_STYLE.get(run.status, '')}"),
            (f"  {position}/{total}" if compact else f"  timepoint {position}/{total}", ""),
            (f"  {_short(run.tokens)} tok" if compact else f"  {run.tokens:,} tokens", "dim"),
        ]
        if run.cost_usd or not compact:
            parts.append((f"  ${run.cost_usd:.4f}", "dim"))
        parts.append(
            (f"  {run.llm_calls} {calls}" if compact else f"  {run.llm_calls} LLM {calls}", "dim")
        )
        if run.failed_steps:  # what failed is counted where the run is summed up
            steps = "step" if run.failed_steps == 1 else "steps"
            parts.append((f"  {run.failed_steps} failed {steps}", "bold $error"))
        if elapsed is not None:
            parts.append((f"  {fmt_seconds(elapsed)}", "dim"))
        if live:
            parts.append(("  live", "italic $secondary"))
        elif run.status not in ("running",):
            parts.append(("  stored", "italic $secondary"))
        self.update(Content.assemble(*parts))


class Scrubber(Static):
    """A strip of the run's timepoints with the selected one marked."""

    DEFAULT_CSS = """
    Scrubber { height: 1; padding: 0 1; }
    """

    def show(self, view: RunView, selected: str | None) -> None:
        tps = view.chain(selected) if selected else view.timepoints  # the selected line
        if not tps:
            self.update(Content.styled("no timepoints yet", "dim"))
            return
        width = max(10, (self.size.width or 60) - 24)
        ids = [t.timepoint_id for t in tps]
        current = ids.index(selected) if selected in ids else len(ids) - 1
        cells = min(width, len(ids))
        marks: list[tuple[str, str]] = [("[ ◀ ", "dim")]
        for cell in range(cells):
            start = cell * len(ids) // cells
            end = max(start + 1, (cell + 1) * len(ids) // cells)
            here = start <= current < end
            status = {t.status for t in tps[start:end]}
            glyph = "●" if here else ("▪" if status <= {"ok"} else "▴")
            style = (
                "bold $accent"
                if here
                else ("$warning" if "degraded" in status or "failed" in status else "dim")
            )
            marks.append((glyph, style))
        marks.append((" ▶ ]", "dim"))
        marks.append((f"  {current + 1}/{len(ids)}  {tps[current].title}", ""))
        self.update(Content.assemble(*marks))
