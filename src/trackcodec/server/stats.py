"""The ``/stats`` page of ``trackcodec serve``: opens and clicks over time, drawn server-side.

Off unless a ``stats_token`` is configured; then it asks for it (HTTP Basic,
any user name, or ``Authorization: Bearer <token>``). The page is plain HTML
with inline SVG charts, no script, so it works in any browser and behind a
strict Content-Security-Policy.

Query parameters: ``days`` (1-366, default 7), ``bucket`` (``hour`` or
``day``; by default hours up to 2 days), ``group`` (a metadata key to split
by, e.g. ``campaign``), ``unique`` (the metadata key that identifies a
recipient, e.g. ``customer_id``; by default client IP + user agent).
"""

from __future__ import annotations

import base64
import binascii
import hmac
import html
import re
import time
from collections import defaultdict
from collections.abc import Callable, Sequence
from datetime import datetime, timezone
from typing import TYPE_CHECKING

from starlette.concurrency import run_in_threadpool
from starlette.requests import Request
from starlette.responses import HTMLResponse, PlainTextResponse, Response

from trackcodec.stores import Bucket, Counts, Stats, StatsRow

if TYPE_CHECKING:
    from trackcodec.server.app import TrackingServer

__all__ = ["StatsPage", "render_chart", "render_page"]

_KEY = re.compile(r"[A-Za-z0-9_.\-]{1,64}")
_COLORS = ("#2563eb", "#dc2626", "#16a34a", "#9333ea", "#ea580c", "#0891b2", "#6b7280")
_MAX_SERIES = 6
_SECURITY_HEADERS = {
    "cache-control": "no-store",
    "content-security-policy": "default-src 'none'; style-src 'unsafe-inline'; img-src 'self'",
    "x-content-type-options": "nosniff",
    "referrer-policy": "no-referrer",
    "x-frame-options": "DENY",
}


class _BadQuery(ValueError):
    pass


def _query(request: Request) -> tuple[int, Bucket, str | None, str | None]:
    q = request.query_params
    try:
        days = int(q.get("days", "7"))
    except ValueError:
        raise _BadQuery("days must be a whole number") from None
    if not 1 <= days <= 366:
        raise _BadQuery("days must be between 1 and 366")
    bucket_text = q.get("bucket") or ("hour" if days <= 2 else "day")
    if bucket_text not in ("hour", "day"):
        raise _BadQuery("bucket must be hour or day")
    bucket: Bucket = "hour" if bucket_text == "hour" else "day"
    keys: list[str | None] = []
    for name in ("group", "unique"):
        value = q.get(name) or None
        if value is not None and not _KEY.fullmatch(value):
            raise _BadQuery(f"{name} must be a metadata key (letters, digits, _ . -)")
        keys.append(value)
    return days, bucket, keys[0], keys[1]


