"""Event factories and a store factory shared by the store tests."""

from __future__ import annotations

import math
from typing import Any

from trackcodec.event import TrackingEvent, new_event_id


def event(
    *,
    kind: str = "open",
    timestamp: float = 1_767_225_600.0,  # 2026-01-01T00:00:00Z, an hour and a day boundary
    metadata: dict[str, Any] | None = None,
    **fields: Any,
) -> TrackingEvent:
    """A valid event with a fresh id; keyword arguments override fields."""
    return TrackingEvent(
        id=fields.pop("id", None) or new_event_id(now=timestamp),
        kind=kind,  # type: ignore[arg-type]
        timestamp=timestamp,
        metadata={} if metadata is None else metadata,
        **fields,
    )


def stored_form(value: Any, *, postgres: bool) -> Any:
    """What a store gives back for a value: non-finite floats as their names, and
    (PostgreSQL) U+0000 as U+FFFD."""
    if isinstance(value, str):
        return value.replace("\x00", "\ufffd") if postgres else value
    if isinstance(value, float) and not math.isfinite(value):
        return "NaN" if math.isnan(value) else ("Infinity" if value > 0 else "-Infinity")
    if isinstance(value, dict):
        return {
            stored_form(k, postgres=postgres): stored_form(v, postgres=postgres)
            for k, v in value.items()
        }
    if isinstance(value, list):
        return [stored_form(v, postgres=postgres) for v in value]
    return value


def stored_event(e: TrackingEvent, *, postgres: bool) -> TrackingEvent:
    """The event a store returns for ``e``."""
    data = e.model_dump()
    return TrackingEvent.model_validate(
        {k: v if k == "timestamp" else stored_form(v, postgres=postgres) for k, v in data.items()}
    )
