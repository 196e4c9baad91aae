"""``trackcodec events``: commands on the event store (``export``).

Imported by the ``trackcodec`` command (``pip install 'trackcodec[cli]'``);
``import trackcodec.stores`` never imports click.
"""

from __future__ import annotations

import csv
import sys
from collections.abc import Iterable, Iterator
from contextlib import contextmanager
from datetime import datetime, timezone
from pathlib import Path
from typing import IO, Any

import click

from trackcodec.errors import TrackcodecError
from trackcodec.event import TrackingEvent
from trackcodec.stores import DEFAULT_SQLITE_PATH, is_postgres, open_store
from trackcodec.stores._base import COLUMNS, metadata_json

__all__ = ["events", "export", "parse_time", "write_csv", "write_jsonl"]


class _InputError(click.ClickException):
    exit_code = 1


def parse_time(text: str) -> float:
    """Unix seconds, or an ISO 8601 date or date-time (UTC when it names no offset).

    Raises:
        ValueError: Neither form.
    """
    try:
        return float(text)
    except ValueError:
        pass
    when = datetime.fromisoformat(text.strip().replace("Z", "+00:00").replace("z", "+00:00"))
    if when.tzinfo is None:
        when = when.replace(tzinfo=timezone.utc)
    return when.timestamp()


def _time_option(ctx: click.Context, param: click.Parameter, value: str | None) -> float | None:
    if value is None:
        return None
    try:
        return parse_time(value)
    except ValueError:
        raise click.BadParameter(
            f"{value!r} is neither Unix seconds nor an ISO 8601 date (2026-01-31T12:00Z)"
        ) from None


def _csv_value(value: Any) -> Any:
    if value is None:
        return ""
    if isinstance(value, bool):
        return "true" if value else "false"
    return value


def write_csv(events: Iterable[TrackingEvent], out: IO[str]) -> int:
    """Write events as CSV (a header row of the store's columns; metadata as JSON).

    Returns:
        The number of events written.
    """
    writer = csv.writer(out, lineterminator="\n")
    writer.writerow(COLUMNS)
    n = 0
    for event in events:
        row = event.model_dump()
        row["metadata"] = metadata_json(event.metadata)
        writer.writerow([_csv_value(row[c]) for c in COLUMNS])
        n += 1
    return n


def write_jsonl(events: Iterable[TrackingEvent], out: IO[str]) -> int:
    """Write events as JSON lines (each line ``TrackingEvent.model_dump_json()``).

    Returns:
        The number of events written.
    """
    n = 0
    for event in events:
        out.write(event.model_dump_json())
        out.write("\n")
        n += 1
    return n


@contextmanager
def _output(path: str) -> Iterator[IO[str]]:
    if path == "-":
        yield sys.stdout
        return
    with open(path, "w", encoding="utf-8", newline="") as f:
        yield f


@click.group()
def events() -> None:
    """Work with the stored tracking events."""


@events.command()
@click.option(
    "--database",
    envvar="TRACKCODEC_DATABASE",
    default="",
    show_default=False,
    help=(
        "A SQLite file or postgresql:// URL "
        f"[env TRACKCODEC_DATABASE; default {DEFAULT_SQLITE_PATH}]."
    ),
)
@click.option(
    "--format",
    "fmt",
    type=click.Choice(["jsonl", "csv"]),
    default="jsonl",
    show_default=True,
    help="JSON lines (one event per line) or CSV (metadata as a JSON column).",
)
@click.option(
    "--since", callback=_time_option, help="Events at or after this time (ISO 8601 or Unix s)."
)
@click.option(
    "--until", callback=_time_option, help="Events before this time (ISO 8601 or Unix s)."
)
@click.option("--kind", type=click.Choice(["open", "click"]), help="Only opens or only clicks.")
@click.option("--limit", type=click.IntRange(min=0), help="At most this many events.")
@click.option("--output", "-o", default="-", show_default=True, help="File to write, - for stdout.")
def export(
    database: str,
    fmt: str,
    since: float | None,
    until: float | None,
    kind: str | None,
    limit: int | None,
    output: str,
) -> None:
    """Export stored events in time order, as CSV or JSON lines.

    Streams: memory does not grow with the number of events. The count goes
    to standard error.
    """
    if not is_postgres(database):
        path = Path(database.removeprefix("sqlite:///") or DEFAULT_SQLITE_PATH)
        if not path.is_file():
            raise _InputError(f"no event database at {path}")
    try:
        store = open_store(database)
    except (TrackcodecError, OSError) as exc:
        raise _InputError(str(exc)) from exc
    except Exception as exc:  # sqlite3 / psycopg errors: a message, not a traceback
        raise _InputError(f"cannot open the event database: {exc}") from exc
    try:
        selected = store.events(since=since, until=until, kind=kind, limit=limit)  # type: ignore[arg-type]
        with _output(output) as out:
            n = (write_csv if fmt == "csv" else write_jsonl)(selected, out)
    finally:
        store.close()
    click.echo(f"exported {n} events", err=True)
