"""Prepared HTML templates: scanned once, rendered per recipient, byte for byte `rewrite_html`."""

from __future__ import annotations

import base64
import hashlib
import threading
from typing import Any

import pytest
from hypothesis import example, given, settings
from hypothesis import strategies as st

from html_support import METADATA, make_docs, make_tracker, read
from test_html_property import FAST_PATH_PIECES, LINKS, PIECES, TRACKER, _Tracker
from trackcodec import ConfigurationError
from trackcodec._html_links import Pending, apply_edits
from trackcodec._html_template import PreparedHTML
from trackcodec.errors import EncodeError
from trackcodec.html import PreparedHTML as PublicPreparedHTML
from trackcodec.html import prepare_html, rewrite_html

DOCUMENTS = st.lists(
    st.sampled_from(
        [*PIECES, *LINKS, *FAST_PATH_PIECES, '<p title="<!--trackcodec:pixel-->">', "<a x "]
    ),
    max_size=30,
).map("".join)
OPTIONS = st.fixed_dictionaries(
    {
        "pixel": st.sampled_from(["bottom", "top", "placeholder", "none"]),
        "vml": st.booleans(),
        "strip_attributes": st.booleans(),
        "click_tracking": st.booleans(),
        "open_tracking": st.booleans(),
        "utm": st.sampled_from([None, {"utm_source": "mail", "utm_medium": "email"}]),
        "link_name_key": st.sampled_from(["link_name", None]),
        "link_index_key": st.sampled_from(["link_index", None, "c"]),
    }
)
RECIPIENTS: list[dict[str, Any] | None] = [
    {"c": 1},
    None,
    {"link_index": "theirs", "c": 2, "link_name": "x"},
    {"customer_id": 2**40, "campaign": "é ✓"},
]


@settings(max_examples=400)
@given(DOCUMENTS, OPTIONS, st.booleans())
@example('<a href="https://a.example/">x</a><a href=https://a.example/>', {}, True)
@example("<a href='https://m.example/' data-notrack><body></body>", {"pixel": "top"}, False)
def test_render_is_rewrite_html(text: str, options: dict[str, Any], stand_in: bool) -> None:
    # The stand-in's URLs need escaping in every quote style and show the metadata.
    tracker: Any = _Tracker() if stand_in else TRACKER
    prepared = prepare_html(text, tracker, **options)
    for metadata in RECIPIENTS:
        assert prepared.render(metadata) == rewrite_html(text, tracker, metadata, **options)


@pytest.mark.parametrize("vml", [False, True])
def test_whole_emails(vml: bool) -> None:
    tracker = make_tracker()
    docs = make_docs()
    for html in (read("newsletter.html"), read("transactional.html"), docs.digest().html):
        prepared = prepare_html(html, tracker, vml=vml)
        for customer_id in (1, 2):
            metadata = {**METADATA, "customer_id": customer_id}
            assert prepared.render(metadata) == rewrite_html(html, tracker, metadata, vml=vml)


def test_bytes_with_a_charset() -> None:
    html = '<meta charset="latin-1"><a href="https://a.example/\xe9">\xe9</a>'.encode("latin-1")
    assert prepare_html(html, TRACKER).render({"c": 1}) == rewrite_html(html, TRACKER, {"c": 1})


def test_links_refused_at_render_time_keep_their_text_and_take_no_index() -> None:
    # Whether a token fits the length limit depends on the metadata: decided per render.
    tracker = make_tracker(max_token_length=200)  # tokens of 59, 140, 179 and 276 characters:
    long = "https://b.example/" + hashlib.sha512(b"long").hexdigest()
    html = f'<a href="https://a.example/">a</a><a href="{long}">b</a><a href="https://c.example/">c'
    prepared = prepare_html(html, tracker, open_tracking=False)
    small = {"c": 1}
    large = {"c": base64.b64encode(hashlib.sha512(b"meta").digest()).decode()[:60]}
    for metadata in (small, large, small):
        assert prepared.render(metadata) == rewrite_html(
            html, tracker, metadata, open_tracking=False
        )

    def indexes(output: str) -> list[int]:
        urls = [u for u in output.split('"') if u.startswith("https://t.example.com/c/")]
        return [tracker.parse_click(url).metadata["link_index"] for url in urls]

    assert indexes(prepared.render(small)) == [0, 1, 2]
    output = prepared.render(large)
    assert f'"{long}"' in output  # the long link was refused, and left as written
    assert indexes(output) == [0, 1]


