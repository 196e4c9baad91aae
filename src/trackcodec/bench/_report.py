"""What a benchmark run tells: the recommendation, and the table as Markdown, CSV and JSON."""

from __future__ import annotations

import csv
import io
import json
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any, Literal

from trackcodec.bench._candidates import Candidate
from trackcodec.bench._harness import BenchResult, Measurement, mapping_of
from trackcodec.config import TrackingConfig

__all__ = [
    "REQUIREMENTS",
    "Recommendation",
    "TableRow",
    "SortKey",
    "caption",
    "environment_line",
    "meets",
    "recommend",
    "table",
    "to_csv",
    "to_json",
    "to_markdown",
]

REQUIREMENTS = ("authentication", "encryption", "expiry")
"""What ``--require`` accepts. Authentication is always required of a recommendation."""

SortKey = Literal["name", "speed", "length"]

_MAIN_REFERENCE = "pytracking-fernet"
_FORGEABLE_NOTE = "* forgeable: not authenticated, anyone can write such a URL; never recommended."
_EXPIRY_TTL = 30 * 24 * 3600
_TIMES = "\N{MULTIPLICATION SIGN}"
_REFERENCE_CIPHERS = {"fernet": "Fernet", "hmac-sha1": "HMAC-SHA1"}


@dataclass(frozen=True)
class Recommendation:
    """The fastest trackcodec combination that meets the constraints.

    Attributes:
        candidate: The combination, or ``None`` when none meets the constraints.
        total_us: Its encode + decode time, summed over the workloads.
        max_url_length: Its longest URL over every payload.
        requirements: What was required (authentication always is).
        max_length: The longest URL allowed, if any.
        runners_up: The next fastest eligible combinations with their times.
        model_source: For the ``schema`` serializer: the metadata model to use.
        reason: Why nothing was recommended, when nothing was.
        pareto: The eligible combinations no other eligible one beats on both
            URL length and speed, shortest first, with their times.
        closest: When nothing meets the constraints: the authenticated
            combinations that come closest, with their times.
        default_note: Why the recommendation differs from the default
            settings (a tracker's: msgpack + deflate-dict + aes-siv), when it does.
    """

    candidate: Candidate | None
    total_us: float
    max_url_length: int
    requirements: tuple[str, ...]
    max_length: int | None
    runners_up: tuple[tuple[Candidate, float], ...] = ()
    model_source: str | None = None
    reason: str = ""
    pareto: tuple[tuple[Candidate, float], ...] = ()
    closest: tuple[tuple[Candidate, float], ...] = ()
    default_note: str = ""
    lengths: Mapping[str, int] = field(default_factory=dict)

    def _described(self, pairs: Sequence[tuple[Candidate, float]]) -> str:
        return ", ".join(
            f"{c.serializer} + {c.compressor} + {c.cipher} "
            f"({self.lengths.get(c.name, 0)} characters, {t:.0f} µs)"
            for c, t in pairs
        )

    def config_kwargs(self) -> dict[str, Any]:
        """The `TrackingConfig` keyword arguments of the recommendation (keys left out)."""
        if self.candidate is None:
            return {}
        kwargs: dict[str, Any] = {
            "serializer": self.candidate.serializer,
            "compressor": self.candidate.compressor,
            "cipher": self.candidate.cipher,
        }
        if "expiry" in self.requirements:
            kwargs["ttl"] = _EXPIRY_TTL
        elif self.candidate.timestamp:
            kwargs["timestamp"] = True
        return kwargs

    def environment(self) -> dict[str, str]:
        """The same settings as ``TRACKCODEC_*`` environment variables (keys left out)."""
        return {
            f"TRACKCODEC_{name.upper()}": str(value).lower()
            if isinstance(value, bool)
            else str(value)
            for name, value in self.config_kwargs().items()
        }

    def text(self) -> str:
        """The recommendation as text to read and paste."""
        wanted = ", ".join(self.requirements)
        if self.max_length is not None:
            wanted += f", URLs of at most {self.max_length} characters"
        if self.candidate is None:
            text = f"No combination meets the constraints ({wanted}): {self.reason}"
            if self.closest:
                text += f"\nThe closest: {self._described(self.closest)}."
            return text
        c = self.candidate
        lines = [
            f"Recommended: {c.serializer} + {c.compressor} + {c.cipher}, the best balance of URL "
            f"length and speed among the combinations that meet the constraints ({wanted}): "
            f"{self.total_us:.0f} µs to encode and decode the payloads, URLs of at most "
            f"{self.max_url_length} characters.",
        ]
        if len(self.pareto) > 1:
            lines.append(
                "No other combination is both shorter and faster than these (the Pareto "
                f"front): {self._described(self.pareto)}."
            )
        if self.default_note:
            lines.append(self.default_note)
        if self.runners_up:
            others = ", ".join(
                f"{o.serializer} + {o.compressor} + {o.cipher} "
                f"({(t / self.total_us - 1) * 100:+.0f}% time)"
                for o, t in self.runners_up
            )
            lines.append(f"Fastest of the others: {others}.")
        if not c.encrypted:
            lines.append(
                f"{c.cipher} signs but does not encrypt: anyone can read the payload in the URL "
                "(--require encryption to hide it)."
            )
        args = ", ".join(f"{k}={json.dumps(v)}" for k, v in self.config_kwargs().items())
        lines += [
            "",
            "TrackingConfig keyword arguments (with your keys and base URLs):",
            f"    TrackingConfig({args}, ...)",
        ]
        if c.serializer == "schema":
            lines.append("    Tracker(config, metadata_model=Metadata)  # the model is below")
        lines += [
            "Environment variables (TrackingConfig.from_env):",
            *(f"    {k}={v}" for k, v in self.environment().items()),
            "    TRACKCODEC_KEYS=...  # the output of: trackcodec keygen",
        ]
        if "ttl" in self.config_kwargs():
            lines.append("(ttl: 30 days here; choose how long your links must live.)")
        if c.serializer == "schema" and self.model_source:
            lines += [
                "",
                "The schema serializer writes fields by position: this is the metadata model "
                "inferred from the payloads (add new fields at the end, never reorder):",
                "",
                *(f"    {line}" if line else "" for line in self.model_source.splitlines()),
            ]
        return "\n".join(lines)

    def as_dict(self) -> dict[str, Any]:
        """Plain data for JSON output."""
        return {
            "candidate": None if self.candidate is None else self.candidate.name,
            "total_us": round(self.total_us, 2),
            "max_url_length": self.max_url_length,
            "requirements": list(self.requirements),
            "max_length": self.max_length,
            "tracking_config": self.config_kwargs(),
            "environment": self.environment(),
            "runners_up": [c.name for c, _ in self.runners_up],
            "model_source": self.model_source,
            "reason": self.reason,
            "pareto": [c.name for c, _ in self.pareto],
            "closest": [c.name for c, _ in self.closest],
            "default_note": self.default_note,
        }


