"""The anatomy of a token, for ``trackcodec decode --explain``: where each byte goes."""

from __future__ import annotations

import datetime
from collections.abc import Callable
from typing import Any

from trackcodec import registry
from trackcodec.codec import Codec
from trackcodec.errors import MissingDependencyError
from trackcodec.wire import TokenHeader, b64decode

__all__ = ["explain", "when"]


def when(stamp: int) -> str:
    """``stamp`` (Unix seconds) as ISO 8601 UTC, followed by the number."""
    moment = datetime.datetime.fromtimestamp(stamp, tz=datetime.timezone.utc)
    return f"{moment.isoformat().replace('+00:00', 'Z')} ({stamp})"


_UNKNOWN_LAYOUT = (("sealed body", None),)


def _name_of(lookup: Callable[[int], tuple[str, Any] | None], id: int) -> str:
    entry = lookup(id)
    return entry[0] if entry else f"unknown ({id})"


def explain(
    token: str, head: TokenHeader, payload: dict[str, Any] | None, codec: Codec
) -> list[str]:
    """Where each byte of ``token`` goes: header fields, cipher overhead, payload sizes.

    ``payload`` (the decoded payload, when the token decoded) adds the sizes of
    the serialized and compressed payload; ``codec`` supplies the serializer
    of the token when it is the codec's own (the schema serializer's model).
    Without a payload nothing is said to be authenticated: it may be forged.
    """
    raw = b64decode(token)
    cipher_entry = registry.cipher_by_id(head.cipher_id)
    cipher = cipher_entry[0] if cipher_entry else f"unknown ({head.cipher_id})"
    serializer = _name_of(registry.serializer_by_id, head.serializer_id)
    compressor = (
        _name_of(registry.compressor_by_id, head.compressor_id) if head.compressor_id else "none"
    )
    flags = head.flags
    flag_text = [f"compressed with {compressor}" if head.compressor_id else "not compressed"]
    if head.issued_at is not None:
        flag_text.append("issued-at follows")
    rows: list[tuple[int, int, str]] = [
        (0, 1, f"format version {head.version} | flags {flags:#x}: {', '.join(flag_text)}"),
        (
            1,
            1,
            f"serializer {serializer} (id {head.serializer_id}) | "
            f"cipher {cipher} (id {head.cipher_id})",
        ),
        (2, 1, f"key id {head.key_id}"),
    ]
    if head.issued_at is not None:
        rows.append((3, 4, f"issued at {when(head.issued_at)}"))
    # Each cipher describes its own body; a registered one without a layout is one block.
    layout = (
        getattr(cipher_entry[1], "layout", _UNKNOWN_LAYOUT) if cipher_entry else _UNKNOWN_LAYOUT
    )
    fixed = sum(size for _, size in layout if size is not None)
    at = head.header_size
    for label, size in layout:
        length = size if size is not None else max(head.body_size - fixed, 0)
        rows.append((at, length, label))
        at += length
    lines = [
        f"token: {len(token)} characters of unpadded base64url = {len(raw)} bytes "
        "(4 characters carry 3 bytes)",
    ]
    for start, length, label in rows:
        span = f"{start}" if length == 1 else f"{start}-{start + length - 1}"
        lines.append(f"  bytes {span:>7}  {length:3d} B  {label}")
    trust = "authenticated" if payload is not None else "not verified (the token did not open)"
    lines.append(
        f"  header {head.header_size} B, {trust}; cipher overhead {fixed} B; "
        f"sealed payload {max(head.body_size - fixed, 0)} B"
    )
    if payload is not None:
        sizes = _payload_sizes(head, payload, codec)
        if sizes is not None:
            plain, packed = sizes
            if head.compressor_id:
                lines.append(
                    f"  payload: {plain} B of {serializer}, {compressor} made it {packed} B "
                    f"({(packed - plain) * 100 / plain:+.0f}%)"
                )
            else:
                lines.append(
                    f"  payload: {plain} B of {serializer}, not compressed "
                    "(compression is kept only when it makes the payload shorter)"
                )
    return lines


def _payload_sizes(
    head: TokenHeader, payload: dict[str, Any], codec: Codec
) -> tuple[int, int] | None:
    serializer = codec.serializer if codec.serializer.id == head.serializer_id else None
    if serializer is None:
        entry = registry.serializer_by_id(head.serializer_id)
        if entry is None:
            return None
        try:
            serializer = entry[1]()
        except (TypeError, MissingDependencyError):
            return None
    data = serializer.dumps(payload)
    if not head.compressor_id:
        return len(data), len(data)
    compressor_entry = registry.compressor_by_id(head.compressor_id)
    if compressor_entry is None:
        return None
    return len(data), len(compressor_entry[1]().compress(data))
