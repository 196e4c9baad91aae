"""Compact, deterministic JSON (standard library only)."""

from __future__ import annotations

import json
from collections.abc import Mapping
from typing import Any

__all__ = ["JSONSerializer"]


class JSONSerializer:
    """UTF-8 JSON without whitespace; keys keep their insertion order.

    Encoding the same mapping always gives the same bytes. NaN and infinities
    are refused (they are not JSON); use msgpack for them.
    """

    id = 1
    name = "json"

    def __init__(self) -> None:
        self._encoder = json.JSONEncoder(
            ensure_ascii=False, allow_nan=False, separators=(",", ":"), check_circular=True
        )
        self._decode = json.JSONDecoder().decode

    def dumps(self, obj: Mapping[str, Any], /) -> bytes:
        """Serialize ``obj`` to UTF-8 JSON bytes."""
        return self._encoder.encode(obj).encode("utf-8")

    def loads(self, data: bytes, /) -> dict[str, Any]:
        """Parse UTF-8 JSON bytes; the top level must be an object."""
        obj = self._decode(data.decode("utf-8"))
        if not isinstance(obj, dict):
            raise ValueError("payload is not a JSON object")
        return obj

    def __repr__(self) -> str:
        return "JSONSerializer()"
