"""Shared fixtures and the Hypothesis profiles of the test suite.

Profiles: ``ci`` (the default; derandomized so that every run tests the same
examples, no deadline because the machines are noisy) and ``dev`` (random
examples, the failure database on). Choose one with ``HYPOTHESIS_PROFILE=dev``.
"""

from __future__ import annotations

import os
import sys
from pathlib import Path
from typing import Any

import pytest
from hypothesis import settings

# Test modules import the helpers of support.py whatever pytest's import mode.
sys.path.insert(0, str(Path(__file__).resolve().parent))

import support
from postgres_support import postgres_server  # noqa: F401 - the fixture, for every module
from trackcodec import KeyRing

settings.register_profile("ci", deadline=None, derandomize=True, database=None, print_blob=True)
settings.register_profile("dev", deadline=None, print_blob=True)
settings.load_profile(os.environ.get("HYPOTHESIS_PROFILE", "ci"))


@pytest.fixture(scope="session")
def reference_payloads() -> dict[str, dict[str, Any]]:
    """The three reference payloads (``open``, ``click``, ``fat``), without ``_about``.

    Read from ``../shared/bench/reference_payloads.json`` beside the repository,
    or from the copy committed under ``tests/data/`` when that is absent.
    """
    return support.load_reference_payloads()


@pytest.fixture(scope="session")
def fixed_keys() -> KeyRing:
    """A fixed key ring (key ids 0, 7 and 200; primary 0) for deterministic tests."""
    return support.fixed_ring()


@pytest.fixture(scope="session")
def payload_model() -> type[support.Payload]:
    """The pydantic payload model (``metadata``, ``url``, ``webhook``) for ``schema``."""
    return support.Payload


@pytest.fixture(scope="session")
def meta_model() -> type[support.Meta]:
    """The pydantic model of the reference payloads' ``metadata`` (nested ``utm`` model)."""
    return support.Meta
