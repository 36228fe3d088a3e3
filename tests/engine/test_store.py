"""The vector store on its own, with a real embedded Chroma: batched writes, clean-up of dropped collections."""

from __future__ import annotations

import numpy as np

from index import Settings
from index.store import ChromaHandle, VectorStore


def test_writes_larger_than_chromas_batch_limit_are_split(tmp_path):
    handle = ChromaHandle(Settings(data_dir=tmp_path / "data"))
    limit = handle.client.get_max_batch_size()
    store = VectorStore(handle, "newsdesk-test-g1")
    n = limit + 700  # one article of a 5 MB single line makes this many chunks
    vectors = np.random.default_rng(0).standard_normal((n, 384)).astype(np.float32)
    store.add_chunks([f"c{i}" for i in range(n)], vectors, ["a1"] * n, ["*"] * n)
    assert store.counts() == (n, 0)
    store.delete_articles(["a1"])
    assert store.counts() == (0, 0)


def test_a_dropped_collection_leaves_no_segment_folder(tmp_path):
    handle = ChromaHandle(Settings(data_dir=tmp_path / "data"))
    store = VectorStore(handle, "newsdesk-test-g1")
    store.add_chunks(["c1"], np.ones((1, 384), dtype=np.float32), ["a1"], ["*"])
    folders = lambda: {p.name for p in (tmp_path / "data" / "chroma").iterdir() if p.is_dir()}
    assert len(folders()) >= 1
    handle.drop(store.name)
    handle.drop(store.titles_name)
    assert folders() == set()
