"""`trackcodec.compat.pytracking` against the real ``pytracking`` 0.2.x from PyPI.

Differential tests: the same inputs go through both libraries, and the outputs
must agree: byte-identical URLs in plain mode, cross-decoding both ways in
Fernet mode, the same result fields, the same override rules. Where the
compat module differs on purpose (``append_slash`` is honoured, errors are
also `trackcodec.InvalidToken`), the difference is tested explicitly.
"""

from __future__ import annotations

import inspect
import json
from typing import Any

import cryptography.fernet
import pytest
import pytracking
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

import trackcodec
from support import json_payloads, utf8_text
from trackcodec import KeyRing, Tracker
from trackcodec.compat import pytracking as tc

FERNET_KEY = b"yMjbeGJEiKCqeOGYz6p4M4jXjI9pZ8_Kl6Ip3ynhxbs="
OTHER_FERNET_KEY = b"Vh0ye_VDWgkrT1N0JByy-XU-FKAyflJkeBQ8qzsXiNI="
CLICK_BASE = "https://t.example.com/c/"
OPEN_BASE = "https://t.example.com/o/"
TARGET = "https://shop.example.com/p/42?utm_source=mail"
REQUEST_DATA = {"user_agent": "Mozilla/5.0 (Ünïcode)", "ip": "192.0.2.7"}

# Base URLs with and without trailing slash: pytracking joins with urljoin, so
# "https://t.example.com/track" + token gives "https://t.example.com/<token>".
BASE_URLS = [
    None,
    "https://t.example.com/",
    "https://t.example.com/track/open/",
    "https://t.example.com/track",
    "http://t.example.com",
    "/relative/path/",
    "https://t.example.com/é/",
]

# -- strategies ------------------------------------------------------------------------

_url_letters = st.characters(codec="utf-8", categories=("L", "N"))
_url_text = st.text(_url_letters | st.sampled_from("-._~!$'()*+,;=:@%"), max_size=10)
_hosts = st.lists(
    st.text(st.characters(codec="utf-8", categories=("Ll", "Nd")), min_size=1, max_size=8),
    min_size=1,
    max_size=3,
).map(lambda labels: ".".join([*labels, "example"]))


@st.composite
def target_urls(draw: st.DrawFn) -> str:
    """http(s) URLs with non-ASCII hosts, paths, queries and fragments."""
    scheme = draw(st.sampled_from(["http", "https"]))
    host = draw(_hosts)
    port = draw(st.none() | st.integers(1, 65535))
    path = "/".join(draw(st.lists(_url_text, max_size=4)))
    query = "&".join(
        f"{k}={v}" for k, v in draw(st.lists(st.tuples(_url_text, _url_text), max_size=3))
    )
    fragment = draw(st.none() | _url_text)
    url = f"{scheme}://{host}{'' if port is None else f':{port}'}/{path}"
    if query:
        url += "?" + query
    if fragment is not None:
        url += "#" + fragment
    return url


metadata_values = st.none() | json_payloads


@st.composite
def settings_dicts(draw: st.DrawFn) -> dict[str, Any]:
    """Keyword arguments of pytracking's ``Configuration`` (without a key)."""
    return {
        "base_open_tracking_url": draw(st.sampled_from(BASE_URLS)),
        "base_click_tracking_url": draw(st.sampled_from(BASE_URLS)),
        "webhook_url": draw(st.none() | st.just("https://hooks.example/wébhook")),
        "include_webhook_url": draw(st.booleans()),
        "default_metadata": draw(st.none() | json_payloads),
        "include_default_metadata": draw(st.booleans()),
    }


def result_fields(result: Any) -> dict[str, Any]:
    """A pytracking-style result as a dict, without the decode time."""
    fields = dict(result.to_json_dict()._asdict())
    del fields["timestamp"]
    return fields


def decodable(url: str, base: str | None) -> str:
    """What to hand a decoder: the full URL when pytracking can strip its base
    (base ends with "/", or has no path), else the token."""
    if base is None or url.startswith(base):
        return url
    return url.rpartition("/")[2]


