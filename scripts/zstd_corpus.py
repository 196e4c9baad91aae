"""A generated corpus of realistic tracking payloads (for training zstd dictionaries).

Deterministic (seeded). The vocabularies are those of marketing and transactional
email in general; they deliberately avoid the values of the reference payloads
(``shop.example.com``, ``fall-2026``...), so that the figures measured on those
are not the dictionary reciting them.
"""

from __future__ import annotations

import random
from typing import Any

WORDS = [
    "acme",
    "bright",
    "north",
    "harbor",
    "maple",
    "cedar",
    "river",
    "summit",
    "orbit",
    "nova",
    "pixel",
    "lumen",
    "atlas",
    "willow",
    "copper",
    "stone",
    "field",
    "market",
    "studio",
    "garden",
    "coffee",
    "travel",
    "books",
    "sport",
    "fashion",
    "home",
    "kitchen",
    "health",
    "beauty",
    "outdoor",
    "tech",
    "music",
    "pets",
    "kids",
    "wine",
]
TLDS = ["com"] * 8 + ["co.uk", "de", "fr", "io", "net", "org", "es", "it", "nl", "com.au", "ca"]
HOST_PREFIXES = ["www."] * 5 + ["", "", "shop.", "store.", "go.", "blog.", "app.", "m.", "news."]
PATHS = [
    "/p/{n}",
    "/products/{slug}",
    "/product/{slug}-{n}",
    "/collections/{slug}",
    "/c/{slug}",
    "/blog/{year}/{month}/{slug}",
    "/blog/{slug}",
    "/news/{slug}",
    "/articles/{n}-{slug}",
    "/account",
    "/account/orders/{n}",
    "/orders/{n}",
    "/cart",
    "/checkout",
    "/login",
    "/events/{slug}",
    "/offers/{slug}",
    "/deals",
    "/help/{slug}",
    "/support",
    "/",
    "",
    "/en/{slug}",
    "/en-us/products/{slug}",
    "/fr/{slug}",
    "/de/produkte/{slug}",
    "/{slug}",
    "/{slug}/{slug2}",
    "/s/{n}",
    "/item/{n}",
    "/i/{n}",
    "/watch?v={code}",
]
SLUGS = [
    "summer-sale",
    "new-arrivals",
    "spring-collection",
    "gift-guide",
    "best-sellers",
    "weekly-digest",
    "black-friday",
    "cyber-monday",
    "welcome",
    "back-in-stock",
    "limited-edition",
    "holiday-deals",
    "clearance",
    "winter-essentials",
    "running-shoes",
    "rain-jacket",
    "espresso-machine",
    "yoga-mat",
    "how-to-choose",
    "top-10",
    "release-notes",
    "product-update",
    "case-study",
    "webinar",
]
SOURCES = ["newsletter", "email", "mail", "mailchimp", "sendgrid", "klaviyo", "braze", "hubspot"]
MEDIUMS = ["email"] * 6 + ["newsletter", "mail", "crm"]
CAMPAIGN_WORDS = [*SLUGS, "promo", "launch", "digest", "reminder", "winback", "onboarding"]
CONTENTS = ["hero", "cta", "footer", "header", "logo", "button", "banner", "product", "text-link"]
LOCALES = ["en-US", "en-GB", "fr-FR", "de-DE", "es-ES", "it-IT", "nl-NL", "pt-BR", "en"]
META_KEYS = [
    ("customer_id", "int"),
    ("user_id", "int"),
    ("contact_id", "int"),
    ("recipient_id", "int"),
    ("subscriber_id", "int"),
    ("account_id", "int"),
    ("customer_id", "str_id"),
    ("user_id", "uuid"),
    ("campaign", "campaign"),
    ("campaign_id", "int"),
    ("list_id", "int"),
    ("message_id", "message"),
    ("email_id", "int"),
    ("send_id", "int"),
    ("template", "slug"),
    ("template_id", "int"),
    ("variant", "variant"),
    ("locale", "locale"),
    ("lang", "lang"),
    ("segment", "segment"),
    ("link_index", "small"),
    ("link_name", "content"),
    ("link_id", "small"),
    ("sent_at", "ts"),
    ("tenant", "word"),
    ("tenant_id", "int"),
    ("journey", "slug"),
    ("step", "small"),
    ("order_id", "int"),
    ("utm", "utm"),
    ("tags", "tags"),
    ("test", "bool"),
    ("email", "email"),
]


def _campaign(rng: random.Random) -> str:
    name = rng.choice(CAMPAIGN_WORDS)
    extra = rng.random()
    if extra < 0.4:
        return f"{name}-{rng.randint(2023, 2027)}"
    if extra < 0.6:
        return f"{name}-{rng.randint(1, 52)}"
    if extra < 0.7:
        return f"{name}_{rng.choice(['q1', 'q2', 'q3', 'q4', 'a', 'b'])}"
    return name


