"""The ``trackcodec serve`` ASGI app in process: routes, store, metrics, stats page, settings."""

from __future__ import annotations

import base64
import sqlite3
import threading
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

pytest.importorskip("starlette", reason="trackcodec[server] is not installed")

from starlette.testclient import TestClient

from trackcodec import KeyRing, Tracker
from trackcodec.errors import ConfigurationError
from trackcodec.server import ServerSettings, TrackingServer, load_settings, tracking_paths
from trackcodec.server.stats import render_chart
from trackcodec.stores import SQLiteEventStore

TOKEN = "stats-token-for-tests"


def _tracker() -> Tracker[Any]:
    return Tracker(
        keys=KeyRing.generate(1).to_string(),
        base_open_tracking_url="https://t.example.com/o/",
        base_click_tracking_url="https://t.example.com/c/",
    )


def _path(url: str) -> str:
    return "/" + url.split("/", 3)[3]


@pytest.fixture
def tracker() -> Tracker[Any]:
    return _tracker()


@pytest.fixture
def db(tmp_path: Path) -> Path:
    return tmp_path / "events.sqlite3"


def _client(tracker: Tracker[Any], db: Path, **settings: Any) -> TestClient:
    app = TrackingServer(tracker, ServerSettings(database=str(db), **settings))
    return TestClient(app, raise_server_exceptions=True)


@pytest.fixture
def client(tracker: Tracker[Any], db: Path) -> Iterator[TestClient]:
    with _client(tracker, db, stats_token=TOKEN) as c:
        yield c


def _stored(db: Path) -> list[tuple[str, str, str | None]]:
    with sqlite3.connect(db) as conn:
        return conn.execute(
            "SELECT kind, metadata, tracked_url FROM trackcodec_events ORDER BY timestamp"
        ).fetchall()


# -- tracking routes ---------------------------------------------------------------------


def test_open_and_click_are_answered_and_stored(
    client: TestClient, tracker: Tracker[Any], db: Path
) -> None:
    opened = client.get(_path(tracker.open_url({"campaign": "spring", "customer_id": 7})))
    assert opened.status_code == 200
    assert opened.headers["content-type"] == "image/gif"
    clicked = client.get(
        _path(tracker.click_url("https://shop.example.com/a", {"campaign": "spring"})),
        follow_redirects=False,
    )
    assert clicked.status_code == 302
    assert clicked.headers["location"] == "https://shop.example.com/a"
    # ack="commit": the answer came after the commit, so the rows are already there.
    assert _stored(db) == [
        ("open", '{"campaign":"spring","customer_id":7}', None),
        ("click", '{"campaign":"spring"}', "https://shop.example.com/a"),
    ]


def test_head_is_tracked_without_a_body(
    client: TestClient, tracker: Tracker[Any], db: Path
) -> None:
    response = client.head(_path(tracker.open_url({"n": 1})))
    assert response.status_code == 200
    assert response.content == b""
    assert [row[0] for row in _stored(db)] == ["open"]


@pytest.mark.parametrize("method", ["POST", "PUT", "DELETE", "PATCH", "OPTIONS"])
def test_other_methods_get_405_and_store_nothing(
    client: TestClient, tracker: Tracker[Any], db: Path, method: str
) -> None:
    response = client.request(method, _path(tracker.open_url({"n": 1})))
    assert response.status_code == 405
    assert "GET" in response.headers["allow"]
    assert _stored(db) == []


@pytest.mark.parametrize(
    "path",
    [
        "/o/not-a-token",
        "/o/%zz%",
        "/c/%E0%A4%A",
        "/o/" + "A" * 5000,
        "/c/",
        "/o",
        "/o/../../etc/passwd",
    ],
)
def test_bad_tokens_get_404_without_details(client: TestClient, db: Path, path: str) -> None:
    response = client.get(path)
    assert response.status_code == 404
    assert b"Traceback" not in response.content
    assert _stored(db) == []


def test_forged_click_gets_404(client: TestClient, tracker: Tracker[Any]) -> None:
    other = _tracker()
    response = client.get(_path(other.click_url("https://evil.example/")), follow_redirects=False)
    assert response.status_code == 404
    assert "location" not in response.headers


def test_unknown_paths_404(client: TestClient) -> None:
    assert client.get("/nothing-here").status_code == 404
    assert client.post("/healthz").status_code == 405


# -- service routes --------------------------------------------------------------------


def test_health_and_readiness(client: TestClient) -> None:
    assert client.get("/healthz").text == "ok\n"
    assert client.get("/readyz").status_code == 200


