"""Module boundaries: no module reaches into another module's private names.

The rule, checked on the AST of every module of ``src/trackcodec``:

- an underscore *name* (``from trackcodec.codec import _check_depth``, or
  ``registry._ciphers`` on an imported module) is only used from a private
  module of the importer's own package (``from trackcodec.bench._harness
  import _helper`` inside ``trackcodec.bench``);
- a private *module* (``trackcodec.bench._report``) is only imported from
  inside the package that holds it (``trackcodec.bench`` and below).
"""

from __future__ import annotations

import ast
from pathlib import Path

import pytest

import trackcodec

SRC = Path(trackcodec.__file__).parent


def _module_name(path: Path) -> str:
    parts = list(path.relative_to(SRC.parent).with_suffix("").parts)
    if parts[-1] == "__init__":
        parts.pop()
    return ".".join(parts)


def _package_of(module: str, is_package: bool) -> str:
    return module if is_package else module.rpartition(".")[0]


def _private(part: str) -> bool:
    return part.startswith("_") and not (part.startswith("__") and part.endswith("__"))


def _owner_of_private(module: str) -> str | None:
    """The package that owns the first private component of ``module``, if any."""
    parts = module.split(".")
    for index, part in enumerate(parts):
        if _private(part):
            return ".".join(parts[:index])
    return None


def _is_module(name: str) -> bool:
    path = SRC.parent.joinpath(*name.split("."))
    return path.with_suffix(".py").is_file() or (path / "__init__.py").is_file()


def _inside(package: str, owner: str) -> bool:
    return package == owner or package.startswith(owner + ".")


def violations_in(source: str, module: str, is_package: bool) -> list[str]:
    """The boundary violations of one module's source."""
    package = _package_of(module, is_package)
    found: list[str] = []
    aliases: dict[str, str] = {}  # local name -> trackcodec module it names

    def check_module(target: str, line: int) -> None:
        owner = _owner_of_private(target)
        if owner is not None and not _inside(package, owner):
            found.append(f"{module}:{line} imports private module {target}")

    tree = ast.parse(source)
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            for alias in node.names:
                if alias.name.partition(".")[0] != "trackcodec":
                    continue
                check_module(alias.name, node.lineno)
                if alias.asname:
                    aliases[alias.asname] = alias.name
        elif isinstance(node, ast.ImportFrom):
            if node.level:
                base = package.split(".")
                base = base[: len(base) - node.level + 1]
                target = ".".join([*base, *([node.module] if node.module else [])])
            else:
                target = node.module or ""
            if target.partition(".")[0] != "trackcodec":
                continue
            check_module(target, node.lineno)
            for alias in node.names:
                if _private(alias.name) and _is_module(f"{target}.{alias.name}"):
                    check_module(f"{target}.{alias.name}", node.lineno)  # a private submodule
                elif _private(alias.name):
                    source_package = _package_of(target, False)
                    own_helper = _private(target.rpartition(".")[2]) and _inside(
                        package, source_package
                    )
                    if not own_helper:
                        found.append(f"{module}:{node.lineno} imports {alias.name} from {target}")
                else:
                    submodule = f"{target}.{alias.name}"
                    aliases[alias.asname or alias.name] = submodule
        elif (
            isinstance(node, ast.Attribute)
            and isinstance(node.value, ast.Name)
            and node.value.id in aliases
            and _private(node.attr)
        ):
            found.append(f"{module}:{node.lineno} uses {aliases[node.value.id]}.{node.attr}")
    return found


def test_no_module_reaches_into_private_names() -> None:
    found: list[str] = []
    for path in sorted(SRC.rglob("*.py")):
        module = _module_name(path)
        found += violations_in(path.read_text(encoding="utf-8"), module, path.name == "__init__.py")
    assert found == []


@pytest.mark.parametrize(
    ("source", "module", "expected"),
    [
        # What issue 13 found: a private walker imported across modules...
        ("from trackcodec.codec import Codec, _check_depth", "trackcodec.tracking", 1),
        # ...a private helper of another package...
        ("from trackcodec.tracking import _payload_model", "trackcodec.bench._candidates", 1),
        ("from trackcodec.bench._terminal import width", "trackcodec.cli", 1),
        # ...and private state read through a module.
        ("from trackcodec import registry\nregistry._ciphers", "trackcodec.codec", 1),
        ("import trackcodec.registry as r\nr._by_id", "trackcodec.codec", 1),
        # Allowed: a package's own private helpers, public names, the stdlib.
        ("from trackcodec.bench._report import table", "trackcodec.bench.terminal", 0),
        ("from trackcodec._deps import require", "trackcodec.ciphers.aes_siv", 0),
        ("from trackcodec.cli._common import errors", "trackcodec.cli.keys", 0),
        ("from trackcodec.wire import b64decode", "trackcodec.cli._explain", 0),
        ("import hmac as _hmac\n_hmac.digest", "trackcodec.ciphers.hmac", 0),
        # A private submodule named in a from-import: fine inside its package only.
        ("from trackcodec.stores import _sql", "trackcodec.stores.sqlite", 0),
        ("from trackcodec.stores import _sql", "trackcodec.cli.events", 1),
    ],
)
def test_the_rule_catches_reach_ins(source: str, module: str, expected: int) -> None:
    assert len(violations_in(source, module, False)) == expected
