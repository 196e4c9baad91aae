"""The Django application config of ``trackcodec.django``, and its system check."""

from __future__ import annotations

from typing import Any

from django.apps import AppConfig
from django.core import checks
from django.core.exceptions import ImproperlyConfigured


class TrackcodecConfig(AppConfig):
    """``INSTALLED_APPS`` entry ``"trackcodec.django"`` (label ``trackcodec``).

    Registers the ``trackcodec.E001`` system check: ``settings.TRACKCODEC``
    must build an endpoint (``manage.py check`` says why it does not).
    """

    name = "trackcodec.django"
    label = "trackcodec"
    verbose_name = "trackcodec tracking"

    def ready(self) -> None:
        """Register the system check."""
        checks.register(check_settings)


def check_settings(app_configs: Any = None, **kwargs: Any) -> list[checks.CheckMessage]:
    """``trackcodec.E001`` when ``settings.TRACKCODEC`` does not build an endpoint."""
    from trackcodec.django.conf import get_endpoint, get_sink

    try:
        get_endpoint()
        get_sink()
    except (ImproperlyConfigured, ImportError, ValueError, TypeError) as exc:
        return [checks.Error(str(exc), hint="See the TRACKCODEC setting.", id="trackcodec.E001")]
    return []
