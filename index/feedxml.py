"""Safe XML for feeds and sitemaps: one strict, streaming expat pass that refuses entity tricks, with hooks."""

from __future__ import annotations

import codecs
import re
from dataclasses import dataclass
from typing import Any
from urllib.parse import urljoin
from xml.parsers import expat

from .errors import FeedError

_CHUNK = 1 << 16
_MAX_ENTITY_CHARS = 16  # enough for the '&#160;'-style declarations some feeds carry; no room for a blow-up
_NESTED_REFERENCE = re.compile(r"&(?!(amp|lt|gt|quot|apos);)")
_XML_DECL = re.compile(rb"\s*<\?xml[^>]*\?>")
_DECL_ENCODING = re.compile(rb"""encoding\s*=\s*["']([A-Za-z0-9._:-]+)["']""")
_BOMS = [
    (codecs.BOM_UTF32_LE, "utf-32"),
    (codecs.BOM_UTF32_BE, "utf-32"),
    (codecs.BOM_UTF8, "utf-8-sig"),
    (codecs.BOM_UTF16_LE, "utf-16"),
    (codecs.BOM_UTF16_BE, "utf-16"),
]
FEED_ITEMS = {"item", "entry"}


def to_utf8(data: bytes, charset: str | None = None) -> bytes:
    """The document as UTF-8 (BOM, then the HTTP charset, then the XML declaration; UTF-8 by default)."""
    bom = next((codec for mark, codec in _BOMS if data.startswith(mark)), None)
    head = _XML_DECL.match(data[:512]) if bom is None else None
    declared = _DECL_ENCODING.search(head.group()) if head else None
    candidates = [bom or charset, declared.group(1).decode() if declared else None, "utf-8"]
    for codec in dict.fromkeys(c.strip().lower() for c in candidates if c):
        try:
            if codecs.lookup(codec).name == "utf-8" and bom is None:
                data.decode("utf-8")
                return data
            return _redeclare(data.decode(codec))
        except (LookupError, UnicodeDecodeError):
            continue
    return _redeclare(data.decode("cp1252", errors="replace"))  # mislabelled legacy text: readable beats refused


def _redeclare(text: str) -> bytes:
    text = text.lstrip("\ufeff")
    match = re.match(r"\s*<\?xml[^>]*\?>", text)
    if match:
        text = (
            re.sub(r"""encoding\s*=\s*["'][^"']*["']""", 'encoding="utf-8"', match.group(), count=1)
            + text[match.end() :]
        )
    return text.encode("utf-8")


def local_name(qname: str) -> str:
    """'dc:creator' -> 'creator' (prefixes are not resolved: feeds often forget to declare them)."""
    return qname.rpartition(":")[2].lower()


class XmlWalker:
    """Streams a UTF-8 document through expat: no entity declarations beyond tiny character ones, no external
    anything, undefined HTML entities (&nbsp;) tolerated as skipped; subclasses receive the events."""

    def __init__(self, what: str = "document") -> None:
        self.what = what
        self.stack: list[str] = []  # local names of the open elements
        self._parser = expat.ParserCreate(encoding="utf-8")
        self._parser.UseForeignDTD(True)  # undefined entities become skipped entities, not errors
        self._parser.ExternalEntityRefHandler = lambda *args: 1  # never load anything
        self._parser.EntityDeclHandler = self._entity
        self._parser.UnparsedEntityDeclHandler = self._refuse_entity
        self._parser.StartElementHandler = self._start
        self._parser.EndElementHandler = self._end
        self._parser.CharacterDataHandler = self.text
        self._parser.buffer_text = True

    @property
    def offset(self) -> int:
        """Byte offset of the event being handled."""
        return int(self._parser.CurrentByteIndex)

    def run(self, data: bytes) -> None:
        """Parse the whole document; malformed or unsafe XML raises FeedError."""
        try:
            for start in range(0, len(data), _CHUNK):
                self._parser.Parse(data[start : start + _CHUNK], False)
            self._parser.Parse(b"", True)
        except expat.ExpatError as exc:
            message = expat.errors.messages.get(exc.code, str(exc))
            raise FeedError(
                f"The {self.what} is not well-formed XML ({message}, line {exc.lineno}, column {exc.offset + 1})."
            ) from None

    def start(self, name: str, attrs: dict[str, str]) -> None:
        """An element opened (name is the local name; the stack already includes it)."""

    def end(self, name: str, qname: str) -> None:
        """An element closed (the stack still includes it)."""

    def text(self, data: str) -> None:
        """Character data."""

    def _start(self, qname: str, attrs: dict[str, str]) -> None:
        self.stack.append(local_name(qname))
        self.start(self.stack[-1], attrs)

    def _end(self, qname: str) -> None:
        self.end(self.stack[-1], qname)
        self.stack.pop()

    def _entity(self, name: str, is_parameter: int, value: str | None, *rest: Any) -> None:
        if is_parameter or value is None or len(value) > _MAX_ENTITY_CHARS or _NESTED_REFERENCE.search(value):
            self._refuse_entity(name)

    def _refuse_entity(self, name: str, *rest: Any) -> None:
        raise FeedError(
            f"The {self.what} declares the XML entity {name!r}, which is refused "
            "(entity expansion can be used to exhaust memory)."
        )


