"""Django settings of the Django test modules, configured once per process.

Each Django test module calls `configure()` at import: Django settings can be
configured only once, so they hold what every Django test needs (the
trackcodec app, ``TRACKCODEC``, ``PYTRACKING_CONFIGURATION``) and the tests
change them with ``override_settings``.
"""

from __future__ import annotations

from typing import Any

import django
from django.conf import settings

from endpoint_support import make_tracker

PYTRACKING_KEY = "yMjbeGJEiKCqeOGYz6p4M4jXjI9pZ8_Kl6Ip3ynhxbs="
TRACKCODEC: dict[str, Any] = {
    "base_open_tracking_url": "https://t.example.com/t/o/",
    "base_click_tracking_url": "https://t.example.com/t/c/",
    "keys": make_tracker().config.keys,
    "timestamp": True,
    "accept_legacy": "plain",
}
PYTRACKING_CONFIGURATION: dict[str, Any] = {
    "base_open_tracking_url": "https://t.example.com/pytracking/open/",
    "base_click_tracking_url": "https://t.example.com/pytracking/click/",
    "webhook_url": "https://hooks.example.com/track",
    "default_metadata": {"site": "example"},
}


def configure() -> None:
    """Configure Django for the tests (idempotent)."""
    if settings.configured:
        return
    settings.configure(
        DEBUG=False,
        SECRET_KEY="trackcodec-tests",
        ALLOWED_HOSTS=["testserver", "t.example.com"],
        INSTALLED_APPS=["trackcodec.django"],
        ROOT_URLCONF="django_urls",
        MIDDLEWARE=[],
        DATABASES={},
        USE_TZ=True,
        TRACKCODEC=TRACKCODEC,
        PYTRACKING_CONFIGURATION=PYTRACKING_CONFIGURATION,
    )
    django.setup()
