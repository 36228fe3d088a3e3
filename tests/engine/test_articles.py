"""Readers: text, Markdown, HTML, PDF, uploads and files on disk, with real inputs and real libraries."""

from __future__ import annotations

import io
import random
import time
from datetime import date
from pathlib import Path

import pytest
from pypdf import PdfReader, PdfWriter

from index.articles import (
    Article,
    article_from_bytes,
    article_from_html,
    article_from_markdown,
    article_from_pdf,
    article_from_text,
    iter_article_paths,
    parse_front_matter,
    read_path,
)
from index.errors import ArticleTooLarge, InvalidArticle, UnsupportedFormat

SEEDS = Path(__file__).resolve().parents[2] / "seeds"
MB = 1_000_000
BODY = (
    "The city council voted on Tuesday to rebuild the old bridge over the river, officials said. "
    "Residents welcomed the decision after years of delays and many public meetings."
)

HOSTILE_HTML = f"""<!DOCTYPE html>
<html><head>
<title>Council votes to rebuild bridge | The Herald</title>
<meta property="og:title" content="Council votes to rebuild bridge">
<meta property="og:site_name" content="The Herald">
<meta property="article:published_time" content="2024-03-05T10:00:00Z">
<meta name="author" content="Jane Doe">
<link rel="canonical" href="https://www.herald.example/news/bridge?utm_source=feed">
<style>body {{ color: red; }} .secret-style-rule {{ display: none; }}</style>
<script>alert(1); var stolen = document.cookie;</script>
</head>
<body onload="stealCookies()">
<nav><a href="/">Home</a> <a href="/news">News</a></nav>
<article>
<h1>Council votes to rebuild bridge</h1>
<p onclick="evilHandler()">{BODY}</p>
<script>document.write('injected script text');</script>
<p>The work is due to start next spring and will take two years, according to the city engineer.</p>
</article>
<footer>Copyright The Herald</footer>
</body></html>"""


def minimal_pdf(text: str, title: str | None = None) -> bytes:
    """A tiny but valid PDF with one page of text (hand-written content stream, real xref offsets)."""
    stream = f"BT /F1 12 Tf 72 720 Td ({text}) Tj ET".encode("latin-1")
    info = f"<< /Title ({title}) >>" if title else "<< >>"
    objects = [
        b"<< /Type /Catalog /Pages 2 0 R >>",
        b"<< /Type /Pages /Kids [3 0 R] /Count 1 >>",
        b"<< /Type /Page /Parent 2 0 R /MediaBox [0 0 612 792] /Contents 4 0 R "
        b"/Resources << /Font << /F1 5 0 R >> >> >>",
        b"<< /Length %d >>\nstream\n" % len(stream) + stream + b"\nendstream",
        b"<< /Type /Font /Subtype /Type1 /BaseFont /Helvetica >>",
        info.encode("latin-1"),
    ]
    out = bytearray(b"%PDF-1.4\n")
    offsets = []
    for number, body in enumerate(objects, 1):
        offsets.append(len(out))
        out += b"%d 0 obj\n" % number + body + b"\nendobj\n"
    xref = len(out)
    out += b"xref\n0 %d\n0000000000 65535 f \n" % (len(objects) + 1)
    out += b"".join(b"%010d 00000 n \n" % offset for offset in offsets)
    out += b"trailer\n<< /Size %d /Root 1 0 R /Info 6 0 R >>\nstartxref\n%d\n%%%%EOF\n" % (len(objects) + 1, xref)
    return bytes(out)


# --- pasted text --------------------------------------------------------------------------------


def test_text_is_normalised_and_title_cleaned():
    article = article_from_text(
        "  First line.  \r\n\r\n\r\n\r\nSecond line.\t\n",
        title="  A \n title  ",
        outlet="The Herald",
        published=date(2024, 3, 5),
    )
    assert article.body == "First line.\n\nSecond line."
    assert article.title == "A title"
    assert article.published == date(2024, 3, 5)


@pytest.mark.parametrize("body", ["", "   \n\t  \n"])
def test_empty_text_is_refused(body):
    with pytest.raises(InvalidArticle, match="The article text is empty."):
        article_from_text(body, title="Title")


def test_empty_title_is_refused_and_long_title_capped():
    with pytest.raises(InvalidArticle, match="title is empty"):
        article_from_text(BODY, title="  \n ")
    assert len(article_from_text(BODY, title="word " * 200).title) <= 300
    assert article_from_text(BODY, title="abcdefg " * 60).title.endswith(" abcdefg…")  # cut at a word


def test_text_over_limit_is_refused():
    with pytest.raises(ArticleTooLarge, match="limit is 1.0 KB"):
        article_from_text("x" * 2000, title="Big", max_bytes=1000)


