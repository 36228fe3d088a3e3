"""Live intake figures: how many items a feed poll ingests per minute (fetch, extraction, cleaning, embedding,
writing) and what a poll costs when nothing changed, on a local site serving real corpus articles.

    python -m bench.intake [--corpus corpus.jsonl.gz] [--articles 50] [--feeds 10] [--repeat 20]

The site (127.0.0.1) serves each article as an HTML page and one RSS feed listing them all, with ETags (304 to a
conditional GET of an unchanged page or feed). The engine starts empty with its own empty embedding cache, so
every chunk is embedded. Timings on a shared machine are noisy: the load average is printed with them.
"""

from __future__ import annotations

import argparse
import hashlib
import json
import os
import random
import statistics
import tempfile
import threading
import time
from datetime import UTC, datetime, timedelta
from email.utils import format_datetime
from html import escape
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

from index import Embedder, Engine, Settings, load_embed_model

from .corpus import iter_jsonl

CORPUS = Path("/work/shared/bench/realtimeqa/corpus.jsonl.gz")


class Site:
    """Pages and feeds served on 127.0.0.1, with ETags; counts the requests and the 304s."""

    def __init__(self) -> None:
        self.routes: dict[str, tuple[bytes, str]] = {}
        self.requests = self.not_modified = 0
        site = self

        class Handler(BaseHTTPRequestHandler):
            def log_message(self, *args: object) -> None:
                pass

            def do_GET(self) -> None:
                site.requests += 1
                body, content_type = site.routes.get(self.path, (b"not found", "text/plain"))
                etag = '"' + hashlib.sha256(body).hexdigest()[:16] + '"'
                if self.headers.get("If-None-Match") == etag:
                    site.not_modified += 1
                    self.send_response(304)
                    self.send_header("ETag", etag)
                    self.end_headers()
                    return
                self.send_response(200 if self.path in site.routes else 404)
                self.send_header("Content-Type", content_type)
                self.send_header("Content-Length", str(len(body)))
                self.send_header("ETag", etag)
                self.end_headers()
                self.wfile.write(body)

        self.httpd = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.httpd.daemon_threads = True
        threading.Thread(target=self.httpd.serve_forever, daemon=True).start()
        self.base = f"http://127.0.0.1:{self.httpd.server_port}"

    def publish(self, records: list[dict], feed_path: str) -> None:
        """Serve each record as a page, and a feed listing them at feed_path."""
        items = []
        for n, record in enumerate(records):
            path = f"/story/{n}"
            paragraphs = "".join(f"<p>{escape(line)}</p>" for line in record["body"].split("\n") if line.strip())
            title = escape(record.get("title") or "")
            self.routes[path] = (
                f"<html><head><title>{title}</title></head><body><article><h1>{title}</h1>"
                f"{paragraphs}</article></body></html>".encode(),
                "text/html; charset=utf-8",
            )
            when = (
                datetime.fromisoformat(record["published"]).replace(tzinfo=UTC)
                if record.get("published")
                else datetime.now(UTC)
            )
            items.append(
                f"<item><title>{title}</title><link>{self.base}{path}</link>"
                f"<pubDate>{format_datetime(when, True)}</pubDate></item>"
            )
        self.routes[feed_path] = (
            (
                '<?xml version="1.0"?><rss version="2.0"><channel><title>Bench wire</title>'
                f"<link>{self.base}/</link><description>d</description>{''.join(items)}"
                "</channel></rss>"
            ).encode(),
            "application/rss+xml",
        )