class StatsPage:
    """The ``/stats`` route of a `TrackingServer` (built only with a ``stats_token``)."""

    def __init__(self, server: TrackingServer) -> None:
        token = server.settings.stats_token
        assert token is not None
        self._token = token.get_secret_value().encode("utf-8")
        self._server = server

    def authorized(self, header: str | None) -> bool:
        """Whether an ``Authorization`` header carries the token (Basic password or Bearer)."""
        if not header:
            return False
        scheme, _, value = header.partition(" ")
        value = value.strip()
        if scheme.lower() == "bearer":
            given = value.encode("utf-8", "replace")
        elif scheme.lower() == "basic":
            try:
                decoded = base64.b64decode(value, validate=True)
            except (binascii.Error, ValueError):
                return False
            given = decoded.partition(b":")[2]
        else:
            return False
        return hmac.compare_digest(given, self._token)

    async def endpoint(self, request: Request) -> Response:
        """Answer ``GET /stats``."""
        if not self.authorized(request.headers.get("authorization")):
            return PlainTextResponse(
                "The stats page needs the stats token.\n",
                status_code=401,
                headers={
                    "www-authenticate": 'Basic realm="trackcodec stats", charset="UTF-8"',
                    "cache-control": "no-store",
                },
            )
        try:
            days, bucket, group, unique = _query(request)
        except _BadQuery as exc:
            return PlainTextResponse(f"{exc}\n", status_code=400, headers=_SECURITY_HEADERS)
        store = self._server.store
        if store is None:
            return PlainTextResponse("starting\n", status_code=503)
        now = time.time()
        step = 3600 if bucket == "hour" else 86400
        until = (now // step + 1) * step
        since = until - days * 86400
        stats = await run_in_threadpool(
            store.stats,
            since=since,
            until=until,
            bucket=bucket,
            group_by_metadata_key=group,
            unique_by_metadata_key=unique,
            top_links=10,
        )
        page = render_page(stats, days=days, group=group, unique=unique, now=now)
        return HTMLResponse(page, headers=_SECURITY_HEADERS)


# -- rendering -------------------------------------------------------------------------

_E = html.escape


def _fmt_time(ts: float, bucket: Bucket) -> str:
    when = datetime.fromtimestamp(ts, tz=timezone.utc)
    return when.strftime("%m-%d %H:00" if bucket == "hour" else "%Y-%m-%d")


def _nice_max(value: int) -> int:
    if value <= 5:
        return 5
    magnitude = int(10 ** (len(str(value)) - 1))
    for factor in (1, 2, 5, 10):
        if value <= factor * magnitude:
            return factor * magnitude
    return value  # pragma: no cover


def render_chart(
    title: str,
    starts: Sequence[float],
    series: Sequence[tuple[str, Sequence[int], bool]],
    bucket: Bucket,
    *,
    width: int = 760,
    height: int = 240,
) -> str:
    """An SVG line chart: one polyline per ``(label, values, dashed)`` over ``starts``.

    Returns:
        The ``<svg>`` element (text, escaped).
    """
    left, right, top, bottom = 48, 40, 28, 44
    plot_w, plot_h = width - left - right, height - top - bottom
    peak = _nice_max(max((max(v, default=0) for _, v, _ in series), default=0))
    n = len(starts)

    def x(i: int) -> float:
        return left + (plot_w * i / (n - 1) if n > 1 else plot_w / 2)

    def y(v: int) -> float:
        return top + plot_h - plot_h * v / peak

    parts = [
        f'<svg xmlns="http://www.w3.org/2000/svg" role="img" width="{width}" '
        f'height="{height}" viewBox="0 0 {width} {height}" aria-label="{_E(title)}">',
        f'<text x="{left}" y="18" font-size="14" font-weight="600">{_E(title)}</text>',
    ]
    for k in range(6):  # the peak is 5, 10, 20, 50...: five whole steps
        v = peak * k // 5
        yy = y(v)
        parts.append(
            f'<line x1="{left}" x2="{width - right}" y1="{yy:.1f}" y2="{yy:.1f}" '
            f'stroke="#e5e7eb"/><text x="{left - 6}" y="{yy + 4:.1f}" font-size="11" '
            f'text-anchor="end" fill="#6b7280">{v}</text>'
        )
    labels = max(1, n // 8)
    for i, start in enumerate(starts):
        if i % labels == 0:
            parts.append(
                f'<text x="{x(i):.1f}" y="{height - bottom + 16}" font-size="10" '
                f'text-anchor="middle" fill="#6b7280">{_E(_fmt_time(start, bucket))}</text>'
            )
    for idx, (label, values, dashed) in enumerate(series):
        color = _COLORS[idx % len(_COLORS)]
        dash = ' stroke-dasharray="5 4"' if dashed else ""
        points = " ".join(f"{x(i):.1f},{y(v):.1f}" for i, v in enumerate(values))
        if n == 1:
            parts.append(f'<circle cx="{x(0):.1f}" cy="{y(values[0]):.1f}" r="3" fill="{color}"/>')
        else:
            parts.append(
                f'<polyline fill="none" stroke="{color}" stroke-width="2"{dash} points="{points}"/>'
            )
        lx = left + 130 * idx
        parts.append(
            f'<line x1="{lx}" x2="{lx + 18}" y1="{height - 10}" y2="{height - 10}" '
            f'stroke="{color}" stroke-width="2"{dash}/><text x="{lx + 22}" '
            f'y="{height - 6}" font-size="11">{_E(label[:18])}</text>'
        )
    parts.append("</svg>")
    return "".join(parts)


def _axis(stats: Stats, since: float, until: float) -> list[float]:
    step = 3600 if stats.bucket == "hour" else 86400
    first = since // step * step
    return [first + i * step for i in range(int((until - first) // step))]


def _series(
    stats: Stats, starts: Sequence[float], kind: str, group: str | None
) -> list[tuple[str, list[int], bool]]:
    index = {s: i for i, s in enumerate(starts)}

    def line(pick: Callable[[Counts], int], rows: Sequence[StatsRow]) -> list[int]:
        values = [0] * len(starts)
        for row in rows:
            i = index.get(row.start)
            if i is not None:
                values[i] += pick(row.counts)
        return values

    opening = kind == "open"
    total: Callable[[Counts], int] = (lambda c: c.opens) if opening else (lambda c: c.clicks)
    if group is None:
        unique: Callable[[Counts], int] = (
            (lambda c: c.unique_opens) if opening else (lambda c: c.unique_clicks)
        )
        machine: Callable[[Counts], int] = (
            (lambda c: c.machine_opens) if opening else (lambda c: c.machine_clicks)
        )
        return [
            ("total", line(total, stats.rows), False),
            ("unique", line(unique, stats.rows), False),
            ("machine", line(machine, stats.rows), True),
        ]
    by_group: dict[str, list[StatsRow]] = defaultdict(list)
    sums: dict[str, int] = defaultdict(int)
    for row in stats.rows:
        name = row.group if row.group is not None else "(none)"
        by_group[name].append(row)
        sums[name] += total(row.counts)
    ranked = sorted(by_group, key=lambda g: (-sums[g], g))
    out = [(g, line(total, by_group[g]), False) for g in ranked[: _MAX_SERIES - 1]]
    rest = [r for g in ranked[_MAX_SERIES - 1 :] for r in by_group[g]]
    if rest:
        out.append(("other", line(total, rest), True))
    return out


def _group_table(stats: Stats, group: str) -> str:
    sums: dict[str, list[int]] = defaultdict(lambda: [0, 0, 0, 0])
    for row in stats.rows:
        name = row.group if row.group is not None else "(none)"
        c = row.counts
        acc = sums[name]
        acc[0] += c.opens
        acc[1] += c.machine_opens
        acc[2] += c.clicks
        acc[3] += c.machine_clicks
    lines = [
        f"<h2>By {_E(group)}</h2><table><tr><th>{_E(group)}</th><th>opens</th>"
        "<th>human</th><th>machine</th><th>clicks</th><th>human</th><th>machine</th></tr>"
    ]
    for name, (o, mo, k, mk) in sorted(sums.items(), key=lambda kv: (-kv[1][0], kv[0])):
        lines.append(
            f"<tr><td>{_E(name)}</td><td>{o}</td><td>{o - mo}</td><td>{mo}</td>"
            f"<td>{k}</td><td>{k - mk}</td><td>{mk}</td></tr>"
        )
    lines.append("</table>")
    return "".join(lines)


def _totals(c: Counts) -> str:
    return (
        "<table><tr><th></th><th>total</th><th>unique</th><th>human</th><th>machine</th></tr>"
        f"<tr><th>opens</th><td>{c.opens}</td><td>{c.unique_opens}</td>"
        f"<td>{c.human_opens}</td><td>{c.machine_opens}</td></tr>"
        f"<tr><th>clicks</th><td>{c.clicks}</td><td>{c.unique_clicks}</td>"
        f"<td>{c.human_clicks}</td><td>{c.machine_clicks}</td></tr></table>"
    )


_STYLE = """
body{font-family:system-ui,-apple-system,Segoe UI,Roboto,sans-serif;margin:24px;color:#111827;
max-width:820px}
h1{font-size:22px;margin:0 0 4px}h2{font-size:16px;margin:24px 0 8px}
p.sub{color:#6b7280;margin:0 0 16px}
table{border-collapse:collapse;font-size:13px}
th,td{padding:4px 10px;border-bottom:1px solid #e5e7eb;text-align:right}
th:first-child,td:first-child{text-align:left}
td.url{max-width:560px;overflow:hidden;text-overflow:ellipsis;white-space:nowrap;text-align:left}
form{margin:8px 0 16px;font-size:13px}input,select{font-size:13px;margin-right:8px}
svg{display:block;margin:8px 0}
"""


def render_page(
    stats: Stats,
    *,
    days: int,
    group: str | None,
    unique: str | None,
    now: float,
) -> str:
    """The whole stats page as HTML (see the module docstring for the parameters)."""
    since = stats.since if stats.since is not None else now - days * 86400
    until = stats.until if stats.until is not None else now
    starts = _axis(stats, since, until)
    unique_label = f"by {unique}" if unique else "by client IP + user agent"
    title_suffix = f" by {group}" if group else ""
    charts = [
        render_chart(
            f"Opens{title_suffix}", starts, _series(stats, starts, "open", group), stats.bucket
        ),
        render_chart(
            f"Clicks{title_suffix}", starts, _series(stats, starts, "click", group), stats.bucket
        ),
    ]
    links = "".join(
        f'<tr><td class="url" title="{_E(link.url)}">{_E(link.url)}</td>'
        f"<td>{link.clicks}</td><td>{link.unique_clicks}</td></tr>"
        for link in stats.top_links
    )
    bucket_options = "".join(
        f'<option value="{b}"{" selected" if b == stats.bucket else ""}>{b}</option>'
        for b in ("hour", "day")
    )
    generated = datetime.fromtimestamp(now, tz=timezone.utc).strftime("%Y-%m-%d %H:%M UTC")
    return (
        '<!doctype html><html lang="en"><head><meta charset="utf-8">'
        '<meta name="viewport" content="width=device-width, initial-scale=1">'
        f"<title>trackcodec stats</title><style>{_STYLE}</style></head><body>"
        "<h1>Tracking stats</h1>"
        f'<p class="sub">Last {days} day(s), per {stats.bucket}, unique {_E(unique_label)}; '
        f"{_E(generated)}</p>"
        '<form method="get" action="stats">'
        f'days <input name="days" type="number" min="1" max="366" value="{days}" size="4">'
        f'bucket <select name="bucket">{bucket_options}</select>'
        f'group by <input name="group" value="{_E(group or "")}" placeholder="campaign">'
        f'unique by <input name="unique" value="{_E(unique or "")}" placeholder="customer_id">'
        '<button type="submit">Show</button></form>'
        f"<h2>Totals</h2>{_totals(stats.totals)}"
        f"{''.join(charts)}"
        f"{_group_table(stats, group) if group else ''}"
        "<h2>Top links</h2><table><tr><th>link</th><th>clicks</th><th>unique</th></tr>"
        f"{links or '<tr><td>no clicks yet</td><td></td><td></td></tr>'}</table>"
        "</body></html>"
    )
