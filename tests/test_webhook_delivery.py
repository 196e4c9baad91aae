"""Delivery to a real HTTP receiver on loopback: signed, retried, never lost, survives kill -9.

The receiver refuses connections, then answers 500 and 429 with Retry-After,
then 200; every event must arrive, verified with ``standardwebhooks``, and be
counted per ``webhook-id``. Backoffs are tiny so the tests take seconds.
"""

from __future__ import annotations

import asyncio
import json
import signal
import subprocess
import sys
import threading
import time
from collections.abc import Callable
from pathlib import Path

import pytest
from click.testing import CliRunner

from trackcodec.cli import main as cli
from trackcodec.event import TrackingEvent, new_event_id
from trackcodec.webhooks import (
    AsyncWebhookClient,
    DeliveryOutcome,
    DestinationPolicy,
    Outbox,
    OutboxWorker,
    RetryPolicy,
    WebhookClient,
    WebhookSink,
    event_body,
    generate_secret,
)
from webhook_receiver import Answer, Receiver, free_port

LOOPBACK = DestinationPolicy(allow_private_addresses=True)  # the tests' receiver is on 127.0.0.1
FAST = RetryPolicy(max_attempts=1000, initial=0.05, max_delay=0.3, jitter=0.05)
WAIT = 60.0  # upper bound for anything to happen; never reached when things work
FAST_FLAGS = [
    "--allow-private-addresses",
    "--initial-backoff", "0.05",
    "--max-backoff", "0.3",
    "--jitter", "0.05",
    "--poll-interval", "0.05",
    "--timeout", "2",
]  # fmt: skip


def _events(n: int, kind: str = "click") -> list[TrackingEvent]:
    return [
        TrackingEvent(
            id=new_event_id(),
            kind=kind,  # type: ignore[arg-type]
            timestamp=time.time(),
            tracked_url="https://shop.example.com/p" if kind == "click" else None,
            metadata={"customer_id": i, "campaign": "spring"},
        )
        for i in range(n)
    ]


def _wait_for(condition: Callable[[], bool], what: str) -> None:
    deadline = time.monotonic() + WAIT
    while not condition():
        if time.monotonic() > deadline:
            raise AssertionError(f"timed out waiting for {what}")
        time.sleep(0.02)


def _attempted(path: Path) -> bool:
    box = Outbox(path)
    try:
        return any(e.attempts > 0 for e in box.entries(limit=1000))
    finally:
        box.close()


def _counts(path: Path) -> dict[str, int]:
    box = Outbox(path)
    try:
        return dict(box.counts())
    finally:
        box.close()


def _script(*phases: tuple[int, Answer]) -> Callable[[int], Answer]:
    """Answer each phase's status for its number of requests, then 200."""

    def answer(number: int) -> Answer:
        for count, reply in phases:
            if number < count:
                return reply
            number -= count
        return 200, {}

    return answer


def _assert_retry_after_honoured(receiver: Receiver, seconds: float) -> None:
    """Every event answered 429 was not tried again for ``seconds``."""
    for when, msg_id, status in receiver.log:
        if status == 429:
            later = [t for t, i, _ in receiver.log if i == msg_id and t > when]
            assert later, msg_id
            assert min(later) - when >= seconds - 0.05


@pytest.fixture
def secret() -> str:
    return generate_secret()


def test_sync_client_signs_and_reuses_its_connection(secret: str) -> None:
    receiver = Receiver(secret).start()
    events = _events(5)
    try:
        with WebhookClient([generate_secret(), secret], policy=LOOPBACK, timeout=5) as client:
            outcomes = [client.send_event(receiver.url, e) for e in events]
    finally:
        receiver.stop()
    assert {o.result for o in outcomes} == {"delivered"}
    assert receiver.delivered == {e.id: 1 for e in events}
    assert receiver.bad_signatures == 0
    assert len(receiver.peers) == 1  # one keep-alive connection for all five
    assert receiver.bodies[events[0].id] == event_body(events[0])


def test_async_client_signs_concurrently(secret: str) -> None:
    receiver = Receiver(secret).start()
    events = _events(20, kind="open")

    async def main() -> list[str]:
        async with AsyncWebhookClient(secret, policy=LOOPBACK, max_connections=4) as client:
            outcomes = await asyncio.gather(*(client.send_event(receiver.url, e) for e in events))
        return [o.result for o in outcomes]

    try:
        results = asyncio.run(main())
    finally:
        receiver.stop()
    assert results == ["delivered"] * 20
    assert receiver.delivered == {e.id: 1 for e in events}
    assert receiver.bad_signatures == 0
    assert len(receiver.peers) <= 4


