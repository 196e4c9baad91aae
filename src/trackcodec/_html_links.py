"""Which links are tracked, and the per-call cache that gives each one its URL."""

from __future__ import annotations

import re
from collections.abc import Callable, Mapping, Sequence
from types import MappingProxyType
from typing import Any, cast
from urllib.parse import parse_qsl, urlencode

from trackcodec._html_tokenizer import (
    ATTRIBUTE_RE,
    QUOTES,
    unescape_attribute,
)
from trackcodec.errors import EncodeError

__all__ = [
    "DEFAULT_UNSUBSCRIBE_PATTERN",
    "OPT_OUT_ATTRIBUTES",
    "LinkTracker",
    "apply_edits",
    "escape_attribute",
]

DEFAULT_UNSUBSCRIBE_PATTERN = r"unsub|\bopt[-_]?out\b"
"""Links whose lower-cased URL contains a match of this are not tracked, by default."""

OPT_OUT_ATTRIBUTES: Mapping[str, str | None] = MappingProxyType(
    {
        "data-notrack": None,
        "clicktracking": "off",
        "data-pm-no-track": None,
        "data-msys-clicktrack": "0",
        "ses:no-track": None,
    }
)
"""Attributes that keep a link untracked: name to the value that opts out (None: any value).

Values compare case-insensitively, surrounding whitespace ignored. Besides
trackcodec's own ``data-notrack``, these are the opt-outs of SendGrid
(``clicktracking=off``), Postmark (``data-pm-no-track``), SparkPost
(``data-msys-clicktrack="0"``) and Amazon SES (``ses:no-track``), so that
templates written for those services keep theirs.
"""

NAME_ATTRIBUTE = "data-track-name"

# The URL standard trims C0 controls and spaces, and drops tabs and newlines anywhere.
_C0_AND_SPACE = "".join(map(chr, range(0x21)))
_WHITESPACE_RUN = re.compile(r"[\t\n\f\r ]+")
# "=" is allowed (a parse error, but harmless): URLs are full of them.
_UNQUOTED_UNSAFE = re.compile(r"[\t\n\f\r \"'<>`]")


class Pending:
    """The new text of a tracked ``href`` value, made once the whole document is scanned.

    `LinkTracker.mint_pending` mints every pending link in one go, in document
    order: a tight loop of token minting runs faster than minting spread over
    the scan. ``value`` stays None when the tracker refuses the URL (the link
    is then left as it was).
    """

    __slots__ = ("name", "quote", "url", "value")

    def __init__(self, url: str, quote: str, name: str | None) -> None:
        self.url = url
        self.quote = quote
        self.name = name
        self.value: str | None = None


# Edits of the document: (start, end, new text), in order; a `Pending` is a
# link's new href value, known after `LinkTracker.mint_pending`.
Edits = list[tuple[int, int, "str | Pending"]]


def escape_attribute(value: str, quote: str) -> str:
    """``value`` escaped for an attribute written with ``quote`` (``"``, ``'`` or ``""``)."""
    value = value.replace("&", "&amp;")
    if quote == '"':
        return value.replace('"', "&quot;")
    if quote == "'":
        return value.replace("'", "&#39;")
    return _UNQUOTED_UNSAFE.sub(lambda m: f"&#{ord(m.group())};", value)


def merge_query(url: str, params: Mapping[str, str]) -> str:
    """``url`` with the ``params`` it does not already have appended to its query."""
    rest, hash_sign, fragment = url.partition("#")
    path, _, query = rest.partition("?")
    present = {name for name, _ in parse_qsl(query, keep_blank_values=True)}
    missing = [(name, value) for name, value in params.items() if name not in present]
    if not missing:
        return url
    joiner = "&" if query and not query.endswith("&") else ""
    return f"{path}?{query}{joiner}{urlencode(missing)}{hash_sign}{fragment}"


