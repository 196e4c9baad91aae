"""Does ``crawlerdetect`` earn a place in the machine-open rules? Coverage and cost.

For a list of user agents of mail clients, mail proxies, link scanners and
tools, prints what trackcodec's `MachineClassifier` says (without
crawlerdetect) and what ``crawlerdetect`` says; then the time per call of
each on user agents never seen before (crawlerdetect caches what it saw).

Run: python benchmarks/bench_crawlerdetect.py
"""

from __future__ import annotations

import time

from crawlerdetect import CrawlerDetect

from trackcodec.machine import MachineClassifier

AGENTS = {
    "Apple MPP proxy": "Mozilla/5.0",
    "Gmail image proxy": (
        "Mozilla/5.0 (Windows NT 5.1; rv:11.0) Gecko Firefox/11.0 (via ggpht.com GoogleImageProxy)"
    ),
    "Yahoo mail proxy": "YahooMailProxy; https://help.yahoo.com/kb/yahoo-mail-proxy-SLN28749.html",
    "Barracuda": "Mozilla/5.0 (Windows NT 10.0; Win64; x64) Barracuda Sentinel (EE)",
    "BingPreview": "Mozilla/5.0 (Windows NT 10.0; Win64; x64) AppleWebKit/537.36 BingPreview/1.0b",
    "Office existence check": "Microsoft Office Existence Discovery",
    "Slack preview": "Slackbot-LinkExpanding 1.0 (+https://api.slack.com/robots)",
    "curl": "curl/8.4.0",
    "python-requests": "python-requests/2.31.0",
    "headless Chrome": "Mozilla/5.0 (X11; Linux x86_64) AppleWebKit/537.36 HeadlessChrome/120.0",
    "Yahoo ad monitoring": (
        "Mozilla/5.0 (compatible; Yahoo Ad monitoring; "
        "https://help.yahoo.com/kb/yahoo-ad-monitoring-SLN24857.html)"
    ),
    "no user agent": "",
    "Chrome (human)": (
        "Mozilla/5.0 (Windows NT 10.0; Win64; x64) AppleWebKit/537.36 (KHTML, like Gecko) "
        "Chrome/120.0.0.0 Safari/537.36"
    ),
    "iPhone Mail (human)": (
        "Mozilla/5.0 (iPhone; CPU iPhone OS 17_1 like Mac OS X) AppleWebKit/605.1.15 "
        "(KHTML, like Gecko) Mobile/15E148"
    ),
    "Outlook (human)": "Mozilla/4.0 (compatible; ms-office; MSOffice 16)",
    "Cubot phone (human)": "Mozilla/5.0 (Linux; Android 9; CUBOT X30) AppleWebKit/537.36",
}


def main() -> None:
    ours = MachineClassifier()
    detector = CrawlerDetect()
    print(f"{'user agent':<24} {'trackcodec rules':<32} crawlerdetect")
    for name, agent in AGENTS.items():
        _, reason = ours.classify(
            kind="open", method="GET", user_agent=agent, client_ip=None, issued_at=None, now=0.0
        )
        crawler = detector.isCrawler(agent) if agent else False
        print(f"{name:<24} {reason or 'human':<32} {'crawler' if crawler else 'human'}")

    base = AGENTS["Chrome (human)"]
    n = 2000
    start = time.perf_counter()
    for i in range(n):
        detector.isCrawler(f"{base} build/{i}")
    theirs = (time.perf_counter() - start) / n
    start = time.perf_counter()
    for i in range(n):
        ours.classify(
            kind="open",
            method="GET",
            user_agent=f"{base} build/{i}",
            client_ip=None,
            issued_at=None,
            now=0.0,
        )
    mine = (time.perf_counter() - start) / n
    print()
    print(
        f"per new user agent: trackcodec rules {mine * 1e6:.1f} µs,"
        f" crawlerdetect {theirs * 1e6:.1f} µs ({theirs / mine:.0f}x)"
    )


if __name__ == "__main__":
    main()
