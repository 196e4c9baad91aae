"""A slow, literal HTML tokenizer: the WHATWG state machine, one character at a time.

The test suite checks `trackcodec._html_tokenizer` (regular expressions,
skipping what it is not asked about) against this transcription of the
standard's tokenizer states. Like the real one, it leaves tree construction
out, except for the few decisions the tokenizer needs from it, taken the same
simple way: raw-text elements switch the state, ``<svg>`` and ``<math>`` open
foreign content (where ``<![CDATA[`` is a CDATA section) until their end tag
or a "breakout" start tag.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from html.entities import html5

WS = "\t\n\f\r "
RAWTEXT = {"style", "xmp", "iframe", "noembed", "noframes", "textarea", "title"}
BREAKOUT = {
    *("b", "big", "blockquote", "body", "br", "center", "code", "dd", "div", "dl", "dt", "em"),
    *("embed", "h1", "h2", "h3", "h4", "h5", "h6", "head", "hr", "i", "img", "li", "listing"),
    *("menu", "meta", "nobr", "ol", "p", "pre", "ruby", "s", "small", "span", "strong"),
    *("strike", "sub", "sup", "table", "tt", "u", "ul", "var"),
}
C1 = {
    0x80: "\u20ac", 0x82: "\u201a", 0x83: "\u0192", 0x84: "\u201e", 0x85: "\u2026",
    0x86: "\u2020", 0x87: "\u2021", 0x88: "\u02c6", 0x89: "\u2030", 0x8A: "\u0160",
    0x8B: "\u2039", 0x8C: "\u0152", 0x8E: "\u017d", 0x91: "\u2018", 0x92: "\u2019",
    0x93: "\u201c", 0x94: "\u201d", 0x95: "\u2022", 0x96: "\u2013", 0x97: "\u2014",
    0x98: "\u02dc", 0x99: "\u2122", 0x9A: "\u0161", 0x9B: "\u203a", 0x9C: "\u0153",
    0x9E: "\u017e", 0x9F: "\u0178",
}  # fmt: skip


@dataclass
class Attr:
    name: str
    start: int
    end: int
    value_start: int = -1
    value_end: int = -1
    quote: str | None = None
    value: str = ""


@dataclass
class Tag:
    kind: str  # "start", "end" or "comment"
    name: str
    start: int
    end: int = -1
    attrs: list[Attr] = field(default_factory=list)
    self_closing: bool = False
    inner: tuple[int, int] = (-1, -1)


def _alpha(c: str) -> bool:
    return c.isascii() and c.isalpha()


def _alnum(c: str) -> bool:
    return c.isascii() and c.isalnum()


def char_reference(text: str, i: int) -> tuple[str, int]:
    """Decode the reference at ``text[i] == "&"`` inside an attribute value.

    Returns what it stands for and the offset after it (``"&"``, i + 1 when
    nothing is decoded).
    """
    j = i + 1
    if j < len(text) and text[j] == "#":
        k = j + 1
        hexa = k < len(text) and text[k] in "xX"
        if hexa:
            k += 1
        digits = "0123456789abcdefABCDEF" if hexa else "0123456789"
        start = k
        while k < len(text) and text[k] in digits:
            k += 1
        if k == start:
            return "&", i + 1
        code = int(text[start:k], 16 if hexa else 10)
        if k < len(text) and text[k] == ";":
            k += 1
        if code == 0 or code > 0x10FFFF or 0xD800 <= code <= 0xDFFF:
            return "\ufffd", k
        return C1.get(code, chr(code)), k
    best = ""
    k = j
    while k < len(text) and (_alnum(text[k]) or text[k] == ";") and k - j < 40:
        k += 1
        if text[j:k] in html5:
            best = text[j:k]
        if text[k - 1] == ";":
            break
    if best:
        after = text[j + len(best) : j + len(best) + 1]
        if not best.endswith(";") and (after == "=" or _alnum(after)):
            return "&", i + 1
        return html5[best], j + len(best)
    return "&", i + 1


def tokenize(text: str) -> list[Tag]:
    """Every start tag, end tag and ``<!--`` comment of ``text``, in order."""
    out: list[Tag] = []
    n = len(text)
    i = 0
    state = "data"
    tag: Tag | None = None
    attr: Attr | None = None
    foreign = 0

    def emit(end: int) -> str:
        nonlocal foreign
        assert tag is not None
        tag.end = end
        out.append(tag)
        if tag.kind == "end":
            if foreign and tag.name in ("svg", "math"):
                foreign -= 1
            return "data"
        if foreign and tag.name in BREAKOUT:
            foreign = 0
        if foreign or tag.name in ("svg", "math"):
            if tag.name in ("svg", "math") and not tag.self_closing:
                foreign += 1
            return "data"
        if tag.name in RAWTEXT:
            return "rawtext"
        if tag.name == "script":
            return "script"
        if tag.name == "plaintext":
            return "plaintext"
        return "data"

    def new_attr(at: int) -> Attr:
        assert tag is not None
        created = Attr("", at, at)
        tag.attrs.append(created)
        return created

    while i <= n:
        c = text[i] if i < n else ""  # "" is end of input
        if state == "data":
            if c == "":
                break
            if c == "<":
                state = "tag open"
            i += 1
        elif state == "tag open":
            if c == "!":
                state, i = "markup", i + 1
            elif c == "/":
                state, i = "end tag open", i + 1
            elif _alpha(c):
                tag = Tag("start", "", i - 1)
                state = "tag name"
            elif c == "?":
                state = "bogus"
            else:
                state = "data"
        elif state == "end tag open":
            if _alpha(c):
                tag = Tag("end", "", i - 2)
                state = "tag name"
            elif c == ">":
                state, i = "data", i + 1
            elif c == "":
                break
            else:
                state = "bogus"
        elif state == "tag name":
            assert tag is not None
            if c == "":
                break
            if c in WS:
                state = "before attr name"
            elif c == "/":
                state = "self-closing"
            elif c == ">":
                state = emit(i + 1)
            else:
                tag.name += c.lower() if _alpha(c) else c
            i += 1
        elif state == "before attr name":
            if c in WS and c:
                i += 1
            elif c in ("/", ">", ""):
                state = "after attr name"
            elif c == "=":
                attr = new_attr(i)
                attr.name, attr.end = "=", i + 1
                state, i = "attr name", i + 1
            else:
                attr = new_attr(i)
                state = "attr name"
        elif state == "attr name":
            assert attr is not None
            if c == "" or c in WS or c in "/>":
                state = "after attr name"
            elif c == "=":
                state, i = "before attr value", i + 1
            else:
                attr.name += c.lower() if _alpha(c) else c
                attr.end = i + 1
                i += 1
        elif state == "after attr name":
            if c == "":
                break
            if c in WS:
                i += 1
            elif c == "/":
                state, i = "self-closing", i + 1
            elif c == "=":
                state, i = "before attr value", i + 1
            elif c == ">":
                state, i = emit(i + 1), i + 1
            else:
                attr = new_attr(i)
                state = "attr name"
        elif state == "before attr value":
            assert attr is not None
            if c and c in WS:
                i += 1
            elif c in ('"', "'"):
                attr.quote, attr.value_start = c, i + 1
                state, i = "quoted value", i + 1
            elif c == ">":
                attr.quote, attr.value_start, attr.value_end, attr.end = "", i, i, i
                state, i = emit(i + 1), i + 1
            else:
                attr.quote, attr.value_start = "", i
                state = "unquoted value"
        elif state == "quoted value":
            assert attr is not None
            if c == "":
                break
            if c == attr.quote:
                attr.value_end, attr.end = i, i + 1
                state, i = "after quoted value", i + 1
            elif c == "&":
                decoded, i = char_reference(text, i)
                attr.value += decoded
            else:
                attr.value += c
                i += 1
        elif state == "unquoted value":
            assert attr is not None
            if c == "":
                break
            if c in WS or c == ">":
                attr.value_end = attr.end = i
                state = "before attr name" if c in WS else "after attr name"
            elif c == "&":
                decoded, i = char_reference(text, i)
                attr.value += decoded
            else:
                attr.value += c
                i += 1
        elif state == "after quoted value":
            if c == "":
                break
            if c in WS:
                state, i = "before attr name", i + 1
            elif c == "/":
                state, i = "self-closing", i + 1
            elif c == ">":
                state, i = emit(i + 1), i + 1
            else:
                state = "before attr name"
        elif state == "self-closing":
            assert tag is not None
            if c == "":
                break
            if c == ">":
                tag.self_closing = True
                state, i = emit(i + 1), i + 1
            else:
                state = "before attr name"
        elif state == "bogus":
            end = text.find(">", i)
            if end < 0:
                break
            state, i = "data", end + 1
        elif state == "markup":
            if text.startswith("--", i):
                tag = Tag("comment", "", i - 2)
                tag.inner = (i + 2, i + 2)
                state, i = "comment start", i + 2
            elif text[i : i + 7].upper() == "DOCTYPE":
                state = "bogus"  # every DOCTYPE state ends at the first ">"
            elif text.startswith("[CDATA[", i) and foreign:
                end = text.find("]]>", i + 7)
                if end < 0:
                    break
                state, i = "data", end + 3
            else:
                state = "bogus"
        elif state.startswith("comment"):
            assert tag is not None
            if c == "":
                break
            if state == "comment start":
                nxt = {"-": "comment start dash", ">": "end"}.get(c, "comment")
            elif state == "comment start dash":
                nxt = {"-": "comment end", ">": "end"}.get(c, "comment")
            elif state == "comment":
                nxt = "comment end dash" if c == "-" else "comment"
            elif state == "comment end dash":
                nxt = "comment end" if c == "-" else "comment"
            elif state == "comment end":
                nxt = {">": "end", "!": "comment end bang", "-": "comment end"}.get(c, "comment")
            else:  # comment end bang
                nxt = {"-": "comment end dash", ">": "end"}.get(c, "comment")
            if nxt == "end":
                back = {"comment start dash": 1, "comment end": 2, "comment end bang": 3}
                inner_end = i - back.get(state, 0)
                tag.inner = (tag.inner[0], max(tag.inner[0], inner_end))
                tag.end = i + 1
                out.append(tag)
                state = "data"
            else:
                state = nxt
            i += 1
        elif state == "rawtext":
            assert tag is not None
            found = _appropriate_end(text, i, tag.name)
            if found < 0:
                break
            tag = Tag("end", "", found)
            state, i = "tag name", found + 2
        elif state == "script":
            found = _script_end(text, i)
            if found < 0:
                break
            tag = Tag("end", "", found)
            state, i = "tag name", found + 2
        elif state == "plaintext":
            break
        else:  # pragma: no cover
            raise AssertionError(state)
    return out


def _appropriate_end(text: str, i: int, name: str) -> int:
    """Offset of the end tag that closes RCDATA or RAWTEXT ``name`` (-1: none)."""
    while True:
        i = text.find("</", i)
        if i < 0:
            return -1
        j = i + 2
        k = j
        while k < len(text) and _alpha(text[k]):
            k += 1
        if text[j:k].lower() == name and k < len(text) and (text[k] in WS or text[k] in "/>"):
            return i
        i += 1


def _script_end(text: str, i: int) -> int:
    """Offset of the ``</script`` that ends script data starting at ``i`` (-1: none)."""
    state = "data"
    n = len(text)

    def name_at(j: int) -> tuple[str, str]:
        k = j
        while k < n and _alpha(text[k]):
            k += 1
        return text[j:k].lower(), (text[k] if k < n else "")

    while i < n:
        c = text[i]
        if state == "data":
            if c == "<":
                if text.startswith("</", i):
                    name, after = name_at(i + 2)
                    if name == "script" and after and (after in WS or after in "/>"):
                        return i
                elif text.startswith("<!--", i):
                    state, i = "escaped dash dash", i + 4
                    continue
            i += 1
        elif state.startswith("escaped"):
            if c == "-":
                state = "escaped dash" if state == "escaped" else "escaped dash dash"
            elif c == "<":
                state = "escaped"
                if text.startswith("</", i):
                    name, after = name_at(i + 2)
                    if name == "script" and after and (after in WS or after in "/>"):
                        return i
                else:
                    name, after = name_at(i + 1)
                    if name == "script" and after and (after in WS or after in "/>"):
                        state = "double"
                        i += 1 + len(name)
                        continue
            elif c == ">" and state == "escaped dash dash":
                state = "data"
            else:
                state = "escaped"
            i += 1
        else:  # double escaped
            if c == "-":
                state = "double dash" if state == "double" else "double dash dash"
            elif c == "<":
                state = "double"
                if text.startswith("</", i):
                    name, after = name_at(i + 2)
                    if name == "script" and after and (after in WS or after in "/>"):
                        state = "escaped"
                        i += 2 + len(name)
                        continue
            elif c == ">" and state == "double dash dash":
                state = "data"
            else:
                state = "double"
            i += 1
    return -1
