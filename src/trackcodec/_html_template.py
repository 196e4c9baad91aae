"""A scanned email, cut into literal text and slots, rendered per recipient."""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from typing import Any, cast

from trackcodec._html_links import Edits, LinkTracker, Pending, apply_edits

__all__ = ["PreparedHTML"]

_PIXEL = -1  # the slot of the pixel; links' slots are their index among the links


class PreparedHTML:
    """An HTML email scanned once by `trackcodec.html.prepare_html`; `render` it per recipient.

    Rendering mints the tokens of the recipient's metadata and puts them in
    place: the document is not parsed again. The output is byte for byte
    what `trackcodec.html.rewrite_html` returns for the same document,
    settings and metadata. A prepared template holds the document's text
    and one entry per link; it is never changed after it is built, so
    threads may render it at once.
    """

    __slots__ = (
        "_click_url",
        "_edits",
        "_index_key",
        "_links",
        "_name_key",
        "_open_url",
        "_parts",
        "_pixel",
        "_pixel_tag",
        "_slots",
        "_text",
        "_utm",
    )

    def __init__(
        self,
        text: str,
        edits: Edits,
        links: Sequence[Pending],
        pixel: tuple[int, int] | None,
        *,
        click_url: Callable[[str, Mapping[str, Any]], str],
        open_url: Callable[[Mapping[str, Any] | None], str],
        pixel_tag: Callable[[str], str],
        utm: Mapping[str, str] | None,
        name_key: str | None,
        index_key: str | None,
    ) -> None:
        self._click_url = click_url
        self._open_url = open_url
        self._pixel_tag = pixel_tag
        self._utm = dict(utm) if utm else None
        self._name_key = name_key
        self._index_key = index_key
        self._links = tuple(links)
        self._pixel = pixel is not None
        index = {id(link): i for i, link in enumerate(self._links)}
        slotted: list[tuple[int, int, str | int]] = [
            (start, end, edit if type(edit) is str else index[id(edit)])
            for start, end, edit in edits
        ]
        if pixel is not None:
            slotted.append((*pixel, _PIXEL))
            slotted.sort(key=lambda edit: edit[0])  # stable: as `rewrite_html` sorts
        compiled = _compile(text, slotted)
        if compiled is None:  # edits that overlap a link: resolved per render
            self._parts: tuple[str, ...] = ()
            self._slots: tuple[tuple[int, str], ...] = ()
            self._text: str | None = text
            self._edits: tuple[tuple[int, int, str | int], ...] | None = tuple(slotted)
        else:
            self._parts, self._slots = compiled
            self._text = self._edits = None

    def render(self, metadata: Mapping[str, Any] | None = None) -> str:
        """The document with this recipient's tracking URLs and pixel.

        Args:
            metadata: Put into every click and open token, as with
                `trackcodec.html.rewrite_html`.

        Returns:
            The rewritten document.

        Raises:
            ConfigurationError: The tracker has no base URL for what it is
                asked to make.
        """
        minter = LinkTracker(
            self._click_url,
            None,
            metadata,
            utm=self._utm,
            unsubscribe_pattern=None,
            name_key=self._name_key,
            index_key=self._index_key,
        )
        values = minter.mint(self._links)
        if self._pixel:
            values.append(self._pixel_tag(self._open_url(metadata)))  # values[-1] is _PIXEL's
        if self._text is not None and self._edits is not None:
            return apply_edits(self._text, [_resolve(edit, values) for edit in self._edits])
        parts = self._parts
        out = [parts[0]]
        append = out.append
        for (index, original), part in zip(self._slots, parts[1:], strict=True):
            value = values[index]
            append(original if value is None else value)
            append(part)
        return "".join(out)

    def __repr__(self) -> str:
        size = sum(map(len, self._parts)) if self._text is None else len(self._text)
        return f"<PreparedHTML: {size} characters, {len(self._links)} links>"


def _compile(
    text: str, edits: list[tuple[int, int, str | int]]
) -> tuple[tuple[str, ...], tuple[tuple[int, str], ...]] | None:
    """The literal parts between slots, and each slot (value index, original text).

    Static edits (removed attributes) are applied here, as `_apply` would.
    None when an edit overlaps a slot: whether it applies then depends on
    whether the slot's link is minted, known only when rendering.
    """
    parts: list[str] = []
    slots: list[tuple[int, str]] = []
    literal: list[str] = []
    pos = 0
    slot_end = 0
    for start, end, edit in edits:
        if start < slot_end:
            return None
        if type(edit) is str:
            if start < pos:
                if edit:
                    continue  # overlaps an earlier edit: keep the first
                start = pos
            literal.append(text[pos:start])
            literal.append(edit)
            if end > pos:
                pos = end
            continue
        if start < pos:
            continue  # a link inside a removed span: never written
        literal.append(text[pos:start])
        parts.append("".join(literal))
        literal = []
        slots.append((cast(int, edit), text[start:end]))
        pos = slot_end = end
    literal.append(text[pos:])
    parts.append("".join(literal))
    return tuple(parts), tuple(slots)


def _resolve(
    edit: tuple[int, int, str | int], values: list[str | None]
) -> tuple[int, int, str | Pending]:
    """An edit of the template with this rendering's value."""
    start, end, what = edit
    if type(what) is str:
        return start, end, what
    found = Pending("", "", None)
    found.value = values[cast(int, what)]
    return start, end, found
