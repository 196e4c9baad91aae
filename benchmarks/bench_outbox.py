"""Webhook delivery: events/s into the outbox, delivered to a loopback receiver, memory when down.

1. Into the outbox: `WebhookSink.emit` (SQLite, WAL) by batch size, with
   ``synchronous=FULL`` (the default: survives a power cut) and ``NORMAL``
   (survives a crash of the process).
2. Delivered: the same events posted to a receiver on 127.0.0.1 (a separate
   process, so it does not share our GIL), answering at once (2a) or after
   20 ms like a receiver behind a network that writes to a database (2b), by
   - pytracking 0.2.x ``send_webhook`` (``requests.post``: unsigned, no retry,
     a new connection per event), sequentially, as pytracking's users call it;
   - trackcodec's `WebhookClient` (signed, keep-alive), sequentially;
   - the outbox worker (`OutboxWorker`: signed, durable, 16 in flight),
     from committed outbox to recorded delivery.
   Ratios are against pytracking in the same run.
3. Memory with the receiver down: N = 100,000 events queued in batches, then
   the worker running against a refusing port; Python heap peak (tracemalloc)
   and RSS growth.

Run: python benchmarks/bench_outbox.py [--events N] [--queued N]
"""

from __future__ import annotations

import argparse
import asyncio
import socket
import statistics
import subprocess
import sys
import tempfile
import time
import tracemalloc
import urllib.request
from collections.abc import Callable
from pathlib import Path
from typing import Literal

import pytracking
import pytracking.webhook

from _common import reference_payloads
from trackcodec.event import TrackingEvent, new_event_id
from trackcodec.webhooks import (
    AsyncWebhookClient,
    DestinationPolicy,
    Outbox,
    OutboxWorker,
    RetryPolicy,
    WebhookClient,
    WebhookSink,
    generate_secret,
)

LOOPBACK = DestinationPolicy(allow_private_addresses=True)

RECEIVER = """
import sys
import time
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

count = 0
latency = float(sys.argv[1])

class Handler(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"

    def do_POST(self):
        global count
        self.rfile.read(int(self.headers.get("content-length", "0")))
        count += 1
        if latency:
            time.sleep(latency)
        self.send_response(204)
        self.send_header("content-length", "0")
        self.end_headers()

    def do_GET(self):
        body = str(count).encode()
        self.send_response(200)
        self.send_header("content-length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)

    def log_message(self, *args):
        pass

class Server(ThreadingHTTPServer):
    request_queue_size = 128  # the default 5 drops SYNs when 16 connections open at once

server = Server(("127.0.0.1", 0), Handler)
server.daemon_threads = True
print(server.server_address[1], flush=True)
server.serve_forever()
"""


def rss_mib() -> float:
    """Resident set size of this process, MiB (Linux)."""
    for line in Path("/proc/self/status").read_text().splitlines():
        if line.startswith("VmRSS:"):
            return int(line.split()[1]) / 1024
    return float("nan")


def make_events(n: int) -> list[TrackingEvent]:
    click = reference_payloads()["click"]
    now = time.time()
    return [
        TrackingEvent(
            id=new_event_id(),
            kind="click",
            timestamp=now,
            tracked_url=click["url"],
            metadata=click["metadata"],
            client_ip="203.0.113.7",
            user_agent="Mozilla/5.0 (Macintosh; Intel Mac OS X 10_15_7)",
        )
        for _ in range(n)
    ]


def bench_enqueue(events: list[TrackingEvent], tmp: Path) -> None:
    print("1. into the outbox (WebhookSink.emit, one transaction per batch)")
    print(f"   {'synchronous':<12}{'batch':>7}{'events':>8}{'events/s':>12}")
    modes: tuple[Literal["FULL", "NORMAL"], ...] = ("FULL", "NORMAL")
    for mode in modes:
        for batch in (1, 100, 1000):
            n = min(len(events), 500 if batch == 1 else len(events))
            path = tmp / f"enqueue-{mode}-{batch}.sqlite3"
            sink = WebhookSink(Outbox(path, synchronous=mode), url="https://hooks.example.com/")
            start = time.perf_counter()
            for i in range(0, n, batch):
                sink.emit(events[i : i + batch])
            elapsed = time.perf_counter() - start
            sink.outbox.close()
            print(f"   {mode:<12}{batch:>7}{n:>8}{n / elapsed:>12,.0f}")


def start_receiver(latency: float) -> tuple[subprocess.Popen[str], str]:
    process = subprocess.Popen(
        [sys.executable, "-c", RECEIVER, str(latency)], stdout=subprocess.PIPE, text=True
    )
    assert process.stdout is not None
    port = int(process.stdout.readline())
    return process, f"http://127.0.0.1:{port}/hook"


def received(url: str) -> int:
    with urllib.request.urlopen(url.rsplit("/", 1)[0] + "/count") as response:
        return int(response.read())


