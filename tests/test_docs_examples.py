"""The examples of the documentation and the README run.

Every ```python block of a page runs in one namespace, and every ```pycon
block is a doctest whose printed output must match.

A page whose examples need an optional package that a test run lacks still runs:
CI installs every extra.
"""

from __future__ import annotations

import doctest
import re
import textwrap
from collections.abc import Iterator
from pathlib import Path

import pytest

from trackcodec import compressors, registry
from trackcodec import zstd as tzstd

DOCS = Path(__file__).resolve().parent.parent / "docs"
FENCE = re.compile(r"^([ \t]*)```(\w+)[^\n]*\n(.*?)^\1```", re.M | re.S)
# The public example key the docs use, so that printed tokens are reproducible.
EXAMPLE_KEYS = "tck1:1.PaOhPHhF5o5deCwYi6BUtOU3Jt4QzalvheEHmq3NXf0"
PAGES = sorted(
    page
    for page in [*DOCS.rglob("*.md"), DOCS.parent / "README.md"]
    if any(
        lang in {"python", "pycon"}
        for _, lang, _ in FENCE.findall(page.read_text(encoding="utf-8"))
    )
)


@pytest.fixture(autouse=True)
def _restore_registries() -> Iterator[None]:
    """Pages register example backends and dictionaries; other tests must not see them."""
    tables = [registry._serializers, registry._compressors, registry._ciphers]
    saved = [dict(table) for table in tables]
    dictionaries = dict(compressors._DICTIONARIES)
    zstd_tables = [tzstd._registered, tzstd._digested]
    zstd_saved = [dict(table) for table in zstd_tables]
    yield
    for table, before in zip(tables, saved, strict=True):
        table.clear()
        table.update(before)
    compressors._DICTIONARIES.clear()
    compressors._DICTIONARIES.update(dictionaries)
    for table, before in zip(zstd_tables, zstd_saved, strict=True):
        table.clear()
        table.update(before)


@pytest.mark.parametrize("page", PAGES, ids=lambda p: str(p.relative_to(DOCS.parent)))
def test_page_examples_run(page: Path, monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    monkeypatch.setenv("TRACKCODEC_KEYS", EXAMPLE_KEYS)
    monkeypatch.chdir(tmp_path)
    namespace: dict[str, object] = {"__name__": "__docs__"}
    ran = 0
    for number, (_, lang, body) in enumerate(FENCE.findall(page.read_text(encoding="utf-8"))):
        body = textwrap.dedent(body)
        where = f"{page.name} block {number}"
        if lang == "python":
            exec(compile(body, where, "exec"), namespace)  # noqa: S102 - our own docs
            ran += 1
        elif lang == "pycon":
            test = doctest.DocTestParser().get_doctest(body, namespace, where, str(page), 0)
            runner = doctest.DocTestRunner(
                optionflags=doctest.ELLIPSIS | doctest.NORMALIZE_WHITESPACE
            )
            result = runner.run(test, clear_globs=False)
            namespace.update(test.globs)
            assert result.failed == 0, f"{where}: {result.failed} example(s) failed"
            ran += 1
    assert ran
