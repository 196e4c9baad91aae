"""trackcodec: compact, authenticated tokens for email open and click tracking."""

from __future__ import annotations

from trackcodec.ciphers import (
    AESSIVCipher,
    FernetCipher,
    HMACCipher,
    InsecurePlainCipher,
    SecretBoxCipher,
    XChaCha20Cipher,
)
from trackcodec.codec import FORMAT_VERSION, Codec, Limits, TokenHeader, TokenInfo
from trackcodec.compressors import (
    DeflateCompressor,
    DeflateDictCompressor,
    NoCompressor,
    register_dictionary,
)
from trackcodec.errors import (
    BadSignature,
    ConfigurationError,
    InvalidToken,
    LimitExceeded,
    MalformedToken,
    MissingDependencyError,
    PayloadError,
    RedirectNotAllowed,
    TokenExpired,
    TrackcodecError,
    UnknownKey,
    UnsupportedToken,
)
from trackcodec.keys import KeyRing
from trackcodec.protocols import Cipher, CipherFactory, Compressor, Serializer
from trackcodec.registry import register_cipher, register_compressor, register_serializer
from trackcodec.serializers import JSONSerializer, MsgpackSerializer, SchemaSerializer

__version__ = "0.1.0"

__all__ = [
    "FORMAT_VERSION",
    "AESSIVCipher",
    "BadSignature",
    "Cipher",
    "CipherFactory",
    "Codec",
    "Compressor",
    "ConfigurationError",
    "DeflateCompressor",
    "DeflateDictCompressor",
    "FernetCipher",
    "HMACCipher",
    "InsecurePlainCipher",
    "InvalidToken",
    "JSONSerializer",
    "KeyRing",
    "LimitExceeded",
    "Limits",
    "MalformedToken",
    "MissingDependencyError",
    "MsgpackSerializer",
    "PayloadError",
    "RedirectNotAllowed",
    "SchemaSerializer",
    "SecretBoxCipher",
    "Serializer",
    "TokenExpired",
    "TokenHeader",
    "TokenInfo",
    "TrackcodecError",
    "UnknownKey",
    "UnsupportedToken",
    "XChaCha20Cipher",
    "__version__",
    "register_cipher",
    "register_compressor",
    "register_dictionary",
    "register_serializer",
]
