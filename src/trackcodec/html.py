"""Rewrite HTML (and plain-text) emails for tracking, changing nothing else.

`rewrite_html` replaces the ``href`` of every trackable ``<a>`` and ``<area>``
with a click tracking URL and inserts an open tracking pixel. The output is
the input, byte for byte, except for:

- the tracked ``href`` values, written back HTML-escaped in their original
  quote style;
- ``data-track-name``, removed from the links that carry it;
- the inserted pixel.

Opt-out attributes (`OPT_OUT_ATTRIBUTES`) stay, so rewriting an output again
returns it unchanged: ``rewrite_html(rewrite_html(x)) == rewrite_html(x)``.

Doctype, comments, MSO conditional comments, entities as written, attribute
order, quoting and case, whitespace, line ends and template placeholders stay
as they were. Broken HTML never raises: what a browser would see as a link is
rewritten, the rest is left alone.

The HTML is never parsed into a tree: a small tokenizer that follows the HTML
standard's rules (`trackcodec._html_tokenizer`) finds the tags; no third-party
package is needed.
"""

from __future__ import annotations

import codecs
import re
from collections.abc import Mapping
from typing import Any, Literal, NamedTuple, Protocol

from trackcodec._html_links import (
    DEFAULT_UNSUBSCRIBE_PATTERN,
    OPT_OUT_ATTRIBUTES,
    Edits,
    LinkTracker,
    _edit_start,
    apply_edits,
    escape_attribute,
)
from trackcodec._html_template import PreparedHTML
from trackcodec._html_tokenizer import (
    COMMENT,
    END,
    EOF,
    Token,
    parse_attributes,
    tokenize,
    unescape_attribute,
)

__all__ = [
    "DEFAULT_PIXEL_MARKER",
    "DEFAULT_UNSUBSCRIBE_PATTERN",
    "OPT_OUT_ATTRIBUTES",
    "PixelPlacement",
    "PreparedHTML",
    "TrackerLike",
    "TrackingURLSettings",
    "prepare_html",
    "rewrite_html",
    "rewrite_text",
]

PixelPlacement = Literal["bottom", "top", "placeholder", "none"]
"""Where `rewrite_html` puts the open tracking pixel."""

DEFAULT_PIXEL_MARKER = "<!--trackcodec:pixel-->"
"""The text that ``pixel="placeholder"`` replaces with the pixel."""

_PIXEL = (
    '<img src="{src}" width="1" height="1" alt="" border="0" '
    'style="height:1px;width:1px;border:0;margin:0;padding:0;opacity:0" />'
)
_PIXEL_PLACEMENTS = ("bottom", "top", "placeholder", "none")
_LINK_TAGS = frozenset({"a", "area"})
_META_CHARSET = re.compile(
    r"""charset[\t\n\f\r ]*=[\t\n\f\r ]*(?:"([^"]*)"|'([^']*)'|([^\t\n\f\r ;"']+))""", re.I
)
_SNIFF_BYTES = 65536
_TEXT_URL = re.compile(r"(?<![\w@.+-])[hH][tT][tT][pP][sS]?://[^\s<>\"'`]+")
_CLOSING = {")": "(", "]": "[", "}": "{"}


class TrackingURLSettings(Protocol):
    """The part of a tracking configuration that `rewrite_html` reads."""

    @property
    def base_click_tracking_url(self) -> str | None:
        """Links that already start with it are not tracked again."""

    @property
    def base_open_tracking_url(self) -> str | None:
        """A pixel whose ``src`` starts with it is not added again."""


class TrackerLike(Protocol):
    """What `rewrite_html` needs from a tracker; `trackcodec.Tracker` is one."""

    @property
    def config(self) -> TrackingURLSettings:
        """The tracker's settings (only the base URLs are read)."""

    def click_url(self, url: str, metadata: Mapping[str, Any] | None = None) -> str:
        """The click tracking URL of ``url`` carrying ``metadata``."""

    def open_url(self, metadata: Mapping[str, Any] | None = None) -> str:
        """The open tracking (pixel) URL carrying ``metadata``."""


