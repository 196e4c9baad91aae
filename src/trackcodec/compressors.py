"""Compressors: raw deflate, and deflate with a preset dictionary.

Tracking payloads are short (50-500 bytes), where deflate gains little on its
own and loses its header; so both compressors write raw deflate streams with a
small window, whose set-up costs a fraction of a default zlib stream's, and
the codec keeps the result only when it is shorter than the input.

A preset dictionary primes the compressor with fragments that tracking
payloads share (``https://``, ``utm_source=``, the payload's own keys...), so
even a 60-byte payload compresses. Dictionaries are persisted format: a token
records the id of the dictionary it was compressed with, and that dictionary
must never change. Register your own under ids 128-255 with
`register_dictionary`.
"""

from __future__ import annotations

import zlib
from collections.abc import Mapping

from trackcodec.errors import ConfigurationError, LimitExceeded, MalformedToken

__all__ = [
    "DEFAULT_DICTIONARY_ID",
    "DeflateCompressor",
    "DeflateDictCompressor",
    "NoCompressor",
    "register_dictionary",
]

# 1 KiB window: payloads are short, and small windows are cheap to set up. (zlib
# keeps 262 bytes of lookahead, so a 512-byte window would reach back only 250.)
_WBITS = -10
_DICT_WBITS = -11  # 2 KiB window: room for a preset dictionary.
_MEM_LEVEL = 2


class NoCompressor:
    """Leaves payloads as they are."""

    id = 0
    name = "none"
    min_size = 0

    def compress(self, data: bytes, /) -> bytes:
        """Return ``data`` unchanged."""
        return data

    def decompress(self, data: bytes, /, *, max_size: int) -> bytes:
        """Return ``data`` unchanged (it is already within the size limit)."""
        if len(data) > max_size:
            raise LimitExceeded(f"payload larger than {max_size} bytes")
        return data

    def __repr__(self) -> str:
        return "NoCompressor()"


def _inflate(data: bytes, *, wbits: int, max_size: int, zdict: bytes = b"") -> bytes:
    inflater = zlib.decompressobj(wbits, zdict=zdict) if zdict else zlib.decompressobj(wbits)
    try:
        out = inflater.decompress(data, max_size)
    except zlib.error as exc:
        raise MalformedToken("compressed payload is corrupt") from exc
    if inflater.unconsumed_tail:
        raise LimitExceeded(f"payload decompresses to more than {max_size} bytes")
    if not inflater.eof or inflater.unused_data:
        raise MalformedToken("compressed payload is truncated or has trailing bytes")
    return out


class DeflateCompressor:
    """Raw deflate (RFC 1951), 1 KiB window, best compression.

    Args:
        level: zlib compression level, 1-9.
    """

    id = 1
    name = "deflate"
    # Without a dictionary, deflate needs repeats to gain anything; under 64
    # bytes there are almost never enough to pay for its block overhead.
    min_size = 64

    def __init__(self, level: int = 9) -> None:
        if not 1 <= level <= 9:
            raise ConfigurationError("deflate level must be 1-9", field="level")
        self.level = level

    def compress(self, data: bytes, /) -> bytes:
        """Compress ``data`` to a raw deflate stream."""
        deflater = zlib.compressobj(self.level, zlib.DEFLATED, _WBITS, _MEM_LEVEL)
        return deflater.compress(data) + deflater.flush()

    def decompress(self, data: bytes, /, *, max_size: int) -> bytes:
        """Inflate ``data``, refusing output beyond ``max_size`` bytes."""
        return _inflate(data, wbits=_WBITS, max_size=max_size)

    def __repr__(self) -> str:
        return f"DeflateCompressor(level={self.level})"


