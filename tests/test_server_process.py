"""``trackcodec serve`` as a real process: SIGTERM, workers, and bad input at the HTTP level."""

from __future__ import annotations

import socket
import sqlite3
import threading
import time
from pathlib import Path
from typing import Any

import pytest

pytest.importorskip("uvicorn", reason="trackcodec[server] is not installed")

from serve_support import ServeProcess, free_port, get, make_tracker


def _path(url: str) -> str:
    return "/" + url.split("/", 3)[3]


def _count(db: Path) -> int:
    with sqlite3.connect(db) as conn:
        return int(conn.execute("SELECT COUNT(*) FROM trackcodec_events").fetchone()[0])


def _raw(port: int, data: bytes, *, timeout: float = 10.0) -> bytes:
    """Send raw bytes, read until the server closes (or the timeout)."""
    with socket.create_connection(("127.0.0.1", port), timeout=timeout) as s:
        try:
            s.sendall(data)
        except (BrokenPipeError, ConnectionResetError):
            return b"<closed while sending>"
        chunks = []
        try:
            while chunk := s.recv(65536):
                chunks.append(chunk)
        except (TimeoutError, ConnectionResetError):
            pass
    return b"".join(chunks)


@pytest.fixture(scope="module")
def server(tmp_path_factory: pytest.TempPathFactory) -> Any:
    cwd = tmp_path_factory.mktemp("serve")
    port = free_port()
    tracker = make_tracker(port)
    env = {"TRACKCODEC_HEADER_TIMEOUT": "1", "TRACKCODEC_STATS_TOKEN": "stats-token-process"}
    with ServeProcess(tracker, cwd, port=port, env=env) as proc:
        yield proc, tracker


# -- graceful shutdown -------------------------------------------------------------------


def test_sigterm_finishes_requests_in_flight_commits_and_exits_0(tmp_path: Path) -> None:
    port = free_port()
    tracker = make_tracker(port)
    proc = ServeProcess(tracker, tmp_path, port=port).start()
    try:
        db = tmp_path / "trackcodec-events.sqlite3"
        # Block commits: the requests below are in flight, waiting for theirs.
        lock = sqlite3.connect(db, timeout=5, isolation_level=None)
        lock.execute("BEGIN IMMEDIATE")
        statuses: list[int] = []
        threads = [
            threading.Thread(
                target=lambda n=n: statuses.append(get(port, _path(tracker.open_url({"n": n})))[0])
            )
            for n in range(8)
        ]
        for t in threads:
            t.start()
        deadline = time.monotonic() + 20
        while time.monotonic() < deadline:
            metrics = get(port, "/metrics")[2].decode()
            if "trackcodec_event_store_pending 8.0" in metrics:
                break
            time.sleep(0.05)
        else:
            pytest.fail("the 8 requests never reached the server")
        proc.proc.send_signal(15)  # type: ignore[union-attr]
        # The listening socket closes at once: new connections are refused.
        deadline = time.monotonic() + 10
        refused = False
        while time.monotonic() < deadline and not refused:
            try:
                socket.create_connection(("127.0.0.1", port), timeout=1).close()
                time.sleep(0.05)
            except ConnectionError:  # refused, or reset while in the closing backlog
                refused = True
        assert refused
        assert proc.proc.poll() is None  # still finishing the requests in flight
        lock.rollback()
        lock.close()
        for t in threads:
            t.join(30)
        assert proc.proc.wait(30) == 0  # type: ignore[union-attr]
    finally:
        proc.kill()
    assert statuses == [200] * 8
    assert _count(db) == 8


def test_sigterm_with_workers_exits_0_after_committing(tmp_path: Path) -> None:
    port = free_port()
    tracker = make_tracker(port)
    with ServeProcess(tracker, tmp_path, port=port, args=("--workers", "2")) as proc:
        for n in range(20):
            assert get(port, _path(tracker.open_url({"n": n})))[0] == 200
        metrics = get(port, "/metrics")[2].decode()
        # Multiprocess mode: /metrics adds up both workers, whichever answers.
        assert "trackcodec_events_committed_total 20.0" in metrics
        assert proc.terminate() == 0
    assert _count(tmp_path / "trackcodec-events.sqlite3") == 20


def test_bad_settings_exit_2_naming_the_setting(tmp_path: Path) -> None:
    import subprocess

    from serve_support import SERVE

    result = subprocess.run(  # noqa: S603 - our own command
        [*SERVE, "--stats-token", "short"],
        cwd=tmp_path,
        env={"TRACKCODEC_KEYS": make_tracker(1).config.keys.to_string()},  # type: ignore[union-attr]
        capture_output=True,
        timeout=60,
        check=False,
    )
    assert result.returncode == 2
    assert b"stats_token" in result.stderr
    no_keys = subprocess.run(  # noqa: S603
        SERVE, cwd=tmp_path, env={}, capture_output=True, timeout=60, check=False
    )
    assert no_keys.returncode == 2
    assert b"TRACKCODEC_KEYS" in no_keys.stderr