def decode_both(
    kind: str, url: str, pt_config: pytracking.Configuration, tc_config: tc.Configuration
) -> tuple[dict[str, Any], dict[str, Any]]:
    pt_decode = getattr(pytracking, f"get_{kind}_tracking_result")
    tc_decode = getattr(tc, f"get_{kind}_tracking_result")
    return (
        result_fields(pt_decode(url, REQUEST_DATA, configuration=pt_config)),
        result_fields(tc_decode(url, REQUEST_DATA, configuration=tc_config)),
    )


DIFFERENTIAL = settings(max_examples=150, suppress_health_check=[HealthCheck.too_slow])

# -- plain mode: byte-identical URLs ---------------------------------------------------


@DIFFERENTIAL
@given(options=settings_dicts(), metadata=metadata_values, target=target_urls())
def test_plain_mode_is_identical(
    options: dict[str, Any], metadata: dict[str, Any] | None, target: str
) -> None:
    pt_config = pytracking.Configuration(**options)
    tc_config = tc.Configuration(**options)

    pt_open = pytracking.get_open_tracking_url(metadata, configuration=pt_config)
    tc_open = tc.get_open_tracking_url(metadata, configuration=tc_config)
    assert tc_open == pt_open
    pt_click = pytracking.get_click_tracking_url(target, metadata, configuration=pt_config)
    tc_click = tc.get_click_tracking_url(target, metadata, configuration=tc_config)
    assert tc_click == pt_click

    open_form = decodable(pt_open, options["base_open_tracking_url"])
    pt_result, tc_result = decode_both("open", open_form, pt_config, tc_config)
    assert tc_result == pt_result
    assert pt_result["is_open_tracking"] is True
    click_form = decodable(pt_click, options["base_click_tracking_url"])
    pt_result, tc_result = decode_both("click", click_form, pt_config, tc_config)
    assert tc_result == pt_result
    assert pt_result["tracked_url"] == target
    assert pt_result["request_data"] == REQUEST_DATA


@DIFFERENTIAL
@given(options=settings_dicts(), metadata=metadata_values, target=target_urls())
def test_url_path_functions_are_identical(
    options: dict[str, Any], metadata: dict[str, Any] | None, target: str
) -> None:
    options["base_open_tracking_url"] = options["base_open_tracking_url"] or OPEN_BASE
    options["base_click_tracking_url"] = options["base_click_tracking_url"] or CLICK_BASE
    pt_config = pytracking.Configuration(**options)
    tc_config = tc.Configuration(**options)
    for kind, url in (
        ("open", tc.get_open_tracking_url(metadata, configuration=tc_config)),
        ("click", tc.get_click_tracking_url(target, metadata, configuration=tc_config)),
    ):
        name = f"get_{kind}_tracking_url_path"
        pt_path = getattr(pytracking, name)(url, configuration=pt_config)
        assert getattr(tc, name)(url, configuration=tc_config) == pt_path
        # Same through the kwargs form, without a Configuration.
        base = {f"base_{kind}_tracking_url": options[f"base_{kind}_tracking_url"]}
        assert getattr(tc, name)(url, **base) == getattr(pytracking, name)(url, **base)
        if url.startswith(options[f"base_{kind}_tracking_url"]):
            pt_result, tc_result = decode_both(kind, pt_path, pt_config, tc_config)
            assert tc_result == pt_result


# -- Fernet mode: each library decodes the other's URLs --------------------------------


@DIFFERENTIAL
@given(
    options=settings_dicts(),
    metadata=metadata_values,
    target=target_urls(),
    key=st.sampled_from([FERNET_KEY, FERNET_KEY.decode()]),
)
def test_fernet_mode_cross_decodes(
    options: dict[str, Any], metadata: dict[str, Any] | None, target: str, key: str | bytes
) -> None:
    pt_config = pytracking.Configuration(encryption_bytestring_key=key, **options)
    tc_config = tc.Configuration(encryption_bytestring_key=key, **options)
    for kind, args in (("open", (metadata,)), ("click", (target, metadata))):
        pt_url = getattr(pytracking, f"get_{kind}_tracking_url")(*args, configuration=pt_config)
        tc_url = getattr(tc, f"get_{kind}_tracking_url")(*args, configuration=tc_config)
        # Fernet tokens are randomized, but their length depends on the plaintext only.
        assert len(tc_url) == len(pt_url)
        assert tc_url.rpartition("/")[2].startswith("gAAAAA")
        base = options[f"base_{kind}_tracking_url"]
        results = []
        for url in (pt_url, tc_url):
            pt_result, tc_result = decode_both(kind, decodable(url, base), pt_config, tc_config)
            results += [pt_result, tc_result]
        assert all(result == results[0] for result in results)
        if kind == "click":
            assert results[0]["tracked_url"] == target


