"""`rewrite_html` and `rewrite_text` rule by rule: which links, what metadata, where the pixel."""

from __future__ import annotations

import html as std_html
import re
from typing import Any

import pytest

from html_support import CLICK_BASE, OPEN_BASE, PIXEL, make_tracker
from trackcodec import ConfigurationError, Tracker
from trackcodec.html import (
    DEFAULT_PIXEL_MARKER,
    OPT_OUT_ATTRIBUTES,
    rewrite_html,
    rewrite_text,
)

CLICK = re.compile(re.escape(CLICK_BASE) + r"[A-Za-z0-9_-]+")
OPEN = re.compile(re.escape(OPEN_BASE) + r"[A-Za-z0-9_-]+")

TRACKER = make_tracker()


def links_only(html: str, **options: Any) -> str:
    return rewrite_html(html, TRACKER, open_tracking=False, **options)


def targets(output: str, tracker: Tracker[dict[str, Any]] = TRACKER) -> list[str | None]:
    return [tracker.parse_click(url).tracked_url for url in CLICK.findall(output)]


def metadata_of(output: str) -> list[dict[str, Any]]:
    return [TRACKER.parse_click(url).metadata for url in CLICK.findall(output)]


def restore(output: str, original_href: str) -> str:
    """The output with its one click URL put back to ``original_href``."""
    return CLICK.sub(lambda _: original_href, output, count=1)


# -- which links ---------------------------------------------------------------------


@pytest.mark.parametrize(
    ("href", "target"),
    [
        ("http://example.com/", "http://example.com/"),
        ("https://example.com/a?b=1#c", "https://example.com/a?b=1#c"),
        ("HTTPS://EXAMPLE.COM/Path", "HTTPS://EXAMPLE.COM/Path"),
        ("Http://example.com/", "Http://example.com/"),
        ("  https://example.com/x \t", "https://example.com/x"),
        ("https://exa\nmple.com/x", "https://example.com/x"),
        ("https://example.com/?a=1&amp;b=2", "https://example.com/?a=1&b=2"),
        ("https://example.com/?a=1&notify=1", "https://example.com/?a=1&notify=1"),
        ("https://example.com/?a=1&copy=2", "https://example.com/?a=1&copy=2"),
        ("https://example.com/?a=1&copy;2", "https://example.com/?a=1©2"),
        ("https&#x3A;//example.com/&#47;x", "https://example.com//x"),
        ("https://example.com/caf\u00e9", "https://example.com/caf\u00e9"),
    ],
)
def test_tracked_links(href: str, target: str) -> None:
    html = f'<a href="{href}">x</a>'
    output = links_only(html)
    assert targets(output) == [target]
    assert restore(output, href) == html


@pytest.mark.parametrize(
    "href",
    [
        "mailto:someone@example.com",
        "MAILTO:someone@example.com",
        "tel:+4930123456",
        "sms:+4930123456",
        "#top",
        "#",
        "javascript:alert(1)",
        "JavaScript:void(0)",
        "data:text/html,<b>hi</b>",
        "/relative/path",
        "relative.html",
        "?q=1",
        "//cdn.example.com/protocol-relative",
        "ftp://example.com/file",
        "https://",
        "https:example.com",
        "",
        "   ",
        "{{ unsubscribe_url }}",
        "{{{raw_url}}}",
        "{% url 'home' %}",
        "*|ARCHIVE|*",
        "%%view_online%%",
        "https://example.com/?u={{ user_id }}",
        "https://example.com/*|EMAIL|*",
        "https://example.com/unsubscribe?u=1",
        "https://example.com/Email/UnSubscribe",
        "https://example.com/opt-out",
        "https://example.com/optout?id=2",
        CLICK_BASE + "already",
        CLICK_BASE.upper() + "ALREADY",
    ],
)
def test_skipped_links(href: str) -> None:
    html = f'<a href="{std_html.escape(href)}">x</a><area href="{std_html.escape(href)}">'
    assert links_only(html) == html


