"""The harness: every serializer x compressor x cipher, and the references, timed alike.

All candidates (see `trackcodec.bench._candidates`) run in one process and are
sampled in turn, round-robin, so that whatever the machine does meanwhile hits
them alike.
"""

from __future__ import annotations

import gc
import math
import os
import platform
import statistics
import time
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any
from urllib.parse import urlsplit

from pydantic import BaseModel

from trackcodec import registry
from trackcodec.bench._candidates import (
    Call,
    Candidate,
    Subject,
    layout,
    reference_subjects,
    trackcodec_subjects,
    version,
    without_nulls,
)
from trackcodec.bench._payloads import Workload, derive_metadata_model
from trackcodec.errors import TrackcodecError

__all__ = [
    "DEFAULT_BASE_URL",
    "BenchError",
    "BenchOptions",
    "BenchResult",
    "Candidate",
    "Measurement",
    "ProgressCallback",
    "parse_only",
    "run_benchmark",
]

DEFAULT_BASE_URL = "https://t.example.com/c/"
_MAX_NUMBER = 100_000

ProgressCallback = Callable[[str, int, int], None]
"""Called as ``progress(phase, done, total)`` while the benchmark runs."""


class BenchError(TrackcodecError):
    """A candidate cannot carry a payload, or gives back something else than it was given."""


@dataclass(frozen=True)
class BenchOptions:
    """What to measure and how.

    Attributes:
        base_url: The tracking base URL the tokens are appended to (a path
            prefix; a ``/`` is added when missing).
        serializers: Serializer names to measure; all registered ones when ``None``.
        compressors: Compressor names to measure; all when ``None``.
        ciphers: Cipher names to measure; all when ``None``.
        timestamp: Write the issue time into every trackcodec token (what
            expiry needs; 4 bytes more).
        references: Also measure pytracking (plain and Fernet) and itsdangerous.
        repeat: Timed rounds; figures are medians over them.
        sample_time: Seconds each timed sample lasts at least (calls are
            repeated within a sample until then).
        max_sample: Most payloads of one workload to time; lengths are
            measured on every payload.
    """

    base_url: str = DEFAULT_BASE_URL
    serializers: tuple[str, ...] | None = None
    compressors: tuple[str, ...] | None = None
    ciphers: tuple[str, ...] | None = None
    timestamp: bool = False
    references: bool = True
    repeat: int = 9
    sample_time: float = 0.004
    max_sample: int = 50

    def __post_init__(self) -> None:
        if self.repeat < 1:
            raise ValueError("repeat must be at least 1")
        if self.sample_time <= 0:
            raise ValueError("sample_time must be positive")
        if self.max_sample < 1:
            raise ValueError("max_sample must be at least 1")
        base = self.base_url
        if not base.startswith(("http://", "https://")) or "?" in base or "#" in base:
            raise ValueError("the base URL is an http(s) URL without query or fragment")
        if not base.endswith("/"):
            object.__setattr__(self, "base_url", base + "/")
        for kind, names, known in (
            ("serializer", self.serializers, registry.serializer_names()),
            ("compressor", self.compressors, registry.compressor_names()),
            ("cipher", self.ciphers, registry.cipher_names()),
        ):
            for name in names or ():
                if name not in known:
                    raise ValueError(f"unknown {kind} {name!r}; choose from {', '.join(known)}")
            if names is not None and not names:
                raise ValueError(f"no {kind} selected")

    @classmethod
    def quick(cls, **options: Any) -> BenchOptions:
        """Settings for a fast, rough run (tests, smoke checks): 2 short rounds."""
        settings: dict[str, Any] = {"repeat": 2, "sample_time": 0.0002, "max_sample": 5}
        settings.update(options)
        return cls(**settings)


def parse_only(spec: str) -> dict[str, tuple[str, ...]]:
    """Parse an ``--only`` filter: ``"cipher=aes-siv,fernet;serializer=msgpack"``.

    Returns:
        ``{"cipher": ("aes-siv", "fernet"), "serializer": ("msgpack",)}``.

    Raises:
        ValueError: Not ``KIND=NAME[,NAME...]`` groups, an unknown kind or name.
    """
    known = {
        "serializer": registry.serializer_names(),
        "compressor": registry.compressor_names(),
        "cipher": registry.cipher_names(),
    }
    out: dict[str, tuple[str, ...]] = {}
    for group in filter(None, (g.strip() for g in spec.split(";"))):
        kind, sep, names = group.partition("=")
        kind = kind.strip().lower()
        if not sep or kind not in known:
            raise ValueError(
                f"bad filter {group!r}: use serializer=..., compressor=... or cipher=..."
            )
        chosen = tuple(n.strip() for n in names.split(",") if n.strip())
        for name in chosen:
            if name not in known[kind]:
                raise ValueError(f"unknown {kind} {name!r}; choose from {', '.join(known[kind])}")
        if not chosen:
            raise ValueError(f"bad filter {group!r}: no name after '='")
        out[kind] = tuple(dict.fromkeys((*out.get(kind, ()), *chosen)))
    return out