def test_fernet_key_from_the_other_library() -> None:
    key = cryptography.fernet.Fernet.generate_key()
    url = tc.get_click_tracking_url(
        TARGET, {"a": 1}, base_click_tracking_url=CLICK_BASE, encryption_bytestring_key=key
    )
    result = pytracking.get_click_tracking_result(
        url, base_click_tracking_url=CLICK_BASE, encryption_bytestring_key=key
    )
    assert (result.tracked_url, result.metadata) == (TARGET, {"a": 1})


# -- configuration= plus **kwargs ------------------------------------------------------

_override_values: dict[str, st.SearchStrategy[Any]] = {
    "base_open_tracking_url": st.sampled_from(BASE_URLS),
    "base_click_tracking_url": st.sampled_from(BASE_URLS),
    "webhook_url": st.none() | st.just("https://hooks.example/other"),
    "include_webhook_url": st.booleans(),
    "default_metadata": st.none() | json_payloads,
    "include_default_metadata": st.booleans(),
    "append_slash": st.booleans(),
    "encryption_bytestring_key": st.none(),
    "webhook_timeout_seconds": st.floats(0.1, 10),
    "encryption_key": st.just(b"ignored by pytracking"),
    "not_a_setting": st.integers(),
    "encoding": st.sampled_from(["utf-8", "latin-1"]),
}


@DIFFERENTIAL
@given(
    options=settings_dicts(),
    overrides=st.fixed_dictionaries({}, optional=_override_values),
    with_configuration=st.booleans(),
    metadata=metadata_values,
    target=target_urls(),
)
def test_override_rules_are_identical(
    options: dict[str, Any],
    overrides: dict[str, Any],
    with_configuration: bool,
    metadata: dict[str, Any] | None,
    target: str,
) -> None:
    pt_config = pytracking.Configuration(**options) if with_configuration else None
    tc_config = tc.Configuration(**options) if with_configuration else None
    pt_click = pytracking.get_click_tracking_url(
        target, metadata, configuration=pt_config, **overrides
    )
    assert (
        tc.get_click_tracking_url(target, metadata, configuration=tc_config, **overrides)
        == pt_click
    )
    pt_open = pytracking.get_open_tracking_url(metadata, configuration=pt_config, **overrides)
    assert tc.get_open_tracking_url(metadata, configuration=tc_config, **overrides) == pt_open

    if not overrides.get("append_slash"):  # pytracking cannot read its own trailing slash
        base = overrides.get("base_click_tracking_url", options["base_click_tracking_url"])
        if not with_configuration:
            base = overrides.get("base_click_tracking_url")
        form = decodable(pt_click, base)
        pt_result = pytracking.get_click_tracking_result(form, configuration=pt_config, **overrides)
        tc_result = tc.get_click_tracking_result(form, configuration=tc_config, **overrides)
        assert result_fields(tc_result) == result_fields(pt_result)

    # Neither library changes the configuration it was given.
    if with_configuration:
        assert tc_config is not None
        assert pt_config is not None
        for name, value in options.items():
            assert getattr(tc_config, name) == value == getattr(pt_config, name)
        assert tc_config.append_slash is False


def test_kwargs_win_over_configuration() -> None:
    for module in (pytracking, tc):
        config = module.Configuration(base_click_tracking_url="https://a.example/c/")
        url = module.get_click_tracking_url(
            TARGET, configuration=config, base_click_tracking_url="https://b.example/c/"
        )
        assert url.startswith("https://b.example/c/")
        assert config.base_click_tracking_url == "https://a.example/c/"


def test_kwargs_switch_fernet_on_and_off() -> None:
    for module in (pytracking, tc):
        plain = module.Configuration(base_click_tracking_url=CLICK_BASE)
        url = module.get_click_tracking_url(
            TARGET, configuration=plain, encryption_bytestring_key=FERNET_KEY
        )
        assert url.startswith(CLICK_BASE + "gAAAAA")
        keyed = module.Configuration(
            base_click_tracking_url=CLICK_BASE, encryption_bytestring_key=FERNET_KEY
        )
        url = module.get_click_tracking_url(
            TARGET, configuration=keyed, encryption_bytestring_key=None
        )
        assert url.startswith(CLICK_BASE + "eyJ")
        assert keyed.encryption_bytestring_key == FERNET_KEY


