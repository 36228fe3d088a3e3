"""Answers shaped by the kind of question (index.intent): the latest reports of a story, what changed since a
day, a story's timeline, a period's top stories, outlets side by side. Each is planned from the stories
(index.story_view) and retrieval, then written by the extractive picker or the configured answerer
(index.picking). Every answer, shaped or not, is finished the same way: one source per article and per copy
group, figures that changed over time, and a note when the newest source is older than the time asked about."""

from __future__ import annotations

import copy
from collections.abc import Iterable, Sequence
from dataclasses import replace
from datetime import date
from typing import TYPE_CHECKING

from . import figures, picking
from .answer import ExtractiveAnswerer
from .dates import TimeWindow, plus_days
from .intent import Intent, read_intent
from .picking import Item, Plan
from .ranking import date_weight
from .results import Answer, Passage, Turn
from .servers import Scope
from .sources import one_source_per_article
from .story_view import Member, StoryReader

if TYPE_CHECKING:
    from .answer import Answerer, TextCallback
    from .catalog import Catalog
    from .embedding import Embedder
    from .retrieve import HybridRetriever

STORY_PASSAGES = 12  # passages retrieved to find the story a question is about
LATEST_ITEMS = 3  # the newest reports a "latest" answer leads with
SINCE_ITEMS = 4  # newer reports a "since" answer draws on (the latest of them)
TIMELINE_ITEMS = 8  # dated items of a timeline at most (one a day, the first and last days always)
DIGEST_ITEMS = 6  # stories of a digest
OUTLET_ARTICLES = 2  # articles of each outlet compared
STALE_DAYS = 90  # a newest source this much older than the as-of date is old news, said in a note
INSTRUCTIONS = {
    "latest": "Lead with what the newest passages (see their dates) report, newest first, one sentence each.",
    "since": "Say only what the passages dated on or after {since} report that the earlier news did not.",
    "timeline": "Write a timeline: one sentence for each dated passage, in date order.",
    "digest": "Give one sentence for each passage: each is a different story of the period.",
    "outlets": "Say how each outlet covered it, one or two sentences per outlet, citing that outlet's passages.",
}