# Fragments that tracking payloads share, most common last (deflate reaches
# nearer bytes with shorter codes). Both JSON and msgpack spellings of the
# payload's keys are here. Frozen: tokens in the wild were compressed with it.
_DICTIONARY_1 = b"".join(
    [
        b"utm_term=utm_id=gclid=fbclid=mc_cid=mc_eid=ref=source=",
        b'":null,"":true,"":false,"":[{"',
        b"http://www.hooks./track/webhook/webhooks/events/api/v1/",
        b".html.php.aspx.org.net.io.co.uk.de.fr/index/products/product/p/item/",
        b"/blog/article/news/newsletter/unsubscribe/account/login/cart/checkout/order/",
        b"\xa7user_id\xa8order_id\xa7list_id\xaamessage_id\xa8email_id\xa9recipient",
        b"\xa6locale\xa5en-US\xa7variant\xa7segment\xaalink_index\xa7sent_at",
        b"\xa3utm\xa6source\xa6medium\xa7content\xa4term\xa4name\xa4type\xa5email",
        b'"user_id":"order_id":"list_id":"message_id":"email_id":"recipient":"',
        b'"locale":"en-US","variant":"segment":"link_index":"sent_at":',
        b'"utm":{"source":"mail","medium":"email","campaign":"content":"',
        b"&utm_content=&utm_campaign=newsletter&utm_source=newsletter&utm_medium=email",
        b'{"metadata":{"customer_id":,"campaign":"},"webhook":"https://',
        b'{"url":"https://www.',
        b"\xa7webhook\xd9\x1ehttps://www.\xa8campaign\xabcustomer_id\xce",
        b"\x82\xa3url\xd9https://www.\xa8metadata\x82\xabcustomer_id\xce\x00\xa8campaign",
        b".com/?utm_source=mail&utm_medium=email&utm_campaign=",
    ]
)

DEFAULT_DICTIONARY_ID = 1
_DICTIONARIES: dict[int, bytes] = {DEFAULT_DICTIONARY_ID: _DICTIONARY_1}


def register_dictionary(dictionary_id: int, data: bytes) -> None:
    """Register a preset dictionary for `DeflateDictCompressor` under an id of yours.

    Put the fragments your payloads share in ``data``, the most frequent last.
    Once tokens made with a dictionary are sent, never change it: register a
    new id instead (old tokens keep decoding as long as the old one stays
    registered).

    Args:
        dictionary_id: 128-255 (1-127 are reserved for trackcodec).
        data: The dictionary, 1 to 1792 bytes.

    Raises:
        ConfigurationError: The id is out of range or already registered with
            other data, or the dictionary is empty or too large.
    """
    if not 128 <= dictionary_id <= 255:
        raise ConfigurationError("dictionary ids 128-255 are yours to use", field="dictionary_id")
    if not 1 <= len(data) <= 1792:
        raise ConfigurationError("a dictionary holds 1 to 1792 bytes", field="data")
    known = _DICTIONARIES.get(dictionary_id)
    if known is not None and known != data:
        raise ConfigurationError(
            f"dictionary {dictionary_id} is already registered with other data",
            field="dictionary_id",
        )
    _DICTIONARIES[dictionary_id] = bytes(data)


def dictionaries() -> Mapping[int, bytes]:
    """Return the registered preset dictionaries by id (read-only view)."""
    return dict(_DICTIONARIES)


class DeflateDictCompressor:
    """Raw deflate primed with a preset dictionary; the output starts with its id.

    Args:
        dictionary_id: Which registered dictionary compresses (any registered
            one decompresses).
        level: zlib compression level, 1-9.

    Raises:
        ConfigurationError: ``dictionary_id`` is not registered.
    """

    id = 2
    name = "deflate-dict"
    min_size = 8

    def __init__(self, dictionary_id: int = DEFAULT_DICTIONARY_ID, level: int = 9) -> None:
        if dictionary_id not in _DICTIONARIES:
            raise ConfigurationError(
                f"no dictionary {dictionary_id} is registered", field="dictionary_id"
            )
        if not 1 <= level <= 9:
            raise ConfigurationError("deflate level must be 1-9", field="level")
        self.dictionary_id = dictionary_id
        self.level = level
        self._prefix = bytes([dictionary_id])
        # Priming a compressor hashes the whole dictionary; copying a primed one
        # is cheaper. The template is never written to, so copies may be taken
        # from several threads at once (zlib objects lock themselves).
        self._primed = zlib.compressobj(
            level, zlib.DEFLATED, _DICT_WBITS, _MEM_LEVEL, zdict=_DICTIONARIES[dictionary_id]
        )

    def compress(self, data: bytes, /) -> bytes:
        """Compress ``data``; the first output byte is the dictionary id."""
        deflater = self._primed.copy()
        return self._prefix + deflater.compress(data) + deflater.flush()

    def decompress(self, data: bytes, /, *, max_size: int) -> bytes:
        """Inflate ``data`` with the dictionary its first byte names."""
        if not data:
            raise MalformedToken("compressed payload is empty")
        zdict = _DICTIONARIES.get(data[0])
        if zdict is None:
            raise MalformedToken(f"unknown compression dictionary {data[0]}")
        return _inflate(data[1:], wbits=_DICT_WBITS, max_size=max_size, zdict=zdict)

    def __repr__(self) -> str:
        return f"DeflateDictCompressor(dictionary_id={self.dictionary_id}, level={self.level})"
