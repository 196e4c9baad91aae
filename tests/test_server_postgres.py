"""Two ``trackcodec serve`` processes sharing one real PostgreSQL server (several nodes)."""

from __future__ import annotations

import base64
import threading
from pathlib import Path

import pytest

pytest.importorskip("uvicorn", reason="trackcodec[server] is not installed")

from postgres_support import PostgresServer, postgres_server  # noqa: F401 - a fixture
from serve_support import ServeProcess, free_port, get, make_tracker
from trackcodec import Tracker
from trackcodec.stores import PostgresEventStore

TOKEN = "stats-token-postgres"


def _path(url: str) -> str:
    return "/" + url.split("/", 3)[3]


def test_two_nodes_share_one_postgresql_store(
    postgres_server: PostgresServer,  # noqa: F811 - the fixture
    tmp_path: Path,
) -> None:
    dsn = postgres_server.fresh_dsn("serve")
    port_a, port_b = free_port(), free_port()
    keys = make_tracker(port_a).config.keys
    assert keys is not None
    # Tokens are stateless: both nodes only share the keys (and the database).
    tracker_a = make_tracker(port_a, keys.to_string())
    tracker_b: Tracker[object] = make_tracker(port_b, keys.to_string())
    env = {"TRACKCODEC_DATABASE": dsn, "TRACKCODEC_STATS_TOKEN": TOKEN}
    (tmp_path / "a").mkdir()
    (tmp_path / "b").mkdir()
    with (
        ServeProcess(tracker_a, tmp_path / "a", port=port_a, env=env),
        ServeProcess(tracker_b, tmp_path / "b", port=port_b, env=env, args=("--workers", "2")),
    ):
        statuses: list[int] = []

        def hit(tracker: Tracker[object], port: int, node: str, count: int) -> None:
            for n in range(count):
                url = tracker.open_url({"node": node, "n": n})
                statuses.append(get(port, _path(url))[0])
                url = tracker.click_url("https://shop.example.com/", {"node": node, "n": n})
                statuses.append(get(port, _path(url))[0])

        threads = [
            threading.Thread(target=hit, args=(tracker_a, port_a, "a", 30)),
            threading.Thread(target=hit, args=(tracker_b, port_b, "b", 30)),
        ]
        for t in threads:
            t.start()
        for t in threads:
            t.join(120)
        assert sorted(set(statuses)) == [200, 302]
        assert len(statuses) == 120
        # Either node's stats page sees the events of both.
        auth = base64.b64encode(f"x:{TOKEN}".encode()).decode()
        for port in (port_a, port_b):
            status, _, body = get(
                port, "/stats?days=1&group=node", headers={"authorization": f"Basic {auth}"}
            )
            assert status == 200
            assert b"<tr><td>a</td><td>30</td>" in body
            assert b"<tr><td>b</td><td>30</td>" in body
            assert get(port, "/readyz")[0] == 200

    store = PostgresEventStore(dsn)
    try:
        events = list(store.events())
    finally:
        store.close()
    # Every acknowledged request is a stored event, once.
    assert len(events) == 120
    assert len({e.id for e in events}) == 120
    for node in ("a", "b"):
        for kind in ("open", "click"):
            ns = sorted(
                e.metadata["n"] for e in events if e.metadata["node"] == node and e.kind == kind
            )
            assert ns == list(range(30))
