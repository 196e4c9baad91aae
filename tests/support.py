"""Helpers shared by the test modules (plain module, so scripts can import it too).

Holds the reference payloads, the pydantic model the ``schema`` serializer is
tested with, the fixed key ring of the deterministic tests, the lists of
backend names, helpers that build codecs and raw tokens, and a runner of
scripts in an interpreter where optional dependencies cannot be imported.
"""

from __future__ import annotations

import hashlib
import json
import string
import subprocess
import sys
import textwrap
from functools import cache
from importlib import resources
from itertools import product
from pathlib import Path
from typing import Any, NamedTuple

from hypothesis import strategies as st
from pydantic import BaseModel

from trackcodec import Codec, KeyRing
from trackcodec.codec import b64encode

TESTS_DIR = Path(__file__).resolve().parent
REPO_ROOT = TESTS_DIR.parent
# CI runs from a fresh clone with a copy of shared/ beside the repository.
SHARED_PAYLOADS = REPO_ROOT.parent / "shared" / "bench" / "reference_payloads.json"
# The copy users have: package data, what `trackcodec bench` measures by default.
PACKAGED_PAYLOADS = Path(str(resources.files("trackcodec") / "data" / "reference_payloads.json"))

SERIALIZERS = ("json", "msgpack", "schema")
COMPRESSORS = ("none", "deflate", "deflate-dict", "zstd-dict")
# zlib output is fixed; zstd's may change with the library version: golden-decoded only.
GOLDEN_ENCODE_COMPRESSORS = ("none", "deflate", "deflate-dict")
CIPHERS = ("aes-siv", "xchacha20", "secretbox", "fernet", "hmac", "plain")
DETERMINISTIC_CIPHERS = ("aes-siv", "hmac", "plain")
RANDOMIZED_CIPHERS = ("xchacha20", "secretbox", "fernet")
AUTHENTICATED_CIPHERS = ("aes-siv", "xchacha20", "secretbox", "fernet", "hmac")
ENCRYPTING_CIPHERS = ("aes-siv", "xchacha20", "secretbox", "fernet")
CIPHER_IDS = {"plain": 0, "hmac": 1, "aes-siv": 2, "xchacha20": 3, "secretbox": 4, "fernet": 5}
SERIALIZER_IDS = {"json": 1, "msgpack": 2, "schema": 3}
COMPRESSOR_IDS = {"none": 0, "deflate": 1, "deflate-dict": 2, "zstd-dict": 3}


def reference_payloads_path() -> Path:
    """The reference payloads shipped in the package."""
    return PACKAGED_PAYLOADS


def load_reference_payloads() -> dict[str, dict[str, Any]]:
    """``{"open": ..., "click": ..., "fat": ...}`` without the ``_about`` note."""
    data = json.loads(reference_payloads_path().read_text(encoding="utf-8"))
    return {name: value for name, value in data.items() if not name.startswith("_")}


# -- the model of the schema serializer ---------------------------------------------
# Field order is wire order, and the golden vectors depend on it: never reorder.


class Utm(BaseModel):
    """UTM parameters of the fat reference payload."""

    source: str | None = None
    medium: str | None = None
    campaign: str | None = None
    content: str | None = None


class Meta(BaseModel):
    """Metadata of the reference payloads (``open`` and ``click`` set the first two)."""

    customer_id: int
    campaign: str | None = None
    list_id: int | None = None
    message_id: str | None = None
    variant: str | None = None
    locale: str | None = None
    segment: str | None = None
    link_index: int | None = None
    sent_at: int | None = None
    utm: Utm | None = None


class Payload(BaseModel):
    """A tracking payload: metadata, click target, per-link webhook."""

    metadata: Meta | None = None
    url: str | None = None
    webhook: str | None = None


# -- keys ---------------------------------------------------------------------------


def fixed_secret(key_id: int) -> bytes:
    """A reproducible 32-byte secret for ``key_id``."""
    return hashlib.sha256(b"trackcodec test key %d" % key_id).digest()


FIXED_KEY_IDS = (0, 7, 200)


def fixed_ring(primary: int = 0) -> KeyRing:
    """The fixed ring of deterministic tests: keys 0, 7 and 200."""
    return KeyRing({k: fixed_secret(k) for k in FIXED_KEY_IDS}, primary=primary)


# -- codecs -------------------------------------------------------------------------


class Combo(NamedTuple):
    """One serializer x compressor x cipher combination, by registry name."""

    serializer: str
    compressor: str
    cipher: str

    def __str__(self) -> str:
        return f"{self.serializer}-{self.compressor}-{self.cipher}"


ALL_COMBOS = tuple(Combo(*c) for c in product(SERIALIZERS, COMPRESSORS, CIPHERS))


def make_codec(
    combo: Combo | tuple[str, str, str], keys: KeyRing | None = None, **options: Any
) -> Codec:
    """A codec for ``combo`` on ``keys`` (the fixed ring by default)."""
    serializer, compressor, cipher = combo
    return Codec.from_names(
        serializer=serializer,
        compressor=compressor,
        cipher=cipher,
        keys=fixed_ring() if keys is None else keys,
        model=Payload if serializer == "schema" else None,
        **options,
    )