class Shaper:
    """Plans and writes shaped answers, and finishes every answer."""

    def __init__(self, catalog: Catalog, retriever: HybridRetriever, embed: Embedder) -> None:
        self.catalog = catalog
        self.retriever = retriever
        self.embed = embed
        self.reader = StoryReader(catalog)
        self.scope = Scope(None)
        self._outlets: tuple[int, dict[str, str]] | None = None

    def scoped(self, scope: Scope) -> Shaper:
        """This shaper for one server's questions: its stories, retrieval and sources of what the scope may read."""
        twin = copy.copy(self)
        twin.scope, twin.reader = scope, self.reader.scoped(scope)
        return twin

    def outlets(self) -> dict[str, str]:
        """The catalog's outlets by outlet key (remembered until the next change)."""
        seq = self.catalog.change_seq()
        if self._outlets is None or self._outlets[0] != seq:
            self._outlets = (seq, self.reader.outlets())
        return self._outlets[1]

    def intent(self, question: str, as_of: date) -> Intent:
        """The kind of question."""
        return read_intent(question, as_of, self.outlets())

    def answer(
        self,
        question: str,
        *,
        as_of: date,
        answerer: Answerer,
        history: Sequence[Turn] = (),
        on_text: TextCallback | None = None,
    ) -> Answer | None:
        """The shaped answer to a question of a shaped kind; None for any other question."""
        intent = self.intent(question, as_of)
        if intent.kind == "answer":
            return None
        plan = self.plan(intent, as_of)
        if not plan.items:
            return Answer(
                question=question,
                sentences=(),
                citations=(),
                as_of=as_of,
                covered=False,
                shape=plan.kind,
                notes=plan.notes + tuple(f"{g}: nothing on this in the index." for g in plan.groups),
            )
        if isinstance(answerer, ExtractiveAnswerer):
            sentences, citations, covered = picking.extractive(plan, self.embed)
            covered = covered and bool(sentences)
            answer = Answer(
                question=question,
                sentences=sentences if covered else (),
                citations=citations if covered else (),
                as_of=as_of,
                covered=covered,
            )
            if on_text and answer.covered:
                on_text(answer.text)
        else:
            answer = picking.by_answerer(plan, question, answerer, as_of=as_of, history=history, on_text=on_text)
        silent = tuple(
            f"{g}: nothing on this in the index."
            for g in plan.groups
            if not any(s.label.startswith(g) for s in answer.sentences)
        )
        answer = replace(
            answer,
            shape=plan.kind,
            heading=plan.heading if answer.covered else "",
            notes=plan.notes + silent + answer.notes,
        )
        return self.finish(answer, plan.window or intent.window, as_of)

    def finish(self, answer: Answer, window: TimeWindow, as_of: date) -> Answer:
        """One source per article and copy group, the figures that changed, and a note on old news."""
        answer = one_source_per_article(answer, self.reader)
        if not answer.covered or not answer.citations:
            return answer
        stories = self.reader.members_of(c.passage.article_id for c in answer.citations)
        found = figures.updates(answer, lambda a: stories[a].story_id if a in stories else a)
        note = staleness(answer, window, as_of)
        return replace(answer, updates=found, notes=answer.notes + ((note,) if note else ()))

    # plans -------------------------------------------------------------------------------------------------------
    def plan(self, intent: Intent, as_of: date) -> Plan:
        """What a shaped answer will say, and from which passages."""
        if intent.kind == "digest":
            return self._digest(intent, as_of)
        if intent.kind == "outlets":
            return self._outlets_plan(intent, as_of)
        members, story_window = self._story(intent, as_of)
        if not members:
            return Plan(intent.kind, intent.subject, (), "")
        if intent.kind == "latest":
            return self._latest(intent, members, as_of)
        if intent.kind == "since":
            return self._since(intent, members, as_of)
        return self._timeline(intent, members, story_window)

    def _story(self, intent: Intent, as_of: date) -> tuple[list[Member], TimeWindow]:
        """The originals of the story the subject is most about (copies folded in), up to as_of, oldest first."""
        retrieval = self.retriever.retrieve(intent.subject, as_of=as_of, top_k=STORY_PASSAGES, scope=self.scope)
        best: dict[str, float] = {}
        for p in retrieval.passages:  # how well each article matches the subject, whatever its date
            if p.published is None or p.published <= as_of:
                relevance = p.score / date_weight(p.published, retrieval.window, as_of)
                best[p.article_id] = max(best.get(p.article_id, 0.0), relevance)
        found = self.reader.members_of(best)
        weight: dict[str, tuple[float, float]] = {}  # a story's best article, then all of them
        for article_id, score in best.items():
            if article_id in found:
                top, total = weight.get(found[article_id].story_id, (0.0, 0.0))
                weight[found[article_id].story_id] = (max(top, score), total + score)
        if not weight:
            return [], retrieval.window
        story_id = max(weight, key=lambda k: weight[k])
        members = self.reader.stories([story_id], until=as_of)[story_id]
        return [
            m for m in members if m.copy_of is None or m.copy_of not in {x.article_id for x in members}
        ], retrieval.window

    def _items(self, subject: str, members: Sequence[Member], per_article: int = 2, sentences: int = 1) -> list[Item]:
        by_article = self._passages(subject, members, per_article)
        return [
            Item(tuple(by_article[m.article_id]), _dated(m), m.day, sentences)
            for m in members
            if m.article_id in by_article
        ]

    def _passages(self, subject: str, members: Sequence[Member], per_article: int = 2) -> dict[str, list[Passage]]:
        """Each member's best passages for the subject (their score: how well the article matches it)."""
        by_article: dict[str, list[Passage]] = {}
        for p in self.retriever.article_passages(subject, [m.article_id for m in members], self.scope, per_article):
            by_article.setdefault(p.article_id, []).append(p)
        return by_article

    def _latest(self, intent: Intent, members: list[Member], as_of: date) -> Plan:
        newest = sorted(members, key=lambda m: (m.day, m.article_id), reverse=True)[:LATEST_ITEMS]
        outlets = {m.outlet for m in members if m.outlet}
        source = f" from {_count(len(outlets), 'outlet')}" if outlets else ""
        heading = f"As of {newest[0].day.isoformat()}, the newest of {_count(len(members), 'report')}{source}:"
        return Plan(
            "latest",
            intent.subject,
            tuple(self._items(intent.subject, newest)),
            heading,
            instruction=INSTRUCTIONS["latest"],
            window=_recent(intent, as_of),
        )

    def _since(self, intent: Intent, members: list[Member], as_of: date) -> Plan:
        since = intent.since or as_of
        newer = [m for m in members if since <= m.day <= as_of]
        earlier = [m for m in members if m.day < since]
        if not newer:
            latest = members[-1]
            note = f"Nothing on this story is dated on or after {since.isoformat()}."
            return Plan(
                "since",
                intent.subject,
                tuple(self._items(intent.subject, [latest])),
                f"Nothing new since {since.isoformat()}; the newest report, from {latest.day.isoformat()}:",
                notes=(note,),
                window=intent.window,
            )
        newer = newer[-SINCE_ITEMS:]
        old = [
            p
            for p in self.retriever.article_passages(
                intent.subject, [m.article_id for m in earlier[-3:]], self.scope, 2
            )
        ]
        heading = (
            f"Since {since.isoformat()}: what {_count(len(newer), 'newer report')} add"
            f"{'s' if len(newer) == 1 else ''} (to {newer[-1].day.isoformat()}):"
            if earlier
            else f"Since {since.isoformat()} (nothing was reported before):"
        )
        return Plan(
            "since",
            intent.subject,
            tuple(self._items(intent.subject, newer)),
            heading,
            earlier=tuple(old),
            order="date",
            window=intent.window,
            instruction=INSTRUCTIONS["since"].format(since=since.isoformat()),
        )

    def _timeline(self, intent: Intent, members: list[Member], window: TimeWindow) -> Plan:
        by_day: dict[date, list[Member]] = {}
        for m in members:
            by_day.setdefault(m.day, []).append(m)
        days = sorted(by_day)
        if len(members) <= TIMELINE_ITEMS:  # every report
            chosen = list(members)
        else:  # one report a day, the one most about the subject: the first and last days, and the busiest between
            found = self._passages(intent.subject, members, 1)
            fit = {a: max(p.score for p in ps) for a, ps in found.items()}
            middle = sorted(days[1:-1], key=lambda d: (-len(by_day[d]), d))[: TIMELINE_ITEMS - 2]
            chosen = [
                max(by_day[d], key=lambda m: fit.get(m.article_id, -1.0)) for d in sorted({days[0], days[-1], *middle})
            ]
        heading = (
            f"Timeline: {_count(len(members), 'report')} from {members[0].day.isoformat()} to "
            f"{members[-1].day.isoformat()}:"
        )
        return Plan(
            "timeline",
            intent.subject,
            tuple(self._items(intent.subject, chosen)),
            heading,
            order="date",
            instruction=INSTRUCTIONS["timeline"],
            window=None,
        )

    def _digest(self, intent: Intent, as_of: date) -> Plan:
        start, end = intent.window.start, min(intent.window.end, as_of)
        found = self.reader.published_between(start, end)
        notes: tuple[str, ...] = ()
        if not found:
            newest = self.reader.newest_before(as_of)
            if newest is None:
                return Plan("digest", "", (), "", notes=("The index holds no dated articles.",))
            notes = (
                f"Nothing in the index is dated {_period(start, end)}; the newest reports are from "
                f"{newest.isoformat()}.",
            )
            start = end = newest
            found = self.reader.published_between(start, end)
        stories: dict[str, list[Member]] = {}
        for m in found:
            stories.setdefault(m.story_id, []).append(m)
        ranked = by_coverage(stories.values())
        items = []
        for ms in ranked[:DIGEST_ITEMS]:
            lead = max((m for m in ms if m.copy_of is None), key=lambda m: (m.day, m.article_id), default=ms[-1])
            passage = self._first_passage(lead)
            if passage is not None:
                outlets = len({m.outlet for m in ms if m.outlet})
                items.append(
                    Item(
                        (passage,),
                        f"{_count(outlets, 'outlet')}, {_count(len(ms), 'report')}",
                        lead.day,
                        headline_only=True,
                    )
                )
        heading = f"Top stories {_period(start, end)}, by coverage ({_count(len(stories), 'story')}):"
        return Plan(
            "digest",
            "",
            tuple(items),
            heading,
            notes=notes,
            instruction=INSTRUCTIONS["digest"],
            window=TimeWindow(start, end, True),
        )

    def _outlets_plan(self, intent: Intent, as_of: date) -> Plan:
        items: list[Item] = []
        names: list[str] = []
        for key in intent.outlets:
            spellings = self.reader.outlet_names(key)
            name = self.outlets().get(key, key)
            names.append(name)
            retrieval = self.retriever.retrieve(
                intent.subject, as_of=as_of, top_k=OUTLET_ARTICLES * 2, outlets=spellings, scope=self.scope
            )
            ids = list(dict.fromkeys(p.article_id for p in retrieval.passages))[:OUTLET_ARTICLES]
            found = self.reader.members_of(ids)
            members = [found[a] for a in ids if a in found]
            own = [
                replace(i, label=f"{name}, {i.day.isoformat()}" if i.day else name)
                for i in self._items(intent.subject, members)
            ]
            items += own
        heading = f"How {' and '.join(names)} covered {intent.subject}:"
        return Plan(
            "outlets",
            intent.subject,
            tuple(items),
            heading,
            instruction=INSTRUCTIONS["outlets"],
            each_item_on_subject=True,
            groups=tuple(names),
        )

    def _first_passage(self, member: Member) -> Passage | None:
        rows = self.catalog.chunks(member.article_id)[:1]
        if not rows:
            return None
        r = rows[0]
        return Passage(
            chunk_id=r.id,
            article_id=member.article_id,
            text=r.text,
            title=member.title,
            outlet=member.outlet,
            published=member.published,
            url=member.url,
            sentence_spans=r.sentences,
        )


