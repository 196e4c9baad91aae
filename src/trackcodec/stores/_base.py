"""What both SQL stores share: the columns, the row form of an event, the stats types."""

from __future__ import annotations

import json
import math
from dataclasses import dataclass, field
from typing import Any, Literal

from trackcodec.errors import TrackcodecError
from trackcodec.event import TrackingEvent

__all__ = [
    "COLUMNS",
    "EVENTS_TABLE",
    "SCHEMA_TABLE",
    "SCHEMA_VERSION",
    "Bucket",
    "Counts",
    "LinkCount",
    "SinkOverloaded",
    "Stats",
    "StatsRow",
    "StoreUnavailable",
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

Bucket = Literal["hour", "day"]
BUCKET_SECONDS: dict[str, int] = {"hour": 3600, "day": 86400}


class StoreUnavailable(TrackcodecError):
    """The event store cannot be written to (a ``/readyz`` check fails with it).

    The storage error that says why is chained as ``__cause__``.
    """


class SinkOverloaded(TrackcodecError):
    """A `BatchingSink` queue is full: the event was not accepted.

    Nothing was queued for the event that raised it, so nothing is lost as
    long as the request is not acknowledged (a server answers 503 with
    ``Retry-After``).
    """


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


@dataclass(frozen=True, slots=True)
class Counts:
    """Opens and clicks of a period.

    Attributes:
        opens: Open events.
        clicks: Click events.
        unique_opens: Distinct recipients that opened (see `Stats`).
        unique_clicks: Distinct recipients that clicked.
        machine_opens: Opens classified ``likely="machine"``.
        machine_clicks: Clicks classified ``likely="machine"``.
    """

    opens: int = 0
    clicks: int = 0
    unique_opens: int = 0
    unique_clicks: int = 0
    machine_opens: int = 0
    machine_clicks: int = 0

    @property
    def human_opens(self) -> int:
        """Opens classified ``likely="human"``."""
        return self.opens - self.machine_opens

    @property
    def human_clicks(self) -> int:
        """Clicks classified ``likely="human"``."""
        return self.clicks - self.machine_clicks


@dataclass(frozen=True, slots=True)
class StatsRow:
    """The counts of one time bucket (and one group value, when grouping).

    Attributes:
        start: Start of the bucket, Unix seconds (UTC hour or day boundary).
        group: The value of the grouping metadata key, as text (``None`` when
            not grouping, or for events without that key).
        counts: The counts of the bucket.
    """

    start: float
    group: str | None
    counts: Counts


@dataclass(frozen=True, slots=True)
class LinkCount:
    """Clicks on one tracked URL.

    Attributes:
        url: The click target.
        clicks: Click events.
        unique_clicks: Distinct recipients that clicked it.
    """

    url: str
    clicks: int
    unique_clicks: int


@dataclass(frozen=True, slots=True)
class Stats:
    """What `store.stats()` returns.

    A *recipient* (for the unique counts) is the value of the
    ``unique_by_metadata_key`` metadata key when the query names one and the
    event has it (e.g. a customer id); otherwise the pair client IP + user
    agent. Unique counts of `totals` are distinct over the whole range, so
    they are not the sum of the buckets' unique counts.

    Attributes:
        bucket: ``"hour"`` or ``"day"``.
        since: Start of the range (inclusive), if given.
        until: End of the range (exclusive), if given.
        rows: One row per bucket (and group value), in time order; buckets
            without events are absent.
        totals: Counts over the whole range.
        top_links: The most clicked URLs, most clicks first.
    """

    bucket: Bucket
    since: float | None
    until: float | None
    rows: list[StatsRow] = field(default_factory=list)
    totals: Counts = field(default_factory=Counts)
    top_links: list[LinkCount] = field(default_factory=list)
