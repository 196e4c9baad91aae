"""Load and crash benchmark of ``trackcodec serve``, against pytracking's Django views.

Everything runs on 127.0.0.1 of this machine, bounded in time:

1. ``wrk`` (Debian package) sends opens, then clicks, to ``trackcodec serve``
   (SQLite store, ``synchronous=FULL``, each answer sent after its event's
   group commit), then the same to pytracking 0.2's ``OpenTrackingView`` /
   ``ClickTrackingView`` under gunicorn (sync workers, Fernet tokens), twice:
   with a no-op ``notify_tracking_event`` (stores nothing: the most
   favourable case for the reference), and with one that inserts the event
   into SQLite and commits (what its users write to keep events). Printed:
   requests/s, p50/p99 latency, requests answered, events stored, and the
   throughput ratios.
2. Crash: a Python load client (which records every acknowledged response)
   sends opens; the server is killed with SIGKILL under load, restarted on
   the same database, and every acknowledged event is looked up. Run for
   ``--ack commit`` (the default) and ``--ack queued`` (what a crash loses).

Usage: ``python benchmarks/serve_load.py [--duration 8] [--connections 32]``
"""

from __future__ import annotations

import argparse
import http.client
import json
import os
import platform
import re
import shutil
import signal
import socket
import sqlite3
import subprocess
import sys
import tempfile
import threading
import time
import urllib.request
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT / "tests"))

from serve_support import ServeProcess, free_port, make_tracker  # noqa: E402

URLS = 2000  # distinct tracking URLs per scenario (wrk cycles through them)

LUA = """
local paths = {%s}
local i = 0
request = function()
  i = i + 1
  return wrk.format("GET", paths[(i %% #paths) + 1])
end
done = function(summary, latency, requests)
  local e = summary.errors
  io.write(string.format(
    "RESULT {\\"requests\\":%%d,\\"duration_us\\":%%d,\\"p50_us\\":%%d,\\"p99_us\\":%%d," ..
    "\\"bad_status\\":%%d,\\"socket_errors\\":%%d}\\n",
    summary.requests, summary.duration, latency:percentile(50), latency:percentile(99),
    e.status, e.connect + e.read + e.write + e.timeout))
end
"""


def _path(url: str) -> str:
    return "/" + url.split("/", 3)[3]


def wrk(
    port: int, paths: list[str], duration: float, connections: int, work: Path
) -> dict[str, Any]:
    """Run wrk against ``paths`` on ``port``; return its summary."""
    script = work / f"paths-{port}-{time.monotonic_ns()}.lua"
    script.write_text(LUA % ",".join(json.dumps(p) for p in paths), encoding="utf-8")
    out = subprocess.run(
        [
            "wrk",
            "-t2",
            f"-c{connections}",
            f"-d{duration:g}s",
            "--timeout",
            "10s",
            "-s",
            str(script),
            f"http://127.0.0.1:{port}",
        ],
        capture_output=True,
        text=True,
        timeout=duration + 60,
        check=True,
    ).stdout
    match = re.search(r"^RESULT (.*)$", out, re.M)
    if match is None:
        raise RuntimeError(f"no result from wrk:\n{out}")
    result: dict[str, Any] = json.loads(match.group(1))
    result["rps"] = result["requests"] / (result["duration_us"] / 1e6)
    return result


def stored(db: Path) -> int:
    with sqlite3.connect(db) as conn:
        return int(conn.execute("SELECT COUNT(*) FROM trackcodec_events").fetchone()[0])


def answered_ok(port: int) -> int:
    """Tracking requests the server answered with an event (its /metrics)."""
    text = urllib.request.urlopen(f"http://127.0.0.1:{port}/metrics", timeout=10).read().decode()
    return int(
        sum(
            float(m.group(1))
            for m in re.finditer(
                r'^trackcodec_requests_total\{outcome="ok",route="\w+"\} (\S+)$', text, re.M
            )
        )
    )


# -- trackcodec serve --------------------------------------------------------------------


