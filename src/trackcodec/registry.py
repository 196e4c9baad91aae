"""One registry of backend names, used by `Codec.from_names`, configuration files and the CLI.

Names map to factories; ids map back to names so that a codec can decode a
token made with any registered backend. Register your own backends with
`register_serializer`, `register_compressor` and `register_cipher`.

A backend's id is its own ``id`` attribute (the one encoding writes), never a
second number kept here; built-in names and ids cannot be changed. Tables are
replaced, never changed in place, so registering while other threads decode
is safe.
"""

from __future__ import annotations

import threading
from collections.abc import Callable, Mapping
from typing import Any, NamedTuple

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
from trackcodec.wire import MAX_COMPRESSOR_ID, MAX_ID
from trackcodec.zstd import ZstdDictCompressor

__all__ = [
    "Known",
    "cipher_names",
    "compressor_names",
    "known",
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


# Built-in names and ids are part of the persisted format: never renumbered.
_FROZEN = {
    "serializer": {name: id for name, (id, _) in _serializers.items()},
    "compressor": {name: id for name, (id, _) in _compressors.items()},
    "cipher": {name: id for name, (id, _) in _ciphers.items()},
}
_lock = threading.Lock()


def _register(
    table_name: str, kind: str, name: str, factory: Any, id: int | None, max_id: int
) -> None:
    own = getattr(factory, "id", None)
    if own is None:
        if id is None:
            raise ConfigurationError(
                f"{kind} {name!r}: the factory has no id attribute; pass id=", field="id"
            )
        own = id
    elif id is not None and id != own:
        raise ConfigurationError(
            f"{kind} {name!r} has id {own}, not {id}: the id is the backend's own", field="id"
        )
    if isinstance(own, bool) or not isinstance(own, int) or not 0 <= own <= max_id:
        raise ConfigurationError(f"{kind} id must be 0-{max_id}", field="id")
    frozen = _FROZEN[kind]
    with _lock:
        table: dict[str, tuple[int, Any]] = globals()[table_name]
        if table.get(name) == (own, factory):
            return
        if name in frozen:
            raise ConfigurationError(f"{kind} {name!r} is built in and cannot change", field="id")
        for other, (other_id, _) in table.items():
            if other == name or other_id == own:
                raise ConfigurationError(
                    f"{kind} {other!r} already uses that name or id {own}", field="id"
                )
        # Copy on write: a decoding thread reading the old table never sees it change.
        globals()[table_name] = {**table, name: (own, factory)}


def register_serializer(name: str, factory: SerializerFactory, *, id: int | None = None) -> None:
    """Make a serializer available by ``name`` and decodable by its id (use 8-15).

    The id is the backend's own ``id`` attribute, so that what encoding writes
    and what decoding looks up never differ; ``id=`` is only for factories
    without one (and must match it otherwise).

    Raises:
        ConfigurationError: The name or id is taken by another backend, the
            name is built in, or ``id=`` differs from the backend's id.
    """
    _register("_serializers", "serializer", name, factory, id, MAX_ID)


def register_compressor(name: str, factory: CompressorFactory, *, id: int | None = None) -> None:
    """Make a compressor available by ``name`` and decodable by its id (0-3).

    The token header has room for four compressor ids and trackcodec uses all
    of them; to compress your payloads better, register a dictionary
    (`trackcodec.compressors.register_dictionary`,
    `trackcodec.zstd.register_zstd_dictionary`) instead. Same rules and
    errors as `register_serializer`.
    """
    _register("_compressors", "compressor", name, factory, id, MAX_COMPRESSOR_ID)


def register_cipher(name: str, factory: CipherFactory, *, id: int | None = None) -> None:
    """Make a cipher available by ``name`` and decodable by its id (use 8-15).

    Same rules and errors as `register_serializer`.
    """
    _register("_ciphers", "cipher", name, factory, id, MAX_ID)


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
    if not isinstance(name, str):
        raise TypeError(f"{kind} must be a registry name (str), not {type(name).__name__}")
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


class Known(NamedTuple):
    """Every registered backend by id, at one moment: what a codec decodes with.

    Attributes:
        serializers: ``{id: (name, factory)}``.
        compressors: ``{id: (name, factory)}``.
        ciphers: ``{id: (name, factory)}``.
    """

    serializers: Mapping[int, tuple[str, SerializerFactory]]
    compressors: Mapping[int, tuple[str, CompressorFactory]]
    ciphers: Mapping[int, tuple[str, CipherFactory]]


def known() -> Known:
    """The registered backends by id, now (later registrations do not change it)."""

    def by_id(table: dict[str, tuple[int, Any]]) -> dict[int, tuple[str, Any]]:
        return {entry_id: (name, factory) for name, (entry_id, factory) in table.items()}

    return Known(by_id(_serializers), by_id(_compressors), by_id(_ciphers))


def serializer_by_id(id: int) -> tuple[str, SerializerFactory] | None:
    """Name and factory of the serializer with ``id``, if any."""
    return _by_id(_serializers, id)


def compressor_by_id(id: int) -> tuple[str, CompressorFactory] | None:
    """Name and factory of the compressor with ``id``, if any."""
    return _by_id(_compressors, id)


def cipher_by_id(id: int) -> tuple[str, CipherFactory] | None:
    """Name and factory of the cipher with ``id``, if any."""
    return _by_id(_ciphers, id)
