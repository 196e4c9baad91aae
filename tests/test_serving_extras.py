"""The serving modules and their extras: nothing imported eagerly, clear errors when missing."""

from __future__ import annotations

import subprocess
import sys
import textwrap

import pytest


def run(code: str) -> str:
    result = subprocess.run(  # noqa: S603 - our own interpreter
        [sys.executable, "-c", textwrap.dedent(code)],
        capture_output=True,
        text=True,
        check=True,
        timeout=60,
    )
    return result.stdout.strip()


def test_core_imports_no_framework() -> None:
    out = run(
        """
        import sys
        import trackcodec, trackcodec.endpoint, trackcodec.asgi, trackcodec.wsgi
        heavy = {"django", "flask", "starlette", "python_ipware", "crawlerdetect", "ipware"}
        print(sorted(heavy & set(sys.modules)))
        """
    )
    assert out == "[]"


@pytest.mark.parametrize(
    ("blocked", "statement", "extra"),
    [
        ("django", "import trackcodec.django", "django"),
        ("django", "import trackcodec.compat.pytracking.django", "django"),
        ("flask", "import trackcodec.flask", "flask"),
        ("starlette", "import trackcodec.starlette", "starlette"),
        (
            "python_ipware",
            "import trackcodec.client_ip as m; m.ClientIPResolver(trusted_proxy_count=1)",
            "ipware",
        ),
        (
            "crawlerdetect",
            "import trackcodec.machine as m; m.MachineClassifier(use_crawlerdetect=True)",
            "crawlerdetect",
        ),
    ],
)
def test_missing_extra_names_the_install_line(blocked: str, statement: str, extra: str) -> None:
    out = run(
        f"""
        import sys
        sys.modules[{blocked!r}] = None  # as if not installed
        from trackcodec import MissingDependencyError
        try:
            {statement}
        except MissingDependencyError as exc:
            print(exc)
        """
    )
    assert f"pip install 'trackcodec[{extra}]'" in out