def test_readyz_fails_when_the_store_cannot_be_written(
    tracker: Tracker[Any], tmp_path: Path
) -> None:
    db = tmp_path / "events.sqlite3"
    with _client(tracker, db) as c:
        assert c.get("/readyz").status_code == 200
        # Another connection holds the write lock: the store cannot be written now.
        blocker = sqlite3.connect(db, timeout=0.1)
        blocker.execute("BEGIN EXCLUSIVE")
        try:
            response = c.get("/readyz")
        finally:
            blocker.rollback()
            blocker.close()
        assert c.get("/readyz").status_code == 200  # ready again once the lock is gone
        assert response.status_code == 503
        assert response.text.startswith("store unavailable")


def test_metrics_count_requests_by_route_and_outcome(
    client: TestClient, tracker: Tracker[Any]
) -> None:
    client.get(_path(tracker.open_url({"n": 1})))
    client.get(_path(tracker.click_url("https://a.example/")), follow_redirects=False)
    client.get("/o/garbage")
    client.post(_path(tracker.open_url({"n": 1})))
    text = client.get("/metrics").text
    assert 'trackcodec_requests_total{outcome="ok",route="open"} 1.0' in text
    assert 'trackcodec_requests_total{outcome="ok",route="click"} 1.0' in text
    assert 'trackcodec_requests_total{outcome="invalid_token",route="open"} 1.0' in text
    assert 'trackcodec_requests_total{outcome="method_not_allowed",route="open"} 1.0' in text
    assert 'trackcodec_invalid_tokens_total{reason="MalformedToken"} 1.0' in text
    assert "trackcodec_events_committed_total 2.0" in text
    assert "trackcodec_event_store_lag_seconds" in text
    assert 'trackcodec_request_duration_seconds_count{route="open"} 3.0' in text


def test_metrics_can_be_turned_off(tracker: Tracker[Any], db: Path) -> None:
    with _client(tracker, db, metrics=False) as c:
        assert c.get("/metrics").status_code == 404
        assert c.get(_path(tracker.open_url({"n": 1}))).status_code == 200


# -- durability --------------------------------------------------------------------------


def _hold_write_lock(db: Path) -> sqlite3.Connection:
    conn = sqlite3.connect(db, timeout=5, isolation_level=None, check_same_thread=False)
    conn.execute("BEGIN IMMEDIATE")
    return conn


def test_full_queue_gets_503_and_nothing_acknowledged_is_lost(
    tracker: Tracker[Any], db: Path
) -> None:
    with _client(tracker, db, queue_max=1, batch_max=1) as c:
        c.get("/readyz")
        lock = _hold_write_lock(db)  # commits now wait for this lock
        results: list[int] = []

        def hit(n: int) -> None:
            results.append(c.get(_path(tracker.open_url({"n": n}))).status_code)

        first = threading.Thread(target=hit, args=(1,))
        first.start()
        deadline = time.monotonic() + 10
        while c.app.sink.pending == 0 and time.monotonic() < deadline:  # type: ignore[attr-defined]
            time.sleep(0.01)
        second = threading.Thread(target=hit, args=(2,))  # in flight: waits for the commit
        second.start()
        while c.app.sink.pending < 2 and time.monotonic() < deadline:  # type: ignore[attr-defined]
            time.sleep(0.01)
        overloaded = c.get(_path(tracker.open_url({"n": 3})))
        assert overloaded.status_code == 503
        assert overloaded.headers["retry-after"] == "1"
        lock.rollback()
        lock.close()
        first.join(10)
        second.join(10)
    assert sorted(results) == [200, 200]
    assert sorted(row[1] for row in _stored(db)) == ['{"n":1}', '{"n":2}']


def test_ack_queued_answers_before_the_commit(tracker: Tracker[Any], db: Path) -> None:
    with _client(tracker, db, ack="queued") as c:
        c.get("/readyz")
        lock = _hold_write_lock(db)
        try:
            # Answered while the commit is blocked: the event is only queued.
            assert c.get(_path(tracker.open_url({"n": 1}))).status_code == 200
            assert _stored(db) == []
        finally:
            lock.rollback()
            lock.close()
    # Shutdown (leaving the client) commits what was queued.
    assert [row[1] for row in _stored(db)] == ['{"n":1}']


def test_store_error_gets_503_not_an_acknowledgement(tracker: Tracker[Any], db: Path) -> None:
    class Failing(SQLiteEventStore):
        def emit(self, events: Any, /) -> None:
            raise sqlite3.OperationalError("disk I/O error")

    app = TrackingServer(tracker, ServerSettings(database=str(db)), store=Failing(db))
    with TestClient(app) as c:
        response = c.get(_path(tracker.open_url({"n": 1})))
        assert response.status_code == 503
        assert b"disk" not in response.content
        assert "trackcodec_event_store_failures_total 1.0" in c.get("/metrics").text


# -- stats page --------------------------------------------------------------------------


def _basic(password: str, user: str = "admin") -> dict[str, str]:
    raw = base64.b64encode(f"{user}:{password}".encode()).decode()
    return {"authorization": f"Basic {raw}"}


