"""Shared helpers of the benchmark scripts: reference payloads and a fair timer."""

from __future__ import annotations

import json
import statistics
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
PAYLOAD_FILES = (
    ROOT.parent / "shared" / "bench" / "reference_payloads.json",
    ROOT / "src" / "trackcodec" / "data" / "reference_payloads.json",
    ROOT / "tests" / "data" / "reference_payloads.json",
)
NAMES = ("open", "click", "fat")
OPEN_BASE = "https://t.example.com/o/"
CLICK_BASE = "https://t.example.com/c/"

METHOD = (
    "method: {warmup} warm-up rounds, then {repeats} rounds; each round times {number} calls "
    "of every candidate in turn (round-robin, so machine drift hits all alike); "
    "figures are medians over rounds, per call"
)


def reference_payloads() -> dict[str, dict[str, Any]]:
    """The three reference payloads (open, click, fat)."""
    for path in PAYLOAD_FILES:
        if path.exists():
            data = json.loads(path.read_text(encoding="utf-8"))
            return {name: data[name] for name in NAMES}
    raise SystemExit("reference_payloads.json not found")


def interleaved_medians(
    candidates: dict[str, Callable[[], object]],
    *,
    number: int,
    repeats: int,
    warmup: int = 2,
) -> dict[str, float]:
    """Median seconds per call of each candidate, timed round-robin."""
    samples: dict[str, list[float]] = {name: [] for name in candidates}
    for round_ in range(warmup + repeats):
        for name, func in candidates.items():
            start = time.perf_counter()
            for _ in range(number):
                func()
            elapsed = (time.perf_counter() - start) / number
            if round_ >= warmup:
                samples[name].append(elapsed)
    return {name: statistics.median(values) for name, values in samples.items()}
