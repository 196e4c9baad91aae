"""`trackcodec.compat.pytracking.html.adapt_html` against the real pytracking (PyPI, lxml)."""

from __future__ import annotations

import inspect
import re
from typing import Any

import pytest

pytracking = pytest.importorskip("pytracking")
pytracking_html = pytest.importorskip("pytracking.html")

from cryptography.fernet import Fernet  # noqa: E402

from html_support import PIXEL, read  # noqa: E402
from trackcodec.compat import pytracking as compat  # noqa: E402
from trackcodec.compat.pytracking.html import adapt_html  # noqa: E402

OPEN = "https://t.example.com/o/"
CLICK = "https://t.example.com/c/"
URL = re.compile(r"https://t\.example\.com/[oc]/[A-Za-z0-9_=-]+")
KEY = Fernet.generate_key()
META = {"customer_id": 123456, "campaign": "fall-2026", "name": "Zo\u00eb"}

DOC = (
    "<!DOCTYPE html>\n<html><head>"
    '<meta http-equiv="Content-Type" content="text/html; charset=utf-8"></head>\n'
    "<body><p>Caf\u00e9 &amp; cr\u00e8me</p>\n"
    '<a href="https://shop.example.com/p/1?a=1&amp;b=2">one</a>\n'
    "<a href='http://shop.example.com/p/2'>two</a>\n"
    '<a href="https://shop.example.com/unsubscribe?u=1">unsubscribe</a>\n'
    '<a href="mailto:x@example.com">mail</a>\n'
    "</body></html>\n"
)


def both(**settings: Any) -> tuple[Any, Any]:
    base = {"base_open_tracking_url": OPEN, "base_click_tracking_url": CLICK, **settings}
    return pytracking.Configuration(**base), compat.Configuration(**base)


def test_same_signature() -> None:
    ours = inspect.signature(adapt_html).parameters
    theirs = inspect.signature(pytracking_html.adapt_html).parameters
    assert list(ours) == list(theirs)
    for name in ("click_tracking", "open_tracking", "configuration"):
        assert ours[name].default == theirs[name].default


def test_plain_mode_makes_the_same_urls() -> None:
    theirs_config, ours_config = both()
    theirs = pytracking_html.adapt_html(DOC, META, configuration=theirs_config)
    ours = adapt_html(DOC, META, configuration=ours_config)
    assert URL.findall(ours) == URL.findall(theirs)
    assert len(URL.findall(ours)) == 4  # three links, unsubscribe included, and the pixel


def test_fernet_urls_decode_with_pytracking() -> None:
    theirs_config, ours_config = both(encryption_bytestring_key=KEY)
    output = adapt_html(DOC, META, configuration=ours_config)
    *clicks, pixel = URL.findall(output)
    tracked = [
        pytracking.get_click_tracking_result(url, configuration=theirs_config) for url in clicks
    ]
    assert [result.tracked_url for result in tracked] == [
        "https://shop.example.com/p/1?a=1&b=2",
        "http://shop.example.com/p/2",
        "https://shop.example.com/unsubscribe?u=1",
    ]
    assert all(result.metadata == META for result in tracked)
    opened = pytracking.get_open_tracking_result(pixel, configuration=theirs_config)
    assert opened.metadata == META


def test_output_keeps_the_document() -> None:
    _, config = both()
    output = adapt_html(DOC, META, configuration=config)
    lines = output.splitlines()
    assert lines[:3] == DOC.splitlines()[:3]
    assert output.startswith("<!DOCTYPE html>\n<html><head><meta http-equiv=")
    assert "<p>Caf\u00e9 &amp; cr\u00e8me</p>" in output
    theirs = pytracking_html.adapt_html(DOC, META, configuration=both()[0])
    assert "<!DOCTYPE" not in theirs  # what this module fixes
    assert "&#233;" in theirs
    *clicks, pixel = URL.findall(output)
    restored = output.replace(PIXEL.format(pixel), "")
    for url in clicks:
        result = compat.get_click_tracking_result(url, configuration=config)
        restored = restored.replace(url, (result.tracked_url or "").replace("&", "&amp;"), 1)
    assert restored == DOC


def test_keyword_arguments_and_switches() -> None:
    output = adapt_html(DOC, META, base_open_tracking_url=OPEN, base_click_tracking_url=CLICK)
    assert len(URL.findall(output)) == 4
    _, config = both()
    assert adapt_html(DOC, META, False, False, config) == DOC
    assert len(URL.findall(adapt_html(DOC, None, click_tracking=False, configuration=config))) == 1
    assert len(URL.findall(adapt_html(DOC, configuration=config, open_tracking=False))) == 3


def test_fixes_over_pytracking() -> None:
    _, config = both()
    html = (
        '<p><a href="{{ unsubscribe_url }}">u</a><area href="https://a.example/">'
        f'<a href="{CLICK}abc">already</a><a href="//cdn.example/x">relative</a></p>'
    )
    output = adapt_html(html, META, configuration=config)
    assert output.startswith('<p><a href="{{ unsubscribe_url }}">u</a><area href="' + CLICK)
    assert f'<a href="{CLICK}abc">already</a><a href="//cdn.example/x">' in output
    assert output.count('<img src="' + OPEN) == 1  # a fragment gets the pixel too
    assert adapt_html(output, META, configuration=config) == output


def test_newsletter_bytes() -> None:
    _, config = both()
    data = read("newsletter.html").encode("utf-8")
    output = adapt_html(data, META, configuration=config)
    assert output.count(CLICK) == 12  # the unsubscribe link too
    assert output.count(OPEN) == 1
    assert "\r\n" in output
    assert "日本" in output