def test_renders_from_many_threads() -> None:
    tracker = make_tracker()
    html = read("newsletter.html")
    prepared = prepare_html(html, tracker, vml=True)
    expected = {i: rewrite_html(html, tracker, {"customer_id": i}, vml=True) for i in range(8)}
    results: dict[int, list[str]] = {i: [] for i in range(8)}
    barrier = threading.Barrier(8)

    def work(i: int) -> None:
        barrier.wait()
        for _ in range(10):
            results[i].append(prepared.render({"customer_id": i}))

    threads = [threading.Thread(target=work, args=(i,)) for i in range(8)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    for i, outputs in results.items():
        assert outputs == [expected[i]] * 10


def test_a_template_holds_about_its_source() -> None:
    html = make_docs().digest().html
    prepared = prepare_html(html, TRACKER)
    assert isinstance(prepared, PublicPreparedHTML)
    held = sum(map(len, prepared._parts)) + sum(len(original) for _, original in prepared._slots)
    assert held <= len(html)
    assert prepared._text is None
    assert repr(prepared).startswith("<PreparedHTML: ")


def test_errors_come_when_they_do_with_rewrite_html() -> None:
    with pytest.raises(ValueError, match="pixel must be one of"):
        prepare_html("<p>", TRACKER, pixel="side")  # type: ignore[arg-type]
    with pytest.raises(TypeError):
        prepare_html(42, TRACKER)  # type: ignore[arg-type]
    # A tracker without a click base URL fails when it is asked for a link.
    no_clicks = make_tracker(base_click_tracking_url=None)
    prepared = prepare_html('<a href="https://example.com/">x</a>', no_clicks)
    with pytest.raises(ConfigurationError):
        prepared.render({"c": 1})
    assert prepare_html("<p>no links</p>", no_clicks).render().startswith("<p>no links</p><img")


def test_edits_overlapping_a_link_are_resolved_per_render() -> None:
    # rewrite_html never makes such edits; the template still renders them as it would.
    text = "<a href=https://a.example/ title=x>"
    link = Pending("https://a.example/", "", None)
    start = text.index("https")
    end = start + len("https://a.example/")
    edits: list[tuple[int, int, str | Pending]] = [(start, end, link), (end - 3, end + 1, "")]
    prepared = PreparedHTML(
        text,
        edits,
        [link],
        None,
        click_url=lambda url, metadata: f"https://t.example.com/c/{metadata.get('c')}",
        open_url=lambda metadata: "https://t.example.com/o/x",
        pixel_tag=lambda url: f"<img src={url}>",
        utm=None,
        name_key=None,
        index_key=None,
    )
    assert prepared._text == text
    link.value = "https://t.example.com/c/1"
    assert prepared.render({"c": 1}) == apply_edits(text, edits)
    refusing = PreparedHTML(
        text,
        edits,
        [link],
        (0, 0),
        click_url=lambda url, metadata: (_ for _ in ()).throw(EncodeError("too long")),
        open_url=lambda metadata: "https://t.example.com/o/x",
        pixel_tag=lambda url: f"<img src={url}>",
        utm=None,
        name_key=None,
        index_key=None,
    )
    link.value = None
    assert refusing.render({"c": 1}) == "<img src=https://t.example.com/o/x>" + apply_edits(
        text, edits
    )
