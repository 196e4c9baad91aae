"""Serving a tracking request: trackcodec's endpoint core vs pytracking's Django views.

Per request, on the open and click reference payloads:

- ``core``: `TrackingEndpoint.handle_open` / `handle_click` on an `EndpointRequest`
  (decode, client address, human/machine label, `TrackingEvent`, response),
  default settings (msgpack + deflate + AES-SIV);
- ``trackcodec django``: the same request through `trackcodec.django`'s views
  with Django's test client (signal sent, no receiver);
- ``pytracking django``: the same request through ``pytracking.django``'s
  ``OpenTrackingView`` / ``ClickTrackingView`` with Django's test client,
  Fernet key (as pytracking's docs recommend), no-op hooks.

The ratios say how many times faster than pytracking's views each is.

Run: python benchmarks/bench_endpoint.py [--number N] [--repeats N]
"""

from __future__ import annotations

import argparse
import sys
from typing import Any

import django
import pytracking
from cryptography.fernet import Fernet
from django.conf import settings

from _common import METHOD, interleaved_medians, reference_payloads
from trackcodec import KeyRing, Tracker
from trackcodec.endpoint import EndpointRequest, TrackingEndpoint

BASE = "https://t.example.com"
UA = "Mozilla/5.0 (Macintosh; Intel Mac OS X 14_1) AppleWebKit/605.1.15 (KHTML, like Gecko)"
FERNET_KEY = Fernet.generate_key().decode()
KEYS = KeyRing.generate()
TRACKCODEC = {
    "base_open_tracking_url": f"{BASE}/t/o/",
    "base_click_tracking_url": f"{BASE}/t/c/",
    "keys": KEYS,
}
PYTRACKING = {
    "base_open_tracking_url": f"{BASE}/pytracking/open/",
    "base_click_tracking_url": f"{BASE}/pytracking/click/",
    "encryption_bytestring_key": FERNET_KEY,
}


def configure_django() -> None:
    from django.urls import include, path, re_path
    from pytracking.django import ClickTrackingView, OpenTrackingView

    module = sys.modules[__name__]
    module.urlpatterns = [  # type: ignore[attr-defined]
        path("t/", include("trackcodec.django.urls")),
        re_path(r"^pytracking/open/(?P<path>[\w=-]+)$", OpenTrackingView.as_view()),
        re_path(r"^pytracking/click/(?P<path>[\w=-]+)$", ClickTrackingView.as_view()),
    ]
    settings.configure(
        DEBUG=False,
        SECRET_KEY="bench",
        ALLOWED_HOSTS=["testserver"],
        INSTALLED_APPS=["trackcodec.django"],
        ROOT_URLCONF=module,
        MIDDLEWARE=[],
        TRACKCODEC=TRACKCODEC,
        PYTRACKING_CONFIGURATION=PYTRACKING,
    )
    django.setup()


def path_of(url: str) -> str:
    return url.removeprefix(BASE)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--number", type=int, default=200)
    parser.add_argument("--repeats", type=int, default=7)
    args = parser.parse_args()

    configure_django()
    from django.test import Client

    client = Client(HTTP_USER_AGENT=UA)
    payloads = reference_payloads()
    tracker = Tracker(**TRACKCODEC)
    endpoint = TrackingEndpoint(tracker)
    fernet_config = pytracking.Configuration(**PYTRACKING)
    print(METHOD.format(warmup=2, repeats=args.repeats, number=args.number))
    print(f"python {sys.version.split()[0]}, django {django.get_version()}")
    print()
    print(
        f"{'request':<8} {'core':>10} {'trackcodec django':>18} {'pytracking django':>18}"
        f" {'pyt/core':>9} {'pyt/tc-django':>14}"
    )
    for kind in ("open", "click"):
        payload = payloads[kind]
        metadata = payload["metadata"]
        if kind == "open":
            ours = path_of(tracker.open_url(metadata))
            theirs = path_of(
                pytracking.get_open_tracking_url(metadata, configuration=fernet_config)
            )
            handle = endpoint.handle_open
            expected = 200
        else:
            ours = path_of(tracker.click_url(payload["url"], metadata))
            theirs = path_of(
                pytracking.get_click_tracking_url(
                    payload["url"], metadata, configuration=fernet_config
                )
            )
            handle = endpoint.handle_click
            expected = 302
        request = EndpointRequest("GET", ours, {"user-agent": UA}, "203.0.113.9")

        # Every candidate answers correctly before it is timed.
        assert handle(request).status == expected
        assert client.get(ours).status_code == expected
        assert client.get(theirs).status_code == expected

        candidates: dict[str, Any] = {
            "core": lambda handle=handle, request=request: handle(request),
            "tc-django": lambda ours=ours: client.get(ours),
            "pyt-django": lambda theirs=theirs: client.get(theirs),
        }
        t = interleaved_medians(candidates, number=args.number, repeats=args.repeats)
        print(
            f"{kind:<8} {t['core'] * 1e6:>8.1f}µs {t['tc-django'] * 1e6:>16.1f}µs"
            f" {t['pyt-django'] * 1e6:>16.1f}µs {t['pyt-django'] / t['core']:>8.1f}x"
            f" {t['pyt-django'] / t['tc-django']:>13.2f}x"
        )


if __name__ == "__main__":
    main()
