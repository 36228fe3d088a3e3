"""Opening the engine's parts: the data directory (or a clear error about it), the catalog (upgraded by its
migrations), the vector store (or none when a read-only directory cannot hold it), the answerer."""

from __future__ import annotations

import logging
import os
import sqlite3
from pathlib import Path

from .answer import Answerer, ExtractiveAnswerer
from .catalog import Catalog, store_error
from .embedcache import EmbeddingCache
from .embedding import Embedder
from .errors import StoreError
from .keywords import terms_text
from .migrations import Context, apply, pending
from .settings import Settings
from .store import ChromaHandle, handle_for

log = logging.getLogger(__name__)


def build_answerer(settings: Settings, embed_model: Embedder) -> Answerer:
    """The extractive answerer, or an LLM answerer over it when an endpoint is configured."""
    extractive = ExtractiveAnswerer(embed_model)
    if not settings.llm_enabled:
        return extractive
    from .llm_answer import LLMAnswerer, build_llm

    return LLMAnswerer(llm=build_llm(settings), fallback=extractive, embed_model=embed_model)


def prepare_data_dir(data_dir: Path) -> bool:
    """Create the data directory if needed; True when it can only be read. Clear errors for the rest."""
    if data_dir.exists() and not data_dir.is_dir():
        raise StoreError(f"NEWSDESK_DATA_DIR={data_dir} is a file, not a folder; point it at a folder.")
    try:
        data_dir.mkdir(parents=True, exist_ok=True)
    except OSError as exc:
        raise StoreError(f"Cannot create the data directory {data_dir}: {exc.strerror or exc}.") from None
    if not os.access(data_dir, os.R_OK | os.X_OK):
        raise StoreError(f"The data directory {data_dir} cannot be read (permission denied).")
    return not os.access(data_dir, os.W_OK)


def open_store(settings: Settings, read_only: bool) -> ChromaHandle | None:
    """The vector store; None when the data directory is read-only and the embedded store cannot be opened
    that way (questions are then answered by keywords, with evidence from the embedding cache)."""
    try:
        return handle_for(settings)
    except StoreError as exc:
        if not read_only or settings.chroma_is_server:
            raise
        log.warning("Answering by keywords only: the embedded vector store cannot be opened read-only (%s)", exc)
        return None


def open_catalog(
    path: Path, cache: EmbeddingCache, read_only: bool, embed_model: Embedder | None = None, model_key: str = ""
) -> Catalog:
    """The catalog, upgraded by its migrations (those that embed, such as m012_stories, use embed_model)."""
    if path.exists() and path.stat().st_size == 0 and (cache.count() or (path.parent / "chroma").exists()):
        raise StoreError(
            f"The catalog {path} is empty (0 bytes) although the index holds vectors: the catalog "
            "was lost. Restore newsdesk.sqlite3 from a backup; or move the data directory aside and "
            "add the articles again."
        )
    catalog = Catalog(path, read_only=read_only)
    try:
        if read_only:
            if pending(catalog.reader()):
                raise StoreError(
                    f"The catalog {path} needs an upgrade, but the data directory is read-only; "
                    "run Newsdesk once with write access to it."
                )
        else:
            ran = apply(
                catalog.db,
                Context(
                    cache=cache,
                    terms_text=terms_text,
                    data_dir=path.parent,
                    embed_model=embed_model,
                    model_key=model_key,
                ),
            )
            if ran:
                log.info("Catalog upgraded: %s", ", ".join(ran))
    except sqlite3.Error as exc:
        catalog.close()
        raise store_error("upgrade the catalog", exc) from exc
    except BaseException:
        catalog.close()
        raise
    return catalog
