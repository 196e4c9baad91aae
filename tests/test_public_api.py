"""``trackcodec.__all__`` is exactly the public surface, sorted, and documented."""

from __future__ import annotations
import __future__

import inspect
import types

import pytest

import trackcodec


def test_all_is_sorted_and_unique() -> None:
    assert len(set(trackcodec.__all__)) == len(trackcodec.__all__)
    assert trackcodec.__all__ == sorted(trackcodec.__all__)


def test_every_name_in_all_resolves() -> None:
    for name in trackcodec.__all__:
        assert hasattr(trackcodec, name), name


def test_all_is_exactly_the_public_surface() -> None:
    public = {
        name
        for name, value in vars(trackcodec).items()
        if not name.startswith("_")
        and not isinstance(value, types.ModuleType)
        and not isinstance(value, __future__._Feature)
    }
    assert public == set(trackcodec.__all__) - {"__version__"}


def test_version() -> None:
    parts = trackcodec.__version__.split(".")
    assert len(parts) == 3
    assert all(part.isdigit() for part in parts)


def test_star_import_gives_the_public_names() -> None:
    namespace: dict[str, object] = {}
    exec("from trackcodec import *", namespace)  # noqa: S102
    assert set(namespace) - {"__builtins__"} == set(trackcodec.__all__)


def _documented_objects() -> list[tuple[str, object]]:
    """Public classes and functions, and the public methods and properties of the classes."""
    found: list[tuple[str, object]] = []
    for name in trackcodec.__all__:
        value = getattr(trackcodec, name)
        if not (inspect.isclass(value) or inspect.isfunction(value)):
            continue  # constants (FORMAT_VERSION, __version__) and type aliases
        found.append((name, value))
        if not inspect.isclass(value) or issubclass(value, BaseException):
            continue
        for attr, member in vars(value).items():
            if attr.startswith("_"):
                continue
            if isinstance(member, (classmethod, staticmethod)):
                member = member.__func__
            if inspect.isfunction(member) or isinstance(member, property):
                found.append((f"{name}.{attr}", member))
    return found


@pytest.mark.parametrize(("name", "obj"), _documented_objects(), ids=lambda v: str(v))
def test_public_objects_have_docstrings(name: str, obj: object) -> None:
    doc = obj.__doc__ if not inspect.isclass(obj) else vars(obj).get("__doc__")
    assert doc, f"{name} has no docstring"
    assert doc.strip(), f"{name} has an empty docstring"


def test_optional_dependencies_are_not_imported_eagerly() -> None:
    # Checked for real in a clean interpreter by tests/test_errors.py; here,
    # at least no public module of the core may import them at module level.
    import ast
    from pathlib import Path

    optional = {"msgpack", "cryptography", "nacl", "backports", "compression"}
    for path in Path(trackcodec.__file__).parent.rglob("*.py"):
        tree = ast.parse(path.read_text(encoding="utf-8"))
        for node in tree.body:
            if isinstance(node, ast.Import):
                names = [alias.name for alias in node.names]
            elif isinstance(node, ast.ImportFrom):
                names = [node.module or ""]
            else:
                continue
            for module in names:
                assert module.partition(".")[0] not in optional, f"{path}: import {module}"
