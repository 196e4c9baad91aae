"""Regressions of issue 13 (structure, security and privacy): each failed before its fix."""

from __future__ import annotations

import contextlib
import threading
from typing import Any

import pytest
from hypothesis import given
from hypothesis import strategies as st
from pydantic import BaseModel

from support import fixed_ring
from trackcodec import (
    Codec,
    ConfigurationError,
    EncodeError,
    HMACCipher,
    InvalidToken,
    JSONSerializer,
    KeyRing,
    PayloadError,
    RedirectNotAllowed,
    TokenExpired,
    Tracker,
    TrackingConfig,
    TrackingResult,
    UnsupportedToken,
    registry,
)
from trackcodec.ciphers.fernet import decode_fernet_text
from trackcodec.codec import TokenInfo
from trackcodec.wire import b64url_decode, check_nesting

OPEN = "https://t.example.com/o/"
CLICK = "https://t.example.com/c/"
NOW = 1_800_000_000


def tracker(**settings: Any) -> Tracker[dict[str, Any]]:
    return Tracker(
        base_open_tracking_url=OPEN, base_click_tracking_url=CLICK, keys=fixed_ring(), **settings
    )


@pytest.fixture(autouse=True)
def _isolated_registry(monkeypatch: pytest.MonkeyPatch) -> None:
    for table in ("_serializers", "_compressors", "_ciphers"):
        monkeypatch.setattr(registry, table, dict(getattr(registry, table)))


class TenCipher(HMACCipher):
    """An HMAC cipher whose own id is 10."""

    id = 10
    name = "test-ten"


# -- 1. backend ids have one source of truth ------------------------------------------


def test_the_id_comes_from_the_backend() -> None:
    registry.register_cipher("test-ten", TenCipher)
    assert registry.cipher_by_id(10) == ("test-ten", TenCipher)


def test_an_id_that_disagrees_with_the_backend_is_refused() -> None:
    # Before: registered as 9, the codec wrote 10 and no other codec could read it.
    with pytest.raises(ConfigurationError, match="has id 10, not 9"):
        registry.register_cipher("test-ten", TenCipher, id=9)
    assert registry.cipher_by_id(9) is None


def test_built_in_names_and_ids_are_frozen() -> None:
    class Renumbered(HMACCipher):
        id = 11

    with pytest.raises(ConfigurationError, match="built in"):
        registry.register_cipher("hmac", Renumbered)
    assert registry.cipher_by_id(1) == ("hmac", HMACCipher)
    assert registry.cipher_by_id(11) is None


def test_a_factory_whose_cipher_disagrees_with_its_id_does_not_decode() -> None:
    class Twelve(HMACCipher):
        id = 12

    def factory(secret: bytes) -> Any:  # a function has no id: it must be given
        return TenCipher(secret)

    registry.register_cipher("test-fn", factory, id=12)
    token = Codec(keys=fixed_ring(), serializer=JSONSerializer(), cipher=Twelve).encode({"a": 1})
    with pytest.raises(UnsupportedToken, match="has id 10"):
        make_codec_json().decode(token)


def test_a_factory_without_an_id_needs_one() -> None:
    with pytest.raises(ConfigurationError, match="pass id="):
        registry.register_cipher("test-fn", lambda secret: TenCipher(secret))


def make_codec_json() -> Codec:
    return Codec(keys=fixed_ring(), serializer=JSONSerializer(), cipher=HMACCipher)


def test_registering_while_decoding_raises_nothing_undocumented() -> None:
    # Before: registering changed a dict a decoding thread iterated over.
    tokens = [
        Codec(keys=fixed_ring(), serializer=JSONSerializer(), cipher=c).encode({"n": n})
        for n, c in enumerate((HMACCipher, TenCipher))
    ]
    errors: list[BaseException] = []
    stop = threading.Event()

    def decode() -> None:
        while not stop.is_set():
            for token in tokens:
                try:
                    make_codec_json().decode(token)
                except InvalidToken:
                    pass
                except BaseException as exc:
                    errors.append(exc)

    threads = [threading.Thread(target=decode) for _ in range(2)]
    for thread in threads:
        thread.start()
    try:
        for n in range(300):
            kind = type(f"Cipher{n}", (HMACCipher,), {"id": 12 + n % 4, "name": f"t{n}"})
            with contextlib.suppress(ConfigurationError):  # ids repeat: conflicts are fine
                registry.register_cipher(f"test-{n}", kind)
    finally:
        stop.set()
        for thread in threads:
            thread.join()
    assert errors == []


