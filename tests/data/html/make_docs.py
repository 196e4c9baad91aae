"""Deterministic generator of large email documents and of their expected rewrites.

Each generator returns the HTML and, written alongside it (not by the
rewriter), the expected output as a template: every link that must be tracked
is a ``⟦click INDEX URL [NAME]⟧`` marker (URL as the redirect target, i.e.
with character references decoded) and the pixel's URL is ``⟦open⟧``.
Everything else must come out of the rewriter byte for byte.

- `digest`: a ~1 MB daily digest with ~2,000 links (the test suite and the benchmark).
- `newsletter`: a ~100 KB promotional newsletter with ~180 links, MSO
  conditional comments and VML buttons (the benchmark).

Run it as a script for their figures (and a directory argument to write them there).
"""

from __future__ import annotations

import random
from pathlib import Path
from typing import NamedTuple
from urllib.parse import quote

PIXEL = (
    '<img src="⟦open⟧" width="1" height="1" alt="" border="0" '
    'style="height:1px;width:1px;border:0;margin:0;padding:0;opacity:0" />'
)

WORDS = [
    "release",
    "notes",
    "community",
    "garden",
    "électricité",
    "café",
    "naïve",
    "résumé",
    "zoning",
    "council",
    "budget",
    "library",
    "river",
    "bridge",
    "transit",
    "festival",
    "weekend",
    "market",
    "bakery",
    "museum",
    "rooftop",
    "solar",
    "volunteers",
    "Zürich",
    "São",
    "Paulo",
    "Kraków",
    "東京",
    "データ",
    "ödeme",
    "über",
    "straße",
    "señor",
    "déjà",
    "vu",
    "—",
    "neighbourhood",
    "proposal",
    "survey",
    "election",
    "school",
    "harbour",
    "cycling",
    "lane",
    "ferry",
    "schedule",
]
TAGS = [f"topic-{n}" for n in range(40)]
AUTHORS = [f"Author Näme {n}" for n in range(30)]


class Document(NamedTuple):
    """A generated email: its HTML and the expected rewrite, as a marker template."""

    html: str
    expected: str
    links: int
    tracked_links: int


class _Links:
    """Writes links into both documents and numbers the distinct tracked ones."""

    def __init__(self) -> None:
        self.index: dict[tuple[str, str | None], int] = {}
        self.links = 0
        self.tracked = 0

    def href(self, raw: str, url: str | None, name: str | None = None) -> tuple[str, str]:
        """The raw href for the input, and what the expected output holds instead.

        ``url`` is the decoded target when the link must be tracked, else None.
        """
        self.links += 1
        if url is None:
            return raw, raw
        self.tracked += 1
        index = self.index.setdefault((url, name), len(self.index))
        marker = f"⟦click {index} {url}{' ' + name if name else ''}⟧"
        return raw, marker


def _sentence(rng: random.Random, words: int) -> str:
    text = " ".join(rng.choice(WORDS) for _ in range(words))
    return text[0].upper() + text[1:] + "."


def _pair(parts: list[tuple[str, str]]) -> tuple[str, str]:
    return "".join(p[0] for p in parts), "".join(p[1] for p in parts)


def _head(title: str) -> tuple[str, str]:
    head = f"""<!DOCTYPE html PUBLIC "-//W3C//DTD XHTML 1.0 Transitional//EN" \
"http://www.w3.org/TR/xhtml1/DTD/xhtml1-transitional.dtd">
<html xmlns="http://www.w3.org/1999/xhtml" xmlns:v="urn:schemas-microsoft-com:vml" \
xmlns:o="urn:schemas-microsoft-com:office:office" lang="en">
<head>
<meta http-equiv="Content-Type" content="text/html; charset=UTF-8" />
<meta name="viewport" content="width=device-width, initial-scale=1.0" />
<title>{title}</title>
<!--[if gte mso 9]><xml><o:OfficeDocumentSettings><o:AllowPNG/><o:PixelsPerInch>96\
</o:PixelsPerInch></o:OfficeDocumentSettings></xml><![endif]-->
<style type="text/css">
  body {{ margin:0; padding:0; -webkit-text-size-adjust:100%; }}
  a[x-apple-data-detectors] {{ color:inherit !important; text-decoration:none !important; }}
  @media only screen and (max-width:600px) {{ .stack {{ display:block !important; \
width:100% !important; }} a > img {{ max-width:100% !important; }} }}
</style>
</head>
"""
    return head, head


