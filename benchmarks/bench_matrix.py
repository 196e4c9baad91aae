"""The benchmark matrix: every serializer x compressor x cipher, beside pytracking, itsdangerous.

A thin wrapper: the harness is `trackcodec.bench`, and the command is
``trackcodec bench``, which this script runs with the arguments it is given.

    python benchmarks/bench_matrix.py [trackcodec bench options]
    python benchmarks/bench_matrix.py --docs

``--docs`` regenerates the table, the recommendations and the plot of
docs/choosing-settings.md (between its generated-part markers) from one
default run on the reference payloads.
"""

from __future__ import annotations

import sys
from pathlib import Path

from trackcodec.bench import (
    BenchOptions,
    BenchResult,
    model_source,
    plot,
    recommend,
    reference_workloads,
    run_benchmark,
    to_markdown,
)
from trackcodec.cli import main

ROOT = Path(__file__).resolve().parent.parent
PAGE = ROOT / "docs" / "choosing-settings.md"
PLOT = ROOT / "docs" / "assets" / "choosing-settings.svg"
START = "<!-- generated: python benchmarks/bench_matrix.py --docs -->"
END = "<!-- end of the generated part -->"

# (what you need, the trackcodec bench flags that say it)
CONSTRAINTS: tuple[tuple[str, list[str], int | None], ...] = (
    ("authentication (always required)", [], None),
    ("encryption", ["encryption"], None),
    ("encryption, URLs of at most 200 characters", ["encryption"], 200),
    ("encryption and expiry", ["encryption", "expiry"], None),
)


def _recommendations(result: BenchResult, stamped: BenchResult, source: str | None) -> str:
    lines = [
        "| you need | `trackcodec bench` flags | recommended combination "
        "| µs, 3 URLs | longest URL |",
        "|---|---|---|---:|---:|",
    ]
    for label, requirements, max_length in CONSTRAINTS:
        run = stamped if "expiry" in requirements else result
        got = recommend(run, requirements, max_length, model_source=source)
        flags = " ".join(f"--require {r}" for r in requirements)
        if max_length is not None:
            flags += f" --max-length {max_length}"
        if got.candidate is None:
            lines.append(f"| {label} | `{flags.strip()}` | none: {got.reason} | | |")
            continue
        c = got.candidate
        lines.append(
            f"| {label} | `{flags.strip() or '(none)'}` | {c.serializer} + {c.compressor} + "
            f"{c.cipher} | {got.total_us:.0f} | {got.max_url_length} |"
        )
    return "\n".join(lines)


def update_docs() -> None:
    """Run the default benchmark once (and once with timestamps) and rewrite the generated part."""
    workloads = reference_workloads()
    source = model_source([p for w in workloads for p in w.payloads])
    print("measuring the default matrix...", file=sys.stderr)
    result = run_benchmark(workloads, BenchOptions())
    print("measuring with timestamps (for expiry)...", file=sys.stderr)
    stamped = run_benchmark(workloads, BenchOptions(timestamp=True, references=False))
    chosen = recommend(result, ["encryption"], model_source=source)
    PLOT.parent.mkdir(parents=True, exist_ok=True)
    plot(result, PLOT, chosen)
    generated = "\n".join(
        [
            START,
            "",
            f"![URL length against speed]({PLOT.relative_to(PAGE.parent).as_posix()})",
            "",
            "The recommendation for each need, from the same run:",
            "",
            _recommendations(result, stamped, source),
            "",
            "The whole table (bold: the recommended combination that encrypts):",
            "",
            to_markdown(result, chosen).rstrip(),
            "",
            END,
        ]
    )
    page = PAGE.read_text(encoding="utf-8")
    head, start, rest = page.partition(START)
    _, end, tail = rest.partition(END)
    if not start or not end:
        raise SystemExit(f"{PAGE} lacks the generated-part markers")
    PAGE.write_text(head + generated + tail, encoding="utf-8")
    print(f"wrote {PAGE.relative_to(ROOT)} and {PLOT.relative_to(ROOT)}", file=sys.stderr)


if __name__ == "__main__":
    if sys.argv[1:] == ["--docs"]:
        update_docs()
    else:
        main(["bench", *sys.argv[1:]])