def bench_trackcodec(args: argparse.Namespace, work: Path, ack: str) -> list[dict[str, Any]]:
    port = free_port()
    tracker = make_tracker(port)
    cwd = work / f"tc-{ack}"
    cwd.mkdir()
    env = {"TRACKCODEC_ACK": ack}
    rows = []
    with ServeProcess(tracker, cwd, port=port, env=env, args=("--workers", str(args.workers))):
        db = cwd / "trackcodec-events.sqlite3"
        for kind in ("open", "click"):
            if kind == "open":
                paths = [
                    _path(tracker.open_url({"customer_id": n, "campaign": "load"}))
                    for n in range(URLS)
                ]
            else:
                paths = [
                    _path(
                        tracker.click_url(
                            f"https://shop.example.com/p/{n}",
                            {"customer_id": n, "campaign": "load"},
                        )
                    )
                    for n in range(URLS)
                ]
            before_db, before_ok = stored(db), answered_ok(port)
            result = wrk(port, paths, args.duration, args.connections, work)
            time.sleep(0.5)  # requests in flight when wrk stopped are answered and committed
            result["stored"] = stored(db) - before_db
            result["server_answered"] = answered_ok(port) - before_ok
            result["name"] = f"trackcodec serve ({ack}) {kind}"
            rows.append(result)
    return rows


# -- pytracking's Django views under gunicorn ---------------------------------------------

DJANGO_APP = """
import django
from django.conf import settings
from django.urls import path

settings.configure(
    DEBUG=False,
    ALLOWED_HOSTS=["*"],
    ROOT_URLCONF=__name__,
    MIDDLEWARE=[],
    INSTALLED_APPS=[],
    PYTRACKING_CONFIGURATION={
        "base_open_tracking_url": "http://127.0.0.1:%(port)d/o/",
        "base_click_tracking_url": "http://127.0.0.1:%(port)d/c/",
        "encryption_bytestring_key": %(key)r,
    },
)
django.setup()

import json
import os
import sqlite3

from pytracking.django import ClickTrackingView, OpenTrackingView

STORE = %(store)r
_conn = None


def _store(result):
    # What a user of pytracking writes to keep events: one SQLite commit per request
    # (WAL, synchronous=FULL, like trackcodec serve's default store).
    global _conn
    if _conn is None:
        _conn = sqlite3.connect(STORE, timeout=30, isolation_level=None)
        _conn.execute("PRAGMA journal_mode=WAL")
        _conn.execute("PRAGMA synchronous=FULL")
        _conn.execute(
            "CREATE TABLE IF NOT EXISTS events "
            "(kind TEXT, url TEXT, metadata TEXT, ua TEXT, ip TEXT)"
        )
    _conn.execute(
        "INSERT INTO events VALUES (?, ?, ?, ?, ?)",
        (
            "open" if result.is_open_tracking else "click",
            result.tracked_url,
            json.dumps(result.metadata),
            result.request_data.get("user_agent"),
            result.request_data.get("user_ip"),
        ),
    )


class Open(OpenTrackingView):
    def notify_tracking_event(self, tracking_result):
        if STORE:
            _store(tracking_result)


class Click(ClickTrackingView):
    def notify_tracking_event(self, tracking_result):
        if STORE:
            _store(tracking_result)


urlpatterns = [
    path("o/<path:path>", Open.as_view()),
    path("c/<path:path>", Click.as_view()),
]

from django.core.wsgi import get_wsgi_application

application = get_wsgi_application()
"""


