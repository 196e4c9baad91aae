"""The compat ``send_webhook`` posts what pytracking's posts, with the same call."""

from __future__ import annotations

import json
from typing import Any
from unittest import mock

import pytest
import pytracking
import pytracking.webhook
from hypothesis import given, settings
from hypothesis import strategies as st

from support import json_payloads
from trackcodec.compat import pytracking as tc
from trackcodec.compat.pytracking import webhook as tc_webhook

WEBHOOK = "https://hooks.example.com/tracking"


def _pytracking_call(result: Any, **kwargs: Any) -> mock._Call:
    with mock.patch("pytracking.webhook.requests.post") as post:
        pytracking.webhook.send_webhook(result, **kwargs)
    assert post.call_count == 1
    return post.call_args


def _trackcodec_call(result: Any, **kwargs: Any) -> mock._Call:
    with mock.patch("trackcodec.compat.pytracking.webhook.requests.post") as post:
        returned = tc_webhook.send_webhook(result, **kwargs)
    assert post.call_count == 1
    assert returned is post.return_value
    return post.call_args


def _results(kind: str, metadata: dict[str, Any], request_data: Any) -> tuple[Any, Any]:
    """A pytracking result and the compat one, decoded from the same URL."""
    options = {
        "base_open_tracking_url": "https://t.example.com/o/",
        "base_click_tracking_url": "https://t.example.com/c/",
        "webhook_url": WEBHOOK,
    }
    if kind == "open":
        url = pytracking.get_open_tracking_url(metadata, **options)
        ours = tc.get_open_tracking_result(url, request_data=request_data, **options)
        theirs = pytracking.get_open_tracking_result(url, request_data=request_data, **options)
    else:
        url = pytracking.get_click_tracking_url(
            "https://shop.example.com/p?id=1", metadata, **options
        )
        ours = tc.get_click_tracking_result(url, request_data=request_data, **options)
        theirs = pytracking.get_click_tracking_result(url, request_data=request_data, **options)
    theirs.timestamp = ours.timestamp  # decoded a moment apart
    return theirs, ours


@pytest.mark.parametrize("kind", ["open", "click"])
def test_same_call_and_json_equal_payload(kind: str) -> None:
    request_data = {"user_agent": "Mozilla/5.0", "user_ip": "203.0.113.9"}
    theirs, ours = _results(kind, {"customer_id": 42, "campaign": "spring"}, request_data)
    expected = _pytracking_call(theirs)
    got = _trackcodec_call(ours)
    assert got.args == expected.args == (WEBHOOK,)
    assert set(got.kwargs) == set(expected.kwargs) == {"json", "timeout"}
    assert got.kwargs["timeout"] == expected.kwargs["timeout"] == 5
    assert json.dumps(got.kwargs["json"], sort_keys=True) == json.dumps(
        expected.kwargs["json"], sort_keys=True
    )
    assert ("tracked_url" in got.kwargs["json"]) == (kind == "click")


@settings(max_examples=40)
@given(
    kind=st.sampled_from(["open", "click"]),
    metadata=json_payloads,
    request_data=st.none() | json_payloads,
)
def test_payloads_equal_for_any_metadata(
    kind: str, metadata: dict[str, Any], request_data: Any
) -> None:
    theirs, ours = _results(kind, metadata, request_data)
    assert _trackcodec_call(ours).kwargs["json"] == _pytracking_call(theirs).kwargs["json"]


def test_timeout_from_configuration_and_kwargs() -> None:
    result = tc.TrackingResult(is_open_tracking=True, webhook_url=WEBHOOK, metadata={}, timestamp=1)
    configuration = tc.Configuration(webhook_timeout_seconds=2.5)
    assert _trackcodec_call(result, configuration=configuration).kwargs["timeout"] == 2.5
    got = _trackcodec_call(result, configuration=configuration, webhook_timeout_seconds=9)
    assert got.kwargs["timeout"] == 9
    expected = _pytracking_call(
        pytracking.TrackingResult(is_open_tracking=True, webhook_url=WEBHOOK, metadata={}),
        configuration=pytracking.Configuration(webhook_timeout_seconds=2.5),
        webhook_timeout_seconds=9,
    )
    assert expected.kwargs["timeout"] == 9


def test_module_exposes_requests_like_pytracking() -> None:
    assert tc_webhook.requests is pytracking.webhook.requests
