"""``trackcodec events export`` against real SQLite and PostgreSQL stores."""

from __future__ import annotations

import csv
import io
import json
from pathlib import Path

import pytest
from click.testing import CliRunner

from postgres_support import PostgresServer
from store_support import event
from trackcodec.cli import main
from trackcodec.event import TrackingEvent
from trackcodec.stores import PostgresEventStore, SQLiteEventStore
from trackcodec.stores.cli import parse_time

T0 = 1_767_225_600.0  # 2026-01-01T00:00:00Z


def _events() -> list[TrackingEvent]:
    return [
        event(timestamp=T0, metadata={"customer": "alice", "n": [1, 2]}, client_ip="192.0.2.1"),
        event(
            kind="click",
            timestamp=T0 + 60,
            tracked_url="https://example.com/a,b",
            user_agent='Mail "quoted", comma',
            likely="machine",
            machine_reason="link-scanner",
            key_id=7,
            issued_at=1_767_000_000,
        ),
        event(timestamp=T0 + 86400, metadata={"customer": "bob"}, legacy=True, authenticated=False),
    ]


@pytest.fixture
def sqlite_db(tmp_path: Path) -> tuple[str, list[TrackingEvent]]:
    path = tmp_path / "events.sqlite3"
    events = _events()
    with SQLiteEventStore(path) as store:
        store.emit(events)
    return str(path), events


def test_export_jsonl(sqlite_db: tuple[str, list[TrackingEvent]]) -> None:
    database, events = sqlite_db
    result = CliRunner().invoke(main, ["events", "export", "--database", database])
    assert result.exit_code == 0, result.output
    lines = result.stdout.splitlines()
    assert [TrackingEvent.model_validate_json(line) for line in lines] == events
    assert "exported 3 events" in result.stderr


def test_export_csv_round_trips_every_field(sqlite_db: tuple[str, list[TrackingEvent]]) -> None:
    database, events = sqlite_db
    result = CliRunner().invoke(
        main, ["events", "export", "--database", database, "--format", "csv"]
    )
    assert result.exit_code == 0, result.output
    rows = list(csv.DictReader(io.StringIO(result.stdout)))
    assert len(rows) == 3
    for row, e in zip(rows, events, strict=True):
        back = TrackingEvent(
            id=row["id"],
            kind=row["kind"],  # type: ignore[arg-type]
            timestamp=float(row["timestamp"]),
            tracked_url=row["tracked_url"] or None,
            metadata=json.loads(row["metadata"]),
            client_ip=row["client_ip"] or None,
            user_agent=row["user_agent"] or None,
            likely=row["likely"],  # type: ignore[arg-type]
            machine_reason=row["machine_reason"] or None,
            key_id=int(row["key_id"]) if row["key_id"] else None,
            legacy=row["legacy"] == "true",
            authenticated=row["authenticated"] == "true",
            webhook_url=row["webhook_url"] or None,
            issued_at=int(row["issued_at"]) if row["issued_at"] else None,
            method=row["method"],
        )
        assert back == e


def test_export_range_kind_and_file(
    sqlite_db: tuple[str, list[TrackingEvent]], tmp_path: Path
) -> None:
    database, events = sqlite_db
    out = tmp_path / "out.jsonl"
    args = ["events", "export", "--database", database, "-o", str(out)]
    result = CliRunner().invoke(main, [*args, "--since", "2026-01-01T00:00:30Z"])
    assert result.exit_code == 0, result.output
    assert [json.loads(x)["id"] for x in out.read_text().splitlines()] == [
        events[1].id,
        events[2].id,
    ]
    result = CliRunner().invoke(main, [*args, "--until", "2026-01-02", "--kind", "open"])
    assert result.exit_code == 0, result.output
    assert [json.loads(x)["id"] for x in out.read_text().splitlines()] == [events[0].id]
    result = CliRunner().invoke(main, [*args, "--since", str(T0 + 60), "--limit", "1"])
    assert [json.loads(x)["id"] for x in out.read_text().splitlines()] == [events[1].id]


def test_export_reads_the_database_from_the_environment(
    sqlite_db: tuple[str, list[TrackingEvent]],
) -> None:
    database, _ = sqlite_db
    result = CliRunner(env={"TRACKCODEC_DATABASE": database}).invoke(main, ["events", "export"])
    assert result.exit_code == 0, result.output
    assert len(result.stdout.splitlines()) == 3


def test_export_of_a_missing_database_is_an_input_error(tmp_path: Path) -> None:
    missing = tmp_path / "nope.sqlite3"
    result = CliRunner().invoke(main, ["events", "export", "--database", str(missing)])
    assert result.exit_code == 1
    assert "no event database" in result.stderr
    assert not missing.exists()  # exporting never creates a database


def test_export_of_a_file_that_is_not_a_database(tmp_path: Path) -> None:
    junk = tmp_path / "junk.sqlite3"
    junk.write_bytes(b"not a database" * 100)
    result = CliRunner().invoke(main, ["events", "export", "--database", str(junk)])
    assert result.exit_code == 1
    assert "Traceback" not in result.output


@pytest.mark.parametrize("value", ["yesterday", "2026-13-01", ""])
def test_bad_times_are_usage_errors(sqlite_db: tuple[str, list[TrackingEvent]], value: str) -> None:
    database, _ = sqlite_db
    result = CliRunner().invoke(
        main, ["events", "export", "--database", database, "--since", value]
    )
    assert result.exit_code == 2
    assert "ISO 8601" in result.stderr


def test_parse_time() -> None:
    assert parse_time("1767225600") == T0
    assert parse_time("2026-01-01") == T0
    assert parse_time("2026-01-01T01:00:00+01:00") == T0
    assert parse_time("2026-01-01T00:00Z") == T0


def test_export_from_postgres(postgres_server: PostgresServer) -> None:
    dsn = postgres_server.fresh_dsn()
    events = _events()
    with PostgresEventStore(dsn) as store:
        store.emit(events)
    result = CliRunner().invoke(main, ["events", "export", "--database", dsn])
    assert result.exit_code == 0, result.output
    assert [TrackingEvent.model_validate_json(x) for x in result.stdout.splitlines()] == events