def rewrite_html(
    html: str | bytes,
    tracker: TrackerLike,
    metadata: Mapping[str, Any] | None = None,
    *,
    click_tracking: bool = True,
    open_tracking: bool = True,
    pixel: PixelPlacement = "bottom",
    pixel_marker: str = DEFAULT_PIXEL_MARKER,
    utm: Mapping[str, str] | None = None,
    unsubscribe_pattern: str | re.Pattern[str] | None = DEFAULT_UNSUBSCRIBE_PATTERN,
    link_name_key: str | None = "link_name",
    link_index_key: str | None = "link_index",
    strip_attributes: bool = True,
    vml: bool = False,
    encoding: str | None = None,
) -> str:
    """Track the links of an HTML email and add an open pixel, changing nothing else.

    A link is tracked when it is an ``<a>`` or ``<area>`` whose ``href``
    (character references decoded, surrounding whitespace trimmed) is an
    ``http`` or ``https`` URL, unless: it contains a template placeholder
    (``{{ x }}``, ``{% x %}``, ``*|X|*``, ``%%X%%``); it already starts
    with the tracker's click base URL; it matches ``unsubscribe_pattern``;
    the tag carries an opt-out attribute (`OPT_OUT_ATTRIBUTES`); or the
    tracker refuses it (a target outside its redirect policy). Links to the
    same URL with the same name share one token, made once per call.

    Args:
        html: The document or fragment. ``bytes`` are decoded with
            ``encoding``, else the charset of a byte order mark or of a
            ``<meta>`` tag, else UTF-8.
        tracker: Makes the URLs; a `trackcodec.Tracker`.
        metadata: Put into every click and open token.
        click_tracking: Rewrite links.
        open_tracking: Insert the pixel.
        pixel: ``"bottom"`` (before the last ``</body>``), ``"top"`` (right
            after ``<body ...>``), ``"placeholder"`` (in place of the first
            ``pixel_marker`` outside tags, other comments and raw text such
            as ``<script>``) or ``"none"``. Without the tag or marker it
            needs, the pixel goes before ``</body>``, else before
            ``</html>``, else at the end. No pixel is added when one from
            this tracker's open base URL is already there.
        pixel_marker: The text ``pixel="placeholder"`` replaces.
        utm: Query parameters added to each tracked target URL, except those
            it already has.
        unsubscribe_pattern: Links whose lower-cased URL contains a match
            of it are not tracked; None tracks them too.
        link_name_key: Metadata key for the link's ``data-track-name``; None
            to leave it out.
        link_index_key: Metadata key for the link's index: 0 for the first
            distinct tracked link in document order, 1 for the next... None
            to leave it out.
        strip_attributes: Remove ``data-track-name`` from the links.
            Opt-out attributes always stay: they keep a link untracked when
            the output is rewritten again.
        vml: Also track ``href`` attributes of VML elements (``v:roundrect``
            and the like), ``<a>`` and ``<area>`` inside ``<!--[if ...]>``
            conditional comments.
        encoding: The charset of ``bytes`` input.

    Returns:
        The rewritten document.

    Raises:
        ValueError: ``bytes`` that do not decode, an unknown charset, or an
            unknown ``pixel`` placement.
        TypeError: ``html`` is neither ``str`` nor ``bytes``.
        ConfigurationError: The tracker has no base URL for what it is asked
            to make (raised by the tracker).
    """
    scan = _scan(
        html,
        tracker,
        metadata,
        click_tracking=click_tracking,
        open_tracking=open_tracking,
        pixel=pixel,
        pixel_marker=pixel_marker,
        utm=utm,
        unsubscribe_pattern=unsubscribe_pattern,
        link_name_key=link_name_key,
        link_index_key=link_index_key,
        strip_attributes=strip_attributes,
        vml=vml,
        encoding=encoding,
    )
    if scan.links is not None:
        scan.links.mint_pending()
    edits = scan.edits
    if scan.pixel is not None:
        edits.append((*scan.pixel, _pixel_tag(tracker.open_url(metadata))))
        edits.sort(key=_edit_start)
    return apply_edits(scan.text, edits)