@cache
def cached_codec(combo: Combo, accept_unauthenticated: bool = False) -> Codec:
    """`make_codec` on the fixed ring, built once per combination."""
    return make_codec(combo, accept_unauthenticated=accept_unauthenticated)


def raw_token(
    body: bytes,
    *,
    serializer_id: int,
    cipher_id: int = 0,
    compressor_id: int = 0,
    key_id: int = 0,
    issued_at: int | None = None,
    seal: Any = None,
) -> str:
    """Build a token by hand around ``body``.

    ``seal`` (a cipher instance) seals ``body`` under the header; without it the
    body is sent as it is (a ``plain`` token when ``cipher_id`` is 0).
    """
    flags = compressor_id | (0x04 if issued_at is not None else 0)
    header = bytes((0x10 | flags, (serializer_id << 4) | cipher_id, key_id))
    if issued_at is not None:
        header += issued_at.to_bytes(4, "big")
    sealed = body if seal is None else seal.seal(body, header=header)
    return b64encode(header + sealed)


# -- Hypothesis strategies ----------------------------------------------------------

utf8_text = st.text(st.characters(codec="utf-8"), max_size=24)
big_ints = st.integers(min_value=2**64, max_value=2**200) | st.integers(
    min_value=-(2**200), max_value=-(2**63) - 1
)
json_scalars = (
    st.none()
    | st.booleans()
    | st.integers()
    | big_ints
    | st.floats(allow_nan=False, allow_infinity=False)
    | utf8_text
)
json_values = st.recursive(
    json_scalars,
    lambda children: (
        st.lists(children, max_size=4) | st.dictionaries(utf8_text, children, max_size=4)
    ),
    max_leaves=12,
)
json_payloads = st.dictionaries(utf8_text, json_values, max_size=6)
"""JSON-like payload mappings that fit default limits (small, at most ~14 levels deep)."""

_short_text = st.text(st.characters(codec="utf-8"), max_size=30)
_optional_text = st.none() | _short_text
_optional_int = st.none() | st.integers() | big_ints

utm_instances = st.builds(
    Utm,
    source=_optional_text,
    medium=_optional_text,
    campaign=_optional_text,
    content=_optional_text,
)


def _model_instances(model: type[BaseModel], fields: dict[str, Any]) -> Any:
    """Instances of ``model`` that set a random subset of its optional fields."""
    required = {name: fields[name] for name, f in model.model_fields.items() if f.is_required()}
    optional = {n: s for n, s in fields.items() if n not in required}
    return st.fixed_dictionaries(required, optional=optional).map(model.model_validate)


meta_instances = _model_instances(
    Meta,
    {
        "customer_id": st.integers() | big_ints,
        "campaign": _optional_text,
        "list_id": _optional_int,
        "message_id": _optional_text,
        "variant": _optional_text,
        "locale": _optional_text,
        "segment": _optional_text,
        "link_index": _optional_int,
        "sent_at": _optional_int,
        "utm": st.none() | utm_instances,
    },
)
payload_instances = _model_instances(
    Payload,
    {"metadata": st.none() | meta_instances, "url": _optional_text, "webhook": _optional_text},
)
"""Instances of `Payload`, with any subset of fields set."""

B64URL_ALPHABET = string.ascii_uppercase + string.ascii_lowercase + string.digits + "-_"
"""The base64url alphabet, in index order."""


_IMPORT_BLOCKER = """\
import importlib.abc
import sys

BLOCKED = set(%r)


class Blocker(importlib.abc.MetaPathFinder):
    def find_spec(self, name, path=None, target=None):
        if name.partition(".")[0] in BLOCKED:
            raise ModuleNotFoundError(f"No module named {name!r}", name=name)
        return None


sys.meta_path.insert(0, Blocker())


def assert_needs_extra(build, extra):
    from trackcodec.errors import MissingDependencyError

    try:
        build()
    except MissingDependencyError as exc:
        assert f"pip install 'trackcodec[{extra}]'" in str(exc), exc
    else:
        raise AssertionError(f"{build} worked without its dependency")
"""


def run_without_packages(blocked: tuple[str, ...], script: str, *args: str) -> None:
    """Run ``script`` where importing the ``blocked`` packages fails; it must print ``ok``.

    The script (dedented) sees ``BLOCKED``, the set of blocked top-level
    names, ``assert_needs_extra(build, extra)`` (``build()`` must raise the
    `MissingDependencyError` naming ``trackcodec[extra]``), and its ``args``
    as ``sys.argv[1:]``.
    """
    source = _IMPORT_BLOCKER % (blocked,) + textwrap.dedent(script)
    result = subprocess.run(  # noqa: S603 (our own interpreter and script)
        [sys.executable, "-c", source, *args],
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )
    assert result.returncode == 0, result.stderr
    assert result.stdout.strip() == "ok"