def test_only_a_and_area() -> None:
    html = (
        '<link rel="stylesheet" href="https://example.com/s.css">'
        '<base href="https://example.com/">'
        '<img src="https://example.com/i.png" href="https://example.com/">'
        '<abbr href="https://example.com/">x</abbr><a-b href="https://example.com/">'
        '<form action="https://example.com/"></form><a>no href</a><a href>empty</a>'
    )
    assert links_only(html) == html
    assert targets(links_only('<AREA HREF="https://example.com/">')) == ["https://example.com/"]


def test_click_base_is_a_prefix_of_whole_segments() -> None:
    tracker = make_tracker(base_click_tracking_url="https://t.example.com/c")
    html = '<a href="https://t.example.com/campaign">x</a><a href="https://t.example.com/c/x">y</a>'
    output = rewrite_html(html, tracker, open_tracking=False)
    assert output.startswith('<a href="https://t.example.com/c/')
    assert output.endswith('">x</a><a href="https://t.example.com/c/x">y</a>')
    url = output.split('"')[1]
    assert tracker.parse_click(url).tracked_url == "https://t.example.com/campaign"


def test_unsubscribe_pattern() -> None:
    html = (
        '<a href="https://example.com/unsubscribe">u</a><a href="https://example.com/leave">l</a>'
    )
    assert targets(links_only(html)) == ["https://example.com/leave"]
    everything = links_only(html, unsubscribe_pattern=None)
    assert targets(everything) == ["https://example.com/unsubscribe", "https://example.com/leave"]
    custom = links_only(html, unsubscribe_pattern=r"/leave\b")
    assert targets(custom) == ["https://example.com/unsubscribe"]
    compiled = links_only(html, unsubscribe_pattern=re.compile("leave"))
    assert targets(compiled) == ["https://example.com/unsubscribe"]


@pytest.mark.parametrize(
    ("attribute", "opted_out"),
    [
        ("data-notrack", True),
        ('data-notrack=""', True),
        ("DATA-NOTRACK", True),
        ("clicktracking=off", True),
        ('clicktracking="OFF"', True),
        ("data-pm-no-track", True),
        ('data-msys-clicktrack="0"', True),
        ("ses:no-track", True),
        ('clicktracking="on"', False),
        ('data-msys-clicktrack="1"', False),
    ],
)
def test_opt_out_attributes(attribute: str, opted_out: bool) -> None:
    html = f'<a {attribute} href="https://example.com/">x</a>'
    output = links_only(html)
    if opted_out:
        # The attribute stays, so that rewriting the output again changes nothing.
        assert output == html
        assert links_only(output) == html
    else:
        assert targets(output) == ["https://example.com/"]
        assert restore(output, "https://example.com/") == html
        assert links_only(html, strip_attributes=False) == output


def test_opt_out_attributes_kept_on_request() -> None:
    for name, value in OPT_OUT_ATTRIBUTES.items():
        html = f'<a href="https://example.com/" {name}="{value or ""}">x</a>'
        assert links_only(html, strip_attributes=False) == html


@pytest.mark.parametrize(
    ("html", "expected"),
    [
        ("<a href=x data-track-name=n>", "<a href=x>"),
        ("<a data-track-name=n href=x>", "<a href=x>"),
        ('<a href=x data-track-name="n"/>', "<a href=x />"),
        ('<a href=x data-track-name="n" />', "<a href=x />"),
        ('<a href="x"data-track-name=n>', '<a href="x">'),
        ("<a\n  data-track-name=n\n  href=x>", "<a\n  href=x>"),
        ("<a href=x data-track-name=n data-track-name=m>", "<a href=x>"),
        ("<a data-track-name=n data-track-name=m href=x>", "<a href=x>"),
        ("<a href=x data-track-name='n' data-track-name=m >", "<a href=x>"),
        ("<a href=x data-track-name='n' data-track-name=\"m\"/>", "<a href=x />"),
        ('<a href=x data-track-name="1"href=y>', "<a href=x href=y>"),
        ("<a/data-track-name=n href=x>", "<a/href=x>"),
        # Opt-out attributes stay; the name beside them goes.
        ("<a href=x data-notrack data-track-name=n>", "<a href=x data-notrack>"),
        ("<a data-track-name=n data-notrack href=x>", "<a data-notrack href=x>"),
        ("<a href=x data-track-name='n' data-notrack >", "<a href=x data-notrack >"),
        ("<a href=x data-notrack data-track-name='n'/>", "<a href=x data-notrack />"),
    ],
)
def test_stripping_keeps_the_tag_well_formed(html: str, expected: str) -> None:
    assert links_only(html) == expected


