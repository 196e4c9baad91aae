"""uvicorn's httptools protocol with the limits a public server needs.

uvicorn bounds neither the time a client takes to send its request head
(a slowloris client can hold a connection open forever by sending a byte now
and then) nor, with httptools, the size of the request target and headers (it
appends them to a buffer). This subclass adds both:

- a head deadline, armed when the connection opens and again after each
  response, cancelled when the head is complete: past it, ``408`` and close;
- caps on the request target (``414``), on header bytes and on the number of
  header fields (``431``), checked while parsing, so memory stays bounded.

Answers are written directly (the application never sees such a request), with
``Connection: close``.
"""

from __future__ import annotations

import asyncio
from dataclasses import dataclass
from typing import Any

import httptools
from uvicorn.protocols.http.httptools_impl import STATUS_LINE, HttpToolsProtocol

__all__ = ["GuardedHttpToolsProtocol", "Limits"]


@dataclass(frozen=True, slots=True)
class Limits:
    """What `GuardedHttpToolsProtocol` enforces (carried on uvicorn's Config)."""

    header_timeout: float = 10.0
    max_url_length: int = 8192
    max_header_bytes: int = 16384
    max_headers: int = 100


CONFIG_ATTRIBUTE = "trackcodec_limits"


class _Rejected(Exception):
    def __init__(self, status: int) -> None:
        self.status = status


class GuardedHttpToolsProtocol(HttpToolsProtocol):
    """`HttpToolsProtocol` with a request-head deadline and size caps (see the module)."""

    def __init__(self, config: Any, *args: Any, **kwargs: Any) -> None:
        super().__init__(config, *args, **kwargs)
        self._limits: Limits = getattr(config, CONFIG_ATTRIBUTE, None) or Limits()
        self._head_timer: asyncio.TimerHandle | None = None
        self._head_bytes = 0
        self._raw_bytes = 0
        self._header_count = 0
        self._reject_status = 400

    # -- the head deadline -------------------------------------------------------------

    def _arm(self) -> None:
        self._disarm()
        self._head_timer = self.loop.call_later(self._limits.header_timeout, self._head_expired)

    def _disarm(self) -> None:
        if self._head_timer is not None:
            self._head_timer.cancel()
            self._head_timer = None

    def _head_expired(self) -> None:
        self._head_timer = None
        if self.transport.is_closing():
            return
        if self.cycle is not None and not self.cycle.response_complete:
            return  # a request is being answered: its head arrived in time
        self._reply(408, "Request head not received in time.")

    def connection_made(self, transport: asyncio.Transport) -> None:  # type: ignore[override]
        super().connection_made(transport)
        self._arm()

    def connection_lost(self, exc: Exception | None) -> None:
        self._disarm()
        super().connection_lost(exc)

    def on_response_complete(self) -> None:
        super().on_response_complete()
        if not self.transport.is_closing():
            self._arm()

    # -- size caps ---------------------------------------------------------------------

    def on_message_begin(self) -> None:
        super().on_message_begin()
        self._head_bytes = 0
        self._raw_bytes = 0
        self._header_count = 0

    def on_url(self, url: bytes) -> None:
        if len(self.url) + len(url) > self._limits.max_url_length:
            self._reject_status = 414
            raise _Rejected(414)
        super().on_url(url)

    def on_header(self, name: bytes, value: bytes) -> None:
        self._head_bytes += len(name) + len(value)
        self._header_count += 1
        if (
            self._head_bytes > self._limits.max_header_bytes
            or self._header_count > self._limits.max_headers
        ):
            self._reject_status = 431
            raise _Rejected(431)
        super().on_header(name, value)

    def on_headers_complete(self) -> None:
        self._disarm()
        super().on_headers_complete()

    def data_received(self, data: bytes) -> None:
        # A name or value split across reads reaches on_header only once complete:
        # bound what llhttp may buffer meanwhile by counting raw head bytes too.
        if self.cycle is None or self.cycle.response_complete:
            self._raw_bytes += len(data)
            budget = self._limits.max_url_length + 2 * self._limits.max_header_bytes + 65536
            if self._raw_bytes > budget:
                if self._header_count == 0:  # still in the request line
                    self._reply(414, "Request target too long.")
                else:
                    self._reply(431, "Request head too large.")
                return
        self._reject_status = 400
        super().data_received(data)

    def send_400_response(self, msg: str) -> None:
        # uvicorn calls this for every parser error, ours (from callbacks) included.
        status = self._reject_status
        if status == 414:
            msg = "Request target too long."
        elif status == 431:
            msg = "Request header fields too large."
        self._reply(status, msg)

    def _reply(self, status: int, msg: str) -> None:
        self._disarm()
        body = msg.encode("ascii")
        content = [STATUS_LINE[status]]
        for name, value in self.server_state.default_headers:
            content.extend([name, b": ", value, b"\r\n"])
        content.extend(
            [
                b"content-type: text/plain; charset=utf-8\r\n",
                b"content-length: " + str(len(body)).encode("ascii") + b"\r\n",
                b"connection: close\r\n",
                b"\r\n",
                body,
            ]
        )
        if not self.transport.is_closing():
            self.transport.write(b"".join(content))
            self.transport.close()


# Raised inside httptools callbacks: the parser wraps it in HttpParserCallbackError,
# a subclass of the HttpParserError that uvicorn answers with send_400_response.
assert issubclass(httptools.HttpParserCallbackError, httptools.HttpParserError)
