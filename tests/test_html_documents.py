"""Whole emails through `rewrite_html`, checked against expected outputs written by hand.

The expected outputs (``tests/data/html/*.expected.html``, and those written
by ``make_docs.py`` alongside the generated documents) are templates: see
``html_support.py``. Tracking URLs are decoded with the real tracker.
"""

from __future__ import annotations

from typing import Any

import pytest

from html_support import (
    METADATA,
    check_against_template,
    make_docs,
    make_tracker,
    read,
)
from trackcodec import Tracker
from trackcodec.html import rewrite_html


@pytest.fixture(scope="module")
def tracker() -> Tracker[dict[str, Any]]:
    return make_tracker()


def test_transactional_email(tracker: Tracker[dict[str, Any]]) -> None:
    html = read("transactional.html")
    output = rewrite_html(html, tracker, METADATA)
    clicks = check_against_template(output, read("transactional.expected.html"), tracker, METADATA)
    assert clicks == 11


def test_newsletter_with_crlf_mso_and_entities(tracker: Tracker[dict[str, Any]]) -> None:
    html = read("newsletter.html")
    assert "\r\n" in html
    assert "\n" not in html.replace("\r\n", "")
    output = rewrite_html(html, tracker, METADATA)
    clicks = check_against_template(output, read("newsletter.expected.html"), tracker, METADATA)
    assert clicks == 11


def test_newsletter_with_vml(tracker: Tracker[dict[str, Any]]) -> None:
    html = read("newsletter.html")
    output = rewrite_html(html, tracker, METADATA, vml=True)
    template = read("newsletter.vml.expected.html")
    assert check_against_template(output, template, tracker, METADATA) == 12


def test_newsletter_from_bytes(tracker: Tracker[dict[str, Any]]) -> None:
    data = read("newsletter.html").encode("utf-8")
    assert rewrite_html(data, tracker, METADATA) == rewrite_html(data.decode(), tracker, METADATA)


@pytest.mark.parametrize("strip", [True, False])
@pytest.mark.parametrize("vml", [True, False])
def test_fixtures_rewrite_once(tracker: Tracker[dict[str, Any]], strip: bool, vml: bool) -> None:
    # The fixtures hold opt-out attributes: they stay, so a second pass changes nothing.
    for name in ("transactional.html", "newsletter.html"):
        once = rewrite_html(read(name), tracker, METADATA, strip_attributes=strip, vml=vml)
        assert rewrite_html(once, tracker, METADATA, strip_attributes=strip, vml=vml) == once


@pytest.fixture(scope="module")
def digest() -> Any:
    return make_docs().digest()


def test_digest(tracker: Tracker[dict[str, Any]], digest: Any) -> None:
    assert 900_000 < len(digest.html.encode()) < 1_100_000
    assert digest.links > 2000
    output = rewrite_html(digest.html, tracker, METADATA)
    assert check_against_template(output, digest.expected, tracker, METADATA) == (
        digest.tracked_links
    )


def test_digest_tokenizes_each_link_once(digest: Any) -> None:
    real = make_tracker()
    calls: list[str] = []

    class Counting:
        config = real.config

        def click_url(self, url: str, metadata: Any = None) -> str:
            calls.append(url)
            return real.click_url(url, metadata)

        def open_url(self, metadata: Any = None) -> str:
            return real.open_url(metadata)

    rewrite_html(digest.html, Counting(), METADATA)
    indexes = {int(part.split(" ", 1)[0]) for part in digest.expected.split("⟦click ")[1:]}
    assert len(calls) == len(indexes) < digest.tracked_links


def test_newsletter_generator(tracker: Tracker[dict[str, Any]]) -> None:
    doc = make_docs().newsletter()
    assert 90_000 < len(doc.html.encode()) < 110_000
    assert 170 <= doc.links <= 190
    output = rewrite_html(doc.html, tracker, METADATA)
    assert check_against_template(output, doc.expected, tracker, METADATA) == doc.tracked_links
