"""``trackcodec serve``: the click command (registered in the ``trackcodec`` group).

Imported by the ``trackcodec`` command only; it imports uvicorn and Starlette
lazily, when the command runs, so ``trackcodec --help`` works without the
``server`` extra.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import click

from trackcodec.errors import ConfigurationError, MissingDependencyError

__all__ = ["serve"]


@click.command()
@click.option(
    "--config",
    "config_file",
    type=click.Path(exists=True, dir_okay=False, path_type=Path),
    help="TOML file: tracking settings in [trackcodec], server settings in [serve].",
)
@click.option("--keys", metavar="TEXT", help="Key ring text form (better: TRACKCODEC_KEYS).")
@click.option(
    "--model", metavar="MODULE:CLASS", help="pydantic model of the metadata (schema serializer)."
)
@click.option("--host", help="Address to listen on [127.0.0.1].")
@click.option("--port", type=click.IntRange(0, 65535), help="TCP port [8000].")
@click.option("--workers", type=click.IntRange(1, 512), help="Worker processes [1].")
@click.option(
    "--database",
    metavar="URL",
    help="SQLite file (default trackcodec-events.sqlite3) or postgresql:// URL.",
)
@click.option("--open-path", help="Path prefix of open requests [base URL's path, or /o/].")
@click.option("--click-path", help="Path prefix of click requests [base URL's path, or /c/].")
@click.option(
    "--stats-token",
    metavar="TOKEN",
    help="Turn /stats on, behind this password (better: TRACKCODEC_STATS_TOKEN).",
)
@click.option(
    "--ack",
    type=click.Choice(["commit", "queued"]),
    help="Answer after the event is committed [commit], or once it is queued.",
)
@click.option("--header-timeout", type=float, help="Seconds to send a request head [10].")
@click.option("--shutdown-timeout", type=float, help="Seconds SIGTERM waits for requests [30].")
@click.option("--max-connections", type=click.IntRange(min=1), help="Per worker [4096].")
@click.option(
    "--webhook-outbox",
    metavar="FILE",
    help="Also commit events to this webhook outbox (trackcodec events deliver posts them).",
)
@click.option("--metrics/--no-metrics", default=None, help="Serve /metrics [on].")
@click.option(
    "--trusted-proxy-count",
    type=click.IntRange(min=0),
    help="Proxies in front (load balancer, TLS), the peer included: read X-Forwarded-For.",
)
@click.option("--access-log/--no-access-log", default=None, help="Log every request [off].")
@click.option("--log-level", type=click.Choice(["critical", "error", "warning", "info", "debug"]))
def serve(
    config_file: Path | None,
    keys: str | None,
    model: str | None,
    **server_flags: Any,
) -> None:
    """Run the tracking server: pixels and redirects, stored events, /stats, /metrics.

    Events go to a SQLite file in the working directory unless --database
    names another file or a PostgreSQL server (several nodes behind a load
    balancer share one). A request is answered once its event is committed.
    SIGTERM stops it gracefully (exit status 0). Settings come from flags,
    TRACKCODEC_* environment variables (TRACKCODEC_PORT, TRACKCODEC_DATABASE,
    TRACKCODEC_STATS_TOKEN...) and --config, flags first.
    """
    from trackcodec.server.runner import run

    tracking_flags = {"keys": keys}
    try:
        status = run(config_file, tracking_flags, server_flags, model=model)
    except MissingDependencyError as exc:
        raise click.ClickException(str(exc)) from exc
    except ConfigurationError as exc:
        raise click.UsageError(str(exc)) from exc
    raise SystemExit(status)