def digest(articles: int = 225, seed: int = 2026) -> Document:
    """The daily digest: ``articles`` article cards of ~4.5 KB and ~9 links each."""
    rng = random.Random(seed)
    links = _Links()
    parts = [_head("Your daily digest — Ünïcode Gazette")]
    body_open = (
        '<body style="margin:0;padding:0;background:#f3f4f6;">\n'
        '<div style="display:none;max-height:0;overflow:hidden;">Today: 225 stories '
        "&amp; more&nbsp;&zwnj;&nbsp;&zwnj;</div>\n"
        '<table role="presentation" width="100%" cellpadding="0" cellspacing="0" border="0" '
        'bgcolor="#f3f4f6">\n<tr><td align="center">\n'
        '<table role="presentation" class="container" width="640" cellpadding="0" '
        'cellspacing="0" border="0" style="background:#ffffff;">\n'
    )
    parts.append((body_open, body_open))
    raw, out = links.href("{{ view_in_browser_url }}", None)
    parts.append(
        _pair(
            [
                (
                    '<tr><td style="padding:8px 32px;font-size:11px;color:#9ca3af;">'
                    'Trouble reading? <a href="',
                    '<tr><td style="padding:8px 32px;font-size:11px;'
                    'color:#9ca3af;">Trouble reading? <a href="',
                ),
                (raw, out),
                ('">View it in your browser</a>.</td></tr>\n',) * 2,
            ]
        )
    )
    nav = '<tr><td style="padding:0 32px 16px;font-size:13px;">'
    parts.append((nav, nav))
    for section in ("news", "events", "opinion", "jobs"):
        raw, out = links.href(
            f"https://gazette.example.com/{section}?from=digest&amp;edition=2026-09-15",
            f"https://gazette.example.com/{section}?from=digest&edition=2026-09-15",
            f"nav-{section}",
        )
        tag = f' <a data-track-name="nav-{section}" href="'
        kept = ' <a href="'
        parts.append(
            (
                f'{tag}{raw}" style="color:#1d4ed8;">{section.title()}</a>\n',
                f'{kept}{out}" style="color:#1d4ed8;">{section.title()}</a>\n',
            )
        )
    parts.append(("</td></tr>\n", "</td></tr>\n"))
    for i in range(articles):
        parts.append(_article(rng, links, i))
    parts.append(_digest_footer(links))
    html = "".join(p[0] for p in parts)
    expected = "".join(p[1] for p in parts)
    return Document(html, expected, links.links, links.tracked)