def test_client_outcomes_refused_timeout_and_statuses(secret: str) -> None:
    with WebhookClient(secret, policy=LOOPBACK, timeout=0.2) as client:
        refused = client.send(f"http://127.0.0.1:{free_port()}/", "msg_1", b"{}")
        assert (refused.result, refused.status) == ("retry", None)
        assert refused.error is not None
        assert "Connect" in refused.error
        receiver = Receiver(secret).start()
        try:
            receiver.delay = 1.0
            slow = client.send(receiver.url, "msg_2", b"{}")
            assert slow.result == "retry"
            assert slow.error is not None
            assert "timeout" in slow.error
            receiver.delay = 0.0
            receiver.script = lambda n: (429, {"Retry-After": "12"})
            limited = client.send(receiver.url, "msg_3", b"{}")
            assert (limited.result, limited.status, limited.retry_after) == ("retry", 429, 12)
            receiver.script = lambda n: (410, {})
            gone = client.send(receiver.url, "msg_4", b"{}")
            assert (gone.result, gone.status) == ("failed", 410)
            receiver.script = lambda n: (302, {"Location": "http://169.254.169.254/"})
            moved = client.send(receiver.url, "msg_5", b"{}")
            assert (moved.result, moved.status) == ("failed", 302)  # redirects not followed
        finally:
            receiver.stop()
        assert receiver.requests == 4


def test_fault_sequence_in_process(secret: str, tmp_path: Path) -> None:
    """Refused, then 500, then 429 + Retry-After, then 200: every event once."""
    path = tmp_path / "outbox.sqlite3"
    receiver = Receiver(secret)  # not started yet: connections are refused
    events = _events(60)
    sink = WebhookSink(path, url=receiver.url)
    sink.emit(events[:30])
    sink.emit(events[30:])
    sink.close()
    outbox = Outbox(path)

    async def work() -> None:
        async with AsyncWebhookClient(secret, policy=LOOPBACK, timeout=2) as client:
            worker = OutboxWorker(
                outbox, client, retry=FAST, batch_size=10, concurrency=4, poll_interval=0.05
            )
            await worker.run(until_idle=True)

    thread = threading.Thread(target=asyncio.run, args=(work(),))
    thread.start()
    try:
        _wait_for(lambda: _attempted(path), "attempts while the receiver is down")
        receiver.script = _script((6, (500, {})), (3, (429, {"Retry-After": "1"})))
        receiver.start()
        thread.join(WAIT)
        assert not thread.is_alive()
    finally:
        receiver.stop()
        outbox.close()
    assert receiver.answers[500] == 6
    assert receiver.answers[429] == 3
    assert receiver.bad_signatures == 0
    assert receiver.delivered == {e.id: 1 for e in events}  # all of them, each once
    assert _counts(path) == {"pending": 0, "delivered": 60, "failed": 0, "dead": 0}
    _assert_retry_after_honoured(receiver, 1.0)


def _deliver_process(path: Path, secret: str, *extra: str) -> subprocess.Popen[bytes]:
    command = [
        sys.executable,
        "-c",
        "from trackcodec.cli import main; main()",
        "events",
        "deliver",
        "--outbox", str(path),
        "--secret", secret,
        "--batch-size", "10",
        "--concurrency", "4",
        "--lease", "1",
        "--max-attempts", "1000",
        *FAST_FLAGS,
        *extra,
    ]  # fmt: skip
    return subprocess.Popen(command, stdout=subprocess.PIPE, stderr=subprocess.PIPE)  # noqa: S603