def test_duplicate_href_first_wins() -> None:
    html = '<a href="https://first.example/" HREF="https://second.example/">x</a>'
    output = links_only(html)
    assert targets(output) == ["https://first.example/"]
    assert output.endswith('HREF="https://second.example/">x</a>')
    assert links_only('<a href="#" href="https://second.example/">x</a>').startswith('<a href="#"')


def test_links_the_tracker_refuses_are_left_alone() -> None:
    tracker = make_tracker(redirect_hosts=[".example.com"])
    html = '<a href="https://shop.example.com/">a</a><a href="https://elsewhere.example.org/">b</a>'
    output = rewrite_html(html, tracker, open_tracking=False)
    assert targets(output, tracker) == ["https://shop.example.com/"]
    assert output.endswith('<a href="https://elsewhere.example.org/">b</a>')


def test_link_indexes_follow_document_order_across_refused_named_and_mso_links() -> None:
    # Tokens are minted after the scan; the indexes must still be those of the
    # distinct tracked links in document order, refused links taking none.
    tracker = make_tracker(redirect_hosts=[".example.com"])
    html = (
        '<a href="https://a.example.com/">a</a>'
        '<a href="https://refused.example.org/">r</a>'
        '<a data-track-name="hero" href="https://b.example.com/">b</a>'
        '<!--[if mso]><v:roundrect href="https://c.example.com/"></v:roundrect><![endif]-->'
        "<a href='https://a.example.com/'>a again</a>"
        '<a href="https://d.example.com/">d</a>'
    )
    output = rewrite_html(html, tracker, {"campaign": "x"}, open_tracking=False, vml=True)
    found = [
        (result.tracked_url, result.metadata.get("link_index"), result.metadata.get("link_name"))
        for result in (tracker.parse_click(std_html.unescape(url)) for url in CLICK.findall(output))
    ]
    assert found == [
        ("https://a.example.com/", 0, None),
        ("https://b.example.com/", 1, "hero"),
        ("https://c.example.com/", 2, None),
        ("https://a.example.com/", 0, None),
        ("https://d.example.com/", 3, None),
    ]
    assert '<a href="https://refused.example.org/">r</a>' in output


def test_a_tracker_without_click_base_fails_loudly() -> None:
    tracker = make_tracker(base_click_tracking_url=None)
    with pytest.raises(ConfigurationError):
        rewrite_html('<a href="https://example.com/">x</a>', tracker)
    assert rewrite_html("<p>no links</p>", tracker).startswith("<p>no links</p><img")


def test_click_tracking_off_leaves_links_and_their_attributes() -> None:
    html = '<a href="https://example.com/" data-notrack data-track-name="x">x</a>'
    assert rewrite_html(html, TRACKER, click_tracking=False, open_tracking=False) == html


# -- what is written back ------------------------------------------------------------


@pytest.mark.parametrize("quote", ['"', "'", ""])
def test_written_back_in_the_original_quote_style(quote: str) -> None:
    html = f"<a class=c href = {quote}https://example.com/{quote} id=i>x</a>"
    output = links_only(html)
    url = CLICK.search(output)
    assert url is not None
    assert output == f"<a class=c href = {quote}{url.group()}{quote} id=i>x</a>"


@pytest.mark.parametrize(
    ("quote", "escaped"), [('"', "&amp;t="), ("'", "&amp;t="), ("", "&amp;t=")]
)
def test_written_back_html_escaped(quote: str, escaped: str) -> None:
    tracker = make_tracker(base_click_tracking_url="https://t.example.com/c?v=1", token_param="t")
    output = rewrite_html(f"<a href={quote}https://example.com/{quote}>x</a>", tracker)
    value = re.search(r"https://t\.example\.com/c\?v=1[^'\"> ]+", output)
    assert value is not None
    assert escaped in value.group()
    tracked = tracker.parse_click(std_html.unescape(value.group()))
    assert tracked.tracked_url == "https://example.com/"
    assert rewrite_html(output, tracker) == output


