"""Unit tests of the pieces without a connection: rendering within Discord's limits, rate limits, throttled edits."""

from __future__ import annotations

import asyncio
import re
from collections.abc import Sequence
from datetime import date

import pytest

from bot.ratelimit import OncePerWait, RateLimited, SlidingWindowLimiter
from bot.render import SHORTENED, escape, render_answer, render_partial
from bot.stream import ThrottledEditor
from index.results import Answer, Citation, Passage, Sentence

from ..fakes.discord.rules import message_errors


def passage(n: int, text: str, title: str = "", url: str | None = "https://news.example/a") -> Passage:
    return Passage(
        chunk_id=f"c{n}",
        article_id=f"a{n}",
        text=text,
        title=title or f"Article {n}",
        outlet="Outlet",
        published=date(2024, 1, n % 28 + 1),
        url=url,
    )


def huge_answer(sentences: int = 60, sources: int = 14) -> Answer:
    cites = tuple(Citation(n, passage(n, f"Passage {n} sentence. " * 400, "T" * 300)) for n in range(1, sources + 1))
    said = tuple(
        Sentence(f"Claim number {i} " + "word " * 40 + "ends here.", ((i % sources) + 1, ((i + 3) % sources) + 1))
        for i in range(sentences)
    )
    return Answer(question="q", sentences=said, citations=cites, as_of=date(2024, 6, 1))


def payload(rendered) -> dict:
    return {"content": rendered.content, "embeds": [e.to_dict() for e in rendered.embeds]}


def test_huge_answer_fits_discord_limits_without_cutting_citations() -> None:
    answer = huge_answer()
    rendered = render_answer(answer)
    assert message_errors(payload(rendered), creating=True) == {}
    assert len(rendered.content) <= 2000 and 1 <= len(rendered.embeds) <= 10
    assert rendered.content.endswith(SHORTENED)
    body = rendered.content.removesuffix("\n" + SHORTENED)
    shown = {int(n) for n in re.findall(r"\[(\d+)\]", body)}
    titled = {int(re.match(r"\[(\d+)\]", e.title).group(1)) for e in rendered.embeds}
    assert shown == titled  # every marker has its source, no source without a marker
    kept = [s.render() for s in answer.sentences[: body.count("ends here.")]]
    assert body == " ".join(kept)  # whole sentences only, in order, markers intact
    assert all(e.description.startswith("> ") and len(e.description) <= 4096 for e in rendered.embeds)
    assert all(e.url == "https://news.example/a" and "Outlet · 2024-01-" in e.footer.text for e in rendered.embeds)


def test_one_enormous_sentence_keeps_its_markers() -> None:
    answer = Answer(
        "q",
        (Sentence("word " * 1000, (1, 2)),),
        (Citation(1, passage(1, "a")), Citation(2, passage(2, "b"))),
        date(2024, 1, 1),
    )
    rendered = render_answer(answer)
    assert len(rendered.content) <= 2000 and "… [1][2]" in rendered.content and len(rendered.embeds) == 2


def test_small_answer_is_untouched() -> None:
    answer = Answer(
        "q",
        (Sentence("Kyiv was hit.", (1,)),),
        (Citation(1, passage(1, "Kyiv was hit.", url=None), quoted=((0, 13),)),),
        date(2024, 1, 1),
        notes=("Answered from 1 article.",),
    )
    rendered = render_answer(answer)
    assert rendered.content == "Kyiv was hit. [1]\n-# Answered from 1 article."
    assert rendered.embeds[0].description == "> **Kyiv was hit.**" and rendered.embeds[0].url is None


def test_not_covered() -> None:
    rendered = render_answer(Answer("q", (), (), date(2024, 1, 1), covered=False))
    assert rendered.content == "The articles I have don't cover that." and rendered.embeds == []


def test_article_text_is_escaped() -> None:
    text = escape("@everyone see [this](https://evil.example) **now**\n# Heading\n> quote <@&123456789012345678>")
    assert "<@" not in text and not re.search(r"(?<!\\)[\[\]]", text) and "**" not in text
    assert "\n\\# Heading" in text and "\n\\> quote" in text
    assert render_partial("x" * 5000).endswith("…") and len(render_partial("x " * 5000)) <= 2000


def test_sliding_window_limiter() -> None:
    now = [0.0]
    limiter = SlidingWindowLimiter(2, 60, clock=lambda: now[0])
    limiter.hit("u")
    now[0] = 10
    limiter.hit("u")
    limiter.hit("other")
    with pytest.raises(RateLimited, match=r"try again in 50 s"):
        limiter.hit("u", "asking")
    now[0] = 60
    limiter.hit("u")  # the first hit has left the window
    assert SlidingWindowLimiter(0).retry_after("u") == 0