class LinkTracker:
    """Per-call state: decides which URLs are tracked and caches their tracking URLs.

    Identical links (same target, same name) get the same tracking URL from
    one call to ``click_url``; the link index counts distinct links.
    """

    def __init__(
        self,
        click_url: Callable[[str, Mapping[str, Any]], str],
        click_base: str | None,
        metadata: Mapping[str, Any] | None,
        *,
        utm: Mapping[str, str] | None,
        unsubscribe_pattern: str | re.Pattern[str] | None,
        name_key: str | None,
        index_key: str | None,
    ) -> None:
        self._click_url = click_url
        self._tracked_prefix = click_base.lower() if click_base else None
        self._metadata = dict(metadata) if metadata else {}
        self._utm = dict(utm) if utm else None
        self._default_unsubscribe = unsubscribe_pattern == DEFAULT_UNSUBSCRIBE_PATTERN
        if isinstance(unsubscribe_pattern, str):
            unsubscribe_pattern = re.compile(unsubscribe_pattern)
        self._unsubscribe = unsubscribe_pattern
        self._name_key = name_key
        self._index_key = index_key
        self._cache: dict[tuple[str, str | None], str | None] = {}
        self._targets: dict[str, str | None] = {}
        # The new text of an href value (None: untracked) by (value, quote, name),
        # and for plain links by the value with its quotes.
        self._replacements: dict[tuple[str, str, str | None], Pending | None] = {}
        self._plain: dict[str, Pending | None] = {}
        self._pending: list[Pending] = []
        self._count = 0

    def target(self, url: str) -> str | None:
        """The URL to track for an already decoded href or text URL, or None to skip it."""
        url = url.strip(_C0_AND_SPACE)
        if "\t" in url or "\n" in url or "\r" in url:
            url = url.replace("\t", "").replace("\n", "").replace("\r", "")
        # "http(s)://" and a host. Only "\u0130" and "\u212a" lower-case to ASCII
        # letters ("i", "k") from outside ASCII: this prefix of ``lowered`` is ``url``'s.
        lowered = url.lower()
        if lowered.startswith("https://"):
            host = 8
        elif lowered.startswith("http://"):
            host = 7
        else:
            return None
        if len(url) <= host or url[host] in "/?#":
            return None
        # Any opener of a template placeholder, so that a partial one counts too.
        if ("{" in url and ("{{" in url or "{%" in url)) or ("|" in url and "*|" in url):
            return None
        if "%%" in url:
            return None
        prefix = self._tracked_prefix
        if prefix is not None:
            # Lower-casing a slice is lower-casing the prefix of the whole only in ASCII.
            head = lowered[: len(prefix) + 1] if url.isascii() else url[: len(prefix) + 1].lower()
            # "https://t.example.com/c" tracks into "/c/...", not "/campaign".
            if head.startswith(prefix) and (
                prefix[-1] in "/=?&" or head[len(prefix) :] in ("", "/", "?", "#", "&")
            ):
                return None
        unsubscribe = self._unsubscribe
        if unsubscribe is not None:
            # Searching a regex without a literal prefix is slow; the default
            # one cannot match a URL that contains neither "unsub" nor "opt".
            maybe = not self._default_unsubscribe or "unsub" in lowered or "opt" in lowered
            if maybe and unsubscribe.search(lowered):
                return None
        return url

    def tracking_url(self, url: str, name: str | None = None) -> str | None:
        """The click tracking URL for ``url`` (from `target`), made once per call.

        None when the tracker refuses the URL (outside its redirect policy,
        or a token over its length limit): the link is then left alone.
        """
        key = (url, name)
        if key in self._cache:
            return self._cache[key]
        metadata = dict(self._metadata)
        if self._index_key is not None:
            metadata[self._index_key] = self._count
        if self._name_key is not None and name:
            metadata[self._name_key] = name
        target = merge_query(url, self._utm) if self._utm else url
        try:
            found: str | None = self._click_url(target, metadata)
        except EncodeError:  # the tracker refuses this target: leave the link alone
            found = None
        else:
            self._count += 1
        self._cache[key] = found
        return found

    def rewrite_tag(self, text: str, start: int, end: int, edits: Edits, strip: bool) -> None:
        """Add the edits for one link tag whose attributes span ``text[start:end]``."""
        lowered = text[start:end].lower()
        if "data-" not in lowered and "clicktracking" not in lowered and "ses:" not in lowered:
            # Most links carry none of our attributes: only the first href matters.
            for m in ATTRIBUTE_RE.finditer(text, start, end):
                if m.group(1).lower() == "href":
                    group = m.lastindex or 1
                    if group > 1:
                        self.track(text, m.start(group), m.end(group), QUOTES[group], None, edits)
                    return
            return
        href: re.Match[str] | None = None
        name: str | None = None
        opted_out = False
        drop: list[re.Match[str]] = []
        for m in ATTRIBUTE_RE.finditer(text, start, end):
            attribute = m.group(1).lower()
            if attribute == "href":
                if href is None:
                    href = m  # browsers keep the first of duplicate attributes
            elif attribute == NAME_ATTRIBUTE:
                if name is None:
                    name = _value(m).strip()
                drop.append(m)
            elif attribute in OPT_OUT_ATTRIBUTES:
                wanted = OPT_OUT_ATTRIBUTES[attribute]
                # The attribute stays: it keeps the link untracked when the
                # output is rewritten again (or sent through that service).
                if wanted is None or _value(m).strip().lower() == wanted:
                    opted_out = True
        own: Edits = []
        group = 1 if href is None else href.lastindex or 1  # 1: no value
        if href is not None and group > 1 and not opted_out:
            self.track(text, *href.span(group), QUOTES[group], name or None, own)
        if strip and drop:
            own.extend(_removals(text, drop))
            own.sort(key=_edit_start)
        edits.extend(own)

    def track(
        self, text: str, start: int, end: int, quote: str, name: str | None, edits: Edits
    ) -> None:
        """Add the edit for an ``href`` value spanning ``text[start:end]``, if tracked."""
        key = (text[start:end], quote, name)
        if key in self._replacements:
            pending = self._replacements[key]
        else:
            pending = self._replacements[key] = self._pending_for(key[0], quote, name)
        if pending is not None:
            edits.append((start, end, pending))

    def track_plain(self, links: list[re.Match[str]], edits: Edits) -> None:
        """`track` the plain links that `tokenize` found (they have no name), then forget them.

        The value with its quotes is the cache key, so that one lookup serves
        each link.
        """
        cache = self._plain
        add = edits.append
        for link in links:
            key = link.group("hv")
            if key in cache:
                pending = cache[key]
            else:
                quote = key[0] if key[:1] in ('"', "'") else ""
                raw = key[1:-1] if quote else key
                pending = cache[key] = self._pending_for(raw, quote, None)
            if pending is not None:
                start, end = link.span("hv")
                if pending.quote:
                    add((start + 1, end - 1, pending))
                else:
                    add((start, end, pending))
        links.clear()

    def _pending_for(self, raw: str, quote: str, name: str | None) -> Pending | None:
        """A new pending link for the raw ``href`` value, or None when it is not tracked."""
        # Emails repeat their links, differently quoted or named too.
        targets = self._targets
        if raw in targets:
            url = targets[raw]
        else:
            url = targets[raw] = self.target(unescape_attribute(raw))
        if url is None:
            return None
        pending = Pending(url, quote, name)
        self._pending.append(pending)
        return pending

    def mint_pending(self) -> None:
        """Mint the tracking URLs of the links found since the last call, in document order."""
        for pending, value in zip(self._pending, self.mint(self._pending), strict=True):
            pending.value = value
        self._pending.clear()

    def take_pending(self) -> list[Pending]:
        """The links found since the last call, unminted, in document order; then forget them."""
        found = list(self._pending)
        self._pending.clear()
        return found

    def mint(self, links: Sequence[Pending]) -> list[str | None]:
        """The new ``href`` values of ``links``, minted in order (None: left as it was)."""
        tracking_url = self.tracking_url
        values: list[str | None] = []
        for pending in links:
            tracked = tracking_url(pending.url, pending.name)
            values.append(None if tracked is None else escape_attribute(tracked, pending.quote))
        return values