def meets(
    result: BenchResult,
    candidate: Candidate,
    requirements: Sequence[str],
    max_length: int | None,
) -> bool:
    """Whether ``candidate`` may be recommended under the constraints."""
    if candidate.reference or not candidate.authenticated:
        return False
    if "encryption" in requirements and not candidate.encrypted:
        return False
    if "expiry" in requirements and not candidate.timestamp:
        return False
    return max_length is None or result.max_url_length(candidate) <= max_length


def recommend(
    result: BenchResult,
    requirements: Sequence[str] = (),
    max_length: int | None = None,
    *,
    model_source: str | None = None,
) -> Recommendation:
    """Pick the fastest trackcodec combination that meets the constraints.

    Authentication is always required: unauthenticated (``plain``) URLs can
    be forged by anyone, so they are measured but never recommended.

    Args:
        result: A benchmark run.
        requirements: Any of ``authentication``, ``encryption``, ``expiry``
            (expiry needs the run to have measured tokens with timestamps).
        max_length: The longest full URL allowed, over every payload.
        model_source: The metadata model to show if ``schema`` wins.

    Raises:
        ValueError: An unknown requirement.
    """
    for requirement in requirements:
        if requirement not in REQUIREMENTS:
            raise ValueError(f"unknown requirement {requirement!r}; use {', '.join(REQUIREMENTS)}")
    wanted = tuple(r for r in REQUIREMENTS if r in requirements or r == "authentication")
    eligible = sorted(
        (result.total_us(c), c.name, c)
        for c in result.candidates
        if meets(result, c, wanted, max_length)
    )
    trackcodec = [c for c in result.candidates if not c.reference]
    lengths = {c.name: result.max_url_length(c) for c in trackcodec}
    if not eligible:
        if "expiry" in wanted and not any(c.timestamp for c in trackcodec):
            reason = "expiry needs tokens measured with timestamps (BenchOptions(timestamp=True))"
        elif max_length is not None and trackcodec:
            shortest = min(lengths.values())
            reason = f"the shortest URL measured is {shortest} characters"
        else:
            reason = "no measured combination authenticates" + (
                " and encrypts" if "encryption" in wanted else ""
            )
        authentic = [c for c in trackcodec if c.authenticated]
        closest = sorted(authentic, key=lambda c: (lengths[c.name], result.total_us(c)))[:3]
        return Recommendation(
            None,
            0.0,
            0,
            wanted,
            max_length,
            reason=reason,
            closest=tuple((c, result.total_us(c)) for c in closest),
            lengths=lengths,
        )
    # Length and speed weigh alike: each as a ratio to the best eligible value.
    shortest = min(lengths[c.name] for _, _, c in eligible)
    fastest = eligible[0][0]

    def score(item: tuple[float, str, Candidate]) -> tuple[float, float, str]:
        total, name, _ = item
        return (lengths[name] / shortest + total / fastest, total, name)

    total, _, best = min(eligible, key=score)
    pareto = sorted(
        (
            (c, t)
            for t, _, c in eligible
            if not any(
                lengths[o.name] <= lengths[c.name]
                and u <= t
                and (lengths[o.name], u) != (lengths[c.name], t)
                for u, _, o in eligible
            )
        ),
        key=lambda pair: (lengths[pair[0].name], pair[1]),
    )
    return Recommendation(
        best,
        total,
        lengths[best.name],
        wanted,
        max_length,
        runners_up=tuple((c, t) for t, _, c in eligible if c is not best)[:2],
        model_source=model_source if best.serializer == "schema" else None,
        pareto=tuple(pareto),
        default_note=_default_note(result, best, total, eligible, lengths),
        lengths=lengths,
    )


