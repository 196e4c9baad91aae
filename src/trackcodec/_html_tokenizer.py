"""A byte-faithful HTML tokenizer for rewriting: it finds tags, never builds a tree.

It follows the WHATWG tokenizer where that decides what is a tag and what is
not: comments (``<!-->``, ``--!>``), bogus comments (``<?...>``, ``</ x>``,
``<!...>``), CDATA sections (in SVG and MathML only), raw-text and RCDATA
elements, script data with its escape states, ``<plaintext>``, attribute
quoting (a ``>`` inside a quoted value does not end the tag) and character
references in attribute values, including the legacy "ambiguous ampersand"
rule (``&notify=1`` in an attribute stays ``&notify=1``).

Everything is found by a few precompiled regular expressions: the text and the
tags nobody asked about are skipped inside one regex match, so Python only
touches the tokens the caller cares about. Positions are offsets into the
original string, which is never copied or changed.

A tag cut off by the end of the input (``<a href="x`` and nothing after) is no
tag: like a browser, the tokenizer stops there.
"""

from __future__ import annotations

import functools
import re
from collections.abc import Collection, Iterator
from html import entities
from typing import NamedTuple

__all__ = [
    "ATTRIBUTE_RE",
    "COMMENT",
    "END",
    "EOF",
    "QUOTES",
    "START",
    "Attribute",
    "Token",
    "parse_attributes",
    "tokenize",
    "unescape_attribute",
]

START, END, COMMENT, EOF = 0, 1, 2, 3

_WS = r"\t\n\f\r "
_TAG_NAME = rf"[A-Za-z][^{_WS}/>]*(?![^{_WS}/>])"
# One attribute. The lookaheads make every split unambiguous, so a tag that
# never closes fails in linear time instead of backtracking exponentially.
_ATTRIBUTE = (
    rf"[{_WS}/]*[^{_WS}/>][^{_WS}/=>]*(?![^{_WS}/=>])"
    rf"(?:[{_WS}]*=[{_WS}]*(?![{_WS}])(?:\"[^\"]*\"|'[^']*'|(?![\"'])[^{_WS}>]*(?![^{_WS}>]))"
    rf"|(?![{_WS}]*=))"
)
_ATTRIBUTES = f"(?:{_ATTRIBUTE})*"
_TAG_TAIL = rf"[{_WS}/]*>"

ATTRIBUTE_RE = re.compile(  # groups: name, double-quoted, single-quoted, unquoted value
    rf"[{_WS}/]*([^{_WS}/>][^{_WS}/=>]*)(?![^{_WS}/=>])"
    rf"(?:[{_WS}]*=[{_WS}]*(?![{_WS}])(?:\"([^\"]*)\"|'([^']*)'"
    rf"|(?![\"'])([^{_WS}>]*)(?![^{_WS}>]))|(?![{_WS}]*=))"
)
QUOTES: tuple[str, ...] = ("", "", '"', "'", "")  # by the group that holds the value
_END_TAG_RE = re.compile(rf"</{_TAG_NAME}({_ATTRIBUTES}){_TAG_TAIL}")
_COMMENT_END_RE = re.compile(r"-?>|[\s\S]*?--!?>")
_CDATA_END = "]]>"

RAWTEXT = frozenset({"style", "xmp", "iframe", "noembed", "noframes", "textarea", "title"})
_FOREIGN = frozenset({"svg", "math"})
_STATEFUL = RAWTEXT | _FOREIGN | {"script", "plaintext"}
_LINKS = frozenset({"a", "area"})
# Start tags that end SVG or MathML content (the HTML "breakout" list).
_BREAKOUT = frozenset(
    {
        *("b", "big", "blockquote", "body", "br", "center", "code", "dd", "div", "dl", "dt"),
        *("em", "embed", "h1", "h2", "h3", "h4", "h5", "h6", "head", "hr", "i", "img", "li"),
        *("listing", "menu", "meta", "nobr", "ol", "p", "pre", "ruby", "s", "small", "span"),
        *("strong", "strike", "sub", "sup", "table", "tt", "u", "ul", "var"),
    }
)


class Token(NamedTuple):
    """A tag or comment; offsets index the original text.

    ``inner_start``/``inner_end`` span the attributes of a tag, or the text
    of a comment. ``self_closing`` is set for ``<x ... />``; ``foreign`` for
    tokens inside SVG or MathML, where an HTML tag inserted before them would
    end that content (and change how what follows is read).
    """

    kind: int
    name: str
    start: int
    end: int
    inner_start: int
    inner_end: int
    self_closing: bool
    foreign: bool = False


