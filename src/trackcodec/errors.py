"""Exceptions raised by trackcodec.

Every exception derives from `TrackcodecError`. Everything a token can do
wrong is an `InvalidToken`, so an endpoint needs one ``except`` clause and can
answer 404 without telling an attacker why:

    TrackcodecError
    ├── InvalidToken
    │   ├── MalformedToken          not base64url, truncated, unknown version or flags
    │   ├── LimitExceeded           too long, decompresses too large, nested too deep
    │   ├── UnsupportedToken        names a serializer, compressor or cipher not available here
    │   ├── UnknownKey              key id not in the key ring
    │   ├── BadSignature            authentication or decryption failed
    │   ├── TokenExpired            older than the allowed age, or carries no issued-at
    │   ├── PayloadError            authenticated, but the payload does not deserialize or validate
    │   └── RedirectNotAllowed      click target outside the redirect policy
    ├── ConfigurationError          (also a ValueError) invalid settings
    └── MissingDependencyError      (also an ImportError) an optional extra is not installed

Caller mistakes that are not configuration (a payload that cannot be
serialized, say) raise the built-in ``TypeError`` or ``ValueError``.
"""

from __future__ import annotations

__all__ = [
    "BadSignature",
    "ConfigurationError",
    "InvalidToken",
    "LimitExceeded",
    "MalformedToken",
    "MissingDependencyError",
    "PayloadError",
    "RedirectNotAllowed",
    "TokenExpired",
    "TrackcodecError",
    "UnknownKey",
    "UnsupportedToken",
]


class TrackcodecError(Exception):
    """Root of every exception raised by trackcodec."""


class InvalidToken(TrackcodecError):
    """A token (or tracking URL) cannot be accepted.

    Tracking endpoints should catch this one class and answer 404; the
    subclasses say why, for logs and tests.
    """


class MalformedToken(InvalidToken):
    """The token is not a well-formed trackcodec token (encoding, length, header)."""


class LimitExceeded(InvalidToken):
    """The token exceeds a configured limit: length, decompressed size or nesting depth."""


class UnsupportedToken(InvalidToken):
    """The token names a format, serializer, compressor or cipher that is not available."""


class UnknownKey(InvalidToken):
    """The token was sealed with a key id that is not in the key ring."""


class BadSignature(InvalidToken):
    """Authentication failed: the token was forged, altered or sealed with another key."""


class TokenExpired(InvalidToken):
    """The token is older than the allowed maximum age, or carries no issue time.

    Attributes:
        issued_at: When the token was issued (Unix seconds), or ``None`` when the
            token carries no issue time.
    """

    def __init__(self, message: str, *, issued_at: int | None = None) -> None:
        super().__init__(message)
        self.issued_at = issued_at


class PayloadError(InvalidToken):
    """The token is authentic but its payload cannot be deserialized or validated.

    The original exception, if any, is chained as ``__cause__``.
    """


class RedirectNotAllowed(InvalidToken):
    """A click token's target URL is outside the configured redirect policy.

    Attributes:
        url: The rejected target URL.
    """

    def __init__(self, message: str, *, url: str) -> None:
        super().__init__(message)
        self.url = url


class ConfigurationError(TrackcodecError, ValueError):
    """Invalid settings: an unknown backend name, a missing key, a bad value.

    Attributes:
        field: Name of the offending setting, when there is one.
    """

    def __init__(self, message: str, *, field: str | None = None) -> None:
        super().__init__(message)
        self.field = field


class MissingDependencyError(TrackcodecError, ImportError):
    """A backend needs an optional dependency that is not installed.

    The message names the ``pip install 'trackcodec[extra]'`` command to run.

    Attributes:
        extra: Name of the extra that provides the dependency.
    """

    def __init__(self, package: str, extra: str, *, feature: str) -> None:
        super().__init__(
            f"{feature} needs the {package!r} package: pip install 'trackcodec[{extra}]'"
        )
        self.extra = extra