@dataclass(frozen=True)
class Measurement:
    """The figures of one candidate on one workload.

    Lengths are medians over the workload's payloads (and the longest);
    times are medians over the timed rounds of the mean time per payload.

    Attributes:
        candidate: What was measured.
        workload: Name of the workload.
        payloads: How many payloads the workload has.
        token_length: Token characters, median.
        token_length_max: Token characters, longest.
        url_length: Full URL characters (base URL + token), median.
        url_length_max: Full URL characters, longest.
        encode_us: Microseconds to build one URL.
        decode_us: Microseconds to parse one URL back.
    """

    candidate: Candidate
    workload: str
    payloads: int
    token_length: float
    token_length_max: int
    url_length: float
    url_length_max: int
    encode_us: float
    decode_us: float

    @property
    def round_trip_us(self) -> float:
        """Encode plus decode, in microseconds."""
        return self.encode_us + self.decode_us


@dataclass(frozen=True)
class BenchResult:
    """Everything a run measured, and how.

    Attributes:
        options: The settings of the run.
        workloads: Names and payload counts of the workloads, in order.
        candidates: The candidates, references first.
        measurements: One per candidate and workload.
        method: The sentence that states the method.
        environment: Interpreter, machine and package versions.
        elapsed: Wall time of the run, in seconds.
        notes: What the reader should know (references skipped, say).
        metadata_model: The model derived for the ``schema`` serializer, if any.
    """

    options: BenchOptions
    workloads: tuple[tuple[str, int], ...]
    candidates: tuple[Candidate, ...]
    measurements: tuple[Measurement, ...]
    method: str
    environment: dict[str, str]
    elapsed: float
    notes: tuple[str, ...] = ()
    metadata_model: type[BaseModel] | None = None
    _index: dict[tuple[str, str], Measurement] = field(
        default_factory=dict, repr=False, compare=False
    )

    def __post_init__(self) -> None:
        self._index.update({(m.candidate.name, m.workload): m for m in self.measurements})

    def get(self, candidate: str, workload: str) -> Measurement | None:
        """The measurement of ``candidate`` (a name) on ``workload``, if any."""
        return self._index.get((candidate, workload))

    def of(self, candidate: Candidate) -> list[Measurement]:
        """The measurements of ``candidate``, in workload order."""
        found = (self.get(candidate.name, w) for w, _ in self.workloads)
        return [m for m in found if m is not None]

    def total_us(self, candidate: Candidate) -> float:
        """Encode plus decode, summed over the workloads."""
        return sum(m.round_trip_us for m in self.of(candidate))

    def max_url_length(self, candidate: Candidate) -> int:
        """The longest URL ``candidate`` made, over every payload."""
        return max((m.url_length_max for m in self.of(candidate)), default=0)

    def ratios(self, candidate: Candidate, reference: str) -> tuple[float, float] | None:
        """URL length and time of ``candidate`` relative to ``reference``.

        Each is the geometric mean over the workloads of candidate / reference
        (URL length median; encode + decode time), so ``0.5`` is half as long
        or twice as fast.

        Returns:
            ``(length ratio, time ratio)``, or ``None`` when the reference was not measured.
        """
        lengths: list[float] = []
        times: list[float] = []
        for m in self.of(candidate):
            ref = self.get(reference, m.workload)
            if ref is None:
                return None
            lengths.append(m.url_length / ref.url_length)
            times.append(m.round_trip_us / ref.round_trip_us)
        if not lengths:
            return None
        return _geomean(lengths), _geomean(times)


def _geomean(values: Sequence[float]) -> float:
    return math.exp(sum(math.log(v) for v in values) / len(values))


