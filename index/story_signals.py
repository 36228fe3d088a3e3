"""What the story assigner compares articles by: body shingles (MinHash), title words, the lead's names.

Each is computed once per article, from that article alone, so that adding an article never reads the others'
text: the MinHash signature and its LSH band keys find near-verbatim copies, title content words and the
lead's capitalised names feed the same-story score beside the embedding similarity.
"""

from __future__ import annotations

import hashlib
import math
import re
from collections.abc import Iterable, Mapping
from functools import lru_cache

import numpy as np

from .citecheck import content_words, names_in

NUM_PERM = 128  # MinHash permutations: the Jaccard estimate's standard error is about 0.04
SHINGLE_WORDS = 5  # words per shingle: long enough that shared shingles mean shared sentences
LSH_THRESHOLD = 0.3  # the Jaccard LSH is tuned to find (datasketch's optimum): low enough for a copy cut short
LEAD_CHARS = 1500  # the body's opening, whose names describe the event (later paragraphs drift to background)
_WORD = re.compile(r"\w+")
_SITE_SUFFIX = re.compile(r"\s+[|–-]\s+[^|–-]{1,40}$")  # ' | CNN Politics', ' - The Week UK' after a headline
_CALENDAR = frozenset(
    """monday tuesday wednesday thursday friday saturday sunday january february march april
may june july august september october november december jan feb mar apr jun jul aug sep sept oct nov dec""".split()
)


def headline(title: str) -> str:
    """The title without the site name a page title ends with."""
    return _SITE_SUFFIX.sub("", title.strip()).strip()


def title_words(title: str) -> frozenset[str]:
    """Stemmed content words of the headline."""
    return frozenset(w for w in content_words(headline(title)) if not w.isdigit())


def lead_names(title: str, lead: str, outlet: str | None = None) -> frozenset[str]:
    """Capitalised names in the headline and the lead, stemmed and lower-cased; numbers, day and month
    names and the outlet's own name (a dateline, not a subject) left out."""
    from .chunking import sentence_spans

    text = headline(title) + "\n" + lead[:LEAD_CHARS]
    own = {w for w in _WORD.findall((outlet or "").lower())}
    names: set[str] = set()
    for start, end in sentence_spans(text):
        names.update(names_in(text[start:end]))
    return frozenset(n for n in names if not n[0].isdigit() and n not in _CALENDAR and n not in own)


def paragraphs(body: str) -> list[str]:
    """The body's non-empty paragraphs (lines), stripped."""
    return [p.strip() for p in body.split("\n") if _WORD.search(p)]


def paragraph_key(paragraph: str) -> int:
    """A 64-bit key of a paragraph's lower-cased words (signed, for SQLite): equal for re-typeset copies."""
    words = " ".join(_WORD.findall(paragraph.lower())).encode()
    return int.from_bytes(hashlib.blake2b(words, digest_size=8).digest(), "little", signed=True)


def shingles(body: str) -> set[bytes]:
    """The body's word SHINGLE_WORDS-grams, lower-cased."""
    words = _WORD.findall(body.lower())
    return {" ".join(words[i : i + SHINGLE_WORDS]).encode() for i in range(max(1, len(words) - SHINGLE_WORDS + 1))}


def minhash_signature(body: str) -> np.ndarray:
    """The body's MinHash signature (datasketch, NUM_PERM uint64 values)."""
    from datasketch import MinHash

    m = MinHash(num_perm=NUM_PERM)
    m.update_batch(list(shingles(body)))
    return m.hashvalues.astype(np.uint64)


@lru_cache(maxsize=1)
def lsh_params() -> tuple[int, int]:
    """(bands, rows per band) that datasketch's MinHashLSH chooses for LSH_THRESHOLD and NUM_PERM."""
    from datasketch import MinHashLSH

    lsh = MinHashLSH(threshold=LSH_THRESHOLD, num_perm=NUM_PERM)
    return lsh.b, lsh.r


def band_keys(signature: np.ndarray) -> list[int]:
    """One key per LSH band: articles sharing any band key are copy candidates. Signed 64-bit, for SQLite."""
    bands, rows = lsh_params()
    keys = []
    for band in range(bands):
        chunk = signature[band * rows : (band + 1) * rows].astype("<u8").tobytes()
        keys.append(int.from_bytes(hashlib.blake2b(chunk, digest_size=8).digest(), "little", signed=True))
    return keys


def estimated_jaccard(a: np.ndarray, b: np.ndarray) -> float:
    """The Jaccard similarity of two bodies' shingle sets, estimated from their signatures."""
    return float(np.count_nonzero(a == b)) / len(a)


def estimated_containment(a: np.ndarray, b: np.ndarray, size_a: int, size_b: int) -> float:
    """The share of the smaller shingle set found in the larger, from the Jaccard estimate and the set sizes
    (|A & B| = J (|A| + |B|) / (1 + J)): 1 when one body is the other cut short."""
    j = estimated_jaccard(a, b)
    return min(1.0, j * (size_a + size_b) / ((1 + j) * max(1, min(size_a, size_b))))


def idf(articles: int, with_term: int) -> float:
    """Inverse document frequency as BM25 (Lucene) has it: high for a term few stored articles have, near 0 for
    one they all have, never negative, and sensible in a store of one article."""
    return math.log(1 + (articles - with_term + 0.5) / (with_term + 0.5))


def weighted_overlap(a: Iterable[str], b: Iterable[str], weight: Mapping[str, float]) -> float:
    """Weight of the common terms / the smaller set's weight: 0 when either weighs nothing."""
    a, b = set(a), set(b)
    smaller = min(sum(weight[t] for t in a), sum(weight[t] for t in b))
    return sum(weight[t] for t in a & b) / smaller if smaller > 0 else 0.0


def weighted_jaccard(a: Iterable[str], b: Iterable[str], weight: Mapping[str, float]) -> float:
    """Weight of the common terms / weight of all their terms: 0 when they weigh nothing."""
    a, b = set(a), set(b)
    union = sum(weight[t] for t in a | b)
    return sum(weight[t] for t in a & b) / union if union > 0 else 0.0