def apply_edits(text: str, edits: Edits) -> str:
    """``text`` with ``edits`` made (a `Pending` whose value is None is left as it was)."""
    if not edits:
        return text
    parts: list[str] = []
    append = parts.append
    pos = 0
    for start, end, edit in edits:
        replacement = edit if type(edit) is str else cast(Pending, edit).value
        if replacement is None:
            continue  # a link the tracker refused: left as it was
        if start < pos:
            if replacement:
                continue  # overlaps an earlier edit (a marker inside a link): keep the first
            start = pos  # two removals sharing whitespace
        append(text[pos:start])
        append(replacement)
        if end > pos:
            pos = end
    append(text[pos:])
    return "".join(parts)


def _edit_start(edit: tuple[int, int, str | Pending]) -> int:
    return edit[0]


def _value(attribute: re.Match[str]) -> str:
    """The decoded value of an `ATTRIBUTE_RE` match ("" when it has none)."""
    group = attribute.lastindex or 1
    return unescape_attribute(attribute.group(group)) if group > 1 else ""


def _removals(text: str, attributes: list[re.Match[str]]) -> Edits:
    """The spans to delete for some attributes of one tag (in order), with their whitespace.

    Each attribute goes with the whitespace after it; a span that then reaches
    the ``>`` of the tag also takes the whitespace before it. Nothing that
    could join two attributes, or a value and ``/``, is removed.
    """
    spans: list[list[int]] = []
    for attribute in attributes:
        after = _WHITESPACE_RUN.match(text, attribute.end())
        end = attribute.end() if after is None else after.end()
        if spans and spans[-1][1] >= attribute.start(1):
            spans[-1][1] = end
        else:
            spans.append([attribute.start(1), end])
    for span in spans:
        if text.startswith(">", span[1]):
            while span[0] > 0 and text[span[0] - 1] in "\t\n\f\r ":
                span[0] -= 1
    return [(start, end, "") for start, end in spans]