class Attribute(NamedTuple):
    """One attribute of a tag: lower-cased name, spans, and quote (None: no value)."""

    name: str
    start: int
    end: int
    value_start: int
    value_end: int
    quote: str | None


def _ci(name: str) -> str:
    return "".join(f"[{c.lower()}{c.upper()}]" if c.isalpha() else re.escape(c) for c in name)


_Trie = dict[str, "_Trie"]


def _names(names: frozenset[str]) -> str:
    """A pattern matching any of ``names``, ASCII case-insensitively, as a trie.

    Every tag is checked against it, and a trie fails at the first letter
    that no name shares, where an alternation would try every name.
    """
    trie: _Trie = {}
    for name in names:
        node = trie
        for char in name:
            node = node.setdefault(char, {})
        node[""] = {}

    def pattern(node: _Trie) -> str:
        branches = [_ci(char) + pattern(child) for char, child in sorted(node.items()) if char]
        if not branches:
            return ""
        body = branches[0] if len(branches) == 1 else f"(?:{'|'.join(branches)})"
        return f"(?:{body})?" if "" in node else body

    return pattern(trie)


# An attribute whose name does not start with "data-", "clicktracking" or "ses:".
_PLAIN_ATTRIBUTE = _ATTRIBUTE.replace(
    f"[{_WS}/]*", f"[{_WS}/]*(?!{_ci('data-')}|{_ci('clicktracking')}|{_ci('ses:')})", 1
)
# A link whose first attribute is href, followed by plain attributes only. The
# group "hv" is the value, quotes included (an unquoted value never starts with one).
_PLAIN_LINK = (
    rf"<(?P<l>{_ci('a')}(?:{_ci('rea')})?)(?=[{_WS}/>])[{_WS}/]*{_ci('href')}(?![^{_WS}/=>])"
    rf"[{_WS}]*=[{_WS}]*(?![{_WS}])(?P<hv>\"[^\"]*\"|'[^']*'|(?![\"'])[^{_WS}>]*(?![^{_WS}>]))"
    rf"(?:{_PLAIN_ATTRIBUTE})*(?P<lt>{_TAG_TAIL})"
)


@functools.lru_cache(maxsize=32)
def _scanner(
    starts: frozenset[str] | None,
    ends: frozenset[str] | None,
    comments: bool,
    plain_links: bool = False,
) -> re.Pattern[str]:
    """The pattern that skips what nobody asked for, then captures one wanted token.

    ``None`` for ``starts`` or ``ends`` means every tag is wanted (used in
    foreign content and in small regions, where speed does not matter).
    """
    # What follows the "<" of a skipped tag. The alternatives differ in their
    # first character, so their order only matters for speed: the most common
    # first. The exception, tried first, is an end tag without quotes: such a
    # tag ends at its first ">", as the full pattern after it would find.
    tags: list[str] = []
    wanted = []
    for slash, group, names in (("", "s", starts), ("/", "e", ends)):
        if names is None:
            wanted.append(rf"<{slash}(?P<{group}>{_TAG_NAME})")
            continue
        unwanted = ""
        if names:
            trie = _names(names)
            unwanted = rf"(?!{trie}[{_WS}/>])"
            wanted.append(rf"<{slash}(?P<{group}>{trie}(?=[{_WS}/>]))")
        if slash:
            tags.insert(0, rf"/{unwanted}[A-Za-z][^\"'>]*>")
        tags.append(rf"{slash}{unwanted}{_TAG_NAME}{_ATTRIBUTES}{_TAG_TAIL}")
    if not comments:
        tags.append(r"!--(?:-?>|[\s\S]*?--!?>)")
    tags += [r"(?![!/?A-Za-z])", r"/(?![A-Za-z])[^>]*>", r"\?[^>]*>"]
    tags.append(r"!(?!--)[^>]*>" if starts is not None else r"!(?!--|\[CDATA\[)[^>]*>")
    # (?!) never matches: with no tag wanted, "tagged" must not match what the skip cannot.
    tagged = f"(?:{'|'.join(wanted) or '(?!)'})(?P<a>{_ATTRIBUTES})(?P<t>{_TAG_TAIL})"
    if plain_links:
        tagged = f"{_PLAIN_LINK}|{tagged}"
    extra = r"|(?P<c><!--)" if comments else ""
    if starts is None:
        extra += r"|(?P<d><!\[CDATA\[)"
    # Each iteration takes a tag with the text before it; the "<" outside the
    # group lets the engine skip to the next one when a tag is not skipped.
    skip = f"(?:[^<]*<(?:{'|'.join(tags)}))*[^<]*"
    return re.compile(f"{skip}(?:{tagged}{extra}|(?P<x><)|\\Z)")