# -- per-link metadata ---------------------------------------------------------------


def test_link_name_and_index() -> None:
    html = (
        '<a href="https://a.example/" data-track-name="hero">1</a>'
        '<a href="https://b.example/">2</a>'
        '<a data-track-name="  footer &amp; more " href="https://a.example/">3</a>'
        '<a href="https://a.example/" data-track-name="hero">4</a>'
        '<a href="https://b.example/">5</a>'
        '<a href="https://a.example/" data-track-name="">6</a>'
    )
    output = rewrite_html(html, TRACKER, {"k": "v"}, open_tracking=False)
    assert "data-track-name" not in output
    assert metadata_of(output) == [
        {"k": "v", "link_index": 0, "link_name": "hero"},
        {"k": "v", "link_index": 1},
        {"k": "v", "link_index": 2, "link_name": "footer & more"},
        {"k": "v", "link_index": 0, "link_name": "hero"},
        {"k": "v", "link_index": 1},
        {"k": "v", "link_index": 3},
    ]
    urls = CLICK.findall(output)
    assert urls[0] == urls[3]
    assert urls[1] == urls[4]
    assert len(set(urls)) == 4


def test_link_metadata_keys_can_be_renamed_or_left_out() -> None:
    html = '<a href="https://a.example/" data-track-name="hero">1</a>'
    renamed = links_only(html, link_name_key="name", link_index_key="position")
    assert metadata_of(renamed) == [{"name": "hero", "position": 0}]
    assert metadata_of(links_only(html, link_name_key=None, link_index_key=None)) == [{}]


def test_caller_metadata_is_not_modified() -> None:
    metadata = {"customer_id": 1}
    links_only('<a href="https://a.example/" data-track-name="n">1</a>', metadata=metadata)
    assert metadata == {"customer_id": 1}


@pytest.mark.parametrize(
    ("href", "target"),
    [
        ("https://a.example/", "https://a.example/?utm_source=mail&utm_medium=email"),
        ("https://a.example/?", "https://a.example/?utm_source=mail&utm_medium=email"),
        ("https://a.example/?x=1", "https://a.example/?x=1&utm_source=mail&utm_medium=email"),
        ("https://a.example/?x=1&", "https://a.example/?x=1&utm_source=mail&utm_medium=email"),
        ("https://a.example/?utm_source=ads", "https://a.example/?utm_source=ads&utm_medium=email"),
        ("https://a.example/#top", "https://a.example/?utm_source=mail&utm_medium=email#top"),
        (
            "https://a.example/?utm_source=ads&amp;utm_medium=",
            "https://a.example/?utm_source=ads&utm_medium=",
        ),
    ],
)
def test_utm_parameters_are_merged_without_overwriting(href: str, target: str) -> None:
    output = links_only(
        f'<a href="{href}">x</a>', utm={"utm_source": "mail", "utm_medium": "email"}
    )
    assert targets(output) == [target]


def test_utm_values_are_encoded() -> None:
    output = links_only('<a href="https://a.example/">x</a>', utm={"utm_content": "héro & co"})
    assert targets(output) == ["https://a.example/?utm_content=h%C3%A9ro+%26+co"]


# -- the pixel -----------------------------------------------------------------------


def pixel_at(output: str) -> int:
    found = OPEN.search(output)
    assert found is not None
    assert output[found.start() - 10 : found.start()] == '<img src="'
    return found.start() - 10


def without_pixel(output: str) -> str:
    found = OPEN.search(output)
    assert found is not None
    return output.replace(PIXEL.format(found.group()), "", 1)


DOC = "<!DOCTYPE html>\n<html><head></head><body class=x>\n<p>Hi</p>\n</body>\n</html>\n"


