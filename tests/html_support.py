"""Helpers of the HTML rewriting tests: the tracker, fixtures, and the template checker.

An expected output is a template: the rewriter's output must equal it byte for
byte, except that each ``⟦click INDEX URL [NAME]⟧`` marker stands for a click
tracking URL and ``⟦open⟧`` for the pixel's URL. Each URL is decoded with the
real tracker and must carry the marker's target and metadata; markers with the
same index must hold the very same URL, different indexes different URLs.
"""

from __future__ import annotations

import importlib.util
import re
from collections.abc import Mapping
from pathlib import Path
from types import ModuleType
from typing import Any

from trackcodec import KeyRing, Tracker, TrackingConfig

DATA = Path(__file__).resolve().parent / "data" / "html"
OPEN_BASE = "https://t.example.com/o/"
CLICK_BASE = "https://t.example.com/c/"
KEYS = KeyRing({0: bytes(range(32))})
METADATA: dict[str, Any] = {"customer_id": 123456, "campaign": "fall-2026"}
PIXEL = (
    '<img src="{}" width="1" height="1" alt="" border="0" '
    'style="height:1px;width:1px;border:0;margin:0;padding:0;opacity:0" />'
)

_MARKER = re.compile(r"⟦(?:click (\d+) ([^\s⟧]+)(?: ([^\s⟧]+))?|open)⟧")
_CLICK_URL = re.compile(re.escape(CLICK_BASE) + r"[A-Za-z0-9_-]+")
_OPEN_URL = re.compile(re.escape(OPEN_BASE) + r"[A-Za-z0-9_-]+")


def make_tracker(**settings: Any) -> Tracker[dict[str, Any]]:
    """The tracker of the tests: the example base URLs, a fixed key."""
    config: dict[str, Any] = {
        "base_open_tracking_url": OPEN_BASE,
        "base_click_tracking_url": CLICK_BASE,
        "keys": KEYS,
    }
    config.update(settings)
    return Tracker(TrackingConfig(**config))


def read(name: str) -> str:
    """A fixture's text, line ends untouched."""
    return (DATA / name).read_bytes().decode("utf-8")


def make_docs() -> ModuleType:
    """The generator script of the large documents (``tests/data/html/make_docs.py``)."""
    spec = importlib.util.spec_from_file_location("make_docs", DATA / "make_docs.py")
    assert spec is not None
    assert spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def _context(text: str, pos: int) -> str:
    return repr(text[max(0, pos - 60) : pos + 60])


def check_against_template(
    output: str,
    template: str,
    tracker: Tracker[dict[str, Any]],
    metadata: Mapping[str, Any] | None = None,
) -> int:
    """Assert that ``output`` matches ``template``; return the number of click URLs."""
    metadata = dict(metadata or {})
    by_index: dict[int, str] = {}
    pos = 0
    last = 0
    clicks = 0
    for marker in _MARKER.finditer(template):
        literal = template[last : marker.start()]
        assert output.startswith(literal, pos), (
            f"output differs near offset {pos}: expected {_context(template, last)}, "
            f"got {_context(output, pos)}"
        )
        pos += len(literal)
        last = marker.end()
        if marker.group(1) is None:
            found = _OPEN_URL.match(output, pos)
            assert found, f"no open tracking URL at {_context(output, pos)}"
            assert tracker.parse_open(found.group()).metadata == metadata
        else:
            index, url, name = int(marker.group(1)), marker.group(2), marker.group(3)
            found = _CLICK_URL.match(output, pos)
            assert found, f"no click tracking URL for {url} at {_context(output, pos)}"
            result = tracker.parse_click(found.group())
            assert result.tracked_url == url
            expected = {**metadata, "link_index": index}
            if name:
                expected["link_name"] = name
            assert result.metadata == expected
            assert by_index.setdefault(index, found.group()) == found.group()
            clicks += 1
        pos = found.end()
    assert output[pos:] == template[last:], f"output differs at the end, near offset {pos}"
    assert len(set(by_index.values())) == len(by_index), "distinct links share a URL"
    return clicks
