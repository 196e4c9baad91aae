"""Properties of `rewrite_html` on random HTML-like text.

Decoding every tracked ``href`` back to what it was and removing the pixel
gives the input back, byte for byte; which links are tracked is decided
independently, from the reference tokenizer (``html_reference.py``).
"""

from __future__ import annotations

import re
from typing import Any

from hypothesis import example, given
from hypothesis import strategies as st

import html_reference
from html_support import CLICK_BASE, OPEN_BASE, PIXEL, make_tracker
from test_html_tokenizer import PIECES
from trackcodec.html import rewrite_html

TRACKER = make_tracker()
CLICK = re.compile(re.escape(CLICK_BASE) + r"[A-Za-z0-9_-]+")
OPEN = re.compile(re.escape(OPEN_BASE) + r"[A-Za-z0-9_-]+")

HREFS = [
    "https://a.example/",
    "HTTPS://B.example/x?y=1&amp;z=2",
    " http://c.example/&notify=1 ",
    "https://d.example/&#x41;&lt;&copy",
    "https://e.example/\n x",
    "https://g.example/\u00e9\u65e5",
    "mailto:x@y.example",
    "#top",
    "https://f.example/unsubscribe",
    "/relative",
    "{{ url }}",
    "",
]
UNQUOTED = ["https://a.example/", "https://d.example/?a&amp;b", "HTTP://h.example", "#x"]
LINKS = [
    *(f'<a href="{href}">' for href in HREFS),
    *(f"<A HREF='{href}' x=1>" for href in HREFS),
    *(f"<area href={href}>" for href in UNQUOTED),
    *(f"<a class=c href = {href} >" for href in UNQUOTED),
    '<a title="&quot;" href="https://a.example/" href="https://z.example/">',
    "<body>",
    "</body>",
    "</html>",
]
documents = st.lists(st.sampled_from(PIECES + LINKS), max_size=30).map("".join)
_HTTP = re.compile(r"[hH][tT][tT][pP][sS]?://[^/?#]")


def expected_target(value: str) -> str | None:
    """What the tests expect to be tracked for a decoded ``href`` value."""
    url = value.strip("".join(map(chr, range(0x21)))).replace("\t", "").replace("\n", "")
    url = url.replace("\r", "")
    if not _HTTP.match(url) or "unsub" in url.lower() or "{{" in url:
        return None
    return url


def tracked_links(text: str) -> dict[int, tuple[int, str]]:
    """Value start offset to (value end, expected target), for links that must be tracked."""
    found = {}
    for tag in html_reference.tokenize(text):
        if tag.kind != "start" or tag.name not in ("a", "area"):
            continue
        href = next((a for a in tag.attrs if a.name == "href"), None)
        if href is None or href.quote is None:
            continue
        target = expected_target(href.value)
        if target is not None:
            found[href.value_start] = (href.value_end, target)
    return found


def restore(output: str, text: str) -> str:
    """``output`` with the pixel removed and each click URL put back as written in ``text``."""
    pixel = OPEN.search(output)
    if pixel is not None:
        tag = PIXEL.format(pixel.group())
        assert tag in output
        output = output.replace(tag, "", 1)
    expected = tracked_links(text)
    pieces = []
    pos = 0
    delta = 0
    for url in CLICK.finditer(output):
        source = url.start() - delta
        assert source in expected, f"unexpected tracked link at {source}"
        value_end, target = expected.pop(source)
        assert TRACKER.parse_click(url.group()).tracked_url == target
        pieces.append(output[pos : url.start()])
        pieces.append(text[source:value_end])
        pos = url.end()
        delta += len(url.group()) - (value_end - source)
    assert not expected, f"links not tracked: {expected}"
    pieces.append(output[pos:])
    return "".join(pieces)


@given(documents, st.sampled_from(["bottom", "top", "placeholder", "none"]))
@example('<a href="https://a.example/">x</a>', "bottom")
@example("<a href='https://a.example/'><!-- cut", "top")
def test_decoding_back_gives_the_input(text: str, pixel: Any) -> None:
    output = rewrite_html(text, TRACKER, {"c": 1}, pixel=pixel)
    assert restore(output, text) == text
    assert (OPEN.search(output) is None) == (pixel == "none")


@given(documents)
def test_rewriting_twice_equals_rewriting_once(text: str) -> None:
    once = rewrite_html(text, TRACKER, {"c": 1})
    assert rewrite_html(once, TRACKER, {"c": 1}) == once


@given(documents)
def test_bytes_and_text_agree(text: str) -> None:
    assert rewrite_html(text.encode("utf-8"), TRACKER, encoding="utf-8") == rewrite_html(
        text, TRACKER
    )
