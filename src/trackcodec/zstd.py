"""Zstandard with a trained dictionary: the ``zstd-dict`` compressor (extra ``trackcodec[zstd]``).

A dictionary trained on tracking payloads lets zstd shrink even a 60-byte
payload, in a few microseconds. Python 3.14's `compression.zstd` is used, or
the `backports.zstd` package below 3.14 (``pip install 'trackcodec[zstd]'``).

Frames carry nothing the token already says or that never varies: no magic
number, no checksum (the cipher authenticates the payload), no content size,
no dictionary id (the first byte says which dictionary), and a one-block
frame's block header is folded into one byte. The compressed form is::

    byte 0   dictionary id
    byte 1   window exponent (bits 3-7, as zstd writes it) | bit 1: a compressed
             block (else raw) | bit 0: one block whose header is left out
             (else the blocks follow with their headers)
    rest     the block content (or the blocks)

Dictionary 1 is trained by ``scripts/train_zstd_dictionary.py`` from a
generated corpus of tracking payloads and ships with trackcodec; like every
dictionary, it is persisted format and never changes. Train your own from
your payloads with ``trackcodec train-dict`` (or `train_zstd_dictionary`) and
register it under an id of 128-255 with `register_zstd_dictionary`.
"""

from __future__ import annotations

import sys
import threading
from collections.abc import Iterable, Mapping
from importlib import resources
from types import ModuleType
from typing import Any

from trackcodec._deps import require
from trackcodec.errors import ConfigurationError, LimitExceeded, MalformedToken

__all__ = [
    "DEFAULT_ZSTD_DICTIONARY_ID",
    "ZstdDictCompressor",
    "register_zstd_dictionary",
    "train_zstd_dictionary",
    "zstd_dictionaries",
]

DEFAULT_ZSTD_DICTIONARY_ID = 1
_BUILTIN = {DEFAULT_ZSTD_DICTIONARY_ID: "zstd_dictionary_1.bin"}
_registered: dict[int, bytes] = {}
_lock = threading.Lock()
_digested: dict[int, Any] = {}  # dictionary id -> ZstdDict

_MAGIC = b"\x28\xb5\x2f\xfd"
_DICT_MAGIC = b"\x37\xa4\x30\xec"
# Frame header descriptor: no content size, single-segment, checksum nor dictionary id.
_DESCRIPTOR = 0
# Windows up to 128 KiB: a payload is at most 64 KiB by default, and a decoder
# never reserves more than this however a frame was made.
_WINDOW_LOG = 17
_ONE_BLOCK = 0b001
_COMPRESSED = 0b010
_MAX_DICTIONARY = 65536


def _zstd() -> ModuleType:
    if sys.version_info >= (3, 14):
        import compression.zstd as module  # type: ignore[import-not-found,unused-ignore]

        return module  # type: ignore[no-any-return,unused-ignore]
    return require("backports.zstd", package="backports.zstd", extra="zstd", feature="zstd-dict")


def _dictionary_bytes(dictionary_id: int) -> bytes | None:
    data = _registered.get(dictionary_id)
    if data is None and dictionary_id in _BUILTIN:
        data = (resources.files("trackcodec") / "data" / _BUILTIN[dictionary_id]).read_bytes()
        _registered.setdefault(dictionary_id, data)
    return data


def _dictionary(dictionary_id: int) -> Any:
    """The `ZstdDict` with ``dictionary_id``, built once (None when unknown)."""
    found = _digested.get(dictionary_id)
    if found is None:
        data = _dictionary_bytes(dictionary_id)
        if data is None:
            return None
        with _lock:
            found = _digested.get(dictionary_id)
            if found is None:
                found = _digested[dictionary_id] = _zstd().ZstdDict(data)
    return found


def register_zstd_dictionary(dictionary_id: int, data: bytes) -> None:
    """Register a zstd dictionary for `ZstdDictCompressor` under an id of yours.

    Once tokens made with a dictionary are sent, never change it: register a
    new id instead (old tokens keep decoding as long as the old one stays
    registered, in every process that decodes them).

    Args:
        dictionary_id: 128-255 (1-127 are reserved for trackcodec).
        data: A dictionary as `train_zstd_dictionary` (or zstd's own trainer)
            makes it, at most 64 KiB.

    Raises:
        ConfigurationError: The id is out of range or already registered with
            other data, or ``data`` is not a zstd dictionary.
        MissingDependencyError: zstd is not installed.
    """
    if not 128 <= dictionary_id <= 255:
        raise ConfigurationError("dictionary ids 128-255 are yours to use", field="dictionary_id")
    data = bytes(data)
    if not data.startswith(_DICT_MAGIC) or not 8 < len(data) <= _MAX_DICTIONARY:
        raise ConfigurationError(
            "not a zstd dictionary (train one with `trackcodec train-dict`)", field="data"
        )
    zstd = _zstd()
    try:
        digested = zstd.ZstdDict(data)
    except (ValueError, zstd.ZstdError) as exc:
        raise ConfigurationError(f"not a usable zstd dictionary: {exc}", field="data") from exc
    with _lock:
        known = _registered.get(dictionary_id)
        if known is not None and known != data:
            raise ConfigurationError(
                f"zstd dictionary {dictionary_id} is already registered with other data",
                field="dictionary_id",
            )
        _registered[dictionary_id] = data
        _digested[dictionary_id] = digested


def zstd_dictionaries() -> Mapping[int, bytes]:
    """Return the zstd dictionaries by id, the built-in ones included (a copy)."""
    for dictionary_id in _BUILTIN:
        _dictionary_bytes(dictionary_id)
    return dict(_registered)