def bench_pytracking(args: argparse.Namespace, work: Path, *, store: bool) -> list[dict[str, Any]]:
    import pytracking
    from cryptography.fernet import Fernet

    gunicorn = shutil.which("gunicorn") or str(Path(sys.executable).parent / "gunicorn")
    port = free_port()
    key = Fernet.generate_key()
    app_dir = work / ("pyt-store" if store else "pyt")
    app_dir.mkdir()
    db = str(app_dir / "events.sqlite3") if store else ""
    (app_dir / "pyt_app.py").write_text(
        DJANGO_APP % {"port": port, "key": key, "store": db}, encoding="utf-8"
    )
    config = pytracking.Configuration(
        base_open_tracking_url=f"http://127.0.0.1:{port}/o/",
        base_click_tracking_url=f"http://127.0.0.1:{port}/c/",
        encryption_bytestring_key=key,
    )
    proc = subprocess.Popen(
        [
            gunicorn,
            "-w",
            str(args.workers),
            "-b",
            f"127.0.0.1:{port}",
            "--log-level",
            "warning",
            "pyt_app:application",
        ],
        cwd=app_dir,
        start_new_session=True,
    )
    rows = []
    try:
        deadline = time.monotonic() + 30
        while True:
            try:
                socket.create_connection(("127.0.0.1", port), timeout=1).close()
                break
            except OSError:
                if time.monotonic() > deadline or proc.poll() is not None:
                    raise RuntimeError("gunicorn did not start") from None
                time.sleep(0.1)
        for kind in ("open", "click"):
            if kind == "open":
                urls = [
                    pytracking.get_open_tracking_url(
                        {"customer_id": n, "campaign": "load"}, configuration=config
                    )
                    for n in range(URLS)
                ]
            else:
                urls = [
                    pytracking.get_click_tracking_url(
                        f"https://shop.example.com/p/{n}",
                        {"customer_id": n, "campaign": "load"},
                        configuration=config,
                    )
                    for n in range(URLS)
                ]
            result = wrk(port, [_path(u) for u in urls], args.duration, args.connections, work)
            result["stored"] = None
            result["server_answered"] = None
            label = "pytracking Django + SQLite" if store else "pytracking Django (no store)"
            result["name"] = f"{label} {kind}"
            rows.append(result)
    finally:
        os.killpg(proc.pid, signal.SIGTERM)
        try:
            proc.wait(30)
        except subprocess.TimeoutExpired:
            os.killpg(proc.pid, signal.SIGKILL)
            proc.wait(30)
    return rows


# -- crash: kill -9 under load ------------------------------------------------------------


def crash(args: argparse.Namespace, work: Path, ack: str) -> dict[str, Any]:
    port = free_port()
    tracker = make_tracker(port)
    cwd = work / f"crash-{ack}"
    cwd.mkdir()
    env = {"TRACKCODEC_ACK": ack}
    acked: set[int] = set()
    sent = [0]
    lock = threading.Lock()
    stop = threading.Event()

    def client(worker: int) -> None:
        conn: http.client.HTTPConnection | None = None
        n = worker * 1_000_000
        while not stop.is_set():
            n += 1
            path = _path(tracker.open_url({"n": n}))
            try:
                if conn is None:
                    conn = http.client.HTTPConnection("127.0.0.1", port, timeout=5)
                conn.request("GET", path)
                with lock:
                    sent[0] += 1
                response = conn.getresponse()
                response.read()
                if response.status == 200:
                    with lock:
                        acked.add(n)
            except (OSError, http.client.HTTPException):
                if conn is not None:
                    conn.close()
                conn = None
                time.sleep(0.01)

    server = ServeProcess(
        tracker, cwd, port=port, env=env, args=("--workers", str(args.workers))
    ).start()
    threads = [threading.Thread(target=client, args=(w + 1,)) for w in range(args.crash_clients)]
    for t in threads:
        t.start()
    time.sleep(args.crash_seconds)
    with lock:
        acked_before_kill = len(acked)
    server.kill()  # SIGKILL to the whole process group: no shutdown, no flush
    time.sleep(0.5)
    stop.set()
    for t in threads:
        t.join(30)
    # Restart on the same database (SQLite recovers from its WAL), then count.
    with ServeProcess(tracker, cwd, port=port, env=env):
        pass
    db = cwd / "trackcodec-events.sqlite3"
    with sqlite3.connect(db) as conn:
        ns = {json.loads(m)["n"] for (m,) in conn.execute("SELECT metadata FROM trackcodec_events")}
    return {
        "ack": ack,
        "sent": sent[0],
        "acked": len(acked),
        "acked_before_kill": acked_before_kill,
        "stored": len(ns),
        "acked_missing": len(acked - ns),
        "stored_not_acked": len(ns - acked),
    }


# -- report -------------------------------------------------------------------------------


