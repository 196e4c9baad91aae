"""Choose settings by measuring them: the benchmark behind ``trackcodec bench``.

For every serializer x compressor x cipher combination and every payload, the
harness measures the token length, the full tracking URL length, and the time
to build and to parse the URL; pytracking 0.2.x (plain and Fernet) and
itsdangerous are measured in the same run as references. Then `recommend`
picks the fastest combination that meets your constraints.

Example:
    >>> from trackcodec.bench import BenchOptions, recommend, reference_workloads, run_benchmark
    >>> result = run_benchmark(reference_workloads(), BenchOptions.quick(ciphers=("aes-siv",)))
    >>> recommend(result, ["encryption"]).candidate.cipher
    'aes-siv'

The public surface is what a user calls: `run_benchmark` (with `BenchOptions`
and `reference_workloads` or `load_payload_file`), the result types,
`recommend`, and the reports (`to_markdown`, `to_json`, `to_csv`, `plot`,
`table`; `trackcodec.bench.terminal` prints the report with rich).

Importing this package does not import click, rich or matplotlib; the plot
needs ``trackcodec[plot]`` and the references ``trackcodec[bench]``.
"""

from __future__ import annotations

from trackcodec.bench._candidates import Candidate
from trackcodec.bench._harness import (
    BenchError,
    BenchOptions,
    BenchResult,
    Measurement,
    parse_only,
    run_benchmark,
)
from trackcodec.bench._payloads import (
    PayloadFileError,
    Workload,
    derive_metadata_model,
    load_payload_file,
    model_source,
    reference_workloads,
)
from trackcodec.bench._plot import PLOT_FORMATS, plot
from trackcodec.bench._report import (
    REQUIREMENTS,
    Recommendation,
    SortKey,
    TableRow,
    recommend,
    table,
    to_csv,
    to_json,
    to_markdown,
)

__all__ = [
    "BenchError",
    "BenchOptions",
    "BenchResult",
    "Candidate",
    "Measurement",
    "PLOT_FORMATS",
    "PayloadFileError",
    "REQUIREMENTS",
    "Recommendation",
    "SortKey",
    "TableRow",
    "Workload",
    "derive_metadata_model",
    "load_payload_file",
    "model_source",
    "parse_only",
    "plot",
    "recommend",
    "reference_workloads",
    "run_benchmark",
    "table",
    "to_csv",
    "to_json",
    "to_markdown",
]
