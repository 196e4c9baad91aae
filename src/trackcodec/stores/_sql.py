"""SQL text shared by the SQLite and PostgreSQL stores (they differ in a few expressions)."""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import Any

from trackcodec.stores._base import BUCKET_SECONDS, COLUMNS, EVENTS_TABLE
from trackcodec.stores.stats import Bucket, Counts, LinkCount, Stats, StatsRow

__all__ = ["Dialect", "Query", "build_stats", "count_query", "events_query", "stats_queries"]

Query = tuple[str, list[Any]]


@dataclass(frozen=True, slots=True)
class Dialect:
    """The expressions that differ between SQLite and PostgreSQL."""

    placeholder: str
    # SQL for "the text of metadata key <placeholder>", and the parameter it takes.
    metadata_text: str
    metadata_param: Callable[[str], str]
    floor: str  # "{}" is replaced by the expression to round down


def _where(
    d: Dialect, since: float | None, until: float | None, kind: str | None
) -> tuple[str, list[Any]]:
    clauses: list[str] = []
    params: list[Any] = []
    if since is not None:
        clauses.append(f"timestamp >= {d.placeholder}")
        params.append(float(since))
    if until is not None:
        clauses.append(f"timestamp < {d.placeholder}")
        params.append(float(until))
    if kind is not None:
        if kind not in ("open", "click"):
            raise ValueError(f"kind must be 'open' or 'click', not {kind!r}")
        clauses.append(f"kind = {d.placeholder}")
        params.append(kind)
    return (" WHERE " + " AND ".join(clauses) if clauses else ""), params


def events_query(
    d: Dialect, since: float | None, until: float | None, kind: str | None, limit: int | None
) -> Query:
    where, params = _where(d, since, until, kind)
    sql = f"SELECT {', '.join(COLUMNS)} FROM {EVENTS_TABLE}{where} ORDER BY timestamp, id"
    if limit is not None:
        if limit < 0:
            raise ValueError(f"limit must be >= 0, not {limit}")
        sql += f" LIMIT {d.placeholder}"
        params.append(int(limit))
    return sql, params


def count_query(d: Dialect, since: float | None, until: float | None, kind: str | None) -> Query:
    where, params = _where(d, since, until, kind)
    return f"SELECT COUNT(*) FROM {EVENTS_TABLE}{where}", params


_COUNTS = (
    "SUM(CASE WHEN kind = 'open' THEN 1 ELSE 0 END), "
    "SUM(CASE WHEN kind = 'click' THEN 1 ELSE 0 END), "
    "COUNT(DISTINCT CASE WHEN kind = 'open' THEN {ident} END), "
    "COUNT(DISTINCT CASE WHEN kind = 'click' THEN {ident} END), "
    "SUM(CASE WHEN kind = 'open' AND likely = 'machine' THEN 1 ELSE 0 END), "
    "SUM(CASE WHEN kind = 'click' AND likely = 'machine' THEN 1 ELSE 0 END)"
)
_PEER = "COALESCE(client_ip, '') || '|' || COALESCE(user_agent, '')"


def stats_queries(
    d: Dialect,
    *,
    since: float | None,
    until: float | None,
    bucket: Bucket,
    group_key: str | None,
    unique_key: str | None,
    top_links: int,
) -> tuple[Query, Query, Query]:
    """The queries for the rows, the totals and the top links of `Stats`."""
    if bucket not in BUCKET_SECONDS:
        raise ValueError(f"bucket must be 'hour' or 'day', not {bucket!r}")
    if top_links < 0:
        raise ValueError(f"top_links must be >= 0, not {top_links}")
    width = BUCKET_SECONDS[bucket]
    where, where_params = _where(d, since, until, None)

    def ident() -> tuple[str, list[Any]]:
        if unique_key is None:
            return _PEER, []
        return f"COALESCE({d.metadata_text}, {_PEER})", [d.metadata_param(unique_key)]

    # Parameters are positional: collect them in the order the text uses them.
    ident_sql, ident_params = ident()
    counts_sql = _COUNTS.format(ident=ident_sql)
    counts_params = ident_params * 2
    start = d.floor.format(f"timestamp / {width}") + f" * {width}"
    if group_key is None:
        group_sql, group_params = "NULL", []
    else:
        group_sql, group_params = d.metadata_text, [d.metadata_param(group_key)]
    rows = (
        f"SELECT {start} AS bucket_start, {group_sql} AS grp, {counts_sql} "
        f"FROM {EVENTS_TABLE}{where} GROUP BY 1, 2 ORDER BY 1, 2",
        [*group_params, *counts_params, *where_params],
    )
    totals = (f"SELECT {counts_sql} FROM {EVENTS_TABLE}{where}", [*counts_params, *where_params])
    link_where = (where + " AND" if where else " WHERE") + " kind = 'click'"
    links = (
        f"SELECT tracked_url, COUNT(*), COUNT(DISTINCT {ident_sql}) FROM {EVENTS_TABLE}"
        f"{link_where} AND tracked_url IS NOT NULL GROUP BY tracked_url "
        f"ORDER BY 2 DESC, 1 LIMIT {d.placeholder}",
        [*ident_params, *where_params, top_links],
    )
    return rows, totals, links


def _counts(values: Sequence[Any]) -> Counts:
    return Counts(*(int(v or 0) for v in values))


def build_stats(
    *,
    bucket: Bucket,
    since: float | None,
    until: float | None,
    rows: Sequence[Sequence[Any]],
    totals: Sequence[Any] | None,
    links: Sequence[Sequence[Any]],
) -> Stats:
    return Stats(
        bucket=bucket,
        since=since,
        until=until,
        rows=[
            StatsRow(
                start=float(r[0]), group=None if r[1] is None else str(r[1]), counts=_counts(r[2:])
            )
            for r in rows
        ],
        totals=_counts(totals) if totals is not None else Counts(),
        top_links=[
            LinkCount(url=str(r[0]), clicks=int(r[1]), unique_clicks=int(r[2])) for r in links
        ],
    )