@functools.lru_cache(maxsize=16)
def _rawtext_end(name: str) -> re.Pattern[str]:
    return re.compile(f"</{_ci(name)}[{_WS}/>]")


_SCRIPT_DATA = re.compile(rf"</{_ci('script')}[{_WS}/>]|<!--")
_SCRIPT_ESCAPED = re.compile(rf"-->|</{_ci('script')}[{_WS}/>]|<{_ci('script')}[{_WS}/>]")
_SCRIPT_DOUBLE = re.compile(rf"-->|</{_ci('script')}[{_WS}/>]")


def _script_end(text: str, pos: int, end: int) -> int:
    """Offset of the ``</script`` that ends script data starting at ``pos`` (-1: none)."""
    state = 0  # 0 data, 1 escaped (after <!--), 2 double escaped (<!-- <script)
    while True:
        pattern = (_SCRIPT_DATA, _SCRIPT_ESCAPED, _SCRIPT_DOUBLE)[state]
        m = pattern.search(text, pos, end)
        if m is None:
            return -1
        found = m.group()
        if found == "<!--":
            state, pos = 1, m.start() + 2  # its "--" may also close: <!-->
        elif found == "-->":
            state, pos = 0, m.end()
        elif found[1] == "/":
            if state != 2:
                return m.start()
            state, pos = 1, m.end() - 1
        else:
            state, pos = 2, m.end() - 1


def tokenize(
    text: str,
    start: int = 0,
    end: int | None = None,
    *,
    starts: Collection[str] | None = None,
    ends: Collection[str] | None = None,
    comments: bool = False,
    plain_links: list[re.Match[str]] | None = None,
) -> Iterator[Token]:
    """Yield the wanted tags (and comments) of ``text[start:end]`` in order.

    Args:
        text: The document.
        start: Where to begin (an offset in the data state).
        end: Where to stop; the end of ``text`` when omitted.
        starts: Lower-case names of the start tags to yield; None for all.
        ends: Lower-case names of the end tags to yield; None for all.
        comments: Also yield comments (``name`` is ``""``, the inner span is
            the comment's text).
        plain_links: Where to put the "plain links" instead of yielding
            them: the ``a`` and ``area`` start tags (when both are wanted)
            whose first attribute is ``href`` with a value and whose other
            attribute names start with neither ``data-``, ``clicktracking``
            nor ``ses:``. Their matches are appended to this list, whose
            group ``"hv"`` spans the ``href`` value with its quotes: the
            common case of a link rewriter, found without a token nor a
            second look at the attributes. They come before the next token
            is yielded, so a caller that empties the list at each token
            sees everything in document order.

    Yields:
        Tokens, in document order, then one ``EOF`` token whose ``start`` is
        where the input cuts off an unterminated tag, comment, CDATA section
        or raw-text element (a browser would show none of what follows), or
        the end.
    """
    stop = len(text) if end is None else end
    want_starts = None if starts is None else frozenset(starts)
    want_ends = None if ends is None else frozenset(ends)
    plain = plain_links is not None and (want_starts is None or want_starts >= _LINKS)
    html_scan = _scanner(
        None if want_starts is None else want_starts | _STATEFUL, want_ends, comments, plain
    )
    foreign_scan = _scanner(None, None, True, plain)
    add_plain = (plain_links if plain_links is not None else []).append
    foreign = 0  # depth of <svg>/<math> elements: HTML's "foreign content"
    foreign_start = start
    pos = start
    cut = stop  # where the input cuts off a tag, comment or raw text element
    while pos < stop:
        m = (foreign_scan if foreign else html_scan).match(text, pos, stop)
        kind = None if m is None else m.lastgroup
        if m is None or kind is None:
            break
        if kind == "lt":  # a plain link (only scanned for when plain_links is given)
            add_plain(m)
            pos = m.end()
            continue
        if kind == "x":
            cut = m.start("x")
            break
        if kind == "c":
            close = _COMMENT_END_RE.match(text, m.end(), stop)
            if close is None:
                cut = m.start("c")
                break
            if comments:
                closing = close.group()
                inner_end = close.end() - (4 if closing.endswith("--!>") else 3)
                inner = max(inner_end, m.end())
                yield Token(COMMENT, "", m.start("c"), close.end(), m.end(), inner, False)
            pos = close.end()
            continue
        if kind == "d":
            if foreign:
                close_at = text.find(_CDATA_END, m.end(), stop)
                pos = close_at + len(_CDATA_END)
            else:  # outside SVG and MathML, "<![CDATA[" opens a bogus comment
                close_at = text.find(">", m.end(), stop)
                pos = close_at + 1
            if close_at < 0:
                cut = m.start("d")
                break
            continue
        is_start = m.start("s") >= 0
        name = m.group("s" if is_start else "e").lower()
        attrs_start, attrs_end = m.span("a")
        self_closing = m.group("t").endswith("/>")
        begin = m.start("s") - 1 if is_start else m.start("e") - 2
        pos = m.end()
        if not is_start:
            if want_ends is None or name in want_ends:
                yield Token(
                    END, name, begin, pos, attrs_start, attrs_end, self_closing, foreign > 0
                )
            if foreign and name in _FOREIGN:
                foreign -= 1
            continue
        if foreign and name in _BREAKOUT:
            foreign = 0
        if want_starts is None or name in want_starts:
            yield Token(START, name, begin, pos, attrs_start, attrs_end, self_closing, foreign > 0)
        if foreign or name in _FOREIGN:
            if name in _FOREIGN and not self_closing:
                if not foreign:
                    foreign_start = begin
                foreign += 1
            continue
        if name in RAWTEXT:
            close = _rawtext_end(name).search(text, pos, stop)
            close_at = -1 if close is None else close.start()
        elif name == "script":
            close_at = _script_end(text, pos, stop)
        elif name == "plaintext":
            close_at = -1
        else:
            continue
        end_tag = None if close_at < 0 else _END_TAG_RE.match(text, close_at, stop)
        if end_tag is None:
            cut = begin
            break
        if want_ends is None or name in want_ends:
            yield Token(END, name, close_at, end_tag.end(), *end_tag.span(1), False)
        pos = end_tag.end()
    if foreign and cut < stop:
        cut = foreign_start  # what is inserted at the cut must not end foreign content
    yield Token(EOF, "", cut, stop, cut, stop, False)


