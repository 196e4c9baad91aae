"""Real servers on loopback: uvicorn (Starlette adapter), waitress (plain WSGI, and Django).

The server runs in a subprocess on a socket this test bound to 127.0.0.1 on a
free port; an HTTP client fetches a pixel, follows a click's redirect to the
landing page on the same server, and sends bad requests. Events reach the
subprocess's sink (a JSON-lines file) before each answer.
"""

from __future__ import annotations

import json
import socket
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest

from endpoint_support import make_tracker, path_of
from trackcodec.endpoint import GIF_PIXEL

HERE = Path(__file__).resolve().parent
NOW = time.time()


@pytest.fixture(params=["uvicorn", "waitress", "django"])
def server(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[tuple[str, Path]]:
    sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    sock.bind(("127.0.0.1", 0))
    sock.listen(16)
    port = sock.getsockname()[1]
    events = tmp_path / "events.jsonl"
    process = subprocess.Popen(  # noqa: S603 - our own interpreter and script
        [
            sys.executable,
            str(HERE / "serving_app.py"),
            request.param,
            str(sock.fileno()),
            str(events),
        ],
        pass_fds=[sock.fileno()],
    )
    sock.close()
    base = f"http://127.0.0.1:{port}"
    try:
        deadline = time.monotonic() + 30
        while True:
            try:
                httpx.get(f"{base}/landing", timeout=2)
                break
            except httpx.TransportError:
                if process.poll() is not None or time.monotonic() > deadline:
                    raise
                time.sleep(0.1)
        yield base, events
    finally:
        process.terminate()
        process.wait(timeout=15)


def test_pixel_and_redirect_through_a_real_server(server: tuple[str, Path]) -> None:
    base, events = server
    tracker = make_tracker()
    ua = {"user-agent": "Mozilla/5.0 (X11; Linux x86_64) Firefox/120.0"}
    with httpx.Client(base_url=base, headers=ua, timeout=10) as client:
        pixel = client.get(path_of(tracker.open_url({"customer_id": 7}, now=NOW - 60)))
        assert pixel.status_code == 200
        assert pixel.content == GIF_PIXEL
        assert pixel.headers["content-type"] == "image/gif"
        head = client.head(path_of(tracker.open_url({"customer_id": 7}, now=NOW - 60)))
        assert head.status_code == 200
        assert head.content == b""
        click_url = tracker.click_url(f"{base}/landing", {"customer_id": 7}, now=NOW - 60)
        landed = client.get(path_of(click_url), follow_redirects=True)
        assert landed.status_code == 200
        assert landed.text == "landed"
        assert [r.status_code for r in landed.history] == [302]
        assert landed.history[0].headers["referrer-policy"] == "no-referrer"
        assert client.get("/c/garbage").status_code == 404
        assert client.get("/o/" + "A" * 6000).status_code == 404
        refused = client.post(path_of(click_url))
        assert refused.status_code == 405
        assert refused.headers["allow"] == "GET, HEAD"
    recorded = [json.loads(line) for line in events.read_text(encoding="utf-8").splitlines()]
    assert [(e["kind"], e["method"], e["likely"]) for e in recorded] == [
        ("open", "GET", "human"),
        ("open", "HEAD", "machine"),
        ("click", "GET", "human"),
    ]
    assert recorded[0]["client_ip"] == "127.0.0.1"
    assert recorded[2]["tracked_url"] == f"{base}/landing"
    assert recorded[2]["metadata"] == {"customer_id": 7}


def test_wsgi_app_refuses_async_hooks() -> None:
    from trackcodec.endpoint import TrackingEndpoint
    from trackcodec.wsgi import TrackingWSGIApp

    async def hook(event: object, environ: object) -> None: ...

    with pytest.raises(TypeError, match="async"):
        TrackingWSGIApp(TrackingEndpoint(make_tracker()), on_event=hook)
