"""End to end in headless Chromium: an email rewritten by rewrite_html, opened and clicked.

The email is a local HTML file; its pixel loads from ``trackcodec serve`` on
127.0.0.1 and its link redirects to a target page served on another local
port. The store then holds exactly one open and one click with the metadata
of the email. Needs the Debian ``chromium`` package (``/usr/bin/chromium`` or
``TRACKCODEC_CHROMIUM``) and the ``playwright`` Python package; skipped, with
the reason, only when either is missing.
"""

from __future__ import annotations

import http.server
import threading
from collections.abc import Iterator
from pathlib import Path

import pytest

pytest.importorskip("uvicorn", reason="trackcodec[server] is not installed")

from serve_support import CHROMIUM, CHROMIUM_ARGS, ServeProcess, free_port, get, make_tracker
from trackcodec.html import rewrite_html
from trackcodec.stores import SQLiteEventStore

TARGET_BODY = b"<!doctype html><title>Target</title><h1 id=landed>Landed</h1>"


@pytest.fixture
def target_site() -> Iterator[int]:
    """A local page the tracked link points to."""

    class Handler(http.server.BaseHTTPRequestHandler):
        def do_GET(self) -> None:
            self.send_response(200)
            self.send_header("content-type", "text/html")
            self.send_header("content-length", str(len(TARGET_BODY)))
            self.end_headers()
            self.wfile.write(TARGET_BODY)

        def log_message(self, *args: object) -> None:
            pass

    httpd = http.server.ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    thread = threading.Thread(target=httpd.serve_forever, daemon=True)
    thread.start()
    try:
        yield int(httpd.server_address[1])
    finally:
        httpd.shutdown()
        httpd.server_close()


def _browser() -> object:
    playwright = pytest.importorskip(
        "playwright.sync_api", reason="playwright is missing: pip install playwright"
    )
    if not Path(CHROMIUM).is_file():
        pytest.skip(f"no Chromium at {CHROMIUM}: apt-get install -y chromium")
    return playwright


def test_email_open_and_click_in_chromium(tmp_path: Path, target_site: int) -> None:
    playwright = _browser()
    port = free_port()
    tracker = make_tracker(port)
    target = f"http://127.0.0.1:{target_site}/landing?from=email"
    email = (
        "<!doctype html><html><body><p>Hello Ada,</p>"
        f'<p><a id="cta" href="{target}">See the spring sale</a></p>'
        "</body></html>"
    )
    rewritten = rewrite_html(email, tracker, {"campaign": "spring", "customer_id": 42})
    assert f"http://127.0.0.1:{port}/o/" in rewritten
    message = tmp_path / "email.html"
    message.write_text(rewritten, encoding="utf-8")

    with ServeProcess(tracker, tmp_path, port=port):
        with playwright.sync_playwright() as p:  # type: ignore[attr-defined]
            browser = p.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS)
            try:
                page = browser.new_page()
                pixel_statuses: list[int] = []
                page.on(
                    "response",
                    lambda r: pixel_statuses.append(r.status) if "/o/" in r.url else None,
                )
                page.goto(message.as_uri(), wait_until="load")
                # The pixel really loaded: a decoded 1x1 image.
                loaded = page.evaluate(
                    "() => Array.from(document.images).filter("
                    "i => i.src.includes('/o/') && i.complete && i.naturalWidth === 1).length"
                )
                assert loaded == 1
                assert pixel_statuses == [200]
                page.click("#cta")
                page.wait_for_url(target)
                assert page.inner_text("#landed") == "Landed"
            finally:
                browser.close()
        assert get(port, "/readyz")[0] == 200

    store = SQLiteEventStore(tmp_path / "trackcodec-events.sqlite3")
    try:
        events = list(store.events())
    finally:
        store.close()
    assert [e.kind for e in events] == ["open", "click"]
    opened, clicked = events
    assert opened.metadata == {"campaign": "spring", "customer_id": 42}
    assert clicked.metadata["campaign"] == "spring"
    assert clicked.metadata["customer_id"] == 42
    assert clicked.tracked_url == target
    assert opened.client_ip == "127.0.0.1"
    assert opened.user_agent is not None
    assert "Chrome" in opened.user_agent
