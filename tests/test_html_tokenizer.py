"""The tokenizer against a literal transcription of the HTML standard's state machine."""

from __future__ import annotations

import html as std_html
import re
from typing import Any

import pytest
from hypothesis import example, given
from hypothesis import strategies as st

import html_reference
from trackcodec._html_tokenizer import (
    COMMENT,
    EOF,
    START,
    parse_attributes,
    tokenize,
    unescape_attribute,
)

PIECES = [
    "<", ">", "/", "!", "-", "--", "?", '"', "'", "=", " ", "\n", "\t", "&", ";", "#", "x",
    "data-", "DATA-notrack", "clicktracking", "ses:", "<a href=x ", "<area href='y'",
    "a", "A", "b", "p", "href", "HREF", "src", "data-x", "=x", "area", "body", "img", "br",
    "script", "SCRIPT", "style", "title", "textarea", "xmp", "plaintext", "svg", "math",
    "<a ", "<a href=", "</a>", "<!--", "-->", "--!>", "<!", "<!DOCTYPE html>", "<?x", "</",
    "<script>", "</script>", "<style>", "</style>", "<title>", "</title>", "<svg>", "</svg>",
    "<math>", "</math>", "<![CDATA[", "]]>", "<!--[if mso]>", "<![endif]-->", "<p>", "<b>",
    "amp", "amp;", "not", "notin;", "copy", "#x41;", "#65", "#0;", "#x80", "lt", "&amp;",
    "é", "日本", "\r\n", "\x00", "\f",
]  # fmt: skip
html_like = st.lists(st.sampled_from(PIECES), max_size=40).map("".join)


def ours(text: str, **options: Any) -> list[tuple[Any, ...]]:
    found = []
    for token in tokenize(text, **options):
        if token.kind == EOF:
            continue
        if token.kind == COMMENT:
            found.append(("comment", token.start, token.end, token.inner_start, token.inner_end))
            continue
        attrs = [
            (a.name, a.start, a.end, a.value_start, a.value_end, a.quote)
            for a in parse_attributes(text, token.inner_start, token.inner_end)
        ]
        kind = "start" if token.kind == START else "end"
        closing = (token.self_closing,) if kind == "start" else ()
        found.append((kind, token.name, token.start, token.end, attrs, *closing))
    return found


def reference(
    text: str,
    starts: set[str] | None = None,
    ends: set[str] | None = None,
    comments: bool = True,
) -> list[tuple[Any, ...]]:
    found: list[tuple[Any, ...]] = []
    for tag in html_reference.tokenize(text):
        if tag.kind == "comment":
            if comments:
                found.append(("comment", tag.start, tag.end, *tag.inner))
            continue
        wanted = starts if tag.kind == "start" else ends
        if wanted is not None and tag.name not in wanted:
            continue
        attrs = [(a.name, a.start, a.end, a.value_start, a.value_end, a.quote) for a in tag.attrs]
        closing = (tag.self_closing,) if tag.kind == "start" else ()
        found.append((tag.kind, tag.name, tag.start, tag.end, attrs, *closing))
    return found


EXAMPLES = [
    "<a href=\"x>y\" class=b>t</a><AREA HREF='z'/><abbr>",
    '<!-- <a href="x"> --><a href=1><!--><a href=2><!---><a href=3><!-- --!><a href=4>',
    "<!----><a href=5><!-- a -- > b --><!-- x --!x -->",
    "<?php <a href=5> ?><a href=6></ a href=7><a href=8></><a href=9>",
    "<style>a<a href=x></style ><a href=6><style></stylex><a href=n></STYLE\n>",
    "<script>x<!--<script></script><a href=n></script>--></script><a href=7>",
    "<script><!--<script>--><a href=8></script>",
    "<script><!-- --><a></script><script><!--<script x></script></script>-->",
    "<svg><![CDATA[<a href=n>]]><a href=8></svg><![CDATA[<a href=9>]]><a href=10>",
    "<svg><title><a href=1></title><p><title><a href=2></title>",
    "<math><style><a href=1></math><style><a href=2></style>",
    "<svg/><style><a href=1></style><svg><svg></svg><style></svg><style><a></style>",
    "<title>x</title><textarea><a href=n></TEXTAREA><a href=11 <a href=12>",
    "<a b=\"x\"c=d e = 'f' =g h=i/><a href=x/><a a=>",
    '<a href="x',
    "<a href=x",
    "<a",
    "<!-- x",
    "<!DOCTYPE",
    "</a",
    "<a\t\n\f",
    "<plaintext><a>",
    '<a ==x ="y" \'=z\' "a"=b>',
    "<a/b/c=/d/>",
]


@pytest.mark.parametrize("text", EXAMPLES)
def test_examples(text: str) -> None:
    assert ours(text, comments=True) == reference(text)
    some = {"a", "area", "body", "img"}
    assert ours(text, starts=some, ends=("a", "body")) == reference(
        text, some, {"a", "body"}, False
    )


@given(html_like)
@example("<a href=x>")
def test_same_tokens_as_the_standard(text: str) -> None:
    assert ours(text, comments=True) == reference(text)


@given(html_like)
def test_same_tokens_when_skipping(text: str) -> None:
    some = {"a", "area", "body", "img"}
    assert ours(text, starts=some, ends={"body", "html"}) == reference(
        text, some, {"body", "html"}, False
    )
    assert ours(text, starts={"a"}, ends=(), comments=True) == reference(text, {"a"}, set())