def test_stats_is_off_without_a_token(tracker: Tracker[Any], db: Path) -> None:
    with _client(tracker, db) as c:
        assert c.get("/stats").status_code == 404
        assert c.get("/stats", headers=_basic("anything-at-all")).status_code == 404


@pytest.mark.parametrize(
    "headers",
    [
        {},
        _basic("wrong-token-wrong"),
        _basic(TOKEN[:-1]),
        {"authorization": "Bearer nope"},
        {"authorization": "Basic !!!not-base64"},
        {"authorization": "Digest " + TOKEN},
        {"authorization": TOKEN},
    ],
)
def test_stats_refuses_without_the_token(client: TestClient, headers: dict[str, str]) -> None:
    response = client.get("/stats", headers=headers)
    assert response.status_code == 401
    assert response.headers["www-authenticate"].startswith("Basic")
    assert TOKEN not in response.text


def test_stats_page_shows_groups_unique_machine_and_links(
    client: TestClient, tracker: Tracker[Any]
) -> None:
    human = {"user-agent": "Mozilla/5.0 (X11; Linux x86_64) Firefox/120.0"}
    for customer in (1, 1, 2):
        client.get(
            _path(tracker.open_url({"campaign": "spring", "customer_id": customer})),
            headers=human,
        )
    client.get(_path(tracker.open_url({"campaign": "autumn", "customer_id": 3})), headers=human)
    client.get(
        _path(tracker.click_url("https://shop.example.com/<b>", {"campaign": "spring"})),
        headers=human,
        follow_redirects=False,
    )
    page = client.get("/stats?days=2&group=campaign&unique=customer_id", headers=_basic(TOKEN))
    assert page.status_code == 200
    assert page.headers["content-type"].startswith("text/html")
    assert "default-src 'none'" in page.headers["content-security-policy"]
    text = page.text
    assert text.count("<svg") == 2
    assert "<tr><td>spring</td><td>3</td><td>3</td><td>0</td><td>1</td>" in text
    assert "<tr><td>autumn</td><td>1</td>" in text
    # 4 opens by 3 distinct customers; the link is escaped.
    assert "<tr><th>opens</th><td>4</td><td>3</td>" in text
    assert "https://shop.example.com/&lt;b&gt;" in text
    assert "<b>" not in text.split("<body>", 1)[1].replace("<button", "")
    bearer = client.get("/stats", headers={"authorization": f"Bearer {TOKEN}"})
    assert bearer.status_code == 200


@pytest.mark.parametrize(
    "query",
    ["days=0", "days=abc", "days=9999", "bucket=week", "group=a%22b", "unique=" + "x" * 65],
)
def test_stats_bad_parameters_get_400(client: TestClient, query: str) -> None:
    response = client.get(f"/stats?{query}", headers=_basic(TOKEN))
    assert response.status_code == 400


def test_chart_scales_and_escapes() -> None:
    svg = render_chart("Opens <x>", [0.0, 3600.0], [("a&b", [0, 7], False)], "hour")
    assert svg.startswith("<svg")
    assert svg.endswith("</svg>")
    assert "Opens &lt;x&gt;" in svg
    assert "a&amp;b" in svg
    assert ">10</text>" in svg  # 7 rounds the axis up to 10


# -- settings ----------------------------------------------------------------------------


def test_settings_precedence_flags_env_toml(tmp_path: Path) -> None:
    keys = KeyRing.generate(3).to_string()
    toml = tmp_path / "serve.toml"
    toml.write_text(
        f'[trackcodec]\nkeys = "{keys}"\nbase_open_tracking_url = "https://t.example/px/"\n'
        '[serve]\nport = 9001\nworkers = 3\ndatabase = "from-toml.sqlite3"\n'
        'stats_token = "toml-token-long-enough"\n',
        encoding="utf-8",
    )
    env = {"TRACKCODEC_PORT": "9002", "TRACKCODEC_TIMESTAMP": "true", "HOME": "/x"}
    config, settings = load_settings(toml, {"keys": None}, {"port": 9003, "workers": None}, env)
    assert settings.port == 9003
    assert settings.workers == 3
    assert settings.database == "from-toml.sqlite3"
    assert settings.stats_token is not None
    assert settings.stats_token.get_secret_value() == "toml-token-long-enough"
    assert config.timestamp is True
    assert config.keys is not None
    assert config.keys.to_string() == keys
    assert tracking_paths(config, settings) == ("/px/", "/c/")
    _, from_env = load_settings(None, {}, {}, env)
    assert from_env.port == 9002


