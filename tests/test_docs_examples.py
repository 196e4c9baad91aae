"""The examples of the documentation and the README run.

Every ```python block of a page runs in one namespace, and every ```pycon
block is a doctest whose printed output must match. In ```console blocks,
every ``$ trackcodec ...`` command that shows its output runs (through
click's test runner, with the example keys) and must print what the page
shows (``...`` matches anything), so documented output cannot drift.

A page whose examples need an optional package that a test run lacks still runs:
CI installs every extra.
"""

from __future__ import annotations

import doctest
import re
import shlex
import textwrap
from collections.abc import Iterator
from pathlib import Path

import pytest
from click.testing import CliRunner

from trackcodec import compressors, registry
from trackcodec import zstd as tzstd
from trackcodec.cli import main

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
def _restore_registries(monkeypatch: pytest.MonkeyPatch) -> Iterator[None]:
    """Pages register example backends and dictionaries; other tests must not see them."""
    # The registry replaces its tables on registration: put the old ones back.
    for table in ("_serializers", "_compressors", "_ciphers"):
        monkeypatch.setattr(registry, table, getattr(registry, table))
    dictionaries = dict(compressors._DICTIONARIES)
    zstd_tables = [tzstd._registered, tzstd._digested]
    zstd_saved = [dict(table) for table in zstd_tables]
    yield
    compressors._DICTIONARIES.clear()
    compressors._DICTIONARIES.update(dictionaries)
    for table, before in zip(zstd_tables, zstd_saved, strict=True):
        table.clear()
        table.update(before)


def _commands(body: str) -> Iterator[tuple[str, str]]:
    """``(command, shown output)`` pairs of a console block; continuation lines joined."""
    command: str | None = None
    output: list[str] = []
    lines = iter(body.splitlines())
    for line in lines:
        if line.startswith("$ "):
            if command is not None:
                yield command, "\n".join(output)
            command, output = line[2:], []
            while command.endswith("\\"):
                command = command[:-1] + next(lines).strip()
        elif command is not None:
            output.append(line)
    if command is not None:
        yield command, "\n".join(output)


def _run_console(body: str, where: str, env: dict[str, str]) -> int:
    """Run the block's ``trackcodec`` commands that show output; return how many ran."""
    ran = 0
    checker = doctest.OutputChecker()
    flags = doctest.ELLIPSIS | doctest.NORMALIZE_WHITESPACE
    for command, shown in _commands(body):
        stdin = None
        line = command.partition("  #")[0].strip()
        export = re.fullmatch(r"export (\w+)=\$\((.*)\)", line)
        if export:
            line = export.group(2)
        piped = re.fullmatch(r"echo '(.*)' \| (.*)", line)
        if piped:
            stdin, line = piped.group(1) + "\n", piped.group(2)
        args = [
            re.sub(r"\$\{?(\w+)\}?", lambda m: env.get(m.group(1), m.group(0)), arg)
            for arg in shlex.split(line)
        ]
        if args[0] != "trackcodec" or not (shown.strip() or export):
            continue  # a synopsis or a command whose output the page does not show
        result = CliRunner().invoke(main, args[1:], input=stdin, env=env)
        if export:
            env[export.group(1)] = result.stdout.strip()
        if shown.strip():
            got = result.output if result.exit_code == 0 else result.output + "\n"
            assert checker.check_output(shown.strip() + "\n", got.strip() + "\n", flags), (
                f"{where}: `{command}` printed\n{result.output}\ninstead of\n{shown}"
            )
        ran += 1
    return ran


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
        elif lang == "console":
            ran += _run_console(body, where, {"TRACKCODEC_KEYS": EXAMPLE_KEYS})
    assert ran
