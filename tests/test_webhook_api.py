"""``trackcodec.webhooks``: its public surface, and its dependencies imported only when used."""

from __future__ import annotations

import inspect
import subprocess
import sys
import textwrap

import trackcodec.webhooks as webhooks


def test_all_is_sorted_and_exactly_the_public_surface() -> None:
    assert webhooks.__all__ == sorted(set(webhooks.__all__))
    public = {
        name
        for name, value in vars(webhooks).items()
        if not name.startswith("_") and not inspect.ismodule(value) and name != "annotations"
    }
    assert public == set(webhooks.__all__)


def test_public_objects_have_docstrings() -> None:
    for name in webhooks.__all__:
        value = getattr(webhooks, name)
        if not (inspect.isclass(value) or inspect.isfunction(value)):
            continue
        assert vars(value).get("__doc__") if inspect.isclass(value) else value.__doc__, name
        if inspect.isclass(value) and not issubclass(value, BaseException):
            for attr, member in vars(value).items():
                if attr.startswith("_"):
                    continue
                if isinstance(member, (classmethod, staticmethod)):
                    member = member.__func__
                if inspect.isfunction(member):
                    assert member.__doc__, f"{name}.{attr}"


_SUBPROCESS = textwrap.dedent(
    """
    import importlib.abc
    import sys

    BLOCKED = {"httpx", "standardwebhooks", "tenacity", "requests"}


    class Blocker(importlib.abc.MetaPathFinder):
        def find_spec(self, name, path=None, target=None):
            if name.partition(".")[0] in BLOCKED:
                raise ModuleNotFoundError(f"No module named {name!r}", name=name)
            return None


    sys.meta_path.insert(0, Blocker())

    import trackcodec
    import trackcodec.cli
    from trackcodec.errors import MissingDependencyError
    from trackcodec.webhooks import (
        AsyncWebhookClient, Outbox, RetryPolicy, WebhookClient, WebhookSigner, WebhookSink,
        generate_secret,
    )

    secret = generate_secret()
    for build, extra in (
        (lambda: WebhookSigner(secret), "webhooks"),
        (lambda: WebhookClient(secret), "webhooks"),
        (lambda: AsyncWebhookClient(secret), "webhooks"),
        (lambda: RetryPolicy().delay(1), "webhooks"),
        (lambda: __import__("trackcodec.compat.pytracking.webhook"), "compat-webhook"),
    ):
        try:
            build()
        except MissingDependencyError as exc:
            assert f"pip install 'trackcodec[{extra}]'" in str(exc), exc
        else:
            raise AssertionError(f"{build} worked without its dependency")

    # Writing to the outbox needs no extra: the endpoint side stays light.
    sink = WebhookSink(sys.argv[1], url="https://hooks.example.com/")
    sink.emit([])
    sink.close()
    loaded = sorted(m for m in sys.modules if m.partition(".")[0] in BLOCKED)
    assert not loaded, loaded
    print("ok")
    """
)


def test_import_and_sink_without_the_webhook_extras(tmp_path: object) -> None:
    result = subprocess.run(  # noqa: S603 (our own interpreter and script)
        [sys.executable, "-c", _SUBPROCESS, str(tmp_path) + "/outbox.sqlite3"],
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )
    assert result.returncode == 0, result.stderr
    assert result.stdout.strip() == "ok"
