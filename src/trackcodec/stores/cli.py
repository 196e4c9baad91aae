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

__all__ = ["export", "parse_time", "write_csv", "write_jsonl"]


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


# What a spreadsheet reads as the start of a formula (OWASP, "CSV injection").
_FORMULA_START = ("=", "+", "-", "@", "\t", "\r")
# Line breaks to str.splitlines() that JSON leaves raw in strings.
_JSONL_BREAKS = str.maketrans({"\x85": "\\u0085", "\u2028": "\\u2028", "\u2029": "\\u2029"})


def _csv_value(value: Any, escape_formulas: bool = True) -> Any:
    if value is None:
        return ""
    if isinstance(value, bool):
        return "true" if value else "false"
    if escape_formulas and isinstance(value, str) and value.startswith(_FORMULA_START):
        return "'" + value
    return value


def write_csv(
    events: Iterable[TrackingEvent], out: IO[str], *, escape_formulas: bool = True
) -> int:
    """Write events as CSV (a header row of the store's columns; metadata as JSON).

    Rows end with CRLF, as RFC 4180 has it.

    Args:
        events: The events.
        out: Where to write.
        escape_formulas: Prefix with ``'`` every text cell that starts with
            ``=``, ``+``, ``-``, ``@``, a tab or a carriage return, so that a
            spreadsheet shows it instead of running it as a formula (the user
            agent, say, is whatever the client sent).

    Returns:
        The number of events written.
    """
    # CRLF (RFC 4180): the writer quotes a field holding a character of the line
    # terminator, so a lone CR in a field (a user agent) cannot end the row.
    writer = csv.writer(out, lineterminator="\r\n")
    writer.writerow(COLUMNS)
    n = 0
    for event in events:
        row = event.model_dump()
        row["metadata"] = metadata_json(event.metadata)
        writer.writerow([_csv_value(row[c], escape_formulas) for c in COLUMNS])
        n += 1
    return n


def write_jsonl(events: Iterable[TrackingEvent], out: IO[str]) -> int:
    """Write events as JSON lines (each line ``TrackingEvent.model_dump_json()``).

    U+0085, U+2028 and U+2029 are written as ``\\u`` escapes (the same JSON),
    so that readers splitting on every Unicode line break (Python's
    ``str.splitlines``) still see one event per line.

    Returns:
        The number of events written.
    """
    n = 0
    for event in events:
        out.write(event.model_dump_json().translate(_JSONL_BREAKS))
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


@click.command()
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
@click.option(
    "--escape-formulas/--no-escape-formulas",
    default=True,
    show_default=True,
    help="CSV: prefix with ' text cells a spreadsheet would run as a formula (=, +, -, @).",
)
def export(
    database: str,
    fmt: str,
    since: float | None,
    until: float | None,
    kind: str | None,
    limit: int | None,
    output: str,
    escape_formulas: bool,
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
            if fmt == "csv":
                n = write_csv(selected, out, escape_formulas=escape_formulas)
            else:
                n = write_jsonl(selected, out)
    finally:
        store.close()
    click.echo(f"exported {n} events", err=True)