def test_a_refusal_is_said_once_per_wait() -> None:
    now = [0.0]
    told = OncePerWait(clock=lambda: now[0])
    assert told.first("u", 30) and not told.first("u", 30) and told.first("other", 30)
    now[0] = 31
    assert told.first("u", 30)  # the wait it announced is over: a new refusal is news


def test_limiter_charge_is_refunded_when_the_work_fails() -> None:
    limiter = SlidingWindowLimiter(1, 60)
    with pytest.raises(ValueError), limiter.charge("u"):
        raise ValueError("bad input")
    with limiter.charge("u"):
        pass
    with pytest.raises(RateLimited):
        limiter.hit("u")
    with SlidingWindowLimiter(0).charge("u"):  # unlimited: nothing to record or refund
        pass


def test_limiter_charge_keeps_failures_it_is_not_told_to_refund() -> None:
    limiter = SlidingWindowLimiter(1, 60)
    with pytest.raises(TimeoutError), limiter.charge("u", refund_on=(ValueError,)):
        raise TimeoutError("the link did not answer")  # the work was done: it counts
    with pytest.raises(RateLimited):
        limiter.hit("u")


async def test_throttled_editor_coalesces_and_spaces_edits() -> None:
    sent: list[tuple[float, str]] = []
    loop = asyncio.get_running_loop()

    async def edit(content: str) -> None:
        sent.append((loop.time(), content))

    interval = 0.05
    editor = ThrottledEditor(edit, interval)
    started = loop.time()
    for i in range(30):
        await asyncio.to_thread(editor.update_threadsafe, content=str(i))
        await asyncio.sleep(0.005)
    await editor.final(content="final")
    elapsed = loop.time() - started
    assert sent[0][1] == "0" and sent[-1][1] == "final"
    assert 3 <= len(sent) <= elapsed / interval + 2  # at most one edit per interval, plus the first and the final
    gaps = [b[0] - a[0] for a, b in zip(sent, sent[1:], strict=False)]
    assert min(gaps) >= 0.95 * interval


ARTICLE = [
    "Storms closed the northern rail line on Sunday.",
    "Crews worked through the night to clear fallen trees from the tracks near Lund.",
    "The line reopened on Monday morning after engineers checked every bridge along the route, the operator said.",
    "Trains ran about twenty minutes late for the rest of the day.",
    "The operator apologised to passengers.",
]


def spanned(
    sentences: list[str],
    title: str = "Rail line reopens",
    headline: bool = False,
    n: int = 1,
    quoted: Sequence[int] = (),
) -> Citation:
    """A citation whose passage holds `sentences` with their spans, as the engine stores them; the answer rests on
    the sentences numbered in `quoted`, as the engine says."""
    text, spans = "", []
    for s in sentences:
        start = len(text) + (1 if text else 0)
        text = f"{text} {s}" if text else s
        spans.append((start, len(text)))
    return Citation(
        n,
        Passage(
            chunk_id="c",
            article_id="a",
            text=text,
            title=title,
            outlet="Nordic Wire",
            published=date(2024, 2, 5),
            url=None,
            sentence_spans=tuple(spans),
        ),
        headline=headline,
        quoted=tuple(sorted(spans[i] for i in quoted)),
    )


def test_a_card_shows_where_the_quote_sits_and_does_not_repeat_it() -> None:
    quoted = ARTICLE[2]
    rendered = render_answer(
        Answer(
            "When did the line reopen?", (Sentence(quoted, (1,)),), (spanned(ARTICLE, quoted=[2]),), date(2024, 2, 6)
        )
    )
    card = rendered.embeds[0].description
    assert rendered.content == f"{quoted} [1]"
    assert quoted not in card and "**The line reopened on Monday morning after engineers…**" in card
    assert card == (
        "> … Crews worked through the night to clear fallen trees from the tracks near Lund. "
        "**The line reopened on Monday morning after engineers…** "
        "Trains ran about twenty minutes late for the rest of the day. …"
    )  # one sentence each side
    assert message_errors(payload(rendered), creating=True) == {}


def test_quotes_of_one_passage_are_marked_in_article_order_with_what_lies_between() -> None:
    said = (Sentence(ARTICLE[3], (1,)), Sentence(ARTICLE[0], (1,)))
    card = render_answer(Answer("q", said, (spanned(ARTICLE, quoted=[3, 0]),), date(2024, 2, 6))).embeds[0].description
    assert card.startswith("> **Storms closed the northern rail line on Sunday.**")
    assert card.index("Crews worked") < card.index("The line reopened") < card.index("**Trains ran")
    assert card.endswith("The operator apologised to passengers.") and ARTICLE[3] not in card