def test_pixel_bottom() -> None:
    output = rewrite_html(DOC, TRACKER, {"m": 1})
    at = pixel_at(output)
    assert output[at:].startswith(PIXEL.format(OPEN.search(output).group()))  # type: ignore[union-attr]
    assert output.endswith("</body>\n</html>\n")
    assert output.index("</body>") == at + len(PIXEL.format(OPEN.search(output).group()))  # type: ignore[union-attr]
    assert without_pixel(output) == DOC
    assert TRACKER.parse_open(OPEN.search(output).group()).metadata == {"m": 1}  # type: ignore[union-attr]


def test_pixel_top() -> None:
    output = rewrite_html(DOC, TRACKER, pixel="top")
    assert pixel_at(output) == DOC.index("<body class=x>") + len("<body class=x>")
    assert without_pixel(output) == DOC


def test_pixel_placeholder() -> None:
    doc = DOC.replace("<p>Hi</p>", f"<p>Hi</p>{DEFAULT_PIXEL_MARKER}")
    output = rewrite_html(doc, TRACKER, pixel="placeholder")
    assert DEFAULT_PIXEL_MARKER not in output
    assert without_pixel(output) == DOC
    custom = rewrite_html(
        doc.replace(DEFAULT_PIXEL_MARKER, "[[pixel]]"),
        TRACKER,
        pixel="placeholder",
        pixel_marker="[[pixel]]",
    )
    assert without_pixel(custom) == DOC


def test_pixel_placeholder_missing_goes_to_the_bottom() -> None:
    output = rewrite_html(DOC, TRACKER, pixel="placeholder")
    assert output.index("</body>") > pixel_at(output) > output.index("<p>Hi</p>")


def test_pixel_none_and_open_tracking_off() -> None:
    assert rewrite_html(DOC, TRACKER, pixel="none") == DOC
    assert rewrite_html(DOC, TRACKER, open_tracking=False) == DOC


def test_pixel_placement_is_checked() -> None:
    with pytest.raises(ValueError, match="pixel must be one of"):
        rewrite_html(DOC, TRACKER, pixel="middle")  # type: ignore[arg-type]


@pytest.mark.parametrize(
    ("doc", "before"),
    [
        ("<p>fragment</p>", None),
        ("<p>fragment</p>\n", None),
        ("<table><tr><td>x</td></tr></table>", None),
        ("<html><p>no body tags</p></html>", "</html>"),
        ("<html><body><p>unclosed body</p></html>\n", "</html>"),
        ("<body><p>a</p></body><p>b</p></body>", "</body>"),
        ("", None),
    ],
)
def test_pixel_without_body(doc: str, before: str | None) -> None:
    for placement in ("bottom", "top", "placeholder"):
        output = rewrite_html(doc, TRACKER, pixel=placement)  # type: ignore[arg-type]
        at = pixel_at(output)
        if before is None:
            assert output.endswith("/>")
        elif placement != "top" or "<body>" not in doc:
            assert output[at:].split("/>", 1)[1] == doc[doc.rindex(before) :]
        assert without_pixel(output) == doc


def test_pixel_is_never_added_twice() -> None:
    once = rewrite_html(DOC, TRACKER)
    assert rewrite_html(once, TRACKER) == once
    assert rewrite_html(once, TRACKER, pixel="top") == once
    quoted = once.replace('<img src="', "<IMG class=x SRC='", 1).replace(
        '" width="1"', '\' width="1"', 1
    )
    assert rewrite_html(quoted, TRACKER) == quoted


def test_pixel_in_a_comment_does_not_count() -> None:
    doc = f'<body><!-- <img src="{OPEN_BASE}x"> --></body>'
    output = rewrite_html(doc, TRACKER)
    assert len(OPEN.findall(output)) == 2


# -- documents and inputs ------------------------------------------------------------


def test_rewriting_twice_equals_rewriting_once() -> None:
    doc = (
        "<!DOCTYPE html><html><body>"
        '<a href="https://a.example/" data-track-name="x">a</a>'
        "<a href='https://b.example/?x=1&amp;y=2'>b</a><area href=https://c.example/>"
        '<!--[if mso]><v:roundrect href="https://d.example/"></v:roundrect><![endif]-->'
        "</body></html>"
    )
    for options in ({}, {"vml": True}, {"pixel": "top"}, {"utm": {"utm_source": "x"}}):
        once = rewrite_html(doc, TRACKER, {"c": 1}, **options)
        assert rewrite_html(once, TRACKER, {"c": 1}, **options) == once


