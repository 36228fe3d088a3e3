"""The Article record, its stable id, and the readers that turn inputs into articles."""

from __future__ import annotations

import hashlib
import re
import unicodedata
from dataclasses import dataclass, field, replace
from datetime import date
from urllib.parse import parse_qsl, urlencode, urlsplit, urlunsplit

_TRACKING_PARAMS = re.compile(r"^(utm_\w+|fbclid|gclid|mc_cid|mc_eid|ref|cmpid)$", re.I)


def canonical_url(url: str) -> str:
    """Normalise a URL so that trivially different spellings give the same article id."""
    parts = urlsplit(url.strip())
    query = [(k, v) for k, v in parse_qsl(parts.query, keep_blank_values=True) if not _TRACKING_PARAMS.match(k)]
    path = parts.path or "/"
    if len(path) > 1 and path.endswith("/"):
        path = path[:-1]
    netloc = parts.netloc.lower()
    if netloc.startswith("www."):
        netloc = netloc[4:]
    return urlunsplit((parts.scheme.lower(), netloc, path, urlencode(query), ""))


def normalise_text(text: str) -> str:
    """NFC, unified newlines, trailing spaces dropped, at most one blank line in a row."""
    text = unicodedata.normalize("NFC", text).replace("\r\n", "\n").replace("\r", "\n")
    lines = [line.rstrip() for line in text.split("\n")]
    return re.sub(r"\n{3,}", "\n\n", "\n".join(lines)).strip()


@dataclass(frozen=True)
class Article:
    """One news article: its text and the metadata a citation shows."""

    title: str
    body: str
    outlet: str | None = None
    published: date | None = None
    url: str | None = None
    authors: tuple[str, ...] = field(default=())

    @property
    def id(self) -> str:
        """Stable id: from the canonical URL when there is one, else from the content."""
        if self.url:
            return "u" + hashlib.sha256(canonical_url(self.url).encode()).hexdigest()[:15]
        return "h" + self.content_hash[:15]

    @property
    def content_hash(self) -> str:
        """Hash of everything that is indexed; a changed version has a different one."""
        parts = [self.title, self.body, self.outlet or "", self.published.isoformat() if self.published else ""]
        return hashlib.sha256("\x1f".join(parts).encode()).hexdigest()

    def with_defaults(self, **kwargs: object) -> "Article":
        """A copy with the given fields filled in where this article has none."""
        missing = {k: v for k, v in kwargs.items() if v and not getattr(self, k)}
        return replace(self, **missing) if missing else self

    def to_dict(self) -> dict:
        """Plain JSON-able form."""
        return {
            "id": self.id,
            "title": self.title,
            "outlet": self.outlet,
            "published": self.published.isoformat() if self.published else None,
            "url": self.url,
            "authors": list(self.authors),
            "body": self.body,
        }

    @classmethod
    def from_dict(cls, data: dict) -> "Article":
        """Inverse of to_dict (the id is derived, not read)."""
        published = data.get("published")
        return cls(
            title=data.get("title") or "",
            body=data["body"],
            outlet=data.get("outlet") or None,
            published=date.fromisoformat(published) if published else None,
            url=data.get("url") or None,
            authors=tuple(data.get("authors") or ()),
        )