def test_settings_from_env_types() -> None:
    env = {
        "TRACKCODEC_KEYS": KeyRing.generate(1).to_string(),
        "TRACKCODEC_ACK": "queued",
        "TRACKCODEC_METRICS": "false",
        "TRACKCODEC_MAX_CONNECTIONS": "",
        "TRACKCODEC_TRUSTED_PROXIES": "10.0.0.1, 10.0.0.2",
        "TRACKCODEC_HEADER_TIMEOUT": "2.5",
    }
    _, settings = load_settings(None, {}, {}, env)
    assert settings.ack == "queued"
    assert settings.metrics is False
    assert settings.max_connections is None
    assert settings.trusted_proxies == ("10.0.0.1", "10.0.0.2")
    assert settings.header_timeout == 2.5


@pytest.mark.parametrize(
    ("env", "field"),
    [
        ({"TRACKCODEC_PORT": "70000"}, "port"),
        ({"TRACKCODEC_ACK": "maybe"}, "ack"),
        ({"TRACKCODEC_STATS_TOKEN": "short"}, "stats_token"),
        ({"TRACKCODEC_OPEN_PATH": "no-slash"}, "open_path"),
        ({"TRACKCODEC_NO_SUCH_THING": "1"}, "no_such_thing"),
    ],
)
def test_bad_settings_name_the_field(env: dict[str, str], field: str) -> None:
    with pytest.raises(ConfigurationError) as info:
        load_settings(None, {}, {}, env)
    assert info.value.field == field


def test_open_and_click_need_different_paths(tracker: Tracker[Any], db: Path) -> None:
    with pytest.raises(ConfigurationError, match="different paths"):
        TrackingServer(tracker, ServerSettings(database=str(db), click_path="/o/"))


def test_explicit_paths_route_requests(tracker: Tracker[Any], db: Path) -> None:
    with _client(tracker, db, open_path="/px", click_path="/go/") as c:
        token = tracker.open_url({"n": 1}).rsplit("/", 1)[1]
        assert c.get(f"/px/{token}").status_code == 200
        assert c.get(f"/o/{token}").status_code == 404


# -- webhook outbox ----------------------------------------------------------------------


def test_events_go_to_the_webhook_outbox_before_the_answer(tmp_path: Path) -> None:
    pytest.importorskip("httpx", reason="trackcodec[webhooks] is not installed")
    from trackcodec.webhooks import Outbox

    hook = "https://hooks.example.com/tracking"
    tracker = Tracker(
        keys=KeyRing.generate(1).to_string(),
        base_open_tracking_url="https://t.example.com/o/",
        base_click_tracking_url="https://t.example.com/c/",
        webhook_url=hook,
    )
    outbox_path = tmp_path / "outbox.sqlite3"
    settings = ServerSettings(
        database=str(tmp_path / "events.sqlite3"), webhook_outbox=str(outbox_path)
    )
    with TestClient(TrackingServer(tracker, settings)) as c:
        assert c.get(_path(tracker.open_url({"n": 1}))).status_code == 200
        outbox = Outbox(outbox_path)
        try:
            entries = outbox.entries()
        finally:
            outbox.close()
    assert len(entries) == 1
    assert entries[0].url == hook
    assert [row[1] for row in _stored(tmp_path / "events.sqlite3")] == ['{"n":1}']


def test_without_a_webhook_nothing_goes_to_the_outbox(
    tracker: Tracker[Any], tmp_path: Path
) -> None:
    pytest.importorskip("httpx", reason="trackcodec[webhooks] is not installed")
    from trackcodec.webhooks import Outbox

    outbox_path = tmp_path / "outbox.sqlite3"
    settings = ServerSettings(
        database=str(tmp_path / "events.sqlite3"), webhook_outbox=str(outbox_path)
    )
    with TestClient(TrackingServer(tracker, settings)) as c:
        assert c.get(_path(tracker.open_url({"n": 1}))).status_code == 200
    outbox = Outbox(outbox_path)
    try:
        assert outbox.entries() == []
    finally:
        outbox.close()


def test_other_commands_env_settings_are_not_typos_for_the_tracker() -> None:
    # One environment configures every command: `trackcodec encode` must not call
    # TRACKCODEC_PORT or TRACKCODEC_DATABASE an unknown setting.
    from trackcodec.config import OTHER_ENV_SETTINGS, TrackingConfig
    from trackcodec.server.settings import SERVER_FIELDS

    assert set(SERVER_FIELDS) <= OTHER_ENV_SETTINGS
    assert not OTHER_ENV_SETTINGS & set(TrackingConfig.model_fields)
    env = {f"TRACKCODEC_{name.upper()}": "x" for name in OTHER_ENV_SETTINGS}
    env["TRACKCODEC_TTL"] = "60"
    assert TrackingConfig.from_env(env).ttl == 60
    with pytest.raises(ConfigurationError, match="TRACKCODEC_TTLL"):
        TrackingConfig.from_env({"TRACKCODEC_TTLL": "60"})