def prepare_html(
    html: str | bytes,
    tracker: TrackerLike,
    *,
    click_tracking: bool = True,
    open_tracking: bool = True,
    pixel: PixelPlacement = "bottom",
    pixel_marker: str = DEFAULT_PIXEL_MARKER,
    utm: Mapping[str, str] | None = None,
    unsubscribe_pattern: str | re.Pattern[str] | None = DEFAULT_UNSUBSCRIBE_PATTERN,
    link_name_key: str | None = "link_name",
    link_index_key: str | None = "link_index",
    strip_attributes: bool = True,
    vml: bool = False,
    encoding: str | None = None,
) -> PreparedHTML:
    """Scan an email once, to render it for many recipients.

    ``prepare_html(html, tracker, **options).render(metadata)`` returns
    exactly what ``rewrite_html(html, tracker, metadata, **options)`` does,
    but the document is parsed once: each `PreparedHTML.render` only mints
    the recipient's tokens and joins the text around them. Which links are
    tracked is decided here, once (a link the tracker refuses is still left
    alone at render time, as by `rewrite_html`).

    Args:
        html: The document, as for `rewrite_html`.
        tracker: Makes the URLs at render time; a `trackcodec.Tracker`.
        click_tracking: As for `rewrite_html`.
        open_tracking: As for `rewrite_html`.
        pixel: As for `rewrite_html`.
        pixel_marker: As for `rewrite_html`.
        utm: As for `rewrite_html`.
        unsubscribe_pattern: As for `rewrite_html`.
        link_name_key: As for `rewrite_html`.
        link_index_key: As for `rewrite_html`.
        strip_attributes: As for `rewrite_html`.
        vml: As for `rewrite_html`.
        encoding: As for `rewrite_html`.

    Returns:
        The prepared template; thread-safe, it holds about the document's size.

    Raises:
        ValueError: ``bytes`` that do not decode, an unknown charset, or an
            unknown ``pixel`` placement.
        TypeError: ``html`` is neither ``str`` nor ``bytes``.
    """
    scan = _scan(
        html,
        tracker,
        None,
        click_tracking=click_tracking,
        open_tracking=open_tracking,
        pixel=pixel,
        pixel_marker=pixel_marker,
        utm=utm,
        unsubscribe_pattern=unsubscribe_pattern,
        link_name_key=link_name_key,
        link_index_key=link_index_key,
        strip_attributes=strip_attributes,
        vml=vml,
        encoding=encoding,
    )
    return PreparedHTML(
        scan.text,
        scan.edits,
        scan.links.take_pending() if scan.links is not None else (),
        scan.pixel,
        click_url=tracker.click_url,
        open_url=tracker.open_url,
        pixel_tag=_pixel_tag,
        utm=utm,
        name_key=link_name_key,
        index_key=link_index_key,
    )


def _pixel_tag(url: str) -> str:
    return _PIXEL.format(src=escape_attribute(url, '"'))


class _Scan(NamedTuple):
    """What a document needs to be rewritten, whatever the metadata."""

    text: str
    edits: Edits  # links (`Pending`, minted later) and attribute removals, in order
    links: LinkTracker | None  # None when links are not tracked
    pixel: tuple[int, int] | None  # the span the pixel replaces (usually empty), or None


