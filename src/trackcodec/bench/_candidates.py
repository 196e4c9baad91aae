"""The candidates of the benchmark: trackcodec combinations, and the references.

Every candidate builds full tracking URLs through its public API and parses
them back: trackcodec through `Tracker`, pytracking 0.2.x through
``get_*_tracking_url`` and ``get_*_tracking_result``, itsdangerous through
``URLSafeSerializer``. A subject hands the harness ready-made calls
``(function, arguments)``, so that timing adds no wrapper of its own.
"""

from __future__ import annotations

import base64
import importlib.metadata
import importlib.util
import os
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import Any, Protocol

from pydantic import BaseModel

from trackcodec import registry
from trackcodec.config import TrackingConfig
from trackcodec.errors import MissingDependencyError
from trackcodec.keys import KeyRing
from trackcodec.payload import make_payload, payload_model
from trackcodec.serializers.schema import SchemaSerializer
from trackcodec.tracking import Tracker

__all__ = [
    "Call",
    "Candidate",
    "Subject",
    "layout",
    "reference_subjects",
    "trackcodec_subjects",
    "version",
    "without_nulls",
]

_MAX_TOKEN = 1 << 17


@dataclass(frozen=True)
class Candidate:
    """One way of making tracking URLs: a trackcodec combination, or a reference.

    Attributes:
        name: Unique name: ``msgpack+deflate+aes-siv``, or ``pytracking-plain``,
            ``pytracking-fernet``, ``itsdangerous`` for the references.
        family: ``trackcodec``, or the reference's package and version.
        serializer: Serializer name (``json`` for the references).
        compressor: Compressor name (``zlib`` for itsdangerous).
        cipher: Cipher name (``none``, ``fernet`` or ``hmac-sha1`` for the references).
        authenticated: Whether forged or altered URLs are refused.
        encrypted: Whether the payload is unreadable without the key.
        timestamp: Whether tokens carry their issue time (what expiry needs).
    """

    name: str
    family: str
    serializer: str
    compressor: str
    cipher: str
    authenticated: bool
    encrypted: bool
    timestamp: bool

    @property
    def reference(self) -> bool:
        """Whether this is a reference (another library) rather than a trackcodec combination."""
        return self.family != "trackcodec"


Call = tuple[Callable[..., Any], tuple[Any, ...]]


class Subject(Protocol):
    """Builds the calls that make and parse a candidate's URLs."""

    candidate: Candidate

    def encode_call(self, payload: dict[str, Any]) -> Call: ...

    def decode_call(self, payload: dict[str, Any], url: str) -> Call: ...

    def as_payload(self, result: Any) -> dict[str, Any]: ...


def layout(url: Any, metadata: Any, webhook: Any) -> dict[str, Any]:
    """A payload with its empty parts dropped, to compare what went in and came out."""
    return make_payload(url or None, metadata or None, webhook or None)


def without_nulls(value: Any) -> Any:
    # The schema serializer gives back skipped optional fields as None.
    if isinstance(value, dict):
        return {k: without_nulls(v) for k, v in value.items() if v is not None}
    if isinstance(value, list):
        return [without_nulls(v) for v in value]
    return value


class TrackcodecSubject:
    def __init__(
        self,
        candidate: Candidate,
        *,
        base_url: str,
        keys: KeyRing,
        model: type[BaseModel] | None,
        schemes: tuple[str, ...],
    ) -> None:
        self.candidate = candidate
        serializer: Any = candidate.serializer
        if serializer == "schema":
            # What Tracker(serializer="schema", metadata_model=model) writes, without
            # validating decoded metadata into the model: every combination returns dicts.
            serializer = SchemaSerializer(payload_model(model))
        config = TrackingConfig(
            base_open_tracking_url=base_url,
            base_click_tracking_url=base_url,
            serializer=serializer,
            compressor=candidate.compressor,
            cipher=candidate.cipher,
            keys=keys,
            timestamp=candidate.timestamp,
            redirect_schemes=schemes,
            max_token_length=_MAX_TOKEN,
        )
        self._trackers: dict[str | None, Tracker[dict[str, Any]]] = {None: Tracker(config)}

    def _tracker(self, webhook: str | None) -> Tracker[dict[str, Any]]:
        tracker = self._trackers.get(webhook)
        if tracker is None:
            tracker = self._trackers[None].with_overrides(
                webhook_url=webhook, include_webhook_url=True
            )
            self._trackers[webhook] = tracker
        return tracker

    def encode_call(self, payload: dict[str, Any]) -> Call:
        tracker = self._tracker(payload.get("webhook"))
        if "url" in payload:
            return tracker.click_url, (payload["url"], payload.get("metadata"))
        return tracker.open_url, (payload.get("metadata"),)

    def decode_call(self, payload: dict[str, Any], url: str) -> Call:
        tracker = self._tracker(payload.get("webhook"))
        return (tracker.parse_click if "url" in payload else tracker.parse_open), (url,)

    def as_payload(self, result: Any) -> dict[str, Any]:
        return layout(result.tracked_url, result.metadata, result.webhook_url)