def test_a_quoted_headline_stands_apart_and_is_not_repeated_on_its_card() -> None:
    title = "Tram line 9 extended to Vesna harbour"
    body = [
        "Tram line 9 now runs from the old town to Vesna harbour, the city said on Friday.",
        "The extension adds four stops and a depot.",
    ]
    said = (Sentence(title, (1,), headline=True), Sentence(body[0], (1,)))
    rendered = render_answer(Answer("q", said, (spanned(body, title, headline=True, quoted=[0]),), date(2024, 2, 6)))
    assert rendered.content == f"**{title}** [1]\n{body[0]} [1]"
    assert rendered.embeds[0].title == f"[1] {title}"
    card = rendered.embeds[0].description
    assert title not in card and "The extension adds four stops" in card


@pytest.mark.parametrize(
    "title, shown",
    [
        (
            "Sudan's Prime Minister resigns amid violent anti-coup protests that ...",
            "Sudan's Prime Minister resigns amid violent anti-coup protests",
        ),
        (
            "Elizabeth Holmes trial verdict: Guilty on four out of 11 charges | CNN ...",
            "Elizabeth Holmes trial verdict: Guilty on four out of 11 charges",
        ),
        (
            "The curious story of Elon Musk's Tesla stock sales and SpaceX's ...",
            "The curious story of Elon Musk's Tesla stock sales",
        ),
    ],
)
def test_a_cut_headline_ends_at_its_last_whole_phrase(title: str, shown: str) -> None:
    said = (Sentence(shown, (1,), headline=True), Sentence(ARTICLE[0], (1,)))  # the engine quotes it tidied
    rendered = render_answer(Answer("q", said, (spanned(ARTICLE, title, headline=True),), date(2024, 2, 6)))
    assert rendered.content.startswith(f"**{escape(shown)}** [1]\n")
    assert rendered.embeds[0].title == f"[1] {escape(shown)}" and "..." not in payload(rendered).__repr__()


def test_a_paraphrase_is_placed_on_the_sentence_it_rests_on() -> None:
    llm = Sentence("Engineers inspected all the bridges before the line reopened on Monday.", (1,))  # not a quote
    card = render_answer(Answer("q", (llm,), (spanned(ARTICLE, quoted=[2]),), date(2024, 2, 6))).embeds[0].description
    assert f"**{ARTICLE[2]}**" in card and ARTICLE[0] not in card  # the source sentence in full, with its context


def test_cards_of_every_shape_fit_discord_limits() -> None:
    sentences = [
        f"Sentence {i} of the long report says that item {i} rose by {i} percent over the year." for i in range(400)
    ]
    cites = {i: ((i % 14) + 1, ((i + 5) % 14) + 1) for i in range(60)}
    said = tuple(Sentence(sentences[(7 * i) % 400], cites[i]) for i in range(60))
    sources = tuple(
        spanned(
            sentences,
            "Headline word " * 30 + "...",
            headline=n % 2 == 0,
            n=n,
            quoted=sorted({(7 * i) % 400 for i in cites if n in cites[i]}),
        )
        for n in range(1, 15)
    )
    said = (Sentence(sources[1].passage.display_title, (2,), headline=True),) + said  # a (cut) headline quoted first
    rendered = render_answer(Answer("q", said, sources, date(2024, 1, 1)))
    assert message_errors(payload(rendered), creating=True) == {}
    assert rendered.content.startswith("**Headline word") and "..." not in str(payload(rendered))
    for card in rendered.embeds:
        assert card.description.count("**") % 2 == 0 and len(card.description) <= 4096


def test_a_short_answer_leads_in_bold_on_the_line_of_the_sentence_it_comes_from() -> None:
    title = "Nissan recalls more than 200,000 pickup trucks"
    said = (Sentence(title, (1,), headline=True), Sentence(ARTICLE[0], (1,)))
    rendered = render_answer(
        Answer(
            "Which automaker?",
            said,
            (spanned(ARTICLE, title, headline=True, quoted=[0]),),
            date(2024, 2, 6),
            lead="Nissan",
        )
    )
    assert rendered.content == f"**Nissan** — {title} [1]\n{ARTICLE[0]} [1]"
    plain = render_answer(
        Answer(
            "Which line?",
            (Sentence(ARTICLE[0], (1,)),),
            (spanned(ARTICLE, quoted=[0]),),
            date(2024, 2, 6),
            lead="northern rail line",
        )
    )
    assert plain.content == f"**northern rail line** — {ARTICLE[0]} [1]"