def test_unknown_constructor_kwargs_are_kept() -> None:
    for module in (pytracking, tc):
        config = module.Configuration(base_click_tracking_url=CLICK_BASE, custom=1)
        assert config.kwargs == {"custom": 1}


# -- public surface --------------------------------------------------------------------


def test_every_public_name_exists() -> None:
    for name in pytracking.__all__:
        assert hasattr(tc, name), name


def _parameters(function: Any) -> list[tuple[str, Any, Any]]:
    return [(p.name, p.kind, p.default) for p in inspect.signature(function).parameters.values()]


@pytest.mark.parametrize(
    "name",
    [
        "get_open_tracking_url",
        "get_click_tracking_url",
        "get_open_tracking_result",
        "get_click_tracking_result",
        "get_open_tracking_url_path",
        "get_click_tracking_url_path",
        "get_open_tracking_pixel",
    ],
)
def test_same_function_signatures(name: str) -> None:
    assert _parameters(getattr(tc, name)) == _parameters(getattr(pytracking, name))


@pytest.mark.parametrize("name", ["Configuration", "TrackingResult"])
def test_same_class_signatures(name: str) -> None:
    assert _parameters(getattr(tc, name).__init__) == _parameters(
        getattr(pytracking, name).__init__
    )


@pytest.mark.parametrize(
    "name",
    [
        "merge_with_kwargs",
        "get_data_to_embed",
        "get_url_encoded_data_str",
        "get_open_tracking_url_from_data_str",
        "get_click_tracking_url_from_data_str",
        "get_open_tracking_url",
        "get_click_tracking_url",
        "get_tracking_result",
        "get_click_tracking_url_path",
        "get_open_tracking_url_path",
    ],
)
def test_same_configuration_methods(name: str) -> None:
    assert _parameters(getattr(tc.Configuration, name)) == _parameters(
        getattr(pytracking.Configuration, name)
    )


def test_constants_and_pixel() -> None:
    assert tc.TRACKING_PIXEL == pytracking.TRACKING_PIXEL
    assert tc.PNG_MIME_TYPE == pytracking.PNG_MIME_TYPE == "image/png"
    assert tc.DEFAULT_TIMEOUT_SECONDS == pytracking.DEFAULT_TIMEOUT_SECONDS
    pixel, mime = tc.get_open_tracking_pixel()
    assert (pixel, mime) == pytracking.get_open_tracking_pixel()
    assert pixel.startswith(b"\x89PNG\r\n\x1a\n")
    assert mime == "image/png"


def test_str_forms() -> None:
    options = {"base_open_tracking_url": OPEN_BASE, "webhook_url": "https://hooks.example/"}
    assert str(tc.Configuration(**options)) == str(pytracking.Configuration(**options))
    fields = {"is_click_tracking": True, "tracked_url": TARGET, "metadata": {"a": 1}}
    assert str(tc.TrackingResult(**fields)) == str(pytracking.TrackingResult(**fields))
    assert (
        tc.TrackingResult(**fields).to_json_dict()
        == pytracking.TrackingResult(**fields).to_json_dict()
    )


def test_result_to_json_dict_is_json() -> None:
    url = tc.get_click_tracking_url(TARGET, {"é": [1, {"x": None}]}, base_click_tracking_url="")
    result = tc.get_click_tracking_result(url, request_data=REQUEST_DATA)
    data = result.to_json_dict()
    assert data._fields == pytracking.tracking.TrackingResultJSON._fields
    assert json.loads(json.dumps(data))[:6] == [
        False,
        True,
        TARGET,
        None,
        {"é": [1, {"x": None}]},
        REQUEST_DATA,
    ]


# -- the documented fix: append_slash ---------------------------------------------------


