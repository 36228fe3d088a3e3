"""The Article record, its stable id, and the readers that turn inputs into articles."""

from __future__ import annotations

import codecs
import hashlib
import io
import re
import tomllib
import unicodedata
from collections.abc import Sequence
from dataclasses import dataclass, field, replace
from datetime import date, datetime
from email.message import EmailMessage
from pathlib import Path, PurePath
from typing import TYPE_CHECKING, Any
from urllib.parse import parse_qsl, urlencode, urlsplit, urlunsplit

from .errors import ArticleTooLarge, InvalidArticle, UnsupportedFormat
from .servers import scoped_article_id
from .text import clip

if TYPE_CHECKING:  # the HTML and PDF libraries load on first use: answering a question needs neither
    from pypdf import PdfReader

_DIRECTORY_INDEX = re.compile(r"/(index|default)\.(html?|php|aspx?)$", re.I)


def canonical_url(url: str) -> str:
    """Normalise a URL so that spellings of one page give one article id: tracking parameters dropped
    (courlan's list: utm_*, cid, fbclid…), host lower case without www, no fragment, no trailing slash or
    directory index ('…/story/index.html' is '…/story')."""
    from courlan import normalize_url

    try:
        url = normalize_url(url.strip())
    except ValueError:
        url = url.strip()
    parts = urlsplit(url)
    query = sorted(parse_qsl(parts.query, keep_blank_values=True))
    path = parts.path.rstrip("/")
    path = _DIRECTORY_INDEX.sub("", path).rstrip("/") or "/"
    netloc = parts.netloc.lower()
    if netloc.startswith("www."):
        netloc = netloc[4:]
    return urlunsplit((parts.scheme.lower(), netloc, path, urlencode(query), ""))


def url_article_id(url: str) -> str:
    """The id of the article at a URL (any spelling of it)."""
    return "u" + hashlib.sha256(canonical_url(url).encode()).hexdigest()[:15]


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
    server: str | None = None  # the server whose corpus it belongs to; None: the shared corpus
    stored_id: str | None = field(default=None, compare=False)  # the id it is stored under, when read back

    @property
    def id(self) -> str:
        """Stable id: from the canonical URL when there is one, else from the content; a server's own for the
        articles it adds (see servers.scoped_article_id)."""
        if self.stored_id:
            return self.stored_id
        base = url_article_id(self.url) if self.url else "h" + self.content_hash[:15]
        return base if self.server is None else scoped_article_id(self.server, base)

    @property
    def content_hash(self) -> str:
        """Hash of everything that is indexed; a changed version has a different one."""
        parts = [self.title, self.body, self.outlet or "", self.published.isoformat() if self.published else ""]
        return hashlib.sha256("\x1f".join(parts).encode()).hexdigest()

    def with_defaults(self, **kwargs: Any) -> Article:
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
    def from_dict(cls, data: dict) -> Article:
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


# --- readers ---------------------------------------------------------------------------------------
# Every reader returns an Article or raises a typed error from .errors with a message for the user.