def test_fragment() -> None:
    fragment = '<p>Hello <a href="https://example.com/">there</a></p>'
    output = rewrite_html(fragment, TRACKER)
    assert targets(output) == ["https://example.com/"]
    assert output.startswith('<p>Hello <a href="' + CLICK_BASE)
    assert output.endswith("</p>" + PIXEL.format(OPEN.search(output).group()))  # type: ignore[union-attr]


def test_document_without_links_is_unchanged() -> None:
    doc = "<!-- hello -->\r\n<p>caf\u00e9 &amp; cr\u00e8me &eacute;</p>\r\n"
    assert rewrite_html(doc, TRACKER, open_tracking=False) == doc


UTF8_DOC = '<meta charset="utf-8"><p>Caf\u00e9</p><a href="https://example.com/\u00e9">x</a>'


@pytest.mark.parametrize(
    ("data", "options"),
    [
        (UTF8_DOC.encode("utf-8"), {}),
        (UTF8_DOC.replace('charset="utf-8"', "").encode("utf-8"), {}),
        (UTF8_DOC.replace("utf-8", "windows-1252").encode("cp1252"), {}),
        (UTF8_DOC.replace("utf-8", "ISO-8859-1").encode("latin-1"), {}),
        (
            UTF8_DOC.replace(
                '<meta charset="utf-8">',
                '<meta http-equiv="Content-Type" content="text/html; charset=iso-8859-15">',
            ).encode("iso-8859-15"),
            {},
        ),
        (UTF8_DOC.replace("utf-8", "latin-1").encode("latin-1"), {"encoding": "latin-1"}),
        (UTF8_DOC.encode("cp1252"), {"encoding": "cp1252"}),
        (b"\xef\xbb\xbf" + UTF8_DOC.encode("utf-8"), {}),
        (UTF8_DOC.encode("utf-16"), {}),
        (UTF8_DOC.replace("utf-8", "utf-16").encode("utf-8"), {}),
        (b"<!-- <meta charset=latin-1> -->" + UTF8_DOC.encode("utf-8"), {}),
        (bytearray(UTF8_DOC.encode("utf-8")), {}),
    ],
)
def test_bytes_input(data: bytes, options: dict[str, Any]) -> None:
    output = rewrite_html(data, TRACKER, open_tracking=False, **options)
    assert targets(output) == ["https://example.com/\u00e9"]
    assert "<p>Caf\u00e9</p>" in output
    assert output.lstrip("\ufeff").startswith("<")


def test_bytes_round_trip_byte_for_byte() -> None:
    data = b"\xef\xbb\xbf<p>caf\xc3\xa9</p>\r\n"
    assert rewrite_html(data, TRACKER, open_tracking=False).encode("utf-8") == data


@pytest.mark.parametrize(
    ("data", "options", "message"),
    [
        (b"<p>caf\xe9</p>", {}, r"not valid utf-8 .*0xe9 at offset 6"),
        (b"<p>\x81</p>", {"encoding": "cp1252"}, r"not valid cp1252 \(the given charset\)"),
        (b'<meta charset="klingon"><p>x</p>', {}, r"unknown charset 'klingon'"),
        (b"<p>x</p>", {"encoding": "nope"}, r"unknown charset 'nope'"),
    ],
)
def test_undecodable_bytes(data: bytes, options: dict[str, Any], message: str) -> None:
    with pytest.raises(ValueError, match=message):
        rewrite_html(data, TRACKER, **options)


def test_wrong_type() -> None:
    with pytest.raises(TypeError, match="str or bytes"):
        rewrite_html(42, TRACKER)  # type: ignore[arg-type]