class _Root(Exception):
    pass


class _RootSniffer(XmlWalker):
    def start(self, name: str, attrs: dict[str, str]) -> None:
        raise _Root(name)


def root_element(data: bytes, what: str = "document") -> str:
    """Local name of the root element (reads only up to it); raises FeedError when there is none."""
    try:
        _RootSniffer(what).run(data)
    except _Root as found:
        return str(found.args[0])
    raise FeedError(f"The {what} has no XML element.")


@dataclass(frozen=True)
class ItemSpan:
    """One top-level <item>/<entry>: its bytes in the document and the link it seems to point at."""

    start: int
    end: int
    link: str | None


class FeedScanner(XmlWalker):
    """Checks a feed and finds its items' byte spans and links, so only the chosen items reach feedparser."""

    def __init__(self, data: bytes, base_url: str) -> None:
        super().__init__("feed")
        self.data, self.base_url = data, base_url
        self.items: list[ItemSpan] = []
        self._item_depth = 0
        self._item_start = 0
        self._link: str | None = None
        self._guid: str | None = None
        self._text: list[str] | None = None

    def scan(self) -> list[ItemSpan]:
        """Run over the document; the items in document order."""
        self.run(self.data)
        return self.items

    def start(self, name: str, attrs: dict[str, str]) -> None:
        if not self._item_depth and name in FEED_ITEMS:
            self._item_depth, self._item_start = len(self.stack), self.offset
            self._link = self._guid = None
        elif self._item_depth and len(self.stack) == self._item_depth + 1:
            if name == "link" and "href" in attrs:
                if self._link is None and attrs.get("rel", "alternate") == "alternate":
                    self._link = attrs["href"].strip()
            elif name == "link" or (name == "guid" and attrs.get("isPermaLink", "true").lower() != "false"):
                self._text = []

    def text(self, data: str) -> None:
        if self._text is not None:
            self._text.append(data)

    def end(self, name: str, qname: str) -> None:
        depth = len(self.stack)
        if self._text is not None and depth == self._item_depth + 1:
            value = "".join(self._text).strip() or None
            if name == "link":
                self._link = self._link or value
            else:
                self._guid = value
            self._text = None
        elif self._item_depth and depth == self._item_depth:
            link = self._link or (self._guid if self._guid and "://" in self._guid else None)
            self.items.append(
                ItemSpan(self._item_start, self._end_offset(qname), urljoin(self.base_url, link) if link else None)
            )
            self._item_depth = 0

    def _end_offset(self, qname: str) -> int:
        """Offset just past the element's end tag ('<item/>' has none: expat is already past it)."""
        here = self.offset
        closing = b"</" + qname.encode("utf-8")
        if self.data.startswith(closing, here) and self.data[here + len(closing) : here + len(closing) + 1] in (
            b">",
            b" ",
            b"\t",
            b"\r",
            b"\n",
        ):
            return self.data.index(b">", here) + 1
        return here


def without_items(data: bytes, items: list[ItemSpan], keep: set[int]) -> bytes:
    """The document with every item not in keep (by index) cut out."""
    pieces, position = [], 0
    for index, item in enumerate(items):
        if index not in keep:
            pieces.append(data[position : item.start])
            position = item.end
    pieces.append(data[position:])
    return b"".join(pieces)
