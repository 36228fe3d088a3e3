"""Newsdesk's engine: articles in, cited answers out. Faces and the benchmark harness use only what is here."""

from .answer import Answerer
from .articles import Article, article_from_record, iter_article_paths, url_article_id
from .community import ArticleEvent, Report
from .dates import parse_iso_date
from .embedcache import EmbeddingCache, cache_key
from .embedding import Embedder, load_embed_model, model_id
from .engine import Engine
from .errors import (
    ArticleNotFound,
    ArticleTooLarge,
    BlockedURL,
    FeedError,
    FeedNotFound,
    FetchError,
    InvalidArticle,
    InvalidInput,
    ModelError,
    NewsdeskError,
    NotPermitted,
    RebuildInProgress,
    StoreError,
    StoreNotAnswering,
    UnknownRecord,
    UnsupportedFormat,
)
from .importer import ImportReport, LineError
from .intake import FeedInfo, FeedReport, ItemFailure, RefreshReport
from .questionlog import REASONS, Feedback
from .results import (
    HISTORY_TURNS,
    LEAD_DASH,
    NOT_COVERED,
    AddResult,
    Answer,
    ArticleInfo,
    ArticleVectors,
    Citation,
    Figure,
    Passage,
    RebuildReport,
    Sentence,
    Status,
    Turn,
    Update,
)
from .settings import Settings, from_environment
from .startup import build_answerer
from .story_view import outlet_name_key
from .text import clip, load_sentence_splitter, sentence_spans, split_sentences, terms

__all__ = [
    "REASONS",
    "ArticleEvent",
    "Feedback",
    "NotPermitted",
    "Report",
    "UnknownRecord",
    "HISTORY_TURNS",
    "LEAD_DASH",
    "NOT_COVERED",
    "AddResult",
    "Answer",
    "Answerer",
    "Article",
    "ArticleInfo",
    "ArticleNotFound",
    "ArticleTooLarge",
    "ArticleVectors",
    "BlockedURL",
    "Citation",
    "Embedder",
    "EmbeddingCache",
    "Engine",
    "FeedError",
    "FeedInfo",
    "FeedNotFound",
    "FeedReport",
    "FetchError",
    "Figure",
    "ImportReport",
    "InvalidArticle",
    "InvalidInput",
    "ItemFailure",
    "LineError",
    "ModelError",
    "NewsdeskError",
    "Passage",
    "RebuildInProgress",
    "RebuildReport",
    "RefreshReport",
    "Sentence",
    "Settings",
    "Status",
    "StoreError",
    "StoreNotAnswering",
    "Turn",
    "UnsupportedFormat",
    "Update",
    "article_from_record",
    "build_answerer",
    "cache_key",
    "clip",
    "from_environment",
    "iter_article_paths",
    "load_embed_model",
    "load_sentence_splitter",
    "model_id",
    "outlet_name_key",
    "parse_iso_date",
    "sentence_spans",
    "split_sentences",
    "terms",
    "url_article_id",
]