def parse_attributes(text: str, start: int, end: int) -> list[Attribute]:
    """The attributes in ``text[start:end]`` (a tag's attribute span), duplicates included."""
    found = []
    for m in ATTRIBUTE_RE.finditer(text, start, end):
        group = m.lastindex or 1  # 1: no value; 2, 3, 4: double, single, unquoted
        value_start, value_end = m.span(group) if group > 1 else (-1, -1)
        quote = QUOTES[group] if group > 1 else None
        found.append(
            Attribute(m.group(1).lower(), m.start(1), m.end(), value_start, value_end, quote)
        )
    return found


_CHARREF = re.compile(r"&(?:#[xX]([0-9a-fA-F]+);?|#([0-9]+);?|([A-Za-z][A-Za-z0-9]*;?))")
# Numeric references to these code points mean the windows-1252 character.
_C1 = {
    code: bytes((code,)).decode("cp1252")
    for code in range(0x80, 0xA0)
    if code not in (0x81, 0x8D, 0x8F, 0x90, 0x9D)
}


def _numeric(code: int) -> str:
    if code == 0 or code > 0x10FFFF or 0xD800 <= code <= 0xDFFF:
        return "\ufffd"
    return _C1.get(code) or chr(code)


def _replace(m: re.Match[str]) -> str:
    hex_digits, digits, name = m.groups()
    if hex_digits is not None or digits is not None:
        number = (hex_digits or digits).lstrip("0")
        if len(number) > 8:  # out of range, and not worth converting
            return "\ufffd"
        return _numeric(int(number or "0", 16 if hex_digits is not None else 10))
    replacement = entities.html5.get(name)
    # A legacy name without ";" followed by "=" is left alone in attributes.
    if replacement is not None and (name[-1] == ";" or m.string[m.end() : m.end() + 1] != "="):
        return replacement
    # Longer prefixes are always followed by an alphanumeric: not decoded in attributes.
    return m.group()


def unescape_attribute(value: str) -> str:
    """Decode character references as HTML does in an attribute value.

    Unlike `html.unescape`, a legacy reference without ``;`` followed by
    ``=`` or an alphanumeric is not decoded: ``&notify=1`` stays as is, and
    ``&copy=2`` too, while ``&amp;`` is ``&``.
    """
    if "&" not in value:
        return value
    if value.count("&") == value.count("&amp;"):  # the usual case in URLs
        return value.replace("&amp;", "&")
    return _CHARREF.sub(_replace, value)