# -- 2. one base64url decoder -------------------------------------------------------------


@pytest.mark.parametrize("text", ["AAAA;", "AA AA", "AAAA*AAA", "A"])
def test_the_one_decoder_refuses_what_urlsafe_b64decode_skipped(text: str) -> None:
    with pytest.raises(ValueError, match="base64url"):
        b64url_decode(text)


def test_a_fernet_token_with_a_stray_character_is_malformed() -> None:
    # Before: characters outside the alphabet were silently dropped.
    with pytest.raises(InvalidToken):
        decode_fernet_text("gAAAAA;" + "A" * 100)


def test_one_walker_for_both_sides() -> None:
    deep: Any = []
    for _ in range(5):
        deep = [deep]
    with pytest.raises(InvalidToken):
        check_nesting({"a": deep}, 3)
    with pytest.raises(TypeError, match="keys must be str"):
        check_nesting({"a": {1: "x"}}, 8, str_keys=True)


# -- 3. the tracker decodes through the public API ---------------------------------------


def test_tracker_decode_token_is_the_codecs_token_info() -> None:
    t = tracker(timestamp=True)
    url = t.click_url("https://shop.example.com/", {"c": 1}, now=NOW)
    info = t.decode_token(t.token_of(url, "click"))
    assert isinstance(info, TokenInfo)
    assert info.payload == t.payload("https://shop.example.com/", {"c": 1})
    result = t.parse_click(url, now=NOW)
    assert (result.issued_at, result.cipher, result.key_id) == (
        info.issued_at,
        info.cipher,
        info.key_id,
    )


# -- 5. immutable after construction -----------------------------------------------------


@pytest.mark.parametrize("name", ["keys", "timestamp", "serializer", "cipher", "limits"])
def test_codec_attributes_are_read_only(name: str) -> None:
    codec = make_codec_json()
    with pytest.raises(AttributeError):
        setattr(codec, name, getattr(codec, name))


def test_default_metadata_cannot_change_through_a_frozen_config() -> None:
    source = {"app": "shop"}
    config = TrackingConfig(default_metadata=source)
    source["app"] = "changed"  # the caller's dict is copied
    assert config.default_metadata == {"app": "shop"}
    with pytest.raises(TypeError, match="frozen"):
        config.default_metadata["app"] = "x"  # type: ignore[index]
    assert config.model_dump()["default_metadata"] == {"app": "shop"}
    assert TrackingConfig(**config.model_dump()) == config


# -- 6. a named encode-side error --------------------------------------------------------


def test_a_refused_click_target_is_an_encode_error() -> None:
    t = tracker(redirect_hosts=("shop.example.com",))
    with pytest.raises(EncodeError) as caught:
        t.click_url("https://evil.example/", {"c": 1})
    assert isinstance(caught.value, ValueError)
    assert not isinstance(caught.value, ConfigurationError)
    assert isinstance(caught.value.__cause__, RedirectNotAllowed)


def test_payload_limits_are_encode_errors() -> None:
    codec = make_codec_json()
    deep: Any = "x"
    for _ in range(40):
        deep = [deep]
    with pytest.raises(EncodeError, match="max_depth"):
        codec.encode({"a": deep})


# -- 7. settings that were dead or missing -----------------------------------------------


def test_payload_size_and_depth_are_settings() -> None:
    t = tracker(max_payload_size=64, max_depth=2)
    assert t.codec.limits.max_payload_size == 64
    assert t.codec.limits.max_depth == 2
    with pytest.raises(EncodeError):
        t.open_url({"a": "x" * 100})
    with pytest.raises(EncodeError):
        t.open_url({"a": [[1]]})
    assert t.with_overrides(max_depth=5).codec.limits.max_depth == 5


_FIELD_VALUES = {
    "kind": st.sampled_from(["open", "click"]),
    "tracked_url": st.none() | st.text(max_size=20),
    "metadata": st.dictionaries(st.text(max_size=5), st.integers(), max_size=3),
    "webhook_url": st.none() | st.text(max_size=20),
    "request_data": st.none() | st.text(max_size=5),
    "timestamp": st.integers(0, 2**32),
    "issued_at": st.none() | st.integers(0, 2**32),
    "serializer": st.none() | st.sampled_from(["json", "msgpack"]),
    "cipher": st.none() | st.sampled_from(["aes-siv", "hmac"]),
    "key_id": st.none() | st.integers(0, 255),
    "authenticated": st.booleans(),
    "legacy": st.booleans(),
}


