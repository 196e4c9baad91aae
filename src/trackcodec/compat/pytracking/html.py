"""Drop-in replacement for ``pytracking.html``: `adapt_html`, without lxml.

Same signature and the same tracking URLs as pytracking's ``adapt_html``
(every link carries ``extra_metadata``, nothing per link), but the document
comes back byte for byte as it went in, except for the tracked ``href``
values and the pixel. Differences with pytracking 0.2.x, all fixes:

- The doctype, ``<meta http-equiv>``, comments, entities and non-ASCII text
  are kept as written (lxml drops the first two and turns non-ASCII text into
  numeric references, which can push an email past Gmail's clipping size).
- Template placeholders (``{{ unsubscribe_url }}``) are left alone, not
  percent-encoded; links containing one are not tracked.
- ``<area>`` links are tracked; links already on the click tracking base URL
  are not tracked again; links with an opt-out attribute
  (`trackcodec.html.OPT_OUT_ATTRIBUTES`) are not tracked and lose the attribute.
- Protocol-relative links (``//example.com/``) are not tracked: only
  ``http`` and ``https`` ones are.
- The pixel is an ``<img>`` with ``width``, ``height``, ``alt``, ``border``
  and a style that hides it; it is added to fragments without ``<body>``
  too, and never twice.

Unsubscribe links are tracked, as pytracking does; use
`trackcodec.html.rewrite_html` for the other options.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from trackcodec.compat.pytracking import Configuration, get_configuration
from trackcodec.html import rewrite_html

__all__ = ["DEFAULT_ATTRIBUTES", "adapt_html"]

DEFAULT_ATTRIBUTES = {"border": "0", "width": "0", "height": "0", "alt": ""}
"""Kept from pytracking, which defines it; the pixel has its own attributes."""


class _ConfigurationTracker:
    """A `trackcodec.html.TrackerLike` that makes pytracking's URLs."""

    def __init__(self, configuration: Configuration) -> None:
        self.config = configuration

    def click_url(self, url: str, metadata: Mapping[str, Any] | None = None) -> str:
        return self.config.get_click_tracking_url(url, dict(metadata) if metadata else None)

    def open_url(self, metadata: Mapping[str, Any] | None = None) -> str:
        return self.config.get_open_tracking_url(dict(metadata) if metadata else None)


def adapt_html(
    html_text: str | bytes,
    extra_metadata: dict[str, Any] | None = None,
    click_tracking: bool = True,
    open_tracking: bool = True,
    configuration: Configuration | None = None,
    **kwargs: Any,
) -> str:
    """Replace the links of an HTML email with tracking links and add a pixel.

    Args:
        html_text: The HTML (``str``, or ``bytes`` in the charset its
            ``<meta>`` declares, else UTF-8).
        extra_metadata: JSON-serializable dict put in every tracking link.
        click_tracking: Replace the links.
        open_tracking: Add the pixel before ``</body>`` (at the end when
            there is none).
        configuration: Settings; ``kwargs`` override them for this call.
        **kwargs: `Configuration` attributes.

    Returns:
        The rewritten HTML.

    Raises:
        ValueError: ``bytes`` that do not decode.
    """
    config = get_configuration(configuration, kwargs)
    return rewrite_html(
        html_text,
        _ConfigurationTracker(config),
        extra_metadata,
        click_tracking=click_tracking,
        open_tracking=open_tracking,
        unsubscribe_pattern=None,
        link_name_key=None,
        link_index_key=None,
    )