def train_zstd_dictionary(samples: Iterable[bytes], *, size: int = 2048) -> bytes:
    """Train a zstd dictionary on serialized payloads.

    Serialize your payloads the way the tracker will (``{"url": ...,
    "metadata": {...}}`` through the serializer you use); a few thousand
    samples are plenty. ``trackcodec train-dict`` does that from a JSON-lines
    file of payloads.

    Args:
        samples: Serialized payloads.
        size: Largest size of the dictionary, in bytes (256 to 65536). About
            2 KiB suits payloads of 50-500 bytes.

    Returns:
        The dictionary, to pass to `register_zstd_dictionary`.

    Raises:
        ValueError: Too few or too uniform samples to train on, or a bad size.
        MissingDependencyError: zstd is not installed.
    """
    if not 256 <= size <= _MAX_DICTIONARY:
        raise ValueError("a zstd dictionary holds 256 to 65536 bytes")
    zstd = _zstd()
    batch = [bytes(sample) for sample in samples]
    if len(batch) < 8:
        raise ValueError("training needs at least 8 samples (a few thousand is better)")
    try:
        trained: Any = zstd.train_dict(batch, size)
    except zstd.ZstdError as exc:
        raise ValueError(f"could not train a dictionary on these samples: {exc}") from exc
    return bytes(trained.dict_content)


class ZstdDictCompressor:
    """Zstandard primed with a trained dictionary; the output starts with the dictionary id.

    Each thread compresses with its own reusable context; decompression
    refuses output over ``max_size`` before producing it, and windows over
    128 KiB.

    Args:
        dictionary_id: Which registered dictionary compresses (any registered
            one decompresses).
        level: zstd compression level, 1-22.

    Raises:
        ConfigurationError: ``dictionary_id`` is not registered, or a bad level.
        MissingDependencyError: zstd is not installed
            (``pip install 'trackcodec[zstd]'``).
    """

    id = 3
    name = "zstd-dict"
    min_size = 8

    def __init__(self, dictionary_id: int = DEFAULT_ZSTD_DICTIONARY_ID, level: int = 6) -> None:
        self._zstd = _zstd()
        if not 1 <= level <= 22:
            raise ConfigurationError("zstd level must be 1-22", field="level")
        if _dictionary(dictionary_id) is None:
            raise ConfigurationError(
                f"no zstd dictionary {dictionary_id} is registered", field="dictionary_id"
            )
        self.dictionary_id = dictionary_id
        self.level = level
        self._prefix = bytes([dictionary_id])
        parameter = self._zstd.CompressionParameter
        self._options = {
            parameter.compression_level: level,
            parameter.window_log: _WINDOW_LOG,
            parameter.content_size_flag: 0,
            parameter.checksum_flag: 0,
            parameter.dict_id_flag: 0,
        }
        self._decompress_options = {self._zstd.DecompressionParameter.window_log_max: _WINDOW_LOG}
        self._local = threading.local()
        self._flush = self._zstd.ZstdCompressor.FLUSH_FRAME

    def _compressor(self) -> Any:
        compressor = self._zstd.ZstdCompressor(
            options=self._options, zstd_dict=_dictionary(self.dictionary_id)
        )
        self._local.compressor = compressor
        return compressor

    def compress(self, data: bytes, /) -> bytes:
        """Compress ``data``; the first output byte is the dictionary id."""
        try:
            compressor = self._local.compressor
        except AttributeError:
            compressor = self._compressor()
        frame: bytes = compressor.compress(data, self._flush)
        if frame[4] != _DESCRIPTOR or frame[5] & 0b111:
            # libzstd writes neither with these options: an incompatible zstd.
            raise RuntimeError("zstd wrote an unexpected frame header")
        # magic (4) | descriptor (1) | window (1) | blocks, each: 3-byte header | content
        window = frame[5]
        block = int.from_bytes(frame[6:9], "little")
        size = block >> 3
        kind = (block >> 1) & 3
        if block & 1 and kind != 1 and len(frame) == 9 + size:
            flags = _ONE_BLOCK | (_COMPRESSED if kind == 2 else 0)
            return self._prefix + bytes((window | flags,)) + frame[9:]
        return self._prefix + frame[5:]  # several blocks, or one repeated byte

    def decompress(self, data: bytes, /, *, max_size: int) -> bytes:
        """Decompress ``data`` with the dictionary its first byte names."""
        if len(data) < 2:
            raise MalformedToken("compressed payload is truncated")
        zdict = _dictionary(data[0])
        if zdict is None:
            raise MalformedToken(f"unknown zstd dictionary {data[0]}")
        head = data[1]
        if head & _ONE_BLOCK:
            size = len(data) - 2
            kind = 2 if head & _COMPRESSED else 0
            block = ((size << 3) | (kind << 1) | 1).to_bytes(3, "little")
            frame = b"".join((_MAGIC, b"\x00", bytes((head & 0xF8,)), block, data[2:]))
        elif head & 0b111:
            raise MalformedToken("compressed payload has unknown flags")
        else:
            frame = b"".join((_MAGIC, b"\x00", data[1:]))
        zstd = self._zstd
        decompressor = zstd.ZstdDecompressor(zstd_dict=zdict, options=self._decompress_options)
        try:
            out: bytes = decompressor.decompress(frame, max_size)
        except zstd.ZstdError as exc:
            raise MalformedToken("compressed payload is corrupt") from exc
        if not decompressor.eof:
            if len(out) >= max_size:
                raise LimitExceeded(f"payload decompresses to more than {max_size} bytes")
            raise MalformedToken("compressed payload is truncated")
        if decompressor.unused_data:
            raise MalformedToken("compressed payload has trailing bytes")
        return out

    def __repr__(self) -> str:
        return f"ZstdDictCompressor(dictionary_id={self.dictionary_id}, level={self.level})"
