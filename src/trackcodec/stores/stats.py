"""What `store.stats()` returns: counts per time bucket, totals, top links."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Literal

__all__ = ["Bucket", "Counts", "LinkCount", "Stats", "StatsRow"]

Bucket = Literal["hour", "day"]
"""The width of a stats bucket (UTC boundaries)."""


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
