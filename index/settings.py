"""One settings object, read from the environment by the entry point."""

from __future__ import annotations

import os
from dataclasses import dataclass, fields
from pathlib import Path
from typing import Mapping


def _bool(value: str) -> bool:
    return value.strip().lower() in {"1", "true", "yes", "on"}


def _list(value: str) -> tuple[str, ...]:
    return tuple(part.strip() for part in value.split(",") if part.strip())


@dataclass(frozen=True)
class Settings:
    """Every setting Newsdesk reads; the environment keys are documented in .env.example."""

    data_dir: Path = Path("data")
    seeds_dir: Path = Path("seeds")
    chroma_host: str | None = None
    chroma_port: int = 8000
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
    llm_base_url: str | None = None
    llm_model: str | None = None
    llm_api_key: str | None = None
    llm_timeout: float = 30.0
    discord_token: str | None = None
    discord_guild_id: int | None = None
    discord_add_role: str | None = None
    discord_moderator_role: str | None = None
    discord_ask_per_minute: int = 6
    discord_add_per_minute: int = 3
    log_level: str = "INFO"

    @property
    def chroma_is_server(self) -> bool:
        """True when a Chroma server is configured instead of the embedded store."""
        return bool(self.chroma_host)

    @property
    def llm_enabled(self) -> bool:
        """True when an OpenAI-compatible endpoint is configured."""
        return bool(self.llm_base_url and self.llm_model)

    @classmethod
    def from_env(cls, environ: Mapping[str, str] | None = None) -> "Settings":
        """Build settings from environment variables (NEWSDESK_*, CHROMA_*, LLM_*, DISCORD_*)."""
        env = dict(os.environ if environ is None else environ)
        kwargs: dict[str, object] = {}
        for f in fields(cls):
            key = _env_key(f.name)
            raw = env.get(key)
            if raw is None or raw.strip() == "":
                continue
            kwargs[f.name] = _convert(f.type, raw.strip(), key)
        return cls(**kwargs)


_PREFIXES = ("chroma_", "llm_", "discord_")


def _env_key(name: str) -> str:
    if name.startswith(_PREFIXES):
        return name.upper()
    return "NEWSDESK_" + name.upper()


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
        if "tuple" in text:
            return _list(raw)
    except ValueError as exc:
        raise ValueError(f"{key}={raw!r} is not a valid value: {exc}") from None
    return raw