@given(st.fixed_dictionaries(_FIELD_VALUES))
def test_result_fast_construct(values: dict[str, Any]) -> None:
    # The tracker builds results without validation; it must equal validated construction.
    assert set(values) == set(TrackingResult.model_fields)
    values = {name: values[name] for name in TrackingResult.model_fields}  # the tracker's order
    model = TrackingResult[dict[str, Any]]
    fast = model._from_trusted(dict(values))
    validated = model.model_validate(values)
    assert fast == validated
    assert fast.model_dump() == validated.model_dump()
    assert fast.model_fields_set == validated.model_fields_set
    for name in TrackingResult.model_fields:
        assert getattr(fast, name) == getattr(validated, name)


# -- security and privacy ----------------------------------------------------------------


class Customer(BaseModel):
    email: str
    customer_id: int


def test_payload_errors_never_quote_payload_values() -> None:
    plain = tracker()
    typed = Tracker(plain.config, metadata_model=Customer)
    url = plain.open_url({"email": "jane.doe-secret@example.com", "customer_id": "c-4711-secret"})
    with pytest.raises(PayloadError) as caught:
        typed.parse_open(url)
    message = str(caught.value)
    assert "customer_id" in message
    assert "secret" not in message
    assert "jane" not in message


def test_deserialization_errors_never_quote_payload_values() -> None:
    class Failing(JSONSerializer):
        def loads(self, data: bytes, /) -> dict[str, Any]:
            raise ValueError(f"cannot read {data!r}")

    writer = make_codec_json()
    reader = Codec(keys=fixed_ring(), serializer=Failing(), cipher=HMACCipher)
    with pytest.raises(PayloadError) as caught:
        reader.decode(writer.encode({"email": "jane-secret@example.com"}))
    assert "secret" not in str(caught.value)


def test_issue_times_in_the_future_are_refused_with_a_ttl() -> None:
    t = tracker(ttl=3600)
    ahead = t.open_url({"c": 1}, now=NOW + 600)
    with pytest.raises(TokenExpired, match="future"):
        t.parse_open(ahead, now=NOW)
    assert t.parse_open(t.open_url({"c": 1}, now=NOW + 30), now=NOW).metadata == {"c": 1}
    assert tracker(ttl=3600, clock_skew=900).parse_open(ahead, now=NOW).metadata == {"c": 1}
    codec = Codec(keys=fixed_ring(), serializer=JSONSerializer(), cipher=HMACCipher, timestamp=True)
    token = codec.encode({"a": 1}, now=NOW + 600)
    assert codec.decode(token, now=NOW) == {"a": 1}  # no max_age: no check of either side
    with pytest.raises(TokenExpired):
        codec.decode(token, max_age=60, now=NOW)


def test_parse_open_of_a_click_token_checks_its_target() -> None:
    # Before: parse_open returned a click token's tracked_url without the policy.
    minting = tracker()
    strict = tracker(redirect_hosts=("shop.example.com",))
    good = minting.click_url("https://shop.example.com/p", {"c": 1})
    bad = minting.click_url("https://evil.example/p", {"c": 1})
    result = strict.parse_open(good.replace(CLICK, OPEN))
    assert (result.kind, result.tracked_url) == ("open", "https://shop.example.com/p")
    with pytest.raises(RedirectNotAllowed):
        strict.parse_open(bad.replace(CLICK, OPEN))


def test_key_ring_text_errors_never_show_the_secret() -> None:
    secret = "c2VjcmV0LXNlY3JldC1zZWNyZXQtc2VjcmV0"
    with pytest.raises(ConfigurationError) as caught:
        KeyRing.from_string(f"tck1:0.{secret}*")
    assert secret not in str(caught.value)


def test_a_codec_decodes_with_the_backends_known_when_built() -> None:
    before = make_codec_json()
    registry.register_cipher("test-ten", TenCipher)
    after = make_codec_json()
    token = Codec(keys=fixed_ring(), serializer=JSONSerializer(), cipher=TenCipher).encode({"a": 1})
    assert after.decode(token) == {"a": 1}
    with pytest.raises(UnsupportedToken, match="cipher id 10"):
        before.decode(token)