# A tracker's default settings (TrackingConfig's field defaults).
_DEFAULT = tuple(
    TrackingConfig.model_fields[name].default for name in ("serializer", "compressor", "cipher")
)


def _default_note(
    result: BenchResult,
    best: Candidate,
    total: float,
    eligible: Sequence[tuple[float, str, Candidate]],
    lengths: Mapping[str, int],
) -> str:
    """Why ``best`` differs from the default settings, when it does."""
    if (best.serializer, best.compressor, best.cipher) == _DEFAULT:
        return ""
    label = " + ".join(_DEFAULT)
    default = next(
        (
            (t, c)
            for t, _, c in eligible
            if (c.serializer, c.compressor, c.cipher) == _DEFAULT and c.timestamp == best.timestamp
        ),
        None,
    )
    if default is None:
        measured = any(
            (c.serializer, c.compressor, c.cipher) == _DEFAULT for c in result.candidates
        )
        return f"It differs from the default ({label}), which " + (
            "does not meet the constraints." if measured else "was not measured."
        )
    default_total, candidate = default
    longer = lengths[candidate.name] - lengths[best.name]
    faster = (default_total / total - 1) * 100 if total else 0.0
    return (
        f"It differs from the default ({label}): URLs "
        + (f"{longer} characters shorter" if longer >= 0 else f"{-longer} characters longer")
        + ", "
        + (f"{faster:.0f}% faster" if faster >= 0 else f"{-faster:.0f}% slower")
        + " on these payloads."
    )


# -- the table --------------------------------------------------------------------------