def by_coverage(stories: Iterable[list[Member]]) -> list[list[Member]]:
    """Stories (their articles) most covered first: by outlets, then reports, then the newest."""
    return sorted(
        stories,
        key=lambda ms: (
            -len({m.outlet for m in ms if m.outlet}),
            -len(ms),
            -max(m.day for m in ms).toordinal(),
            ms[0].story_id,
        ),
    )


def staleness(answer: Answer, window: TimeWindow, as_of: date) -> str | None:
    """A note when the newest cited source is older than the period asked about, or far older than as_of."""
    days = [c.passage.published for c in answer.citations if c.passage.published and c.passage.published <= as_of]
    if not days:
        return None
    newest = max(days)
    if window.explicit and not window.yearless and newest < window.start:
        return (
            f"The newest source is from {newest.isoformat()}, before the period asked about "
            f"({_period(window.start, min(window.end, as_of))})."
        )
    if (as_of - newest).days > STALE_DAYS:
        return (
            f"The newest source is from {newest.isoformat()}, {_age((as_of - newest).days)} before "
            f"{as_of.isoformat()}: later news may not be in the index."
        )
    return None


def _recent(intent: Intent, as_of: date) -> TimeWindow:
    """The period a "latest" question is about: the window it names, else the last two weeks."""
    return intent.window if intent.window.explicit else TimeWindow(plus_days(as_of, -14), as_of, True)


def _dated(m: Member) -> str:
    return f"{m.day.isoformat()}, {m.outlet}" if m.outlet else m.day.isoformat()


def _count(n: int, word: str) -> str:
    plural = word[:-1] + "ies" if word.endswith("y") and word[-2:] != "ey" else word + "s"
    return f"{n} {word if n == 1 else plural}"


def _period(start: date, end: date) -> str:
    return f"on {start.isoformat()}" if start == end else f"from {start.isoformat()} to {end.isoformat()}"


def _age(days: int) -> str:
    if days >= 730:
        return f"{days // 365} years"
    if days >= 60:
        return f"{days // 30} months"
    return f"{days} days"
