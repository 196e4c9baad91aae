"""Compact, deterministic JSON (standard library only)."""

from __future__ import annotations

import json
import re
from collections.abc import Mapping
from typing import Any

__all__ = ["JSONSerializer"]

# A \\uD800-\\uDFFF escape: the only way JSON text yields a lone surrogate.
_SURROGATE_ESCAPE = re.compile(r"\\u[dD][89a-fA-F]")


def check_no_lone_surrogates(text: str, obj: Any) -> None:
    """Raise ``ValueError`` if ``obj``, parsed from JSON ``text``, holds a lone surrogate.

    JSON may escape half of a UTF-16 pair (``"\\udcff"``); such a string
    cannot be encoded as UTF-8, so it would fail later, far from the
    decoder (in a ``Location`` header, a store, a webhook body). The cheap
    text search keeps the walk off the common path.
    """
    if _SURROGATE_ESCAPE.search(text) is None:
        return
    try:
        json.dumps(obj, ensure_ascii=False).encode("utf-8")
    except UnicodeEncodeError:
        raise ValueError("payload holds a lone UTF-16 surrogate") from None


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
        text = data.decode("utf-8")
        obj = self._decode(text)
        if not isinstance(obj, dict):
            raise ValueError("payload is not a JSON object")
        check_no_lone_surrogates(text, obj)
        return obj

    def __repr__(self) -> str:
        return "JSONSerializer()"