@pytest.mark.parametrize("body", ["abc\x00def", "".join(chr(c) for c in range(1, 9)) * 50 + "text"])
def test_binary_looking_text_is_refused(body):
    with pytest.raises(UnsupportedFormat, match="binary"):
        article_from_text(body, title="Binary")


# --- ids ----------------------------------------------------------------------------------------


def test_same_url_spellings_give_same_id():
    urls = [
        "https://www.herald.example/news/bridge?utm_source=x&utm_medium=y",
        "https://herald.example/news/bridge/",
        "HTTPS://Herald.example/news/bridge",
        "https://www.herald.example/news/bridge/index.html",
        "https://herald.example/news/bridge/index.html/",
        "https://herald.example/news/bridge?cid=external-feeds_partner",
        "https://herald.example/news/bridge#comments",
    ]
    ids = {article_from_text(BODY, title="T", url=u).id for u in urls}
    assert len(ids) == 1 and ids.pop().startswith("u")


@pytest.mark.parametrize("url", ["http://[::1", "https://[bad/story"])
def test_an_unparsable_link_is_refused(url):
    with pytest.raises(InvalidArticle, match="not a valid URL"):
        article_from_text(BODY, title="T", url=url)


def test_different_pages_keep_different_ids():
    urls = [
        "https://herald.example/news/bridge",
        "https://herald.example/news/bridge?page=2",
        "https://herald.example/news/bridge-2",
        "https://herald.example/news",
        "https://herald.example/",
        "https://herald.example/story?id=1",
        "https://herald.example/story?id=2",
        "https://other.example/news/bridge",
    ]
    assert len({article_from_text(BODY, title="T", url=u).id for u in urls}) == len(urls)


def test_id_without_url_is_content_hash_and_changed_body_keeps_url_id():
    a = article_from_text(BODY, title="T")
    assert a.id.startswith("h") and a.id == article_from_text(BODY, title="T").id
    assert a.id != article_from_text(BODY + " More.", title="T").id
    v1 = article_from_text(BODY, title="T", url="https://herald.example/a")
    v2 = article_from_text(BODY + " Update.", title="T", url="https://herald.example/a")
    assert v1.id == v2.id and v1.content_hash != v2.content_hash


# --- Markdown and front matter --------------------------------------------------------------------


def test_markdown_with_front_matter():
    text = (
        '---\ntitle: "Bridge: the vote"\noutlet: The Herald\npublished: 2024-03-05\n'
        "url: https://herald.example/bridge\nauthors: Jane Doe, John Roe\n---\n# Ignored heading\n\n" + BODY
    )
    article = article_from_markdown(text)
    assert article.title == "Bridge: the vote"
    assert (article.outlet, article.published) == ("The Herald", date(2024, 3, 5))
    assert article.url == "https://herald.example/bridge"
    assert article.authors == ("Jane Doe", "John Roe")
    assert article.body.startswith("# Ignored heading") and "title:" not in article.body


def test_markdown_title_falls_back_to_heading_then_default():
    assert article_from_markdown("Intro\n\n# The Heading\n\n" + BODY).title == "The Heading"
    assert article_from_markdown(BODY * 3, default_title="from file").title == "from file"
    assert article_from_markdown("Short headline\n" + BODY).title == "Short headline"


def test_bad_front_matter_date_is_refused():
    with pytest.raises(InvalidArticle, match="published.*2024-03-05.*March 5th"):
        parse_front_matter("---\npublished: March 5th\n---\nbody")


def test_text_without_front_matter_is_unchanged():
    assert parse_front_matter("--- not front matter\nbody") == ({}, "--- not front matter\nbody")
    assert parse_front_matter("---\nno closing line\nbody") == ({}, "---\nno closing line\nbody")


# --- HTML ---------------------------------------------------------------------------------------


def test_html_keeps_article_text_and_drops_scripts_styles_handlers():
    article = article_from_html(HOSTILE_HTML, url="https://herald.example/news/bridge")
    assert "rebuild the old bridge" in article.body and "two years" in article.body
    for bad in ("alert", "cookie", "injected", "stealCookies", "evilHandler", "secret-style-rule", "color: red"):
        assert bad not in article.body
    assert article.title == "Council votes to rebuild bridge"
    assert article.published == date(2024, 3, 5)
    assert article.outlet == "The Herald"
    assert article.authors == ("Jane Doe",)
    assert article.id == Article(title="x", body="y", url="https://herald.example/news/bridge").id


def test_html_outlet_falls_back_to_url_host():
    html = f"<html><head><title>Plain page</title></head><body><p>{BODY}</p></body></html>"
    article = article_from_html(html, url="https://www.example.org/story")
    assert article.outlet == "example.org" and article.url == "https://www.example.org/story"
    assert article.published is None


