"""``trackcodec events``: run the webhook outbox worker, replay dead letters, show counts.

Registered in the ``trackcodec`` command; needs ``trackcodec[cli,webhooks]``.
"""

from __future__ import annotations

import asyncio
import json
import logging
import signal
import sys
from pathlib import Path

import click

from trackcodec.errors import TrackcodecError
from trackcodec.webhooks._client import AsyncWebhookClient
from trackcodec.webhooks._guard import DestinationPolicy
from trackcodec.webhooks._outbox import Outbox
from trackcodec.webhooks._retry import RetryPolicy
from trackcodec.webhooks._signing import generate_secret
from trackcodec.webhooks._worker import OutboxWorker

__all__ = ["events"]

_outbox_option = click.option(
    "--outbox",
    "outbox_path",
    required=True,
    envvar="TRACKCODEC_OUTBOX",
    type=click.Path(dir_okay=False, path_type=Path),
    help="The outbox SQLite file [env: TRACKCODEC_OUTBOX].",
)


@click.group()
def events() -> None:
    """Deliver tracking events: the webhook outbox."""


@events.command()
@_outbox_option
@click.option(
    "--secret",
    "secrets",
    multiple=True,
    required=True,
    envvar="TRACKCODEC_WEBHOOK_SECRETS",
    help="whsec_ signing secret; repeat to sign with several (rotation) "
    "[env: TRACKCODEC_WEBHOOK_SECRETS, space-separated].",
)
@click.option(
    "--timeout",
    type=click.FloatRange(min=0, min_open=True),
    default=5.0,
    show_default=True,
    help="Seconds per connect/read/write.",
)
@click.option(
    "--max-attempts",
    type=click.IntRange(min=1),
    default=12,
    show_default=True,
    help="Attempts before dead-lettering.",
)
@click.option(
    "--initial-backoff",
    type=click.FloatRange(min=0),
    default=1.0,
    show_default=True,
    help="First retry delay, seconds.",
)
@click.option(
    "--max-backoff",
    type=click.FloatRange(min=0),
    default=3600.0,
    show_default=True,
    help="Longest retry delay, seconds.",
)
@click.option(
    "--jitter",
    type=click.FloatRange(min=0),
    default=1.0,
    show_default=True,
    help="Largest random addition to a delay, seconds.",
)
@click.option(
    "--batch-size",
    type=click.IntRange(min=1),
    default=100,
    show_default=True,
    help="Entries claimed per round.",
)
@click.option(
    "--concurrency",
    type=click.IntRange(min=1),
    default=16,
    show_default=True,
    help="Requests in flight.",
)
@click.option(
    "--lease",
    type=click.FloatRange(min=0, min_open=True),
    default=None,
    help="Seconds a claim lasts [default: ceil(batch-size / concurrency) x 4 x timeout + 30].",
)
@click.option(
    "--poll-interval",
    type=click.FloatRange(min=0, min_open=True),
    default=1.0,
    show_default=True,
    help="Longest idle sleep, seconds.",
)
@click.option(
    "--allow-private-addresses",
    is_flag=True,
    help="Post to loopback, private and link-local addresses too (receivers on your network).",
)
@click.option("-v", "--verbose", count=True, help="Log retries (-v) and deliveries (-vv).")
@click.option(
    "--until-idle",
    is_flag=True,
    help="Exit once nothing is pending (dead and failed entries stay).",
)
def deliver(
    outbox_path: Path,
    secrets: tuple[str, ...],
    timeout: float,
    max_attempts: int,
    initial_backoff: float,
    max_backoff: float,
    jitter: float,
    batch_size: int,
    concurrency: int,
    lease: float | None,
    poll_interval: float,
    allow_private_addresses: bool,
    verbose: int,
    until_idle: bool,
) -> None:
    """Run the worker: post due events, signed, until stopped (SIGINT/SIGTERM).

    Failed and dead events are logged to standard error; -v adds retries.
    """
    secrets = tuple(s for value in secrets for s in value.split())
    retry = RetryPolicy(
        max_attempts=max_attempts, initial=initial_backoff, max_delay=max_backoff, jitter=jitter
    )
    policy = DestinationPolicy(allow_private_addresses=allow_private_addresses)

    async def main() -> None:
        stop = asyncio.Event()
        loop = asyncio.get_running_loop()
        for sig in (signal.SIGINT, signal.SIGTERM):
            loop.add_signal_handler(sig, stop.set)
        outbox = Outbox(outbox_path)
        try:
            async with AsyncWebhookClient(
                secrets, policy=policy, timeout=timeout, max_connections=concurrency
            ) as client:
                worker = OutboxWorker(
                    outbox,
                    client,
                    retry=retry,
                    batch_size=batch_size,
                    concurrency=concurrency,
                    lease=lease,
                    poll_interval=poll_interval,
                )
                await worker.run(stop=stop, until_idle=until_idle)
        finally:
            outbox.close()

    logger = logging.getLogger("trackcodec.webhooks")
    handler = logging.StreamHandler(sys.stderr)
    handler.setFormatter(logging.Formatter("%(asctime)s %(levelname)s %(message)s"))
    logger.addHandler(handler)
    logger.setLevel((logging.WARNING, logging.INFO, logging.DEBUG)[min(verbose, 2)])
    previous_level = logger.level
    try:
        asyncio.run(main())
    except TrackcodecError as exc:
        raise click.UsageError(str(exc)) from exc
    finally:
        logger.removeHandler(handler)
        logger.setLevel(previous_level)


@events.command()
@_outbox_option
@click.option("--include-failed", is_flag=True, help="Replay failed entries (final 4xx) too.")
@click.argument("event_ids", nargs=-1)
def replay(outbox_path: Path, include_failed: bool, event_ids: tuple[str, ...]) -> None:
    """Put dead-lettered events (all, or EVENT_IDS) back to pending."""
    outbox = Outbox(outbox_path)
    try:
        count = outbox.replay(event_ids=event_ids, include_failed=include_failed)
    finally:
        outbox.close()
    click.echo(f"{count} event(s) back to pending")


@events.command()
def secret() -> None:
    """Print a new random signing secret (whsec_...)."""
    click.echo(generate_secret())


@events.command()
@_outbox_option
def status(outbox_path: Path) -> None:
    """Print how many events are pending, delivered, failed and dead (JSON)."""
    outbox = Outbox(outbox_path)
    try:
        click.echo(json.dumps(outbox.counts()))
    finally:
        outbox.close()
