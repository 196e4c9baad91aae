"""Event sinks: events/s through the SQLite and PostgreSQL stores, batched vs one by one,
and group commit (BatchingSink) latency under concurrent producers.

PostgreSQL runs on a throw-away server that this script starts on 127.0.0.1
(tests/postgres_support.py; fsync on, synchronous_commit on: real commits) and
stops; it is skipped with a message when no PostgreSQL binaries are installed.
Every part is bounded in event count and in time.

Also a crash check: a child process commits one event per transaction and
prints each acknowledgement; it is killed with SIGKILL mid-run, and the store
must hold every acknowledged event.

Run: python benchmarks/bench_sinks.py [--quick]
"""

from __future__ import annotations

import argparse
import os
import platform
import signal
import sqlite3
import subprocess
import sys
import tempfile
import textwrap
import threading
import time
from collections.abc import Callable, Iterator
from contextlib import closing, contextmanager
from pathlib import Path
from typing import Any

from _common import ROOT, reference_payloads

sys.path.insert(0, str(ROOT / "tests"))

from trackcodec.event import TrackingEvent, new_event_id
from trackcodec.stores import BatchingSink, PostgresEventStore, SQLiteEventStore, open_store

Store = SQLiteEventStore | PostgresEventStore


def make_events(n: int) -> list[TrackingEvent]:
    """Click events with the reference click payload's metadata, as an endpoint makes them."""
    click = reference_payloads()["click"]
    now = time.time()
    return [
        TrackingEvent(
            id=new_event_id(),
            kind="click",
            timestamp=now + i * 1e-3,
            tracked_url=click.get("url"),
            metadata=click.get("metadata", {}),
            client_ip="198.51.100.7",
            user_agent="Mozilla/5.0 (Macintosh; Intel Mac OS X 10_15_7) AppleWebKit/605.1.15",
        )
        for i in range(n)
    ]


def rate(
    emit: Callable[[list[TrackingEvent]], None],
    events: list[TrackingEvent],
    batch: int,
    budget: float,
) -> tuple[float, int]:
    """Events/s emitting ``events`` in batches of ``batch``; stops after ``budget`` seconds."""
    done = 0
    start = time.perf_counter()
    for i in range(0, len(events), batch):
        emit(events[i : i + batch])
        done += len(events[i : i + batch])
        if time.perf_counter() - start > budget:
            break
    return done / (time.perf_counter() - start), done


def concurrent(
    submit: Callable[[TrackingEvent], None], *, producers: int, per_producer: int, budget: float
) -> tuple[float, list[float]]:
    """``producers`` threads each submit one event and wait for its commit, in a loop
    (a server's requests); return events/s and the per-event latencies (s)."""
    events = make_events(producers * per_producer)
    latencies: list[list[float]] = [[] for _ in range(producers)]
    deadline = time.perf_counter() + budget

    def work(k: int) -> None:
        for e in events[k * per_producer : (k + 1) * per_producer]:
            t = time.perf_counter()
            submit(e)
            latencies[k].append(time.perf_counter() - t)
            if t > deadline:
                return

    threads = [threading.Thread(target=work, args=(k,)) for k in range(producers)]
    start = time.perf_counter()
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    elapsed = time.perf_counter() - start
    flat = [x for lat in latencies for x in lat]
    return len(flat) / elapsed, flat


def pct(values: list[float], q: float) -> float:
    values = sorted(values)
    return values[min(len(values) - 1, int(q * len(values)))]


@contextmanager
def postgres() -> Iterator[Any]:
    try:
        from postgres_support import running_postgres
    except ImportError:
        yield None
        return
    try:
        with running_postgres(fast=False) as server:
            yield server
    except FileNotFoundError as exc:
        print(f"PostgreSQL skipped: {exc}")
        yield None


_CRASH_CHILD = textwrap.dedent(
    """
    import sys, time
    from trackcodec.event import TrackingEvent, new_event_id
    from trackcodec.stores import SQLiteEventStore, open_store

    target, synchronous, acks = sys.argv[1], sys.argv[2], open(sys.argv[3], "a")
    store = SQLiteEventStore(target, synchronous=synchronous) if synchronous else open_store(target)
    n = 0
    while True:
        e = TrackingEvent(id=new_event_id(), kind="open", timestamp=time.time(), metadata={"n": n})
        store.emit([e])
        acks.write(e.id + "\\n")  # acknowledged only once the commit returned
        acks.flush()
        n += 1
    """
)


