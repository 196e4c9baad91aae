"""Properties of `rewrite_html` on random HTML-like text.

Decoding every tracked ``href`` back to what it was and removing the pixel
gives the input back, byte for byte; which links are tracked is decided
independently, from the reference tokenizer (``html_reference.py``).
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from typing import Any
from unittest import mock

from hypothesis import example, given
from hypothesis import strategies as st

import html_reference
from html_support import CLICK_BASE, OPEN_BASE, PIXEL, make_tracker
from test_html_tokenizer import PIECES
from trackcodec._html_links import DEFAULT_UNSUBSCRIBE_PATTERN, LinkTracker
from trackcodec._html_tokenizer import END, START, Token, tokenize
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
def test_bytes_and_text_agree(text: str) -> None:
    assert rewrite_html(text.encode("utf-8"), TRACKER, encoding="utf-8") == rewrite_html(
        text, TRACKER
    )


class _Tracker:
    """A deterministic stand-in whose URLs need escaping and show the metadata."""

    class config:  # noqa: N801 - stands for the settings attribute
        base_click_tracking_url = CLICK_BASE
        base_open_tracking_url = OPEN_BASE

    def click_url(self, url: str, metadata: Any = None) -> str:
        return f"{CLICK_BASE}?u={url}&'\"<>&m={sorted((metadata or {}).items())}"

    def open_url(self, metadata: Any = None) -> str:
        return f"{OPEN_BASE}x"


FAST_PATH_PIECES = [
    '<a data-track-name="n" href="https://n.example/">',
    "<a href='https://m.example/' data-notrack>",
    "<a href=https://x.example/ clicktracking=off>",
    "<area href=\"https://y.example/\" ses:no-track='1'/>",
    '<!--[if mso]><v:roundrect href="https://v.example/"><![endif]-->',
    f'<img src="{OPEN_BASE}x">',
    "<!--trackcodec:pixel-->",
    "<p class=\"x>y\" id='z'>",
    '</p class="x>y">',
    '</p title="',
    '</b x=">',
    # One URL in each quote style, and empty values: plain links are cached by quoted value.
    '<a href="https://q.example/?a&amp;b">',
    "<a href='https://q.example/?a&amp;b'>",
    "<a href=https://q.example/?a&amp;b>",
    "<a href=>",
    '<a href="">',
]


def full_tokenize(
    text: str,
    start: int = 0,
    end: int | None = None,
    *,
    starts: Any = None,
    ends: Any = None,
    comments: bool = False,
    plain_links: list[Any] | None = None,
) -> Iterator[Token]:
    """`tokenize` the slow way: every tag scanned as wanted, no plain links, then filtered."""
    for token in tokenize(text, start, end, comments=comments):
        wanted = starts if token.kind == START else ends if token.kind == END else None
        if wanted is None or token.name in wanted:
            yield token


@given(
    st.lists(st.sampled_from(PIECES + LINKS + FAST_PATH_PIECES), max_size=30).map("".join),
    st.booleans(),
    st.sampled_from(["bottom", "top", "placeholder"]),
)
@example('<a href="https://a.example/">x</a><p title="<a href=https://b.example/>">', False, "top")
@example('</p title="><a href=https://b.example/>"><a href="https://c.example/">', False, "bottom")
@example("<svg><a href='https://a.example/' data-x></svg><p x='</body>'></body>", True, "top")
def test_fast_paths_agree_with_the_full_tokenizer(text: str, vml: bool, pixel: Any) -> None:
    # Skipped tags, quote-free end tags and plain links are shortcuts: the output
    # must be what tokenizing every tag in full, and parsing every link, gives.
    tracker = _Tracker()
    fast = rewrite_html(text, tracker, {"c": 1}, vml=vml, pixel=pixel)
    with mock.patch("trackcodec.html.tokenize", full_tokenize):
        slow = rewrite_html(text, tracker, {"c": 1}, vml=vml, pixel=pixel)
    assert fast == slow


@given(
    st.lists(
        st.sampled_from(
            [*PIECES, *LINKS, *FAST_PATH_PIECES, '<p title="<!--trackcodec:pixel-->">', "<a x "]
        ),
        max_size=30,
    ).map("".join),
    st.sampled_from(["bottom", "top", "placeholder", "none"]),
    st.booleans(),
    st.booleans(),
)
@example("<a href='https://m.example/' data-notrack>", "bottom", False, True)
@example("<a href=x <!--trackcodec:pixel-->", "placeholder", False, False)
@example('<p title="<!--trackcodec:pixel-->"><!--trackcodec:pixel-->', "placeholder", False, True)
def test_rewriting_twice_equals_rewriting_once(
    text: str, pixel: Any, vml: bool, strip: bool
) -> None:
    # Opt-out attributes stay and the pixel goes where a second pass finds it.
    options: dict[str, Any] = {"pixel": pixel, "vml": vml, "strip_attributes": strip}
    once = rewrite_html(text, TRACKER, {"c": 1}, **options)
    assert rewrite_html(once, TRACKER, {"c": 1}, **options) == once


TARGET_PIECES = [
    "http://", "https://", "HTTPS://", "HtTp://", "http:/", "t.example.com/c", "/", "?", "#",
    "&", "=", "x", "{{", "{%", "{", "*|", "|", "%%", "%", "unsub", "opt-out", "opt", "\t", "\n",
    "\r", " ", "\x00", "\u0130", "\u212a", "\u03a3", "\u00e9",
]  # fmt: skip
_C0_AND_SPACE = "".join(map(chr, range(0x21)))


def defined_target(url: str, click_base: str) -> str | None:
    """`LinkTracker.target` as first written: regular expressions, one step at a time."""
    url = url.strip(_C0_AND_SPACE).replace("\t", "").replace("\n", "").replace("\r", "")
    if not _HTTP.match(url) or re.search(r"\{\{|\{%|\*\||%%", url):
        return None
    prefix = click_base.lower()
    head = url[: len(prefix) + 1].lower()
    if head.startswith(prefix) and (
        prefix[-1] in "/=?&" or head[len(prefix) :] in ("", "/", "?", "#", "&")
    ):
        return None
    if re.search(DEFAULT_UNSUBSCRIBE_PATTERN, url.lower()):
        return None
    return url


@given(
    st.lists(st.sampled_from(TARGET_PIECES), max_size=12).map("".join),
    st.sampled_from(["https://t.example.com/c", "https://t.example.com/c/", "HTTP://\u0130.x/c"]),
)
@example("https://#", "https://t.example.com/c")
@example("https://t.example.com/c\u0130", "https://t.example.com/c")
@example("http://\u0130.x/c/a", "HTTP://\u0130.x/c")  # lower-casing changes the length
def test_target_as_defined(url: str, click_base: str) -> None:
    links = LinkTracker(
        lambda url, metadata: url,
        click_base,
        None,
        utm=None,
        unsubscribe_pattern=DEFAULT_UNSUBSCRIBE_PATTERN,
        name_key=None,
        index_key=None,
    )
    assert links.target(url) == defined_target(url, click_base)
