"""Make docs/assets/stats-page.png: the /stats page of ``trackcodec serve`` in headless Chromium.

Fills a SQLite store with a week of synthetic events (three campaigns, humans
and machines, a few links), starts the server on 127.0.0.1, opens
``/stats?days=7&group=campaign&unique=customer_id`` with the stats token, and
saves a full-page screenshot. Needs ``chromium`` (apt) and ``playwright``.
"""

from __future__ import annotations

import random
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT / "tests"))

from serve_support import CHROMIUM, CHROMIUM_ARGS, ServeProcess, free_port, make_tracker  # noqa: E402
from trackcodec.event import TrackingEvent, new_event_id  # noqa: E402
from trackcodec.stores import SQLiteEventStore  # noqa: E402

TOKEN = "screenshot-stats-token"


def fill(store: SQLiteEventStore, now: float) -> None:
    rng = random.Random(7)
    campaigns = {"spring-sale": 1.0, "newsletter-42": 0.6, "onboarding": 0.3}
    links = [
        "https://shop.example.com/spring",
        "https://shop.example.com/new-arrivals",
        "https://blog.example.com/how-we-ship",
        "https://shop.example.com/account",
    ]
    events = []
    start = now - 7 * 86400
    for day in range(7):
        for campaign, weight in campaigns.items():
            sent_at = start + day * 86400 + 9 * 3600
            for _ in range(int(rng.uniform(60, 140) * weight * (1 + day / 7))):
                customer = rng.randrange(400)
                t = sent_at + rng.expovariate(1 / 14000)
                if t > now:
                    continue
                machine = rng.random() < 0.25
                meta = {"campaign": campaign, "customer_id": customer}
                events.append(
                    TrackingEvent(
                        id=new_event_id(now=t),
                        kind="open",
                        timestamp=t,
                        metadata=meta,
                        likely="machine" if machine else "human",
                        machine_reason="apple-mail-privacy-protection" if machine else None,
                        client_ip=f"203.0.113.{customer % 250}",
                        user_agent="Mozilla/5.0",
                    )
                )
                if not machine and rng.random() < 0.3:
                    events.append(
                        TrackingEvent(
                            id=new_event_id(now=t + 30),
                            kind="click",
                            timestamp=t + 30,
                            metadata=meta,
                            tracked_url=rng.choice(links),
                            client_ip=f"203.0.113.{customer % 250}",
                            user_agent="Mozilla/5.0",
                        )
                    )
    store.emit(events)


def main() -> None:
    from playwright.sync_api import sync_playwright

    out = ROOT / "docs" / "assets" / "stats-page.png"
    with tempfile.TemporaryDirectory() as tmp:
        cwd = Path(tmp)
        store = SQLiteEventStore(cwd / "trackcodec-events.sqlite3")
        fill(store, time.time())
        store.close()
        port = free_port()
        tracker = make_tracker(port)
        env = {"TRACKCODEC_STATS_TOKEN": TOKEN}
        with ServeProcess(tracker, cwd, port=port, env=env), sync_playwright() as p:
            browser = p.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS)
            context = browser.new_context(
                http_credentials={"username": "admin", "password": TOKEN},
                viewport={"width": 880, "height": 900},
                device_scale_factor=1,
            )
            page = context.new_page()
            page.goto(
                f"http://127.0.0.1:{port}/stats?days=7&group=campaign&unique=customer_id",
                wait_until="load",
            )
            page.screenshot(path=str(out), full_page=True)
            browser.close()
    print(f"wrote {out}")


if __name__ == "__main__":
    main()