@settings(max_examples=100)
@given(metadata=metadata_values, target=target_urls())
def test_append_slash_is_honoured(metadata: dict[str, Any] | None, target: str) -> None:
    options = {"base_open_tracking_url": OPEN_BASE, "base_click_tracking_url": CLICK_BASE}
    pt_config = pytracking.Configuration(append_slash=True, **options)
    tc_config = tc.Configuration(append_slash=True, **options)
    assert pt_config.append_slash is False  # pytracking ignores it...
    assert tc_config.append_slash is True  # ...the compat module does not.
    pt_url = pytracking.get_click_tracking_url(target, metadata, configuration=pt_config)
    tc_url = tc.get_click_tracking_url(target, metadata, configuration=tc_config)
    assert tc_url == pt_url + "/"
    expected = result_fields(
        pytracking.get_click_tracking_result(pt_url, REQUEST_DATA, configuration=pt_config)
    )
    for url in (tc_url, tc_url[len(CLICK_BASE) - 1 :], tc_url[len(CLICK_BASE) :]):
        result = tc.get_click_tracking_result(url, REQUEST_DATA, configuration=tc_config)
        assert result_fields(result) == expected
    opened = tc.get_open_tracking_url(metadata, configuration=tc_config)
    assert opened.endswith("/")
    assert tc.get_open_tracking_result(opened, configuration=tc_config).metadata == (metadata or {})
    tracker = Tracker(
        base_click_tracking_url=CLICK_BASE, keys=KeyRing.generate(), accept_legacy="plain"
    )
    assert tracker.parse_click(tc_url).tracked_url == target


def test_append_slash_in_fernet_mode() -> None:
    config = tc.Configuration(
        base_click_tracking_url=CLICK_BASE, encryption_bytestring_key=FERNET_KEY, append_slash=True
    )
    url = tc.get_click_tracking_url(TARGET, {"a": 1}, configuration=config)
    assert url.endswith("/")
    assert "/" not in url[len(CLICK_BASE) : -1]
    assert tc.get_click_tracking_result(url, configuration=config).tracked_url == TARGET
    pt_config = pytracking.Configuration(
        base_click_tracking_url=CLICK_BASE, encryption_bytestring_key=FERNET_KEY
    )
    assert pytracking.get_click_tracking_result(url[:-1], configuration=pt_config).metadata == {
        "a": 1
    }


# -- errors ----------------------------------------------------------------------------

GARBAGE = ["", "!!!", "eyJhbGciOi", "not-a-token", "gAAAAA" + "A" * 100, "eyJ1cmwiOiAx"]


@pytest.mark.parametrize("token", GARBAGE)
def test_plain_mode_errors(token: str) -> None:
    with pytest.raises(tc.InvalidLegacyToken) as info:
        tc.get_click_tracking_result(CLICK_BASE + token, base_click_tracking_url=CLICK_BASE)
    assert isinstance(info.value, trackcodec.InvalidToken)
    assert isinstance(info.value, ValueError)


def raises_value_error(call: Any, *args: Any, **kwargs: Any) -> bool:
    """Whether ``call`` raises something an ``except ValueError`` clause catches."""
    try:
        call(*args, **kwargs)
    except ValueError:
        return True
    return False


def test_plain_mode_errors_are_caught_where_pytracking_errors_were() -> None:
    for token in ("!!!", "eyJhbGciOi", "not-a-token"):
        assert raises_value_error(pytracking.get_click_tracking_result, token)
        assert raises_value_error(tc.get_click_tracking_result, token)


@pytest.mark.parametrize("token", [*GARBAGE, "TAMPERED", "OTHER-KEY"])
def test_fernet_mode_errors(token: str) -> None:
    config = tc.Configuration(
        base_click_tracking_url=CLICK_BASE, encryption_bytestring_key=FERNET_KEY
    )
    pt_config = pytracking.Configuration(
        base_click_tracking_url=CLICK_BASE, encryption_bytestring_key=FERNET_KEY
    )
    if token == "TAMPERED":
        good = tc.get_click_tracking_url(TARGET, configuration=config)[len(CLICK_BASE) :]
        token = good[:20] + ("A" if good[20] != "A" else "B") + good[21:]
    elif token == "OTHER-KEY":
        token = tc.get_click_tracking_url(
            TARGET, base_click_tracking_url="", encryption_bytestring_key=OTHER_FERNET_KEY
        )
    with pytest.raises(tc.InvalidLegacyToken) as info:
        tc.get_click_tracking_result(CLICK_BASE + token, configuration=config)
    assert isinstance(info.value, trackcodec.InvalidToken)
    assert isinstance(info.value, cryptography.fernet.InvalidToken)
    # pytracking raises cryptography's InvalidToken for the same URL.
    with pytest.raises(cryptography.fernet.InvalidToken):
        pytracking.get_click_tracking_result(CLICK_BASE + token, configuration=pt_config)


