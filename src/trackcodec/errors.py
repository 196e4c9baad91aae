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
    ├── EncodeError                 (also a ValueError) payload or target cannot become a token
    ├── ConfigurationError          (also a ValueError) invalid settings
    └── MissingDependencyError      (also an ImportError) an optional extra is not installed

Encoding refuses what it cannot turn into a token (a click target outside
the redirect policy, a payload over a limit) with `EncodeError`, a
``ValueError``. Arguments of the wrong type raise the built-in ``TypeError``,
naming the argument. No message quotes a payload value: metadata (customer
ids, emails) must not end up in logs.
"""

from __future__ import annotations

__all__ = [
    "BadSignature",
    "ConfigurationError",
    "EncodeError",
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


class EncodeError(TrackcodecError, ValueError):
    """A payload or click target that cannot be made into a token.

    Raised when minting, never when parsing: a click target outside the
    redirect policy (chained to the `RedirectNotAllowed`), a payload nested
    deeper or larger than the limits, a token over ``max_token_length``, an
    issue time outside 1970-2106. A ``ValueError``, so ``except ValueError``
    keeps working; distinct from `ConfigurationError` (the settings are fine,
    this input is not).
    """


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

    The message names the ``pip install 'trackcodec[extra]'`` command to run;
    when several are missing at once (`combine`), one command naming them all.

    Attributes:
        extra: Name of the extra that provides the dependency (comma-separated
            when several are missing).
        extras: Every missing extra.
    """

    def __init__(self, package: str, extra: str, *, feature: str) -> None:
        super().__init__(
            f"{feature} needs the {package!r} package: pip install 'trackcodec[{extra}]'"
        )
        self.package = package
        self.feature = feature
        self.extra = extra
        self.extras: tuple[str, ...] = tuple(extra.split(","))

    @classmethod
    def combine(cls, errors: list[MissingDependencyError]) -> MissingDependencyError:
        """One error naming every extra of ``errors`` in one ``pip install`` line."""
        if len(errors) == 1:
            return errors[0]
        extras = ",".join(dict.fromkeys(e for error in errors for e in error.extras))
        packages = ", ".join(repr(p) for p in dict.fromkeys(error.package for error in errors))
        features = " and ".join(dict.fromkeys(error.feature for error in errors))
        combined = cls(packages, extras, feature=features)
        combined.args = (
            f"{features} need the {packages} packages: pip install 'trackcodec[{extras}]'",
        )
        return combined