def _article(rng: random.Random, links: _Links, i: int) -> tuple[str, str]:
    slug = "-".join(rng.choice(WORDS[:20]) for _ in range(4))
    raw_url = f"https://gazette.example.com/2026/09/{slug}-{i}?ref=digest&amp;pos={i}"
    url = raw_url.replace("&amp;", "&")
    title = _sentence(rng, rng.randint(6, 11)).rstrip(".")
    tag = rng.choice(TAGS)
    author = rng.choice(AUTHORS)
    author_slug = author.lower().replace(" ", "-")
    shared = quote(url, safe="")
    comments = rng.randint(0, 240)
    image = links.href(raw_url, url)
    tag_link = links.href(
        f"https://gazette.example.com/tags/{tag}", f"https://gazette.example.com/tags/{tag}"
    )
    title_link = links.href(raw_url, url)
    more = links.href(raw_url, url, "read-more")
    by = links.href(
        f"https://gazette.example.com/authors/{quote(author_slug)}",
        f"https://gazette.example.com/authors/{quote(author_slug)}",
    )
    comment_link = links.href(f"{raw_url}#comments", f"{url}#comments")
    tweet = links.href(
        f"https://twitter.com/intent/tweet?url={shared}&amp;text={quote(title)}",
        f"https://twitter.com/intent/tweet?url={shared}&text={quote(title)}",
    )
    linkedin = links.href(
        f"https://www.linkedin.com/sharing/share-offsite/?url={shared}",
        f"https://www.linkedin.com/sharing/share-offsite/?url={shared}",
    )
    mail = links.href(f"mailto:?subject={quote(title)}&amp;body={shared}", None)
    excerpt = " ".join(_sentence(rng, rng.randint(12, 22)) for _ in range(rng.randint(5, 8)))
    excerpt2 = " ".join(_sentence(rng, rng.randint(10, 18)) for _ in range(rng.randint(3, 5)))

    def card(h: tuple[str, ...], more_attr: str) -> str:
        return f"""<!-- article {i} -->
<tr>
  <td class="article" style="padding:24px 32px;border-bottom:1px solid #e5e7eb;\
font-family:Helvetica,Arial,sans-serif;">
    <table role="presentation" width="100%" cellpadding="0" cellspacing="0" border="0">
      <tr>
        <td class="stack" width="180" valign="top" style="padding-right:16px;">
          <a href="{h[0]}" target="_blank" style="text-decoration:none;"><img \
src="https://cdn.example.com/img/2026/09/{i}.jpg" width="180" height="120" alt="{title}" \
style="display:block;border:0;border-radius:6px;width:180px;height:auto;"></a>
        </td>
        <td class="stack" valign="top" style="font-size:15px;line-height:22px;color:#374151;">
          <p style="margin:0 0 6px;font-size:12px;color:#6b7280;text-transform:uppercase;\
letter-spacing:.06em;"><a href='{h[1]}' style='color:#6b7280;text-decoration:none;'>#{tag}</a> \
&middot; 15&nbsp;Sept&nbsp;2026</p>
          <h2 style="margin:0 0 8px;font-size:20px;line-height:26px;font-weight:700;">\
<a href="{h[2]}" style="color:#111827;text-decoration:none;">{title}</a></h2>
          <p style="margin:0 0 12px;">{excerpt}</p>
          <p style="margin:0 0 12px;color:#4b5563;">{excerpt2}</p>
          <p style="margin:0;"><a{more_attr} href="{h[3]}" style="color:#1d4ed8;\
font-weight:600;text-decoration:none;">Read more&nbsp;&rarr;</a></p>
          <p style="margin:12px 0 0;font-size:13px;color:#6b7280;">by <a href={h[4]} \
style="color:#374151;">{author}</a> &middot; <a href="{h[5]}" style="color:#6b7280;">\
{comments} comments</a></p>
          <p style="margin:8px 0 0;font-size:12px;">Share: <a href="{h[6]}" \
style="color:#6b7280;">X</a> &bull; <a href="{h[7]}" style="color:#6b7280;">LinkedIn</a> \
&bull; <a href="{h[8]}" style="color:#6b7280;">Email</a></p>
        </td>
      </tr>
    </table>
  </td>
</tr>
"""

    raw_hrefs = (
        image[0],
        tag_link[0],
        title_link[0],
        more[0],
        by[0],
        comment_link[0],
        tweet[0],
        linkedin[0],
        mail[0],
    )
    out_hrefs = (
        image[1],
        tag_link[1],
        title_link[1],
        more[1],
        by[1],
        comment_link[1],
        tweet[1],
        linkedin[1],
        mail[1],
    )
    return card(raw_hrefs, ' data-track-name="read-more"'), card(out_hrefs, "")


def _digest_footer(links: _Links) -> tuple[str, str]:
    prefs = links.href(
        "https://gazette.example.com/account/email?tab=digest&amp;u=8c1f",
        "https://gazette.example.com/account/email?tab=digest&u=8c1f",
    )
    unsub = links.href("https://gazette.example.com/unsubscribe?u=8c1f&amp;list=daily", None)
    mail = links.href("mailto:editors@gazette.example.com", None)
    phone = links.href("tel:+4930123456", None)
    merge = links.href("*|ARCHIVE|*", None)

    def footer(h: tuple[str, ...]) -> str:
        return f"""<tr>
  <td style="padding:24px 32px;font-size:12px;line-height:18px;color:#6b7280;">
    You receive this digest because you subscribed on gazette.example.com.<br>
    <a href="{h[0]}">Email preferences</a> &middot; <a href="{h[1]}">Unsubscribe</a> \
&middot; <a href="{h[2]}">Write to us</a> &middot; <a href="{h[3]}">Call</a> \
&middot; <a href="{h[4]}">Archive</a><br>
    Ünïcode Gazette GmbH, Straße des 17. Juni 135, 10623 Berlin &copy; 2026
  </td>
</tr>
</table>
</td></tr>
</table>
"""

    raw = footer((prefs[0], unsub[0], mail[0], phone[0], merge[0]))
    out = footer((prefs[1], unsub[1], mail[1], phone[1], merge[1]))
    return raw + "</body>\n</html>\n", out + PIXEL + "</body>\n</html>\n"


