"""MessagePack, with integers of any size (``trackcodec[msgpack]``)."""

from __future__ import annotations

import threading
from collections.abc import Mapping
from typing import Any

from trackcodec._deps import require

__all__ = ["MsgpackSerializer"]

# Extension type for integers outside msgpack's 64-bit range, stored as
# big-endian two's complement, so any JSON-like payload round-trips.
_BIGINT_EXT = 1


def default(obj: object) -> Any:
    """``default`` hook for ``msgpack.packb``: big integers and other mappings."""
    msgpack = require("msgpack", package="msgpack", extra="msgpack", feature="msgpack")
    if isinstance(obj, int):
        size = (obj.bit_length() + 8) // 8
        return msgpack.ExtType(_BIGINT_EXT, obj.to_bytes(size, "big", signed=True))
    if isinstance(obj, Mapping):
        return dict(obj)
    raise TypeError(f"cannot serialize {type(obj).__name__} with msgpack")


def ext_hook(code: int, data: bytes) -> int:
    """``ext_hook`` for ``msgpack.unpackb``: big integers, nothing else."""
    if code != _BIGINT_EXT or not data:
        raise ValueError(f"unknown msgpack extension type {code}")
    return int.from_bytes(data, "big", signed=True)


# msgpack decodes extension type -1 (a Timestamp) itself, without asking ext_hook:
# these are its three encodings' headers (fixext 4, fixext 8, ext 8 of 12 bytes).
TIMESTAMP_HEADERS = (b"\xd6\xff", b"\xd7\xff", b"\xc7\x0c\xff")


def refuse_timestamps(obj: Any, timestamp: type) -> None:
    """Raise ``ValueError`` if decoded ``obj`` holds a msgpack ``timestamp`` instance."""
    stack = [obj]
    while stack:
        item = stack.pop()
        if isinstance(item, dict):
            stack.extend(item.values())
        elif isinstance(item, list):
            stack.extend(item)
        elif isinstance(item, timestamp):
            raise ValueError("unknown msgpack extension type -1 (timestamp)")


class MsgpackSerializer:
    """MessagePack: smaller and faster than JSON.

    Integers beyond 64 bits use a msgpack extension type, so every value JSON
    can carry round-trips (and bytes, NaN and infinities too).

    Raises:
        MissingDependencyError: ``msgpack`` is not installed.
    """

    id = 2
    name = "msgpack"

    def __init__(self) -> None:
        msgpack = require(
            "msgpack", package="msgpack", extra="msgpack", feature="MsgpackSerializer"
        )
        self._packer = msgpack.Packer
        self._unpackb = msgpack.unpackb
        self._timestamp: type = msgpack.Timestamp
        # A Packer is reusable (it resets itself after each object, and after an
        # error) but not shareable: one per thread. Building one per call, as
        # msgpack.packb does, costs more than packing a tracking payload.
        self._local = threading.local()

    def dumps(self, obj: Mapping[str, Any], /) -> bytes:
        """Serialize ``obj`` to msgpack bytes."""
        try:
            pack = self._local.pack
        except AttributeError:
            pack = self._local.pack = self._packer(default=default, use_bin_type=True).pack
        data: bytes = pack(obj)
        return data

    def loads(self, data: bytes, /) -> dict[str, Any]:
        """Parse msgpack bytes; the top level must be a map with string keys."""
        obj = self._unpackb(data, raw=False, ext_hook=ext_hook, strict_map_key=True)
        if not isinstance(obj, dict):
            raise ValueError("payload is not a msgpack map")
        if any(header in data for header in TIMESTAMP_HEADERS):
            refuse_timestamps(obj, self._timestamp)
        return obj

    def __repr__(self) -> str:
        return "MsgpackSerializer()"
