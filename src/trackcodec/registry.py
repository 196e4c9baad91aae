"""One registry of backend names, used by `Codec.from_names`, configuration files and the CLI.

Names map to factories; ids map back to names so that a codec can decode a
token made with any registered backend. Register your own backends with
`register_serializer`, `register_compressor` and `register_cipher`.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from trackcodec.ciphers import (
    AESSIVCipher,
    FernetCipher,
    HMACCipher,
    InsecurePlainCipher,
    SecretBoxCipher,
    XChaCha20Cipher,
)
from trackcodec.compressors import DeflateCompressor, DeflateDictCompressor, NoCompressor
from trackcodec.errors import ConfigurationError
from trackcodec.protocols import CipherFactory, Compressor, Serializer
from trackcodec.serializers import JSONSerializer, MsgpackSerializer, SchemaSerializer
from trackcodec.zstd import ZstdDictCompressor

__all__ = [
    "cipher_names",
    "compressor_names",
    "register_cipher",
    "register_compressor",
    "register_serializer",
    "serializer_names",
]

SerializerFactory = Callable[..., Serializer]
CompressorFactory = Callable[[], Compressor]

_serializers: dict[str, tuple[int, SerializerFactory]] = {
    "json": (JSONSerializer.id, JSONSerializer),
    "msgpack": (MsgpackSerializer.id, MsgpackSerializer),
    "schema": (SchemaSerializer.id, SchemaSerializer),
}
_compressors: dict[str, tuple[int, CompressorFactory]] = {
    "none": (NoCompressor.id, NoCompressor),
    "deflate": (DeflateCompressor.id, DeflateCompressor),
    "deflate-dict": (DeflateDictCompressor.id, DeflateDictCompressor),
    "zstd-dict": (ZstdDictCompressor.id, ZstdDictCompressor),  # extra: trackcodec[zstd]
}
_ciphers: dict[str, tuple[int, CipherFactory]] = {
    "aes-siv": (AESSIVCipher.id, AESSIVCipher),
    "xchacha20": (XChaCha20Cipher.id, XChaCha20Cipher),
    "secretbox": (SecretBoxCipher.id, SecretBoxCipher),
    "fernet": (FernetCipher.id, FernetCipher),
    "hmac": (HMACCipher.id, HMACCipher),
    "plain": (InsecurePlainCipher.id, InsecurePlainCipher),
}


def _register(
    table: dict[str, tuple[int, Any]], kind: str, name: str, factory: Any, id: int, max_id: int
) -> None:
    if not 0 <= id <= max_id:
        raise ConfigurationError(f"{kind} id must be 0-{max_id}", field="id")
    for other, (other_id, other_factory) in table.items():
        if (other == name or other_id == id) and other_factory is not factory:
            raise ConfigurationError(
                f"{kind} {other!r} already uses that name or id {id}", field="id"
            )
    table[name] = (id, factory)


def register_serializer(name: str, factory: SerializerFactory, *, id: int) -> None:
    """Make a serializer available by ``name`` and decodable by ``id`` (use 8-15).

    Raises:
        ConfigurationError: The name or id is taken by another factory.
    """
    _register(_serializers, "serializer", name, factory, id, 15)


def register_compressor(name: str, factory: CompressorFactory, *, id: int) -> None:
    """Make a compressor available by ``name`` and decodable by ``id`` (0-3).

    The token header has room for four compressor ids and trackcodec uses all
    of them; to compress your payloads better, register a dictionary
    (`trackcodec.compressors.register_dictionary`,
    `trackcodec.zstd.register_zstd_dictionary`) instead.

    Raises:
        ConfigurationError: The name or id is taken by another factory.
    """
    _register(_compressors, "compressor", name, factory, id, 3)


def register_cipher(name: str, factory: CipherFactory, *, id: int) -> None:
    """Make a cipher available by ``name`` and decodable by ``id`` (use 8-15).

    Raises:
        ConfigurationError: The name or id is taken by another factory.
    """
    _register(_ciphers, "cipher", name, factory, id, 15)


def serializer_names() -> list[str]:
    """Registered serializer names."""
    return list(_serializers)


def compressor_names() -> list[str]:
    """Registered compressor names."""
    return list(_compressors)


def cipher_names() -> list[str]:
    """Registered cipher names."""
    return list(_ciphers)


def _lookup(table: dict[str, tuple[int, Any]], kind: str, name: str) -> Any:
    try:
        return table[name][1]
    except KeyError:
        raise ConfigurationError(
            f"unknown {kind} {name!r}; choose one of {', '.join(table)}", field=kind
        ) from None


def serializer_factory(name: str) -> SerializerFactory:
    """The serializer factory registered under ``name``."""
    factory: SerializerFactory = _lookup(_serializers, "serializer", name)
    return factory


def compressor_factory(name: str) -> CompressorFactory:
    """The compressor factory registered under ``name``."""
    factory: CompressorFactory = _lookup(_compressors, "compressor", name)
    return factory


def cipher_factory(name: str) -> CipherFactory:
    """The cipher factory registered under ``name``."""
    factory: CipherFactory = _lookup(_ciphers, "cipher", name)
    return factory


def _by_id(table: dict[str, tuple[int, Any]], id: int) -> tuple[str, Any] | None:
    for name, (entry_id, factory) in table.items():
        if entry_id == id:
            return name, factory
    return None


def serializer_by_id(id: int) -> tuple[str, SerializerFactory] | None:
    """Name and factory of the serializer with ``id``, if any."""
    return _by_id(_serializers, id)


def compressor_by_id(id: int) -> tuple[str, CompressorFactory] | None:
    """Name and factory of the compressor with ``id``, if any."""
    return _by_id(_compressors, id)


def cipher_by_id(id: int) -> tuple[str, CipherFactory] | None:
    """Name and factory of the cipher with ``id``, if any."""
    return _by_id(_ciphers, id)
