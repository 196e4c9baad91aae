"""A real HTTP webhook receiver on loopback, scripted to fail, for the delivery tests."""

from __future__ import annotations

import socket
import threading
import time
from collections import Counter
from collections.abc import Callable, Sequence
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

from standardwebhooks import Webhook
from standardwebhooks.webhooks import WebhookVerificationError

Answer = tuple[int, dict[str, str]]


def free_port() -> int:
    """A loopback port nobody listens on (connections to it are refused)."""
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port: int = sock.getsockname()[1]
    return port


class Receiver:
    """Verifies every request with ``standardwebhooks`` and counts 2xx answers per webhook-id.

    ``script`` decides each answer from the request's number (0-based) among
    the requests this receiver got; it defaults to 200.
    """

    def __init__(self, secret: str, port: int | None = None) -> None:
        self.port = port if port is not None else free_port()
        self.url = f"http://127.0.0.1:{self.port}/hook"
        self.webhook = Webhook(secret)
        self.script: Callable[[int], Answer] = lambda n: (200, {})
        self.lock = threading.Lock()
        self.requests = 0
        self.answers: Counter[int] = Counter()
        self.delivered: Counter[str] = Counter()
        self.bad_signatures = 0
        self.bodies: dict[str, bytes] = {}
        self.log: list[tuple[float, str, int]] = []  # (time, webhook-id, status) per request
        self.peers: set[int] = set()  # client ports: one per connection
        self.delay = 0.0  # seconds before answering
        self._server: ThreadingHTTPServer | None = None
        self._thread: threading.Thread | None = None

    def start(self) -> Receiver:
        receiver = self

        class Handler(BaseHTTPRequestHandler):
            protocol_version = "HTTP/1.1"  # keep-alive, as real receivers

            def do_POST(self) -> None:
                body = self.rfile.read(int(self.headers.get("content-length", "0")))
                headers = {k.lower(): v for k, v in self.headers.items()}
                with receiver.lock:
                    number = receiver.requests
                    receiver.requests += 1
                    status, extra = receiver.script(number)
                    receiver.answers[status] += 1
                    try:
                        receiver.webhook.verify(body, headers)
                    except WebhookVerificationError:
                        receiver.bad_signatures += 1
                        status, extra = 400, {}
                    receiver.peers.add(self.client_address[1])
                    receiver.log.append((time.time(), headers.get("webhook-id", ""), status))
                    delay = receiver.delay
                    if 200 <= status < 300:
                        receiver.delivered[headers["webhook-id"]] += 1
                        receiver.bodies[headers["webhook-id"]] = body
                if delay:
                    time.sleep(delay)
                self.send_response(status)
                for name, value in extra.items():
                    self.send_header(name, value)
                self.send_header("content-length", "0")
                self.end_headers()

            def log_message(self, format: str, *args: object) -> None:
                pass

        self._server = ThreadingHTTPServer(("127.0.0.1", self.port), Handler)
        self._server.daemon_threads = True
        self._thread = threading.Thread(
            target=self._server.serve_forever, kwargs={"poll_interval": 0.05}, daemon=True
        )
        self._thread.start()
        return self

    def stop(self) -> None:
        if self._server is not None:
            self._server.shutdown()
            self._server.server_close()
            assert self._thread is not None
            self._thread.join()
            self._server = None


PUBLIC = "93.184.215.14"
"""A public address, for resolvers that must not trip the SSRF guard."""


def resolver(*addresses: str) -> Callable[[str, int], Sequence[str]]:
    """A DNS stand-in answering ``addresses`` for every name (none: the name does not resolve)."""

    def resolve(host: str, port: int) -> Sequence[str]:
        if not addresses:
            raise OSError("Name or service not known")
        return addresses

    return resolve