# -- bad input ---------------------------------------------------------------------------


def test_huge_path_gets_414_and_memory_stays_bounded(server: Any) -> None:
    proc, _ = server
    reply = _raw(proc.port, b"GET /o/" + b"A" * 20_000 + b" HTTP/1.1\r\nHost: x\r\n\r\n")
    assert reply.startswith(b"HTTP/1.1 414 ")
    before = proc.rss_kib()
    for _ in range(5):  # 2 MB targets: the server cuts the connection, keeps nothing
        reply = _raw(proc.port, b"GET /o/" + b"A" * 2_000_000 + b" HTTP/1.1\r\nHost: x\r\n\r\n")
        assert reply.startswith((b"HTTP/1.1 414 ", b"<closed while sending>"))
    assert proc.rss_kib() - before < 20_000  # 10 MB sent; far less kept
    assert get(proc.port, "/healthz")[0] == 200


def test_huge_headers_get_431(server: Any) -> None:
    proc, _ = server
    one_big = b"GET /healthz HTTP/1.1\r\nHost: x\r\nX-Big: " + b"v" * 20_000 + b"\r\n\r\n"
    assert _raw(proc.port, one_big).startswith(b"HTTP/1.1 431 ")
    many = b"GET /healthz HTTP/1.1\r\n" + b"".join(b"X-%d: v\r\n" % i for i in range(500)) + b"\r\n"
    assert _raw(proc.port, many).startswith(b"HTTP/1.1 431 ")
    before = proc.rss_kib()
    # An endless header value: cut off by the raw head budget, not buffered.
    with socket.create_connection(("127.0.0.1", proc.port), timeout=10) as s:
        s.sendall(b"GET /healthz HTTP/1.1\r\nHost: x\r\nX-Endless: ")
        sent = 0
        try:
            while sent < 50_000_000:
                s.sendall(b"v" * 65536)
                sent += 65536
        except (BrokenPipeError, ConnectionResetError):
            pass
    assert sent < 50_000_000  # the server closed the connection
    assert proc.rss_kib() - before < 20_000
    assert get(proc.port, "/healthz")[0] == 200


def test_slowloris_client_is_cut_off(server: Any) -> None:
    proc, _ = server
    with socket.create_connection(("127.0.0.1", proc.port), timeout=15) as s:
        s.sendall(b"GET /healthz HTTP/1.1\r\n")
        started = time.monotonic()
        reply = b""
        try:
            while time.monotonic() - started < 10:
                s.sendall(b"X-a: b\r\n")  # a header now and then, never the end
                time.sleep(0.3)
                s.setblocking(False)
                try:
                    reply += s.recv(4096)
                except BlockingIOError:
                    pass
                finally:
                    s.setblocking(True)
                if reply:
                    break
        except (BrokenPipeError, ConnectionResetError):
            pass
    assert reply.startswith(b"HTTP/1.1 408 ")
    # An idle connection that never sends a byte is closed too.
    assert _raw(proc.port, b"", timeout=15).startswith(b"HTTP/1.1 408 ")


@pytest.mark.parametrize("method", [b"POST", b"PUT", b"DELETE", b"PATCH", b"OPTIONS", b"BREW"])
def test_other_methods_never_500(server: Any, method: bytes) -> None:
    proc, tracker = server
    path = _path(tracker.open_url({"n": 1})).encode()
    reply = _raw(
        proc.port,
        method + b" " + path + b" HTTP/1.1\r\nHost: x\r\nContent-Length: 5\r\n"
        b"Connection: close\r\n\r\nhello",
    )
    status = int(reply.split(b" ", 2)[1])
    assert status in (400, 405)


@pytest.mark.parametrize(
    "target",
    [
        b"/o/%zz",
        b"/o/%",
        b"/c/%E0%A4%A",
        b"/c/%00%00",
        b"/o/\xff\xfe",
        b"/stats?days=%ff",
        b"/o/a?%%%=%%%",
        b"//////",
        b"*",
    ],
)
def test_malformed_targets_get_a_4xx(server: Any, target: bytes) -> None:
    proc, _ = server
    reply = _raw(proc.port, b"GET " + target + b" HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n")
    status = int(reply.split(b" ", 2)[1])
    assert 400 <= status < 500, reply[:200]
    assert b"Traceback" not in reply


def test_server_still_counts_after_abuse(server: Any) -> None:
    proc, tracker = server
    status, _, _ = get(proc.port, _path(tracker.open_url({"after": "abuse"})))
    assert status == 200
    assert "trackcodec_requests_total" in get(proc.port, "/metrics")[2].decode()
    assert "Traceback" not in proc.log