def bench_delivery(step: str, n: int, rounds: int, latency: float, tmp: Path) -> None:
    secret = generate_secret()
    process, url = start_receiver(latency)
    samples: dict[str, list[float]] = {}

    def pytracking_sequential(events: list[TrackingEvent]) -> float:
        results = [
            pytracking.TrackingResult(
                is_click_tracking=True,
                tracked_url=e.tracked_url,
                webhook_url=url,
                metadata=e.metadata,
                request_data={"user_agent": e.user_agent, "user_ip": e.client_ip},
                timestamp=int(e.timestamp),
            )
            for e in events
        ]
        start = time.perf_counter()
        for result in results:
            pytracking.webhook.send_webhook(result)
        return time.perf_counter() - start

    def client_sequential(events: list[TrackingEvent]) -> float:
        with WebhookClient(secret, policy=LOOPBACK) as client:
            start = time.perf_counter()
            for event in events:
                assert client.send_event(url, event).result == "delivered"
            return time.perf_counter() - start

    def worker(concurrency: int) -> Callable[[list[TrackingEvent]], float]:
        def deliver(events: list[TrackingEvent]) -> float:
            outbox = Outbox(tmp / f"deliver-{events[0].id}.sqlite3")
            WebhookSink(outbox, url=url).emit(events)

            async def work() -> None:
                async with AsyncWebhookClient(
                    secret, policy=LOOPBACK, max_connections=concurrency
                ) as client:
                    worker = OutboxWorker(outbox, client, batch_size=100, concurrency=concurrency)
                    await worker.run(until_idle=True)

            start = time.perf_counter()
            asyncio.run(work())
            elapsed = time.perf_counter() - start
            assert outbox.counts()["delivered"] == len(events)
            outbox.close()
            return elapsed

        return deliver

    candidates = {
        "pytracking send_webhook (sequential)": pytracking_sequential,
        "WebhookClient, signed (sequential)": client_sequential,
        "OutboxWorker, signed + durable, 4 in flight": worker(4),
        "OutboxWorker, signed + durable, 16 in flight": worker(16),
    }
    try:
        for _ in range(rounds):
            for name, deliver in candidates.items():
                before = received(url)
                elapsed = deliver(make_events(n))
                assert received(url) - before == n, name
                samples.setdefault(name, []).append(n / elapsed)
    finally:
        process.terminate()
        process.wait()
    rates = {name: statistics.median(values) for name, values in samples.items()}
    base = rates["pytracking send_webhook (sequential)"]
    print(
        f"{step}. delivered to a loopback receiver (another process) answering after "
        f"{latency * 1000:.0f} ms: {n} events per round, median of {rounds} round-robin rounds"
    )
    print(f"   {'sender':<48}{'events/s':>10}{'vs pytracking':>15}")
    for name, rate in rates.items():
        print(f"   {name:<48}{rate:>10,.0f}{rate / base:>14.2f}x")


def bench_memory(queued: int, tmp: Path) -> None:
    with socket.socket() as sock:  # a port nobody listens on: connections refused
        sock.bind(("127.0.0.1", 0))
        down = f"http://127.0.0.1:{sock.getsockname()[1]}/hook"
    path = tmp / "memory.sqlite3"
    rss_start = rss_mib()
    tracemalloc.start()
    outbox = Outbox(path, synchronous="NORMAL")
    sink = WebhookSink(outbox, url=down)
    start = time.perf_counter()
    for _ in range(0, queued, 1000):
        sink.emit(make_events(1000))  # built per batch, as an endpoint would
    enqueue_s = time.perf_counter() - start
    _, enqueue_peak = tracemalloc.get_traced_memory()
    rss_queued = rss_mib()
    tracemalloc.reset_peak()

    retry = RetryPolicy(initial=0.2, max_delay=1.0, jitter=0.1)

    async def work(seconds: float) -> None:
        stop = asyncio.Event()
        async with AsyncWebhookClient(generate_secret(), policy=LOOPBACK) as client:
            worker = OutboxWorker(outbox, client, retry=retry, poll_interval=0.2)
            asyncio.get_running_loop().call_later(seconds, stop.set)
            await worker.run(stop=stop)

    asyncio.run(work(5.0))
    _, worker_peak = tracemalloc.get_traced_memory()
    tracemalloc.stop()
    rss_end = rss_mib()
    counts = outbox.counts()
    attempts = sum(e.attempts for e in outbox.entries(limit=queued))
    outbox.close()
    size = sum(p.stat().st_size for p in tmp.glob("memory.sqlite3*")) / 2**20
    print(f"3. receiver down, {queued:,} events queued (outbox file {size:.0f} MiB)")
    print(f"   enqueue: {queued / enqueue_s:,.0f} events/s (batches of 1000, NORMAL)")
    print(f"   Python heap peak while enqueueing: {enqueue_peak / 2**20:.1f} MiB")
    print(
        f"   Python heap peak, worker 5 s against the refusing port: {worker_peak / 2**20:.1f} MiB"
    )
    print(
        f"   RSS: {rss_start:.0f} MiB at start, {rss_queued:.0f} MiB queued, "
        f"{rss_end:.0f} MiB after the worker"
    )
    print(
        f"   still pending: {counts['pending']:,}; attempts made: {attempts} "
        "(the destination is paused after a failure, not hammered)"
    )


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--events", type=int, default=500, help="events per round (step 2)")
    parser.add_argument("--rounds", type=int, default=3, help="rounds (step 2)")
    parser.add_argument(
        "--latency", type=float, default=0.02, help="receiver's answer time, step 2b (s)"
    )
    parser.add_argument("--queued", type=int, default=100_000, help="events queued (step 3)")
    args = parser.parse_args()
    events = make_events(2000)
    print(f"python {sys.version.split()[0]}; event body {len(events[0].model_dump_json())} B")
    with tempfile.TemporaryDirectory() as directory:
        tmp = Path(directory)
        bench_enqueue(events, tmp)
        bench_delivery("2a", args.events, args.rounds, 0.0, tmp)
        # A receiver that takes its time (network, a database write): concurrency pays.
        bench_delivery("2b", args.events // 4, args.rounds, args.latency, tmp)
        bench_memory(args.queued, tmp)


if __name__ == "__main__":
    main()