class PytrackingSubject:
    def __init__(self, candidate: Candidate, *, base_url: str, fernet_key: bytes | None) -> None:
        import pytracking  # type: ignore[import-untyped]

        self.candidate = candidate
        self._api = pytracking
        self._settings: dict[str, Any] = {
            "base_open_tracking_url": base_url,
            "base_click_tracking_url": base_url,
            "encryption_bytestring_key": fernet_key,
        }
        self._configs: dict[str | None, Any] = {}

    def _config(self, webhook: str | None) -> Any:
        config = self._configs.get(webhook)
        if config is None:
            extra = {} if webhook is None else {"webhook_url": webhook, "include_webhook_url": True}
            config = self._configs[webhook] = self._api.Configuration(**self._settings, **extra)
        return config

    def encode_call(self, payload: dict[str, Any]) -> Call:
        config = self._config(payload.get("webhook"))
        if "url" in payload:
            return self._api.get_click_tracking_url, (
                payload["url"],
                payload.get("metadata"),
                config,
            )
        return self._api.get_open_tracking_url, (payload.get("metadata"), config)

    def decode_call(self, payload: dict[str, Any], url: str) -> Call:
        config = self._config(payload.get("webhook"))
        if "url" in payload:
            return self._api.get_click_tracking_result, (url, None, config)
        return self._api.get_open_tracking_result, (url, None, config)

    def as_payload(self, result: Any) -> dict[str, Any]:
        return layout(result.tracked_url, result.metadata, result.webhook_url)


class ItsDangerousSubject:
    def __init__(self, candidate: Candidate, *, base_url: str, secret: bytes) -> None:
        from itsdangerous import URLSafeSerializer

        self.candidate = candidate
        serializer = URLSafeSerializer(secret)
        self._dumps = serializer.dumps
        self._loads = serializer.loads
        self._base = base_url
        self._start = len(base_url)

    def url(self, payload: dict[str, Any]) -> str:
        return self._base + self._dumps(payload)

    def parse(self, url: str) -> Any:
        return self._loads(url[self._start :])

    def encode_call(self, payload: dict[str, Any]) -> Call:
        return self.url, (payload,)

    def decode_call(self, payload: dict[str, Any], url: str) -> Call:
        return self.parse, (url,)

    def as_payload(self, result: Any) -> dict[str, Any]:
        return layout(result.get("url"), result.get("metadata"), result.get("webhook"))


def version(package: str) -> str:
    try:
        return importlib.metadata.version(package)
    except importlib.metadata.PackageNotFoundError:
        return "?"


def reference_subjects(base_url: str, notes: list[str]) -> list[Subject]:
    """The references whose packages are installed; the missing ones are noted."""
    subjects: list[Subject] = []
    if importlib.util.find_spec("pytracking") is None:
        notes.append(
            "pytracking references skipped: pip install 'trackcodec[bench]' to compare against them"
        )
    else:
        family = f"pytracking {version('pytracking')}"
        subjects.append(
            PytrackingSubject(
                Candidate("pytracking-plain", family, "json", "none", "none", False, False, False),
                base_url=base_url,
                fernet_key=None,
            )
        )
        if importlib.util.find_spec("cryptography") is None:
            notes.append("pytracking Fernet reference skipped: pip install 'trackcodec[crypto]'")
        else:
            subjects.append(
                PytrackingSubject(
                    Candidate(
                        "pytracking-fernet", family, "json", "none", "fernet", True, True, True
                    ),
                    base_url=base_url,
                    fernet_key=base64.urlsafe_b64encode(os.urandom(32)),
                )
            )
    if importlib.util.find_spec("itsdangerous") is None:
        notes.append(
            "itsdangerous reference skipped: pip install 'trackcodec[bench]' to compare against it"
        )
    else:
        subjects.append(
            ItsDangerousSubject(
                Candidate(
                    "itsdangerous",
                    f"itsdangerous {version('itsdangerous')}",
                    "json",
                    "zlib",
                    "hmac-sha1",
                    True,
                    False,
                    False,
                ),
                base_url=base_url,
                secret=os.urandom(32),
            )
        )
    return subjects


def trackcodec_subjects(
    serializers: Sequence[str],
    compressors: Sequence[str],
    ciphers: Sequence[str],
    *,
    timestamp: bool,
    base_url: str,
    model: type[BaseModel] | None,
    schemes: tuple[str, ...],
    notes: list[str],
) -> list[Subject]:
    """A subject per combination; combinations whose extra is missing are noted and skipped."""
    keys = KeyRing.generate()
    subjects: list[Subject] = []
    missing: dict[str, str] = {}
    for serializer in serializers:
        for compressor in compressors:
            for cipher in ciphers:
                factory = registry.cipher_factory(cipher)
                try:
                    probe = factory(keys.secret(keys.primary_id))
                    subject = TrackcodecSubject(
                        Candidate(
                            f"{serializer}+{compressor}+{cipher}",
                            "trackcodec",
                            serializer,
                            compressor,
                            cipher,
                            probe.authenticated,
                            probe.encrypted,
                            timestamp,
                        ),
                        base_url=base_url,
                        keys=keys,
                        model=model,
                        schemes=schemes,
                    )
                except MissingDependencyError as exc:
                    missing.setdefault(str(exc), f"{serializer}+{compressor}+{cipher}")
                    continue
                subjects.append(subject)
    notes.extend(
        f"skipped ({example} and others like it): {why}" for why, example in missing.items()
    )
    return subjects