def test_html_without_article_text_is_refused():
    html = (
        "<html><head><title>Menu</title><script>var x = 1;</script></head><body><nav>Home | About</nav></body></html>"
    )
    with pytest.raises(InvalidArticle, match="No article text found in the HTML page."):
        article_from_html(html)


# --- PDF ----------------------------------------------------------------------------------------


def test_pdf_text_and_title():
    article = article_from_pdf(minimal_pdf("Council votes to rebuild the bridge", title="Bridge vote"))
    assert "Council votes to rebuild the bridge" in article.body
    assert article.title == "Bridge vote"
    assert article_from_pdf(minimal_pdf("Council votes")).title == "Council votes"


def test_pdf_encrypted_textless_and_broken_are_refused():
    writer = PdfWriter(clone_from=PdfReader(io.BytesIO(minimal_pdf("Secret text"))))
    writer.encrypt("secret", algorithm="RC4-128")
    encrypted = io.BytesIO()
    writer.write(encrypted)
    with pytest.raises(InvalidArticle, match="encrypted"):
        article_from_pdf(encrypted.getvalue())
    blank = PdfWriter()
    blank.add_blank_page(200, 200)
    out = io.BytesIO()
    blank.write(out)
    with pytest.raises(InvalidArticle, match="no text"):
        article_from_pdf(out.getvalue())
    with pytest.raises(InvalidArticle, match="could not be read"):
        article_from_pdf(b"%PDF-1.4\nthis is not really a pdf")


# --- uploads (bytes) ----------------------------------------------------------------------------


def test_bytes_size_checked_first():
    with pytest.raises(ArticleTooLarge, match=r"The file is 50.0 MB; the limit is 5.0 MB."):
        article_from_bytes(b"\x00" * (50 * MB), filename="big.txt", max_bytes=5 * MB)


@pytest.mark.parametrize("data", [b"", b"  \n\t "])
def test_bytes_empty_refused(data):
    with pytest.raises(InvalidArticle, match="empty"):
        article_from_bytes(data, filename="a.txt", max_bytes=MB)


@pytest.mark.parametrize(
    "data, what",
    [
        (b"\x89PNG\r\n\x1a\n\x00\x00\x00\rIHDR" + bytes(64), "PNG"),
        (b"PK\x03\x04" + bytes(40), "ZIP"),
        (b"\x7fELF\x02\x01\x01" + bytes(40), "executable"),
        (bytes(range(256)) * 8, "binary"),
        (b"\x01" + random.Random(0).randbytes(4096), "binary"),
    ],
)
def test_bytes_binary_refused(data, what):
    with pytest.raises(UnsupportedFormat, match=what):
        article_from_bytes(data, filename="upload.txt", max_bytes=MB)


def test_bytes_png_refused_even_when_labelled_text():
    with pytest.raises(UnsupportedFormat, match="PNG"):
        article_from_bytes(b"\x89PNG\r\n\x1a\n" + bytes(32), content_type="text/plain", max_bytes=MB)


def test_bytes_unsupported_content_type():
    with pytest.raises(UnsupportedFormat, match="image/png"):
        article_from_bytes(BODY.encode(), content_type="image/png", max_bytes=MB)


def test_invalid_utf8_refused_unless_charset_given():
    data = ("Caf\xe9 society. " + BODY).encode("latin-1")
    with pytest.raises(InvalidArticle, match="not valid UTF-8"):
        article_from_bytes(data, filename="cafe.txt", max_bytes=MB)
    article = article_from_bytes(data, filename="cafe.txt", content_type="text/plain; charset=latin-1", max_bytes=MB)
    assert article.body.startswith("Café society.")


def test_unknown_charset_refused():
    with pytest.raises(InvalidArticle, match="Unknown character set"):
        article_from_bytes(b"hello world", content_type="text/plain; charset=klingon", max_bytes=MB)


@pytest.mark.parametrize("codec", ["utf-16", "utf-8-sig", "utf-16-be"])
def test_bom_text_decodes(codec):
    text = "Zürich — café\n\n" + BODY
    data = text.encode(codec)
    if codec == "utf-16-be":
        data = b"\xfe\xff" + data
    article = article_from_bytes(data, filename="zurich.txt", max_bytes=MB)
    assert article.title == "Zürich — café" and "rebuild the old bridge" in article.body


def test_bytes_dispatch_by_type_extension_and_sniffing():
    html = HOSTILE_HTML.encode()
    for kwargs in (
        {"content_type": "text/html; charset=utf-8"},
        {"filename": "page.htm"},
        {"filename": "upload"},
        {"content_type": "application/octet-stream"},
    ):
        article = article_from_bytes(html, max_bytes=MB, **kwargs)
        assert article.title == "Council votes to rebuild bridge" and "alert" not in article.body
    pdf = article_from_bytes(minimal_pdf("Bridge text in a PDF"), filename="x.bin", max_bytes=MB)
    assert "Bridge text in a PDF" in pdf.body
    md = article_from_bytes(("---\ntitle: From front matter\n---\n" + BODY).encode(), filename="a.md", max_bytes=MB)
    assert md.title == "From front matter"
    txt = article_from_bytes((BODY * 3).encode(), filename="bridge_vote-2024.txt", max_bytes=MB)
    assert txt.title == "bridge vote 2024"