@dataclass(frozen=True)
class TableRow:
    """One row of the report table.

    Attributes:
        candidate: The row's candidate.
        cells: The texts, one per header.
        status: ``reference``, ``recommended``, ``eligible`` or ``ineligible``.
    """

    candidate: Candidate
    cells: tuple[str, ...]
    status: str


def _us(value: float) -> str:
    return f"{value:.1f}" if value < 10 else f"{value:.0f}"


def _length(value: float) -> str:
    return f"{value:g}"


def _cipher_label(c: Candidate) -> str:
    name = _REFERENCE_CIPHERS.get(c.cipher, c.cipher) if c.reference else c.cipher
    return name if c.authenticated else name + "*"


def table(
    result: BenchResult,
    recommendation: Recommendation | None = None,
    *,
    sort: SortKey = "name",
) -> tuple[tuple[str, ...], list[TableRow]]:
    """The report table: headers (two lines, split by a newline) and rows, references first.

    With up to four workloads there are two columns per workload (URL length;
    encode / decode µs), else three columns over all of them (longest URL,
    mean encode and decode µs). The last two columns are the ratios to
    pytracking with Fernet, when it was measured.
    """
    names = [w for w, _ in result.workloads]
    wide = len(names) <= 4
    headers = ["serializer", "compressor", "cipher"]
    if wide:
        for name in names:
            headers += [f"{name}\nURL", f"{name}\nµs enc/dec"]
    else:
        headers += ["URL\nmax", "µs enc\n(mean)", "µs dec\n(mean)"]
    reference = result.get(_MAIN_REFERENCE, names[0]) is not None
    if reference:
        headers += ["URL\nvs pyt-F", "time\nvs pyt-F"]

    def key(c: Candidate) -> tuple[Any, ...]:
        if sort == "speed":
            return (not c.reference, result.total_us(c))
        if sort == "length":
            return (not c.reference, result.max_url_length(c), result.total_us(c))
        return (not c.reference,)  # stable: references, then registry order

    recommended = recommendation.candidate if recommendation else None
    rows = []
    for c in sorted(result.candidates, key=key):
        ms = result.of(c)
        serializer = f"{c.family.split()[0]} json" if c.reference else c.serializer
        cells = [serializer, c.compressor, _cipher_label(c)]
        if wide:
            for m in ms:
                cells += [_length(m.url_length), f"{_us(m.encode_us)}/{_us(m.decode_us)}"]
        else:
            cells += [
                str(result.max_url_length(c)),
                _us(sum(m.encode_us for m in ms) / len(ms)),
                _us(sum(m.decode_us for m in ms) / len(ms)),
            ]
        if reference:
            ratios = result.ratios(c, _MAIN_REFERENCE)
            cells += (
                [f"{ratios[0]:.2f}{_TIMES}", f"{ratios[1]:.2f}{_TIMES}"] if ratios else ["", ""]
            )
        if c.reference:
            status = "reference"
        elif c == recommended:
            status = "recommended"
        elif recommendation is not None and meets(
            result, c, recommendation.requirements, recommendation.max_length
        ):
            status = "eligible"
        else:
            status = "ineligible"
        rows.append(TableRow(c, tuple(cells), status))
    return tuple(headers), rows


def caption(result: BenchResult) -> str:
    """The line under the table: what the columns mean."""
    names = [w for w, _ in result.workloads]
    parts = [
        f"URL: characters, base URL ({len(result.options.base_url)}) included",
        "µs: encode / decode, per URL",
    ]
    if len(names) > 4:
        parts[0] = "URL max: longest URL over every payload"
    if result.get(_MAIN_REFERENCE, names[0]) is not None:
        parts.append("vs pyt-F: ratio to pytracking + Fernet (geometric mean over payloads)")
    if any(not c.authenticated for c in result.candidates):
        parts.append(_FORGEABLE_NOTE)
    return "; ".join(parts)


