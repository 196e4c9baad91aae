"""The endpoint and sink built from Django's ``TRACKCODEC`` setting, once."""

from __future__ import annotations

import threading
from collections.abc import Callable, Mapping
from typing import Any

from django.conf import settings
from django.core.exceptions import ImproperlyConfigured
from django.core.signals import setting_changed
from django.dispatch import receiver
from django.utils.module_loading import import_string

from trackcodec.endpoint import TrackingEndpoint
from trackcodec.errors import ConfigurationError
from trackcodec.event import EventSink

__all__ = ["SETTING", "get_endpoint", "get_sink"]

SETTING = "TRACKCODEC"
"""Name of the Django setting."""

_lock = threading.Lock()
_cache: dict[str, Any] = {}


def _settings() -> Mapping[str, Any]:
    value = getattr(settings, SETTING, None)
    if not isinstance(value, Mapping):
        raise ImproperlyConfigured(f"settings.{SETTING} must be a dict of trackcodec settings")
    return value


def get_endpoint() -> TrackingEndpoint:
    """The `TrackingEndpoint` of ``settings.TRACKCODEC``, built on first use.

    Raises:
        ImproperlyConfigured: The setting is missing or invalid.
    """
    endpoint = _cache.get("endpoint")
    if endpoint is None:
        with _lock:
            endpoint = _cache.get("endpoint")
            if endpoint is None:
                options = dict(_settings())
                options.pop("event_sink", None)
                model_path = options.pop("metadata_model", None)
                model = import_string(model_path) if isinstance(model_path, str) else model_path
                try:
                    endpoint = TrackingEndpoint.from_settings(options, metadata_model=model)
                except ConfigurationError as exc:
                    raise ImproperlyConfigured(f"settings.{SETTING}: {exc}") from exc
                _cache["endpoint"] = endpoint
    return endpoint


def get_sink() -> EventSink | None:
    """The `EventSink` named by ``TRACKCODEC["event_sink"]``, if any, built on first use.

    The setting is a dotted path to a sink, or to a class or callable returning one.
    """
    if "sink" not in _cache:
        with _lock:
            if "sink" not in _cache:
                target = _settings().get("event_sink")
                sink: Any = import_string(target) if isinstance(target, str) else target
                if isinstance(sink, type) or (callable(sink) and not hasattr(sink, "emit")):
                    factory: Callable[[], EventSink] = sink
                    sink = factory()
                _cache["sink"] = sink
    return _cache["sink"]  # type: ignore[no-any-return]


@receiver(setting_changed)
def _reset(setting: str, **kwargs: Any) -> None:
    if setting == SETTING:
        with _lock:
            sink = _cache.pop("sink", None)
            _cache.clear()
        if sink is not None:
            sink.close()