def test_html_bytes_with_meta_charset_decode():
    html = (
        '<html><head><meta charset="iso-8859-1"><title>Caf\xe9 news</title></head>'
        f"<body><article><p>Caf\xe9 owners said: {BODY}</p></article></body></html>"
    ).encode("latin-1")
    article = article_from_bytes(html, filename="page.html", max_bytes=MB)
    assert "Café owners" in article.body


# --- files on disk ------------------------------------------------------------------------------


def test_read_path_50mb_fails_fast_by_size(tmp_path):
    big = tmp_path / "big.txt"
    with big.open("wb") as handle:
        handle.truncate(50 * MB)  # sparse: 50 MB on stat without writing 50 MB
    start = time.perf_counter()
    with pytest.raises(ArticleTooLarge, match="The file is 50.0 MB; the limit is 5.0 MB."):
        read_path(big, max_bytes=5 * MB)
    assert time.perf_counter() - start < 0.5


def test_read_path_missing_file(tmp_path):
    with pytest.raises(InvalidArticle, match="No such file"):
        read_path(tmp_path / "nope.txt", max_bytes=MB)


def test_read_path_with_sidecar_overrides(tmp_path):
    path = tmp_path / "story.md"
    path.write_text("---\ntitle: Front matter title\noutlet: FM outlet\n---\n" + BODY, encoding="utf-8")
    (tmp_path / "story.meta.toml").write_text(
        'title = "Sidecar title"\npublished = 2023-10-24\nurl = "https://herald.example/s"\nauthors = ["Jane Doe"]\n',
        encoding="utf-8",
    )
    article = read_path(path, max_bytes=MB)
    assert article.title == "Sidecar title" and article.outlet == "FM outlet"
    assert article.published == date(2023, 10, 24) and article.authors == ("Jane Doe",)
    assert article.url == "https://herald.example/s"
    (tmp_path / "story.meta.toml").write_text('published = "soon"\n', encoding="utf-8")
    with pytest.raises(InvalidArticle, match="published"):
        read_path(path, max_bytes=MB)


def test_iter_article_paths_skips_sidecars_and_hidden(tmp_path):
    for name in ("b.md", "a.txt", "c.pdf", "d.html", "a.meta.toml", ".hidden.txt", "notes.docx", "e.htm"):
        (tmp_path / name).write_text("x")
    (tmp_path / "sub.txt").mkdir()
    assert [p.name for p in iter_article_paths(tmp_path)] == ["a.txt", "b.md", "c.pdf", "d.html", "e.htm"]


def test_seed_files_read_with_sidecars():
    paths = iter_article_paths(SEEDS)
    assert [p.name for p in paths] == ["000_8df5a7230fa5c5a8.txt", "004_cf9a00e46833b6ee.txt"]
    first, second = (read_path(p, max_bytes=5 * MB) for p in paths)
    assert first.title == "Russia escalates drone and missile strikes on Kyiv, Kharkiv and Zaporizhzhia"
    assert first.outlet == "Newsdesk seed corpus" and first.published is None
    assert first.body.startswith("In a dramatic turn of events")
    assert second.title == "Russia and Ukraine trade strikes a day before peace talks"
    assert second.published == date(2023, 10, 24)
    assert first.id != second.id


def test_a_sidecar_nested_too_deep_is_refused_clearly(tmp_path):
    article = tmp_path / "deep.txt"
    article.write_text("The harbour reopened on Monday after the storm damaged its piers.")
    (tmp_path / "deep.meta.toml").write_text("x = " + "[" * 100_000 + "]" * 100_000 + "\n")
    with pytest.raises(InvalidArticle, match="nested too deeply"):
        read_path(article, max_bytes=1_000_000)


@pytest.mark.parametrize("url", ["http://[::1", "https://example.com/" + "a" * 5000])
def test_a_sidecar_link_that_is_not_a_url_is_refused_clearly(tmp_path, url):
    article = tmp_path / "linked.txt"
    article.write_text("The harbour reopened on Monday after the storm damaged its piers.")
    (tmp_path / "linked.meta.toml").write_text(f'url = "{url}"\n')
    with pytest.raises(InvalidArticle, match="not a valid URL"):
        read_path(article, max_bytes=1_000_000)


def test_a_path_too_long_for_the_file_system_is_refused_clearly():
    with pytest.raises(InvalidArticle, match="Cannot read"):
        read_path(Path("x" * 10_000), max_bytes=1_000_000)
