"""Imports of optional dependencies, with an error that names the extra to install."""

from __future__ import annotations

import importlib
from types import ModuleType

from trackcodec.errors import MissingDependencyError


def require(module: str, *, package: str, extra: str, feature: str) -> ModuleType:
    """Import ``module`` or raise `MissingDependencyError` naming ``extra``."""
    try:
        return importlib.import_module(module)
    except ImportError as exc:
        raise MissingDependencyError(package, extra, feature=feature) from exc