def to_markdown(
    result: BenchResult, recommendation: Recommendation | None = None, *, sort: SortKey = "name"
) -> str:
    """The report as Markdown: table (recommended row in bold), caption, method, recommendation."""
    headers, rows = table(result, recommendation, sort=sort)
    lines = [
        "| " + " | ".join(h.replace("\n", " ") for h in headers) + " |",
        "|" + "|".join("---" if i < 3 else "---:" for i in range(len(headers))) + "|",
    ]
    for row in rows:
        cells = [c.replace("*", "\\*") for c in row.cells]
        if row.status == "recommended":
            cells = [f"**{c}**" for c in cells]
        lines.append("| " + " | ".join(cells) + " |")
    lines += [
        "",
        caption(result).replace("*", "\\*", 1),
        "",
        result.method,
        "",
        environment_line(result),
    ]
    for note in result.notes:
        lines += ["", f"Note: {note}"]
    if recommendation is not None:
        lines += ["", "```text", recommendation.text(), "```"]
    return "\n".join(lines) + "\n"


def environment_line(result: BenchResult) -> str:
    """The line that says where and with what the run was measured."""
    env = result.environment
    versions = ", ".join(
        f"{p} {env[p]}"
        for p in ("trackcodec", "pytracking", "itsdangerous")
        if env.get(p, "?") != "?"
    )
    return (
        f"Machine: {env['implementation']} {env['python']} on {env['system']} {env['machine']}, "
        f"{env['cpus']} CPUs; {versions}; run took {result.elapsed:.1f} s."
    )


_CSV_FIELDS = (
    "candidate",
    "family",
    "serializer",
    "compressor",
    "cipher",
    "authenticated",
    "encrypted",
    "timestamp",
    "workload",
    "payloads",
    "token_length",
    "token_length_max",
    "url_length",
    "url_length_max",
    "encode_us",
    "decode_us",
    "url_length_vs_pytracking_fernet",
    "time_vs_pytracking_fernet",
)


def _row(result: BenchResult, m: Measurement) -> dict[str, Any]:
    c = m.candidate
    ref = result.get(_MAIN_REFERENCE, m.workload)
    return {
        "candidate": c.name,
        "family": c.family,
        "serializer": c.serializer,
        "compressor": c.compressor,
        "cipher": c.cipher,
        "authenticated": c.authenticated,
        "encrypted": c.encrypted,
        "timestamp": c.timestamp,
        "workload": m.workload,
        "payloads": m.payloads,
        "token_length": m.token_length,
        "token_length_max": m.token_length_max,
        "url_length": m.url_length,
        "url_length_max": m.url_length_max,
        "encode_us": round(m.encode_us, 3),
        "decode_us": round(m.decode_us, 3),
        "url_length_vs_pytracking_fernet": (
            round(m.url_length / ref.url_length, 4) if ref else None
        ),
        "time_vs_pytracking_fernet": (
            round(m.round_trip_us / ref.round_trip_us, 4) if ref else None
        ),
    }


def to_csv(result: BenchResult) -> str:
    """One CSV line per candidate and workload, with a header line."""
    out = io.StringIO()
    writer = csv.DictWriter(out, fieldnames=_CSV_FIELDS, lineterminator="\n")
    writer.writeheader()
    for m in result.measurements:
        writer.writerow(_row(result, m))
    return out.getvalue()


def to_json(result: BenchResult, recommendation: Recommendation | None = None) -> str:
    """The whole run as JSON: method, environment, options, measurements, ratios, recommendation."""
    ratios: dict[str, dict[str, dict[str, float]]] = {}
    references = [c.name for c in result.candidates if c.reference]
    for c in result.candidates:
        for ref in references:
            pair = result.ratios(c, ref)
            if pair is not None and ref != c.name:
                ratios.setdefault(c.name, {})[ref] = {
                    "url_length": round(pair[0], 4),
                    "time": round(pair[1], 4),
                }
    document = {
        "method": result.method,
        "environment": result.environment,
        "options": dict(mapping_of(result.options)),
        "workloads": [{"name": n, "payloads": k} for n, k in result.workloads],
        "notes": list(result.notes),
        "measurements": [_row(result, m) for m in result.measurements],
        "ratios": ratios,
        "recommendation": None if recommendation is None else recommendation.as_dict(),
    }
    return json.dumps(document, indent=2, ensure_ascii=False) + "\n"
