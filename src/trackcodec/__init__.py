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
from trackcodec.config import TrackingConfig
from trackcodec.errors import (
    BadSignature,
    ConfigurationError,
    EncodeError,
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
from trackcodec.event import EventSink, Likelihood, TrackingEvent, new_event_id
from trackcodec.keys import KeyRing
from trackcodec.protocols import Cipher, CipherFactory, Compressor, Serializer
from trackcodec.redirect import RedirectPolicy
from trackcodec.registry import register_cipher, register_compressor, register_serializer
from trackcodec.result import TrackingKind, TrackingResult
from trackcodec.serializers import JSONSerializer, MsgpackSerializer, SchemaSerializer
from trackcodec.tracking import Tracker

__version__ = "0.1.0"

__all__ = [
    "AESSIVCipher",
    "BadSignature",
    "Cipher",
    "CipherFactory",
    "Codec",
    "Compressor",
    "ConfigurationError",
    "DeflateCompressor",
    "DeflateDictCompressor",
    "EncodeError",
    "EventSink",
    "FORMAT_VERSION",
    "FernetCipher",
    "HMACCipher",
    "InsecurePlainCipher",
    "InvalidToken",
    "JSONSerializer",
    "KeyRing",
    "Likelihood",
    "LimitExceeded",
    "Limits",
    "MalformedToken",
    "MissingDependencyError",
    "MsgpackSerializer",
    "NoCompressor",
    "PayloadError",
    "RedirectNotAllowed",
    "RedirectPolicy",
    "SchemaSerializer",
    "SecretBoxCipher",
    "Serializer",
    "TokenExpired",
    "TokenHeader",
    "TokenInfo",
    "TrackcodecError",
    "Tracker",
    "TrackingConfig",
    "TrackingEvent",
    "TrackingKind",
    "TrackingResult",
    "UnknownKey",
    "UnsupportedToken",
    "XChaCha20Cipher",
    "__version__",
    "new_event_id",
    "register_cipher",
    "register_compressor",
    "register_dictionary",
    "register_serializer",
]
