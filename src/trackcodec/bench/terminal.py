"""The terminal report of ``trackcodec bench`` (rich): progress bar, table, recommendation.

Imported by the command only: it imports rich, which ``trackcodec[cli]`` provides.
"""

from __future__ import annotations

import os
import sys

from rich import box
from rich.console import Console
from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeElapsedColumn
from rich.table import Table

from trackcodec.bench._harness import BenchOptions, BenchResult, run_benchmark
from trackcodec.bench._payloads import Workload
from trackcodec.bench._report import (
    Recommendation,
    SortKey,
    caption,
    environment_line,
    table,
)

__all__ = ["print_report", "run_with_progress", "width"]

STATUS_STYLES = {
    "reference": "cyan",
    "recommended": "bold green",
    "eligible": "",
    "ineligible": "dim",
}


def width() -> int | None:
    """The console width: the terminal's, or wide enough for the table in a file or pipe."""
    if sys.stdout.isatty() or os.environ.get("COLUMNS"):
        return None
    return 132


def run_with_progress(
    workloads: list[Workload], options: BenchOptions, err: Console
) -> BenchResult:
    """`run_benchmark`, with a progress bar on ``err`` when it is a terminal."""
    candidates = "all" if options.ciphers is None and options.serializers is None else "selected"
    if not err.is_terminal:
        err.print(
            f"measuring {candidates} combinations on {len(workloads)} workload(s)...",
            highlight=False,
        )
        return run_benchmark(workloads, options)
    columns = (
        TextColumn("{task.description:<9}"),
        BarColumn(),
        MofNCompleteColumn(),
        TimeElapsedColumn(),
    )
    with Progress(*columns, console=err, transient=True) as progress:
        task = progress.add_task("checking", total=None)

        def report(phase: str, done: int, total: int) -> None:
            progress.update(task, description=phase, completed=done, total=total)

        return run_benchmark(workloads, options, progress=report)


def print_report(
    result: BenchResult, recommendation: Recommendation, sort: SortKey, out: Console
) -> None:
    """Print the table, its caption, the method, notes and the recommendation on ``out``."""
    headers, rows = table(result, recommendation, sort=sort)
    grid = Table(box=box.SIMPLE_HEAD, show_edge=False, pad_edge=False, header_style="bold")
    for i, header in enumerate(headers):
        grid.add_column(header, justify="left" if i < 3 else "right", no_wrap=True)
    previous_reference = None
    for row in rows:
        if previous_reference and not row.candidate.reference:
            grid.add_section()
        previous_reference = row.candidate.reference
        grid.add_row(*row.cells, style=STATUS_STYLES.get(row.status, ""))
    out.print(grid)
    out.print(caption(result), highlight=False, markup=False)
    out.print()
    out.print(result.method, highlight=False, markup=False)
    out.print(environment_line(result), highlight=False, markup=False)
    for note in result.notes:
        out.print(f"Note: {note}", highlight=False, markup=False)
    out.print()
    out.print(recommendation.text(), highlight=False, markup=False)