def machine() -> str:
    cpu = "?"
    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                cpu = line.split(":", 1)[1].strip()
                break
    except OSError:
        pass
    system = f"{platform.system()} {platform.release()}"
    return f"{system}, {os.cpu_count()} cores ({cpu}), Python {platform.python_version()}"


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument(
        "--duration", type=float, default=8.0, help="seconds per wrk scenario (max 30)"
    )
    parser.add_argument("--connections", type=int, default=32)
    parser.add_argument("--workers", type=int, default=2, help="server processes (both servers)")
    parser.add_argument("--crash-seconds", type=float, default=4.0)
    parser.add_argument("--crash-clients", type=int, default=16)
    parser.add_argument("--no-reference", action="store_true", help="skip pytracking")
    parser.add_argument("--no-queued", action="store_true", help="skip the ack=queued runs")
    args = parser.parse_args()
    args.duration = min(args.duration, 30.0)
    args.crash_seconds = min(args.crash_seconds, 30.0)
    if shutil.which("wrk") is None:
        sys.exit("wrk is missing: apt-get install -y wrk")

    with tempfile.TemporaryDirectory(prefix="trackcodec-serve-load-") as tmp:
        work = Path(tmp)
        rows = bench_trackcodec(args, work, "commit")
        if not args.no_queued:
            rows += bench_trackcodec(args, work, "queued")
        reference = []
        if not args.no_reference:
            reference = bench_pytracking(args, work, store=False)
            reference += bench_pytracking(args, work, store=True)
        crashes = [crash(args, work, "commit")]
        if not args.no_queued:
            crashes.append(crash(args, work, "queued"))

    print(f"machine: {machine()}")
    print(
        f"load: wrk -t2 -c{args.connections} -d{args.duration:g}s per scenario, "
        f"{URLS} distinct URLs, {args.workers} server workers, everything on 127.0.0.1 "
        "(the load generator shares the CPUs)"
    )
    print()
    header = (
        f"{'scenario':44} {'req/s':>8} {'p50 ms':>7} {'p99 ms':>7} {'answered':>9} "
        f"{'stored':>8} {'vs pyt':>7} {'vs pyt+SQLite':>13}"
    )
    print(header)
    print("-" * len(header))
    ref = {r["name"].rsplit(" ", 1)[1]: r["rps"] for r in reference if "no store" in r["name"]}
    ref_db = {r["name"].rsplit(" ", 1)[1]: r["rps"] for r in reference if "SQLite" in r["name"]}
    for r in rows + reference:
        kind = r["name"].rsplit(" ", 1)[1]
        ours = not r["name"].startswith("pytracking")
        ratio = f"{r['rps'] / ref[kind]:.2f}x" if ours and kind in ref else ""
        ratio_db = f"{r['rps'] / ref_db[kind]:.2f}x" if ours and kind in ref_db else ""
        answered = r["requests"] - r["bad_status"]
        stored_text = "-" if r["stored"] is None else str(r["stored"])
        print(
            f"{r['name']:44} {r['rps']:8.0f} {r['p50_us'] / 1000:7.2f} {r['p99_us'] / 1000:7.2f} "
            f"{answered:9d} {stored_text:>8} {ratio:>7} {ratio_db:>13}"
        )
        if r["bad_status"] or r["socket_errors"]:
            print(f"{'':44} non-2xx/3xx: {r['bad_status']}, socket errors: {r['socket_errors']}")
        if r["stored"] is not None:
            lost = r["server_answered"] - r["stored"]
            print(
                f"{'':44} server answered {r['server_answered']} with an event, "
                f"stored {r['stored']}: lost {lost}; wrk saw {answered} of them answered "
                f"(the rest were in flight when wrk stopped)"
            )
    print()
    print("kill -9 under load, restart, count:")
    for c in crashes:
        print(
            f"  ack={c['ack']:7} sent {c['sent']}, acknowledged {c['acked']}, "
            f"stored {c['stored']}, acknowledged but missing: {c['acked_missing']}, "
            f"stored but never acknowledged (in flight at the kill): {c['stored_not_acked']}"
        )


if __name__ == "__main__":
    main()