def plain_links(text: str) -> list[tuple[int, int]]:
    """Per the reference: href value spans of a/area tags that are "plain links"."""
    found = []
    for tag in html_reference.tokenize(text):
        if tag.kind != "start" or tag.name not in ("a", "area") or not tag.attrs:
            continue
        first, *others = tag.attrs
        markers = ("data-", "clicktracking", "ses:")
        plain = not any(attr.name.startswith(markers) for attr in others)
        if first.name == "href" and first.quote is not None and plain:
            found.append((first.value_start, first.value_end))
    return found


@given(html_like)
@example("<a href=\"x\" data-y><A HREF=z class=c><area href='w'/><a class=c href=v>")
@example("<a href=x clicktracking=off><a href=x ses:no-track><a href=y sesame>")
def test_plain_links_as_the_standard(text: str) -> None:
    some = {"a", "area", "body"}
    found: list[re.Match[str]] = []
    spans = []
    for _ in tokenize(text, starts=some, ends=(), plain_links=found):
        for link in found:  # they come before the token that follows them
            start, end = link.span("hv")
            quoted = text[start : start + 1] in ('"', "'")
            spans.append((start + int(quoted), end - int(quoted)))
        found.clear()
    assert spans == plain_links(text)
    # What is not yielded as a token is exactly the plain links.
    plain_starts = {start for start, _ in plain_links(text)}
    expected = [
        token
        for token in reference(text, some, set(), False)
        if not (token[4] and token[4][0][3] in plain_starts)
    ]
    assert ours(text, starts=some, ends=(), plain_links=[]) == expected


@given(html_like)
def test_same_attribute_values_as_the_standard(text: str) -> None:
    for tag in html_reference.tokenize(text):
        for attr in tag.attrs:
            if attr.quote is not None:
                raw = text[attr.value_start : attr.value_end]
                assert unescape_attribute(raw) == attr.value


REFERENCE_PIECES = [
    "&", ";", "#", "x", "X", "a", "m", "p", "1", "0", "=", "n", "o", "t", "i", "c", "y", "Z",
    "F", " ", "lt", "quot", "amp", "not", "&#", "&#x",
]  # fmt: skip


@given(st.lists(st.sampled_from(REFERENCE_PIECES), max_size=30).map("".join))
def test_character_references_as_the_standard(value: str) -> None:
    tag = html_reference.tokenize(f'<a v="{value.replace(chr(34), "")}">')
    raw = value.replace('"', "")
    assert unescape_attribute(raw) == tag[0].attrs[0].value


@pytest.mark.parametrize(
    ("raw", "decoded"),
    [
        ("&notify=1", "&notify=1"),
        ("?a=1&notify=1", "?a=1&notify=1"),
        ("&amp;", "&"),
        ("&amp", "&"),
        ("&amp=", "&amp="),
        ("&ampx", "&ampx"),
        ("&not;", "\u00ac"),
        ("&not x", "\u00ac x"),
        ("&copy=2", "&copy=2"),
        ("&copy;=2", "\u00a9=2"),
        ("&notin;", "\u2209"),
        ("&notit;", "&notit;"),
        ("&lt&gt", "<>"),
        ("&#x41;&#65&#0;&#x80;&#x81;&#xZ&#;", "AA\ufffd\u20ac\x81&#xZ&#;"),
        ("&#x0000000041;", "A"),
        ("&#99999999999;&#xD800;&#x110000;", "\ufffd\ufffd\ufffd"),
        ("&unknown;", "&unknown;"),
        ("&", "&"),
        ("a & b", "a & b"),
    ],
)
def test_attribute_character_references(raw: str, decoded: str) -> None:
    assert unescape_attribute(raw) == decoded


def test_unlike_html_unescape() -> None:
    assert std_html.unescape("&notify=1") != unescape_attribute("&notify=1")


def test_regions_and_offsets() -> None:
    text = 'xx<!--[if mso]><v:rect href="https://a/"></v:rect><![endif]-->yy'
    comment = next(tokenize(text, comments=True, starts=(), ends=()))
    inner = list(tokenize(text, comment.inner_start, comment.inner_end))
    assert [(t.name, text[t.start : t.end]) for t in inner] == [
        ("v:rect", '<v:rect href="https://a/">'),
        ("v:rect", "</v:rect>"),
        ("", "<![endif]"),
    ]
    assert inner[-1].kind == EOF


@pytest.mark.parametrize(
    ("text", "cut"),
    [
        ("<p>done</p>", 11),
        ("<p>x<a href='y", 4),
        ("<p>x<!-- y", 4),
        ("<p>x<script>y", 4),
        ("<p>x<title>y</title", 4),
        ("<p>x<plaintext>y</plaintext>", 4),
        ("<p>x<svg><![CDATA[y", 4),
        ("<p>x<svg><svg/><math>y<![CDATA[", 4),
        ("<p>x<svg></svg><p><svg><b>y<!-- ", 27),
        ("<p>x<?y", 4),
        ("<p>x</", 4),
    ],
)
def test_where_the_input_is_cut(text: str, cut: int) -> None:
    *_, last = tokenize(text, starts=("a",), ends=())
    assert last.kind == EOF
    assert last.start == cut


@pytest.mark.timeout(120)  # would hang, not fail, with a backtracking regex
def test_a_huge_unterminated_tag_is_linear() -> None:
    # Backtracking regexes would take forever on these.
    for text in ("<a " + "b=c " * 20000, "<a " + 'b="c" d ' * 20000 + '"', "<a" + "=" * 40000):
        assert [token.kind for token in tokenize(text)] == [EOF]