@pytest.mark.parametrize(
    ("broken", "tracked"),
    [
        ('<a href="https://a.example/"', []),
        ('<p><a href="https://a.example/>x</a></p>', []),
        ("<a href='https://a.example/>x</a>", []),
        ('<a href="https://a.example/">x<p', ["https://a.example/"]),
        ('<a href="https://a.example/">unclosed <b>tags <i>everywhere', ["https://a.example/"]),
        ('1 < 2 <a href="https://a.example/">x</a> 3 > 2', ["https://a.example/"]),
        ('<<a href="https://a.example/">x</a>', ["https://a.example/"]),
        ('< a href="https://a.example/">x</a>', []),
        ('<!-- unclosed <a href="https://a.example/">x</a>', []),
        ('<a href="https://a.example/" <b href="https://b.example/">', ["https://a.example/"]),
        ('<a href=https://a.example/"x">x</a>', ['https://a.example/"x"']),
        ('<a href="https://a.example/"href="https://b.example/">', ["https://a.example/"]),
        ("<a href = https://a.example/ >x</a></a></a>", ["https://a.example/"]),
        ('</a href="https://a.example/"><a href="https://b.example/">', ["https://b.example/"]),
        ('<a href="https://a.example/"\x00>x</a>', ["https://a.example/"]),
        ('<script><a href="https://a.example/">', []),
        ('<style><a href="https://a.example/">', []),
        ('<title><a href="https://a.example/">', []),
        ('<plaintext><a href="https://a.example/">', []),
        (
            '<svg><![CDATA[<a href="https://a.example/">]]><a href="https://b.example/">',
            ["https://b.example/"],
        ),
        ('<![CDATA[<a href="https://a.example/">]]>', []),
        ("<?php echo \"<a href='https://a.example/'>\"; ?>", []),
    ],
)
def test_broken_html_never_raises(broken: str, tracked: list[str]) -> None:
    output = links_only(broken)
    assert targets(output) == tracked
    if not tracked:
        assert output == broken
    pixel = rewrite_html(broken, TRACKER)
    assert without_pixel(pixel) == output


# -- text/plain ------------------------------------------------------------------------


TRACKED = TRACKER.click_url("https://already.example/")


def test_rewrite_text() -> None:
    text = (
        "Hello,\r\n\r\nYour order: https://shop.example.com/orders/1?x=1&y=2.\r\n"
        "(see https://shop.example.com/help) or <https://shop.example.com/faq>, "
        "https://shop.example.com/w/Foo_(bar) and HTTPS://SHOP.EXAMPLE.COM/!\r\n"
        "Again: https://shop.example.com/orders/1?x=1&y=2\r\n"
        "Skipped: mailto:a@b.example, https://shop.example.com/unsubscribe?u=1, "
        f"{TRACKED}, https://shop.example.com/?u={{{{ id }}}}, "
        "xhttps://nope.example/, user@https://nope.example/\r\n"
    )
    output = rewrite_text(text, TRACKER, {"c": 1})
    assert targets(output) == [
        "https://shop.example.com/orders/1?x=1&y=2",
        "https://shop.example.com/help",
        "https://shop.example.com/faq",
        "https://shop.example.com/w/Foo_(bar)",
        "HTTPS://SHOP.EXAMPLE.COM/",
        "https://shop.example.com/orders/1?x=1&y=2",
        "https://already.example/",
    ]
    assert metadata_of(output)[5] == {"c": 1, "link_index": 0}
    assert metadata_of(output)[4] == {"c": 1, "link_index": 4}
    restored = output
    for url in CLICK.findall(output)[:-1]:
        restored = restored.replace(url, TRACKER.parse_click(url).tracked_url or "", 1)
    assert restored == text
    assert rewrite_text(output, TRACKER, {"c": 1}) == output


def test_rewrite_text_options() -> None:
    text = "Go: https://a.example/?x=1 and https://a.example/unsubscribe"
    output = rewrite_text(
        text, TRACKER, utm={"utm_source": "mail"}, unsubscribe_pattern=None, link_index_key=None
    )
    assert targets(output) == [
        "https://a.example/?x=1&utm_source=mail",
        "https://a.example/unsubscribe?utm_source=mail",
    ]
    assert metadata_of(output) == [{}, {}]