def _scan(
    html: str | bytes,
    tracker: TrackerLike,
    metadata: Mapping[str, Any] | None,
    *,
    click_tracking: bool,
    open_tracking: bool,
    pixel: PixelPlacement,
    pixel_marker: str,
    utm: Mapping[str, str] | None,
    unsubscribe_pattern: str | re.Pattern[str] | None,
    link_name_key: str | None,
    link_index_key: str | None,
    strip_attributes: bool,
    vml: bool,
    encoding: str | None,
) -> _Scan:
    """Find the links to track and where the pixel goes; mint nothing."""
    if pixel not in _PIXEL_PLACEMENTS:
        raise ValueError(f"pixel must be one of {', '.join(_PIXEL_PLACEMENTS)}, not {pixel!r}")
    text = _as_text(html, encoding)
    edits: Edits = []
    links = (
        LinkTracker(
            tracker.click_url,
            tracker.config.base_click_tracking_url,
            metadata,
            utm=utm,
            unsubscribe_pattern=unsubscribe_pattern,
            name_key=link_name_key,
            index_key=link_index_key,
        )
        if click_tracking
        else None
    )
    open_base = (tracker.config.base_open_tracking_url or "") if open_tracking else ""
    starts = set(_LINK_TAGS if links is not None else ()) | {"body"}
    if open_base and open_base in text:
        starts.add("img")  # only then may this tracker's pixel be there already
    body_start = body_end = html_end = -1
    cut = len(text)
    has_pixel = False
    comments = vml and links is not None
    # Most links have href first and none of our attributes: they come in here.
    plain: list[re.Match[str]] = []
    tokens = tokenize(
        text,
        starts=starts,
        ends=("body", "html"),
        comments=comments,
        plain_links=plain if links is not None else None,
    )
    for token in tokens:
        if plain and links is not None:
            links.track_plain(plain, edits)  # they come before this token
        name = token.name
        kind = token.kind
        if kind == EOF:
            cut = token.start
        elif kind == END:
            if token.foreign:
                continue  # the pixel cannot go there
            if name == "body":
                body_end = token.start
            else:
                html_end = token.start
        elif kind == COMMENT:
            if links is not None and text.startswith("[if", token.inner_start):
                _rewrite_conditional(text, token, links, edits, strip_attributes)
        elif name in _LINK_TAGS:
            if links is not None:
                links.rewrite_tag(text, token.inner_start, token.inner_end, edits, strip_attributes)
        elif name == "body":
            if body_start < 0:
                body_start = token.end
        elif name == "img" and not has_pixel:
            has_pixel = _is_pixel(text, token, open_base)

    span: tuple[int, int] | None = None
    if open_tracking and pixel != "none" and not has_pixel:
        # Before what the end of the input cuts off (an unclosed tag would swallow it).
        at = body_end if body_end >= 0 else html_end if html_end >= 0 else cut
        if pixel == "top" and body_start >= 0:
            at = body_start
        marker_at = _marker(text, pixel_marker) if pixel == "placeholder" and pixel_marker else -1
        span = (marker_at, marker_at + len(pixel_marker)) if marker_at >= 0 else (at, at)
    return _Scan(text, edits, links, span)


def rewrite_text(
    text: str,
    tracker: TrackerLike,
    metadata: Mapping[str, Any] | None = None,
    *,
    utm: Mapping[str, str] | None = None,
    unsubscribe_pattern: str | re.Pattern[str] | None = DEFAULT_UNSUBSCRIBE_PATTERN,
    link_index_key: str | None = "link_index",
) -> str:
    """Track the ``http(s)`` URLs of a text/plain email body, changing nothing else.

    A URL runs to the next whitespace, quote or angle bracket, without the
    punctuation that ends a sentence (``.,;:!?``) nor an unbalanced closing
    bracket. The same links as in `rewrite_html` are skipped.

    Args:
        text: The text.
        tracker: Makes the URLs; a `trackcodec.Tracker`.
        metadata: Put into every click token.
        utm: Query parameters added to each target URL, except those it has.
        unsubscribe_pattern: Links whose lower-cased URL contains a match
            of it are not tracked; None tracks them too.
        link_index_key: Metadata key for the index of the distinct link;
            None to leave it out.

    Returns:
        The text with its URLs replaced by click tracking URLs.
    """
    links = LinkTracker(
        tracker.click_url,
        tracker.config.base_click_tracking_url,
        metadata,
        utm=utm,
        unsubscribe_pattern=unsubscribe_pattern,
        name_key=None,
        index_key=link_index_key,
    )

    def replace(m: re.Match[str]) -> str:
        url = _trim_url(m.group())
        tracked = links.tracking_url(url) if links.target(url) == url else None
        if tracked is None:
            return m.group()
        return tracked + m.group()[len(url) :]

    return _TEXT_URL.sub(replace, text)


