"""Chunking articles into sentence-whole passages that carry the article's title, outlet and date."""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import TYPE_CHECKING
from urllib.parse import urlsplit

import numpy as np

from .articles import Article
from .catalog import ChunkRow
from .embedcache import EmbeddingCache, cache_key
from .text import sentence_spans

if TYPE_CHECKING:  # LlamaIndex is imported when articles are chunked, not when questions are answered
    from llama_index.core.node_parser import SentenceSplitter

    from .embedding import Embedder

# Shown to the embedder with every chunk; the other keys only size the chunks (LlamaIndex leaves room for them).
_EMBED_KEYS = ("title",)

_SLUG_NOISE = {"index", "html", "htm", "php", "aspx", "gallery", "live", "news", "videos", "video"}


def title_from_url(url: str | None) -> str:
    """A stand-in title from a URL's slug ('.../2022/06/15/business/ford-recall/index.html' -> 'Ford recall'),
    for articles that come without one: most news URLs name their story."""
    if not url:
        return ""
    path = urlsplit(url).path
    for segment in reversed([s for s in path.split("/") if s]):
        stem = segment.rsplit(".", 1)[0] if "." in segment else segment
        words = [w for w in re.split(r"[-_+]+", stem) if w and w.lower() not in _SLUG_NOISE]
        words = [w for w in words if not (w.isdigit() and len(w) <= 2)]
        letters = [w for w in words if re.search(r"[a-zA-Z]", w)]
        if len(letters) >= 2 and not re.fullmatch(r"h_[0-9a-f]+", stem):
            text = " ".join(words)
            return text[:1].upper() + text[1:]
    return ""


def index_title(title: str, url: str | None) -> str:
    """The title chunks are embedded and keyword-indexed with: the article's, else one from its URL."""
    return title.strip() or title_from_url(url)


def make_splitter(chunk_size: int, chunk_overlap: int) -> SentenceSplitter:
    """LlamaIndex's sentence splitter: chunks end at sentence boundaries where possible."""
    from llama_index.core.node_parser import SentenceSplitter

    return SentenceSplitter(chunk_size=chunk_size, chunk_overlap=chunk_overlap, paragraph_separator="\n\n")


def article_metadata(article: Article) -> dict:
    """Metadata every chunk of an article carries (flat, for Chroma)."""
    return {
        "article_id": article.id,
        "title": index_title(article.title, article.url),
        "outlet": article.outlet or "",
        "published": article.published.isoformat() if article.published else "",
        "url": article.url or "",
    }


@dataclass
class ChunkedArticle:
    """An article's chunks as catalog rows, the text each is embedded as, and the title the article is
    indexed with (embedded on its own too: the title signal of retrieval)."""

    article: Article
    rows: list[ChunkRow]
    texts: list[str]
    title: str = ""
    title_key: str = ""


def title_key(model_key: str, title: str) -> str:
    """Embedding-cache key of a title embedded alone."""
    return cache_key(model_key, f"title\x1f{title}")


def chunk_article(article: Article, splitter: SentenceSplitter, model_key: str) -> ChunkedArticle:
    """Split an article into chunks with stable ids (article, version, position) and their embed texts."""
    from llama_index.core import Document

    metadata = article_metadata(article)
    excluded = [k for k in metadata if k not in _EMBED_KEYS]
    document = Document(
        id_=article.id,
        text=article.body,
        metadata=metadata,
        excluded_embed_metadata_keys=excluded,
        excluded_llm_metadata_keys=["article_id"],
    )
    version = article.content_hash[:8]
    title = metadata["title"]
    rows, texts = [], []
    for ordinal, node in enumerate(splitter.get_nodes_from_documents([document])):
        chunk = node.get_content()
        text = embed_text(title, chunk)
        texts.append(text)
        rows.append(
            ChunkRow(
                id=f"{article.id}-{version}-{ordinal:04d}",
                article_id=article.id,
                ordinal=ordinal,
                text=chunk,
                embed_key=cache_key(model_key, text),
                sentences=sentence_spans(chunk),
            )
        )
    return ChunkedArticle(article, rows, texts, title, title_key(model_key, title))


def stored_chunks(article: Article, rows: list[ChunkRow], model_key: str) -> ChunkedArticle:
    """An article's stored chunks, as chunk_article made them, without splitting it again."""
    title = index_title(article.title, article.url)
    return ChunkedArticle(article, rows, [embed_text(title, r.text) for r in rows], title, title_key(model_key, title))


def embed_text(title: str, text: str) -> str:
    """The text a chunk is embedded as: its article's title, then the chunk (the format LlamaIndex's
    metadata template gave it first, kept so that cached vectors stay valid)."""
    return f"title: {title}".rstrip() + "\n\n" + text


def chunk_vectors(
    chunked: list[ChunkedArticle], embed_model: Embedder, cache: EmbeddingCache
) -> tuple[dict[str, np.ndarray], int]:
    """The vector of every chunk and title (by cache key), embedding only what the cache lacks; returns
    them and how many chunks were embedded."""
    wanted = {row.embed_key: text for c in chunked for row, text in zip(c.rows, c.texts, strict=False)}
    titles = {c.title_key: c.title for c in chunked if c.title}
    found = cache.get(list(wanted) + list(titles))
    missing = {k: t for k, t in {**wanted, **titles}.items() if k not in found}
    found.update(embed_into_cache(missing, embed_model, cache))
    return found, len(set(missing) & set(wanted))


def embed_into_cache(texts: dict[str, str], embed_model: Embedder, cache: EmbeddingCache) -> dict[str, np.ndarray]:
    """Embed texts (by cache key) and remember their vectors in the cache."""
    if not texts:
        return {}
    fresh = dict(zip(texts, _embed_texts(embed_model, list(texts.values())), strict=False))
    cache.put(fresh)
    return fresh


def _embed_texts(embed_model: Embedder, texts: list[str]) -> list[np.ndarray]:
    embed = getattr(embed_model, "embed", None)
    if callable(embed):
        return list(embed(texts))
    return [np.asarray(v, dtype=np.float32) for v in embed_model.get_text_embedding_batch(texts)]