def run(corpus: Path, articles: int, feeds: int, repeat: int) -> dict:
    """Measure a first poll (everything new) and polls with nothing changed; returns the figures."""
    records = [r for r in iter_jsonl(corpus) if (r.get("body") or "").strip()]
    chosen = random.Random(14).sample(records, articles)
    site = Site()
    site.publish(chosen, "/feed.xml")
    for n in range(1, feeds):
        site.publish([], f"/empty-{n}.xml")  # more feeds, to time a pass over several unchanged ones
    with tempfile.TemporaryDirectory() as tmp:
        settings = Settings(
            data_dir=Path(tmp) / "data",
            embed_cache=Path(tmp) / "embeddings.sqlite3",
            seeds_dir=Path(tmp) / "none",
            fetch_allow_private=True,
            feed_max_items=articles,
        )
        embed_model = load_embed_model(settings.embed_model, settings.embed_batch_size)
        engine = Engine(settings, embed_model=embed_model)
        try:  # warm up (LlamaIndex's splitter, the model's first batch) so that the poll is timed in steady state
            engine.add_text("Warm-up", "The harbour reopened on Saturday after a week of repairs to the sea wall.")
            engine.add_feed(f"{site.base}/feed.xml")
            for n in range(1, feeds):
                engine.add_feed(f"{site.base}/empty-{n}.xml")
            site.requests = 0
            started = time.perf_counter()
            reports = engine.poll_feeds(every=True)
            seconds = time.perf_counter() - started
            added = sum(len(r.added) for r in reports)
            chunks = engine.status().chunks - 1
            first = {
                "feeds": feeds,
                "items_added": added,
                "failed": sum(len(r.failed) for r in reports),
                "chunks": chunks,
                "seconds": round(seconds, 2),
                "items_per_minute": round(added / seconds * 60, 1),
                "chunks_per_second": round(chunks / seconds, 1),
                "requests": site.requests,
                "embedder_passages_per_second": _embedder_rate(embed_model, chosen),
                "load": round(os.getloadavg()[0], 2),
            }
            times, requests, not_modified = [], [], []
            for _ in range(repeat):
                site.requests = site.not_modified = 0
                started = time.perf_counter()
                again = engine.poll_feeds(every=True)
                times.append(time.perf_counter() - started)
                requests.append(site.requests)
                not_modified.append(site.not_modified)
                assert all(r.not_modified and not r.added for r in again)
            unchanged = {
                "feeds": feeds,
                "median_ms": round(statistics.median(times) * 1000, 1),
                "median_ms_per_feed": round(statistics.median(times) * 1000 / feeds, 2),
                "max_ms": round(max(times) * 1000, 1),
                "requests_per_pass": max(requests),
                "answered_304": min(not_modified),
                "load": round(os.getloadavg()[0], 2),
            }
            site.requests = site.not_modified = 0
            started = time.perf_counter()
            refreshed = engine.refresh_recent(max_age=_age_of(chosen))
            refresh = {
                "articles_checked": refreshed.checked,
                "updated": len(refreshed.updated),
                "ms": round((time.perf_counter() - started) * 1000, 1),
                "requests": site.requests,
                "answered_304": site.not_modified,
            }
        finally:
            engine.close()
            site.httpd.shutdown()
    return {"articles": articles, "first_poll": first, "unchanged_poll": unchanged, "refresh_unchanged": refresh}


def _embedder_rate(embed_model: Embedder, records: list[dict], count: int = 128, words: int = 150) -> float:
    """Passages per second the embedding model alone manages, now, on this machine: passages of about a chunk's
    length (150 words) cut from the same articles, each after its title as chunks are embedded."""
    texts = []
    for record in records:
        body = record["body"].split()
        texts += [
            f"title: {record.get('title') or ''}\n\n" + " ".join(body[i : i + words])
            for i in range(0, len(body), words)
        ]
    texts = texts[:count]
    started = time.perf_counter()
    embed_model.get_text_embedding_batch(texts)
    return round(len(texts) / (time.perf_counter() - started), 1)


def _age_of(records: list[dict]) -> timedelta:
    """An age that takes in every record (the corpus is older than the default 48 hours)."""
    oldest = min(datetime.fromisoformat(r["published"]) for r in records if r.get("published"))
    return datetime.now() - oldest + timedelta(days=2)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--corpus", type=Path, default=CORPUS)
    parser.add_argument("--articles", type=int, default=50)
    parser.add_argument("--feeds", type=int, default=10, help="feeds in the unchanged pass (one holds the articles)")
    parser.add_argument("--repeat", type=int, default=20, help="unchanged passes timed")
    parser.add_argument("--report", type=Path, help="write the figures as JSON here too")
    args = parser.parse_args()
    os.environ.setdefault("TQDM_DISABLE", "1")
    figures = run(args.corpus, args.articles, args.feeds, args.repeat)
    text = json.dumps(figures, indent=2)
    print(text)
    if args.report:
        args.report.write_text(text + "\n")


if __name__ == "__main__":
    main()