def _value(rng: random.Random, kind: str) -> Any:
    if kind == "int":
        return rng.choice(
            [rng.randint(1, 999), rng.randint(1000, 99999), rng.randint(10**5, 10**7)]
        )
    if kind == "str_id":
        return f"{rng.choice(['cus', 'usr', 'ct'])}_{rng.getrandbits(40):010x}"
    if kind == "uuid":
        parts = (rng.getrandbits(32), rng.getrandbits(16), rng.getrandbits(12))
        tail = (rng.getrandbits(16) | 0x8000, rng.getrandbits(48))
        return f"{parts[0]:08x}-{parts[1]:04x}-4{parts[2]:03x}-{tail[0]:04x}-{tail[1]:012x}"
    if kind == "campaign":
        return _campaign(rng)
    if kind == "message":
        return rng.choice(
            [
                f"m-{rng.randint(2023, 2027)}{rng.randint(1, 12):02d}{rng.randint(1, 28):02d}-"
                f"{rng.randint(0, 999999):06d}",
                f"msg_{rng.getrandbits(48):012x}",
                f"<{rng.getrandbits(32):08x}@mail.{rng.choice(WORDS)}.com>",
            ]
        )
    if kind == "slug":
        return rng.choice(SLUGS)
    if kind == "variant":
        return rng.choice(["A", "B", "C", "control", "treatment"])
    if kind == "locale":
        return rng.choice(LOCALES)
    if kind == "lang":
        return rng.choice(["en", "fr", "de", "es", "it"])
    if kind == "segment":
        return rng.choice(["vip", "new", "active", "lapsed", "all", "trial", "churn-risk"])
    if kind == "small":
        return rng.randint(0, 20)
    if kind == "content":
        return rng.choice(CONTENTS)
    if kind == "ts":
        return rng.randint(1_700_000_000, 1_850_000_000)
    if kind == "word":
        return rng.choice(WORDS)
    if kind == "utm":
        utm = {"source": rng.choice(SOURCES), "medium": rng.choice(MEDIUMS)}
        if rng.random() < 0.8:
            utm["campaign"] = _campaign(rng)
        if rng.random() < 0.5:
            utm["content"] = rng.choice(CONTENTS)
        return utm
    if kind == "tags":
        return rng.sample(["promo", "vip", "weekly", "transactional", "b2b", "beta"], 2)
    if kind == "bool":
        return rng.random() < 0.5
    if kind == "email":
        return f"{rng.choice(WORDS)}.{rng.choice(WORDS)}@{rng.choice(WORDS)}.com"
    raise ValueError(kind)


def _url(rng: random.Random) -> str:
    prefix = rng.choice(HOST_PREFIXES)
    word = rng.choice(WORDS)
    host = prefix + word + rng.choice(["", "", rng.choice(WORDS)])
    scheme = "https" if rng.random() < 0.93 else "http"
    path = rng.choice(PATHS).format(
        n=rng.choice([rng.randint(1, 99), rng.randint(100, 99999)]),
        slug=rng.choice(SLUGS),
        slug2=rng.choice(SLUGS),
        year=rng.randint(2023, 2027),
        month=f"{rng.randint(1, 12):02d}",
        code=f"{rng.getrandbits(40):010x}",
    )
    url = f"{scheme}://{host}.{rng.choice(TLDS)}{path}"
    params: list[tuple[str, str]] = []
    if rng.random() < 0.75:
        params.append(("utm_source", rng.choice(SOURCES)))
        params.append(("utm_medium", rng.choice(MEDIUMS)))
        if rng.random() < 0.8:
            params.append(("utm_campaign", _campaign(rng)))
        if rng.random() < 0.4:
            params.append(("utm_content", rng.choice(CONTENTS)))
        if rng.random() < 0.1:
            params.append(("utm_term", rng.choice(SLUGS)))
    if rng.random() < 0.2:
        name = rng.choice(["ref", "id", "sku", "color", "size", "page", "q"])
        params.append((name, str(rng.choice([rng.randint(1, 9999), rng.choice(SLUGS)]))))
    if rng.random() < 0.05:
        params.append(
            (rng.choice(["mc_cid", "mc_eid", "_hsenc", "ref_id"]), f"{rng.getrandbits(40):010x}")
        )
    if rng.random() < 0.15:
        rng.shuffle(params)
    if params:
        url += ("&" if "?" in url else "?") + "&".join(f"{k}={v}" for k, v in params)
    return url


def payload(rng: random.Random) -> dict[str, Any]:
    """One tracking payload, in the shape `Tracker` builds: url, metadata, webhook."""
    data: dict[str, Any] = {}
    if rng.random() < 0.8:
        data["url"] = _url(rng)
    metadata: dict[str, Any] = {}
    count = rng.choice([1, 2, 2, 2, 3, 3, 4, 5, 6, 8, 10])
    for key, kind in rng.sample(META_KEYS, count):
        metadata.setdefault(key, _value(rng, kind))
    data["metadata"] = metadata
    if rng.random() < 0.08:
        host = f"{rng.choice(['hooks', 'api', 'events', 'webhooks'])}.{rng.choice(WORDS)}.com"
        path = rng.choice(["/track", "/webhooks/email", "/v1/events", "/hooks/clicks"])
        data["webhook"] = f"https://{host}{path}"
    return data


def corpus(count: int, seed: int) -> list[dict[str, Any]]:
    """``count`` payloads from ``seed``."""
    rng = random.Random(seed)
    return [payload(rng) for _ in range(count)]
