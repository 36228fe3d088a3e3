"""Chunking articles into sentence-whole passages that carry the article's title, outlet and date."""

from __future__ import annotations

import hashlib
import re
from dataclasses import dataclass
from typing import TYPE_CHECKING
from urllib.parse import urlsplit

import numpy as np

from .articles import Article
from .catalog import Catalog, ChunkRow
from .text import sentence_spans

if TYPE_CHECKING:  # LlamaIndex is imported when articles are chunked, not when questions are answered
    from llama_index.core.node_parser import SentenceSplitter
    from llama_index.core.schema import TextNode

    from .embedding import Embedder

# Shown to the embedder with every chunk; the rest of the metadata is for citations only.
_EMBED_KEYS = ("title",)
# Bumped whenever the text chunks are embedded or indexed as changes (a rebuild brings the index up to date).
CHUNKING_VERSION = "3"  # 3: chunks store their sentence boundaries (index.text.sentence_spans)

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


def make_splitter(chunk_size: int, chunk_overlap: int) -> "SentenceSplitter":
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
    """An article's chunks as LlamaIndex nodes (with embeddings) and as catalog rows, and the title it is
    indexed with (embedded on its own too: the title signal of retrieval)."""

    nodes: list["TextNode"]
    rows: list[ChunkRow]
    title: str = ""
    title_key: str = ""


def title_key(model_key: str, title: str) -> str:
    """Embedding-cache key of a title embedded alone."""
    return hashlib.sha256(f"{model_key}\x1ftitle\x1f{title}".encode()).hexdigest()


def chunk_article(article: Article, splitter: "SentenceSplitter", model_key: str) -> ChunkedArticle:
    """Split an article into nodes with stable ids and the text each is embedded as."""
    from llama_index.core import Document

    metadata = article_metadata(article)
    excluded = [k for k in metadata if k not in _EMBED_KEYS]
    document = Document(
        id_=article.id, text=article.body, metadata=metadata,
        excluded_embed_metadata_keys=excluded, excluded_llm_metadata_keys=["article_id"],
    )
    nodes = splitter.get_nodes_from_documents([document])
    version = article.content_hash[:8]
    rows = []
    for ordinal, node in enumerate(nodes):
        node.id_ = f"{article.id}-{version}-{ordinal:04d}"
        key = hashlib.sha256(f"{model_key}\x1f{embed_text(node)}".encode()).hexdigest()
        rows.append(ChunkRow(id=node.id_, article_id=article.id, ordinal=ordinal, text=node.text, embed_key=key,
                             sentences=sentence_spans(node.text)))
    return ChunkedArticle(nodes=nodes, rows=rows, title=metadata["title"],
                          title_key=title_key(model_key, metadata["title"]))


def stored_chunks(article: Article, rows: list[ChunkRow], model_key: str) -> ChunkedArticle:
    """An article's stored chunks as nodes again, as chunk_article made them, without splitting it anew
    (a rebuild when the chunking has not changed)."""
    from llama_index.core.schema import NodeRelationship, RelatedNodeInfo, TextNode

    metadata = article_metadata(article)
    excluded = [k for k in metadata if k not in _EMBED_KEYS]
    nodes = [TextNode(id_=row.id, text=row.text, metadata=dict(metadata), excluded_embed_metadata_keys=excluded,
                      excluded_llm_metadata_keys=["article_id"],
                      relationships={NodeRelationship.SOURCE: RelatedNodeInfo(node_id=article.id)})
             for row in rows]
    return ChunkedArticle(nodes=nodes, rows=rows, title=metadata["title"],
                          title_key=title_key(model_key, metadata["title"]))


def embed_text(node: "TextNode") -> str:
    """The text a chunk is embedded as (the title, then the chunk)."""
    from llama_index.core.schema import MetadataMode

    return node.get_content(metadata_mode=MetadataMode.EMBED)


def embed_chunks(chunked: list[ChunkedArticle], embed_model: "Embedder", catalog: Catalog) -> tuple[int, int]:
    """Give every node its embedding, from the cache where possible, and cache each article's title
    vector; returns (chunks embedded, chunks cached)."""
    pairs = [(node, row) for c in chunked for node, row in zip(c.nodes, c.rows)]
    titles = {c.title_key: c.title for c in chunked if c.title}
    cached = catalog.cached_vectors(sorted({row.embed_key for _, row in pairs} | set(titles)))
    missing: dict[str, str] = {k: t for k, t in titles.items() if k not in cached}
    for node, row in pairs:
        if row.embed_key not in cached:
            missing[row.embed_key] = embed_text(node)
    cached.update(embed_into_cache(missing, embed_model, catalog))
    for node, row in pairs:
        node.embedding = np.asarray(cached[row.embed_key], dtype=np.float32).tolist()
    embedded = len({row.embed_key for _, row in pairs} & set(missing))
    return embedded, len(pairs) - embedded


def embed_into_cache(texts: dict[str, str], embed_model: "Embedder", catalog: Catalog) -> dict[str, np.ndarray]:
    """Embed texts (by cache key) and remember their vectors in the catalog's cache."""
    if not texts:
        return {}
    fresh = dict(zip(texts, _embed_texts(embed_model, list(texts.values()))))
    catalog.cache_vectors(fresh)
    return fresh


def _embed_texts(embed_model: "Embedder", texts: list[str]) -> list[np.ndarray]:
    embed = getattr(embed_model, "embed", None)
    if callable(embed):
        return list(embed(texts))
    return [np.asarray(v, dtype=np.float32) for v in embed_model.get_text_embedding_batch(texts)]
