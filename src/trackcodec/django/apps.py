"""The Django application config of ``trackcodec.django``."""

from __future__ import annotations

from django.apps import AppConfig


class TrackcodecConfig(AppConfig):
    """``INSTALLED_APPS`` entry ``"trackcodec.django"`` (label ``trackcodec``)."""

    name = "trackcodec.django"
    label = "trackcodec"
    verbose_name = "trackcodec tracking"
