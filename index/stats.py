"""A server's figures from the question log and feedback: questions per day, the not-covered rate, the
questions the articles did not cover grouped into coverage gaps, and the worst-rated answers."""

from __future__ import annotations

import math
from collections import Counter
from datetime import UTC, date, datetime, timedelta

from .catalog import Catalog
from .servers import server_of
from .text import terms

GAP_LINK = 0.3  # two not-covered questions are one gap when their tf-idf cosine reaches this
GAP_QUESTIONS = 500  # the latest this-many not-covered questions are grouped
GAP_GROUPS = 10
WORST = 5


def server_stats(catalog: Catalog, key: str, *, days: int, today: date | None = None, logging: bool = True) -> dict:
    """The figures of one corpus's questions over the last `days` days (UTC), as a JSON-able dict."""
    today = today or datetime.now(UTC).date()
    since = (today - timedelta(days=days - 1)).isoformat()
    until = (today + timedelta(days=1)).isoformat()
    window = (key, since, until)
    per_day = [
        {"day": d, "questions": int(n), "not_covered": int(nc), "ms_mean": round(ms or 0)}
        for d, n, nc, ms in catalog.query(
            "SELECT substr(asked_at, 1, 10), COUNT(*), SUM(1 - covered), AVG(ms) FROM questions"
            " WHERE server = ? AND asked_at >= ? AND asked_at < ? GROUP BY 1 ORDER BY 1",
            window,
        )
    ]
    asked = sum(d["questions"] for d in per_day)
    not_covered = sum(d["not_covered"] for d in per_day)
    everything = [
        q
        for (q,) in catalog.query(
            "SELECT question FROM questions WHERE server = ? AND asked_at >= ? AND asked_at < ?", window
        )
    ]
    missed = [
        q
        for (q,) in catalog.query(
            "SELECT question FROM questions WHERE server = ? AND asked_at >= ? AND asked_at < ? AND covered = 0"
            " ORDER BY asked_at DESC LIMIT ?",
            (*window, GAP_QUESTIONS),
        )
    ]
    up, down = catalog.query(
        "SELECT COALESCE(SUM(vote = 1), 0), COALESCE(SUM(vote = -1), 0) FROM feedback"
        " WHERE server = ? AND updated_at >= ? AND updated_at < ?",
        window,
    )[0]
    return {
        "server": server_of(key),
        "days": days,
        "since": since,
        "until": today.isoformat(),
        "logging": logging,
        "questions": asked,
        "not_covered": not_covered,
        "not_covered_rate": round(not_covered / asked, 4) if asked else 0.0,
        "per_day": per_day,
        "gaps": coverage_gaps(missed, everything),
        "ratings": {"up": int(up), "down": int(down)},
        "worst_rated": worst_rated(catalog, window),
    }


def worst_rated(catalog: Catalog, window: tuple[str, str, str]) -> list[dict]:
    """Answers with 👎, the same question and answer counted together, most disliked first."""
    rows = catalog.query(
        "SELECT MIN(question), answer, SUM(vote = -1), SUM(vote = 1), GROUP_CONCAT(reason, '|'), MAX(updated_at)"
        " FROM feedback WHERE server = ? AND updated_at >= ? AND updated_at < ?"
        " GROUP BY lower(question), answer HAVING SUM(vote = -1) > 0"
        " ORDER BY SUM(vote = -1) - SUM(vote = 1) DESC, MAX(updated_at) DESC LIMIT ?",
        (*window, WORST),
    )
    return [
        {
            "question": q,
            "answer": a,
            "down": int(d),
            "up": int(u),
            "reasons": dict(Counter(r for r in (reasons or "").split("|") if r)),
            "last": last,
        }
        for q, a, d, u, reasons, last in rows
    ]


def coverage_gaps(
    missed: list[str], everything: list[str], *, link: float = GAP_LINK, limit: int = GAP_GROUPS
) -> list[dict]:
    """Group the not-covered questions into gaps: each question a tf-idf vector of its content terms (idf over
    all the questions asked), linked to another when their cosine reaches `link` (single link); largest gaps
    first, each named by the informative terms most of its questions share."""
    if not missed:
        return []
    df = Counter(t for q in everything or missed for t in set(terms(q)))
    n = max(len(everything), len(missed))
    idf = {t: math.log((1 + n) / (1 + c)) + 1 for t, c in df.items()}
    vectors = []
    for q in missed:
        weights = {t: idf.get(t, math.log(1 + n) + 1) for t in set(terms(q))}
        norm = math.sqrt(sum(w * w for w in weights.values())) or 1.0
        vectors.append({t: w / norm for t, w in weights.items()})
    parent = list(range(len(missed)))

    def root(i: int) -> int:
        while parent[i] != i:
            parent[i] = parent[parent[i]]
            i = parent[i]
        return i

    for i in range(len(missed)):
        for j in range(i + 1, len(missed)):
            if sum(w * vectors[j].get(t, 0.0) for t, w in vectors[i].items()) >= link:
                parent[root(i)] = root(j)
    groups: dict[int, list[int]] = {}
    for i in range(len(missed)):
        groups.setdefault(root(i), []).append(i)
    ranked = sorted(groups.values(), key=lambda g: (-len(g), min(g)))[:limit]
    surface = _surface_words(missed)
    out = []
    for members in ranked:
        counts = Counter(t for i in members for t in vectors[i])
        shared = [t for t, c in counts.items() if c * 2 >= len(members)] or list(counts)
        shared.sort(key=lambda t: (-counts[t] * idf.get(t, 1.0), t))
        questions = list(dict.fromkeys(missed[i] for i in members))
        out.append(
            {"terms": [surface.get(t, t) for t in shared[:3]], "count": len(members), "questions": questions[:5]}
        )
    return out


def _surface_words(texts: list[str]) -> dict[str, str]:
    """The commonest word behind each content term (so that gaps read 'evacuated', not 'evacu')."""
    seen: dict[str, Counter] = {}
    for text in texts:
        for word in text.split():
            word = word.strip(".,;:!?\"'()[]").lower()
            for term in terms(word):
                seen.setdefault(term, Counter())[word] += 1
    return {t: c.most_common(1)[0][0] for t, c in seen.items()}