DEFAULT_MAX_BYTES = 5_000_000
MAX_TITLE_CHARS = 300
MAX_URL_CHARS = 2048
ARTICLE_SUFFIXES = (".txt", ".md", ".markdown", ".html", ".htm", ".pdf")
_MIN_HTML_WORDS = 10  # less than this after extraction is navigation or a cookie banner, not an article
_TEXT_TYPES = {"text/plain", "text/markdown", "text/x-markdown"}
_HTML_TYPES = {"text/html", "application/xhtml+xml"}
_GENERIC_TYPES = {
    "",
    "application/octet-stream",
    "binary/octet-stream",
    "application/x-download",
    "application/force-download",
    "application/unknown",
}
_SUFFIX_KINDS = {
    ".txt": "text",
    ".text": "text",
    ".md": "text",
    ".markdown": "text",
    ".html": "html",
    ".htm": "html",
    ".xhtml": "html",
    ".pdf": "pdf",
}
_MAGIC = [  # (prefix, what it is) for common binary files people upload by mistake
    (b"\x89PNG\r\n\x1a\n", "a PNG image"),
    (b"\xff\xd8\xff", "a JPEG image"),
    (b"GIF87a", "a GIF image"),
    (b"GIF89a", "a GIF image"),
    (b"PK\x03\x04", "a ZIP archive (or a Word/OpenDocument file)"),
    (b"\x1f\x8b", "a gzip archive"),
    (b"7z\xbc\xaf\x27\x1c", "a 7-Zip archive"),
    (b"Rar!\x1a\x07", "a RAR archive"),
    (b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1", "an old Microsoft Office document"),
    (b"\x7fELF", "an executable"),
    (b"{\\rtf", "an RTF document"),
]


def article_from_text(
    body: str,
    *,
    title: str,
    outlet: str | None = None,
    published: date | None = None,
    url: str | None = None,
    authors: Sequence[str] = (),
    max_bytes: int = DEFAULT_MAX_BYTES,
) -> Article:
    """Build an article from pasted text, after checking it is non-empty, small enough and not binary."""
    if not body or not body.strip():
        raise InvalidArticle("The article text is empty.")
    size = len(body.encode("utf-8", "surrogatepass"))
    if size > max_bytes:
        raise ArticleTooLarge(f"The text is {human_size(size)}; the limit is {human_size(max_bytes)}.")
    if _looks_binary(body):
        raise UnsupportedFormat("The text looks like binary data, not an article.")
    clean_title = _clean_title(title or "")
    if not clean_title:
        raise InvalidArticle("The article title is empty.")
    url = (url or "").strip() or None
    if url is not None:
        _check_url_text(url)
    return Article(
        title=clean_title,
        body=normalise_text(body),
        outlet=_clean_title(outlet or "") or None,
        published=published,
        url=url,
        authors=tuple(a for a in (_clean_title(a) for a in authors) if a),
    )


def parse_front_matter(text: str) -> tuple[dict[str, Any], str]:
    """Split `---` front matter (simple `key: value` lines) from the body; published becomes a date."""
    lines = text.lstrip("\ufeff").split("\n")
    if not lines or lines[0].strip() != "---":
        return {}, text
    end = next((i for i in range(1, len(lines)) if lines[i].strip() in ("---", "...")), None)
    if end is None:
        return {}, text
    meta: dict[str, Any] = {}
    for number, line in enumerate(lines[1:end], 2):
        if not line.strip() or line.lstrip().startswith("#"):
            continue
        key, sep, value = line.partition(":")
        if not sep or not key.strip():
            raise InvalidArticle(f"Front matter line {number} is not 'key: value': {line.strip()[:80]!r}")
        meta[key.strip().lower()] = _unquote(value.strip())
    if "author" in meta and "authors" not in meta:
        meta["authors"] = meta.pop("author")
    if "authors" in meta:
        meta["authors"] = tuple(a.strip() for a in meta["authors"].split(",") if a.strip())
    if "published" in meta:
        meta["published"] = _parse_date(meta["published"], "Front matter 'published'")
    return meta, "\n".join(lines[end + 1 :])


def article_from_markdown(
    text: str,
    *,
    default_title: str | None = None,
    outlet: str | None = None,
    published: date | None = None,
    url: str | None = None,
    authors: Sequence[str] = (),
    max_bytes: int = DEFAULT_MAX_BYTES,
) -> Article:
    """Text or Markdown with optional front matter; front matter wins, the keyword values fill gaps."""
    meta, body = parse_front_matter(text)
    title = (
        meta.get("title") or _markdown_heading(body) or _short_first_line(body) or default_title or _first_line(body)
    )
    return article_from_text(
        body,
        title=title or "",
        outlet=meta.get("outlet") or outlet,
        published=meta.get("published") or published,
        url=meta.get("url") or url,
        authors=meta.get("authors") or authors,
        max_bytes=max_bytes,
    )


def article_from_html(html: str | bytes, *, url: str | None = None, max_bytes: int = DEFAULT_MAX_BYTES) -> Article:
    """Extract the article text and metadata from an HTML page (scripts, styles and markup are dropped)."""
    if isinstance(html, bytes):
        html = _decode_html(html, None)
    if not html.strip():
        raise InvalidArticle("The article text is empty.")
    import trafilatura

    doc = trafilatura.bare_extraction(
        html,
        url=url,
        with_metadata=True,
        include_comments=False,
        favor_precision=True,
        include_images=False,
        include_links=False,
        date_extraction_params={"original_date": True, "extensive_search": False, "max_date": date.today().isoformat()},
    )
    text = (doc.text or "") if doc is not None and not isinstance(doc, dict) else ""
    if doc is None or isinstance(doc, dict) or len(text.split()) < _MIN_HTML_WORDS:
        raise InvalidArticle("No article text found in the HTML page.")
    page_url = doc.url if _is_web_url(doc.url) else url
    return article_from_text(
        text,
        title=doc.title or _first_line(text),
        outlet=doc.sitename or _host(page_url),
        published=_parse_date(doc.date, None),
        url=page_url,
        authors=[a for a in (doc.author or "").split(";") if a.strip()],
        max_bytes=max_bytes,
    )


def article_from_pdf(
    data: bytes, *, filename: str | None = None, url: str | None = None, max_bytes: int = DEFAULT_MAX_BYTES
) -> Article:
    """Extract the text of a PDF; encrypted or text-less (scanned) PDFs are refused."""
    from pypdf import PdfReader

    try:
        reader = PdfReader(io.BytesIO(data))
        if reader.is_encrypted and not _decrypt_empty(reader):
            raise InvalidArticle("The PDF is encrypted; upload an unprotected copy.")
        pages = [page.extract_text() or "" for page in reader.pages]
        meta_title = reader.metadata.title if reader.metadata else None
    except InvalidArticle:
        raise
    except Exception as exc:  # pypdf raises many kinds of errors on damaged files
        raise InvalidArticle(f"The PDF could not be read ({type(exc).__name__}: {exc}).") from None
    body = "\n\n".join(p.strip() for p in pages if p.strip())
    if not body:
        raise InvalidArticle("The PDF has no text (is it a scan?); only PDFs with a text layer can be read.")
    title = (
        str(meta_title or "").strip() or _short_first_line(body) or _title_from_filename(filename) or _first_line(body)
    )
    return article_from_text(body, title=title, url=url, max_bytes=max_bytes)


def article_from_bytes(
    data: bytes, *, filename: str | None = None, content_type: str | None = None, url: str | None = None, max_bytes: int
) -> Article:
    """Read an uploaded or fetched file: size check, type detection, strict decoding, then the right reader."""
    if len(data) > max_bytes:
        raise ArticleTooLarge(f"The file is {human_size(len(data))}; the limit is {human_size(max_bytes)}.")
    if not data.strip():
        raise InvalidArticle("The article text is empty.")
    mime, charset = _parse_content_type(content_type)
    kind = _detect_kind(data, mime, filename)
    if kind is None and _sniff_html(data[:256].decode("utf-8", "ignore")):
        kind = "html"
    if kind == "pdf":
        return article_from_pdf(data, filename=filename, url=url, max_bytes=max_bytes)
    if kind == "html":
        return article_from_html(_decode_html(data, charset), url=url, max_bytes=max_bytes)
    text = _decode(data, charset)
    if kind is None and _sniff_html(text):  # e.g. HTML in UTF-16
        return article_from_html(text, url=url, max_bytes=max_bytes)
    return article_from_markdown(text, default_title=_title_from_filename(filename), url=url, max_bytes=max_bytes)


def read_path(path: Path, *, max_bytes: int) -> Article:
    """Read an article file, with its `<stem>.meta.toml` sidecar values overriding the metadata."""
    try:
        info = path.stat()
    except FileNotFoundError:
        raise InvalidArticle(f"No such file: {str(path)[:200]}") from None
    except OSError as exc:
        raise InvalidArticle(f"Cannot read {str(path)[:200]}: {exc.strerror or exc}") from None
    if not path.is_file():
        raise InvalidArticle(f"Not a file: {path}")
    if info.st_size > max_bytes:
        raise ArticleTooLarge(f"The file is {human_size(info.st_size)}; the limit is {human_size(max_bytes)}.")
    try:
        with path.open("rb") as handle:
            data = handle.read(max_bytes + 1)  # the file may have grown since stat
    except OSError as exc:
        raise InvalidArticle(f"Cannot read {str(path)[:200]}: {exc.strerror or exc}") from None
    article = article_from_bytes(data, filename=path.name, max_bytes=max_bytes)
    sidecar = path.with_name(path.stem + ".meta.toml")
    return _apply_sidecar(article, sidecar) if sidecar.is_file() else article


def iter_article_paths(folder: Path) -> list[Path]:
    """The article files in a folder (not sidecars, not hidden files), sorted by name."""
    try:
        return sorted(
            p
            for p in Path(folder).iterdir()
            if p.is_file() and not p.name.startswith(".") and p.suffix.lower() in ARTICLE_SUFFIXES
        )
    except OSError as exc:
        raise InvalidArticle(f"Cannot read the folder {str(folder)[:200]}: {exc.strerror or exc}") from None


def article_from_record(record: dict[str, Any]) -> Article:
    """A record of a JSONL corpus (url, title, published, authors, body; the benchmark's shape) as an Article."""
    if not isinstance(record, dict) or not isinstance(record.get("body"), str):
        raise InvalidArticle("A record needs a 'body' string.")
    authors = record.get("authors") or ()
    if isinstance(authors, str):
        authors = [authors]
    url = record.get("url") or None
    if url is not None and not isinstance(url, str):
        raise InvalidArticle("A record's 'url' must be a string.")
    if url is not None:
        _check_url_text(url)
    return Article(
        title=_clean_title(str(record.get("title") or "")),
        body=record["body"],
        outlet=_host(url),
        published=_parse_date(record.get("published"), "The record's 'published'"),
        url=url,
        authors=tuple(str(a) for a in authors if str(a).strip()),
    )


# --- helpers ---------------------------------------------------------------------------------------


def _check_url_text(url: str) -> None:
    """Refuse a link that cannot be parsed or is absurdly long (it would become the article's id)."""
    try:
        if len(url) > MAX_URL_CHARS:
            raise ValueError("too long")
        canonical_url(url)
    except ValueError:
        raise InvalidArticle(f"The link {url[:200]!r} is not a valid URL.") from None


def human_size(size: int) -> str:
    """A byte count for messages: '5.0 MB', '12.3 KB', '80 bytes'."""
    if size >= 1_000_000:
        return f"{size / 1_000_000:.1f} MB"
    if size >= 1_000:
        return f"{size / 1_000:.1f} KB"
    return f"{size} bytes"


def _looks_binary(text: str) -> bool:
    if "\x00" in text:
        return True
    sample = text[:65536]
    controls = sum(1 for ch in sample if unicodedata.category(ch) == "Cc" and ch not in "\t\n\r\f\v")
    return controls > 0.1 * len(sample)


def _clean_title(title: str) -> str:
    title = " ".join(title.split())
    return clip(title, MAX_TITLE_CHARS)


def _unquote(value: str) -> str:
    if len(value) >= 2 and value[0] == value[-1] and value[0] in "\"'":
        return value[1:-1]
    return value


def _parse_date(value: object, label: str | None) -> date | None:
    """A YYYY-MM-DD date; with a label, a bad value is an error, without one it is dropped."""
    if value is None or value == "":
        return None
    if isinstance(value, datetime):
        return value.date()
    if isinstance(value, date):
        return value
    try:
        return date.fromisoformat(str(value).strip()[:10] if label is None else str(value).strip())
    except ValueError:
        if label is None:
            return None
        raise InvalidArticle(f"{label} must be a date like 2024-03-05, not {str(value)[:40]!r}.") from None


def _markdown_heading(body: str) -> str | None:
    for line in body.split("\n"):
        if line.startswith("# "):
            return line[2:].strip(" #") or None
    return None


def _first_line(body: str) -> str:
    return next((line.strip().lstrip("#").strip() for line in body.split("\n") if line.strip()), "")


def _short_first_line(body: str) -> str | None:
    line = _first_line(body)
    return line if 0 < len(line) <= 150 else None


def _title_from_filename(filename: str | None) -> str | None:
    if not filename:
        return None
    return " ".join(PurePath(filename).stem.replace("_", " ").replace("-", " ").split()) or None


def _host(url: str | None) -> str | None:
    host = urlsplit(url).hostname if url else None
    return host[4:] if host and host.startswith("www.") else host


def _is_web_url(url: str | None) -> bool:
    return bool(url) and urlsplit(url).scheme in ("http", "https") and bool(urlsplit(url).hostname)


def _parse_content_type(content_type: str | None) -> tuple[str, str | None]:
    message = EmailMessage()
    message["content-type"] = content_type or "application/octet-stream"
    mime = message.get_content_type() if content_type else ""
    charset = message.get_param("charset") if content_type else None
    return mime, str(charset).strip() if charset else None


def _detect_kind(data: bytes, mime: str, filename: str | None) -> str | None:
    """'pdf', 'html', 'text' or None (unknown: sniff the decoded text); raises on binary files."""
    head = data[:16]
    for magic, what in _MAGIC:
        if head.startswith(magic):
            raise UnsupportedFormat(f"The file is {what}, not an article (text, Markdown, HTML or PDF).")
    if data.lstrip()[:5] == b"%PDF-" or mime == "application/pdf":
        return "pdf"
    if mime in _HTML_TYPES:
        return "html"
    if mime in _TEXT_TYPES:
        return "text"
    if mime not in _GENERIC_TYPES:
        raise UnsupportedFormat(f"Files of type {mime} are not supported; use text, Markdown, HTML or PDF.")
    return _SUFFIX_KINDS.get(PurePath(filename or "").suffix.lower())


def _sniff_html(text: str) -> bool:
    start = text.lstrip("\ufeff \t\r\n")[:64].lower()
    return start.startswith(("<!doctype html", "<html"))


_BOMS = [
    (codecs.BOM_UTF32_LE, "utf-32"),
    (codecs.BOM_UTF32_BE, "utf-32"),
    (codecs.BOM_UTF8, "utf-8-sig"),
    (codecs.BOM_UTF16_LE, "utf-16"),
    (codecs.BOM_UTF16_BE, "utf-16"),
]


def _decode(data: bytes, charset: str | None) -> str:
    """Strict decoding: a BOM wins, then a declared charset, else UTF-8; never guesses."""
    codec = next((name for bom, name in _BOMS if data.startswith(bom)), None) or charset
    if codec is None:
        if b"\x00" in data:
            raise UnsupportedFormat("The file looks like binary data (it contains NUL bytes), not text.")
        codec = "utf-8"
    try:
        return data.decode(codec)
    except LookupError:
        raise InvalidArticle(f"Unknown character set {codec!r}.") from None
    except UnicodeDecodeError as exc:
        if codec != "utf-8" or charset:
            raise InvalidArticle(f"The file is not valid {codec} text (byte {exc.start}).") from None
        raise InvalidArticle(
            f"The file is not valid UTF-8 text (byte 0x{data[exc.start]:02x} at position {exc.start}); "
            "save it as UTF-8 or give its character set."
        ) from None


def _decode_html(data: bytes, charset: str | None) -> str:
    """Like _decode, but an HTML page may declare its charset in a <meta> tag."""
    try:
        return _decode(data, charset)
    except UnsupportedFormat:
        raise
    except InvalidArticle:
        declared = None if charset else _meta_charset(data)
        if not declared:
            raise
        return _decode(data, declared)


def _meta_charset(data: bytes) -> str | None:
    import lxml.etree
    import lxml.html

    try:
        doc = lxml.html.fromstring(data[:8192])
    except (ValueError, lxml.etree.ParserError):
        return None
    for value in doc.xpath("//meta/@charset"):
        return str(value).strip() or None
    for value in doc.xpath("//meta[translate(@http-equiv,'CONTENT-YP','content-yp')='content-type']/@content"):
        return _parse_content_type(str(value))[1]
    return None


def _decrypt_empty(reader: PdfReader) -> bool:
    """Some PDFs are 'encrypted' with an empty password only to set permissions; those can be read."""
    try:
        return bool(reader.decrypt(""))
    except Exception:
        return False


def _apply_sidecar(article: Article, sidecar: Path) -> Article:
    """Sidecar values (title, outlet, published, url, authors) replace the article's."""
    try:
        meta = tomllib.loads(sidecar.read_text(encoding="utf-8"))
    except (OSError, UnicodeDecodeError, tomllib.TOMLDecodeError) as exc:
        raise InvalidArticle(f"{sidecar.name} could not be read: {exc}") from None
    except RecursionError:
        raise InvalidArticle(f"{sidecar.name} is nested too deeply to be a metadata file.") from None
    changes: dict[str, Any] = {}
    for key in ("title", "outlet", "url"):
        value = meta.get(key)
        if value is not None and not isinstance(value, str):
            raise InvalidArticle(f"{sidecar.name}: {key!r} must be a string.")
        if value and value.strip():
            changes[key] = _clean_title(value) if key != "url" else value.strip()
    if "url" in changes:
        _check_url_text(changes["url"])
    if "published" in meta:
        changes["published"] = _parse_date(meta["published"], f"{sidecar.name}: 'published'")
    if "authors" in meta:
        authors = [meta["authors"]] if isinstance(meta["authors"], str) else meta["authors"]
        if not isinstance(authors, list) or not all(isinstance(a, str) for a in authors):
            raise InvalidArticle(f"{sidecar.name}: 'authors' must be a list of names.")
        changes["authors"] = tuple(_clean_title(a) for a in authors if a.strip())
    return replace(article, **changes)