def test_kill_9_mid_retry_then_restart_delivers_every_event(secret: str, tmp_path: Path) -> None:
    """The worker process is killed (-9) while retrying and delivering, then restarted."""
    path = tmp_path / "outbox.sqlite3"
    receiver = Receiver(secret)  # down: connections refused
    events = _events(40)
    sink = WebhookSink(path, url=receiver.url)
    sink.emit(events)
    sink.close()

    first = _deliver_process(path, secret)
    try:
        _wait_for(lambda: _attempted(path), "attempts while the receiver is down")
        receiver.script = _script((3, (500, {})))
        receiver.delay = 0.2  # answers in flight when the kill comes
        receiver.start()
        _wait_for(lambda: len(receiver.delivered) >= 5, "some deliveries")
    finally:
        first.send_signal(signal.SIGKILL)
        first.communicate()
    assert first.returncode == -signal.SIGKILL
    before_kill = set(receiver.delivered)
    assert _counts(path)["pending"] > 0  # the kill came mid-way

    with receiver.lock:
        receiver.delay = 0.0
        receiver.script = _script((receiver.requests, (200, {})), (4, (429, {"Retry-After": "1"})))
    second = _deliver_process(path, secret, "--until-idle")
    try:
        _, err = second.communicate(timeout=WAIT)
    finally:
        second.kill()
        second.communicate()
        receiver.stop()
    assert second.returncode == 0, err.decode()

    assert receiver.answers[500] == 3
    assert receiver.answers[429] == 4
    assert receiver.bad_signatures == 0
    assert set(receiver.delivered) == {e.id for e in events}  # none lost
    duplicates = {i: c for i, c in receiver.delivered.items() if c > 1}
    # At least once: only deliveries answered but not yet recorded when the
    # process died come again, at most one batch of them.
    assert set(duplicates) <= before_kill
    assert sum(c - 1 for c in duplicates.values()) <= 10
    assert _counts(path) == {"pending": 0, "delivered": 40, "failed": 0, "dead": 0}
    _assert_retry_after_honoured(receiver, 1.0)


def test_dead_letters_are_kept_and_replayed_by_the_cli(secret: str, tmp_path: Path) -> None:
    path = tmp_path / "outbox.sqlite3"
    receiver = Receiver(secret).start()
    receiver.script = lambda n: (503, {})
    events = _events(3)
    sink = WebhookSink(path, url=receiver.url)
    sink.emit(events)
    sink.close()
    runner = CliRunner()
    args = ["events", "deliver", "--outbox", str(path), "--secret", secret, *FAST_FLAGS]
    try:
        result = runner.invoke(cli, [*args, "--max-attempts", "2", "--until-idle"])
        assert result.exit_code == 0, result.output
        assert receiver.answers == {503: 6}
        status = runner.invoke(cli, ["events", "status", "--outbox", str(path)])
        assert json.loads(status.output) == {"pending": 0, "delivered": 0, "failed": 0, "dead": 3}
        box = Outbox(path)
        dead = box.entries("dead")
        box.close()
        assert [(e.attempts, e.last_status, e.last_error) for e in dead] == [
            (2, 503, "HTTP 503")
        ] * 3

        receiver.script = lambda n: (200, {})
        replay = runner.invoke(cli, ["events", "replay", "--outbox", str(path), events[0].id])
        assert replay.output == "1 event(s) back to pending\n"
        replay = runner.invoke(cli, ["events", "replay", "--outbox", str(path)])
        assert replay.output == "2 event(s) back to pending\n"
        result = runner.invoke(cli, [*args, "--until-idle"])
        assert result.exit_code == 0, result.output
    finally:
        receiver.stop()
    assert receiver.delivered == {e.id: 1 for e in events}
    assert _counts(path) == {"pending": 0, "delivered": 3, "failed": 0, "dead": 0}


def test_other_4xx_are_final_and_recorded(secret: str, tmp_path: Path) -> None:
    path = tmp_path / "outbox.sqlite3"
    receiver = Receiver(secret).start()
    receiver.script = lambda n: (404, {}) if n == 0 else (408, {}) if n == 1 else (200, {})
    events = _events(2)
    sink = WebhookSink(path, url=receiver.url)
    sink.emit(events)
    sink.close()
    args = ["events", "deliver", "--outbox", str(path), "--secret", secret, *FAST_FLAGS]
    try:
        result = CliRunner().invoke(cli, [*args, "--until-idle", "--concurrency", "1"])
        assert result.exit_code == 0, result.output
    finally:
        receiver.stop()
    assert receiver.answers == {404: 1, 408: 1, 200: 1}  # 404 never retried, 408 retried
    box = Outbox(path)
    failed = box.entries("failed")
    box.close()
    assert [(e.event_id, e.attempts, e.last_status) for e in failed] == [(events[0].id, 1, 404)]
    assert set(receiver.delivered) == {events[1].id}