def _schemes(workloads: Sequence[Workload]) -> tuple[str, ...]:
    """The schemes of the click targets: the trackers must be allowed to redirect to them."""
    schemes = {"http", "https"}
    for workload in workloads:
        for payload in workload.payloads:
            if "url" in payload:
                scheme = urlsplit(payload["url"]).scheme.lower()
                if scheme:
                    schemes.add(scheme)
    return tuple(sorted(schemes))


def _sample(payloads: Sequence[dict[str, Any]], size: int) -> list[dict[str, Any]]:
    """At most ``size`` payloads, evenly spread over the workload (deterministic)."""
    if len(payloads) <= size:
        return list(payloads)
    step = len(payloads) / size
    return [payloads[int(i * step)] for i in range(size)]


# -- timing -----------------------------------------------------------------------------


class _Series:
    """The calls of one candidate x workload x operation, and their timed samples."""

    __slots__ = ("calls", "key", "loop", "per_sample", "samples")

    def __init__(self, key: tuple[int, int, str], calls: list[Call]) -> None:
        self.key = key
        self.calls = calls
        self.loop = calls
        self.per_sample = len(calls)
        self.samples: list[float] = []

    def run(self) -> float:
        """Make every call of one sample; return the seconds per call."""
        gc.disable()
        try:
            start = time.perf_counter()
            for fn, args in self.loop:
                fn(*args)
            elapsed = time.perf_counter() - start
        finally:
            gc.enable()
        return elapsed / self.per_sample

    def calibrate(self, sample_time: float) -> None:
        self.run()  # warm-up: caches, lazily built ciphers and trackers
        per_call = max(self.run(), 1e-8)
        number = max(1, min(_MAX_NUMBER, round(sample_time / (per_call * len(self.calls)))))
        self.loop = self.calls * number
        self.per_sample = len(self.loop)


def _method(options: BenchOptions, candidates: int, workloads: int) -> str:
    return (
        f"Method: each of {candidates} candidates builds the full tracking URL of every payload "
        "and parses it back through its public API (trackcodec Tracker.open_url/click_url and "
        "parse_open/parse_click; pytracking get_*_tracking_url and get_*_tracking_result; "
        "itsdangerous URLSafeSerializer dumps/loads), in one process. After a warm-up pass "
        f"that also checks every round trip, {options.repeat} rounds; in each round every "
        f"candidate x workload ({workloads}) x operation (encode, decode) takes one sample of "
        f"at least {options.sample_time * 1000:g} ms with the garbage collector off, "
        "round-robin, each round starting at another place in the order. Times are the medians "
        "over the rounds of the mean time per call, in µs; lengths are in characters, base URL "
        "included (medians over a workload's payloads)."
    )


def _environment(elapsed: float | None = None) -> dict[str, str]:
    env = {
        "python": platform.python_version(),
        "implementation": platform.python_implementation(),
        "machine": platform.machine(),
        "system": platform.system(),
        "cpus": str(os.cpu_count() or "?"),
        "trackcodec": version("trackcodec"),
    }
    for package in ("pytracking", "itsdangerous", "cryptography", "msgpack", "pynacl"):
        env[package] = version(package)
    if elapsed is not None:
        env["elapsed_s"] = f"{elapsed:.1f}"
    return env


