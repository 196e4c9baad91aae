"""The benchmark plot: URL length against speed (``trackcodec[plot]``, matplotlib)."""

from __future__ import annotations

from pathlib import Path
from typing import Any, Literal

from trackcodec._deps import require
from trackcodec.bench._candidates import Candidate
from trackcodec.bench._harness import BenchResult
from trackcodec.bench._report import Recommendation

__all__ = ["PLOT_FORMATS", "plot"]

PLOT_FORMATS = ("svg", "png")

FillStyle = Literal["full", "left", "right", "bottom", "top", "none"]

_CIPHER_COLOURS = {
    "aes-siv": "#1b9e77",
    "xchacha20": "#d95f02",
    "secretbox": "#7570b3",
    "fernet": "#e7298a",
    "hmac": "#66a61e",
    "plain": "#a6761d",
}
_SERIALIZER_MARKERS = {"json": "o", "msgpack": "s", "schema": "^"}
_COMPRESSOR_FILLS: dict[str, FillStyle] = {
    "none": "none",
    "deflate": "full",
    "deflate-dict": "left",
}
_REFERENCE_LABELS = {
    "pytracking-plain": "pytracking",
    "pytracking-fernet": "pytracking + Fernet",
    "itsdangerous": "itsdangerous",
}
_MAX_PANELS = 4


def _style(c: Candidate) -> dict[str, Any]:
    return {
        "marker": _SERIALIZER_MARKERS.get(c.serializer, "D"),
        "fillstyle": _COMPRESSOR_FILLS.get(c.compressor, "full"),
        "color": _CIPHER_COLOURS.get(c.cipher, "#666666"),
        "markersize": 7,
        "markeredgewidth": 1.2,
        "linestyle": "none",
    }


def plot(
    result: BenchResult, path: str | Path, recommendation: Recommendation | None = None
) -> Path:
    """Draw URL length against encode + decode time, one panel per workload, and save it.

    With more than four workloads, one panel shows the longest URL and the
    mean time over all of them. Colour is the cipher, marker the serializer,
    fill the compressor (hollow: none, full: deflate, half: deflate-dict);
    references are black stars, and the recommendation is circled.

    Args:
        result: A benchmark run.
        path: Where to save; ``.svg`` or ``.png``.
        recommendation: Circled when given.

    Returns:
        The path written.

    Raises:
        MissingDependencyError: matplotlib is not installed (``trackcodec[plot]``).
        ValueError: ``path`` is neither ``.svg`` nor ``.png``.
    """
    path = Path(path)
    fmt = path.suffix.lower().lstrip(".")
    if fmt not in PLOT_FORMATS:
        raise ValueError(f"the plot is .svg or .png, not {path.name!r}")
    require("matplotlib", package="matplotlib", extra="plot", feature="the benchmark plot")
    import matplotlib
    from matplotlib.figure import Figure
    from matplotlib.lines import Line2D

    names = [w for w, _ in result.workloads]
    panels: list[tuple[str, dict[str, tuple[float, float]]]] = []
    if len(names) <= _MAX_PANELS:
        for name in names:
            points = {}
            for c in result.candidates:
                m = result.get(c.name, name)
                if m is not None:
                    points[c.name] = (m.url_length, m.round_trip_us)
            panels.append((name, points))
    else:
        points = {
            c.name: (
                float(result.max_url_length(c)),
                result.total_us(c) / len(names),
            )
            for c in result.candidates
        }
        panels.append((f"{len(names)} workloads (longest URL, mean time)", points))

    recommended = recommendation.candidate if recommendation else None
    with matplotlib.rc_context({"svg.hashsalt": "trackcodec", "svg.fonttype": "none"}):
        fig = Figure(figsize=(5.2 * len(panels), 4.8), layout="constrained")
        axes = fig.subplots(1, len(panels), squeeze=False)[0]
        for ax, (title, points) in zip(axes, panels, strict=True):
            for c in result.candidates:
                if c.name not in points:
                    continue
                x, y = points[c.name]
                if c.reference:
                    ax.plot([x], [y], marker="*", color="black", markersize=11, linestyle="none")
                    ax.annotate(
                        _REFERENCE_LABELS.get(c.name, c.name),
                        (x, y),
                        textcoords="offset points",
                        xytext=(-6, 6),
                        ha="right",
                        fontsize=8,
                    )
                else:
                    ax.plot([x], [y], **_style(c))
                if c == recommended:
                    ax.plot(
                        [x],
                        [y],
                        marker="o",
                        markersize=16,
                        fillstyle="none",
                        color="black",
                        linestyle="none",
                    )
                    ax.annotate(
                        "recommended",
                        (x, y),
                        textcoords="offset points",
                        xytext=(10, -14),
                        fontsize=8,
                        fontweight="bold",
                    )
            ax.set_title(title)
            ax.set_xlabel("URL length (characters, base URL included)")
            ax.set_ylabel("encode + decode (µs, median)")
            ax.set_ylim(bottom=0)
            ax.grid(True, alpha=0.3)
        handles = [
            Line2D([], [], color=colour, marker="s", linestyle="none", label=name)
            for name, colour in _CIPHER_COLOURS.items()
            if any(c.cipher == name and not c.reference for c in result.candidates)
        ]
        handles += [
            Line2D([], [], color="grey", marker=marker, linestyle="none", label=name)
            for name, marker in _SERIALIZER_MARKERS.items()
            if any(c.serializer == name and not c.reference for c in result.candidates)
        ]
        handles += [
            Line2D([], [], color="grey", marker="o", fillstyle=fill, linestyle="none", label=name)
            for name, fill in _COMPRESSOR_FILLS.items()
            if any(c.compressor == name and not c.reference for c in result.candidates)
        ]
        if any(c.reference for c in result.candidates):
            handles.append(
                Line2D([], [], color="black", marker="*", linestyle="none", label="reference")
            )
        fig.legend(handles=handles, loc="outside right center", fontsize=8, frameon=False)
        fig.suptitle("trackcodec bench: URL length against speed (lower left is better)")
        metadata = {"Date": None} if fmt == "svg" else {}
        fig.savefig(path, format=fmt, dpi=110, metadata=metadata)
    return path
