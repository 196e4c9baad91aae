"""``trackcodec serve`` as a real subprocess on 127.0.0.1, for the tests and benchmarks.

`ServeProcess` starts the command with a clean ``TRACKCODEC_*`` environment
(keys, base URLs, port, database...), waits for ``/readyz``, and stops it
with SIGTERM (then SIGKILL if it does not exit) on leaving the ``with`` block.
"""

from __future__ import annotations

import contextlib
import http.client
import os
import shutil
import signal
import socket
import subprocess
import sys
import time
from collections.abc import Mapping
from pathlib import Path
from types import TracebackType
from typing import Any

from trackcodec import KeyRing, Tracker

__all__ = ["ServeProcess", "free_port", "get", "make_tracker"]

SERVE = [sys.executable, "-c", "from trackcodec.cli import main; main()", "serve"]


def free_port() -> int:
    """A TCP port of 127.0.0.1 that was free a moment ago."""
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def make_tracker(port: int, keys: str | None = None) -> Tracker[Any]:
    """A tracker whose URLs point at ``trackcodec serve`` on ``port``."""
    return Tracker(
        keys=keys or KeyRing.generate(1).to_string(),
        base_open_tracking_url=f"http://127.0.0.1:{port}/o/",
        base_click_tracking_url=f"http://127.0.0.1:{port}/c/",
    )


def get(
    port: int,
    path: str,
    *,
    method: str = "GET",
    headers: Mapping[str, str] | None = None,
    timeout: float = 10.0,
) -> tuple[int, dict[str, str], bytes]:
    """One request on a fresh connection: (status, lower-case headers, body)."""
    conn = http.client.HTTPConnection("127.0.0.1", port, timeout=timeout)
    try:
        conn.request(method, path, headers=dict(headers or {}))
        response = conn.getresponse()
        body = response.read()
        return response.status, {k.lower(): v for k, v in response.getheaders()}, body
    finally:
        conn.close()


class ServeProcess:
    """A running ``trackcodec serve`` (use as a context manager).

    Args:
        tracker: Its keys and base URLs are given to the server.
        cwd: Working directory (the default SQLite file lands there).
        args: More command-line arguments.
        env: More environment variables (``TRACKCODEC_*`` server settings...).
        port: The port (the tracker's base URL port is usually the same).
    """

    def __init__(
        self,
        tracker: Tracker[Any],
        cwd: Path,
        *,
        port: int,
        args: tuple[str, ...] = (),
        env: Mapping[str, str] | None = None,
        ready_timeout: float = 60.0,
    ) -> None:
        config = tracker.config
        assert config.keys is not None
        self.port = port
        self.cwd = cwd
        self.log_path = cwd / f"serve-{port}.log"
        base = {k: v for k, v in os.environ.items() if not k.startswith("TRACKCODEC_")}
        base.update(
            {
                "TRACKCODEC_KEYS": config.keys.to_string(),
                "TRACKCODEC_BASE_OPEN_TRACKING_URL": config.base_open_tracking_url or "",
                "TRACKCODEC_BASE_CLICK_TRACKING_URL": config.base_click_tracking_url or "",
                "TRACKCODEC_PORT": str(port),
                "TRACKCODEC_LOG_LEVEL": "warning",
            }
        )
        base.update(env or {})
        self.env = base
        self.args = args
        self.ready_timeout = ready_timeout
        self.proc: subprocess.Popen[bytes] | None = None

    def start(self) -> ServeProcess:
        """Start the process and wait until ``/readyz`` answers 200."""
        log = self.log_path.open("ab")
        self.proc = subprocess.Popen(  # noqa: S603 - our own command
            [*SERVE, *self.args],
            cwd=self.cwd,
            env=self.env,
            stdout=log,
            stderr=subprocess.STDOUT,
            start_new_session=True,
        )
        log.close()
        deadline = time.monotonic() + self.ready_timeout
        while time.monotonic() < deadline:
            if self.proc.poll() is not None:
                raise RuntimeError(f"trackcodec serve exited {self.proc.returncode}:\n{self.log}")
            with contextlib.suppress(OSError, http.client.HTTPException):
                if get(self.port, "/readyz", timeout=2)[0] == 200:
                    return self
            time.sleep(0.05)
        self.kill()
        raise RuntimeError(f"trackcodec serve not ready in {self.ready_timeout} s:\n{self.log}")

    @property
    def pid(self) -> int:
        """The server's process id."""
        assert self.proc is not None
        return self.proc.pid

    @property
    def log(self) -> str:
        """What the server printed."""
        try:
            return self.log_path.read_text(errors="replace")
        except OSError:
            return ""

    def terminate(self, timeout: float = 60.0) -> int:
        """Send SIGTERM and return the exit status."""
        assert self.proc is not None
        if self.proc.poll() is None:
            self.proc.send_signal(signal.SIGTERM)
        return self.proc.wait(timeout)

    def kill(self) -> None:
        """SIGKILL the process (and its workers) and reap it."""
        if self.proc is not None and self.proc.poll() is None:
            with contextlib.suppress(ProcessLookupError):
                os.killpg(self.proc.pid, signal.SIGKILL)
            self.proc.wait(30)

    def rss_kib(self) -> int:
        """Resident memory of the server process (KiB)."""
        for line in Path(f"/proc/{self.pid}/status").read_text().splitlines():
            if line.startswith("VmRSS:"):
                return int(line.split()[1])
        raise RuntimeError("no VmRSS")  # pragma: no cover

    def __enter__(self) -> ServeProcess:
        return self.start()

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        try:
            if self.proc is not None and self.proc.poll() is None:
                try:
                    self.terminate(timeout=30)
                except subprocess.TimeoutExpired:
                    self.kill()
        finally:
            self.kill()


# Headless Chromium (Debian package) for the browser test and the stats screenshot; without
# the background-networking flags it keeps trying hosts this closed network refuses.
CHROMIUM = os.environ.get("TRACKCODEC_CHROMIUM") or shutil.which("chromium") or "/usr/bin/chromium"
CHROMIUM_ARGS = [
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
]
