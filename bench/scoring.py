"""Scoring by the benchmark README's rules: answer correctness, Hits@k, MRR@10, percentiles, summaries."""

from __future__ import annotations

import unicodedata
from collections.abc import Iterable

from index import Answer

ANSWER_STOP_WORDS = frozenset({"a", "an", "the", "of", "in", "on", "and"})
SHOWN_CHARS = 1000  # what a reader sees of an answer (about a Discord message)
LEAD_CHARS = 250  # what a reader sees first: the opening lines (answer_lead_accuracy)


def answer_words(text: str) -> list[str]:
    """The README's normalisation: NFKC, lower case, every character that is not a letter, digit, underscore
    or white space made a space, split on white space, stop words dropped."""
    text = unicodedata.normalize("NFKC", text).lower()
    text = "".join(ch if ch.isalnum() or ch == "_" or ch.isspace() else " " for ch in text)
    return [w for w in text.split() if w not in ANSWER_STOP_WORDS]


def answer_correct(gold_answers: Iterable[str], shown: str, chars: int = SHOWN_CHARS) -> bool:
    """True when, for one of the gold answers, at least two thirds of its words appear in the first `chars`
    characters of the shown answer (SHOWN_CHARS by the README; LEAD_CHARS for what is seen first). (A gold answer
    made only of stop words is compared word for word without dropping them.)"""
    shown = shown[:chars]
    seen = set(answer_words(shown))
    for gold in gold_answers:
        words = answer_words(gold)
        if not words:
            raw = unicodedata.normalize("NFKC", gold).lower()
            words = "".join(ch if ch.isalnum() or ch == "_" or ch.isspace() else " " for ch in raw).split()
            seen_all = set(
                "".join(
                    ch if ch.isalnum() or ch == "_" or ch.isspace() else " "
                    for ch in unicodedata.normalize("NFKC", shown).lower()
                ).split()
            )
            if words and sum(w in seen_all for w in words) * 3 >= 2 * len(words):
                return True
            continue
        if sum(w in seen for w in words) * 3 >= 2 * len(words):
            return True
    return False


def shown_text(answer: Answer) -> str:
    """An answer as a reader sees it, in the order it is rendered: its short answer and the cited sentences (the
    answer's text: 'Nissan — Nissan recalls … [1] …'), then each citation as '[n] <quoted passage>'."""
    parts = [answer.text]
    for citation in answer.citations:
        parts.append(f"[{citation.number}] {citation.quote}")
    return "\n".join(parts)


def citations_hold(answer: Answer) -> bool:
    """True when every citation number of every sentence names a citation whose quoted passage contains
    the sentence, and the short answer is said by the first sentence."""
    quotes = {c.number: " ".join(c.quote.split()) for c in answer.citations}
    lead_said = not answer.lead or bool(answer.sentences) and answer.lead in answer.sentences[0].text
    return lead_said and all(
        n in quotes and " ".join(s.text.split()) in quotes[n] for s in answer.sentences for n in s.citations
    )


def distinct(ids: Iterable[str]) -> list[str]:
    """Ids in first-seen order without repeats."""
    seen: set[str] = set()
    return [i for i in ids if not (i in seen or seen.add(i))]


def gold_rank(ranked_ids: Iterable[str], gold_id: str | None) -> int | None:
    """1-based rank of the gold article among the distinct articles in rank order, or None."""
    for rank, article_id in enumerate(distinct(ranked_ids), 1):
        if article_id == gold_id:
            return rank
    return None


def hits_at(ranks: list[int | None], k: int) -> float:
    """Share of questions whose gold article is among the first k."""
    return sum(1 for r in ranks if r is not None and r <= k) / len(ranks) if ranks else 0.0


def mrr_at(ranks: list[int | None], k: int = 10) -> float:
    """Mean of 1/rank of the gold article within the first k (0 when not there)."""
    return sum(1.0 / r for r in ranks if r is not None and r <= k) / len(ranks) if ranks else 0.0


def percentile(values: list[float], q: float) -> float:
    """The q-th percentile (0..100), linear interpolation."""
    if not values:
        return 0.0
    ordered = sorted(values)
    pos = (len(ordered) - 1) * q / 100
    low = int(pos)
    high = min(low + 1, len(ordered) - 1)
    return ordered[low] + (ordered[high] - ordered[low]) * (pos - low)


def summarise(rows: list[dict]) -> dict:
    """The headline figures of per-question rows (rank, correct, correct_lead, covered, latency_ms)."""
    ranks = [r["rank"] for r in rows]
    latencies = [r["latency_ms"] for r in rows]
    n = len(rows)
    return {
        "questions": n,
        "hits_at_1": hits_at(ranks, 1),
        "hits_at_5": hits_at(ranks, 5),
        "hits_at_10": hits_at(ranks, 10),
        "mrr_at_10": mrr_at(ranks, 10),
        "answer_accuracy": sum(r["correct"] for r in rows) / n if n else 0.0,
        "answer_lead_accuracy": sum(r["correct_lead"] for r in rows) / n if n else 0.0,
        "not_covered_rate": sum(not r["covered"] for r in rows) / n if n else 0.0,
        "latency_ms_p50": percentile(latencies, 50),
        "latency_ms_p95": percentile(latencies, 95),
    }
