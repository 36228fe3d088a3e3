"""Typed errors the engine raises; each face translates them for its users."""


class NewsdeskError(Exception):
    """Base of every error the engine raises on purpose."""


class InvalidInput(NewsdeskError):
    """A value a user gave cannot be used (a date out of range, an empty question...)."""


class InvalidArticle(InvalidInput):
    """The input cannot become an article (empty, binary, undecodable, no body...)."""


class ArticleTooLarge(InvalidArticle):
    """The input is over the configured size limit."""


class UnsupportedFormat(InvalidArticle):
    """The input's type is not one the engine can read."""


class FetchError(NewsdeskError):
    """A URL could not be fetched (timeout, HTTP error, wrong content type)."""


class BlockedURL(FetchError):
    """A URL points at a private, loopback or link-local address, or uses a refused scheme."""


class ArticleNotFound(NewsdeskError):
    """No article has that id."""


class StoreError(NewsdeskError):
    """The vector store or article database failed."""


class StoreNotAnswering(StoreError):
    """The vector store did not answer within its deadline (a hung server or process)."""


class RebuildInProgress(NewsdeskError):
    """A rebuild is already running."""


class ModelError(NewsdeskError):
    """The embedding model could not be loaded or failed its integrity check."""


class FeedError(NewsdeskError):
    """A feed or sitemap cannot be read: not XML, malformed, unsafe (entity expansion), or not a feed at all."""


class FeedNotFound(NewsdeskError):
    """No followed feed has that id or URL."""


def storage_reason(text: str) -> str:
    """What a storage failure means for the user, from the library's message (the same wording whichever
    store failed: catalog, embedding cache or vector store)."""
    lower = text.lower()
    if any(k in lower for k in ("no space", "disk is full", "file too large", "database or disk is full")):
        return "the disk is full (free some space and try again)"
    if "disk i/o error" in lower:
        return "the disk is full or cannot be written (disk I/O error); free some space and try again"
    if "readonly" in lower or "read-only" in lower:
        return "the data directory is read-only"
    if "locked" in lower or "busy" in lower:
        return "another process kept the database busy; try again"
    return text[:500]


class NotPermitted(NewsdeskError):
    """The user may not do that (rate someone else's answer, act on another server's records)."""


class UnknownRecord(NewsdeskError):
    """No stored record has that id (an answer no longer logged, a report gone)."""