def crash_check(target: str, synchronous: str, seconds: float, acks: Path) -> tuple[int, int, int]:
    """(acknowledged, stored, acknowledged but missing) after SIGKILL of a writer."""
    child = subprocess.Popen([sys.executable, "-c", _CRASH_CHILD, target, synchronous, str(acks)])
    time.sleep(seconds)
    child.send_signal(signal.SIGKILL)
    child.wait()
    acked = set(acks.read_text().split())
    with closing(open_store(target)) as store:
        stored = {e.id for e in store.events()}
    return len(acked), len(stored), len(acked - stored)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true", help="smaller counts (CI smoke run)")
    args = parser.parse_args()
    scale = 0.2 if args.quick else 1.0
    n_single = int(400 * scale)
    n_small = int(4_000 * scale)
    n_batched = int(20_000 * scale)
    batch = 500
    budget = 8.0 * scale + 2
    print(
        f"machine: {platform.machine()}, {os.cpu_count()} cores, Python "
        f"{platform.python_version()}, SQLite {sqlite3.sqlite_version}, {platform.system()}"
    )
    print(f"events: click events with the reference click payload's metadata; batch={batch}")
    print("each figure is bounded in count and in time; shared 2-core machine: read ratios\n")

    tmp = Path(tempfile.mkdtemp(prefix="bench-sinks-"))
    stores: list[tuple[str, Callable[[], Store]]] = [
        ("SQLite synchronous=FULL", lambda: SQLiteEventStore(tmp / f"f{time.time_ns()}.db")),
        (
            "SQLite synchronous=NORMAL",
            lambda: SQLiteEventStore(tmp / f"n{time.time_ns()}.db", synchronous="NORMAL"),
        ),
    ]
    with postgres() as server:
        if server is not None:
            from postgres_support import PostgresServer

            assert isinstance(server, PostgresServer)
            stores += [
                ("PostgreSQL auto (default)", lambda: PostgresEventStore(server.fresh_dsn())),
                (
                    "PostgreSQL executemany",
                    lambda: PostgresEventStore(server.fresh_dsn(), insert="executemany"),
                ),
                ("PostgreSQL COPY", lambda: PostgresEventStore(server.fresh_dsn(), insert="copy")),
            ]
        print(f"{'sink':<28}{'1 by 1 ev/s':>13}{'by 16 ev/s':>13}{'by 500 ev/s':>13}{'500/1':>8}")
        for name, factory in stores:
            store = factory()
            single, _ = rate(store.emit, make_events(n_single), 1, budget)
            small, _ = rate(store.emit, make_events(n_small), 16, budget)
            batched, _ = rate(store.emit, make_events(n_batched), batch, budget)
            store.close()
            print(
                f"{name:<28}{single:>13,.0f}{small:>13,.0f}{batched:>13,.0f}"
                f"{batched / single:>7.0f}x"
            )

        producers, per = 32, int(150 * scale) + 10
        print(
            f"\ngroup commit: {producers} threads, each submits one event and waits for its "
            f"commit ({producers * per} events)"
        )
        print(f"{'sink':<28}{'mode':<16}{'ev/s':>10}{'p50 ms':>9}{'p99 ms':>9}{'batch':>7}")
        for name, factory in stores[:3]:
            store = factory()

            def direct(e: TrackingEvent, store: Store = store) -> None:
                store.emit([e])

            ev_s, lat = concurrent(direct, producers=producers, per_producer=per, budget=budget)
            print(
                f"{name:<28}{'emit 1 by 1':<16}{ev_s:>10,.0f}{pct(lat, 0.5) * 1e3:>9.2f}"
                f"{pct(lat, 0.99) * 1e3:>9.2f}{1:>7}"
            )
            sink = BatchingSink(store, max_batch=batch)
            ev_s, lat = concurrent(
                lambda e, sink=sink: sink.submit(e).result(),
                producers=producers,
                per_producer=per,
                budget=budget,
            )
            print(
                f"{'':<28}{'BatchingSink':<16}{ev_s:>10,.0f}{pct(lat, 0.5) * 1e3:>9.2f}"
                f"{pct(lat, 0.99) * 1e3:>9.2f}{sink.committed / max(1, sink.batches):>7.1f}"
            )
            sink.close()

        print("\ncrash check: a writer commits one event per transaction, killed with SIGKILL")
        for name, target, mode in [
            ("SQLite FULL", str(tmp / "crash-full.db"), "FULL"),
            ("SQLite NORMAL", str(tmp / "crash-normal.db"), "NORMAL"),
            *([("PostgreSQL", server.fresh_dsn(), "")] if server is not None else []),
        ]:
            acked, stored, missing = crash_check(
                target, mode, 2.0, tmp / f"acks-{name.replace(' ', '-')}"
            )
            print(
                f"{name:<16} acknowledged {acked:>6}  stored {stored:>6}  "
                f"acknowledged but missing {missing}"
            )
    for f in tmp.iterdir():
        f.unlink()
    tmp.rmdir()


if __name__ == "__main__":
    main()