def test_refused_destination_is_failed_not_retried(secret: str, tmp_path: Path) -> None:
    """Without allow-private-addresses the worker refuses the loopback receiver, once."""
    path = tmp_path / "outbox.sqlite3"
    receiver = Receiver(secret).start()
    sink = WebhookSink(path, url=receiver.url)
    sink.emit(_events(2))
    sink.close()
    flags = [f for f in FAST_FLAGS if f != "--allow-private-addresses"]
    args = ["events", "deliver", "--outbox", str(path), "--secret", secret, *flags]
    try:
        result = CliRunner().invoke(cli, [*args, "--until-idle"])
    finally:
        receiver.stop()
    assert result.exit_code == 0, result.output
    assert receiver.requests == 0
    box = Outbox(path)
    failed = box.entries("failed")
    box.close()
    assert len(failed) == 2
    assert all("loopback" in (e.last_error or "") and e.attempts == 1 for e in failed)


def test_deliver_rejects_bad_secrets(tmp_path: Path) -> None:
    result = CliRunner().invoke(
        cli,
        ["events", "deliver", "--outbox", str(tmp_path / "o"), "--secret", "nope", "--until-idle"],
    )
    assert result.exit_code == 2
    assert "whsec_" in result.output


def test_worker_stops_on_sigterm(secret: str, tmp_path: Path) -> None:
    path = tmp_path / "outbox.sqlite3"
    Outbox(path).close()
    process = _deliver_process(path, secret)
    try:
        _wait_for(lambda: (tmp_path / "outbox.sqlite3-wal").exists(), "the worker to start")
        time.sleep(0.3)
        process.send_signal(signal.SIGTERM)
        _, err = process.communicate(timeout=WAIT)
    finally:
        process.kill()
        process.communicate()
    assert process.returncode == 0, err.decode()


def test_secret_command_prints_a_usable_secret() -> None:
    result = CliRunner().invoke(cli, ["events", "secret"])
    assert result.exit_code == 0
    secret = result.output.strip()
    assert secret.startswith("whsec_")
    body = b'{"a":1}'
    from standardwebhooks import Webhook

    from trackcodec.webhooks import WebhookSigner

    Webhook(secret).verify(body, WebhookSigner(secret).headers("msg_1", body))


def test_deliver_logs_final_failures_and_verbose_retries(secret: str, tmp_path: Path) -> None:
    path = tmp_path / "outbox.sqlite3"
    receiver = Receiver(secret).start()
    receiver.script = _script((1, (503, {})), (1, (404, {})))
    (event,) = _events(1)
    sink = WebhookSink(path, url=receiver.url)
    sink.emit([event])
    sink.close()
    args = ["events", "deliver", "--outbox", str(path), "--secret", secret, *FAST_FLAGS]
    try:
        result = CliRunner().invoke(cli, [*args, "--until-idle", "-v"])
    finally:
        receiver.stop()
    assert result.exit_code == 0, result.output
    assert f"INFO webhook {event.id} to {receiver.url}: HTTP 503; attempt 2 in" in result.output
    assert f"WARNING webhook {event.id} to {receiver.url} failed: HTTP 404" in result.output


def test_an_unforeseen_error_is_retried_not_fatal(secret: str, tmp_path: Path) -> None:
    class FlakyClient(AsyncWebhookClient):
        calls = 0

        async def send(
            self, url: str, msg_id: str, body: bytes, *, now: float | None = None
        ) -> DeliveryOutcome:
            FlakyClient.calls += 1
            if FlakyClient.calls == 1:
                raise RuntimeError("bug in a transport")
            return await super().send(url, msg_id, body, now=now)

    receiver = Receiver(secret).start()
    outbox = Outbox(tmp_path / "o.sqlite3")
    (event,) = _events(1)
    WebhookSink(outbox, url=receiver.url).emit([event])

    async def work() -> None:
        async with FlakyClient(secret, policy=LOOPBACK) as client:
            await OutboxWorker(outbox, client, retry=FAST, poll_interval=0.01).run(until_idle=True)

    try:
        asyncio.run(work())
    finally:
        receiver.stop()
    (entry,) = outbox.entries()
    outbox.close()
    assert (entry.state, entry.attempts) == ("delivered", 2)
    assert receiver.delivered == {event.id: 1}