def newsletter(products: int = 58, seed: int = 7) -> Document:
    """The promotional newsletter: a hero, ``products`` cards with VML buttons, a footer."""
    rng = random.Random(seed)
    links = _Links()
    parts = [_head("Fall sale — up to 40 % off ✨")]
    hero = links.href(
        "https://shop.example.com/sale?utm_campaign=fall&amp;utm_content=hero",
        "https://shop.example.com/sale?utm_campaign=fall&utm_content=hero",
        "hero",
    )
    parts.append(
        (
            f'<body style="margin:0;">\n<center>\n<a data-track-name="hero" href="{hero[0]}">'
            '<img src="https://cdn.example.com/hero.jpg" width="600" alt="Fall sale"></a>\n',
            f'<body style="margin:0;">\n<center>\n<a href="{hero[1]}">'
            '<img src="https://cdn.example.com/hero.jpg" width="600" alt="Fall sale"></a>\n',
        )
    )
    for i in range(products):
        parts.append(_product(rng, links, i))
    parts.append(_digest_footer(links))
    html = "".join(p[0] for p in parts)
    expected = "".join(p[1] for p in parts)
    return Document(html, expected, links.links, links.tracked)


def _product(rng: random.Random, links: _Links, i: int) -> tuple[str, str]:
    url = f"https://shop.example.com/p/{1000 + i}?color={rng.choice(['red', 'blue', 'grün'])}"
    name = _sentence(rng, 4).rstrip(".")
    price = f"{rng.randint(9, 199)},{rng.randint(0, 99):02d}&nbsp;&euro;"
    image = links.href(url, url)
    title = links.href(url, url)
    button = links.href(url, url, "buy")
    blurb = _sentence(rng, rng.randint(14, 24))

    def card(h: tuple[str, ...], attr: str) -> str:
        return f"""<!-- product {i} -->
<table role="presentation" width="600" cellpadding="0" cellspacing="0" border="0" \
style="margin:0 auto;"><tr>
<td width="200" valign="top" style="padding:16px;"><a href="{h[0]}"><img \
src="https://cdn.example.com/p/{1000 + i}.jpg" width="168" height="168" alt="{name}" \
style="display:block;border:0;"></a></td>
<td valign="top" style="padding:16px;font-family:Georgia,serif;font-size:15px;line-height:22px;">
<h3 style="margin:0 0 6px;"><a href="{h[1]}" style="color:#111;text-decoration:none;">\
{name}</a></h3>
<p style="margin:0 0 10px;color:#555;">{blurb} <strong>{price}</strong></p>
<div><!--[if mso]>
<v:roundrect xmlns:v="urn:schemas-microsoft-com:vml" \
xmlns:w="urn:schemas-microsoft-com:office:word" href="{url}" \
style="height:40px;v-text-anchor:middle;width:160px;" arcsize="10%" strokecolor="#b91c1c" \
fillcolor="#dc2626">
<w:anchorlock/><center style="color:#ffffff;font-family:sans-serif;font-size:14px;">Buy now</center>
</v:roundrect>
<![endif]--><a{attr} href="{h[2]}" style="background-color:#dc2626;border:1px solid #b91c1c;\
border-radius:4px;color:#ffffff;display:inline-block;font-family:sans-serif;font-size:14px;\
line-height:40px;text-align:center;text-decoration:none;width:160px;\
-webkit-text-size-adjust:none;mso-hide:all;">Buy now</a></div>
</td>
</tr></table>
"""

    return (
        card((image[0], title[0], button[0]), ' data-track-name="buy"'),
        card((image[1], title[1], button[1]), ""),
    )


if __name__ == "__main__":
    import sys

    # python make_docs.py [DIRECTORY]: print the figures; write the documents there if given.
    for name, doc in (("digest", digest()), ("newsletter", newsletter())):
        if len(sys.argv) > 1:
            (Path(sys.argv[1]) / f"{name}.html").write_text(doc.html, encoding="utf-8")
        print(
            f"{name}: {len(doc.html.encode())} bytes, {doc.links} links, "
            f"{doc.tracked_links} tracked"
        )