def _trim_url(url: str) -> str:
    """Drop trailing punctuation and unbalanced closing brackets, in linear time."""
    counts = {closer: url.count(closer) for closer in _CLOSING}
    opened = {closer: url.count(opener) for closer, opener in _CLOSING.items()}
    end = len(url)
    while end:
        last = url[end - 1]
        if last in _CLOSING:
            if opened[last] >= counts[last]:
                break
            counts[last] -= 1
        elif last not in ".,;:!?":
            break
        end -= 1
    return url[:end]


def _rewrite_conditional(
    text: str,
    comment: Token,
    links: LinkTracker,
    edits: Edits,
    strip: bool,
) -> None:
    """Track links inside ``<!--[if mso]> ... <![endif]-->``, which Outlook renders."""
    for token in tokenize(text, comment.inner_start, comment.inner_end, ends=()):
        if token.name in _LINK_TAGS or token.name.startswith("v:"):
            links.rewrite_tag(text, token.inner_start, token.inner_end, edits, strip)


def _marker(text: str, marker: str) -> int:
    """Where the first ``marker`` outside tags, comments and raw text starts, or -1.

    A pixel put inside a tag (say, in place of a marker in an attribute value)
    would break the tag, and a second pass would not see it.
    """
    at = text.find(marker)
    begin = 0  # a position in the data state: the scan can start there
    while at >= 0:
        cut = next(tokenize(text, begin, at, starts=(), ends=())).start  # only the EOF token
        if cut == at:
            return at
        begin = cut
        at = text.find(marker, at + 1)
    return -1


def _is_pixel(text: str, token: Token, open_base: str) -> bool:
    for attr in parse_attributes(text, token.inner_start, token.inner_end):
        if attr.name == "src":
            if attr.quote is None:
                return False
            src = unescape_attribute(text[attr.value_start : attr.value_end]).strip()
            return src.lower().startswith(open_base.lower())
    return False


def _as_text(html: str | bytes, encoding: str | None) -> str:
    if isinstance(html, str):
        return html
    if not isinstance(html, (bytes, bytearray, memoryview)):
        raise TypeError(f"html must be str or bytes, not {type(html).__name__}")
    data = bytes(html)
    label = encoding or _sniff_charset(data)
    try:
        name = codecs.lookup(label).name
    except LookupError as exc:
        raise ValueError(f"unknown charset {label!r}; pass encoding= a Python codec name") from exc
    try:
        return data.decode(name)
    except UnicodeDecodeError as exc:
        source = "given" if encoding else "detected"
        raise ValueError(
            f"the HTML is not valid {name} (the {source} charset): byte "
            f"0x{data[exc.start]:02x} at offset {exc.start}; pass encoding= the right charset"
        ) from exc


def _sniff_charset(data: bytes) -> str:
    """The charset of a byte order mark, else of the first ``<meta>`` that declares one."""
    if data.startswith(b"\xef\xbb\xbf"):
        return "utf-8"  # not utf-8-sig: the mark stays, so the output re-encodes byte for byte
    if data.startswith((b"\xff\xfe", b"\xfe\xff")):
        return "utf-16-le" if data[0] == 0xFF else "utf-16-be"
    head = data[:_SNIFF_BYTES].decode("latin-1")
    for token in tokenize(head, starts=("meta",), ends=()):
        found = _meta_charset(head, token)
        if found:
            label = found.strip().lower()
            # A document that can declare itself in ASCII is not UTF-16 (HTML standard).
            if label.startswith("utf-16"):
                return "utf-8"
            return "windows-1252" if label == "x-user-defined" else label
    return "utf-8"


def _meta_charset(text: str, token: Token) -> str | None:
    values: dict[str, str] = {}
    for attr in parse_attributes(text, token.inner_start, token.inner_end):
        if attr.name not in values:
            raw = "" if attr.quote is None else text[attr.value_start : attr.value_end]
            values[attr.name] = unescape_attribute(raw)
    if values.get("charset"):
        return values["charset"]
    if values.get("http-equiv", "").strip().lower() == "content-type":
        m = _META_CHARSET.search(values.get("content", ""))
        if m:
            return next(group for group in m.groups() if group is not None)
    return None
