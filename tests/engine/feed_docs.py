"""Feed and sitemap documents the feed tests serve (written by hand after real RSS, Atom and sitemap files)."""

from __future__ import annotations

STORY = (
    "The harbour reopened on Saturday after a week of repairs to the sea wall, the port authority said. "
    "Fishing boats returned to their moorings and the ferry service will resume its normal timetable on "
    "Monday. Engineers replaced forty metres of the wall, which the storm had breached in two places, and "
    "added a drainage channel so that waves breaking over the top no longer flood the quay. The authority "
    "said the repairs cost less than expected because local firms lent cranes free of charge, and that "
    "a second phase, raising the wall by half a metre, will start in the spring once funding is agreed."
)


def rss2(items: list[tuple[str, str, str]], *, title: str = "Coast News") -> bytes:
    """An RSS 2.0 feed; each item is (link, title, pubDate)."""
    body = "".join(
        f'<item><title>{t}</title><link>{link}</link><guid isPermaLink="false">id-{n}</guid>'
        f"<description>&lt;p&gt;Teaser for &lt;b&gt;{t}&lt;/b&gt;.&lt;/p&gt;</description>"
        f"<pubDate>{date}</pubDate><dc:creator>Ann Lee</dc:creator></item>"
        for n, (link, t, date) in enumerate(items)
    )
    return (
        f'<?xml version="1.0" encoding="UTF-8"?><rss version="2.0" '
        f'xmlns:dc="http://purl.org/dc/elements/1.1/" xmlns:content="http://purl.org/rss/1.0/modules/content/">'
        f"<channel><title>{title}</title><link>http://news.example/</link><description>News</description>"
        f"{body}</channel></rss>"
    ).encode()


RSS2 = (
    b'<?xml version="1.0" encoding="UTF-8"?>\n'
    b'<rss version="2.0" xmlns:dc="http://purl.org/dc/elements/1.1/"'
    b' xmlns:content="http://purl.org/rss/1.0/modules/content/">\n<channel>\n'
    b"<title>Coast News</title><link>http://news.example/</link><description>Local news</description>\n"
    b"<item><title>Harbour reopens after storm</title>"
    b"<link>http://www.news.example/2024/02/harbour/?utm_source=rss&amp;utm_medium=feed</link>"
    b"<pubDate>Sat, 10 Feb 2024 08:30:00 +0100</pubDate><dc:creator>Ann Lee</dc:creator>"
    b"<description>&lt;p&gt;The harbour &lt;b&gt;reopened&lt;/b&gt;.&lt;/p&gt;&lt;script&gt;track()&lt;/script&gt;"
    b"</description>"
    b"<content:encoded><![CDATA[<p>" + STORY.encode() + b"</p><p>Second &nbsp;paragraph.</p>]]></content:encoded>"
    b"</item>\n"
    b"<item><title>Ferry timetable &amp; fares</title><link>/2024/02/ferry</link>"
    b"<pubDate>Fri, 09 Feb 2024 10:00:00 GMT</pubDate><description>Fares stay the same.</description></item>\n"
    b"<item><title>No link here</title><description>An item without a link is skipped.</description></item>\n"
    b"</channel></rss>\n"
)

RSS091 = (
    b'<?xml version="1.0" encoding="ISO-8859-1"?>\n'
    b'<!DOCTYPE rss PUBLIC "-//Netscape Communications//DTD RSS 0.91//EN" '
    b'"http://my.netscape.com/publish/formats/rss-0.91.dtd">\n'
    b'<rss version="0.91"><channel><title>Valley Gazette</title><link>http://gazette.example/</link>'
    b"<description>Gazette</description><language>en-us</language>"
    b"<item><title>Caf\xe9 opens on Main Street</title><link>http://gazette.example/cafe</link>"
    b"<description>A new caf\xe9 opened &amp; drew a queue.</description></item>"
    b"<item><title>Council meets</title><link>http://gazette.example/council</link>"
    b"<description>The council met.</description></item>"
    b"</channel></rss>"
)

RSS1 = (
    b'<?xml version="1.0"?><rdf:RDF xmlns:rdf="http://www.w3.org/1999/02/22-rdf-syntax-ns#" '
    b'xmlns="http://purl.org/rss/1.0/" xmlns:dc="http://purl.org/dc/elements/1.1/">'
    b'<channel rdf:about="http://rdf.example/"><title>RDF Times</title><link>http://rdf.example/</link>'
    b"<description>d</description></channel>"
    b'<item rdf:about="http://rdf.example/one"><title>One</title><link>http://rdf.example/one</link>'
    b"<dc:date>2024-02-11T09:00:00Z</dc:date></item></rdf:RDF>"
)