def run_benchmark(
    workloads: Sequence[Workload],
    options: BenchOptions | None = None,
    *,
    progress: ProgressCallback | None = None,
) -> BenchResult:
    """Measure every selected combination, and the references, on ``workloads``.

    Args:
        workloads: The payloads; see `reference_workloads` and `load_payload_file`.
        options: What to measure and how; `BenchOptions()` when omitted.
        progress: Called as ``progress(phase, done, total)`` as the run goes.

    Returns:
        The measurements.

    Raises:
        BenchError: A candidate cannot carry a payload (say, a click target
            that is not an absolute URL) or gives back another payload.
        ValueError: No workload or no payload.
    """
    started = time.perf_counter()
    options = BenchOptions() if options is None else options
    if not workloads or not all(w.payloads for w in workloads):
        raise ValueError("nothing to measure: no payload")
    notes: list[str] = []
    every_payload = [p for w in workloads for p in w.payloads]
    model = derive_metadata_model(every_payload)
    subjects = reference_subjects(options.base_url, notes) if options.references else []
    subjects += trackcodec_subjects(
        options.serializers or registry.serializer_names(),
        options.compressors or registry.compressor_names(),
        options.ciphers or registry.cipher_names(),
        timestamp=options.timestamp,
        base_url=options.base_url,
        model=model,
        schemes=_schemes(workloads),
        notes=notes,
    )
    if not subjects:
        raise ValueError("nothing to measure: every selected combination is unavailable")
    report = progress or (lambda phase, done, total: None)

    # Lengths on every payload; round trips checked on the payloads that are timed.
    samples = [_sample(w.payloads, options.max_sample) for w in workloads]
    lengths: dict[tuple[int, int], tuple[list[int], list[int]]] = {}
    series: list[_Series] = []
    base_length = len(options.base_url)
    total = len(subjects) * len(workloads)
    for si, subject in enumerate(subjects):
        for wi, workload in enumerate(workloads):
            report("checking", si * len(workloads) + wi, total)
            made = [_encode(subject, p, workload.name, i) for i, p in enumerate(workload.payloads)]
            lengths[si, wi] = ([len(u) - base_length for u in made], [len(u) for u in made])
            by_id = {id(p): u for p, u in zip(workload.payloads, made, strict=True)}
            encode_calls = [subject.encode_call(p) for p in samples[wi]]
            decode_calls = []
            for payload in samples[wi]:
                call = subject.decode_call(payload, by_id[id(payload)])
                _check(subject, payload, call, workload.name)
                decode_calls.append(call)
            series.append(_Series((si, wi, "encode"), encode_calls))
            series.append(_Series((si, wi, "decode"), decode_calls))
    report("checking", total, total)

    gc.collect()
    done, steps = 0, len(series) * (options.repeat + 1)
    for s in series:
        s.calibrate(options.sample_time)
        done += 1
        report("warm-up", done, steps)
    step = max(1, len(series) // options.repeat)
    for round_ in range(options.repeat):
        start = (round_ * step) % len(series)
        for s in series[start:] + series[:start]:
            s.samples.append(s.run())
            done += 1
            report("timing", done, steps)

    times = {s.key: statistics.median(s.samples) * 1e6 for s in series}
    measurements = []
    for si, subject in enumerate(subjects):
        for wi, workload in enumerate(workloads):
            tokens, urls = lengths[si, wi]
            measurements.append(
                Measurement(
                    subject.candidate,
                    workload.name,
                    len(workload.payloads),
                    statistics.median(tokens),
                    max(tokens),
                    statistics.median(urls),
                    max(urls),
                    times[si, wi, "encode"],
                    times[si, wi, "decode"],
                )
            )
    elapsed = time.perf_counter() - started
    return BenchResult(
        options=options,
        workloads=tuple((w.name, len(w.payloads)) for w in workloads),
        candidates=tuple(s.candidate for s in subjects),
        measurements=tuple(measurements),
        method=_method(options, len(subjects), len(workloads)),
        environment=_environment(elapsed),
        elapsed=elapsed,
        notes=tuple(notes),
        metadata_model=model,
    )


def _encode(subject: Subject, payload: dict[str, Any], workload: str, index: int) -> str:
    fn, args = subject.encode_call(payload)
    try:
        url = fn(*args)
    except Exception as exc:
        raise BenchError(
            f"{subject.candidate.name} cannot encode payload {index + 1} of {workload}: {exc}"
        ) from exc
    if not isinstance(url, str):  # pragma: no cover - a broken reference
        raise BenchError(f"{subject.candidate.name} made a {type(url).__name__}, not a URL")
    return url


def _check(subject: Subject, payload: dict[str, Any], call: Call, workload: str) -> None:
    fn, args = call
    try:
        result = fn(*args)
    except Exception as exc:
        raise BenchError(
            f"{subject.candidate.name} cannot decode its own URL for {workload}: {exc}"
        ) from exc
    expected = without_nulls(
        layout(payload.get("url"), payload.get("metadata"), payload.get("webhook"))
    )
    if without_nulls(subject.as_payload(result)) != expected:
        raise BenchError(
            f"{subject.candidate.name} does not give back the payload of {workload}: "
            f"{subject.as_payload(result)!r} != {expected!r}"
        )


def mapping_of(options: BenchOptions) -> Mapping[str, Any]:
    """The options as plain data, for JSON output."""
    return {
        "base_url": options.base_url,
        "serializers": list(options.serializers or registry.serializer_names()),
        "compressors": list(options.compressors or registry.compressor_names()),
        "ciphers": list(options.ciphers or registry.cipher_names()),
        "timestamp": options.timestamp,
        "references": options.references,
        "repeat": options.repeat,
        "sample_time_ms": options.sample_time * 1000,
        "max_sample": options.max_sample,
    }
