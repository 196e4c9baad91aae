"""What both SQL stores share: table and column names, the row form of an event."""

from __future__ import annotations

import json
import math
from typing import Any

from trackcodec.event import TrackingEvent

__all__ = [
    "BUCKET_SECONDS",
    "COLUMNS",
    "EVENTS_TABLE",
    "SCHEMA_TABLE",
    "SCHEMA_VERSION",
    "event_row",
    "metadata_json",
    "row_event",
]

EVENTS_TABLE = "trackcodec_events"
SCHEMA_TABLE = "trackcodec_schema"
SCHEMA_VERSION = 1
"""The schema version this release writes (the row of ``trackcodec_schema``)."""

# Column order of the events table; `event_row` and `row_event` follow it.
COLUMNS: tuple[str, ...] = (
    "id",
    "kind",
    "timestamp",
    "tracked_url",
    "metadata",
    "client_ip",
    "user_agent",
    "likely",
    "machine_reason",
    "key_id",
    "legacy",
    "authenticated",
    "webhook_url",
    "issued_at",
    "method",
)

BUCKET_SECONDS: dict[str, int] = {"hour": 3600, "day": 86400}


def _finite(value: Any) -> Any:
    if isinstance(value, float) and not math.isfinite(value):
        return "NaN" if math.isnan(value) else ("Infinity" if value > 0 else "-Infinity")
    if isinstance(value, dict):
        return {k: _finite(v) for k, v in value.items()}
    if isinstance(value, (list, tuple)):
        return [_finite(v) for v in value]
    return value


def metadata_json(metadata: dict[str, Any]) -> str:
    """The stored text of an event's metadata: compact standard JSON, keys as given.

    JSON has no NaN or infinities (and SQL JSON functions refuse them): such
    floats are stored as the strings ``"NaN"``, ``"Infinity"``, ``"-Infinity"``.
    """
    try:
        return json.dumps(metadata, separators=(",", ":"), ensure_ascii=False, allow_nan=False)
    except ValueError:
        return json.dumps(_finite(metadata), separators=(",", ":"), ensure_ascii=False)


def event_row(event: TrackingEvent) -> tuple[Any, ...]:
    """An event as a row of the events table, in `COLUMNS` order."""
    return (
        event.id,
        event.kind,
        event.timestamp,
        event.tracked_url,
        metadata_json(event.metadata),
        event.client_ip,
        event.user_agent,
        event.likely,
        event.machine_reason,
        event.key_id,
        event.legacy,
        event.authenticated,
        event.webhook_url,
        event.issued_at,
        event.method,
    )


def row_event(row: tuple[Any, ...]) -> TrackingEvent:
    """The event of a row read in `COLUMNS` order (metadata as JSON text or decoded)."""
    metadata = row[4]
    if isinstance(metadata, str):
        metadata = json.loads(metadata)
    return TrackingEvent(
        id=str(row[0]),
        kind=row[1],
        timestamp=float(row[2]),
        tracked_url=row[3],
        metadata=metadata,
        client_ip=row[5],
        user_agent=row[6],
        likely=row[7],
        machine_reason=row[8],
        key_id=row[9],
        legacy=bool(row[10]),
        authenticated=bool(row[11]),
        webhook_url=row[12],
        issued_at=row[13],
        method=row[14],
    )
