"""`trackcodec.compat.pytracking.django` against the real ``pytracking.django``.

The same requests go to pytracking's views and to the drop-ins (both
subclassed to record their ``notify_*`` calls, tests/django_urls.py) with
Django's test Client: same status, body, content type, and the same hook
calls with the same results. Where the drop-in differs on purpose (a target
that is not http(s) is refused; redirects say ``Referrer-Policy``), the
difference is tested explicitly.
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import pytest
import pytracking
import pytracking.django
from django.test import Client, RequestFactory, override_settings

import django_urls
from django_support import PYTRACKING_CONFIGURATION, PYTRACKING_KEY, configure
from trackcodec import RedirectNotAllowed
from trackcodec.compat.pytracking import django as compat
from trackcodec.compat.pytracking import get_configuration

configure()  # Django settings for this module's test Client

TARGET = "https://shop.example.com/p/42?utm_source=mail"
UA = "Mozilla/5.0 (X11; Linux x86_64) Firefox/120.0"


@pytest.fixture(autouse=True)
def _calls() -> Iterator[None]:
    django_urls.CALLS.clear()
    yield
    django_urls.CALLS.clear()


def test_same_public_names() -> None:
    names = {n for n in vars(pytracking.django) if not n.startswith("_")}
    ours = set(compat.__all__)
    assert {
        "TrackingView",
        "OpenTrackingView",
        "ClickTrackingView",
        "get_request_data",
        "get_configuration_from_settings",
        "get_tracking_result",
    } <= ours & names


def _token(url: str) -> str:
    return url.rstrip("/").rsplit("/", 1)[1]


def _both(path_tail: str, **extra: str) -> dict[str, Any]:
    """GET pytracking/<tail> and compat/<tail>; return the responses and the hook calls."""
    client = Client()
    out: dict[str, Any] = {}
    for library in ("pytracking", "compat"):
        django_urls.CALLS.clear()
        response = client.get(f"/{library}/{path_tail}", HTTP_USER_AGENT=UA, **extra)
        out[library] = (response, list(django_urls.CALLS))
    return out


def _comparable(result: Any) -> dict[str, Any]:
    data: dict[str, Any] = result.to_json_dict()._asdict()
    data.pop("timestamp")
    return data


def _same(outcome: dict[str, Any]) -> None:
    (theirs, their_calls), (ours, our_calls) = outcome["pytracking"], outcome["compat"]
    assert ours.status_code == theirs.status_code
    assert ours.content == theirs.content
    assert ours.get("Content-Type") == theirs.get("Content-Type")
    assert ours.get("Location") == theirs.get("Location")
    assert [(hook) for _, hook, _ in our_calls] == [hook for _, hook, _ in their_calls]
    for (_, hook, ours_arg), (_, _, theirs_arg) in zip(our_calls, their_calls, strict=True):
        if hook == "event":
            assert _comparable(ours_arg) == _comparable(theirs_arg)
        else:
            assert isinstance(ours_arg, Exception)
            assert isinstance(theirs_arg, Exception)


@pytest.mark.parametrize("key", [None, PYTRACKING_KEY], ids=["plain", "fernet"])
def test_open_click_and_errors_behave_like_pytracking(key: str | None) -> None:
    settings = {**PYTRACKING_CONFIGURATION, "encryption_bytestring_key": key}
    config = pytracking.Configuration(**settings)
    open_url = pytracking.get_open_tracking_url({"customer_id": 7}, configuration=config)
    click_url = pytracking.get_click_tracking_url(TARGET, {"customer_id": 7}, configuration=config)
    with override_settings(PYTRACKING_CONFIGURATION=settings):
        opened = _both(f"open/{_token(open_url)}")
        _same(opened)
        assert opened["compat"][0].status_code == 200
        assert opened["compat"][0]["Content-Type"] == "image/png"
        event = opened["compat"][1][0][2]
        assert event.request_data == {"user_agent": UA, "user_ip": "127.0.0.1"}
        assert event.metadata == {"site": "example", "customer_id": 7}

        clicked = _both(f"click/{_token(click_url)}")
        _same(clicked)
        assert clicked["compat"][0].status_code == 302
        assert clicked["compat"][0]["Location"] == TARGET
        assert clicked["compat"][0]["Referrer-Policy"] == "no-referrer"

        # A bad token: notify_decoding_error, then 404.
        bad = _both("click/eyJ1cmwiOiAi")  # truncated JSON
        _same(bad)
        assert bad["compat"][0].status_code == 404
        # An open token on the click view: no target, 404 without a hook call.
        no_target = _both(f"click/{_token(open_url)}")
        _same(no_target)
        assert no_target["compat"][0].status_code == 404
        assert no_target["compat"][1] == []
        # The client address through django-ipware, as pytracking.
        forwarded = _both(f"open/{_token(open_url)}", HTTP_X_FORWARDED_FOR="198.51.100.4")
        _same(forwarded)


def test_javascript_targets_are_refused_not_redirected() -> None:
    url = pytracking.get_click_tracking_url(
        "javascript:alert(1)", configuration=pytracking.Configuration(**PYTRACKING_CONFIGURATION)
    )
    outcome = _both(f"click/{_token(url)}")
    theirs, their_calls = outcome["pytracking"]
    ours, our_calls = outcome["compat"]
    # pytracking reports an event, then Django refuses the redirect (400).
    assert theirs.status_code == 400
    assert [hook for _, hook, _ in their_calls] == ["event"]
    # The drop-in reports a decoding error and answers 404.
    assert ours.status_code == 404
    [(_, hook, error)] = our_calls
    assert hook == "error"
    assert isinstance(error, RedirectNotAllowed)


def test_other_methods_as_pytracking() -> None:
    client = Client()
    theirs = client.post("/pytracking/open/abc")
    ours = client.post("/compat/open/abc")
    assert ours.status_code == theirs.status_code == 405
    assert ours["Allow"] == theirs["Allow"]


def test_functions_match_pytracking() -> None:
    request = RequestFactory().get("/", HTTP_USER_AGENT=UA, REMOTE_ADDR="203.0.113.5")
    assert compat.get_request_data(request) == pytracking.django.get_request_data(request)
    config = compat.get_configuration_from_settings()
    assert config.base_open_tracking_url == PYTRACKING_CONFIGURATION["base_open_tracking_url"]
    theirs_config = pytracking.django.get_configuration_from_settings()
    url = pytracking.get_open_tracking_url({"a": 1}, configuration=theirs_config)
    ours = compat.get_tracking_result(request, _token(url), True, config)
    theirs = pytracking.django.get_tracking_result(request, _token(url), True, theirs_config)
    assert _comparable(ours) == _comparable(theirs)
    overridden = compat.get_tracking_result(
        request, _token(url), True, config, default_metadata={"site": "other"}
    )
    assert overridden.metadata == {"site": "other", "a": 1}
    assert get_configuration(config, {}).webhook_url == config.webhook_url