ATOM = (
    b'<?xml version="1.0" encoding="utf-8"?>\n<feed xmlns="http://www.w3.org/2005/Atom">'
    b"<title>Atom Post</title><id>urn:x</id><updated>2024-02-12T10:00:00Z</updated>"
    b'<link rel="self" href="http://atom.example/feed.atom"/>'
    b"<entry><title>Bridge closed</title><id>urn:1</id>"
    b'<link rel="self" href="http://atom.example/api/1"/><link rel="alternate" href="/bridge"/>'
    b"<published>2024-02-12T09:00:00+02:00</published><updated>2024-02-12T10:00:00Z</updated>"
    b"<author><name>Bo Chen</name></author><author><name>Di Ray</name></author>"
    b'<content type="html">&lt;p&gt;The bridge is closed.&lt;/p&gt;&lt;p&gt;Detours are signed.&lt;/p&gt;</content>'
    b"</entry>"
    b'<entry><title type="text">Older news</title><id>urn:2</id><link href="http://atom.example/older"/>'
    b'<updated>2024-01-01T00:00:00Z</updated><summary type="text">1 &lt; 2 is plain text</summary></entry>'
    b"</feed>"
)

NEWS_SITEMAP = (
    b'<?xml version="1.0" encoding="UTF-8"?>\n'
    b'<urlset xmlns="http://www.sitemaps.org/schemas/sitemap/0.9" '
    b'xmlns:news="http://www.google.com/schemas/sitemap-news/0.9" '
    b'xmlns:image="http://www.google.com/schemas/sitemap-image/1.1">'
    b"<url><loc>https://news.example/older-story</loc><news:news><news:publication><news:name>Coast News"
    b"</news:name><news:language>en</news:language></news:publication>"
    b"<news:publication_date>2024-02-09</news:publication_date><news:title>Older story</news:title>"
    b"</news:news></url>"
    b"<url><loc>https://news.example/newest-story</loc><news:news><news:publication><news:name>Coast News"
    b"</news:name><news:language>en</news:language></news:publication>"
    b"<news:publication_date>2024-02-10T08:30:00+01:00</news:publication_date>"
    b"<news:title>Newest story</news:title></news:news>"
    b"<image:image><image:loc>https://news.example/p.jpg</image:loc><image:title>A photo</image:title>"
    b"</image:image></url>"
    b"</urlset>"
)

PLAIN_SITEMAP = (
    b'<urlset xmlns="http://www.sitemaps.org/schemas/sitemap/0.9">'
    b"<url><loc>https://news.example/a</loc><lastmod>2024-01-05</lastmod></url>"
    b"<url><loc>https://news.example/b</loc><lastmod>2024-03-01T10:00:00Z</lastmod></url>"
    b"<url><loc>https://news.example/c</loc></url>"
    b"</urlset>"
)


def sitemap_index(*children: tuple[str, str | None]) -> bytes:
    """A sitemap index listing (loc, lastmod) children."""
    entries = "".join(
        f"<sitemap><loc>{loc}</loc>{f'<lastmod>{mod}</lastmod>' if mod else ''}</sitemap>" for loc, mod in children
    )
    return f'<sitemapindex xmlns="http://www.sitemaps.org/schemas/sitemap/0.9">{entries}</sitemapindex>'.encode()


def urlset(*locs: str) -> bytes:
    """A plain sitemap of the given URLs."""
    return (
        '<urlset xmlns="http://www.sitemaps.org/schemas/sitemap/0.9">'
        + "".join(f"<url><loc>{loc}</loc></url>" for loc in locs)
        + "</urlset>"
    ).encode()


BILLION_LAUGHS = (
    b'<?xml version="1.0"?>\n<!DOCTYPE rss [\n <!ENTITY lol "lol">\n'
    + b"".join(
        b' <!ENTITY lol%d "%s">\n' % (n, (b"&lol%d;" % (n - 1) if n > 1 else b"&lol;") * 10) for n in range(1, 10)
    )
    + b']>\n<rss version="2.0"><channel><title>&lol9;</title>'
    b"<item><title>&lol9;</title><link>http://news.example/x</link></item></channel></rss>"
)

QUADRATIC_BLOWUP = (
    b'<?xml version="1.0"?><!DOCTYPE rss [<!ENTITY big "' + b"A" * 50_000 + b'">]>'
    b"<rss><channel><title>" + b"&big;" * 1000 + b"</title></channel></rss>"
)

EXTERNAL_ENTITY = (
    b'<?xml version="1.0"?><!DOCTYPE rss [<!ENTITY secret SYSTEM "file:///etc/passwd">]>'
    b"<rss><channel><title>&secret;</title></channel></rss>"
)

MALFORMED = b'<?xml version="1.0"?><rss><channel><title>Broken</title><item><title>A</item></channel></rss>'
TRUNCATED = RSS2[: len(RSS2) // 2]
HTML_PAGE = b"<!DOCTYPE html><html><head><title>Home</title></head><body><p>Hello</p></body></html>"
