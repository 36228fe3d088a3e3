"""A day's digest for a server: the articles new that day (published or added) that it can read, grouped into
stories by the terms their headlines share, the most covered first, one cited line each chosen by the
extractive answerer. An Answer, so that every face renders it like any other."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import date

from .answer import ExtractiveAnswerer
from .catalog import Catalog
from .chunking import index_title
from .results import Answer, Citation, Passage, Sentence
from .servers import Scope
from .text import terms

STORIES = 5  # stories in a digest
SAME_STORY = 0.4  # headlines whose terms overlap this much (Jaccard)...
SHARED_TERMS = 3  # ...or share this many terms are one story
NEW_ARTICLES = 300  # at most this many of the day's articles are looked at (the newest)
LEAD_PASSAGES = 4  # a story's line is drawn from the first chunks of this many of its articles


def build_digest(catalog: Catalog, answerer: ExtractiveAnswerer, scope: Scope, day: date) -> Answer:
    """The digest of `day` for a scope; not covered (no sentences) when nothing is new that day."""
    keys = list(scope.keys)
    marks = ",".join("?" * len(keys))
    rows = catalog.query(
        f"SELECT id, title, url, (SELECT COUNT(*) FROM chunks c WHERE c.article_id = a.id) FROM articles a"
        f" WHERE server IN ({marks}) AND (published = ? OR substr(added_at, 1, 10) = ?)"
        " ORDER BY added_at DESC, rowid DESC LIMIT ?",
        (*keys, day.isoformat(), day.isoformat(), NEW_ARTICLES),
    )
    articles = [(a, index_title(t, u), n) for a, t, u, n in rows if a not in scope.hidden and n]
    title = f"Top stories, {day.isoformat()}"
    if not articles:
        return Answer(question=title, sentences=(), citations=(), as_of=day, covered=False, answerer="digest")
    stories = group_stories([(a, t) for a, t, _ in articles])
    demoted = scope.demoted
    stories.sort(key=lambda ids: (all(a in demoted for a in ids), -len(ids)))
    sentences: list[Sentence] = []
    citations: list[Citation] = []
    for ids in stories[:STORIES]:
        line = _story_line(catalog, answerer, ids, day)
        if line is None:
            continue
        text, passage, headline = line
        number = len(citations) + 1
        citations.append(Citation(number, passage, headline=headline))
        sentences.append(Sentence(text, (number,)))
    return Answer(
        question=title,
        sentences=tuple(sentences),
        citations=tuple(citations),
        as_of=day,
        covered=bool(sentences),
        answerer="digest",
    )


def group_stories(articles: Sequence[tuple[str, str]]) -> list[list[str]]:
    """Article ids grouped by headline: linked when their terms overlap enough (single link), in the order
    of each group's first article."""
    words = [set(terms(title)) for _, title in articles]
    parent = list(range(len(articles)))

    def root(i: int) -> int:
        while parent[i] != i:
            parent[i] = parent[parent[i]]
            i = parent[i]
        return i

    for i in range(len(articles)):
        for j in range(i + 1, len(articles)):
            shared = len(words[i] & words[j])
            union = len(words[i] | words[j]) or 1
            if shared and (shared / union >= SAME_STORY or shared >= SHARED_TERMS):
                parent[root(j)] = root(i)
    groups: dict[int, list[str]] = {}
    for i, (article_id, _) in enumerate(articles):
        groups.setdefault(root(i), []).append(article_id)
    return list(groups.values())


def _story_line(
    catalog: Catalog, answerer: ExtractiveAnswerer, ids: list[str], day: date
) -> tuple[str, Passage, bool] | None:
    """The line a story gets: the answerer's best sentence other than a headline for the first article's
    headline as the question, else that headline; with the passage it cites."""
    passages = _lead_passages(catalog, ids[:LEAD_PASSAGES])
    if not passages:
        return None
    question = passages[0].title or passages[0].text[:200]
    answer = answerer.answer(question, passages, as_of=day)
    by_number = {c.number: c for c in answer.citations}
    for sentence in answer.sentences:
        cited = by_number.get(sentence.citations[0]) if sentence.citations else None
        if cited is not None and sentence.text != " ".join(cited.passage.title.split()):
            return sentence.text, cited.passage, False
    first = passages[0]
    return (" ".join(first.title.split()), first, True) if first.title.strip() else None


def _lead_passages(catalog: Catalog, ids: list[str]) -> list[Passage]:
    """The first chunk of each article, as passages."""
    infos = {i.id: i for i in catalog.infos_for(ids)}
    out = []
    for article_id in ids:
        rows = catalog.chunks(article_id)[:1]
        info = infos.get(article_id)
        if rows and info:
            out.append(
                Passage(
                    chunk_id=rows[0].id,
                    article_id=article_id,
                    text=rows[0].text,
                    title=index_title(info.title, info.url),
                    outlet=info.outlet,
                    published=info.published,
                    url=info.url,
                    score=1.0,
                    sentence_spans=rows[0].sentences,
                )
            )
    return out