def test_url_with_base_without_slash_fails_in_both() -> None:
    """pytracking's urljoin drops "track" from "https://t.example.com/track": the
    full URL then does not start with the base, and neither library decodes it."""
    options = {"base_click_tracking_url": "https://t.example.com/track"}
    url = pytracking.get_click_tracking_url(TARGET, **options)
    assert url.startswith("https://t.example.com/eyJ")
    assert raises_value_error(pytracking.get_click_tracking_result, url, **options)
    with pytest.raises(tc.InvalidLegacyToken):
        tc.get_click_tracking_result(url, **options)
    # What a web framework hands over (the path) decodes in both.
    path = "/" + url.rpartition("/")[2]
    assert tc.get_click_tracking_result(path, **options).tracked_url == TARGET
    assert pytracking.get_click_tracking_result(path, **options).tracked_url == TARGET


# -- Tracker reading real pytracking URLs ----------------------------------------------


@settings(max_examples=100, suppress_health_check=[HealthCheck.too_slow])
@given(
    metadata=metadata_values,
    target=target_urls(),
    defaults=st.none() | st.dictionaries(utf8_text, st.integers() | utf8_text, max_size=3),
    include_defaults=st.booleans(),
    mode=st.sampled_from(["plain", "fernet"]),
)
def test_tracker_reads_pytracking_urls(
    fixed_keys: KeyRing,
    metadata: dict[str, Any] | None,
    target: str,
    defaults: dict[str, Any] | None,
    include_defaults: bool,
    mode: str,
) -> None:
    key = FERNET_KEY if mode == "fernet" else None
    pt_config = pytracking.Configuration(
        base_open_tracking_url=OPEN_BASE,
        base_click_tracking_url=CLICK_BASE,
        default_metadata=defaults,
        include_default_metadata=include_defaults,
        encryption_bytestring_key=key,
    )
    tracker = Tracker(
        base_open_tracking_url=OPEN_BASE,
        base_click_tracking_url=CLICK_BASE,
        keys=fixed_keys,
        default_metadata=defaults,
        include_default_metadata=include_defaults,
        accept_legacy=mode,
        legacy_fernet_keys=(FERNET_KEY.decode(),) if key else (),
    )
    click_url = pytracking.get_click_tracking_url(target, metadata, configuration=pt_config)
    expected = pytracking.get_click_tracking_result(click_url, configuration=pt_config)
    for form in (click_url, "/c/" + click_url[len(CLICK_BASE) :], click_url[len(CLICK_BASE) :]):
        result = tracker.parse_click(form)
        assert result.tracked_url == expected.tracked_url == target
        assert result.metadata == expected.metadata
        assert result.legacy is True
        assert result.authenticated is (mode == "fernet")
    open_url = pytracking.get_open_tracking_url(metadata, configuration=pt_config)
    result = tracker.parse(open_url)
    assert result.kind == "open"
    assert (
        result.metadata
        == pytracking.get_open_tracking_result(open_url, configuration=pt_config).metadata
    )


def test_configuration_exposes_fernet_like_pytracking() -> None:
    from cryptography.fernet import Fernet

    key = Fernet.generate_key()
    config = tc.Configuration(encryption_bytestring_key=key)
    assert isinstance(config.encryption_key, Fernet)
    config.cache_encryption_key()
    assert tc.Configuration().encryption_key is None
    token = config.encryption_key.encrypt(b'{"metadata": {"a": 1}}').decode()
    assert tc.get_open_tracking_result(token, configuration=config).metadata == {"a": 1}


@pytest.mark.parametrize("fernet", [False, True])
def test_non_object_metadata_is_an_invalid_token(fernet: bool) -> None:
    from cryptography.fernet import Fernet

    key = Fernet.generate_key() if fernet else None
    config = tc.Configuration(encryption_bytestring_key=key)
    data = {"url": "https://x.example/", "metadata": None}
    token = config.get_url_encoded_data_str(data)
    with pytest.raises(tc.InvalidLegacyToken):
        tc.get_click_tracking_result(token, configuration=config)
