"""The engine's settings, read from the environment by the entry point."""

from __future__ import annotations

import os
from collections.abc import Callable, Mapping
from dataclasses import dataclass, fields
from pathlib import Path
from typing import Any, TypeVar

S = TypeVar("S")


def _bool(value: str) -> bool:
    return value.strip().lower() in {"1", "true", "yes", "on"}


def _convert(type_name: object, raw: str, key: str) -> object:
    text = str(type_name)
    try:
        if "Path" in text:
            return Path(raw).expanduser()
        if "bool" in text:
            return _bool(raw)
        if "int" in text:
            return int(raw)
        if "float" in text:
            return float(raw)
    except ValueError as exc:
        raise ValueError(f"{key}={raw[:100]!r} is not a valid value: {exc}") from None
    return raw


def from_environment(cls: type[S], env_key: Callable[[str], str], environ: Mapping[str, str] | None = None) -> S:
    """An instance of a settings dataclass with every field whose environment key is set (empty means default)."""
    env = dict(os.environ if environ is None else environ)
    kwargs: dict[str, Any] = {}
    for f in fields(cls):  # type: ignore[arg-type]
        key = env_key(f.name)
        raw = env.get(key)
        if raw is None or raw.strip() == "":
            continue
        kwargs[f.name] = _convert(f.type, raw.strip(), key)
    return cls(**kwargs)


@dataclass(frozen=True)
class Settings:
    """Every setting the engine reads; the environment keys are documented in .env.example."""

    data_dir: Path = Path("data")
    embed_cache: Path | None = None
    seeds_dir: Path = Path("seeds")
    chroma_host: str | None = None
    chroma_port: int = 8000
    chroma_timeout: float = 10.0
    collection_prefix: str = "newsdesk"
    embed_model: str = "builtin:minilm-int8"
    embed_batch_size: int = 32
    chunk_size: int = 200
    chunk_overlap: int = 40
    top_k: int = 8
    max_article_bytes: int = 5_000_000
    fetch_timeout: float = 10.0
    fetch_max_bytes: int = 5_000_000
    fetch_allow_private: bool = False
    user_agent: str = "NewsdeskBot/0.1 (+https://github.com/newsdesk)"
    feed_poll_minutes: float = 15.0
    feed_max_items: int = 50
    feed_backoff_hours: float = 6.0
    refresh_hours: float = 48.0
    llm_base_url: str | None = None
    llm_model: str | None = None
    llm_api_key: str | None = None
    llm_timeout: float = 30.0
    log_level: str = "INFO"
    question_log_days: int = 30  # days the question log (and feedback) is kept; 0: no question is recorded

    def __post_init__(self) -> None:
        problems = []
        if self.chunk_size < 16:
            problems.append(f"NEWSDESK_CHUNK_SIZE={self.chunk_size} is too small (at least 16 tokens)")
        if not 0 <= self.chunk_overlap < self.chunk_size:
            problems.append(
                f"NEWSDESK_CHUNK_OVERLAP={self.chunk_overlap} must be at least 0 and smaller than "
                f"NEWSDESK_CHUNK_SIZE={self.chunk_size}"
            )
        for name in ("embed_batch_size", "top_k", "max_article_bytes", "fetch_max_bytes", "feed_max_items"):
            if getattr(self, name) < 1:
                problems.append(f"{env_key(name)}={getattr(self, name)} must be at least 1")
        for name in ("fetch_timeout", "llm_timeout", "chroma_timeout"):
            if not getattr(self, name) > 0:
                problems.append(f"{env_key(name)}={getattr(self, name)} must be more than 0 seconds")
        if not 0 <= self.question_log_days <= 3650:
            problems.append(f"NEWSDESK_QUESTION_LOG_DAYS={self.question_log_days} must be 0 (off) to 3650 days")
        for name in ("feed_poll_minutes", "feed_backoff_hours"):
            if not getattr(self, name) > 0:
                problems.append(f"{env_key(name)}={getattr(self, name)} must be more than 0")
        if self.refresh_hours < 0:
            problems.append(f"NEWSDESK_REFRESH_HOURS={self.refresh_hours} must be 0 (off) or more")
        if not 0 < self.chroma_port < 65536:
            problems.append(f"CHROMA_PORT={self.chroma_port} is not a port number")
        if len(self.collection_prefix) < 2 or not self.collection_prefix.replace("-", "").replace("_", "").isalnum():
            problems.append(f"NEWSDESK_COLLECTION_PREFIX={self.collection_prefix!r} must be 2+ letters, digits, - or _")
        if problems:
            raise ValueError("; ".join(problems))

    @property
    def embed_cache_path(self) -> Path:
        """The embedding cache's file: NEWSDESK_EMBED_CACHE, else embeddings.sqlite3 in the data directory."""
        return self.embed_cache or Path(self.data_dir) / "embeddings.sqlite3"

    @property
    def chroma_is_server(self) -> bool:
        """True when a Chroma server is configured instead of the embedded store."""
        return bool(self.chroma_host)

    @property
    def llm_enabled(self) -> bool:
        """True when an OpenAI-compatible endpoint is configured."""
        return bool(self.llm_base_url and self.llm_model)

    @classmethod
    def from_env(cls, environ: Mapping[str, str] | None = None) -> Settings:
        """Build settings from environment variables (NEWSDESK_*, CHROMA_*, LLM_*)."""
        return from_environment(cls, env_key, environ)


def env_key(name: str) -> str:
    """The environment variable of a setting: CHROMA_* and LLM_* as they are, the rest NEWSDESK_*."""
    if name.startswith(("chroma_", "llm_")):
        return name.upper()
    return "NEWSDESK_" + name.upper()
